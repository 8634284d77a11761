"""CLIPScore and RefCLIPScore (Hessel et al., 2021): caption scores from a CLIP model's cosine similarities.

As the authors define them (paper and https://github.com/jmhessel/clipscore):
- every text, candidate or reference, is prefixed with "A photo depicts " before CLIP encodes it;
- CLIP-S(c, v) = w * max(cos(c, v), 0) with w = 2.5, which stretches the cosines the authors saw with
  ViT-B/32 (roughly 0 to 0.4, never negative) to about [0, 1];
- RefCLIP-S(c, R, v) = harmonic mean of CLIP-S(c, v) and max(max_r cos(c, r), 0): the text side has no w.
  The authors' code leaves that text maximum unclipped; the paper clips it at 0, and so do we.
Both are per caption; the corpus number is their mean. With a model other than ViT-B/32, w = 2.5 no longer
has its meaning, but the definitions stay.
"""
from __future__ import annotations

import torch

from ..models.clip import encode_images, encode_texts
from ..profiles import Profile

W = 2.5
PREFIX = "A photo depicts "


def clip_score(model, tokenizer, images: torch.Tensor, captions: list[str], profile: Profile, w: float = W,
               prefix: str = PREFIX) -> torch.Tensor:
    """CLIP-S of each (image, caption) pair, shape (N,): w * max(cos(image, prefix + caption), 0).

    `images` are preprocessed for `model`, shape (N, C, H, W); `captions[i]` describes `images[i]`.
    """
    _check_pairs(images, captions)
    image_emb = encode_images(model, images, profile)
    caption_emb = encode_texts(model, tokenizer, [prefix + caption for caption in captions], profile)
    return _clipped_score(image_emb, caption_emb, w)


def ref_clip_score(model, tokenizer, images: torch.Tensor, captions: list[str], references: list[list[str]],
                   profile: Profile, w: float = W, prefix: str = PREFIX) -> torch.Tensor:
    """RefCLIP-S of each caption, shape (N,): the harmonic mean of its CLIP-S and its best reference cosine.

    The reference side is max(max_r cos(prefix + caption, prefix + r), 0) over the caption's references
    `references[i]`. Where both sides are 0 the harmonic mean (0/0) is taken as 0.
    """
    _check_pairs(images, captions)
    _check_references(references, len(captions))
    caption_emb = encode_texts(model, tokenizer, [prefix + caption for caption in captions], profile)
    image_side = _clipped_score(encode_images(model, images, profile), caption_emb, w)
    reference_emb = encode_texts(model, tokenizer, [prefix + ref for refs in references for ref in refs], profile)
    per_caption = reference_emb.split([len(refs) for refs in references])
    text_side = torch.stack([(refs @ caption).max() for caption, refs in zip(caption_emb, per_caption)]).clamp(min=0)
    total = image_side + text_side
    return torch.where(total > 0, 2 * image_side * text_side / total, torch.zeros_like(total))


def _clipped_score(image_emb: torch.Tensor, caption_emb: torch.Tensor, w: float) -> torch.Tensor:
    """w * max(cos, 0) of matching rows of two L2-normalised embedding matrices."""
    return w * (image_emb * caption_emb).sum(dim=-1).clamp(min=0)


def _check_pairs(images: torch.Tensor, captions: list[str]) -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError("images must be a preprocessed tensor of shape (N, C, H, W); "
                         "stack the model's preprocess(image) outputs.")
    if isinstance(captions, str) or len(captions) != len(images):
        raise ValueError(f"captions must be a list with one str per image: got {len(images)} images and "
                         f"{1 if isinstance(captions, str) else len(captions)} captions.")
    if not all(isinstance(caption, str) for caption in captions):
        raise ValueError("every caption must be a str.")


def _check_references(references: list[list[str]], n_captions: int) -> None:
    if len(references) != n_captions:
        raise ValueError(f"references must hold one list per caption: got {len(references)} lists "
                         f"for {n_captions} captions.")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or not all(isinstance(ref, str) for ref in refs):
            raise ValueError(f"references[{i}] must be a list of str; wrap a single reference as [reference].")
        if not refs:
            raise ValueError(f"references[{i}] is empty: every caption needs at least one reference.")
