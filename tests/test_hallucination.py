"""CHAIR and POPE on the world, against hand-worked cases."""
from collections import Counter

import pytest

from utils.data.scene_graph import CO_OCCURRENCE, Scene, SceneObject
from utils.data.scene_world import generate_scenes
from utils.metrics.hallucination import chair, mentioned_objects, pope_answer, pope_questions, pope_scores

SCENE = Scene([SceneObject("circle", "red", "small", "solid", 0.2, 0.2),
               SceneObject("square", "blue", "small", "solid", 0.7, 0.7)])


def test_chair_counts_mentions_and_captions():
    captions = ["a red circle and a blue square",  # 2 mentions, none hallucinated
                "a red circle left of a star",  # 2 mentions, the star hallucinated
                "two shapes"]  # no object mentioned
    assert mentioned_objects(captions[1]) == {"circle", "star"}
    assert chair(captions, [SCENE] * 3) == {"CHAIR_i": pytest.approx(1 / 4), "CHAIR_s": pytest.approx(1 / 3)}
    with pytest.raises(ValueError, match="one caption per scene"):
        chair(captions, [SCENE])


def test_pope_questions_are_balanced_and_sampled_by_setting():
    scenes = generate_scenes(300, seed=5)
    for setting in ("random", "popular", "adversarial"):
        qs = pope_questions(scenes, setting, seed=1)
        assert sum(a == "yes" for _, _, a in qs) == sum(a == "no" for _, _, a in qs)
        for i, question, answer in qs:
            shape = question.split()[-4]
            assert (shape in scenes[i].shapes) == (answer == "yes")

    def mean_co_occurrence(setting):
        qs = [(i, q.split()[-4]) for i, q, a in pope_questions(scenes, setting, seed=1) if a == "no"]
        return sum(max(CO_OCCURRENCE[p][s] for p in scenes[i].shapes) for i, s in qs) / len(qs)

    assert mean_co_occurrence("adversarial") > mean_co_occurrence("random") + 0.04  # 0.38 against 0.32
    counts = Counter(s for scene in scenes for s in scene.shapes)
    chosen = {}
    for i, question, answer in pope_questions(scenes, "popular", seed=1):
        if answer == "no":
            chosen.setdefault(i, set()).add(question.split()[-4])
    for i, negatives in chosen.items():  # no absent shape left out is more common than a chosen one
        left_out = set(counts) - scenes[i].shapes - negatives
        assert all(counts[s] <= min(counts[n] for n in negatives) for s in left_out)
    with pytest.raises(ValueError, match="unknown POPE setting"):
        pope_questions(scenes, "hard")


def test_pope_parsing_reads_the_first_sentence():
    assert pope_answer("Yes, there is a star.") == "yes"
    assert pope_answer("No, there is not.") == "no"
    assert pope_answer("There is not a star in the image") == "no"
    assert pope_answer("Yes. No star though") == "yes"  # only the first sentence counts
    assert pope_answer("nope") == "yes"  # only "no", "No" and "not" mean no


def test_pope_scores_by_hand():
    scores = pope_scores(["yes", "yes", "no", "yes"], ["yes", "no", "no", "yes"])
    assert scores == pytest.approx({"accuracy": 0.75, "precision": 2 / 3, "recall": 1.0, "F1": 0.8,
                                    "yes-ratio": 0.75})
    assert pope_scores(["no", "no"], ["yes", "no"])["F1"] == 0.0
