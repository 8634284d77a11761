"""Bring your own domain data into the `pairs.parquet` contract.

Two recipes: a folder of images with a captions CSV (`pairs_from_folder`), or an image-caption dataset
on the Hugging Face Hub (`pairs_from_hub`; `pairs_from_hub_splits` for one with several caption columns per
image and its own train/validation/test splits, such as Flickr8k). All give a validated table with
`image_id` and `split`.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .pairs import PairsError, validate_pairs

MIN_TRAIN_IMAGES = 2  # a contrastive batch needs at least one negative
MIN_TEST_IMAGES = 2  # a gallery of one image makes every query a hit
HUB_SPLITS = {"train": "train", "validation": "val", "test": "test"}  # a Hub split's name -> the contract's


def assign_splits(df: pd.DataFrame, val_fraction: float = 0.1, test_fraction: float = 0.1,
                  seed: int = 0) -> pd.DataFrame:
    """Add a `split` column by image (all captions of an image land in the same split), reproducibly.

    A small set still gets a gallery of `MIN_TEST_IMAGES` and `MIN_TRAIN_IMAGES` to train on (validation
    shrinks first, with a printed note); fewer images than both together is a `PairsError`.
    """
    key = df["image_id"] if "image_id" in df.columns else pd.Series(range(len(df)), index=df.index)
    ids = key.unique()
    n = len(ids)
    if n < MIN_TEST_IMAGES + MIN_TRAIN_IMAGES:
        raise PairsError(f"{n} distinct image(s) are too few: fine-tuning needs at least {MIN_TRAIN_IMAGES} "
                         f"training images and measuring it a gallery of at least {MIN_TEST_IMAGES} held-out "
                         f"images, so at least {MIN_TEST_IMAGES + MIN_TRAIN_IMAGES} images. Add images; "
                         "a few hundred give a result worth reading.")
    n_test = max(MIN_TEST_IMAGES, int(n * test_fraction))
    n_val = max(0, min(int(n * val_fraction), n - n_test - MIN_TRAIN_IMAGES))
    if (n_test, n_val) != (int(n * test_fraction), int(n * val_fraction)):
        print(f"note: {n} images is a small set; holding out {n_test} as the test gallery and {n_val} for "
              f"validation, leaving {n - n_test - n_val} to train on.")
    order = np.random.default_rng(seed).permutation(n)
    split_of = {ids[i]: "test" if r < n_test else "val" if r < n_test + n_val else "train" for r, i in enumerate(order)}
    return df.assign(image_id=key.values, split=key.map(split_of).values)


def image_ids_from_bytes(images: pd.Series) -> list[int]:
    """One id per distinct encoded image, in order of first appearance: rows repeating an image share its id."""
    first: dict[bytes, int] = {}
    return [first.setdefault(hashlib.sha256(b).digest(), len(first)) for b in images]


def ensure_splits(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """`df` with an `image_id` and a `split` that holds train and test images, filling in what is missing.

    Without `image_id`, rows with identical image bytes are one image. Without `split`, images get an
    80/10/10 split (see `assign_splits`). A split without test images uses its validation images as the
    gallery, or else holds out a tenth of its training images; each adaptation is printed. Too few
    images, or an image with captions in two splits, is a `PairsError` that says what to change.
    """
    if "image_id" not in df.columns:
        df = df.assign(image_id=image_ids_from_bytes(df["image"]))
        if df.image_id.nunique() < len(df):
            print(f"note: no 'image_id' column; rows with identical image bytes are taken as one image "
                  f"({df.image_id.nunique()} images for {len(df)} captions).")
    if "split" not in df.columns:
        print("note: no 'split' column; assigning a reproducible 80/10/10 train/val/test split by image.")
        return assign_splits(df, seed=seed)
    spread = df.groupby("image_id").split.nunique()
    if (spread > 1).any():
        raise PairsError(f"image_id {spread[spread > 1].index.tolist()[0]!r} has captions in several splits, so the model "
                         "would train on captions of a test image. Give all rows of an image one split, "
                         "or drop the 'split' column to get one assigned by image.")
    images = df.drop_duplicates("image_id").set_index("image_id").split
    if not (images == "test").any():
        if (images == "val").any():
            print("note: the 'split' column has no test rows; using its val images as the test gallery.")
            df = df.assign(split=df.split.replace("val", "test"))
        else:
            train = images.index[images == "train"]
            n_test = max(MIN_TEST_IMAGES, len(train) // 10)
            held = set(train[np.random.default_rng(seed).permutation(len(train))[:n_test]])
            print(f"note: the 'split' column has no test rows; holding out {n_test} of its {len(train)} "
                  "training images as the test gallery (mark rows 'test' to choose them yourself).")
            df = df.assign(split=np.where(df.image_id.isin(held), "test", df.split))
    counts = df.drop_duplicates("image_id").split.value_counts()
    if counts.get("train", 0) < MIN_TRAIN_IMAGES or counts.get("test", 0) < MIN_TEST_IMAGES:
        raise PairsError(f"the 'split' column gives {counts.get('train', 0)} training and {counts.get('test', 0)} "
                         f"test images; fine-tuning needs at least {MIN_TRAIN_IMAGES} and measuring at least "
                         f"{MIN_TEST_IMAGES}. Mark more images 'train'/'test', or drop the column to get a "
                         "split assigned by image.")
    return df


def encoded_image(image) -> bytes:
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
    df = pd.DataFrame({"image": [encoded_image(x) for x in table[image_column]],
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
    from huggingface_hub import snapshot_download  # late: only Hub data needs the Hub's client

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


def pairs_from_wide_table(table: pd.DataFrame, image_column: str, caption_columns: Sequence[str],
                          first_id: int = 0) -> pd.DataFrame:
    """One image per row with several caption columns -> one contract row per (image, non-empty caption).

    Rows keep the table's order, each image's captions in the order of `caption_columns`; image ids count
    from `first_id`. No `split` is added (see `pairs_from_hub_splits`).
    """
    missing = [c for c in (image_column, *caption_columns) if c not in table.columns]
    if missing or not caption_columns:
        raise PairsError(f"columns {missing or 'for captions'} not found; the table has {list(table.columns)}. "
                         "Pass its image column and the list of its caption columns.")
    rows = [{"image": encoded_image(image), "caption": str(caption).strip(), "image_id": first_id + i}
            for i, (image, *captions) in enumerate(table[[image_column, *caption_columns]].itertuples(index=False))
            for caption in captions if isinstance(caption, str) and caption.strip()]
    if not rows:
        raise PairsError(f"no non-empty caption in columns {list(caption_columns)}.")
    return pd.DataFrame(rows)


def pairs_from_hub_splits(repo_id: str, image_column: str, caption_columns: Sequence[str],
                          splits: Mapping[str, str] = HUB_SPLITS, limit: int | None = None,
                          seed: int = 0) -> pd.DataFrame:
    """A Hub dataset with its own splits and several captions per image (e.g. `jxie/flickr8k`), in the contract.

    `splits` maps the Hub's split names to the contract's (`train`/`val`/`test`); `limit` keeps at most that
    many images of each split, drawn with `seed`. Needs internet the first time (see `hub_table`).
    """
    bad = sorted(set(splits.values()) - {"train", "val", "test"})
    if bad:
        raise ValueError(f"splits {dict(splits)} map to {bad}; map each Hub split to 'train', 'val' or 'test'.")
    parts, first_id = [], 0
    for hub_split, split in splits.items():
        table = hub_table(repo_id, split=hub_split)
        if limit is not None:
            table = table.sample(n=min(limit, len(table)), random_state=seed)
        part = pairs_from_wide_table(table, image_column, caption_columns, first_id).assign(split=split)
        parts.append(part)
        first_id += len(table)
    df = pd.concat(parts, ignore_index=True)
    validate_pairs(df, source=f"{repo_id} columns {image_column!r}/{list(caption_columns)}")
    return df
