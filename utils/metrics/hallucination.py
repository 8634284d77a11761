"""Object hallucination, exact on the world: CHAIR on captions and POPE's polling questions and scores.

CHAIR (Rohrbach et al. 2018) reads the objects a caption mentions and checks them against those in the image:
CHAIR_i = hallucinated mentions / all mentions, CHAIR_s = captions with a hallucinated mention / all captions.
On world captions the grammar's parser gives the mentioned shapes and the scene graph the present ones, so no
synonym list is needed. POPE (Li et al. 2023) asks "is there a <object> in the image?" about present objects
and as many absent ones, drawn at random, by popularity or adversarially (those that co-occur most with what
is there), and scores the yes/no answers as a binary classifier whose positive class is "yes".
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from ..data.grammar import parse, with_article
from ..data.scene_graph import SHAPES, Scene, absent_by_co_occurrence

POPE_SETTINGS = ("random", "popular", "adversarial")


def mentioned_objects(caption: str) -> set[str]:
    """The shapes a world caption mentions (the generic "shapes" is not an object)."""
    return {fact[0] for fact in parse(caption) if len(fact) == 1}


def chair(captions: Sequence[str], scenes: Sequence[Scene]) -> dict[str, float]:
    """CHAIR_i and CHAIR_s of world captions against their scenes (NaN for CHAIR_i when nothing is mentioned)."""
    if len(captions) != len(scenes) or not captions:
        raise ValueError(f"got {len(captions)} captions for {len(scenes)} scenes; pass one caption per scene, and "
                         "at least one.")
    mentions = hallucinated = bad_captions = 0
    for caption, scene in zip(captions, scenes):
        objects = mentioned_objects(caption)
        wrong = len(objects - scene.shapes)
        mentions, hallucinated, bad_captions = mentions + len(objects), hallucinated + wrong, bad_captions + (wrong > 0)
    return {"CHAIR_i": hallucinated / mentions if mentions else float("nan"), "CHAIR_s": bad_captions / len(captions)}


def pope_questions(scenes: Sequence[Scene], setting: str, per_image: int = 3,
                   seed: int = 0) -> list[tuple[int, str, str]]:
    """POPE's questions as (scene index, question, "yes"/"no"): for each scene, up to `per_image` present shapes
    and as many absent ones (fewer if the scene lacks them), absent ones drawn by `setting`:
    "random" (uniformly), "popular" (the shapes present in most scenes first) or "adversarial" (those that
    co-occur most with the present shapes first, `absent_by_co_occurrence`)."""
    if setting not in POPE_SETTINGS:
        raise ValueError(f"unknown POPE setting {setting!r}; choose one of {POPE_SETTINGS}.")
    rng = random.Random(seed)
    popularity = Counter(shape for scene in scenes for shape in scene.shapes)
    out = []
    for i, scene in enumerate(scenes):
        absent = [s for s in SHAPES if s not in scene.shapes]
        n = min(per_image, len(scene.shapes), len(absent))
        if setting == "random":
            negatives = rng.sample(absent, n)
        elif setting == "popular":
            negatives = sorted(absent, key=lambda s: (-popularity[s], s))[:n]
        else:
            negatives = absent_by_co_occurrence(scene)[:n]
        positives = rng.sample(sorted(scene.shapes), n)
        out += [(i, f"is there {with_article(s)} in the image?", answer)
                for answer, shapes in (("yes", positives), ("no", negatives)) for s in shapes]
    return out


def pope_answer(text: str) -> str:
    """POPE's parsing of a free answer: only the first sentence counts; "no" if it has the word "no", "No" or
    "not", else "yes"."""
    words = text.split(".")[0].replace(",", "").split(" ")
    return "no" if {"no", "No", "not"} & set(words) else "yes"


def pope_scores(answers: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy, precision, recall and F1 with "yes" as the positive class, and the share of "yes" answers;
    `answers` are parsed with `pope_answer`."""
    if len(answers) != len(labels) or not answers:
        raise ValueError(f"got {len(answers)} answers for {len(labels)} labels; pass one answer per question.")
    said = [pope_answer(a) == "yes" for a in answers]
    truth = [label == "yes" for label in labels]
    tp = sum(s and t for s, t in zip(said, truth))
    fp = sum(s and not t for s, t in zip(said, truth))
    fn = sum(t and not s for s, t in zip(said, truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"accuracy": sum(s == t for s, t in zip(said, truth)) / len(said), "precision": precision,
            "recall": recall, "F1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "yes-ratio": sum(said) / len(said)}
