"""A procedurally generated image-caption world with exact scene graphs.

Every image is drawn from a scene graph (shapes, colours, sizes, positions), so captions and
question/answer pairs are true by construction. The same seed always gives the same world.
"""
from __future__ import annotations

import io
import json
import math
import random
from dataclasses import asdict, dataclass, field

from PIL import Image, ImageDraw

WORLD_VERSION = 2  # bump whenever rendering or captions change: cached worlds and checkpoints key on it
SHAPES = ("circle", "square", "triangle", "diamond")
# A domain-shifted vocabulary that the generic world (and so the world CLIP) never shows: new shapes and
# new colour names, some of them close in hue to generic colours ("navy" vs "blue") but named differently.
DOMAIN_SHAPES = ("star", "hexagon", "cross", "ring", "arrow", "heart")
DOMAIN_COLORS = {
    "teal": (0, 128, 128),
    "magenta": (215, 30, 170),
    "navy": (25, 35, 120),
    "olive": (128, 128, 0),
    "coral": (250, 120, 85),
    "lime": (160, 230, 40),
}
COLORS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 210, 40),
    "purple": (140, 60, 180),
    "orange": (245, 140, 30),
}
SIZES = {"small": 0.16, "large": 0.28}  # radius as a fraction of the image side
PALETTE = {**COLORS, **DOMAIN_COLORS}
# Named vocabularies for `generate_world`: the generic world the world CLIP learns from, and a shifted domain.
WORLDS = {
    "generic": {},
    "shifted": {"shapes": DOMAIN_SHAPES, "colors": tuple(DOMAIN_COLORS), "backgrounds": ("plain", "sand")},
}
BACKGROUNDS = {"plain": (235, 235, 235), "dark": (60, 60, 60), "sand": (225, 205, 160)}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three"}


@dataclass(frozen=True)
class WorldObject:
    shape: str
    color: str
    size: str
    x: float  # centre, as a fraction of the image width
    y: float  # centre, as a fraction of the image height


@dataclass
class Scene:
    """One image's exact scene graph, its captions and its question/answer pairs."""

    objects: list[WorldObject]
    background: str = "plain"
    captions: list[str] = field(default_factory=list)
    qa: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"background": self.background, "objects": [asdict(o) for o in self.objects],
                           "relations": relations(self.objects)})

    def render(self, size: int = 64) -> Image.Image:
        img = Image.new("RGB", (size, size), BACKGROUNDS[self.background])
        draw = ImageDraw.Draw(img)
        for o in self.objects:
            _draw(draw, o, size)
        return img


def _draw(draw: ImageDraw.ImageDraw, o: WorldObject, side: int) -> None:
    r, cx, cy, fill = SIZES[o.size] * side, o.x * side, o.y * side, PALETTE[o.color]
    if o.shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif o.shape == "square":
        s = r * 0.85
        draw.rectangle([cx - s, cy - s, cx + s, cy + s], fill=fill)
    elif o.shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r * 0.8), (cx + r, cy + r * 0.8)], fill=fill)
    elif o.shape == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fill)
    elif o.shape == "star":
        draw.polygon([(cx + (r if k % 2 == 0 else 0.42 * r) * math.sin(k * math.pi / 5),
                       cy - (r if k % 2 == 0 else 0.42 * r) * math.cos(k * math.pi / 5)) for k in range(10)], fill=fill)
    elif o.shape == "hexagon":
        draw.polygon([(cx + r * math.cos(k * math.pi / 3), cy + r * math.sin(k * math.pi / 3)) for k in range(6)],
                     fill=fill)
    elif o.shape == "cross":
        w = r * 0.33
        draw.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
        draw.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
    elif o.shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=fill, width=max(2, round(r * 0.4)))
    elif o.shape == "arrow":
        w = r * 0.3
        draw.polygon([(cx - r, cy - w), (cx, cy - w), (cx, cy - r * 0.8), (cx + r, cy), (cx, cy + r * 0.8),
                      (cx, cy + w), (cx - r, cy + w)], fill=fill)
    elif o.shape == "heart":
        h = r * 0.5
        draw.ellipse([cx - r, cy - r * 0.75, cx, cy - r * 0.75 + 2 * h], fill=fill)
        draw.ellipse([cx, cy - r * 0.75, cx + r, cy - r * 0.75 + 2 * h], fill=fill)
        draw.polygon([(cx - r * 0.97, cy - r * 0.1), (cx + r * 0.97, cy - r * 0.1), (cx, cy + r)], fill=fill)
    else:
        raise ValueError(f"unknown shape {o.shape!r}; known shapes: {', '.join(SHAPES + DOMAIN_SHAPES)}")


def relations(objects: list[WorldObject]) -> list[dict]:
    """Pairwise left-of / above relations, read off the object centres."""
    rels = []
    for i, a in enumerate(objects):
        for j, b in enumerate(objects):
            if i != j and a.x < b.x:
                rels.append({"subject": i, "relation": "left of", "object": j})
            if i != j and a.y < b.y:
                rels.append({"subject": i, "relation": "above", "object": j})
    return rels


def with_article(word: str) -> str:
    """The word with its indefinite article: 'a red', 'an orange'."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def phrase(o: WorldObject, with_size: bool = False) -> str:
    """Noun phrase for one object, e.g. 'a small red circle'."""
    return f"{with_article(o.size if with_size else o.color)}{' ' + o.color if with_size else ''} {o.shape}"


def describe(objects: list[WorldObject]) -> list[str]:
    """Several true paraphrases of a scene, most informative first."""
    if len(objects) == 1:
        o = objects[0]
        return [phrase(o, True), f"{phrase(o)} on its own", f"a picture of one {o.color} {o.shape}",
                f"there is {phrase(o, True)}"]
    if len(objects) == 2:
        a, b = sorted(objects, key=lambda o: o.x)
        return [f"{phrase(a)} to the left of {phrase(b)}", f"{phrase(b)} to the right of {phrase(a)}",
                f"{phrase(a, True)} and {phrase(b, True)}", f"two shapes: {a.color} {a.shape} and {b.color} {b.shape}"]
    n = NUMBER_WORDS[len(objects)]
    same = {(o.color, o.shape) for o in objects}
    if len(same) == 1:
        o = objects[0]
        return [f"{n} {o.color} {o.shape}s", f"a group of {n} {o.color} {o.shape}s", f"{n} {o.shape}s, all {o.color}"]
    parts = ", ".join(phrase(o) for o in sorted(objects, key=lambda o: o.x))
    return [f"{n} shapes: {parts}", f"{parts}, from left to right"]


def questions(objects: list[WorldObject], rng: random.Random) -> list[tuple[str, str]]:
    """Existence, count, colour and spatial questions with their exact answers."""
    qa = []
    present = {o.shape for o in objects}
    shape = rng.choice(SHAPES)
    qa.append((f"is there {with_article(shape)}?", "yes" if shape in present else "no"))
    shape = rng.choice(sorted(present))
    qa.append((f"how many {shape}s are there?", NUMBER_WORDS[sum(o.shape == shape for o in objects)]))
    o = rng.choice(objects)
    qa.append((f"what color is the {o.shape}?" if sum(p.shape == o.shape for p in objects) == 1
               else f"what color is the {o.size} {o.shape}?", o.color))
    if len(objects) == 2 and objects[0].shape != objects[1].shape:
        a, b = objects
        qa.append((f"is the {a.shape} left of the {b.shape}?", "yes" if a.x < b.x else "no"))
    return qa


def _place(n: int, sizes: list[str], rng: random.Random) -> list[tuple[float, float]]:
    """Non-overlapping centres with distinct x (so 'left of' is never ambiguous)."""
    for _ in range(200):
        pts = [(rng.uniform(0.2, 0.8), rng.uniform(0.25, 0.75)) for _ in range(n)]
        ok = all(abs(p[0] - q[0]) > SIZES[sizes[i]] + SIZES[sizes[j]] - 0.08 or
                 abs(p[1] - q[1]) > SIZES[sizes[i]] + SIZES[sizes[j]]
                 for i, p in enumerate(pts) for j, q in enumerate(pts) if i < j)
        if ok and len({round(p[0], 2) for p in pts}) == n:
            return pts
    return [((i + 0.5) / n, 0.5) for i in range(n)]


def make_scene(rng: random.Random, shapes=SHAPES, colors=tuple(COLORS), backgrounds=("plain",),
               max_objects: int = 2) -> Scene:
    """Sample one scene: 1..max_objects objects, or a group of identical objects (counting)."""
    n = rng.randint(1, max_objects)
    if max_objects >= 3 and rng.random() < 0.2:  # identical groups make counting questions meaningful
        n, shape, color = rng.randint(2, 3), rng.choice(shapes), rng.choice(colors)
        sizes = ["small"] * n
        specs = [(shape, color)] * n
    else:
        sizes = [rng.choice(tuple(SIZES)) if n == 1 else "small" for _ in range(n)]
        specs = [(rng.choice(shapes), rng.choice(colors)) for _ in range(n)]
        while n == 2 and specs[0] == specs[1]:
            specs[1] = (rng.choice(shapes), rng.choice(colors))
    xy = [(0.5, 0.5)] if n == 1 else _place(n, sizes, rng)
    objects = [WorldObject(s, c, z, round(x, 3), round(y, 3)) for (s, c), z, (x, y) in zip(specs, sizes, xy)]
    scene = Scene(objects, background=rng.choice(backgrounds))
    scene.captions = describe(objects)
    scene.qa = questions(objects, rng)
    return scene


def generate_world(n: int, seed: int = 0, **scene_kwargs) -> list[Scene]:
    """`n` scenes, deterministic in `seed`; keyword arguments restrict the vocabulary (see `make_scene`)."""
    rng = random.Random(seed)
    return [make_scene(rng, **scene_kwargs) for _ in range(n)]


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
