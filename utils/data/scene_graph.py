"""What a world-v3 scene is: its vocabulary, its objects and their relations, and which shapes go together.

A scene holds 1 to 5 objects. Each object has a shape, a colour, a size, a fill style and a centre (x, y),
as fractions of the image side (x to the right, y downwards). Three rules make every statement about a
scene exactly true or false, never a matter of judgement:

1. Objects of the same shape look alike (same colour, size and style), so "the circles" names one *group*
   and "the circles are red" is exact.
2. Any two centres differ by at least `MIN_GAP` along x and along y, so "left of" and "above" are never
   near-ties; boxes do not overlap.
3. Each group's objects are next to each other in left-to-right order and in top-to-bottom order, so two
   groups are always one left of the other, and one above the other ("the circles are left of the square"
   holds for every circle).

Which shapes appear together follows `COMPANIONS` (see `shape_set_probabilities`); `CO_OCCURRENCE` is the
exact P(b in scene | a in scene) that results, and `co_occurrence(scenes)` measures it from scenes.
"""
from __future__ import annotations

import itertools
import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

from .world import COLORS  # world v2's six colours, same names and RGB

SHAPES = ("circle", "square", "triangle", "diamond", "star", "cross")
SIZES = {"small": 0.08, "medium": 0.11, "large": 0.14}  # half the side of an object's box, as a fraction of the image
STYLES = ("solid", "striped", "outlined")
MAX_OBJECTS = 5
MIN_GAP = 0.1  # least difference between two centres along x and along y (rule 2)
SPACING = 0.02  # least empty space between two boxes, and between a box and the image border

# Relations between groups are stated as "left of" and "above"; "right of" and "below" are their converses.
ORDER_OF = {"left of": "left to right", "above": "top to bottom"}
CONVERSE = {"right of": "left of", "below": "above"}

# COMPANIONS[a][b]: the chance that shape b joins a scene built around shape a. A scene is built around one
# shape (drawn uniformly); every other shape joins it independently with its chance; a scene with more shapes
# than it may hold objects is redrawn. Circles bring squares, triangles bring diamonds, stars bring crosses.
COMPANIONS = {
    "circle": {"square": 0.6, "triangle": 0.2, "diamond": 0.1, "star": 0.15, "cross": 0.1},
    "square": {"circle": 0.5, "triangle": 0.15, "diamond": 0.15, "star": 0.1, "cross": 0.15},
    "triangle": {"circle": 0.15, "square": 0.1, "diamond": 0.6, "star": 0.15, "cross": 0.1},
    "diamond": {"circle": 0.1, "square": 0.15, "triangle": 0.5, "star": 0.2, "cross": 0.1},
    "star": {"circle": 0.15, "square": 0.1, "triangle": 0.1, "diamond": 0.15, "cross": 0.6},
    "cross": {"circle": 0.1, "square": 0.15, "triangle": 0.1, "diamond": 0.1, "star": 0.5},
}


@dataclass(frozen=True)
class SceneObject:
    """One object; `x`, `y` is its centre as fractions of the image width and height."""

    shape: str
    color: str
    size: str
    style: str
    x: float
    y: float

    @property
    def radius(self) -> float:
        return SIZES[self.size]

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) as fractions of the image: every shape is drawn to touch all four sides."""
        r = self.radius
        return round(self.x - r, 4), round(self.y - r, 4), round(self.x + r, 4), round(self.y + r, 4)


@dataclass(frozen=True)
class Group:
    """All objects of one shape in a scene: by rule 1 they share colour, size and style."""

    shape: str
    color: str
    size: str
    style: str
    count: int


@dataclass(frozen=True)
class Scene:
    """One image's exact scene graph (`objects`: a list or tuple); construction checks the world's rules."""

    objects: tuple[SceneObject, ...]

    def __post_init__(self):
        object.__setattr__(self, "objects", tuple(self.objects))
        problem = rule_violation(self.objects)
        if problem:
            raise ValueError(f"not a valid world-v3 scene: {problem}")

    def groups(self, order: str = "left to right") -> list[Group]:
        """The scene's groups, ordered "left to right" or "top to bottom"."""
        axis = {"left to right": "x", "top to bottom": "y"}
        if order not in axis:
            raise ValueError(f"unknown order {order!r}; use one of {list(axis)}.")
        first: dict[str, SceneObject] = {}
        for o in sorted(self.objects, key=lambda o: getattr(o, axis[order])):
            first.setdefault(o.shape, o)
        return [Group(o.shape, o.color, o.size, o.style, sum(p.shape == o.shape for p in self.objects))
                for o in first.values()]

    def holds(self, subject: str, relation: str, obj: str) -> bool:
        """Whether the `subject` group is `relation` ("left of", "right of", "above", "below") the `obj` group."""
        if relation in CONVERSE:
            subject, relation, obj = obj, CONVERSE[relation], subject
        if relation not in ORDER_OF:
            raise ValueError(f"unknown relation {relation!r}; use one of {[*ORDER_OF, *CONVERSE]}.")
        order = [g.shape for g in self.groups(ORDER_OF[relation])]
        return subject in order and obj in order and order.index(subject) < order.index(obj)

    @property
    def shapes(self) -> set[str]:
        return {o.shape for o in self.objects}

    def to_json(self) -> str:
        """Objects (attributes, centre, box) and the pairwise relations "left of" and "above" by object index."""
        objects = [{**asdict(o), "box": list(o.box)} for o in self.objects]
        relations = [{"subject": i, "relation": relation, "object": j}
                     for i, a in enumerate(self.objects) for j, b in enumerate(self.objects)
                     for relation, before in (("left of", a.x < b.x), ("above", a.y < b.y)) if i != j and before]
        return json.dumps({"version": 3, "objects": objects, "relations": relations})

    @classmethod
    def from_json(cls, text: str) -> Scene:
        """The scene back from `to_json` (e.g. a pairs table's `scene` column)."""
        fields = ("shape", "color", "size", "style", "x", "y")
        return cls(tuple(SceneObject(**{k: o[k] for k in fields}) for o in json.loads(text)["objects"]))


def rule_violation(objects: Iterable[SceneObject]) -> str | None:
    """The first broken world rule, in words, or None when the objects form a valid scene."""
    objects = list(objects)
    if not 1 <= len(objects) <= MAX_OBJECTS:
        return f"{len(objects)} objects; a scene has 1 to {MAX_OBJECTS}"
    for o in objects:
        for value, known in ((o.shape, SHAPES), (o.color, COLORS), (o.size, SIZES), (o.style, STYLES)):
            if value not in known:
                return f"unknown attribute {value!r} (known: {', '.join(known)})"
        if min(o.box) < SPACING - 1e-9 or max(o.box) > 1 - SPACING + 1e-9:
            return f"the {o.shape} at ({o.x}, {o.y}) sticks out of the image"
    for a, b in itertools.combinations(objects, 2):
        if a.shape == b.shape and (a.color, a.size, a.style) != (b.color, b.size, b.style):
            return f"two objects of shape {a.shape!r} look different; objects of one shape share colour, size and style"
        if min(abs(a.x - b.x), abs(a.y - b.y)) < MIN_GAP - 1e-9:
            return f"the {a.shape} and the {b.shape} are closer than {MIN_GAP} along x or y"
        reach = a.radius + b.radius + SPACING - 1e-9
        if abs(a.x - b.x) < reach and abs(a.y - b.y) < reach:
            return f"the {a.shape} and the {b.shape} overlap"
    for axis in ("x", "y"):
        in_order = [o.shape for o in sorted(objects, key=lambda o: getattr(o, axis))]
        runs = [shape for shape, _ in itertools.groupby(in_order)]
        if len(runs) != len(set(runs)):
            return f"the objects of one shape are not next to each other along {axis} ({', '.join(in_order)})"
    return None


@lru_cache
def shape_set_probabilities(shapes: tuple[str, ...] = SHAPES,
                            max_shapes: int = MAX_OBJECTS) -> dict[tuple[str, ...], float]:
    """The exact probability of each set of distinct shapes in a scene, as the generator draws it.

    One anchor shape is drawn uniformly; every other shape b joins with chance COMPANIONS[anchor][b]; sets of
    more than `max_shapes` shapes are redrawn (so the probabilities are renormalised over the rest).
    """
    weights = {}
    for k in range(1, min(len(shapes), max_shapes) + 1):
        for subset in itertools.combinations(shapes, k):
            weights[subset] = sum(math.prod(COMPANIONS[anchor][b] if b in subset else 1 - COMPANIONS[anchor][b]
                                            for b in shapes if b != anchor) for anchor in subset) / len(shapes)
    total = sum(weights.values())
    return {subset: w / total for subset, w in weights.items()}


def conditional_presence(weighted_sets: Iterable[tuple[Iterable[str], float]]) -> dict[str, dict[str, float]]:
    """P(b present | a present) for every pair of shapes a != b, from (shape set, weight) pairs."""
    present: dict[str, float] = {}
    together: dict[tuple[str, str], float] = {}
    for shapes, weight in weighted_sets:
        shapes = set(shapes)
        for a in shapes:
            present[a] = present.get(a, 0.0) + weight
            for b in shapes - {a}:
                together[a, b] = together.get((a, b), 0.0) + weight
    return {a: {b: together.get((a, b), 0.0) / present[a] for b in present if b != a} for a in sorted(present)}


def co_occurrence(scenes: Iterable[Scene]) -> dict[str, dict[str, float]]:
    """Measured P(b in scene | a in scene): result[a][b] is the share of scenes with an a that also have a b."""
    return conditional_presence((scene.shapes, 1.0) for scene in scenes)


CO_OCCURRENCE = conditional_presence(shape_set_probabilities().items())  # exact, for the default vocabulary


def co_occurrence_score(present: Collection[str], other: str, together: Mapping[str, Mapping[str, float]]) -> float:
    """How much `other` comes with what is present: its highest P(other | a present one) in `together` (see
    `conditional_presence`), 0 when nothing is present."""
    return max((together.get(a, {}).get(other, 0.0) for a in present), default=0.0)


def by_co_occurrence(present: Collection[str], absent: Sequence[str],
                     together: Mapping[str, Mapping[str, float]]) -> list[str]:
    """`absent` objects, those that co-occur most with a present one first (`co_occurrence_score`; ties by name)."""
    return sorted(absent, key=lambda b: (-co_occurrence_score(present, b, together), b))


def absent_by_co_occurrence(scene: Scene) -> list[str]:
    """The shapes absent from `scene`, those that usually come with the present shapes first (by the exact
    CO_OCCURRENCE): the "adversarial" absent objects of POPE, the ones a model that leans on co-occurrence is
    tempted to see."""
    return by_co_occurrence(scene.shapes, [b for b in SHAPES if b not in scene.shapes], CO_OCCURRENCE)
