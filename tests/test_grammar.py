import random
import string

import pytest

from utils.data.grammar import (
    CORRUPTIONS,
    GENERIC_NOUN,
    NUMBER_WORDS,
    corrupt,
    corruptions_for,
    describe,
    parse,
    scene_facts,
)
from utils.data.scene_graph import COLORS, SHAPES, SIZES, STYLES, Scene, SceneObject, absent_by_co_occurrence
from utils.data.scene_world import generate_scenes

# two small striped red circles, left of and above one large solid blue square
CIRCLES_AND_SQUARE = Scene([SceneObject("circle", "red", "small", "striped", 0.2, 0.2),
                            SceneObject("circle", "red", "small", "striped", 0.45, 0.35),
                            SceneObject("square", "blue", "large", "solid", 0.75, 0.75)])
CIRCLES = {("circle",), ("circle", "two")}
SQUARE = {("square",)}


def test_each_template_on_a_scene_described_by_hand():
    expected = [
        ("three shapes, from left to right: two small striped red circles and one large solid blue square; "
         "from top to bottom: the circles and the square",
         CIRCLES | SQUARE | {(GENERIC_NOUN, "three"), ("circle", "small"), ("circle", "striped"), ("circle", "red"),
                             ("square", "one"), ("square", "large"), ("square", "solid"), ("square", "blue"),
                             ("circle", "left of", "square"), ("circle", "above", "square")}),
        ("two red circles and one blue square",
         CIRCLES | SQUARE | {("circle", "red"), ("square", "one"), ("square", "blue")}),
        ("there are three shapes: two circles and a square", CIRCLES | SQUARE | {(GENERIC_NOUN, "three")}),
        ("the circles are small, striped and red; the square is large, solid and blue",
         {("circle",), ("circle", "small"), ("circle", "striped"), ("circle", "red")} | SQUARE
         | {("square", "large"), ("square", "solid"), ("square", "blue")}),
        ("two small red circles to the left of a large blue square",
         CIRCLES | SQUARE | {("circle", "small"), ("circle", "red"), ("square", "large"), ("square", "blue"),
                             ("circle", "left of", "square")}),
        ("two striped red circles above a solid blue square",
         CIRCLES | SQUARE | {("circle", "striped"), ("circle", "red"), ("square", "solid"), ("square", "blue"),
                             ("circle", "above", "square")}),
    ]
    assert describe(CIRCLES_AND_SQUARE) == [caption for caption, _ in expected]
    for caption, facts in expected:
        assert parse(caption) == facts, caption


@pytest.mark.parametrize("caption, facts", [
    ("an orange cross", {("cross",), ("cross", "orange")}),
    ("three small crosses", {("cross",), ("cross", "three"), ("cross", "small")}),
    ("One Circle.", {("circle",), ("circle", "one")}),
    ("a square to the right of a circle", {("square",), ("circle",), ("circle", "left of", "square")}),
    ("a circle below a square", {("circle",), ("square",), ("square", "above", "circle")}),
    ("from right to left: the square, the circle and the star",
     {("square",), ("circle",), ("star",), ("circle", "left of", "square"), ("star", "left of", "square"),
      ("star", "left of", "circle")}),
    ("from bottom to top: the star and the cross", {("star",), ("cross",), ("cross", "above", "star")}),
    ("the circle is red and the green square is large",
     {("circle",), ("circle", "red"), ("square",), ("square", "green"), ("square", "large")}),
    ("there are five shapes", {(GENERIC_NOUN, "five")}),
    ("a red shape", set()),
    ("red red red circle circle circles", {("circle",), ("circle", "red")}),
    ("a red circle to the left of", {("circle",), ("circle", "red")}),  # truncated: no object, no relation
    ("two circles to the left of two circles", {("circle",), ("circle", "two")}),
    ("a fluffy purple giraffe diamond", {("diamond",), ("diamond", "purple")}),  # unknown words are skipped
])
def test_parse_by_hand(caption, facts):
    assert parse(caption) == facts


def test_describe_round_trips_on_thousands_of_scenes():
    rng = random.Random(0)
    for scene in generate_scenes(3000, seed=11):
        true = scene_facts(scene)
        captions = describe(scene, rng)
        assert parse(captions[0]) == true, captions[0]  # the complete caption states every fact, and only those
        for caption in captions[1:]:
            assert parse(caption) <= true, (caption, parse(caption) - true)
        assert describe(scene) == describe(scene)


def test_describe_gives_several_distinct_paraphrases():
    for scene in generate_scenes(200, seed=12):
        captions = describe(scene, random.Random(0))
        assert len(captions) == len(set(captions)) == (4 if len(scene.shapes) == 1 else 6)
        assert all(c == c.lower() for c in captions)


def test_truncated_true_captions_state_nothing_false():
    for scene in generate_scenes(30, seed=13):
        true = scene_facts(scene)
        for caption in describe(scene, random.Random(1)):
            for end in range(len(caption)):
                assert parse(caption[:end]) <= true, caption[:end]


def test_repeated_phrases_state_the_same_facts():
    for caption in describe(CIRCLES_AND_SQUARE):
        assert parse(f"{caption} {caption}, {caption}") == parse(caption)


def test_parser_survives_garbage():
    rng = random.Random(0)
    lexicon = [*SHAPES, *COLORS, *SIZES, *STYLES, *NUMBER_WORDS, "circles", "crosses", "shapes", "a", "an", "the", "is",
               "are", "left", "right", "of", "above", "below", "from", "to", "top", "bottom", "and", ",", ";", ":", "."]
    known = {*SHAPES, GENERIC_NOUN}
    words = {*COLORS, *SIZES, *STYLES, *NUMBER_WORDS}
    texts = ["", " ", "...", ";;;", "of of of", "from left to", "42 circles", "ÇIRCLE ☃ 円", "\x00\n\t"]
    texts += ["".join(rng.choice(string.printable + "éß☃") for _ in range(rng.randrange(80))) for _ in range(300)]
    texts += [" ".join(rng.choice(lexicon) for _ in range(rng.randrange(40))) for _ in range(1000)]
    for text in texts:
        for fact in parse(text):
            assert fact[0] in known and all(isinstance(w, str) for w in fact), (text, fact)
            assert (len(fact) == 1 or len(fact) == 2 and fact[1] in words
                    or len(fact) == 3 and fact[1] in ("left of", "above") and fact[2] in SHAPES), (text, fact)
    with pytest.raises(TypeError, match="caption string"):
        parse(None)


def test_each_corruption_breaks_exactly_one_fact_of_its_kind():
    rng = random.Random(0)
    seen = set()
    for scene in generate_scenes(800, seed=14):
        true = scene_facts(scene)
        for kind in corruptions_for(scene):
            caption = corrupt(scene, kind, rng)
            false = parse(caption) - true
            assert len(false) == 1, (kind, caption, false)
            (fact,) = false
            shape_present = fact[0] in scene.shapes
            assert {"color": len(fact) == 2 and fact[1] in COLORS and shape_present,
                    "count": len(fact) == 2 and fact[1] in NUMBER_WORDS and shape_present,
                    "relation": len(fact) == 3 and shape_present and fact[2] in scene.shapes,
                    "object_added": fact == (absent_by_co_occurrence(scene)[0],)}[kind], (kind, caption)
            seen.add(kind)
    assert seen == set(CORRUPTIONS)


def test_corrupt_rejects_unknown_or_impossible_kinds():
    with pytest.raises(ValueError, match="color.*count.*relation.*object_added"):
        corrupt(CIRCLES_AND_SQUARE, "colour", random.Random(0))
    only_circles = Scene([SceneObject("circle", "red", "small", "solid", 0.3, 0.3)])
    assert "relation" not in corruptions_for(only_circles)
    with pytest.raises(ValueError, match="no relation"):
        corrupt(only_circles, "relation", random.Random(0))
