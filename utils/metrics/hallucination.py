"""Object hallucination: CHAIR on captions, and POPE's polling questions, answer parsing and scores.

CHAIR (Rohrbach et al. 2018) reads the objects a caption mentions and checks them against those in the image:
CHAIR_i = hallucinated mentions / all mentions, CHAIR_s = captions with a hallucinated mention / all captions.
As in the reference code that published CHAIR numbers come from (LisaAnne/Hallucination, `utils/chair.py` at
a967f2f: `compute_chair` counts every object word of a caption), a mention is a word that names an object, and an
object named twice is two mentions. On world captions the grammar gives the mentions exactly (`mentioned_objects`);
on English captions `mentioned_words` finds the vocabulary's object names, singular or plural (CHAIR's COCO
version also maps synonyms such as "man" to "person", which this leaves out).

POPE (Li et al. 2023) asks "is there a <object> in the image?" about present objects and as many absent ones,
drawn at random, by popularity (the most frequent objects of the data) or adversarially (those that co-occur
most with what is there), and scores the yes/no answers as a binary classifier whose positive class is "yes".
"""
from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence

from ..data.grammar import object_mentions, with_article
from ..data.scene_graph import by_co_occurrence, conditional_presence

POPE_SETTINGS = ("random", "popular", "adversarial")
Question = tuple[int, str, str]  # (image index, object, "yes" if the object is in the image else "no")


def mentioned_objects(caption: str) -> list[str]:
    """The shapes a world caption mentions, one per naming word, in order (the generic "shapes" is not an object)."""
    return object_mentions(caption)


def mentioned_words(caption: str, vocabulary: Collection[str]) -> list[str]:
    """The objects of `vocabulary` (names of one or more words) an English caption names, singular or plural, one
    per occurrence, in order; longer names first, so "hot dog" is one mention and not also a "dog" (as in CHAIR)."""
    text, taken, found = caption.lower(), set(), []
    for name in sorted(vocabulary, key=lambda n: (-len(n), n)):
        for m in re.finditer(rf"\b{re.escape(name.lower())}(e?s)?\b", text):
            if not taken & set(range(*m.span())):
                taken |= set(range(*m.span()))
                found.append((m.start(), name))
    return [name for _, name in sorted(found)]


def chair(captions: Sequence[str], objects: Sequence[Collection[str]],
          mentions: Callable[[str], list[str]] = mentioned_objects) -> dict[str, float]:
    """CHAIR_i and CHAIR_s of captions against the objects truly in each image (NaN for CHAIR_i when nothing
    is mentioned); `mentions(caption)` gives a caption's object mentions, repeats included."""
    if len(captions) != len(objects) or not captions:
        raise ValueError(f"got {len(captions)} captions for {len(objects)} images; pass one caption per image, and "
                         "at least one.")
    mentioned = hallucinated = bad_captions = 0
    for caption, present in zip(captions, objects):
        named = mentions(caption)
        wrong = sum(name not in present for name in named)
        mentioned, hallucinated, bad_captions = mentioned + len(named), hallucinated + wrong, bad_captions + (wrong > 0)
    return {"CHAIR_i": hallucinated / mentioned if mentioned else float("nan"),
            "CHAIR_s": bad_captions / len(captions)}


def pope_questions(objects: Sequence[Collection[str]], setting: str, per_image: int = 3, seed: int = 0,
                   statistics: Sequence[Collection[str]] | None = None) -> list[Question]:
    """POPE's questions as (image index, object, "yes"/"no"): for each image, `n` of its objects and `n` absent
    ones, n = min(per_image, present, absent). The present ones are drawn first, for every image, so that the
    three settings share them (as in POPE) and differ only in the absent ones: "random" (uniformly), "popular"
    (those in most images first) or "adversarial" (`by_co_occurrence`). Popularity, co-occurrence and the
    vocabulary are counted over `statistics` (object sets of a larger collection; default `objects`)."""
    if setting not in POPE_SETTINGS:
        raise ValueError(f"unknown POPE setting {setting!r}; choose one of {POPE_SETTINGS}.")
    if per_image < 1:
        raise ValueError(f"per_image is {per_image}; ask about at least one present object per image.")
    statistics = objects if statistics is None else statistics
    vocabulary = sorted({o for group in (statistics, objects) for present in group for o in present})
    popularity = Counter(o for present in statistics for o in set(present))
    together = conditional_presence((present, 1.0) for present in statistics)
    rng = random.Random(seed)
    absent = [[o for o in vocabulary if o not in present] for present in objects]
    sizes = [min(per_image, len(present), len(others)) for present, others in zip(objects, absent)]
    positives = [rng.sample(sorted(present), n) for present, n in zip(objects, sizes)]
    out = []
    for i, (present, others, n) in enumerate(zip(objects, absent, sizes)):
        if setting == "random":
            negatives = rng.sample(others, n)
        elif setting == "popular":
            negatives = sorted(others, key=lambda o: (-popularity[o], o))[:n]
        else:
            negatives = by_co_occurrence(present, others, together)[:n]
        out += [(i, o, "yes") for o in positives[i]] + [(i, o, "no") for o in negatives]
    return out


def pope_question(name: str, template: str = "is there {} in the image?") -> str:
    """The polling question about one object: `template` with the object and its article."""
    return template.format(with_article(name))


def pope_answer(text: str) -> str:
    """POPE's parsing of a free answer: only the first sentence counts; "no" if it has the word "no", "No" or
    "not", else "yes"."""
    words = text.split(".")[0].replace(",", "").split(" ")
    return "no" if {"no", "No", "not"} & set(words) else "yes"


def pope_scores(answers: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy, precision, recall and F1 with "yes" as the positive class, the share of "yes" answers, and the
    false-positive rate (the share of absent objects said to be there: the hallucination rate); `answers` are
    parsed with `pope_answer`."""
    if len(answers) != len(labels) or not answers:
        raise ValueError(f"got {len(answers)} answers for {len(labels)} labels; pass one answer per question.")
    said = [pope_answer(a) == "yes" for a in answers]
    truth = [label == "yes" for label in labels]
    tp = sum(s and t for s, t in zip(said, truth))
    fp = sum(s and not t for s, t in zip(said, truth))
    fn = sum(t and not s for s, t in zip(said, truth))
    negatives = len(truth) - sum(truth)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"accuracy": sum(s == t for s, t in zip(said, truth)) / len(said), "precision": precision,
            "recall": recall, "F1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "yes-ratio": sum(said) / len(said), "false-positive rate": fp / negatives if negatives else float("nan")}
