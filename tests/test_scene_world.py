import io
import itertools
import json
import random

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import utils.cache
from utils.data import validate_pairs
from utils.data.grammar import NUMBER_WORDS, describe
from utils.data.scene_graph import MIN_GAP, SPACING, shape_set_probabilities
from utils.data.scene_world import (
    BACKGROUND,
    CO_OCCURRENCE,
    COLORS,
    SCENE_WORLD_VERSION,
    SHAPES,
    SIZES,
    STYLES,
    Scene,
    SceneObject,
    absent_by_co_occurrence,
    co_occurrence,
    generate_scenes,
    questions,
    render,
    scene_pairs,
    scene_pairs_file,
    world_text,
)


def object_pixels(o: SceneObject, size: int) -> np.ndarray:
    """Boolean mask of the pixels `o` covers when drawn alone."""
    return (np.asarray(render(Scene([o]), size)) != BACKGROUND).any(axis=-1)


def test_same_seed_same_scenes_and_pixels():
    a, b = generate_scenes(100, seed=3), generate_scenes(100, seed=3)
    assert [s.to_json() for s in a] == [s.to_json() for s in b]
    assert all(render(x).tobytes() == render(y).tobytes() for x, y in zip(a[:30], b[:30]))
    assert [s.to_json() for s in generate_scenes(100, seed=4)] != [s.to_json() for s in a]


def test_scenes_keep_the_world_rules():
    scenes = generate_scenes(1000, seed=1)
    assert {len(s.objects) for s in scenes} == {1, 2, 3, 4, 5}
    assert {o.style for s in scenes for o in s.objects} == set(STYLES)
    assert {o.size for s in scenes for o in s.objects} == set(SIZES)
    for scene in scenes:
        for a, b in itertools.combinations(scene.objects, 2):
            assert abs(a.x - b.x) >= MIN_GAP - 1e-9 and abs(a.y - b.y) >= MIN_GAP - 1e-9  # no near-tie relation
            ax0, ay0, ax1, ay1 = a.box
            bx0, by0, bx1, by1 = b.box
            assert ax1 + SPACING <= bx0 + 1e-9 or bx1 + SPACING <= ax0 + 1e-9 or \
                ay1 + SPACING <= by0 + 1e-9 or by1 + SPACING <= ay0 + 1e-9  # boxes apart
            if a.shape == b.shape:
                assert (a.color, a.size, a.style) == (b.color, b.size, b.style)


def obj(shape: str, x: float, y: float, color: str = "red", size: str = "small") -> SceneObject:
    return SceneObject(shape, color, size, "solid", x, y)


@pytest.mark.parametrize("objects, problem", [
    ([obj("circle", 0.2, 0.2), obj("circle", 0.7, 0.7, color="blue")], "look different"),
    ([obj("circle", 0.2, 0.2), obj("square", 0.25, 0.7)], "closer than"),
    ([obj("circle", 0.3, 0.3, size="large"), obj("square", 0.5, 0.5, size="large")], "overlap"),
    ([obj("circle", 0.2, 0.2), obj("square", 0.5, 0.8), obj("circle", 0.8, 0.4)], "not next to each other along x"),
    ([obj("circle", 0.05, 0.5, size="large")], "sticks out"),
    ([obj("circle", 0.5, 0.5, color="pink")], "unknown attribute 'pink'"),
    ([], "0 objects"),
])
def test_scenes_that_break_a_rule_are_refused(objects, problem):
    with pytest.raises(ValueError, match=problem):
        Scene(objects)


@pytest.mark.parametrize("size", [64, 224, 97])
def test_each_box_holds_exactly_its_object_pixels(size):
    for scene in generate_scenes(40, seed=5):
        image = (np.asarray(render(scene, size)) != BACKGROUND).any(axis=-1)
        in_a_box = np.zeros_like(image)
        for o in scene.objects:
            rows, cols = np.nonzero(object_pixels(o, size))
            x0, y0, x1, y1 = (v * size for v in o.box)
            # pixel (i, j) covers [j, j+1) x [i, i+1): the drawn pixels fill the box to within one pixel
            assert abs(cols.min() - x0) <= 1 and abs(cols.max() + 1 - x1) <= 1, (o, size)
            assert abs(rows.min() - y0) <= 1 and abs(rows.max() + 1 - y1) <= 1, (o, size)
            in_a_box[max(0, int(y0) - 1):int(y1) + 2, max(0, int(x0) - 1):int(x1) + 2] = True
        assert not (image & ~in_a_box).any()  # no pixel outside every box


def test_pixels_show_the_colour_and_every_style_and_size_is_visible_at_64_px():
    for shape in SHAPES:
        drawn = {(size, style): object_pixels(SceneObject(shape, "blue", size, style, 0.5, 0.5), 64)
                 for size in SIZES for style in STYLES}
        for size in SIZES:
            solid, striped, outlined = (drawn[size, style].sum() for style in ("solid", "striped", "outlined"))
            assert solid - striped >= 0.1 * solid and striped - outlined >= 0.1 * solid, (shape, size)
        small, medium, large = (drawn[size, "solid"].sum() for size in ("small", "medium", "large"))
        assert small < medium < large
    scene = Scene([SceneObject("square", "orange", "large", "solid", 0.5, 0.5)])
    assert tuple(np.asarray(render(scene, 64))[32, 32]) == COLORS["orange"]


def test_co_occurrence_of_5000_scenes_matches_the_table():
    measured = co_occurrence(generate_scenes(5000, seed=0))
    for a in SHAPES:
        for b in SHAPES:
            if a != b:
                assert measured[a][b] == pytest.approx(CO_OCCURRENCE[a][b], abs=0.05), (a, b)
    assert CO_OCCURRENCE["circle"]["square"] > 2 * CO_OCCURRENCE["circle"]["cross"]


def test_co_occurrence_table_by_hand_for_two_shapes():
    # circle anchors: square joins with 0.6; square anchors: circle joins with 0.5; each anchor with chance 1/2
    sets = shape_set_probabilities(("circle", "square"))
    assert sets == pytest.approx({("circle",): 0.2, ("square",): 0.25, ("circle", "square"): 0.55})
    measured = co_occurrence(generate_scenes(3000, seed=1, shapes=("circle", "square")))
    assert measured["circle"]["square"] == pytest.approx(0.55 / 0.75, abs=0.03)
    assert measured["square"]["circle"] == pytest.approx(0.55 / 0.80, abs=0.03)


def test_absent_objects_most_likely_to_be_imagined_come_first():
    scene = Scene([SceneObject("circle", "red", "small", "solid", 0.3, 0.3)])
    absent = absent_by_co_occurrence(scene)
    assert absent[0] == "square" and set(absent) == set(SHAPES) - {"circle"}


def test_scene_json_has_boxes_and_relations_and_round_trips():
    for scene in generate_scenes(200, seed=6):
        graph = json.loads(scene.to_json())
        assert Scene.from_json(scene.to_json()) == scene
        for o, row in zip(scene.objects, graph["objects"]):
            assert row["box"] == pytest.approx([o.x - SIZES[o.size], o.y - SIZES[o.size], o.x + SIZES[o.size],
                                                o.y + SIZES[o.size]])
        relations = {(r["subject"], r["relation"], r["object"]) for r in graph["relations"]}
        objects = scene.objects
        assert relations == {(i, "left of", j) for i, j in itertools.permutations(range(len(objects)), 2)
                             if objects[i].x < objects[j].x} | \
                            {(i, "above", j) for i, j in itertools.permutations(range(len(objects)), 2)
                             if objects[i].y < objects[j].y}


def test_questions_have_exact_answers():
    rng = random.Random(0)
    kinds = set()
    for scene in generate_scenes(500, seed=7):
        objs = scene.objects
        for q, a in questions(scene, rng):
            words = q.rstrip("?").split()
            shape = next((s for s in SHAPES if s in words or s + "s" in words or s + "es" in words), None)
            of_shape = [o for o in objs if o.shape == shape]
            if q.startswith("is there"):
                assert a == ("yes" if of_shape else "no"), q
                kinds.add("yes" if of_shape else "no")
            elif q == "how many shapes are there?":
                assert a == NUMBER_WORDS[len(objs) - 1]
            elif q.startswith("how many"):
                assert a == NUMBER_WORDS[len(of_shape) - 1], q
            elif q.startswith("what color"):
                assert a == of_shape[0].color
            elif q.startswith("what size"):
                assert a == of_shape[0].size
            elif "solid, striped or outlined" in q:
                assert a == of_shape[0].style
            else:  # "is the circle left of the square?": compare every pair of objects by hand
                relation = next(r for r in ("left of", "right of", "above", "below") if r in q)
                subject, obj = (q.split(" the ")[k].split()[0] for k in (1, 2))
                subject, obj = (next(s for s in SHAPES if w.startswith(s)) for w in (subject, obj))
                holds = {"left of": lambda p, o: p.x < o.x, "right of": lambda p, o: p.x > o.x,
                         "above": lambda p, o: p.y < o.y, "below": lambda p, o: p.y > o.y}[relation]
                truth = all(holds(p, o) for p in objs if p.shape == subject for o in objs if o.shape == obj)
                assert a == ("yes" if truth else "no"), q
                kinds.add(f"relation {a}")
    assert kinds == {"yes", "no", "relation yes", "relation no"}


def test_world_text_is_every_caption_and_question_answer_line_in_lower_case():
    scenes = generate_scenes(50, seed=8)
    text = world_text(scenes)
    assert text == world_text(scenes) and all(line == line.lower() and "\n" not in line for line in text)
    assert describe(scenes[0], random.Random(0))[0] in text
    assert any(line.startswith("how many shapes are there? ") for line in text)
    assert len(text) == sum(len(describe(s)) + len(questions(s, random.Random(0))) for s in scenes)


def test_scene_pairs_follow_the_pairs_contract():
    scenes = generate_scenes(100, seed=9)
    df = scene_pairs(scenes, image_size=64, seed=0)
    validate_pairs(df)
    assert df.image_id.nunique() == 100 and df.groupby("image_id").split.nunique().max() == 1
    assert df.drop_duplicates("image_id").split.value_counts().to_dict() == {"train": 80, "val": 10, "test": 10}
    first = df[df.image_id == 0]
    assert Scene.from_json(first.scene.iloc[0]) == scenes[0]
    assert list(first.caption) == describe(scenes[0], random.Random(0))
    assert Image.open(io.BytesIO(first.image.iloc[0])).size == (64, 64)
    other_seed = scene_pairs(scenes, seed=1).drop_duplicates("image_id").split
    assert not df.drop_duplicates("image_id").split.equals(other_seed)


def test_scene_pairs_file_is_rendered_once_and_keyed_by_version(tmp_path, monkeypatch):
    monkeypatch.setattr(utils.cache, "CACHE", tmp_path)
    path = scene_pairs_file(20, seed=2)
    written = path.stat().st_mtime_ns
    assert scene_pairs_file(20, seed=2) == path and path.stat().st_mtime_ns == written
    assert json.loads((path.parent / "inputs.json").read_text())["version"] == SCENE_WORLD_VERSION
    assert scene_pairs_file(20, seed=3) != path
    pd.testing.assert_frame_equal(pd.read_parquet(path), scene_pairs(generate_scenes(20, seed=2)))
