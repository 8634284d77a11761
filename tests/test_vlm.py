"""The LLaVA-style VLM and its parts, on tiny random models: vision tower, connectors, splicing, labels, stages,
generation and checkpoints."""
import pytest
import torch
import torch.nn.functional as F

from utils.models.clip import create_clip
from utils.models.connectors import MLPConnector, pixel_shuffle
from utils.models.language_model import chat_prompt
from utils.models.vision_tower import VisionTower
from utils.models.vlm import IGNORE_INDEX, IMAGE_TOKEN, VisionLanguageModel, mask_prompt_labels, splice_image_embeddings
from utils.offline.world_lm import tiny_llama
from utils.offline.world_tokenizer import build_tokenizer
from utils.profiles import PROFILES
from utils.training.loops import train_steps

CORPUS = ["a red cube left of a blue ball.", "what color is the cube? red", "how many balls are there? two",
          "describe the picture.", "a green triangle above a yellow square."]
LM_CONFIG = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": True,
             "initializer_range": 0.5}  # large weights: a random LM whose greedy output depends on its input


def world_tower(seed: int) -> VisionTower:
    torch.manual_seed(seed)
    return VisionTower(create_clip("WorldCLIP-Tiny")[0].visual)


@pytest.fixture(scope="module")
def tower():
    return world_tower(0)


@pytest.fixture
def tokenizer():
    return build_tokenizer(CORPUS, vocab_size=300)  # byte-level BPE, pads with its eos token like SmolLM2


@pytest.fixture
def vlm(tower, tokenizer):
    torch.manual_seed(0)
    return VisionLanguageModel(tower, tiny_llama(tokenizer, LM_CONFIG), tokenizer).eval()


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, 64, 64, generator=torch.Generator().manual_seed(seed))


# vision tower

def test_vision_tower_returns_the_final_patch_tokens(tower):
    assert (tower.grid, tower.num_patches, tower.width) == (8, 64, 192)
    x = images(2)
    tokens = tower(x)
    assert tokens.shape == (2, 64, 192)
    reference = tower.visual.forward_intermediates(x, indices=1, normalize_intermediates=True, output_fmt="NLC",
                                                   intermediates_only=True)["image_intermediates"][-1]
    torch.testing.assert_close(tokens, reference)


def test_vision_tower_stays_frozen_and_in_eval_mode(tower):
    torch.nn.Sequential(tower).train()
    assert not tower.visual.training and not any(m.training for m in tower.visual.modules())
    assert not any(p.requires_grad for p in tower.parameters())
    assert not tower(images(1)).requires_grad


def test_vision_tower_rejects_wrong_inputs(tower):
    with pytest.raises(ValueError, match="preprocess"):
        tower(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"clip_model\.visual"):
        VisionTower(torch.nn.Linear(2, 2))


def test_vision_tower_on_vit_b_32_shapes():
    torch.manual_seed(0)
    tower = VisionTower(create_clip(PROFILES["t4"].clip_model)[0].visual)
    assert (tower.grid, tower.num_patches, tower.width) == (7, 49, 768)
    assert tower(torch.randn(1, 3, 224, 224)).shape == (1, 49, 768)


# connectors

def test_mlp_connector_is_linear_or_linear_gelu_linear():
    x = torch.randn(2, 5, 6)
    linear = MLPConnector(6, 4, layers=1)
    torch.testing.assert_close(linear(x), x @ linear[0].weight.T + linear[0].bias)
    mlp = MLPConnector(6, 4, layers=2)
    hidden = F.gelu(x @ mlp[0].weight.T + mlp[0].bias)
    torch.testing.assert_close(mlp(x), hidden @ mlp[2].weight.T + mlp[2].bias)
    assert sum(p.numel() for p in mlp.parameters()) == 6 * 4 + 4 + 4 * 4 + 4
    with pytest.raises(ValueError, match="1 .* or 2"):
        MLPConnector(6, 4, layers=3)


def test_pixel_shuffle_merges_row_major_blocks():
    grid = torch.arange(16.0).view(1, 16, 1)  # a 4x4 grid whose token values are their positions
    expected = torch.tensor([[[0.0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]])
    torch.testing.assert_close(pixel_shuffle(grid, 2), expected)
    two_dims = torch.stack([grid, -grid], dim=-1).view(1, 16, 2)
    torch.testing.assert_close(pixel_shuffle(two_dims, 2)[0, 0], torch.tensor([0.0, -0, 1, -1, 4, -4, 5, -5]))
    assert pixel_shuffle(torch.randn(3, 64, 192), 2).shape == (3, 16, 768)
    torch.testing.assert_close(pixel_shuffle(grid, 1), grid)


def test_pixel_shuffle_rejects_bad_grids():
    with pytest.raises(ValueError, match=r"\[1, 2, 4, 8\]"):
        pixel_shuffle(torch.randn(1, 64, 4), 3)
    with pytest.raises(ValueError, match="square"):
        pixel_shuffle(torch.randn(1, 50, 4), 2)


# the pure functions

def test_splice_replaces_exactly_the_placeholders_in_order():
    image_id = 9
    input_ids = torch.tensor([[1, 9, 9, 2, 3], [1, 2, 9, 3, 9]])
    text = torch.randn(2, 5, 4)
    image = torch.randn(2, 2, 4, requires_grad=True)
    out = splice_image_embeddings(text, image, input_ids, image_id)
    torch.testing.assert_close(out[0, [1, 2]], image[0])
    torch.testing.assert_close(out[1, [2, 4]], image[1])
    keep = input_ids != image_id
    torch.testing.assert_close(out[keep], text[keep])
    out.sum().backward()
    torch.testing.assert_close(image.grad, torch.ones_like(image))


def test_splice_rejects_a_wrong_number_of_placeholders():
    with pytest.raises(ValueError, match=r"\[2, 1\] times"):
        ids = torch.tensor([[9, 9, 1, 1], [9, 1, 1, 1]])
        splice_image_embeddings(torch.randn(2, 4, 3), torch.randn(2, 2, 3), ids, 9)
    with pytest.raises(ValueError, match="embedding width"):
        splice_image_embeddings(torch.randn(1, 4, 3), torch.randn(1, 2, 5), torch.tensor([[9, 9, 1, 1]]), 9)


def test_mask_prompt_labels_keeps_answers_and_a_pad_equal_to_eos():
    eos = 2  # also the padding id, as in SmolLM2
    input_ids = torch.tensor([[5, 6, 7, 8, eos, eos], [5, 6, 7, eos, eos, eos]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]])
    labels = mask_prompt_labels(input_ids, torch.tensor([2, 1]), attention_mask)
    x = IGNORE_INDEX
    assert labels.tolist() == [[x, x, 7, 8, eos, x], [x, 6, 7, eos, x, x]]


def test_mask_prompt_labels_rejects_left_padding_and_empty_answers():
    with pytest.raises(ValueError, match="right padding"):
        mask_prompt_labels(torch.tensor([[0, 5, 6]]), torch.tensor([1]), torch.tensor([[0, 1, 1]]))
    with pytest.raises(ValueError, match="answer token"):
        mask_prompt_labels(torch.tensor([[5, 6, 0]]), torch.tensor([2]), torch.tensor([[1, 1, 0]]))


# the assembled model

def test_construction_adds_the_placeholder_and_sizes_the_connector(tower, tokenizer):
    n_before = len(tokenizer)
    lm = tiny_llama(tokenizer, LM_CONFIG)
    vlm = VisionLanguageModel(tower, lm, tokenizer, connector_layers=1, shuffle_factor=2)
    assert len(tokenizer) == n_before + 1 and vlm.image_token_id == n_before
    assert tokenizer(IMAGE_TOKEN * 3, add_special_tokens=False)["input_ids"] == [vlm.image_token_id] * 3
    assert lm.get_input_embeddings().num_embeddings == len(tokenizer)
    assert vlm.num_image_tokens == 16 and (vlm.connector.in_dim, vlm.connector.out_dim) == (768, 32)
    assert vlm.encode_images(images(2)).shape == (2, 16, 32)
    with pytest.raises(ValueError, match="does not divide"):
        VisionLanguageModel(tower, lm, tokenizer, shuffle_factor=3)


def test_collate_builds_chats_with_labels_on_answers_only(vlm, tokenizer):
    prompts, answers = ["what color is the cube?", "describe the picture."], ["red", "a red cube left of a blue ball."]
    batch = vlm.collate(list(images(2)), prompts, answers)
    assert batch["pixel_values"].shape == (2, 3, 64, 64)
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    assert ids.shape == mask.shape == labels.shape and mask[0, -1] == 0 and mask[1].all()  # right-padded
    for b, (prompt, answer) in enumerate(zip(prompts, answers)):
        assert (ids[b] == vlm.image_token_id).sum() == vlm.num_image_tokens
        answer_ids = labels[b][labels[b] != IGNORE_INDEX]
        assert tokenizer.decode(answer_ids) == answer + tokenizer.eos_token
        user = IMAGE_TOKEN * vlm.num_image_tokens + "\n" + prompt
        prompt_len = int(mask[b].sum()) - len(answer_ids)
        assert tokenizer.decode(ids[b, :prompt_len]) == chat_prompt(tokenizer, user)  # what generate() sees
        assert (labels[b, :prompt_len] == IGNORE_INDEX).all() and (labels[b][mask[b] == 0] == IGNORE_INDEX).all()
    with pytest.raises(ValueError, match="one prompt and one answer per image"):
        vlm.collate(list(images(2)), prompts, answers[:1])


def test_loss_is_cross_entropy_over_answer_tokens_only(vlm):
    batch = vlm.collate(images(2), ["what color is the cube?", "how many?"], ["red", "two balls."])
    out = vlm(**batch)
    assert out.logits.shape == (*batch["input_ids"].shape, len(vlm.tokenizer))
    targets = batch["labels"][:, 1:]
    scored = targets != IGNORE_INDEX
    expected = F.cross_entropy(out.logits[:, :-1][scored], batch["input_ids"][:, 1:][scored])
    torch.testing.assert_close(out.loss, expected)
    everything = vlm(**{**batch, "labels": batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)}).loss
    assert not torch.isclose(everything, out.loss)


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _unchanged(module: torch.nn.Module, before: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(v, before[k]) for k, v in module.state_dict().items())


@pytest.mark.parametrize("stage", [1, 2])
def test_stages_train_the_connector_then_the_language_model(vlm, stage):
    vlm.set_stage(stage)
    counts = vlm.parameter_counts()
    connector = counts["connector"]["total"]
    assert connector == 192 * 32 + 32 + 32 * 32 + 32 and counts["connector"]["trainable"] == connector
    assert counts["vision tower"]["trainable"] == 0
    assert counts["language model"]["trainable"] == (0 if stage == 1 else counts["language model"]["total"])
    assert counts["all"]["total"] == sum(counts[p]["total"] for p in ("vision tower", "connector", "language model"))
    before = {part: _snapshot(getattr(vlm, part)) for part in ("vision_tower", "connector", "lm")}
    batch = vlm.collate(images(2), ["what color is the cube?", "how many?"], ["red", "two balls."])
    train_steps(vlm, [batch], PROFILES["offline"], lr=1e-2, steps=2, desc="test")
    assert not vlm.vision_tower.visual.training
    assert _unchanged(vlm.vision_tower, before["vision_tower"])
    assert not _unchanged(vlm.connector, before["connector"])
    assert _unchanged(vlm.lm, before["lm"]) == (stage == 1)
    with pytest.raises(ValueError, match="stage 3"):
        vlm.set_stage(3)


def test_batched_generation_matches_one_by_one(vlm):
    pixels = images(3, seed=1)
    prompts = ["what color is the cube?", "describe the picture.", "how many balls are there in the picture?"]
    batched = vlm.generate(pixels, prompts, max_new_tokens=6)
    singles = [vlm.generate(pixels[i:i + 1], [p], max_new_tokens=6)[0] for i, p in enumerate(prompts)]
    assert batched == singles
    assert len(set(singles)) > 1  # the answers depend on the input, so misplaced padding would show


def test_beam_search_returns_one_string_per_prompt(vlm):
    pixels, prompts = images(2), ["what color is the cube?", "describe the picture."]
    beams = vlm.generate(pixels, prompts, max_new_tokens=5, num_beams=3)
    assert len(beams) == 2 and all(isinstance(text, str) and text for text in beams)
    assert beams == [vlm.generate(pixels[i:i + 1], [p], max_new_tokens=5, num_beams=3)[0]
                     for i, p in enumerate(prompts)]


def test_save_and_load_reproduce_logits_and_generations(vlm, tower, tmp_path):
    with torch.no_grad():
        vlm.connector[0].weight.mul_(3)  # not the initialisation a fresh model would get
    batch = vlm.collate(images(2), ["what color is the cube?", "how many?"], ["red", "two balls."])
    vlm.save(tmp_path)
    loaded = VisionLanguageModel.load(tmp_path, tower).eval()
    assert loaded.image_token_id == vlm.image_token_id and len(loaded.tokenizer) == len(vlm.tokenizer)
    with torch.no_grad():
        assert torch.equal(loaded(**batch).logits, vlm(**batch).logits)
    prompts = ["what color is the cube?", "describe the picture."]
    assert loaded.generate(images(2), prompts, max_new_tokens=6) == vlm.generate(images(2), prompts, max_new_tokens=6)
    with pytest.raises(ValueError, match="different vision tower"):
        VisionLanguageModel.load(tmp_path, world_tower(seed=1))
    with pytest.raises(FileNotFoundError, match="no vlm.json"):
        VisionLanguageModel.load(tmp_path / "lm", tower)


def test_log_likelihood_is_minus_the_loss_times_the_answer_tokens(vlm):
    pixels = images(3, seed=4)
    answers = ["a red circle", "two blue squares and a star", "nothing"]
    scores = vlm.log_likelihood(pixels, ["describe"] * 3, answers)
    for i, answer in enumerate(answers):  # one row at a time: the model's mean loss over that row's answer tokens
        batch = vlm.collate(pixels[i:i + 1], ["describe"], [answer])
        n_tokens = (batch["labels"][:, 1:] != -100).sum().item()
        assert scores[i].item() == pytest.approx(-vlm(**batch).loss.item() * n_tokens, rel=1e-4)
    assert vlm.log_likelihood(pixels[:1], ["describe"], ["a red circle"]).item() == pytest.approx(scores[0].item(),
                                                                                              rel=1e-4)
