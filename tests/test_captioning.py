"""Lab 6's captioner code on tiny random parts: data and instruction builders, the nearest-neighbour baseline,
the metrics, the stages, and the cache of Lab 7's checkpoint captions."""
import dataclasses
import math
import random

import pandas as pd
import pytest
import torch

from utils import cache
from utils.data import convert, save_pairs
from utils.data.convert import pairs_from_hub_splits
from utils.data.grammar import scene_facts
from utils.data.image_sets import CaptionSet, caption_splits
from utils.data.scene_world import generate_scenes, questions, scene_pairs
from utils.metrics.facts import factual_precision_recall
from utils.models.clip import create_clip
from utils.models.language_model import DESCRIBE
from utils.models.vision_tower import RememberingTower, VisionTower
from utils.models.vlm import VisionLanguageModel
from utils.offline.world_lm import tiny_llama, world_lines
from utils.offline.world_tokenizer import build_tokenizer
from utils.profiles import PROFILES
from utils.recipes import captioning
from utils.recipes.captioning import (
    caption_examples,
    caption_metrics,
    captions_at_checkpoints,
    instruction_examples,
    nearest_neighbour_captions,
    pooled_facts,
)
from utils.training.stages import example_batches, train_stage

TINY_LM = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
           "num_key_value_heads": 1, "max_position_embeddings": 256, "tie_word_embeddings": True}
TINY_RECIPE = captioning.CaptionRecipe(batch_size=4, stage1_steps=2, stage1_lr=1e-2, stage2_steps=2, stage2_lr=1e-2,
                                       shuffle_factor=4, layer=-1, connector_layers=1, max_new_tokens=6, num_beams=2,
                                       test_images=4, remember_patch_tokens=True, questions_per_image=None)


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    return scene_pairs(generate_scenes(10, seed=3), image_size=64, val_fraction=0.2, test_fraction=0.2, seed=0)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(world_lines(40, 0), vocab_size=300)


def tiny_captioner(profile, recipe):
    """Random stand-ins for the profile's parts: the world CLIP's architecture and a one-layer Llama."""
    torch.manual_seed(0)
    clip_model, preprocess, _ = create_clip("WorldCLIP-Tiny")
    tokenizer = build_tokenizer(world_lines(40, 0), vocab_size=300)
    tower = RememberingTower(clip_model.visual)
    return VisionLanguageModel(tower, tiny_llama(tokenizer, TINY_LM), tokenizer, recipe.connector_layers,
                              recipe.shuffle_factor), preprocess


# data

def test_splits_group_captions_by_image_in_order_and_carry_scenes(pairs):
    sets = caption_splits(pairs)
    assert {k: len(v) for k, v in sets.items()} == {"train": 6, "val": 2, "test": 2}
    for split, data in sets.items():
        rows = pairs[pairs.split == split]
        first = rows.drop_duplicates("image_id")
        assert data.captions == [list(rows[rows.image_id == i].caption) for i in first.image_id]
        assert [s.to_json() for s in data.scenes] == list(first.scene)
    assert caption_splits(pairs.drop(columns="scene"))["train"].scenes is None


def test_stage_examples_are_every_caption_then_the_scenes_questions(pairs):
    train = caption_splits(pairs)["train"]
    captions = caption_examples(train)
    assert captions == [(i, DESCRIBE, c) for i, caps in enumerate(train.captions) for c in caps]
    rng = random.Random(5)
    expected = [(i, q, a) for i, scene in enumerate(train.scenes) for q, a in questions(scene, rng)]
    assert instruction_examples(train, seed=5) == captions + expected
    assert any(a in ("yes", "no") for _, _, a in expected) and len(expected) >= 6 * len(train)
    without = dataclasses.replace(train, scenes=None)
    assert instruction_examples(without) == captions
    two = instruction_examples(train, questions_per_image=2, seed=5)[len(captions):]
    assert [i for i, _, _ in two] == [i for i in range(len(train)) for _ in range(2)]
    rng = random.Random(5)
    for i, scene in enumerate(train.scenes):  # each image's two are drawn from the questions about its scene
        asked = questions(scene, rng)
        assert [qa[1:] for qa in two[2 * i:2 * i + 2]] == rng.sample(asked, 2)


def test_a_batch_scores_only_the_answers(pairs, tokenizer):
    vlm, preprocess = tiny_captioner(PROFILES["offline"], TINY_RECIPE)
    train = caption_splits(pairs)["train"]
    batch = next(iter(example_batches(vlm, train, caption_examples(train), preprocess, 3)))
    assert batch["pixel_values"].shape == (3, 3, 64, 64)
    answers = [vlm.tokenizer.decode([t for t in row if t != -100], skip_special_tokens=True) for row in batch["labels"]]
    assert all(a in {c for caps in train.captions for c in caps} for a in answers)


# the baseline and the metrics

def test_nearest_neighbour_takes_the_most_similar_training_images_caption():
    train = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    queries = torch.tensor([[0.0, 1.0], [0.8, 0.6], [1.0, 0.0], [0.6, 0.8]])
    # cosines of query 1: 0.8, 0.6, 0.96 -> the third image; query 2 is the first image itself
    assert nearest_neighbour_captions(queries, train, ["a", "b", "c"]) == ["b", "c", "a", "c"]


def test_pooled_facts_sum_facts_over_the_corpus(pairs):
    scenes = caption_splits(pairs)["train"].scenes[:2]
    complete = pairs.drop_duplicates("image_id").caption.tolist()[:2]  # every fact of each scene: recall 1
    p, r = pooled_facts([complete[0], complete[0]], scenes)
    p0, r0 = factual_precision_recall(complete[0], scenes[1])
    n0, n1 = len(scene_facts(scenes[0])), len(scene_facts(scenes[1]))
    assert math.isclose(r, (n0 + r0 * n1) / (n0 + n1)) and math.isclose(p, (1 + p0) / 2)
    assert pooled_facts(["", complete[1]], scenes) == (1.0, pytest.approx(n1 / (n0 + n1)))


def test_metrics_without_scene_graphs_report_facts_as_not_available():
    refs = [["a red circle", "one red circle"], ["a blue square", "two squares"]]
    scores = caption_metrics(["a red circle", "a green star"], refs, None)
    assert math.isnan(scores["factual precision"]) and math.isnan(scores["factual recall"])
    assert scores["CIDEr-D"] > 0 and 0 < scores["BLEU-4"] < 1


# the parts and the stages

def test_remembering_tower_matches_the_tower_and_computes_each_image_once():
    torch.manual_seed(0)
    visual = create_clip("WorldCLIP-Tiny")[0].visual
    plain, remembering = VisionTower(visual), RememberingTower(visual)
    x = torch.randn(3, 3, 64, 64)
    torch.testing.assert_close(remembering(x), plain(x))
    torch.testing.assert_close(remembering(x[[2, 0, 2]]), plain(x[[2, 0, 2]]))
    assert len(remembering.memory) == 3


def test_stage_one_trains_the_connector_only_and_stage_two_the_lm_too(pairs):
    vlm, preprocess = tiny_captioner(PROFILES["offline"], TINY_RECIPE)
    train = caption_splits(pairs)["train"]
    batches = example_batches(vlm, train, caption_examples(train), preprocess, 4)
    lm, connector = ({k: v.clone() for k, v in m.state_dict().items()} for m in (vlm.lm, vlm.connector))
    seen = []
    losses = train_stage(vlm, batches, 1, *TINY_RECIPE.stage(1), PROFILES["offline"], seen.append)
    assert len(losses) == 2 and seen == [0, 1] and all(math.isfinite(x) for x in losses)
    assert all(torch.equal(v, vlm.lm.state_dict()[k]) for k, v in lm.items())
    assert not all(torch.equal(v, vlm.connector.state_dict()[k]) for k, v in connector.items())
    train_stage(vlm, batches, 2, *TINY_RECIPE.stage(2), PROFILES["offline"])
    assert not all(torch.equal(v, vlm.lm.state_dict()[k]) for k, v in lm.items())


# Lab 7's checkpoint captions

@pytest.fixture
def tiny_course(pairs, tmp_path, monkeypatch):
    """captions_at_checkpoints on tiny random parts, the tiny pairs and a fresh cache; counts the trainings."""
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    monkeypatch.setitem(captioning.RECIPES, "offline", TINY_RECIPE)
    monkeypatch.setattr(captioning, "caption_pairs_file", lambda profile: save_pairs(pairs, tmp_path / "p.parquet"))
    monkeypatch.setattr(captioning, "vlm_parts_id", lambda profile: {"clip": "random", "lm": "random"})
    built = []
    monkeypatch.setattr(captioning, "build_captioner", lambda p, r: built.append(1) or tiny_captioner(p, r))
    return built


def test_checkpoint_captions_follow_training_and_are_cached_by_their_inputs(pairs, tiny_course, monkeypatch):
    P = PROFILES["offline"]
    images = list(pairs[pairs.split == "test"].drop_duplicates("image_id").image)
    out = captions_at_checkpoints(P, images, steps=[0, 2, 4])
    assert sorted(out) == [0, 2, 4] and all(len(c) == len(images) for c in out.values()) and len(tiny_course) == 1
    assert captions_at_checkpoints(P, images, steps=[4, 0, 2]) == out and len(tiny_course) == 1  # from the cache
    # the last checkpoint is the model that Lab 6's stages train, captioning along the way changed nothing
    vlm, preprocess = tiny_captioner(P, TINY_RECIPE)
    train = caption_splits(pairs)["train"]
    for stage, examples in ((1, caption_examples(train)), (2, instruction_examples(train))):
        train_stage(vlm, example_batches(vlm, train, examples, preprocess, 4), stage, *TINY_RECIPE.stage(stage), P)
    probe = CaptionSet(images, [[]] * len(images), None)
    assert captioning.generate_captions(vlm, probe, preprocess, P, TINY_RECIPE) == out[4]
    # Lab 10's trained captioner is the same model, loaded from the cache that Lab 7's training left
    trainings = []
    monkeypatch.setattr(captioning, "train_stage", lambda *a, **k: trainings.append(1) or train_stage(*a, **k))
    trained, _ = captioning.trained_captioner(P)
    assert captioning.generate_captions(trained, probe, preprocess, P, TINY_RECIPE) == out[4] and not trainings
    captions_at_checkpoints(P, images[:1], steps=[0, 2, 4])  # other images, other steps, other decoding: new keys
    captions_at_checkpoints(P, images, steps=[0, 4])
    captions_at_checkpoints(P, images, steps=[0, 2, 4], num_beams=2)
    assert len(tiny_course) == 5  # one build for the load of the trained captioner


def test_checkpoint_steps_outside_training_are_an_error(tiny_course, pairs):
    with pytest.raises(ValueError, match="steps between 0 and 4"):
        captions_at_checkpoints(PROFILES["offline"], list(pairs.image[:1]), steps=[5])


# Flickr8k-shaped data

def test_a_hub_set_with_caption_columns_and_its_own_splits_converts_to_pairs(png, monkeypatch):
    tables = {s: pd.DataFrame({"image": [{"bytes": png(c), "path": None} for c in range(n)],
                               **{f"caption_{k}": [f"{s} {c} caption {k}" for c in range(n)] for k in range(3)}})
              for s, n in (("train", 4), ("validation", 1), ("test", 2))}
    tables["test"].loc[0, "caption_2"] = "  "  # an empty caption is dropped
    monkeypatch.setattr(convert, "hub_table", lambda repo_id, split: tables[split])
    df = pairs_from_hub_splits("someone/flickr", "image", ["caption_0", "caption_1", "caption_2"])
    assert len(df) == 7 * 3 - 1 and df.image_id.nunique() == 7
    assert df.drop_duplicates("image_id").split.tolist() == ["train"] * 4 + ["val"] + ["test"] * 2
    assert df.caption[:3].tolist() == ["train 0 caption 0", "train 0 caption 1", "train 0 caption 2"]
    with pytest.raises(ValueError, match="'train', 'val' or 'test'"):
        pairs_from_hub_splits("someone/flickr", "image", ["caption_0"], splits={"train": "training"})
