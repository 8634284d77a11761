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


def feed_forward(dim: int, mult: int = 4) -> nn.Sequential:
    """Pre-norm feed-forward block: LayerNorm, a `mult`-times wider GELU layer, back to `dim`."""
    return nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, mult * dim), nn.GELU(), nn.Linear(mult * dim, dim))


class _ResamplerLayer(nn.Module):
    """One resampler layer: the latents attend to the image tokens and to themselves together, then a feed-forward."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm_media, self.norm_latents = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ff = feed_forward(dim)

    def forward(self, latents: torch.Tensor, media: torch.Tensor) -> torch.Tensor:
        query = self.norm_latents(latents)
        keys = torch.cat([self.norm_media(media), query], dim=1)
        latents = latents + self.attn(query, keys, keys, need_weights=False)[0]
        return latents + self.ff(latents)


class PerceiverResampler(nn.Module):
    """Flamingo's Perceiver resampler: `num_latents` learned vectors read the patch tokens through attention, so
    the LM sees a fixed number of visual tokens whatever the number of patches.

    (B, P, in_dim) patch tokens -> (B, num_latents, dim). Each layer's keys and values are the image tokens and
    the latents together, as in Flamingo (Alayrac et al. 2022, section 2.1); the time embeddings that let it read
    video frames are left out (one image per example here).
    """

    def __init__(self, in_dim: int, dim: int, num_latents: int = 8, layers: int = 2, heads: int = 4):
        super().__init__()
        self.project = nn.Linear(in_dim, dim)
        self.latents = nn.Parameter(torch.randn(num_latents, dim) * 0.02)
        self.layers = nn.ModuleList(_ResamplerLayer(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.num_tokens = num_latents

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        media = self.project(tokens)
        latents = self.latents.expand(len(tokens), -1, -1)
        for layer in self.layers:
            latents = layer(latents, media)
        return self.norm(latents)


class _QFormerLayer(nn.Module):
    """One Q-Former layer: the queries attend to each other, then to the image tokens, then a feed-forward."""

    def __init__(self, dim: int, image_dim: int, heads: int):
        super().__init__()
        self.norm_self, self.norm_cross, self.norm_image = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(image_dim)
        self.self_attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, heads, kdim=image_dim, vdim=image_dim, batch_first=True)
        self.ff = feed_forward(dim)

    def forward(self, queries: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        q = self.norm_self(queries)
        queries = queries + self.self_attn(q, q, q, need_weights=False)[0]
        image = self.norm_image(image)
        queries = queries + self.cross_attn(self.norm_cross(queries), image, image, need_weights=False)[0]
        return queries + self.ff(queries)


class QFormer(nn.Module):
    """BLIP-2's querying transformer, small: `num_queries` learned queries attend to each other and to the patch
    tokens; a linear map takes their outputs to the LM's width, where the LM reads them as a soft prompt.

    (B, P, in_dim) -> (B, num_queries, out_dim). BLIP-2's Q-Former is a BERT-base initialised from BERT and first
    trained with its own three losses (contrastive, matching, captioning) before the LM sees it; this one
    starts from random weights and learns from the LM's loss only.
    """

    def __init__(self, in_dim: int, out_dim: int, num_queries: int = 8, layers: int = 2, heads: int = 4):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(num_queries, out_dim) * 0.02)
        self.layers = nn.ModuleList(_QFormerLayer(out_dim, in_dim, heads) for _ in range(layers))
        self.to_lm = nn.Sequential(nn.LayerNorm(out_dim), nn.Linear(out_dim, out_dim))
        self.num_tokens = num_queries

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        queries = self.queries.expand(len(tokens), -1, -1)
        for layer in self.layers:
            queries = layer(queries, tokens)
        return self.to_lm(queries)
