import pytest
import torch
import torch.nn.functional as F

from utils.metrics.clipscore import clip_score, ref_clip_score
from utils.models.clip import create_clip
from utils.profiles import PROFILES

OFFLINE = PROFILES["offline"]
P = "A photo depicts "


class LookupCLIP(torch.nn.Module):
    """A stand-in CLIP with chosen unit embeddings: image i is the tensor holding i, texts are looked up by name.

    Only prefixed texts are known, so a metric that forgets the prefix fails with a KeyError.
    """

    def __init__(self, image_vectors: list[list[float]], text_vectors: dict[str, list[float]]):
        super().__init__()
        self.image_vectors = torch.tensor(image_vectors)
        self.text_ids = {text: i for i, text in enumerate(text_vectors)}
        self.text_vectors = torch.tensor(list(text_vectors.values()))

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return torch.tensor([self.text_ids[text] for text in texts])

    def encode_image(self, images: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        return self.image_vectors[images.flatten().long()]

    def encode_text(self, tokens: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        return self.text_vectors[tokens]


def lookup_case():
    model = LookupCLIP(
        image_vectors=[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
        text_vectors={P + "a red circle": [0.6, 0.8],  # cos with image 0: 0.6
                      P + "a blue square": [0.6, -0.8],  # cos with image 1: -0.8
                      P + "a green star": [1.0, 0.0],  # cos with image 2: 1
                      P + "red circle": [0.8, 0.6],  # cos with "a red circle": 0.48 + 0.48 = 0.96
                      P + "circle": [0.0, 1.0],  # cos with "a red circle": 0.8
                      P + "blue square": [-0.6, 0.8],  # cos with "a blue square": -1
                      P + "a sun": [-1.0, 0.0]})  # cos with "a green star": -1
    images = torch.arange(3.0).view(3, 1, 1, 1)
    captions = ["a red circle", "a blue square", "a green star"]
    references = [["red circle", "circle"], ["blue square"], ["a sun"]]
    return model, images, captions, references


def test_clip_score_by_hand_clips_negative_cosines_at_zero():
    model, images, captions, _ = lookup_case()
    scores = clip_score(model, model.tokenize, images, captions, OFFLINE)
    assert scores.tolist() == pytest.approx([2.5 * 0.6, 0.0, 2.5 * 1.0])  # cos -0.8 scores 0, not -2


def test_ref_clip_score_by_hand_is_the_harmonic_mean_with_the_best_clipped_reference():
    model, images, captions, references = lookup_case()
    scores = ref_clip_score(model, model.tokenize, images, captions, references, OFFLINE)
    # 0: H(1.5, max(0.96, 0.8)) = 2 * 1.5 * 0.96 / 2.46;  1: both sides 0 -> 0
    # 2: H(2.5, max(-1, 0)) = 0 (unclipped, as in the authors' code, it would be 2 * 2.5 * -1 / 1.5 = -3.33)
    assert scores.tolist() == pytest.approx([2 * 1.5 * 0.96 / 2.46, 0.0, 0.0])


def test_matches_a_direct_computation_with_a_random_open_clip_model():
    torch.manual_seed(3)
    model, _, tokenizer = create_clip("WorldCLIP-Micro")
    texts = {"a red circle": ["a red circle"],  # caption: its references
             "two blue squares": ["blue squares", "two squares left of a star"],
             "a green triangle above a circle": ["a triangle"],
             "three stars": ["stars", "a moon", "three yellow stars"]}
    images = torch.randn(8, 3, 32, 32).repeat_interleave(len(texts), dim=0)  # every image with every caption
    captions, references = list(texts) * 8, list(texts.values()) * 8
    with torch.no_grad():
        image_emb = F.normalize(model.encode_image(images), dim=-1)
        caption_emb = F.normalize(model.encode_text(tokenizer([P + c for c in captions])), dim=-1)
        ref_embs = [F.normalize(model.encode_text(tokenizer([P + r for r in refs])), dim=-1) for refs in references]
    cosines = (image_emb * caption_emb).sum(dim=-1)
    # this seed gives every caption a positive cosine with some image, and some pairs a negative one
    assert (cosines > 0).view(8, len(texts)).any(dim=0).all() and (cosines < 0).any()
    expected_clip, expected_ref = [], []
    for i in range(len(captions)):
        image_side = 2.5 * max(float(cosines[i]), 0.0)
        text_side = max(max(float(r @ caption_emb[i]) for r in ref_embs[i]), 0.0)
        expected_clip.append(image_side)
        expected_ref.append(2 * image_side * text_side / (image_side + text_side) if image_side + text_side else 0.0)

    scores = clip_score(model, tokenizer, images, captions, OFFLINE)
    assert scores.shape == (32,)
    assert scores.tolist() == pytest.approx(expected_clip, abs=1e-6)
    ref_scores = ref_clip_score(model, tokenizer, images, captions, references, OFFLINE)
    assert ref_scores.tolist() == pytest.approx(expected_ref, abs=1e-6)


@pytest.mark.parametrize("images, captions, references, message", [
    (torch.zeros(2, 1, 1), ["a", "b"], [["a"], ["b"]], r"shape \(N, C, H, W\)"),
    (torch.zeros(2, 1, 1, 1), ["a"], [["a"], ["b"]], "2 images and 1 captions"),
    (torch.zeros(2, 1, 1, 1), ["a", 3], [["a"], ["b"]], "every caption must be a str"),
    (torch.zeros(2, 1, 1, 1), ["a", "b"], [["a"]], "1 lists for 2 captions"),
    (torch.zeros(2, 1, 1, 1), ["a", "b"], [["a"], "b"], r"references\[1\] must be a list of str"),
    (torch.zeros(2, 1, 1, 1), ["a", "b"], [["a"], []], r"references\[1\] is empty"),
])
def test_bad_input_is_a_clear_error(images, captions, references, message):
    model, *_ = lookup_case()
    with pytest.raises(ValueError, match=message):
        ref_clip_score(model, model.tokenize, images, captions, references, OFFLINE)
