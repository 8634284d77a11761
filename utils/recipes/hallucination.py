"""Lab 10's probe of object hallucination: images whose objects are known, and Lab 6's captioner asked about them.

`offline`: Lab 6's world scenes (objects: each scene graph's shapes; the captioner's world captions read by the
grammar's parser); `t4`: COCO val2017 images with their annotated categories (`detection-datasets/coco`; the
captioner never saw COCO), mentions found by name. The test images are probed; popularity and co-occurrence for
POPE's negatives are counted over every image of the table. The captioner is Lab 6's, trained once and cached
(`captioning.trained_captioner`). The model is asked in two ways: polled directly, as POPE does, and "describe,
then answer", which answers from the model's own caption (yes if the caption names the object).
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from ..data.convert import hub_table
from ..data.image_sets import ImageSet
from ..data.objects import load_objects, objects_from_coco, save_objects, world_objects_file
from ..data.pairs import hub_file
from ..data.scene_graph import co_occurrence_score, conditional_presence
from ..data.scene_world import COURSE_SCENES, scene_pairs_file
from ..metrics.hallucination import Question, mentioned_objects, mentioned_words, pope_question, pope_questions
from ..models.vlm import VisionLanguageModel, vlm_answers
from ..profiles import Profile


@dataclass(frozen=True)
class ProbeRecipe:
    """What is probed on one profile, and how a polled answer is generated."""

    images: int  # test images probed (the first ones)
    per_image: int  # POPE: present objects asked about per image, and as many absent ones
    question: str  # the polling question, "{}" standing for the object with its article
    max_new_tokens: int


RECIPES = {
    # the world LM was trained on "is there a circle?", so the question keeps its form
    "offline": ProbeRecipe(images=200, per_image=3, question="is there {}?", max_new_tokens=4),
    # POPE's own question; 500 images as in POPE's COCO part
    "t4": ProbeRecipe(images=500, per_image=3, question="Is there {} in the image?", max_new_tokens=8),
}
HUB_DATA = {"repo_id": "detection-datasets/coco", "split": "val", "limit": 2000}  # of 5,000; about 330 MB


def objects_file(profile: Profile) -> Path:
    """The profile's `objects.parquet`: Lab 6's world scenes (`offline`) or COCO val2017 images (`t4`)."""
    if profile.name == "offline":
        return world_objects_file(scene_pairs_file(image_size=profile.image_size, **COURSE_SCENES))
    return hub_file(HUB_DATA["repo_id"], "objects.parquet",
                    lambda: objects_from_coco(hub_table(HUB_DATA["repo_id"], HUB_DATA["split"]), HUB_DATA["limit"]),
                    save_objects)


@dataclass
class Probe:
    """The images probed with their objects, and every image's objects (POPE's popularity and co-occurrence)."""

    images: ImageSet
    objects: list[frozenset[str]]
    statistics: list[frozenset[str]]

    @property
    def vocabulary(self) -> list[str]:
        return sorted(set().union(*self.statistics, *self.objects))


def probe_set(path: str | Path, recipe: ProbeRecipe) -> Probe:
    """The first `recipe.images` test images of an `objects.parquet` (all images if it has no `split`)."""
    table = load_objects(path)
    probed = table[table["split"] == "test"] if "split" in table.columns else table
    if probed.empty:
        raise ValueError(f"{path} has no 'test' images; mark the images to probe 'test' in its 'split' column, or "
                         "drop the column to probe every image.")
    probed = probed.head(recipe.images)
    probe = Probe(ImageSet(list(probed["image"])), list(probed["objects"]), list(table["objects"]))
    if len(probe.vocabulary) < 2 or not any(probe.objects):
        raise ValueError(f"{path} names {probe.vocabulary or 'no objects'} in its probed images' 'objects'; POPE and "
                         "CHAIR need images with objects and at least two kinds of object (one to be absent).")
    return probe


def mention_reader(profile: Profile, vocabulary: Sequence[str]) -> Callable[[str], list[str]]:
    """How the profile's captions name objects: the world grammar's parser (`offline`), or words of `vocabulary`."""
    return mentioned_objects if profile.name == "offline" else partial(mentioned_words, vocabulary=vocabulary)


def polled_answers(vlm: VisionLanguageModel, probe: Probe, questions: Sequence[Question], preprocess: Callable,
                   profile: Profile, recipe: ProbeRecipe) -> list[str]:
    """The model's greedy answer to each POPE question, asked about its image with the recipe's question."""
    asked = pd.DataFrame({"image_index": [i for i, _, _ in questions],
                          "question": [pope_question(name, recipe.question) for _, name, _ in questions]})
    return vlm_answers(vlm, probe.images, asked, preprocess, profile, recipe.max_new_tokens)


def answers_from_captions(captions: Sequence[str], questions: Sequence[Question],
                          mentions: Callable[[str], list[str]]) -> list[str]:
    """Describe, then answer: "yes" if the image's caption names the object, else "no"."""
    named = [mentions(caption) for caption in captions]
    return ["yes" if name in named[i] else "no" for i, name, _ in questions]


def absent_co_occurrence(probe: Probe) -> dict[tuple[int, str], float]:
    """{(image index, absent object): its highest co-occurrence with an object of the image}, P(absent | present)
    counted over the statistics: how tempting the object is to a model that leans on co-occurrence."""
    together = conditional_presence((objects, 1.0) for objects in probe.statistics)
    return {(i, b): co_occurrence_score(present, b, together)
            for i, present in enumerate(probe.objects) for b in probe.vocabulary if b not in present}


def hallucination_by_co_occurrence(captions: Sequence[str], probe: Probe,
                                   mentions: Callable[[str], list[str]]) -> pd.DataFrame:
    """One row per (image, absent object): its `absent_co_occurrence` and whether the caption names it anyway."""
    named = [mentions(caption) for caption in captions]
    return pd.DataFrame([{"image": i, "object": b, "co-occurrence": score, "hallucinated": b in named[i]}
                         for (i, b), score in absent_co_occurrence(probe).items()])


def check_pope_sampler(sampler: Callable) -> None:
    """Check a student's `sampler(objects, setting, per_image, seed, statistics)` against POPE's rules and the
    course's `pope_questions` (random negatives: uniform over the absent objects, not a fixed choice)."""
    rng = random.Random(0)
    vocabulary = [f"object{k}" for k in range(8)]
    statistics = [frozenset(rng.sample(vocabulary, rng.randint(1, 4))) for _ in range(60)]
    objects = statistics[:20] + [frozenset(), frozenset(vocabulary[:7])]
    per = lambda qs, label: sorted((i, o) for i, o, a in qs if a == label)  # noqa: E731
    for per_image in (1, 3):
        positives = []
        for setting in ("random", "popular", "adversarial"):
            got = [tuple(q) for q in sampler(objects, setting, per_image, 0, statistics)]
            expected = pope_questions(objects, setting, per_image, 0, statistics)
            if len(got) != len(expected) or [i for i, _, _ in got].count(21) != 2:
                raise AssertionError(f"{setting}, per_image={per_image}: {len(got)} questions, expected "
                                     f"{len(expected)}: min(per_image, present, absent) of each kind per image, so "
                                     "none for an image without objects and one pair for an image lacking one object.")
            if any((o in objects[i]) != (a == "yes") for i, o, a in got):
                raise AssertionError(f"{setting}: a 'yes' question about an absent object or a 'no' about a present one.")
            if len(set(got)) != len(got):
                raise AssertionError(f"{setting}: the same question twice; sample without replacement.")
            if setting != "random" and per(got, "no") != per(expected, "no"):
                raise AssertionError(f"{setting}: the negatives differ from POPE's: take the "
                                     f"{'most frequent' if setting == 'popular' else 'most co-occurring'} absent "
                                     "objects first, ties by name, counted over `statistics`.")
            positives.append(per(got, "yes"))
        if positives[0] != positives[1] or positives[0] != positives[2]:
            raise AssertionError("the three settings asked about different present objects for the same seed; draw "
                                 "every image's present objects first, so that the settings differ in negatives only.")
    draws = [o for seed in range(200) for _, o, a in sampler([frozenset({"object0"})], "random", 1, seed, statistics)
             if a == "no"]
    counts = pd.Series(draws).value_counts()
    if len(counts) != 7 or counts.min() < 10:
        raise AssertionError(f"random negatives over 200 seeds: {dict(counts)}; draw uniformly from all 7 absent "
                             "objects with the seed's random generator.")
