"""Architecture diagrams for the chapters, drawn with matplotlib when the book is built."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle, RegularPolygon

# The course world's vocabulary: a coloured shape and the caption a writer would give it.
_PAIRS = [("#d62728", "circle", "a red circle"), ("#1f77b4", "square", "a blue square"),
          ("#2ca02c", "triangle", "a green triangle"), ("#e6b800", "hexagon", "a yellow hexagon")]
_IMAGE, _TEXT = "#4c72b0", "#dd8452"  # tower colours, reused for their embeddings


def _box(ax, x, y, w, h, text, color, fontsize=9, rotation=0):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05,rounding_size=0.15",
                                facecolor=color, edgecolor="black", linewidth=1, alpha=0.9))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, rotation=rotation,
            color="white", fontweight="bold")


def _arrow(ax, start, end, color="black", style="-|>", lw=1.2, ls="-"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color, linewidth=lw,
                                 linestyle=ls, shrinkA=2, shrinkB=2))


def _shape_icon(ax, cx, cy, color, shape, size=0.34):
    ax.add_patch(Rectangle((cx - 0.42, cy - 0.42), 0.84, 0.84, facecolor="#f4f1ea", edgecolor="grey", lw=0.8))
    if shape == "circle":
        ax.add_patch(plt.Circle((cx, cy), size, color=color))
    elif shape == "square":
        ax.add_patch(Rectangle((cx - size * 0.85, cy - size * 0.85), 1.7 * size, 1.7 * size, color=color))
    elif shape == "triangle":
        ax.add_patch(Polygon([(cx - size, cy - size * 0.8), (cx + size, cy - size * 0.8), (cx, cy + size)],
                             color=color))
    else:
        ax.add_patch(RegularPolygon((cx, cy), 6, radius=size, color=color))


def _canvas(width: float, height: float, xlim: tuple[float, float], ylim: tuple[float, float]):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.axis("off")
    return fig, ax


def clip_two_towers():
    """CLIP's image and text towers feeding the N x N matrix of scaled cosines (N = 4)."""
    n = len(_PAIRS)
    fig, ax = _canvas(9, 5.6, (-0.2, 13.8), (-1.3, 8.6))
    left, top = 7.0, 4.5  # the matrix occupies x in [left, left + n], y in [top - n, top]
    # Text tower: captions on top, one encoder, one embedding t_j per column.
    for j, (_, _, caption) in enumerate(_PAIRS):
        x = left + j + 0.5
        ax.text(x, 8.0, "\n".join(caption.rsplit(" ", 1)), ha="center", va="center", fontsize=8, style="italic")
        _arrow(ax, (x, 7.55), (x, 7.15))
        _arrow(ax, (x, 6.2), (x, 5.65), color=_TEXT)
        ax.add_patch(Rectangle((x - 0.3, 5.05), 0.6, 0.5, facecolor=_TEXT, edgecolor="black", lw=0.6))
        ax.text(x, 5.3, f"$t_{j + 1}$", ha="center", va="center", fontsize=10, color="white")
    _box(ax, left - 0.1, 6.25, n + 0.2, 0.85, "text encoder $g$ (transformer)", _TEXT)
    # Image tower: images on the left, one encoder, one embedding v_i per row.
    for i, (color, shape, _) in enumerate(_PAIRS):
        y = top - i - 0.5
        _shape_icon(ax, 0.6, y, color, shape)
        _arrow(ax, (1.1, y), (1.9, y))
        _arrow(ax, (3.7, y), (5.45, y), color=_IMAGE)
        ax.add_patch(Rectangle((5.55, y - 0.25), 0.9, 0.5, facecolor=_IMAGE, edgecolor="black", lw=0.6))
        ax.text(6.0, y, f"$v_{i + 1}$", ha="center", va="center", fontsize=10, color="white")
    _box(ax, 1.95, top - n - 0.1, 1.7, n + 0.2, "image encoder $f$\n(ViT or ResNet)", _IMAGE, rotation=90)
    ax.text(4.55, top + 0.35, "project,\nnormalise", ha="center", va="bottom", fontsize=7.5, color="dimgray")
    ax.text(left + n + 0.35, 5.75, "project,\nnormalise", ha="left", va="center", fontsize=7.5, color="dimgray")
    # The matrix: positives on the diagonal, every other cell a negative.
    for i in range(n):
        for j in range(n):
            diagonal = i == j
            ax.add_patch(Rectangle((left + j, top - i - 1), 1, 1, edgecolor="white", lw=1.5,
                                   facecolor="#55a868" if diagonal else "#d9d9d9"))
            ax.text(left + j + 0.5, top - i - 0.5, f"$v_{i + 1}^\\top t_{j + 1}$", ha="center", va="center",
                    fontsize=8.5, color="white" if diagonal else "black")
    # One row and one column, each an N-way softmax.
    ax.add_patch(Rectangle((left - 0.05, top - 2.05), n + 0.1, 1.1, fill=False, edgecolor=_IMAGE, lw=2,
                           linestyle="--"))
    ax.text(left + n + 0.25, top - 1.5, "row: which caption\nfits image 2?\n(softmax, image → text)",
            ha="left", va="center", fontsize=8, color=_IMAGE)
    ax.add_patch(Rectangle((left + 2.95, top - n - 0.05), 1.1, n + 0.1, fill=False, edgecolor=_TEXT, lw=2,
                           linestyle="--"))
    ax.text(left + 3.5, top - n - 0.35, "column: which image\nfits caption 4?\n(softmax, text → image)",
            ha="center", va="top", fontsize=8, color=_TEXT)
    ax.text(left + n / 2 - 1.3, top - n - 0.35, "$S_{ij} = v_i^\\top t_j / \\tau$\ngreen: the N positives\n"
            "grey: $N^2 - N$ negatives", ha="center", va="top", fontsize=8)
    fig.tight_layout()
    return fig


def softmax_vs_sigmoid(cosines: np.ndarray | None = None, scale: float = 10.0, bias: float = -5.0):
    """The same scaled cosines read by CLIP's row-wise softmax and by SigLIP's per-cell sigmoid."""
    c = np.array([[0.8, 0.1, 0.2], [0.3, 0.7, 0.0], [0.1, 0.2, 0.9]]) if cosines is None else cosines
    n = len(c)
    logits = scale * c
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    sigmoid = 1 / (1 + np.exp(-(logits + bias)))
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4))
    panels = [(softmax, "softmax (CLIP): each row is one $N$-way choice",
               "row sums to 1: raising one cell lowers the others", "Blues"),
              (sigmoid, "sigmoid (SigLIP): each cell is its own yes/no",
               "no sum: cells are scored independently", "Oranges")]
    for ax, (probs, title, note, cmap) in zip(axes, panels):
        ax.imshow(probs, cmap=cmap, vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                target = "match" if i == j else ("other" if ax is axes[0] else "no match")
                ax.text(j, i, f"{probs[i, j]:.2f}\n{target}", ha="center", va="center", fontsize=9,
                        color="white" if probs[i, j] > 0.55 else "black")
        ax.set_xticks(range(n), [f"caption {j + 1}" for j in range(n)], fontsize=8)
        ax.set_yticks(range(n), [f"image {i + 1}" for i in range(n)], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(note, fontsize=8.5)
    # Outline the rows the softmax normalises, and every cell the sigmoid scores alone.
    for i in range(n):
        axes[0].add_patch(Rectangle((-0.47, i - 0.47), n - 0.06, 0.94, fill=False, edgecolor="black", lw=1.6))
        for j in range(n):
            axes[1].add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, edgecolor="black", lw=1.2))
    fig.suptitle(f"cosines of the worked example, scale $t = {scale:g}$, sigmoid bias $b = {bias:g}$",
                 fontsize=10)
    fig.tight_layout()
    return fig


def finetune_pipeline():
    """The domain fine-tuning workflow of Lab 3, from the data file to the saved checkpoint."""
    steps = [("pairs.parquet", "image bytes + caption;\ntrain / val / test split", "#8172b3"),
             ("baseline", "off-the-shelf CLIP:\nrecall@1/5/10 of held-out\nqueries", _IMAGE),
             ("fine-tune", "both towers unfrozen,\ncontrastive loss,\nsmall learning rate", "#c44e52"),
             ("evaluate", "same queries, same\ngallery: before vs after,\nplus an outside probe", _IMAGE),
             ("failures", "worst-ranked queries,\nsorted into kinds", _TEXT),
             ("checkpoint", "state dict, cached under\nits data fingerprint\nand recipe", "#55a868")]
    fig, ax = _canvas(10, 2.0, (-0.1, 18.1), (0.7, 4.3))
    for k, (name, detail, color) in enumerate(steps):
        x = 3.05 * k
        _box(ax, x, 2.3, 2.4, 1.0, name, color, fontsize=9.5)
        ax.text(x + 1.2, 1.95, detail, ha="center", va="top", fontsize=7.5)
        if k:
            _arrow(ax, (x - 0.6, 2.8), (x - 0.05, 2.8))
    _arrow(ax, (3.05 * 3 + 1.2, 3.4), (3.05 + 1.2, 3.4), color="grey", style="-|>", ls="--")
    ax.text(3.05 * 2 + 1.2, 3.75, "compare on the same test split", ha="center", va="bottom", fontsize=7.5,
            color="grey")
    fig.tight_layout()
    return fig


def qformer_attention_masks(n_queries: int = 4, n_text: int = 4):
    """BLIP-2's three stage-1 objectives as self-attention masks over [queries; text] (row attends to column)."""
    n = n_queries + n_text
    q, t = slice(0, n_queries), slice(n_queries, n)
    unimodal = np.zeros((n, n))
    unimodal[q, q] = unimodal[t, t] = 1
    bidirectional = np.ones((n, n))
    causal = np.zeros((n, n))
    causal[q, q] = 1
    causal[t, q] = 1
    causal[t, t] = np.tril(np.ones((n_text, n_text)))
    labels = [f"$q_{i + 1}$" for i in range(n_queries)] + [f"$w_{j + 1}$" for j in range(n_text)]
    panels = [(unimodal, "image-text contrastive (ITC)", "uni-modal: queries and text\nnever see each other"),
              (bidirectional, "image-text matching (ITM)", "bi-directional: every token\nsees every token"),
              (causal, "image-grounded text generation (ITG)",
               "multimodal causal: text sees all queries\nand earlier words; queries see no text")]
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.2))
    for ax, (mask, title, note) in zip(axes, panels):
        ax.imshow(mask, cmap="Greens", vmin=0, vmax=1.4)
        ax.axhline(n_queries - 0.5, color="black", lw=1.2)
        ax.axvline(n_queries - 0.5, color="black", lw=1.2)
        ax.set_xticks(range(n), labels, fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(note, fontsize=8.5)
    axes[0].set_ylabel("token attending (row) to token attended (column)", fontsize=8.5)
    fig.tight_layout()
    return fig


def llava_captioner():
    """A LLaVA-style VLM: frozen vision tower, a small connector, image tokens spliced into the LM's input."""
    fig, ax = _canvas(10, 2.9, (-0.2, 17.4), (0.8, 5.9))
    _shape_icon(ax, 0.6, 3.0, _PAIRS[0][0], "circle")
    _box(ax, 1.5, 2.4, 2.6, 1.2, "vision tower\n(CLIP ViT, frozen)", _IMAGE, fontsize=8.5)
    for k in range(4):  # patch tokens
        ax.add_patch(Rectangle((4.6 + 0.45 * k, 2.75), 0.35, 0.5, facecolor=_IMAGE, edgecolor="black", lw=0.6))
    ax.text(5.4, 2.45, "patch tokens", ha="center", va="top", fontsize=7.5)
    _box(ax, 6.6, 2.4, 2.2, 1.2, "connector\n(MLP, trained)", "#c44e52", fontsize=8.5)
    _arrow(ax, (1.05, 3.0), (1.45, 3.0))
    _arrow(ax, (4.15, 3.0), (4.55, 3.0))
    _arrow(ax, (6.4, 3.0), (6.55, 3.0))
    # The LM's input sequence: prompt tokens, image embeddings in place of the placeholders, answer tokens.
    seq = [("user", "#8c8c8c")] + [("", "#c44e52")] * 4 + [("describe", "#8c8c8c"), ("a", "#55a868"),
                                                          ("red", "#55a868"), ("circle", "#55a868")]
    for k, (word, color) in enumerate(seq):
        ax.add_patch(Rectangle((9.4 + 0.85 * k, 4.55), 0.75, 0.6, facecolor=color, edgecolor="black", lw=0.6))
        ax.text(9.4 + 0.85 * k + 0.375, 4.85, word, ha="center", va="center", fontsize=6.5, color="white")
    _arrow(ax, (8.85, 3.3), (10.9, 4.5), color="#c44e52")
    ax.text(13.2, 5.5, "inputs_embeds: prompt, image, answer", ha="center", fontsize=8)
    _box(ax, 9.4, 2.4, 7.6, 1.3, "language model (decoder-only transformer)", "#8172b3", fontsize=9)
    _arrow(ax, (13.2, 4.5), (13.2, 3.75))
    ax.text(13.2, 1.9, "loss on the answer tokens (green) only; prompt and image positions are masked",
            ha="center", va="top", fontsize=7.5)
    ax.text(13.2, 1.2, "stage 1: train the connector on captions    stage 2: also the LM, on instructions",
            ha="center", va="top", fontsize=7.5, color="grey")
    fig.tight_layout()
    return fig


_TRAINED, _LM = "#c44e52", "#8172b3"


def _input_sequence(ax, n_image: int, n_text: int, source: tuple[float, float], label: str, lm_label: str):
    """An LM's input row (image tokens from `source`, then text tokens) feeding the language-model box above it."""
    for k in range(n_image + n_text):
        x = 0.6 + 0.55 * k + (0.25 if k >= n_image else 0)
        ax.add_patch(Rectangle((x, 4.3), 0.42, 0.5, facecolor=_TRAINED if k < n_image else "#8c8c8c",
                               edgecolor="black", lw=0.5))
    _arrow(ax, source, (0.6 + 0.275 * n_image, 4.25), color=_TRAINED)
    ax.text(5.0, 5.1, label, ha="center", fontsize=7.5)
    _box(ax, 0.6, 6.0, 8.6, 2.2, lm_label, _LM, fontsize=8.5)
    _arrow(ax, (4.9, 4.85), (4.9, 5.95))


def three_connectors():
    """LLaVA, Flamingo and BLIP-2 side by side: where the image enters the language model, and what is trained."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    trained, frozen_lm = _TRAINED, _LM
    for ax, title in zip(axes, ["LLaVA: project every patch", "Flamingo: cross-attend from inside",
                                "BLIP-2: query, then prompt"]):
        ax.set(xlim=(0, 10), ylim=(0, 10), aspect="equal", title=title)
        ax.axis("off")
        _shape_icon(ax, 1.0, 1.0, _PAIRS[0][0], "circle")
        _box(ax, 2.0, 0.45, 3.2, 1.1, "vision tower\n(frozen)", _IMAGE, fontsize=8)
        _arrow(ax, (1.45, 1.0), (1.95, 1.0))
    # LLaVA: an MLP per patch, every patch token enters the LM's input sequence
    ax = axes[0]
    for k in range(6):
        ax.add_patch(Rectangle((5.7 + 0.55 * k, 0.75), 0.42, 0.5, facecolor=_IMAGE, edgecolor="black", lw=0.5))
    _arrow(ax, (5.25, 1.0), (5.65, 1.0))
    _box(ax, 5.7, 2.3, 3.2, 1.0, "MLP (trained)", trained, fontsize=8)
    _arrow(ax, (7.3, 1.3), (7.3, 2.25))
    _input_sequence(ax, 6, 5, (7.3, 3.35), "N image tokens + text tokens",
                    "language model\n(stage 1 frozen, stage 2 trained)")
    # Flamingo: a resampler to a few latents, read by gated cross-attention layers between frozen LM blocks
    ax = axes[1]
    _box(ax, 5.7, 0.45, 3.6, 1.1, "Perceiver\nresampler (trained)", trained, fontsize=7.5)
    _arrow(ax, (5.25, 1.0), (5.65, 1.0))
    for k in range(3):
        ax.add_patch(Rectangle((6.4 + 0.6 * k, 2.1), 0.45, 0.5, facecolor=trained, edgecolor="black", lw=0.5))
    ax.text(8.4, 2.35, "64 latents", ha="left", va="center", fontsize=7.5)
    _arrow(ax, (7.5, 1.6), (7.5, 2.05))
    for k, y in enumerate([3.6, 5.6, 7.6]):
        _box(ax, 0.6, y, 4.2, 0.8, "frozen LM block", frozen_lm, fontsize=7.5)
        if k < 2:
            _box(ax, 0.6, y + 1.0, 4.2, 0.75, "gated x-attn, tanh(α)", trained, fontsize=7)
            _arrow(ax, (7.6, 2.65), (4.85, y + 1.35), color=trained, lw=0.9)
    ax.text(2.7, 3.1, "text tokens only in the sequence", ha="center", fontsize=7.5)
    # BLIP-2: learned queries read the patches, their outputs become a short soft prompt
    ax = axes[2]
    _box(ax, 5.7, 0.45, 3.6, 1.1, "Q-Former\n(32 queries, trained)", trained, fontsize=7.5)
    _arrow(ax, (5.25, 1.0), (5.65, 1.0))
    _box(ax, 5.7, 2.3, 3.6, 0.9, "linear (trained)", trained, fontsize=8)
    _arrow(ax, (7.5, 1.6), (7.5, 2.25))
    _input_sequence(ax, 3, 8, (7.5, 3.25), "32 soft-prompt tokens + text tokens", "language model (frozen)")
    fig.tight_layout()
    return fig


def image_token_budgets():
    """Image tokens the language model reads per input, for common designs (log scale)."""
    designs = {  # tokens, as each design computes them
        "BLIP-2 / InstructBLIP (32 queries)": 32,
        "Flamingo (64 latents per image)": 64,
        "LLaVA-1 (ViT-L/14, 224 px: 16 x 16)": 256,
        "LLaVA-1.5 (ViT-L/14, 336 px: 24 x 24)": 576,
        "LLaVA-1.5 after a 3 x 3 pixel shuffle": 576 // 9,
        "LLaVA-NeXT AnyRes (2 x 2 tiles + overview)": 5 * 576,
        "8 video frames at 576 each": 8 * 576,
        "64 video frames at 576 each": 64 * 576,
    }
    fig, ax = plt.subplots(figsize=(8, 3.6))
    names, counts = list(designs), list(designs.values())
    ax.barh(names[::-1], counts[::-1], color=["#8c8c8c" if c < 1000 else "#c44e52" for c in counts[::-1]])
    for y, c in enumerate(counts[::-1]):
        ax.text(c * 1.1, y, f"{c:,}", va="center", fontsize=8)
    ax.set(xscale="log", xlabel="image tokens in the LM's context", xlim=(10, 2e5))
    ax.axvline(4096, color="black", lw=0.8, ls="--")
    ax.text(4300, len(names) - 0.6, "a 4K context", fontsize=8)
    fig.tight_layout()
    return fig
