"""The world LM's tokenizer: byte-level BPE trained on world text, dressed as SmolLM2-Instruct's tokenizer.

Same special tokens with the same ids (`<|endoftext|>` 0, `<|im_start|>` 1, `<|im_end|>` 2; the end of a turn
is also the end-of-sequence and the padding token, as in SmolLM2) and the same ChatML chat template, so that
chat formatting, generation and loss masking written against one tokenizer run unchanged on the other.
Byte-level pieces make every string encodable: `decode(encode(text)) == text` for any text.
"""
from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

END_OF_TEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
DEFAULT_SYSTEM = "you are a helpful assistant."
# SmolLM2-Instruct's template (a default system turn when a conversation has none), with our own default text
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\n" + DEFAULT_SYSTEM + "<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TEMPLATE_WORDS = ["system", "user", "assistant", DEFAULT_SYSTEM]  # learnt as pieces even if `texts` lack them


def build_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with at most `vocab_size` tokens, its merges learnt from `texts`."""
    base_size = len(pre_tokenizers.ByteLevel.alphabet()) + 3  # 256 bytes and the three special tokens
    if vocab_size < base_size:
        raise ValueError(f"vocab_size {vocab_size} cannot hold the 256 bytes and 3 special tokens; "
                         f"use at least {base_size}.")
    if not texts:
        raise ValueError("no texts to learn the tokenizer's merges from; pass the training corpus.")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[END_OF_TEXT, IM_START, IM_END],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator([*texts, *TEMPLATE_WORDS], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=IM_START, eos_token=IM_END, pad_token=IM_END,
                                   unk_token=END_OF_TEXT, chat_template=CHAT_TEMPLATE)
