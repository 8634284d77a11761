"""Images that training examples and questions point to by index: `ImageSet`, its captioned `CaptionSet` (one per
split of a pairs table), and the image set of a question table."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import torch

from .pairs import decode_image
from .scene_graph import Scene

PIXEL_MEMORY_BYTES = 512 * 2 ** 20  # the most preprocessed images an ImageSet keeps (offline: all; t4: ~900)


@dataclass
class ImageSet:
    """Images (encoded bytes) that training examples and questions refer to by index."""

    images: list[bytes]
    _memory: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.images)

    def pixels(self, preprocess: Callable, indices: Iterable[int] | None = None) -> torch.Tensor:
        """The images at `indices` (default: all), decoded and preprocessed for the vision tower.

        Each image is decoded once and kept (up to `PIXEL_MEMORY_BYTES`): training draws it again every epoch.
        `preprocess` must be deterministic, as CLIP's evaluation transform is.
        """
        indices = range(len(self)) if indices is None else indices
        out = []
        for i in indices:
            key = (preprocess, int(i))
            if key not in self._memory:
                x = preprocess(decode_image(self.images[i]))
                if (len(self._memory) + 1) * x.numel() * x.element_size() > PIXEL_MEMORY_BYTES:
                    out.append(x)
                    continue
                self._memory[key] = x
            out.append(self._memory[key])
        return torch.stack(out)


@dataclass
class CaptionSet(ImageSet):
    """The images of one split, their captions and, for world data, their scene graphs."""

    captions: list[list[str]]
    scenes: list[Scene] | None

    def subset(self, indices: Sequence[int]) -> CaptionSet:
        return CaptionSet([self.images[i] for i in indices], [self.captions[i] for i in indices],
                          None if self.scenes is None else [self.scenes[i] for i in indices])


def caption_splits(pairs: pd.DataFrame) -> dict[str, CaptionSet]:
    """One `CaptionSet` per split of a pairs table with `image_id` and `split` (see `ensure_splits`).

    Captions keep the table's order within an image (the world lists its complete caption first). Scene graphs
    come from the `scene` column where there is one (world data); elsewhere `scenes` is None.
    """
    sets = {}
    for split, rows in pairs.groupby("split", sort=False):
        groups = rows.groupby("image_id", sort=False)
        first = groups.head(1)
        scenes = [Scene.from_json(s) for s in first["scene"]] if "scene" in pairs.columns else None
        sets[split] = CaptionSet(list(first["image"]), [list(g["caption"]) for _, g in groups], scenes)
    return sets


def indexed_images(df: pd.DataFrame) -> tuple[ImageSet, pd.DataFrame]:
    """The distinct images of a question table (told apart by `image_id` if there is one, else by their bytes)
    and the table with a column `image_index` pointing into them."""
    key = df["image_id"] if "image_id" in df.columns else df["image"]
    index = {k: i for i, k in enumerate(dict.fromkeys(key))}
    df = df.assign(image_index=[index[k] for k in key])
    return ImageSet(list(df.drop_duplicates("image_index").sort_values("image_index")["image"])), df
