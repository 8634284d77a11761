"""`train_steps`: the generic loop for models that return their loss (language models, VLMs)."""
import dataclasses

import pytest
import torch

from utils.offline.world_lm import tiny_llama
from utils.offline.world_tokenizer import build_tokenizer
from utils.profiles import PROFILES
from utils.training.loops import train_steps

CONFIG = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "max_position_embeddings": 64, "tie_word_embeddings": True}
TEXTS = ["a red circle to the left of a blue square", "is there a star? no", "how many circles are there? two"]
OFFLINE = PROFILES["offline"]


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(TEXTS, vocab_size=300)


@pytest.fixture
def model(tokenizer):
    torch.manual_seed(0)
    return tiny_llama(tokenizer, CONFIG)


@pytest.fixture(scope="module")
def batch(tokenizer):
    enc = tokenizer(TEXTS, return_tensors="pt", padding=True)  # a BatchEncoding: a mapping, not a dict
    enc["labels"] = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    return enc


def test_loss_falls_on_a_toy_batch_and_steps_go_round_the_batches(model, batch):
    losses = train_steps(model, [batch], OFFLINE, lr=1e-2, steps=30)
    assert len(losses) == 30 and losses[-1] < 0.3 * losses[0]
    assert not model.training
    with torch.no_grad():
        assert model(**batch).loss.item() == pytest.approx(losses[-1], abs=0.5)


def test_only_the_given_params_change(model, batch):
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trained = {n for n in before if n.startswith("model.layers.0.mlp.")}
    train_steps(model, [batch, batch], OFFLINE, lr=1e-2, weight_decay=0.1,
                params=[p for n, p in model.named_parameters() if n in trained])
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) != (name in trained), name


def test_fp16_path_with_grad_scaler_trains(model, batch):
    fp16 = dataclasses.replace(PROFILES["t4"], device="cpu")  # autocast and GradScaler, on the CPU
    losses = train_steps(model, [batch], fp16, lr=1e-2, steps=30)
    assert all(map(torch.isfinite, torch.tensor(losses))) and losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_gradients_are_clipped(model, batch):
    train_steps(model, [batch], OFFLINE, lr=1e-3, steps=1, max_grad_norm=1e-3)
    # clipping rescales the gradients in place, and the last step's stay on the parameters
    assert torch.cat([p.grad.flatten() for p in model.parameters()]).norm() == pytest.approx(1e-3, rel=1e-4)


@pytest.mark.parametrize("batches, steps, message", [
    ([], None, "at least 1"),
    ([], 2, "yielded no batch"),
    (iter([{"input_ids": torch.ones(1, 3, dtype=torch.long)}]), None, "pass `steps`"),
    ([(torch.ones(1, 3, dtype=torch.long),)], 1, "dict of model inputs"),
    ([{"input_ids": torch.ones(1, 3, dtype=torch.long)}], 1, "no loss.*labels"),
])
def test_bad_batches_are_named_errors(model, batches, steps, message):
    with pytest.raises(ValueError, match=message):
        train_steps(model, batches, OFFLINE, lr=1e-3, steps=steps)


def test_nothing_to_train_is_a_named_error(model, batch):
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="nothing to train"):
        train_steps(model, [batch], OFFLINE, lr=1e-3)
