"""Labelled images of ten categories, for looking at how an embedding space is organised (Lab 4).

`offline`: ten colour-shape combinations from the shifted world, chosen so that every colour and most
shapes occur in two categories: neither colour nor shape alone tells the categories apart.
`t4`: 100 images per class from the CIFAR-10 test split on the Hub. CIFAR-10 lies outside `t4`'s Lab 3
domain (Pokémon captions), so there a before/after comparison measures what the fine-tune kept.
"""
from __future__ import annotations

import io
import random

import torch
from PIL import Image

from ..profiles import Profile
from .convert import hub_table
from .world import SIZES, Scene, WorldObject

WORLD_CATEGORIES = ["teal star", "teal ring", "magenta ring", "magenta heart", "navy heart", "navy cross",
                    "olive cross", "olive arrow", "coral arrow", "coral hexagon"]
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PROMPTS = {"offline": "a {}", "t4": "a photo of a {}."}


def world_category_images(n_per_class: int, seed: int = 0, image_size: int = 64) -> tuple[list[Image.Image], torch.Tensor]:
    """Single objects of each category, with random size, position and background."""
    rng = random.Random(seed)
    images, labels = [], []
    for i in range(n_per_class * len(WORLD_CATEGORIES)):
        color, shape = WORLD_CATEGORIES[i % len(WORLD_CATEGORIES)].split()
        obj = WorldObject(shape, color, rng.choice(tuple(SIZES)), round(rng.uniform(0.35, 0.65), 3),
                          round(rng.uniform(0.35, 0.65), 3))
        images.append(Scene([obj], background=rng.choice(("plain", "sand"))).render(image_size))
        labels.append(i % len(WORLD_CATEGORIES))
    return images, torch.tensor(labels)


def category_images(profile: Profile, n_per_class: int = 100, seed: int = 0) -> tuple[list[Image.Image], torch.Tensor, list[str]]:
    """`(images, labels, class_names)` for the profile: the shifted world offline, CIFAR-10 on `t4`."""
    if profile.name == "offline":
        return (*world_category_images(n_per_class, seed, profile.image_size), WORLD_CATEGORIES)
    picked = hub_table("uoft-cs/cifar10", split="test").groupby("label").sample(n=n_per_class, random_state=seed)
    images = [Image.open(io.BytesIO(x["bytes"])).convert("RGB") for x in picked["img"]]
    return images, torch.tensor(picked["label"].tolist()), CIFAR10
