"""The offline profile's world LM, as the labs get it: fluent in world text, and it knows the chat format.

Loads the cached model (built in about two minutes on two cores the first time).
"""
import torch
from transformers import LlamaForCausalLM

from utils.backbones import load_language_model
from utils.data.grammar import NUMBER_WORDS
from utils.data.scene_graph import COLORS, SIZES, STYLES
from utils.models.language_model import perplexity, reply
from utils.offline.world_lm import held_out_lines
from utils.profiles import PROFILES

MAX_PERPLEXITY = 3.0  # measured 2.38 on held-out world text; an untrained model scores about the vocabulary size
ANSWER_KINDS = {"what color": set(COLORS), "what size": set(SIZES), "how many": set(NUMBER_WORDS),
                "solid, striped or outlined": set(STYLES), "": {"yes", "no"}}


def test_world_lm_predicts_held_out_world_text_far_better_than_chance():
    model, tokenizer = load_language_model(PROFILES["offline"])
    lines = held_out_lines(100)
    torch.manual_seed(0)
    untrained = perplexity(LlamaForCausalLM(model.config), tokenizer, lines)
    trained = perplexity(model, tokenizer, lines)
    assert trained < MAX_PERPLEXITY < 0.1 * untrained, (trained, untrained)


def test_world_lm_answers_each_question_with_a_word_of_the_right_kind():
    model, tokenizer = load_language_model(PROFILES["offline"])
    questions = [line.rpartition("? ")[0] + "?" for line in held_out_lines(20) if "? " in line]
    wrong = [(q, a) for q in questions if (a := reply(model, tokenizer, q, max_new_tokens=4))
             not in next(kinds for key, kinds in ANSWER_KINDS.items() if key in q)]
    assert len(wrong) <= 0.05 * len(questions), wrong
