import pytest

from utils.recipes.failures import categorise, confusion_kind, tally, words

VOCAB = {"a", "small", "teal", "star", "navy", "cross"}


@pytest.mark.parametrize("query,top_captions,look_alike,kind", [
    ("a small teal star", ["a navy cross", "a small teal star"], 0.1, "ambiguous caption"),
    ("a small teal star", ["a navy cross"], 0.1, "miss"),
    ("a small coral star", ["a navy cross"], 0.99, "out-of-distribution"),
    ("a small teal star", ["a navy cross"], 0.9, "visually similar"),
    ("a small teal star", ["a navy cross"], 0.8, "visually similar"),  # at the threshold counts as similar
    ("a small coral star", ["a small coral star"], 0.99, "ambiguous caption"),  # the first kind that fits wins
    ("A small teal Star.", ["a navy cross"], 0.1, "miss"),  # case and punctuation are not new words
])
def test_categorise_each_kind_in_order(query, top_captions, look_alike, kind):
    assert categorise(query, top_captions, VOCAB, look_alike, threshold=0.8) == kind


def test_words_lowercase_and_drop_punctuation():
    assert words("A teal star, left of a NAVY cross.") == ["a", "teal", "star", "left", "of", "a", "navy", "cross"]


def scene(*objects, background="plain"):
    return {"background": background, "objects": [{"shape": s, "color": c} for c, s in objects]}


@pytest.mark.parametrize("wanted,got,kind", [
    (scene(("teal", "star")), scene(("teal", "cross")), "wrong shape"),
    (scene(("teal", "star")), scene(("navy", "star")), "wrong colour"),
    (scene(("teal", "star")), scene(("navy", "cross")), "wrong colour and shape"),
    (scene(("teal", "star")), scene(("teal", "star"), background="sand"), "same colours and shapes"),
    # colours bound to the other shapes: both sets agree, so the error is the binding
    (scene(("teal", "star"), ("navy", "cross")), scene(("navy", "star"), ("teal", "cross")), "same colours and shapes"),
    (scene(*[("teal", "star")] * 3), scene(*[("teal", "star")] * 2), "same colours and shapes"),  # a count
    (scene(("teal", "star"), ("navy", "cross")), scene(("teal", "star")), "wrong colour and shape"),
])
def test_confusion_kind(wanted, got, kind):
    assert confusion_kind(wanted, got) == kind


def test_tally_keeps_order_and_zeros():
    assert tally(["b", "a", "b"], ("a", "b", "c")) == {"a": 1, "b": 2, "c": 0}
