"""Lab 9's connectors on tiny random models: the Perceiver resampler, the Q-Former, Flamingo's gated
cross-attention (the identity at initialisation, the frozen LM's logits), stages, parameter counts, generation,
and the lab's data split and block check."""
import pandas as pd
import pytest
import torch
from test_vlm import LM_CONFIG, images, world_tower
from torch import nn

from utils.models.connectors import PerceiverResampler, QFormer
from utils.models.flamingo import CrossAttendingLayer, CrossAttentionVLM, GatedCrossAttentionBlock
from utils.models.vlm import VisionLanguageModel
from utils.offline.world_lm import tiny_llama
from utils.offline.world_tokenizer import build_tokenizer
from utils.profiles import PROFILES
from utils.recipes import connectors as compare
from utils.training.loops import train_steps

CORPUS = ["a red cube left of a blue ball.", "what color is the cube? red", "what shape is blue? ball"]


@pytest.fixture(scope="module")
def tower():
    return world_tower(0)


def fresh_lm(tokenizer):
    torch.manual_seed(1)
    return tiny_llama(tokenizer, LM_CONFIG)


def test_resampler_and_qformer_give_a_fixed_number_of_tokens_whatever_the_patches():
    torch.manual_seed(0)
    for module in (PerceiverResampler(12, 32, num_latents=5), QFormer(12, 32, num_queries=5)):
        assert module.num_tokens == 5
        for patches in (4, 49):
            assert module(torch.randn(3, patches, 12)).shape == (3, 5, 32)


def test_resampler_output_depends_on_the_image():
    torch.manual_seed(0)
    resampler = PerceiverResampler(12, 32, num_latents=4)
    a, b = torch.randn(1, 9, 12), torch.randn(1, 9, 12)
    assert not torch.allclose(resampler(a), resampler(b))


def test_gated_block_is_the_identity_until_a_gate_opens():
    torch.manual_seed(0)
    block = GatedCrossAttentionBlock(16, heads=4)
    x, media = torch.randn(2, 5, 16), torch.randn(2, 3, 16)
    assert torch.equal(block(x, media), x)
    with torch.no_grad():
        block.attn_gate.fill_(1.0)
    attended = block.attn(block.norm(x), media, media)[0]
    torch.testing.assert_close(block(x, media), x + torch.tanh(torch.tensor(1.0)) * attended)


def test_closed_gates_still_receive_gradients_so_training_can_open_them():
    torch.manual_seed(0)
    block = GatedCrossAttentionBlock(16, heads=4)
    block(torch.randn(2, 5, 16), torch.randn(2, 3, 16)).pow(2).sum().backward()
    assert block.attn_gate.grad.abs().item() > 0
    assert block.ff_gate.grad is not None  # the ff output is 0-gated too, but its gate's gradient exists


def test_untrained_flamingo_model_computes_the_frozen_lms_logits(tower):
    tokenizer = build_tokenizer(CORPUS, vocab_size=300)
    frozen = fresh_lm(tokenizer)
    vocab = frozen.get_input_embeddings().num_embeddings
    vlm = CrossAttentionVLM(tower, fresh_lm(tokenizer), tokenizer, num_latents=4)
    batch = vlm.collate(images(2), ["what color is the cube?", "what shape is blue?"], ["red", "ball"])
    assert compare.logits_gap_to_frozen_lm(vlm, frozen, batch) <= 1e-6
    assert vlm.num_image_tokens == 0 and compare.image_tokens(vlm) == 4
    assert all(isinstance(layer, CrossAttendingLayer) for layer in vlm.lm.get_decoder().layers)
    with torch.no_grad():  # an open gate lets the image in
        vlm.connector["cross_attention"][0].attn_gate.fill_(1.0)
    assert compare.logits_gap_to_frozen_lm(vlm, frozen, batch) > 1e-3


def test_flamingo_stage_1_trains_resampler_and_blocks_not_the_lm_and_counts_them_apart(tower):
    tokenizer = build_tokenizer(CORPUS, vocab_size=300)
    vlm = CrossAttentionVLM(tower, fresh_lm(tokenizer), tokenizer, num_latents=4, every=2)
    assert len(vlm.connector["cross_attention"]) == 1 and list(vlm.gates()) == [0]  # 2 LM layers, every second
    counts = vlm.parameter_counts()
    lm_own = sum(p.numel() for n, p in vlm.lm.named_parameters() if ".block." not in n)
    assert counts["language model"] == {"total": lm_own, "trainable": 0}
    assert counts["connector"]["trainable"] == counts["connector"]["total"] == sum(
        p.numel() for p in vlm.connector.parameters())
    vlm.set_stage(2)
    assert vlm.parameter_counts()["language model"]["trainable"] == lm_own


def test_flamingo_training_opens_the_gates_and_generates(tower):
    tokenizer = build_tokenizer(CORPUS, vocab_size=300)
    vlm = CrossAttentionVLM(tower, fresh_lm(tokenizer), tokenizer, num_latents=4)
    batch = vlm.collate(images(4), ["what color is the cube?"] * 4, ["red", "blue", "red", "blue"])
    train_steps(vlm, [batch], PROFILES["offline"], lr=1e-2, steps=5, desc="test")
    assert max(abs(g) for gates in vlm.gates().values() for g in gates.values()) > 0.01
    out = vlm.generate(images(2), ["what color is the cube?"] * 2, max_new_tokens=3, num_beams=2)
    assert len(out) == 2 and all(isinstance(text, str) for text in out)


def test_vlm_with_a_qformer_splices_its_queries(tower):
    tokenizer = build_tokenizer(CORPUS, vocab_size=300)
    torch.manual_seed(0)
    qformer = QFormer(tower.width, LM_CONFIG["hidden_size"], num_queries=3)
    vlm = VisionLanguageModel(tower, fresh_lm(tokenizer), tokenizer, connector=qformer)
    assert vlm.num_image_tokens == 3 and vlm.connector is qformer
    batch = vlm.collate(images(2), ["what color is the cube?"] * 2, ["red", "blue"])
    assert (batch["input_ids"] == vlm.image_token_id).sum(dim=1).tolist() == [3, 3]
    assert torch.isfinite(vlm(**batch).loss)
    with pytest.raises(TypeError, match="MLP connector"):
        vlm.save("unused")


def test_question_splits_keep_the_recipes_types_and_name_what_is_missing():
    recipe = compare.RECIPES["offline"]
    rows = [{"image_id": i, "image": bytes([i]), "question": q, "answer": a, "question_type": t,
             "split": "train" if i < 3 else "test"}
            for i in range(4) for q, a, t in (("what color is the cube?", "red", "color"),
                                               ("is there a cube?", "yes", "existence"))]
    splits = compare.question_splits(pd.DataFrame(rows), recipe)
    assert set(splits.train["question_type"]) == {"color"} and len(splits.test) == 1
    assert len(splits.images) == 4
    with pytest.raises(ValueError, match="no questions of the types"):
        compare.question_splits(pd.DataFrame(rows).query("question_type == 'existence'"), recipe)


def test_question_only_baseline_answers_each_question_with_its_training_favourite():
    recipe = compare.RECIPES["offline"]
    table = pd.DataFrame({"image_id": range(5), "image": [bytes([i]) for i in range(5)],
                          "question": ["q1", "q1", "q1", "q1", "q2"], "answer": ["red", "red", "blue", "red", "blue"],
                          "answers": [["red"] * 10, ["red"] * 10, ["blue"] * 10, ["blue"] * 10, ["red"] * 10],
                          "question_type": ["color"] * 5, "split": ["train"] * 3 + ["test"] * 2})
    row = compare.question_only_baseline(compare.question_splits(table, recipe))
    assert row["VQA accuracy"] == pytest.approx(0.5)  # q1 -> "red": wrong; q2 (unseen) -> the overall "red": right


class NoGateBlock(GatedCrossAttentionBlock):
    def forward(self, x, media):
        x = x + self.attn(self.norm(x), media, media, need_weights=False)[0]
        return x + torch.tanh(self.ff_gate) * self.ff(x)


class SelfAttentionBlock(GatedCrossAttentionBlock):
    def forward(self, x, media):
        x = x + torch.tanh(self.attn_gate) * self.attn(self.norm(x), self.norm(x), self.norm(x))[0]
        return x + torch.tanh(self.ff_gate) * self.ff(x)


class FeedForwardOnInputBlock(GatedCrossAttentionBlock):
    def forward(self, x, media):
        y = x + torch.tanh(self.attn_gate) * self.attn(self.norm(x), media, media)[0]
        return y + torch.tanh(self.ff_gate) * self.ff(x)


class NoTanhBlock(GatedCrossAttentionBlock):
    def forward(self, x, media):
        x = x + self.attn_gate * self.attn(self.norm(x), media, media, need_weights=False)[0]
        return x + self.ff_gate * self.ff(x)


class OpenGateBlock(GatedCrossAttentionBlock):
    def __init__(self, dim, heads=4):
        super().__init__(dim, heads)
        self.attn_gate = nn.Parameter(torch.ones(1))


@pytest.mark.parametrize("wrong", [NoGateBlock, NoTanhBlock, SelfAttentionBlock, FeedForwardOnInputBlock,
                                   OpenGateBlock])
def test_block_check_catches_wrong_blocks(wrong):
    with pytest.raises(AssertionError):
        compare.check_cross_attention_block(wrong)


def test_block_check_accepts_the_reference(capsys):
    compare.check_cross_attention_block(GatedCrossAttentionBlock)
    assert capsys.readouterr().out.count("same output") == 4
