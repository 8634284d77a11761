"""The language model's one code path: the world tokenizer, the chat format, loading on both profiles, perplexity."""
import dataclasses
import json
import math

import pytest
import torch
from transformers import LlamaForCausalLM

import utils.cache
from utils import backbones
from utils.backbones import load_language_model
from utils.models.language_model import DESCRIBE, chat_prompt, perplexity, reply
from utils.offline import world_lm
from utils.offline.world_lm import WORLD_LM, as_chat, tiny_llama, world_lines, world_lm_folder
from utils.offline.world_tokenizer import build_tokenizer
from utils.profiles import PROFILES

LINES = world_lines(30, seed=0)
CONFIG = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "max_position_embeddings": 128, "tie_word_embeddings": True}
TINY_RECIPE = {"n_scenes": 20, "seed": 0, "vocab_size": 300, "block_size": 32, "batch_size": 4, "steps": 2,
               "lr": 1e-3, "config": CONFIG}


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(LINES, vocab_size=400)


@pytest.fixture(scope="module")
def model(tokenizer):
    torch.manual_seed(0)
    return tiny_llama(tokenizer, {**CONFIG, "initializer_range": 0.5}).eval()  # large weights: peaked predictions


def test_tokenizer_round_trips_any_text_and_learns_world_words(tokenizer):
    for text in [*LINES, "Digits 0123456789, punctuation .,;:!?'\"()-/ and ünïcödé: 3.14!", "  two  spaces\n"]:
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert len(tokenizer(" triangle")["input_ids"]) == 1 and len(tokenizer("what color is the")["input_ids"]) == 4
    assert len(tokenizer) <= 400


def test_special_tokens_have_smollm2s_ids_and_roles(tokenizer):
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]}
    assert ids == {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (1, 2, 2)
    assert tokenizer("a<|im_end|>\n<|im_start|>")["input_ids"][1:] == [2, tokenizer("\n")["input_ids"][0], 1]
    assert tokenizer.decode(tokenizer("<|im_start|>user\nhi<|im_end|>")["input_ids"], skip_special_tokens=True) \
        == "user\nhi"


def test_too_small_a_vocabulary_is_a_named_error():
    with pytest.raises(ValueError, match="use at least 259"):
        build_tokenizer(LINES, vocab_size=100)


def test_chat_prompt_is_chatml_with_a_default_system_turn(tokenizer):
    system = "<|im_start|>system\nyou are a helpful assistant.<|im_end|>\n"
    user = "<|im_start|>user\nis there a star?<|im_end|>\n"
    prompt, example = chat_prompt(tokenizer, "is there a star?"), chat_prompt(tokenizer, "is there a star?", "no")
    assert prompt == system + user + "<|im_start|>assistant\n"
    assert example == system + user + "<|im_start|>assistant\nno<|im_end|>\n"
    prompt_ids, example_ids = tokenizer(prompt)["input_ids"], tokenizer(example)["input_ids"]
    assert example_ids[:len(prompt_ids)] == prompt_ids and example_ids[-2:] == [2, tokenizer("\n")["input_ids"][0]]
    own_system = [{"role": "system", "content": "be brief."}, {"role": "user", "content": "hi"}]
    assert tokenizer.apply_chat_template(own_system, tokenize=False) == \
        "<|im_start|>system\nbe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"


def test_world_lines_become_questions_answered_or_pictures_described(tokenizer):
    assert as_chat(tokenizer, "is there a circle? yes") == chat_prompt(tokenizer, "is there a circle?", "yes")
    assert as_chat(tokenizer, "a red circle") == chat_prompt(tokenizer, DESCRIBE, "a red circle")


def test_perplexity_is_exp_of_the_mean_token_nll(model, tokenizer):
    texts = ["a red circle", "is there a small blue square to the left of a star? no", "two shapes", "three"]
    nll, n = 0.0, 0
    for text in texts:  # one at a time, no padding: every token after the first, given those before it
        ids = torch.tensor([tokenizer(text)["input_ids"]])
        with torch.no_grad():
            log_probs = torch.log_softmax(model(ids).logits[0, :-1], dim=-1)
        nll -= log_probs.gather(1, ids[0, 1:, None]).sum().item()
        n += ids.shape[1] - 1
    assert perplexity(model, tokenizer, texts, batch_size=3) == pytest.approx(math.exp(nll / n), rel=1e-5)
    with pytest.raises(ValueError, match="at least two tokens"):
        perplexity(model, tokenizer, ["a"])


def test_reply_is_the_greedy_continuation_up_to_the_end_of_turn(model, tokenizer):
    ids = tokenizer(chat_prompt(tokenizer, "what color is the square?"), return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(8):
            token = model(torch.cat([ids, torch.tensor([new], dtype=torch.long)], dim=1)).logits[0, -1].argmax()
            if token == tokenizer.eos_token_id:
                break
            new.append(int(token))
    assert reply(model, tokenizer, "what color is the square?", max_new_tokens=8) == tokenizer.decode(new)


@pytest.fixture
def tiny_world_lm(tmp_path, monkeypatch):
    """The offline profile's world LM with a 2-step recipe, cached under `tmp_path`."""
    monkeypatch.setattr(utils.cache, "CACHE", tmp_path)
    monkeypatch.setattr(world_lm, "RECIPE", TINY_RECIPE)


def test_offline_loads_the_cached_world_lm_keyed_by_its_recipe(tiny_world_lm, monkeypatch):
    assert PROFILES["offline"].lm == WORLD_LM
    model, tokenizer = load_language_model(PROFILES["offline"])
    assert isinstance(model, LlamaForCausalLM) and not model.training and model.dtype == torch.float32
    assert model.config.vocab_size == len(tokenizer) and tokenizer.eos_token == "<|im_end|>"
    folder = world_lm_folder()
    assert (folder / "config.json").exists() and (folder / "tokenizer.json").exists()
    monkeypatch.setattr(world_lm, "pretrain_world_lm", lambda recipe: pytest.fail("rebuilt a cached world LM"))
    again, _ = load_language_model(PROFILES["offline"])
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_the_world_lm_cache_key_changes_with_the_recipe(tiny_world_lm, monkeypatch, tokenizer):
    monkeypatch.setattr(world_lm, "pretrain_world_lm", lambda recipe: (tiny_llama(tokenizer, CONFIG), tokenizer))
    changes = [{}, {"steps": 3}, {"vocab_size": 310}, {"seed": 1}, {"n_scenes": 21}, {"lr": 2e-3},
               {"config": {**CONFIG, "num_hidden_layers": 3}}]
    folders = [world_lm_folder({**TINY_RECIPE, **change}) for change in changes]
    assert len(set(folders)) == len(changes) and all((f / "config.json").exists() for f in folders)
    inputs = json.loads((folders[0].parent / "inputs.json").read_text())
    assert inputs["world_version"] == world_lm.SCENE_WORLD_VERSION and inputs["steps"] == 2


def test_t4_loads_a_hub_style_folder_through_the_same_call(tmp_path, monkeypatch, model, tokenizer):
    model.save_pretrained(tmp_path / "lm")
    tokenizer.save_pretrained(tmp_path / "lm")
    monkeypatch.setattr(backbones, "world_lm_folder", lambda: pytest.fail("t4 must not build the world LM"))
    t4 = dataclasses.replace(PROFILES["t4"], lm=str(tmp_path / "lm"), device="cpu", precision="fp32")
    loaded, loaded_tokenizer = load_language_model(t4)
    assert isinstance(loaded, LlamaForCausalLM) and not loaded.training
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert chat_prompt(loaded_tokenizer, "hi", "hello") == chat_prompt(tokenizer, "hi", "hello")
    assert loaded_tokenizer("a red circle")["input_ids"] == tokenizer("a red circle")["input_ids"]
