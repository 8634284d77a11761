"""CHAIR and POPE, against hand-worked cases and the world's exact co-occurrence."""
from collections import Counter

import pytest

from utils.data.scene_graph import CO_OCCURRENCE
from utils.data.scene_world import generate_scenes
from utils.metrics.hallucination import (
    chair,
    mentioned_objects,
    mentioned_words,
    pope_answer,
    pope_question,
    pope_questions,
    pope_scores,
)

PRESENT = {"circle", "square"}


def test_chair_counts_mentions_and_captions():
    captions = ["a red circle and a blue square",  # 2 mentions, none hallucinated
                "a red circle left of a star",  # 2 mentions, the star hallucinated
                "two shapes"]  # no object mentioned
    assert mentioned_objects(captions[1]) == ["circle", "star"]
    assert chair(captions, [PRESENT] * 3) == {"CHAIR_i": pytest.approx(1 / 4), "CHAIR_s": pytest.approx(1 / 3)}
    assert chair(["two shapes"], [PRESENT])["CHAIR_s"] == 0.0
    with pytest.raises(ValueError, match="one caption per image"):
        chair(captions, [PRESENT])


def test_chair_counts_every_mention_as_the_reference_does():
    # one word, one mention: "two circles" is one, the same shape named twice is two
    assert mentioned_objects("two circles") == ["circle"]
    assert mentioned_objects("a red circle left of a blue circle.") == ["circle", "circle"]
    # mentions [star, star, circle] in an image with {circle, square}: 2 of 3 hallucinated, not 1 of 2
    assert chair(["a star above a star, and a circle"], [PRESENT])["CHAIR_i"] == pytest.approx(2 / 3)
    # mentions [dog, dog, cat] in an image with {dog}: 1/3
    assert chair(["a dog, a dog and a cat"], [{"dog"}], lambda c: mentioned_words(c, ["dog", "cat"])) == {
        "CHAIR_i": pytest.approx(1 / 3), "CHAIR_s": 1.0}


def test_words_are_found_whole_singular_or_plural():
    vocabulary = ["dog", "hot dog", "bus", "cat", "person"]
    assert mentioned_words("Two dogs chase a bus past a hot dog stand", vocabulary) == ["dog", "bus", "hot dog"]
    assert mentioned_words("a catalogue on the buses", vocabulary) == ["bus"]  # "cat" is not in "catalogue"
    assert chair(["Two dogs and a cat"], [{"dog"}], lambda c: mentioned_words(c, vocabulary)) == {
        "CHAIR_i": 0.5, "CHAIR_s": 1.0}


def test_pope_questions_are_balanced_and_sampled_by_setting():
    objects = [scene.shapes for scene in generate_scenes(300, seed=5)]
    for setting in ("random", "popular", "adversarial"):
        qs = pope_questions(objects, setting, seed=1)
        assert sum(a == "yes" for _, _, a in qs) == sum(a == "no" for _, _, a in qs)
        assert all((shape in objects[i]) == (answer == "yes") for i, shape, answer in qs)

    def mean_co_occurrence(setting):
        qs = [(i, s) for i, s, a in pope_questions(objects, setting, seed=1) if a == "no"]
        return sum(max(CO_OCCURRENCE[p][s] for p in objects[i]) for i, s in qs) / len(qs)

    assert mean_co_occurrence("adversarial") > mean_co_occurrence("random") + 0.04  # 0.38 against 0.32
    counts = Counter(s for present in objects for s in present)
    chosen = {}
    for i, shape, answer in pope_questions(objects, "popular", seed=1):
        if answer == "no":
            chosen.setdefault(i, set()).add(shape)
    for i, negatives in chosen.items():  # no absent shape left out is more common than a chosen one
        left_out = set(counts) - objects[i] - negatives
        assert all(counts[s] <= min(counts[n] for n in negatives) for s in left_out)
    with pytest.raises(ValueError, match="unknown POPE setting"):
        pope_questions(objects, "hard")
    with pytest.raises(ValueError, match="at least one present object"):
        pope_questions(objects, "random", per_image=0)


def test_pope_counts_statistics_over_the_collection_it_is_given():
    # in the collection, "b" always comes with "a", and "c" is the most frequent object
    statistics = [{"a", "b"}] * 3 + [{"c"}] * 5 + [{"c", "d"}]
    probe = [{"a"}]
    assert pope_questions(probe, "adversarial", 1, statistics=statistics) == [(0, "a", "yes"), (0, "b", "no")]
    assert pope_questions(probe, "popular", 1, statistics=statistics) == [(0, "a", "yes"), (0, "c", "no")]
    assert pope_questions([set(), {"a", "b", "c", "d"}], "random", statistics=statistics) == []  # nothing to pair


def test_pope_parsing_reads_the_first_sentence():
    assert pope_answer("Yes, there is a star.") == "yes"
    assert pope_answer("No, there is not.") == "no"
    assert pope_answer("There is not a star in the image") == "no"
    assert pope_answer("Yes. No star though") == "yes"  # only the first sentence counts
    assert pope_answer("nope") == "yes"  # only "no", "No" and "not" mean no
    assert pope_question("apple") == "is there an apple in the image?"


def test_pope_scores_by_hand():
    scores = pope_scores(["yes", "yes", "no", "yes"], ["yes", "no", "no", "yes"])
    assert scores == pytest.approx({"accuracy": 0.75, "precision": 2 / 3, "recall": 1.0, "F1": 0.8,
                                    "yes-ratio": 0.75, "false-positive rate": 0.5})
    assert pope_scores(["no", "no"], ["yes", "no"])["F1"] == 0.0
