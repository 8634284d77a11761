"""A frozen CLIP image encoder that gives the language model its grid of patch tokens."""
from __future__ import annotations

import hashlib

import torch
from torch import nn

from ..memory import PerImageMemory


class VisionTower(nn.Module):
    """An open_clip `VisionTransformer` (a CLIP model's `.visual`), frozen, returning patch tokens (B, P, width).

    LLaVA feeds the LM every patch's feature, not CLIP's pooled and projected vector: one vector per image
    loses where things are. The tokens are those of block `layer` (default: the last; LLaVA takes the
    penultimate, -2, because CLIP's loss reads only the class token of the last block, so the last block's
    patch outputs are never trained for themselves), after the encoder's final LayerNorm, without the class token.
    The tower computes no gradients and stays in eval mode even when a parent module calls `.train()`.
    Note that it switches `visual.output_tokens` on.
    """

    def __init__(self, visual: nn.Module, layer: int = -1):
        super().__init__()
        if not all(hasattr(visual, a) for a in ("output_tokens", "grid_size", "image_size", "transformer")):
            raise ValueError(f"VisionTower wraps an open_clip VisionTransformer, got {type(visual).__name__}; "
                             "pass a CLIP model's image encoder, e.g. `VisionTower(clip_model.visual)`.")
        rows, cols = visual.grid_size
        if rows != cols:
            raise ValueError(f"the patch grid is {rows}x{cols}; VisionTower expects square images and patches.")
        depth = len(visual.transformer.resblocks)
        if not -depth <= layer < depth:
            raise ValueError(f"layer {layer} does not exist: the encoder has {depth} blocks; pass -1 (the last), -2 "
                             f"(the penultimate, as LLaVA) or an index from 0 to {depth - 1}.")
        visual.output_tokens = True
        self.layer = layer % depth
        self.last = self.layer == depth - 1
        self.visual = visual.requires_grad_(False).eval()
        self.grid = rows  # patches per side
        self.num_patches = rows * cols
        self.width = visual.transformer.width

    def train(self, mode: bool = True) -> VisionTower:
        """Frozen means fixed in eval mode too: a parent's `.train()` leaves the encoder in eval mode."""
        super().train(mode)
        self.visual.eval()
        return self

    @torch.no_grad()
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images, preprocessed as the CLIP expects -> (B, num_patches, width) patch tokens."""
        if pixel_values.ndim != 4 or tuple(pixel_values.shape[-2:]) != tuple(self.visual.image_size):
            raise ValueError(f"expected images of shape (B, 3, {self.visual.image_size[0]}, "
                             f"{self.visual.image_size[1]}), got {tuple(pixel_values.shape)}; "
                             "prepare them with the CLIP model's own `preprocess`.")
        if self.last:
            return self.visual(pixel_values)[1]
        return self.visual.forward_intermediates(pixel_values, indices=[self.layer], normalize_intermediates=True,
                                                 intermediates_only=True, output_fmt="NLC")["image_intermediates"][0]

    def fingerprint(self) -> str:
        """A hash of the encoder's weights (and of `layer`, unless the last): a saved VLM checks that it is reloaded
        with the same tower."""
        digest = hashlib.sha256(b"" if self.last else f"layer {self.layer}".encode())
        for name, tensor in sorted(self.visual.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        return digest.hexdigest()


class RememberingTower(VisionTower):
    """A `VisionTower` that computes each distinct image's patch tokens once and remembers them (the tower is
    frozen, so an image seen again, every epoch and at test time, gives the same tokens)."""

    def __init__(self, visual: nn.Module, layer: int = -1):
        super().__init__(visual, layer)
        self.memory = PerImageMemory(super().forward)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.memory(pixel_values)
