"""Connectors: what turns a vision tower's patch tokens into vectors the language model reads as words."""
from __future__ import annotations

import torch
from torch import nn


class MLPConnector(nn.Sequential):
    """A projector from vision width `in_dim` to the LM's embedding width `out_dim`, applied to each token.

    `layers=1`: one linear map (LLaVA-1). `layers=2`: linear, GELU, linear (LLaVA-1.5's "mlp2x_gelu").
    """

    def __init__(self, in_dim: int, out_dim: int, layers: int = 2):
        if layers == 1:
            super().__init__(nn.Linear(in_dim, out_dim))
        elif layers == 2:
            super().__init__(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))
        else:
            raise ValueError(f"layers={layers}: an MLPConnector has 1 (LLaVA-1, linear) or 2 (LLaVA-1.5, MLP) layers.")
        self.in_dim, self.out_dim, self.layers = in_dim, out_dim, layers


def shuffled_grid(grid: int, factor: int) -> int:
    """Side of the token grid left after `pixel_shuffle` by `factor` (an error if `factor` does not divide `grid`)."""
    if factor < 1 or grid % factor:
        divisors = [f for f in range(1, grid + 1) if grid % f == 0]
        raise ValueError(f"pixel shuffle factor {factor} does not divide the {grid}x{grid} patch grid; "
                         f"choose one of {divisors}.")
    return grid // factor


def pixel_shuffle(tokens: torch.Tensor, factor: int) -> torch.Tensor:
    """Merge each `factor` x `factor` block of a square token grid into one token (nanoVLM, Idefics3).

    (B, side*side, d) in row-major order -> (B, (side/factor)^2, d*factor^2): factor^2 times fewer tokens for
    the LM, each the concatenation of its block's tokens in row-major order (top-left first).
    """
    batch, n, dim = tokens.shape
    side = round(n ** 0.5)
    if side * side != n:
        raise ValueError(f"pixel shuffle needs a square grid of tokens, got {n} tokens; drop any class token.")
    out = shuffled_grid(side, factor)
    blocks = tokens.reshape(batch, out, factor, out, factor, dim).permute(0, 1, 3, 2, 4, 5)
    return blocks.reshape(batch, out * out, factor * factor * dim)
