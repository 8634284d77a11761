"""Lab 8's pipeline pieces: splits, the blind model's batches, and the score tables."""
import dataclasses

import pandas as pd
import pytest
import torch

from utils.data.scene_world import generate_scenes, render
from utils.data.vqa import world_vqa
from utils.data.world import png_bytes
from utils.metrics.vqa import accuracy_by_type
from utils.models.vlm import IGNORE_INDEX
from utils.offline.world_lm import world_lines
from utils.offline.world_tokenizer import build_tokenizer
from utils.profiles import PROFILES
from utils.recipes import vqa

RECIPE = dataclasses.replace(vqa.RECIPES["offline"], skewed_test_questions=50)


@pytest.fixture(scope="module")
def table():
    scenes = generate_scenes(40, seed=2)
    return world_vqa(scenes, [png_bytes(render(s, 32)) for s in scenes], ["train"] * 30 + ["test"] * 10, seed=0)


def test_splits_skew_training_and_pair_the_test(table):
    splits = vqa.vqa_splits(table, RECIPE)
    assert len(splits.images) == 40 and set(splits.train["split"]) == {"train"}
    assert len(splits.test_skewed) <= 50 and set(splits.test_skewed["split"]) == {"test"}
    for _, pair in splits.test_balanced.groupby("pair"):
        assert pair["question"].nunique() == 1 and pair["answer"].nunique() == 2
    # every question's image is the one `image_index` points at
    for row in splits.train.head(20).itertuples():
        assert splits.images.images[row.image_index] == row.image


def test_splits_without_a_split_column_and_errors(table):
    splits = vqa.vqa_splits(table.drop(columns="split"), RECIPE)
    assert len(splits.train) > 0 and len(splits.test_balanced) >= 0
    with pytest.raises(ValueError, match="training and 0 test questions"):
        vqa.vqa_splits(table.assign(split="train"), RECIPE)


def test_text_batch_labels_only_the_answer():
    tokenizer = build_tokenizer(world_lines(30, 0), vocab_size=300)
    batch = vqa.text_batch(tokenizer, ["is there a star?", "how many circles are there?"], ["no", "two"])
    for row, labels, answer in zip(batch["input_ids"], batch["labels"], ["no", "two"]):
        scored = row[labels != IGNORE_INDEX]
        assert tokenizer.decode(scored) == answer + tokenizer.eos_token
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE_INDEX).all()


def test_exact_match_has_no_normalisation():
    humans = [["2"] * 10, ["yes"] * 5 + ["no"] * 5]
    assert vqa.exact_match_accuracy(["two", "yes"], humans) == pytest.approx(0.5)
    assert vqa.exact_match_accuracy(["2", "yes"], humans) == pytest.approx(1.0)


def test_accuracy_by_type_and_majority():
    questions = pd.DataFrame({"question_type": ["a", "a", "b"], "answers": [["x"] * 10, ["y"] * 10, ["z"] * 10]})
    table = accuracy_by_type(questions, {"m": ["x", "x", "z"]})
    assert table.loc["a", "m"] == 0.5 and table.loc["b", "m"] == 1.0 and table.loc["all", "m"] == pytest.approx(2 / 3)
    train = pd.DataFrame({"answer": ["no", "yes", "no"]})
    assert vqa.majority_baseline(train, questions) == ["no"] * 3


def test_blind_model_learns_a_prior():
    """A few steps on questions whose answer is always the same make the blind LM say it."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(world_lines(30, 0), vocab_size=300)
    lm = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
    questions = pd.DataFrame({"question": ["is there a star?"] * 32, "answer": ["no"] * 32})
    recipe = dataclasses.replace(RECIPE, blind_steps=40, blind_lr=1e-2, batch_size=8)
    torch.manual_seed(0)
    losses = vqa.train_blind(lm, tokenizer, questions, recipe, PROFILES["offline"])
    assert losses[-1] < 0.2 * losses[0]
    assert vqa.blind_answers(lm, tokenizer, ["is there a star?"], recipe) == ["no"]
