import math

import matplotlib
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import SigLipLoss

from utils.training.losses import chunked_siglip_loss, siglip_best_bias, siglip_loss

matplotlib.use("Agg")


def unit(n: int, d: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


@pytest.mark.parametrize("sizes", [[10], [3, 3, 3, 1], [1] * 5, [4, 1, 6]])
def test_chunked_equals_the_full_loss_and_open_clip(sizes):
    img, txt = unit(sum(sizes), 16, 0), unit(sum(sizes), 16, 1)
    chunked = chunked_siglip_loss(list(img.split(sizes)), list(txt.split(sizes)), 10.0, -2.5)
    assert chunked.item() == pytest.approx(siglip_loss(img, txt, 10.0, -2.5).item(), rel=1e-6)
    reference = SigLipLoss()(img, txt, torch.tensor(10.0), torch.tensor(-2.5))
    assert chunked.item() == pytest.approx(reference.item(), rel=1e-6)


def test_chunked_gives_the_same_gradients():
    img, txt = unit(7, 8, 2).requires_grad_(), unit(7, 8, 3)
    siglip_loss(img, txt, 5.0, -1.0).backward()
    full = img.grad.clone()
    img.grad = None
    chunked_siglip_loss(list(img.split([2, 5])), list(txt.split([2, 5])), 5.0, -1.0).backward()
    assert torch.allclose(img.grad, full, atol=1e-6)


def test_chunked_by_hand():
    # two devices of one orthogonal pair each, scale 10, bias -5: every cell costs log(1 + e^-5)
    emb = torch.eye(2)
    chunks = list(emb.split(1))
    assert chunked_siglip_loss(chunks, chunks, 10.0, -5.0).item() == pytest.approx(2 * math.log1p(math.exp(-5)))


@pytest.mark.parametrize("n", [2, 16, 1000])
def test_best_bias_for_orthogonal_pairs_is_minus_log_n_minus_one(n):
    # every cosine zero: one positive and n-1 negatives per row, all at logit b
    assert siglip_best_bias(torch.zeros(n, 4), torch.zeros(n, 4), 10.0) == pytest.approx(-math.log(n - 1), abs=1e-9)


def test_best_bias_with_equal_cosines_shifts_by_the_logit():
    emb = F.normalize(torch.ones(8, 4), dim=-1)  # every cosine 1: every logit t + b
    assert siglip_best_bias(emb, emb, 7.0) == pytest.approx(-7.0 - math.log(7), abs=1e-9)


def test_best_bias_minimises_the_loss():
    img, txt = unit(32, 16, 4), unit(32, 16, 5)
    b = siglip_best_bias(img, txt, 10.0)
    at = lambda x: siglip_loss(img.double(), txt.double(), 10.0, x).item()  # noqa: E731
    assert at(b) < at(b - 1e-3) and at(b) < at(b + 1e-3)


def test_best_bias_needs_a_negative():
    with pytest.raises(ValueError, match="no negatives"):
        siglip_best_bias(unit(1, 4, 0), unit(1, 4, 1), 10.0)


def test_seed_spread_draws_one_line_and_band_per_group():
    from matplotlib import pyplot as plt

    from utils.book.plots import seed_spread
    df = pd.DataFrame({"batch": [16, 16, 64, 64] * 2, "R@10": [0.2, 0.4, 0.3, 0.5, 0.1, 0.1, 0.2, 0.2],
                       "loss": ["softmax"] * 4 + ["sigmoid"] * 4, "seed": [0, 1] * 4})
    fig, ax = plt.subplots()
    seed_spread(ax, df, "batch", "R@10", "loss")
    means = [line.get_ydata().tolist() for line in ax.lines]
    assert means[0] == pytest.approx([0.3, 0.4]) and means[1] == pytest.approx([0.1, 0.2])
    assert len(ax.collections) == 4  # two scatters, two bands
    plt.close(fig)
