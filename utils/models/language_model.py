"""What the labs do with a causal language model, whichever the profile loads (`utils.backbones.load_language_model`):
chat prompts in the tokenizer's template, greedy replies, perplexity.

`t4`'s Hub model (SmolLM2-135M-Instruct) and the offline world LM share one chat template format (ChatML).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, PreTrainedTokenizerBase

# The prompt that asks for a caption, on every profile (the world LM learns it in pre-training, the VLMs in training).
DESCRIBE = "describe the picture."


def chat_prompt(tokenizer: PreTrainedTokenizerBase, user: str, answer: str | None = None) -> str:
    """One exchange in the tokenizer's chat template.

    Without `answer`: a prompt ending with the assistant's turn opened, for `generate`. With it: a training
    example ending with the answer and the end-of-turn token; the prompt is always a prefix of the example.
    """
    messages = [{"role": "user", "content": user}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=answer is None)


def chat_token_ids(tokenizer: PreTrainedTokenizerBase, user: str, answer: str | None = None) -> tuple[list[int], int]:
    """Token ids of a one-exchange chat and the length of its prompt part (which ends with the assistant turn
    opened). With `answer`, the ids go on to the answer and the eos token that closes it (not what the template
    writes after it)."""
    prompt_text = chat_prompt(tokenizer, user)
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    if answer is None:
        return prompt_ids, len(prompt_ids)
    chat_text = chat_prompt(tokenizer, user, answer)
    answer_ids = tokenizer(chat_text[len(prompt_text):], add_special_tokens=False)["input_ids"]
    if not chat_text.startswith(prompt_text) or tokenizer.eos_token_id not in answer_ids:
        raise ValueError("the tokenizer's chat template must write the prompt, then the answer closed by the "
                         f"eos token {tokenizer.eos_token!r} (as ChatML does).")
    return prompt_ids + answer_ids[:answer_ids.index(tokenizer.eos_token_id) + 1], len(prompt_ids)


@torch.no_grad()
def reply(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, user: str, max_new_tokens: int = 32) -> str:
    """The model's greedy answer to one user message, up to its end-of-turn token."""
    inputs = tokenizer(chat_prompt(tokenizer, user), return_tensors="pt").to(model.device)
    out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


@torch.no_grad()
def perplexity(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str],
               batch_size: int = 64) -> float:
    """exp(mean negative log-likelihood of each token given those before it), over all tokens of `texts`.

    Each text is scored on its own (its first token has no context and is not scored), padding excluded.
    """
    total_nll, n_tokens = 0.0, 0
    model.eval()
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                          padding_side="right").to(model.device)
        logits = model(**batch).logits[:, :-1].float()
        targets = batch["input_ids"][:, 1:].masked_fill(batch["attention_mask"][:, 1:] == 0, -100)
        total_nll += F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100, reduction="sum").item()
        n_tokens += int((targets != -100).sum())
    if n_tokens == 0:
        raise ValueError("perplexity needs texts of at least two tokens (the first is only context); "
                         f"got {len(texts)} text(s) with nothing to score.")
    return math.exp(total_nll / n_tokens)
