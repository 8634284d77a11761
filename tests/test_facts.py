import random

import pytest

from utils.data.grammar import corrupt, corruptions_for, describe, parse, scene_facts
from utils.data.scene_graph import Scene, SceneObject
from utils.data.scene_world import generate_scenes
from utils.metrics.facts import factual_precision_recall, is_true

# one medium outlined green star (left, bottom) and one small solid yellow triangle (right, top)
STAR_AND_TRIANGLE = Scene([SceneObject("star", "green", "medium", "outlined", 0.3, 0.7),
                           SceneObject("triangle", "yellow", "small", "solid", 0.7, 0.3)])
FACTS = {("shape", "two"),
         ("star",), ("star", "one"), ("star", "green"), ("star", "medium"), ("star", "outlined"),
         ("triangle",), ("triangle", "one"), ("triangle", "yellow"), ("triangle", "small"), ("triangle", "solid"),
         ("star", "left of", "triangle"), ("triangle", "above", "star")}


def test_scene_facts_by_hand():
    assert scene_facts(STAR_AND_TRIANGLE) == FACTS


@pytest.mark.parametrize("fact, truth", [
    (("star",), True), (("circle",), False), (("star", "green"), True), (("star", "yellow"), False),
    (("triangle", "one"), True), (("triangle", "two"), False), (("shape", "two"), True), (("shape", "one"), False),
    (("star", "left of", "triangle"), True), (("triangle", "right of", "star"), True),
    (("triangle", "left of", "star"), False), (("star", "below", "triangle"), True),
    (("star", "above", "triangle"), False), (("circle", "left of", "star"), False), (("star", "bigger"), False),
])
def test_is_true(fact, truth):
    assert is_true(fact, STAR_AND_TRIANGLE) is truth


@pytest.mark.parametrize("caption, precision, recall", [
    # star, (star, green), triangle, (triangle, one), (triangle, yellow): 5 facts, all true, of 13
    ("a green star and one yellow triangle", 1.0, 5 / 13),
    # star, (star, red) false, triangle, (star, left of, triangle): 3 of 4 true
    ("a red star to the left of a triangle", 3 / 4, 3 / 13),
    # star, (star, two) false, circle false: 1 of 3
    ("two stars and a circle", 1 / 3, 1 / 13),
    ("", 1.0, 0.0),  # says nothing, so nothing false
    ("zebra!", 1.0, 0.0),
])
def test_factual_precision_recall_by_hand(caption, precision, recall):
    assert factual_precision_recall(caption, STAR_AND_TRIANGLE) == pytest.approx((precision, recall))


def test_true_captions_have_precision_one_and_the_complete_one_recall_one():
    rng = random.Random(0)
    for scene in generate_scenes(500, seed=21):
        captions = describe(scene, rng)
        assert factual_precision_recall(captions[0], scene) == (1.0, 1.0)
        for caption in captions[1:]:
            precision, recall = factual_precision_recall(caption, scene)
            assert precision == 1.0 and recall < 1.0, caption


def test_a_corrupted_caption_loses_exactly_one_fact_of_precision():
    rng = random.Random(1)
    for scene in generate_scenes(300, seed=22):
        for kind in corruptions_for(scene):
            caption = corrupt(scene, kind, rng)
            precision, _ = factual_precision_recall(caption, scene)
            stated = len(parse(caption))
            assert precision == pytest.approx((stated - 1) / stated), (kind, caption)
