"""The offline profile's language model: a tiny Llama pre-trained on world text, cached by its recipe.

`python -m utils.offline.world_lm` rebuilds it and prints its held-out perplexity and a few greedy replies;
`utils.backbones.load_language_model` builds it on first use. It learns from world text (v3), each line either as plain text or as
a chat exchange (a question answered, or a caption given when asked to `DESCRIBE` the picture), so that like
SmolLM2-Instruct it knows the chat format and ends its turns with `<|im_end|>`.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from ..cache import cached
from ..data.scene_world import SCENE_WORLD_VERSION, generate_scenes, world_text
from ..models.language_model import DESCRIBE, chat_prompt, perplexity, reply
from ..profiles import PROFILES
from ..training.loops import train_steps
from .world_tokenizer import END_OF_TEXT, build_tokenizer

WORLD_LM = "WorldLM-Tiny"  # the offline profile's `lm`
HELD_OUT_SEED = 99  # scenes for held-out perplexity, drawn apart from the pre-training ones
RECIPE = {
    "n_scenes": 3000, "seed": 4321, "vocab_size": 512, "block_size": 128, "batch_size": 32, "steps": 300, "lr": 6e-3,
    "config": {"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 4,
               "num_key_value_heads": 2, "max_position_embeddings": 512, "tie_word_embeddings": True},
}


def world_lines(n_scenes: int, seed: int) -> list[str]:
    """World (v3) text: each scene's captions and "question answer" lines, in lower case."""
    return world_text(generate_scenes(n_scenes, seed), seed=seed)


def as_chat(tokenizer: PreTrainedTokenizerBase, line: str) -> str:
    """A line of world text as one chat exchange: "question? answer" is asked and answered, a caption described."""
    question, mark, answer = line.rpartition("? ")
    return chat_prompt(tokenizer, question + mark.strip(), answer) if mark else chat_prompt(tokenizer, DESCRIBE, line)


def packed_blocks(tokenizer: PreTrainedTokenizerBase, lines: list[str], block_size: int, seed: int) -> torch.Tensor:
    """Each line as plain text or as a chat (even odds), shuffled, joined and cut into rows of `block_size` tokens."""
    rng = random.Random(seed)
    documents = [line + END_OF_TEXT if rng.random() < 0.5 else as_chat(tokenizer, line) for line in lines]
    rng.shuffle(documents)
    ids = [i for doc in tokenizer(documents)["input_ids"] for i in doc]
    n_blocks = len(ids) // block_size
    return torch.tensor(ids[:n_blocks * block_size]).view(n_blocks, block_size)


def tiny_llama(tokenizer: PreTrainedTokenizerBase, config: dict) -> LlamaForCausalLM:
    """A randomly initialised Llama sized by `config`, with the tokenizer's vocabulary and special token ids."""
    return LlamaForCausalLM(LlamaConfig(**config, vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id))


def pretrain_world_lm(recipe: dict) -> tuple[LlamaForCausalLM, PreTrainedTokenizerBase]:
    """Tokenizer and model trained from scratch on the world text of `recipe["n_scenes"]` scenes."""
    torch.manual_seed(recipe["seed"])
    lines = world_lines(recipe["n_scenes"], recipe["seed"])
    tokenizer = build_tokenizer(lines, recipe["vocab_size"])
    model = tiny_llama(tokenizer, recipe["config"])
    blocks = packed_blocks(tokenizer, lines, recipe["block_size"], recipe["seed"])
    loader = DataLoader([{"input_ids": b, "labels": b} for b in blocks], batch_size=recipe["batch_size"],
                        shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(recipe["seed"]))
    train_steps(model, loader, PROFILES["offline"], lr=recipe["lr"], steps=recipe["steps"], weight_decay=0.1,
                desc="pre-training the world LM")
    return model, tokenizer


def world_lm_folder(recipe: dict | None = None, rebuild: bool = False) -> Path:
    """The folder that `from_pretrained` loads the world LM from, pre-training it first if it is missing."""
    recipe = recipe or RECIPE

    def build(folder: Path) -> None:
        print(f"pre-training the world LM ({recipe['steps']} steps; cached at {folder.parent.parent})")
        model, tokenizer = pretrain_world_lm(recipe)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    return cached("world_lm", WORLD_LM, {"world_version": SCENE_WORLD_VERSION, "corpus": "world_text", **recipe},
                  build, seed=recipe["seed"], rebuild=rebuild)


def held_out_lines(n_scenes: int = 200) -> list[str]:
    """World text from scenes drawn with another seed than pre-training's."""
    return world_lines(n_scenes, HELD_OUT_SEED)


if __name__ == "__main__":
    start = time.perf_counter()
    world_lm_folder(rebuild=True)
    print(f"built in {time.perf_counter() - start:.0f} s")
    folder = world_lm_folder()
    model, tokenizer = LlamaForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    untrained = tiny_llama(tokenizer, RECIPE["config"]).eval()
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters, vocabulary of {len(tokenizer)} tokens")
    print(f"held-out perplexity: {perplexity(model, tokenizer, held_out_lines()):.2f} "
          f"(untrained: {perplexity(untrained, tokenizer, held_out_lines()):.1f})")
    for question in [DESCRIBE, "is there a circle?", "what color is the square?", "how many triangles are there?"]:
        print(f"{question!r} -> {reply(model, tokenizer, question)!r}")
