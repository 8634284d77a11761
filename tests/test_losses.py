import math

import open_clip
import pytest
import torch
import torch.nn.functional as F

from utils.training.losses import clip_loss, siglip_loss, symmetric_infonce


def test_worked_example_from_chapter_2():
    S = torch.tensor([[5.0, 1.2, 0.3], [0.8, 4.5, 0.5], [0.1, 0.7, 4.8]])
    image_1 = -math.log(math.exp(5.0) / (math.exp(5.0) + math.exp(1.2) + math.exp(0.3)))
    assert round(image_1, 3) == 0.031
    rows = [-math.log(math.exp(S[i, i]) / sum(math.exp(x) for x in S[i])) for i in range(3)]
    cols = [-math.log(math.exp(S[i, i]) / sum(math.exp(x) for x in S[:, i])) for i in range(3)]
    assert symmetric_infonce(S).item() == pytest.approx((sum(rows) + sum(cols)) / 6, abs=1e-6)


def test_two_by_two_by_hand():
    # identity similarities, scale 2: each row/column is softmax([2, 0]) -> -log(e^2 / (e^2 + 1))
    emb = torch.eye(2)
    assert clip_loss(emb, emb, 2.0).item() == pytest.approx(math.log(1 + math.exp(-2)), abs=1e-6)


def test_is_symmetric_in_the_two_directions():
    logits = torch.tensor([[3.0, 0.0], [2.0, 1.0]])
    expected = (F.cross_entropy(logits, torch.arange(2)) + F.cross_entropy(logits.T, torch.arange(2))) / 2
    assert symmetric_infonce(logits).item() == pytest.approx(expected.item())
    assert symmetric_infonce(logits).item() != pytest.approx(F.cross_entropy(logits, torch.arange(2)).item())


@pytest.mark.parametrize("n,d", [(2, 4), (16, 32), (256, 512)])
def test_matches_open_clip(n, d):
    g = torch.Generator().manual_seed(n)
    img = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    txt = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    scale = torch.tensor(37.5)
    assert torch.allclose(clip_loss(img, txt, scale), open_clip.ClipLoss()(img, txt, scale), atol=1e-5)


def test_siglip_by_hand():
    # two orthogonal pairs, scale 10, bias -5: positives have logit 5, negatives -5
    emb = torch.eye(2)
    per_pair = math.log(1 + math.exp(-5))  # -log sigmoid(5) for a positive, -log sigmoid(-(-5)) for a negative
    assert siglip_loss(emb, emb, 10.0, -5.0).item() == pytest.approx(4 * per_pair / 2, rel=1e-6)


@pytest.mark.parametrize("n,d", [(2, 4), (16, 32), (256, 512)])
def test_siglip_matches_open_clip(n, d):
    from open_clip.loss import SigLipLoss

    g = torch.Generator().manual_seed(n)
    img = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    txt = F.normalize(torch.randn(n, d, generator=g), dim=-1)
    scale, bias = torch.tensor(10.0), torch.tensor(-10.0)
    assert torch.allclose(siglip_loss(img, txt, scale, bias), SigLipLoss()(img, txt, scale, bias), atol=1e-5)


def test_logit_scale_grad_by_hand():
    # identity embeddings: the loss is log(1 + e^-s), so dL/ds = -1 / (1 + e^s)
    from utils.training.losses import logit_scale_grad
    for s in (0.5, 2.0, 10.0):
        assert logit_scale_grad(torch.eye(2), torch.eye(2), s).item() == pytest.approx(-1 / (1 + math.exp(s)), abs=1e-6)


def test_clip_loss_in_batches_drops_the_partial_batch():
    from utils.training.losses import clip_loss_in_batches
    g = torch.Generator().manual_seed(0)
    img = F.normalize(torch.randn(10, 8, generator=g), dim=-1)
    txt = F.normalize(torch.randn(10, 8, generator=g), dim=-1)
    expected = (clip_loss(img[:4], txt[:4], 5.0) + clip_loss(img[4:8], txt[4:8], 5.0)) / 2
    assert clip_loss_in_batches(img, txt, 5.0, batch_size=4).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="no full batch"):
        clip_loss_in_batches(img, txt, 5.0, batch_size=11)


def test_fit_temperature_reaches_the_same_minimum_from_both_sides():
    from utils.training.losses import fit_temperature, logit_scale_grad
    g = torch.Generator().manual_seed(0)
    img = F.normalize(torch.randn(32, 16, generator=g), dim=-1)
    txt = F.normalize(img + 0.8 * torch.randn(32, 16, generator=g), dim=-1)  # aligned, imperfectly
    soft, sharp = fit_temperature(img, txt, 1.0, 32)[-1], fit_temperature(img, txt, 0.01, 32)[-1]
    assert soft == pytest.approx(sharp, rel=0.02)
    assert abs(logit_scale_grad(img, txt, 1 / soft).item()) < 1e-3  # a stationary point of the loss
