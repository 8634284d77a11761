"""Turn a validated pairs table into model-ready tensors, decoding every image once."""
from __future__ import annotations

import random
from typing import Callable

import pandas as pd
import torch
from torch.utils.data import Dataset

from .pairs import decode_image


class ImageCaptionSet(Dataset):
    """One item per image: its preprocessed tensor and one of its captions, drawn afresh each time.

    Drawing one caption per image keeps two captions of the same image out of a batch, where they would
    be scored as each other's negatives.
    """

    def __init__(self, df: pd.DataFrame, preprocess: Callable, tokenizer: Callable, seed: int = 0):
        key = df["image_id"] if "image_id" in df.columns else pd.Series(range(len(df)), index=df.index)
        groups = df.groupby(key, sort=False)
        first = groups.head(1)
        self.images = torch.stack([preprocess(decode_image(b, f"row {i}, column 'image'"))
                                   for i, b in zip(first.index, first["image"])])
        self.captions: list[list[str]] = [list(g["caption"]) for _, g in groups]
        self.tokens = [tokenizer(caps) for caps in self.captions]
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i], self.tokens[i][self.rng.randrange(len(self.captions[i]))]

    def first_captions(self) -> list[str]:
        """The most informative caption of each image (the world lists it first): retrieval queries."""
        return [caps[0] for caps in self.captions]


def load_splits(df: pd.DataFrame, preprocess: Callable, tokenizer: Callable) -> dict[str, ImageCaptionSet]:
    """One `ImageCaptionSet` per split present in a validated pairs table (all rows are `train` without a split column)."""
    if "split" not in df.columns:
        return {"train": ImageCaptionSet(df, preprocess, tokenizer)}
    return {s: ImageCaptionSet(g, preprocess, tokenizer) for s, g in df.groupby("split", sort=False)}
