"""Lab 10's data contract (objects.parquet) and probe: errors that name the fix, the COCO conversion, the probed
split, answers read off captions, co-occurrence, and the check of a student's POPE sampler."""
import io

import pandas as pd
import pytest
from PIL import Image

from utils.data.objects import ObjectsError, load_objects, objects_from_coco, save_objects
from utils.metrics.hallucination import mentioned_objects, pope_questions
from utils.recipes import hallucination


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format="PNG")
    return buf.getvalue()


def test_bad_objects_tables_name_the_problem(tmp_path):
    with pytest.raises(ObjectsError, match=r"missing column\(s\) \['objects'\]"):
        save_objects(pd.DataFrame({"image": [png()]}), tmp_path / "a.parquet")
    with pytest.raises(ObjectsError, match="row 1, column 'objects'.*list of object names"):
        save_objects(pd.DataFrame({"image": [png(), png()], "objects": [["dog"], "dog, cat"]}), tmp_path / "b.parquet")
    with pytest.raises(ObjectsError, match="row 0, column 'image'"):
        save_objects(pd.DataFrame({"image": [b"not an image"], "objects": [["dog"]]}), tmp_path / "c.parquet")
    with pytest.raises(ObjectsError, match="does not exist"):
        load_objects(tmp_path / "missing.parquet")


def test_objects_round_trip_and_the_probe_takes_test_images(tmp_path):
    path = save_objects(pd.DataFrame({"image": [png()] * 3, "objects": [["dog", "cat"], [], ["cat"]],
                                      "split": ["train", "test", "test"]}), tmp_path / "objects.parquet")
    probe = hallucination.probe_set(path, hallucination.RECIPES["offline"])
    assert probe.objects == [frozenset(), frozenset({"cat"})]
    assert probe.statistics == [frozenset({"dog", "cat"}), frozenset(), frozenset({"cat"})]
    assert probe.vocabulary == ["cat", "dog"]
    save_objects(pd.DataFrame({"image": [png()], "objects": [["dog"]], "split": ["train"]}), path)
    with pytest.raises(ValueError, match="no 'test' images"):
        hallucination.probe_set(path, hallucination.RECIPES["offline"])
    save_objects(pd.DataFrame({"image": [png()] * 2, "objects": [["dog"], ["dog"]]}), path)
    with pytest.raises(ValueError, match="at least two kinds of object"):
        hallucination.probe_set(path, hallucination.RECIPES["offline"])


def test_coco_rows_become_distinct_category_names():
    table = pd.DataFrame({"image": [{"bytes": png(), "path": "1.jpg"}],
                          "objects": [{"category": [0, 0, 16, 79], "bbox": [[0, 0, 1, 1]] * 4}]})
    assert objects_from_coco(table)["objects"][0] == ["dog", "person", "toothbrush"]


def test_answers_from_captions_and_co_occurrence():
    questions = [(0, "circle", "yes"), (0, "star", "no"), (1, "star", "yes")]
    assert hallucination.answers_from_captions(["a circle and a star", "two shapes"], questions,
                                               mentioned_objects) == ["yes", "yes", "no"]
    # "b" comes with "a" in 2 of the 3 images that have an "a"; "c" never does
    probe = hallucination.Probe(images=None, objects=[frozenset({"a"})],
                                statistics=[frozenset({"a", "b"})] * 2 + [frozenset({"a"}), frozenset({"c"})])
    assert hallucination.absent_co_occurrence(probe) == {(0, "b"): pytest.approx(2 / 3), (0, "c"): 0.0}


def wrong_samplers():
    def positives_vary_with_the_setting(objects, setting, per_image, seed, statistics):
        return pope_questions(objects, setting, per_image, seed + (setting == "random"), statistics)

    def popular_at_random(objects, setting, per_image, seed, statistics):
        return pope_questions(objects, "random" if setting == "popular" else setting, per_image, seed, statistics)

    def adversarial_by_popularity(objects, setting, per_image, seed, statistics):
        return pope_questions(objects, "popular" if setting == "adversarial" else setting, per_image, seed, statistics)

    def seed_ignored(objects, setting, per_image, seed, statistics):
        return pope_questions(objects, setting, per_image, 0, statistics)

    def no_negatives(objects, setting, per_image, seed, statistics):
        return [q for q in pope_questions(objects, setting, per_image, seed, statistics) if q[2] == "yes"]

    def statistics_ignored(objects, setting, per_image, seed, statistics):
        return pope_questions(objects, setting, per_image, seed)

    return [positives_vary_with_the_setting, popular_at_random, adversarial_by_popularity, seed_ignored,
            no_negatives, statistics_ignored]


def test_the_sampler_check_passes_the_reference_and_catches_wrong_samplers():
    hallucination.check_pope_sampler(pope_questions)
    for wrong in wrong_samplers():
        with pytest.raises(AssertionError):
            hallucination.check_pope_sampler(wrong)
