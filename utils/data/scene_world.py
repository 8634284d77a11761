"""World v3: scenes of 1 to 5 objects with boxes, relations and shapes that tend to appear together.

Labs 1-5 use world v2 (`utils.data.world`); the generative labs (captioning, VQA, hallucination) use this
world, whose captions follow a grammar that can be parsed back into facts (`utils.data.grammar`). What a
scene is, and the rules that make every statement about it exactly true or false, is in
`utils.data.scene_graph`; this module samples scenes, draws them, asks questions about them and writes
them to the `pairs.parquet` contract.
"""
from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from ..cache import cached
from .grammar import GENERIC_NOUN, be, describe, noun_phrase, number_word, plural, with_article
from .pairs import save_pairs
from .scene_graph import (
    CO_OCCURRENCE,
    COLORS,
    COMPANIONS,
    MAX_OBJECTS,
    MIN_GAP,
    SHAPES,
    SIZES,
    SPACING,
    STYLES,
    Scene,
    SceneObject,
    absent_by_co_occurrence,
    co_occurrence,
    shape_set_probabilities,
)
from .world import png_bytes

SCENE_WORLD_VERSION = 3  # bump whenever rendering or captions change: cached worlds and models key on it
# The generative labs' scenes (Labs 6-12): `scene_pairs_file(image_size=..., **COURSE_SCENES)`; 1,600 train, 200 val,
# 200 test
COURSE_SCENES = {"n_scenes": 2000, "seed": 6}
BACKGROUND = (235, 235, 235)
OUTLINE_WIDTH = 0.016  # of the image side: the rim of outlined and striped objects
STRIPE_PERIOD = 0.06  # of the image side: one stripe and one gap, diagonal
COUNT_CHANCES = {1: 0.6, 2: 0.25, 3: 0.1, 4: 0.05}  # how many objects a shape's group has (total <= max_objects)
LAYOUT_TRIES = 20  # random layouts tried before the largest group is drawn one size smaller (crowded scenes)

# Every shape but the circle as a polygon in the unit box [-1, 1] x [-1, 1], touching all four sides, so that
# an object's box is exactly its centre +- its radius.
_STAR = [(r * math.sin(k * math.pi / 5), -r * math.cos(k * math.pi / 5))  # outer and inner points, the top first
         for k, r in enumerate([1, 0.45] * 5)]
_ARM = 0.34  # half the width of a cross's arm
POLYGONS = {
    "square": [(-1, -1), (1, -1), (1, 1), (-1, 1)],
    "triangle": [(0, -1), (1, 1), (-1, 1)],
    "diamond": [(0, -1), (1, 0), (0, 1), (-1, 0)],
    "star": [(x / max(abs(p) for p, _ in _STAR), -1 + 2 * (y + 1) / (1 + max(q for _, q in _STAR))) for x, y in _STAR],
    "cross": [(-_ARM, -1), (_ARM, -1), (_ARM, -_ARM), (1, -_ARM), (1, _ARM), (_ARM, _ARM), (_ARM, 1), (-_ARM, 1),
              (-_ARM, _ARM), (-1, _ARM), (-1, -_ARM), (-_ARM, -_ARM)],
}

__all__ = ["BACKGROUND", "CO_OCCURRENCE", "COLORS", "COMPANIONS", "MAX_OBJECTS", "SCENE_WORLD_VERSION", "SHAPES",
           "SIZES", "STYLES", "Scene", "SceneObject", "absent_by_co_occurrence", "co_occurrence", "generate_scenes",
           "questions", "render", "scene_pairs", "scene_pairs_file", "shape_set_probabilities", "world_text"]


def render(scene: Scene, size: int = 64) -> Image.Image:
    """Draw `scene` as a `size` x `size` RGB image."""
    pixels = np.full((size, size, 3), BACKGROUND, dtype=np.uint8)
    for o in scene.objects:
        left, top, mask = _object_mask(o, size)
        pixels[top:top + mask.shape[0], left:left + mask.shape[1]][mask] = COLORS[o.color]
    return Image.fromarray(pixels)


def _object_mask(o: SceneObject, size: int) -> tuple[int, int, np.ndarray]:
    """(left, top, mask): the pixels `o` covers, as a boolean mask whose top-left pixel is (left, top)."""
    width = max(1, round(OUTLINE_WIDTH * size))
    x0, y0, x1, y1 = (v * size for v in o.box)
    left, top = max(0, math.floor(x0) - 1), max(0, math.floor(y0) - 1)  # a pixel of margin for rounding
    canvas = Image.new("L", (min(size, math.ceil(x1) + 1) - left, min(size, math.ceil(y1) + 1) - top))
    draw = ImageDraw.Draw(canvas)
    # pixel (i, j) covers [i, i+1) x [j, j+1); PIL's coordinates name pixel centres, hence the half pixel
    cx, cy, r = o.x * size - left - 0.5, o.y * size - top - 0.5, o.radius * size
    if o.shape == "circle":
        draw.ellipse([cx - r + 0.5, cy - r + 0.5, cx + r - 0.5, cy + r - 0.5], fill=255)
    else:
        draw.polygon([(cx + u * (r - 0.5), cy + v * (r - 0.5)) for u, v in POLYGONS[o.shape]], fill=255)
    shape = np.asarray(canvas) > 0
    if o.style != "solid":
        inside = _erode(shape, width)
        rim = shape & ~inside
        if o.style == "striped":
            rows, cols = np.indices(shape.shape)
            period = max(3, round(STRIPE_PERIOD * size))
            rim |= inside & ((rows + top + cols + left) % period < period / 2)
        shape = rim
    return left, top, shape


def _erode(mask: np.ndarray, width: int) -> np.ndarray:
    """The pixels of `mask` at least `width` pixels inside it (outside the array counts as outside the mask)."""
    for axis in (0, 1):
        padded = np.pad(mask, [(width, width) if a == axis else (0, 0) for a in (0, 1)])
        mask = sliding_window_view(padded, 2 * width + 1, axis=axis).min(axis=-1)
    return mask


def generate_scenes(n: int, seed: int = 0, shapes: tuple[str, ...] = SHAPES, colors: tuple[str, ...] = tuple(COLORS),
                    sizes: tuple[str, ...] = tuple(SIZES), styles: tuple[str, ...] = STYLES,
                    max_objects: int = MAX_OBJECTS) -> list[Scene]:
    """`n` scenes, deterministic in `seed`; the keyword arguments restrict the vocabulary.

    A scene's set of shapes follows `shape_set_probabilities` (shapes that go together, see COMPANIONS); each
    shape's group gets a colour, size and style (uniformly) and a number of objects (COUNT_CHANCES). Crowded
    scenes that find no room are drawn with smaller objects, so large objects are rarer than small ones.
    """
    for name, chosen, known in (("shapes", shapes, SHAPES), ("colors", colors, tuple(COLORS)),
                                ("sizes", sizes, tuple(SIZES)), ("styles", styles, STYLES)):
        if not chosen or any(v not in known for v in chosen):
            raise ValueError(f"{name}={chosen!r}: choose a non-empty subset of {known}.")
    if not 1 <= max_objects <= MAX_OBJECTS:
        raise ValueError(f"max_objects={max_objects}; a scene holds 1 to {MAX_OBJECTS} objects.")
    shape_sets = shape_set_probabilities(tuple(shapes), max_objects)
    rng = random.Random(seed)
    scenes = []
    for _ in range(n):
        kinds = rng.choices(list(shape_sets), weights=list(shape_sets.values()))[0]
        looks = {shape: (rng.choice(colors), rng.choice(sizes), rng.choice(styles)) for shape in kinds}
        scenes.append(Scene(_place(looks, _counts(kinds, max_objects, rng), sizes, rng)))
    return scenes


def _counts(shapes: tuple[str, ...], max_objects: int, rng: random.Random) -> dict[str, int]:
    """How many objects each shape's group has, drawn from COUNT_CHANCES, at most `max_objects` in all."""
    while True:
        counts = rng.choices(list(COUNT_CHANCES), weights=list(COUNT_CHANCES.values()), k=len(shapes))
        if sum(counts) <= max_objects:
            return dict(zip(shapes, counts))


def _place(looks: dict[str, tuple[str, str, str]], counts: dict[str, int], sizes: tuple[str, ...],
           rng: random.Random) -> list[SceneObject]:
    """Objects laid out by the world's rules; a crowded scene has its largest group drawn smaller until it fits."""
    looks = dict(looks)
    while True:
        largest = max(looks, key=lambda shape: SIZES[looks[shape][1]])
        color, size, style = looks[largest]
        smaller = [z for z in sizes if SIZES[z] < SIZES[size]]
        for _ in range(LAYOUT_TRIES if smaller else 50 * LAYOUT_TRIES):
            objects = _random_layout(looks, counts, rng)
            if objects:
                return objects
        if not smaller:
            raise ValueError(f"{sum(counts.values())} objects as large as {size} do not fit in one image; allow "
                             "smaller sizes or lower max_objects.")
        looks[largest] = (color, max(smaller, key=SIZES.get), style)


def _random_layout(looks: dict[str, tuple[str, str, str]], counts: dict[str, int],
                   rng: random.Random) -> list[SceneObject] | None:
    """A random layout that keeps rules 2 and 3 by construction, or None if two of its objects overlap."""
    # every centre keeps the largest object inside the image; rounded up to the centres' 3 decimals
    margin = math.ceil(1000 * (SPACING + max(SIZES[size] for _, size, _ in looks.values()))) / 1000
    xs, ys = _axis_coordinates(counts, margin, rng), _axis_coordinates(counts, margin, rng)
    objects = [SceneObject(shape, *looks[shape], x, y) for shape in looks for x, y in zip(xs[shape], ys[shape])]
    for a, b in itertools.combinations(objects, 2):
        reach = a.radius + b.radius + SPACING
        if abs(a.x - b.x) < reach and abs(a.y - b.y) < reach:
            return None
    return objects


def _axis_coordinates(counts: dict[str, int], margin: float, rng: random.Random) -> dict[str, list[float]]:
    """Coordinates along one axis for each shape's objects: all at least MIN_GAP apart, in [margin, 1 - margin],
    and handed out group by group in a random order of the groups, so each group's objects are neighbours."""
    n = sum(counts.values())
    free = 1 - 2 * margin - (n - 1) * MIN_GAP  # n points in the free length, then a MIN_GAP opened after each
    offsets = sorted(round(rng.uniform(0, free), 3) for _ in range(n))
    values = iter(round(margin + i * MIN_GAP + u, 3) for i, u in enumerate(offsets))
    group_order = rng.sample(list(counts), len(counts))
    coordinates = {shape: [next(values) for _ in range(counts[shape])] for shape in group_order}
    for shape_values in coordinates.values():
        rng.shuffle(shape_values)  # which object of a group gets which x (and, independently, which y)
    return coordinates


def questions(scene: Scene, rng: random.Random) -> list[tuple[str, str]]:
    """Questions about `scene` with exact one-word answers: existence (one present shape, and one absent shape that
    usually comes with the present ones), counts, colour, size, style and, with two groups or more, a relation."""
    groups = scene.groups()
    group = rng.choice(groups)
    the, verb = noun_phrase(group, determiner="the"), be(group.count)
    qa = [(f"is there {with_article(group.shape)}?", "yes"),
          (f"how many {plural(group.shape)} are there?", number_word(group.count)),
          (f"how many {plural(GENERIC_NOUN)} are there?", number_word(len(scene.objects))),
          (f"what color {verb} {the}?", group.color),
          (f"what size {verb} {the}?", group.size),
          (f"{verb} {the} {', '.join(STYLES[:-1])} or {STYLES[-1]}?", group.style)]
    absent = absent_by_co_occurrence(scene)
    if absent:
        qa.append((f"is there {with_article(rng.choice(absent[:2]))}?", "no"))
    if len(groups) > 1:
        subject, obj = rng.sample(groups, 2)
        relation = rng.choice(["left of", "right of", "above", "below"])
        answer = "yes" if scene.holds(subject.shape, relation, obj.shape) else "no"
        qa.append((f"{be(subject.count)} {noun_phrase(subject, determiner='the')} {relation} "
                   f"{noun_phrase(obj, determiner='the')}?", answer))
    return qa


def world_text(scenes: list[Scene], seed: int = 0) -> list[str]:
    """The corpus a language model learns the world's language from: every caption of every scene, and every
    question followed by its answer ("how many circles are there? two"), one line each, lower case."""
    rng = random.Random(seed)
    return [line for scene in scenes
            for line in describe(scene, rng) + [f"{q} {a}" for q, a in questions(scene, rng)]]


def scene_pairs(scenes: list[Scene], image_size: int = 64, val_fraction: float = 0.1, test_fraction: float = 0.1,
                seed: int = 0) -> pd.DataFrame:
    """The `pairs.parquet` table: one row per (scene, caption of `describe`); all captions of a scene share its
    image, `image_id` and split (drawn at random with `seed`); `scene` holds the scene graph as JSON."""
    n_test, n_val = int(len(scenes) * test_fraction), int(len(scenes) * val_fraction)
    order = np.random.default_rng(seed).permutation(len(scenes))
    splits = np.full(len(scenes), "train", dtype=object)
    splits[order[:n_test]], splits[order[n_test:n_test + n_val]] = "test", "val"
    rng = random.Random(seed)
    rows = []
    for i, scene in enumerate(tqdm(scenes, desc="rendering scenes", unit="scene", mininterval=1, leave=False)):
        image, graph = png_bytes(render(scene, image_size)), scene.to_json()
        rows += [{"image": image, "caption": caption, "image_id": i, "split": splits[i], "scene": graph}
                 for caption in describe(scene, rng)]
    return pd.DataFrame(rows)


def scene_pairs_file(n_scenes: int, seed: int, image_size: int = 64) -> Path:
    """`scene_pairs(generate_scenes(n_scenes, seed), image_size)` written once to the course cache; its path."""
    inputs = {"version": SCENE_WORLD_VERSION, "n_scenes": n_scenes, "seed": seed, "image_size": image_size}
    return cached("scene_world", "pairs.parquet", inputs, seed=seed,
                  build=lambda path: save_pairs(scene_pairs(generate_scenes(n_scenes, seed), image_size), path))
