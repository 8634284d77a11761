"""The course's data contract, `pairs.parquet`: one row per image-caption pair.

Required columns: `image` (encoded PNG/JPEG bytes) and `caption` (non-empty string).
Optional: `image_id`, `split` (train/val/test), `scene` (JSON scene graph), `label`.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..cache import cached
from .contract import ContractError, PairsError, check_table, decode_image  # noqa: F401 (decode_image: re-export)
from .world import WORLD_VERSION, WORLDS, Scene, generate_world, png_bytes

REQUIRED = ("image", "caption")


def world_pairs(scenes: list[Scene], image_size: int = 64, val_fraction: float = 0.1,
                test_fraction: float = 0.1) -> pd.DataFrame:
    """One row per (scene, caption paraphrase); all captions of a scene share its image and split."""
    n = len(scenes)
    n_test, n_val = int(n * test_fraction), int(n * val_fraction)
    rows = []
    for i, scene in enumerate(scenes):
        split = "test" if i < n_test else "val" if i < n_test + n_val else "train"
        image = png_bytes(scene.render(image_size))
        graph = scene.to_json()
        label = scene.objects[0].shape if len(scene.objects) == 1 else None
        rows += [{"image": image, "caption": c, "image_id": i, "split": split, "scene": graph, "label": label}
                 for c in scene.captions]
    return pd.DataFrame(rows)


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write `df` to `path` whole or not at all: a run stopped half-way leaves no file that looks finished."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    df.to_parquet(partial, index=False)
    return partial.replace(path)


def save_pairs(df: pd.DataFrame, path: str | Path) -> Path:
    validate_pairs(df, source=str(path))
    return write_parquet(df, path)


def load_pairs(path: str | Path) -> pd.DataFrame:
    """Read and validate a `pairs.parquet` file (the world's or a user's own domain data)."""
    df = read_parquet(path, PairsError, "Create it with utils.data.save_pairs(df, path) from a DataFrame with "
                                         "'image' (bytes) and 'caption' (str) columns.")
    validate_pairs(df, source=str(path))
    return df


def read_parquet(path: str | Path, error: type[ContractError], how_to_write: str) -> pd.DataFrame:
    """The table in `path`, or `error` saying that the file is missing (then `how_to_write` it) or unreadable."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path} does not exist. {how_to_write}")
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several unrelated types for a corrupt file
        raise error(f"{path} is not a readable parquet file ({err}). Re-write it with DataFrame.to_parquet.") from None


def validate_pairs(df: pd.DataFrame, source: str = "pairs") -> None:
    """Raise `PairsError` naming the first row and column that break the contract."""
    check_table(df, source, REQUIRED, PairsError, unit="image-caption pair",
                needs="Every row needs 'image' (encoded PNG/JPEG bytes) and 'caption' (text).")
    for row, caption in enumerate(df["caption"]):
        if not isinstance(caption, str) or not caption.strip():
            raise PairsError(f"{source}: row {row}, column 'caption' is empty or not text ({caption!r}). "
                             "Give every image a non-empty caption or drop the row.")


def world_pairs_file(n_scenes: int, seed: int, image_size: int = 64, world: str = "generic",
                     test_fraction: float = 0.1) -> Path:
    """Render a world (a name from `WORLDS`) once to `pairs.parquet` in the course cache and return its path."""
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; choose one of {list(WORLDS)}.")
    inputs = {"world_version": WORLD_VERSION, "world": world, "n_scenes": n_scenes, "seed": seed,
              "image_size": image_size, "test_fraction": test_fraction}
    return cached("world_pairs", "pairs.parquet", inputs, seed=seed, build=lambda path: save_pairs(
        world_pairs(generate_world(n_scenes, seed, **WORLDS[world]), image_size, test_fraction=test_fraction), path))


def hub_file(repo_id: str, name: str, convert: Callable[[], pd.DataFrame],
             save: Callable[[pd.DataFrame, Path], Path]) -> Path:
    """A Hub data set converted once by `convert()` and written by `save(table, path)` to the course cache as
    `name` (e.g. "pairs.parquet"); its path."""
    return cached("hub", name, {"repo_id": repo_id}, seed=0, build=lambda path: save(convert(), path))


def hub_pairs_file(repo_id: str, convert: Callable[[], pd.DataFrame]) -> Path:
    """A Hub data set converted to `pairs.parquet` once, by `convert()`, and kept in the course cache; its path."""
    return hub_file(repo_id, "pairs.parquet", convert, save_pairs)
