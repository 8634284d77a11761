"""The data contract of Lab 10: `objects.parquet`, images with the names of the objects truly in them.

One row per image. Required: `image` (encoded PNG/JPEG bytes) and `objects` (a list of object names, possibly
empty: what CHAIR and POPE check a model against). Optional: `split` (`train`/`val`/`test`: only `test` images
are probed when there is one). `world_objects_file` writes it for the world's scenes; `objects_from_coco` converts
COCO's detection annotations as the Hub's `detection-datasets/coco` holds them.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..cache import cached
from .contract import ObjectsError, check_table
from .convert import encoded_image
from .pairs import load_pairs, read_parquet, write_parquet
from .scene_graph import Scene

REQUIRED = ("image", "objects")
OBJECTS_VERSION = 1
# COCO's 80 detection categories in the order of their contiguous ids (the Hub's ClassLabel order)
COCO_CATEGORIES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant",
    "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard",
    "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli",
    "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "dining table", "toilet",
    "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")


def validate_objects(df: pd.DataFrame, source: str = "objects table") -> None:
    """Raise `ObjectsError` naming the first row and column that break the contract."""
    check_table(df, source, REQUIRED, ObjectsError, unit="image with its objects",
                needs="Every row needs 'image' (encoded PNG/JPEG bytes) and 'objects' (a list of the names of the "
                      "objects in it).")
    for row, objects in enumerate(df["objects"]):
        if not isinstance(objects, (list, tuple, np.ndarray)) or not all(
                isinstance(o, str) and o.strip() for o in objects):
            raise ObjectsError(f"{source}: row {row}, column 'objects' is {objects!r}; give a list of object names "
                               "(e.g. ['dog', 'frisbee']; [] for an image with none of the objects you ask about).")


def save_objects(df: pd.DataFrame, path: str | Path) -> Path:
    validate_objects(df, source=str(path))
    return write_parquet(df.assign(objects=[sorted(o) for o in df["objects"]]), path)


def load_objects(path: str | Path) -> pd.DataFrame:
    """Read and validate an `objects.parquet` file; `objects` come back as frozensets of names."""
    df = read_parquet(path, ObjectsError, "Write one with utils.data.objects.save_objects(df, path) from a "
                                          "DataFrame with columns 'image' (bytes) and 'objects' (lists of names).")
    validate_objects(df, source=str(path))
    return df.assign(objects=[frozenset(o.strip() for o in objects) for objects in df["objects"]])


def world_objects_file(pairs_path: str | Path) -> Path:
    """A world-v3 `pairs.parquet`'s images with their scene graphs' shapes and splits, written once to the cache."""
    pairs = load_pairs(pairs_path)
    if "scene" not in pairs.columns:
        raise ObjectsError(f"{pairs_path} has no 'scene' column; world objects need world-v3 pairs "
                           "(utils.data.scene_pairs_file).")

    def build(path: Path) -> None:
        first = pairs.groupby("image_id", sort=True).head(1)
        save_objects(pd.DataFrame({"image": list(first["image"]),
                                   "objects": [sorted(Scene.from_json(s).shapes) for s in first["scene"]],
                                   **({"split": list(first["split"])} if "split" in first.columns else {})}), path)

    return cached("objects", "objects.parquet", {"version": OBJECTS_VERSION, "pairs": Path(pairs_path).parent.name},
                  build, seed=0)


def objects_from_coco(table: pd.DataFrame, limit: int | None = None, seed: int = 0,
                      categories: Sequence[str] = COCO_CATEGORIES) -> pd.DataFrame:
    """`detection-datasets/coco`'s rows (an `image` struct, `objects` with a `category` id per box) as the
    contract: each image with the distinct names of its boxes' categories; at most `limit` images, drawn with `seed`."""
    if limit is not None and len(table) > limit:
        table = table.sample(n=limit, random_state=seed)
    return pd.DataFrame({"image": [encoded_image(image) for image in table["image"]],
                         "objects": [sorted({categories[int(c)] for c in boxes["category"]})
                                     for boxes in table["objects"]]})
