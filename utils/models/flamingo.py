"""A Flamingo-style vision-language model: the image enters a frozen LM through gated cross-attention layers.

Flamingo (Alayrac et al. 2022) leaves the LM's own layers untouched and inserts, before each of them, a block in
which the text attends to the resampled image tokens; the block's two outputs are multiplied by tanh(alpha) with
alpha = 0 at initialisation, so the untrained model *is* the frozen LM, and training opens the gates as the
image becomes useful. The prompt holds no image placeholders: the image is read at every layer instead.
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .connectors import PerceiverResampler, feed_forward
from .vision_tower import VisionTower
from .vlm import VisionLanguageModel


class GatedCrossAttentionBlock(nn.Module):
    """Flamingo's gated xattn-dense block: x + tanh(attn_gate) * attn(norm(x), media), then
    + tanh(ff_gate) * ff(...), both gates 0 at initialisation (the block is then the identity)."""

    def __init__(self, dim: int, heads: int = 4, ff_mult: int = 4):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.attn_gate = nn.Parameter(torch.zeros(1))
        self.ff = feed_forward(dim, ff_mult)
        self.ff_gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, media: torch.Tensor) -> torch.Tensor:
        """x (B, L, dim) text hidden states, media (B, M, dim) image tokens -> (B, L, dim)."""
        x = x + torch.tanh(self.attn_gate) * self.attn(self.norm(x), media, media, need_weights=False)[0]
        return x + torch.tanh(self.ff_gate) * self.ff(x)


class CrossAttendingLayer(nn.Module):
    """An LM decoder layer with a gated cross-attention block in front; `media` is set by the model before each
    forward pass (None: the layer is the LM's own)."""

    def __init__(self, block: nn.Module, layer: nn.Module):
        super().__init__()
        self.block, self.layer = block, layer
        self.media: torch.Tensor | None = None

    def forward(self, hidden_states: torch.Tensor, *args, **kwargs):
        if self.media is not None:
            media = self.media.to(hidden_states.dtype)
            if len(media) != len(hidden_states):  # beam search: each row repeated once per beam, in order
                media = media.repeat_interleave(len(hidden_states) // len(media), dim=0)
            hidden_states = self.block(hidden_states, media)
        return self.layer(hidden_states, *args, **kwargs)


class CrossAttentionVLM(VisionLanguageModel):
    """Frozen vision tower -> Perceiver resampler -> gated cross-attention before every `every`-th LM layer.

    The connector (what trains in stage 1) is the resampler and the cross-attention blocks; the LM is frozen in
    stage 1, as in Flamingo. `block` builds one cross-attention block from (LM width, heads): pass your own
    class to try it.
    """

    def __init__(self, vision_tower: VisionTower, lm: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 num_latents: int = 8, resampler_layers: int = 2, every: int = 1, heads: int = 4,
                 block: type[nn.Module] = GatedCrossAttentionBlock):
        dim = lm.get_input_embeddings().embedding_dim
        resampler = PerceiverResampler(vision_tower.width, dim, num_latents, resampler_layers, heads)
        connector = nn.ModuleDict({"resampler": resampler})
        connector.num_tokens = 0  # the prompt holds no image: the text attends to it at the gated layers
        super().__init__(vision_tower, lm, tokenizer, connector=connector)
        decoder_layers = lm.get_decoder().layers
        self.gated_layers = list(range(0, len(decoder_layers), every))
        blocks = []
        for i in self.gated_layers:
            blocks.append(block(dim, heads).to(lm.device))
            decoder_layers[i] = CrossAttendingLayer(blocks[-1], decoder_layers[i])
        self.connector["cross_attention"] = nn.ModuleList(blocks)
        self.media_tokens = num_latents
        self.set_stage(1)

    def gates(self) -> dict[int, dict[str, float]]:
        """{LM layer: {"attn_gate": tanh(alpha), "ff_gate": tanh(alpha)}} for each gated layer: how far each
        block's two outputs are let in."""
        return {i: {name: torch.tanh(getattr(b, name)).item() for name in ("attn_gate", "ff_gate")}
                for i, b in zip(self.gated_layers, self.connector["cross_attention"])}

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, num_latents, LM width): the resampled image tokens the gated layers attend to."""
        return self.connector["resampler"](self.vision_tower(pixel_values))

    def embed(self, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """The LM's `inputs_embeds` (the text's own): the image goes to the gated layers, not into the sequence."""
        media = self.encode_images(pixel_values)
        for layer in self.lm.get_decoder().layers:
            if isinstance(layer, CrossAttendingLayer):
                layer.media = media
        return self.lm.get_input_embeddings()(input_ids)
