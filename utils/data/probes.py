"""Probe sets built from the world: faded objects for zero-shot tests, and caption foils.

Faded objects are hard where the world is easy: the object's colour is blended towards a grey background of
random brightness and the object can sit anywhere in the frame (world scenes with one object centre it),
so colour classes overlap near their boundaries. Foils rearrange a true caption's words, so only a model
that reads how the words are bound to each other can tell them apart.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .world import COLORS, PALETTE, SHAPES, SIZES, WorldObject, _draw, describe, with_article


def faded_image(o: WorldObject, contrast: float, background: float, side: int = 64) -> Image.Image:
    """`o` drawn with `contrast` of its colour (the rest is the grey `background`, 0-255) on that grey."""
    mask = Image.new("RGB", (side, side))  # black; every palette colour has a non-zero channel
    _draw(ImageDraw.Draw(mask), o, side)
    inside = np.asarray(mask).any(axis=-1, keepdims=True)
    grey = np.full(3, float(background))
    fill = contrast * np.asarray(PALETTE[o.color], float) + (1 - contrast) * grey
    return Image.fromarray(np.where(inside, fill, grey).round().astype(np.uint8))


def faded_objects(n: int, seed: int, side: int = 64, contrast: tuple[float, float] = (0.3, 0.6),
                  background: tuple[float, float] = (150, 240), shapes=SHAPES,
                  colors=tuple(COLORS)) -> tuple[list[Image.Image], list[WorldObject]]:
    """`n` single-object images with faded colours at random positions and their objects (the labels)."""
    if not 0 < contrast[0] <= contrast[1] <= 1:
        raise ValueError(f"contrast {contrast} must be a range inside (0, 1]: the fraction of colour kept.")
    rng = random.Random(seed)
    images, objects = [], []
    for _ in range(n):
        size = rng.choice(tuple(SIZES))
        lo, hi = SIZES[size] + 0.02, 1 - SIZES[size] - 0.02
        o = WorldObject(rng.choice(shapes), rng.choice(colors), size, round(rng.uniform(lo, hi), 3),
                        round(rng.uniform(lo, hi), 3))
        images.append(faded_image(o, rng.uniform(*contrast), rng.uniform(*background), side))
        objects.append(o)
    return images, objects


def world_prompts(colors: Sequence[str] = tuple(COLORS), shapes: Sequence[str] = SHAPES) -> list[list[str]]:
    """For each colour, every sentence the world uses for one object of that colour (all shapes, sizes and
    phrasings): a prompt ensemble in the world CLIP's own language, whose members vary what a colour classifier
    must ignore. The same position holds the same shape, size and phrasing for every colour."""
    def sentences(color: str) -> list[str]:
        said = [c for shape in shapes for size in SIZES for c in describe([WorldObject(shape, color, size, .5, .5)])]
        return list(dict.fromkeys(said))
    return [sentences(c) for c in colors]


def foil_captions(objects: list[dict]) -> dict[str, str]:
    """A two-object scene's true left-to-right caption and two foils made of exactly the same words.

    `binding swap` trades the colours between the shapes; `relation swap` trades the objects' places.
    """
    a, b = sorted(objects, key=lambda o: o["x"])
    say = lambda c1, s1, c2, s2: f"{with_article(c1)} {s1} to the left of {with_article(c2)} {s2}"
    return {"true": say(a["color"], a["shape"], b["color"], b["shape"]),
            "binding swap": say(b["color"], a["shape"], a["color"], b["shape"]),
            "relation swap": say(b["color"], b["shape"], a["color"], a["shape"])}


def bag_of_words(caption: str) -> str:
    """The caption's words in alphabetical order: a text encoder fed this sees only which words occur."""
    return " ".join(sorted(caption.split()))
