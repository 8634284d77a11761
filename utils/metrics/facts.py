"""Factual precision and recall of a caption against a world-v3 scene, through the caption grammar.

A caption's facts are `utils.data.grammar.parse(caption)`; a scene's facts are every fact in the same
conventions that is true of it (`utils.data.grammar.scene_facts`). Precision is the share of the caption's facts that are true;
recall is the share of the scene's facts that the caption states. The scene's facts are: each shape present,
its colour, size, style and exact count, the total count ("shape", n), and for each pair of groups their
horizontal and vertical relation. `describe(scene)[0]` states all of them, so its recall is 1.0.

A caption with no parseable fact has precision 1.0 (it states nothing false) and recall 0.0: average precision
over a corpus by pooling facts, or read it with recall, so that saying nothing does not look precise.
"""
from __future__ import annotations

from ..data.grammar import Fact, canonical, parse, scene_facts
from ..data.scene_graph import Scene


def is_true(fact: Fact, scene: Scene) -> bool:
    """Whether `fact` holds in `scene`; relations may be given in either direction ("right of", "below")."""
    return canonical(fact) in scene_facts(scene)


def factual_precision_recall(caption: str, scene: Scene) -> tuple[float, float]:
    """(precision, recall) of the caption's facts against the scene's (see the module docstring)."""
    stated, true = parse(caption), scene_facts(scene)
    correct = len(stated & true)
    return (correct / len(stated) if stated else 1.0), correct / len(true)
