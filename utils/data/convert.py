"""Bring your own domain data into the `pairs.parquet` contract.

Two recipes: a folder of images with a captions CSV (`pairs_from_folder`), or an image-caption dataset
on the Hugging Face Hub (`pairs_from_hub`). Both give a validated table with `image_id` and `split`.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .pairs import PairsError, validate_pairs


def assign_splits(df: pd.DataFrame, val_fraction: float = 0.1, test_fraction: float = 0.1,
                  seed: int = 0) -> pd.DataFrame:
    """Add a `split` column by image (all captions of an image land in the same split), reproducibly."""
    key = df["image_id"] if "image_id" in df.columns else pd.Series(range(len(df)), index=df.index)
    ids = key.unique()
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test, n_val = int(len(ids) * test_fraction), int(len(ids) * val_fraction)
    split_of = {ids[i]: "test" if r < n_test else "val" if r < n_test + n_val else "train" for r, i in enumerate(order)}
    return df.assign(image_id=key.values, split=key.map(split_of).values)


def ensure_splits(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """`df` with an `image_id` and a `split` holding train and test images, assigning whichever is missing."""
    if "image_id" not in df.columns:
        df = df.assign(image_id=range(len(df)))
    if "split" not in df.columns:
        return assign_splits(df, seed=seed)
    missing = sorted({"train", "test"} - set(df["split"]))
    if missing:
        raise PairsError(f"column 'split' has no {missing} rows. Mark some images as train and some as test, "
                         "or drop the column to get a reproducible 80/10/10 split by image.")
    return df


def _encoded(image) -> bytes:
    """Encoded bytes from what a table may hold: bytes, a Hub image struct {'bytes', 'path'}, or a PIL image."""
    if isinstance(image, dict) and image.get("bytes") is not None:
        return image["bytes"]
    if hasattr(image, "save"):
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()
    return image  # validate_pairs names the row if this is not bytes


def pairs_from_table(table: pd.DataFrame, image_column: str, caption_column: str, seed: int = 0) -> pd.DataFrame:
    """Rename and convert a table of images and captions to the contract, with splits."""
    missing = [c for c in (image_column, caption_column) if c not in table.columns]
    if missing:
        raise PairsError(f"columns {missing} not found; the table has {list(table.columns)}. "
                         "Pass the names of its image and caption columns.")
    df = pd.DataFrame({"image": [_encoded(x) for x in table[image_column]],
                       "caption": table[caption_column].astype(str).str.strip().tolist()})
    df = assign_splits(df.reset_index(drop=True), seed=seed)
    validate_pairs(df, source=f"columns {image_column!r}/{caption_column!r}")
    return df


def pairs_from_folder(folder: str | Path, captions_csv: str | Path, seed: int = 0) -> pd.DataFrame:
    """A folder of images plus a CSV with columns `file` and `caption` (one row per caption)."""
    folder = Path(folder)
    table = pd.read_csv(captions_csv)
    if not {"file", "caption"} <= set(table.columns):
        raise PairsError(f"{captions_csv} needs columns 'file' and 'caption'; it has {list(table.columns)}.")
    missing = [f for f in table["file"].unique() if not (folder / f).exists()]
    if missing:
        raise PairsError(f"{len(missing)} file(s) named in {captions_csv} are not in {folder}, e.g. {missing[:3]}.")
    image_id = {f: i for i, f in enumerate(table["file"].unique())}
    images = {f: (folder / f).read_bytes() for f in image_id}
    df = pd.DataFrame({"image": [images[f] for f in table["file"]], "caption": table["caption"].astype(str),
                       "image_id": [image_id[f] for f in table["file"]]})
    df = assign_splits(df, seed=seed)
    validate_pairs(df, source=str(captions_csv))
    return df


def hub_table(repo_id: str, split: str = "") -> pd.DataFrame:
    """The parquet files of a Hub dataset (those whose name starts with `split`, if given) as one table.

    Downloaded once into the Hugging Face cache; needs internet.
    """
    from huggingface_hub import snapshot_download

    pattern = f"{split}*.parquet"
    folder = Path(snapshot_download(repo_id, repo_type="dataset", allow_patterns=[pattern, f"**/{pattern}"]))
    files = sorted(folder.rglob(pattern))
    if not files:
        raise PairsError(f"the Hub dataset {repo_id} has no parquet files; load it yourself and use pairs_from_table.")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def pairs_from_hub(repo_id: str, image_column: str = "image", caption_column: str = "text", limit: int | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """Download a Hub image-caption dataset and convert it to the contract."""
    table = hub_table(repo_id)
    if limit is not None:
        table = table.sample(n=min(limit, len(table)), random_state=seed)
    return pairs_from_table(table, image_column, caption_column, seed=seed)
