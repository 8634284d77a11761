"""The VQA data: world questions are exact, annotators vary as people do, the splits are skewed and balanced."""
import random
from collections import Counter

import pandas as pd
import pytest

from utils.data.answers import normalize_answer
from utils.data.scene_world import generate_scenes, render
from utils.data.vqa import (
    ANSWER_TYPES,
    VQAError,
    annotate,
    complementary_pairs,
    favourite_answers,
    load_vqa,
    majority_answer,
    release,
    save_vqa,
    skewed,
    world_questions,
    world_vqa,
)
from utils.data.world import png_bytes
from utils.metrics.vqa import vqa_accuracy

SCENES = generate_scenes(60, seed=3)


def test_world_answers_are_true_of_the_scene():
    for scene in SCENES:
        for question, answer, kind in world_questions(scene):
            words = question.rstrip("?").split()
            if kind == "existence":
                assert (answer == "yes") == (words[-1] in scene.shapes)
            elif kind == "count":
                shape = next(s for s in scene.shapes if f" {s}" in question)
                assert answer == ["one", "two", "three", "four", "five"][sum(o.shape == shape for o in scene.objects) - 1]
            elif kind == "color":
                assert any(g.color == answer and g.shape in question for g in scene.groups())
            elif kind == "shape":
                assert [g.shape for g in scene.groups() if g.color == words[-1]] == [answer]
            else:
                relation = next(r for r in ("left of", "right of", "above", "below") if f" {r} " in question)
                a, b = [s for _, s in sorted((question.index(s), s) for s in scene.shapes if s in question)]
                assert (answer == "yes") == scene.holds(a, relation, b)


def test_annotators_vary_but_mostly_agree_after_release():
    rng = random.Random(0)
    raw = [annotate("three", "count", rng) for _ in range(200)]
    forms = Counter(a for answers in raw for a in answers)
    assert forms["3"] > 300 and forms["three"] > 300 and forms["three."] + forms["3."] > 50
    released = [release(answers) for answers in raw]
    assert Counter(a for answers in released for a in answers)["3"] > 0.9 * 2000
    # the exact answer scores full marks against almost every released set
    # the exact answer, written as the data set writes answers, scores full marks almost always
    assert sum(vqa_accuracy(normalize_answer("three"), answers) for answers in released) / 200 > 0.97
    shapes = Counter(a for _ in range(100) for a in annotate("star", "shape", rng))
    assert shapes["a star"] + shapes["the star"] > 200  # articles, which release() drops


def test_world_vqa_rows_and_splits():
    images = [png_bytes(render(s, 32)) for s in SCENES[:20]]
    splits = ["train"] * 15 + ["test"] * 5
    table = world_vqa(SCENES[:20], images, splits, seed=1)
    train, test = table[table.split == "train"], table[table.split == "test"]
    assert train.groupby("image_id")["question_type"].agg(lambda t: t.is_unique).all()  # one per type
    assert len(test) == sum(len(world_questions(s)) for s in SCENES[15:20])  # every question
    assert all(len(a) == 10 for a in table["answers"])
    assert (table["answer_type"] == table["question_type"].map(ANSWER_TYPES)).all()


def _table(answers_by_question):
    rows = [{"question": q, "answer": a} for q, answers in answers_by_question.items() for a in answers]
    return pd.DataFrame(rows)


def test_skewed_keeps_favourites_and_thins_the_rest():
    table = _table({"q1": ["yes"] * 600 + ["no"] * 400, "q2": ["red"] * 100 + ["blue"] * 500})
    favourites = favourite_answers(table, "question")
    assert favourites == {"q1": "yes", "q2": "blue"}
    out = skewed(table, favourites, "question", keep_other=0.25, seed=0)
    counts = Counter(zip(out["question"], out["answer"]))
    assert counts["q1", "yes"] == 600 and counts["q2", "blue"] == 500
    assert 70 < counts["q1", "no"] < 130 and 10 < counts["q2", "red"] < 40


def test_complementary_pairs_defeat_a_blind_answer():
    table = _table({"q1": ["yes"] * 7 + ["no"] * 3, "q2": ["red", "red", "blue", "green"], "q3": ["one"] * 4})
    pairs = complementary_pairs(table)
    assert Counter(pairs["question"]) == {"q1": 6, "q2": 4}  # q3 has a single answer: no pair
    for _, pair in pairs.groupby("pair"):
        assert len(pair) == 2 and pair["question"].nunique() == 1 and pair["answer"].nunique() == 2
    # whatever one fixed answer per question a blind model gives, it gets at most half right
    for question, rows in pairs.groupby("question"):
        assert max(Counter(rows["answer"]).values()) <= len(rows) / 2


def test_majority_answer_ties_go_to_the_first():
    assert majority_answer(["2", "3", "3", "2"]) == "2"


def test_load_vqa_errors_name_the_problem(tmp_path):
    good = world_vqa(SCENES[:2], [png_bytes(render(s, 32)) for s in SCENES[:2]], ["train", "test"])
    path = save_vqa(good, tmp_path / "vqa.parquet")
    assert load_vqa(path)["answers"].map(type).eq(list).all()
    with pytest.raises(VQAError, match=r"missing column\(s\) \['answers'\]"):
        save_vqa(good.drop(columns="answers"), tmp_path / "bad.parquet")
    with pytest.raises(VQAError, match="row 1, column 'answers'"):
        save_vqa(good.assign(answers=[["yes"]] + [[]] * (len(good) - 1)), tmp_path / "bad.parquet")
    with pytest.raises(VQAError, match="answer_type"):
        save_vqa(good.assign(answer_type="maybe"), tmp_path / "bad.parquet")
    with pytest.raises(VQAError, match="row 0, column .image. is not a readable image"):
        save_vqa(good.assign(image=b"not a png"), tmp_path / "bad.parquet")
    with pytest.raises(VQAError, match="does not exist"):
        load_vqa(tmp_path / "missing.parquet")
