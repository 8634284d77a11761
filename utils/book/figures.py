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


_INDEX, _RERANK = "#55a868", "#c44e52"  # the ANN index and the re-ranker in the retrieval diagrams


def retrieval_system():
    """A two-stage retrieval system: offline indexing above, the online query below, sharing one ANN index."""
    fig, ax = _canvas(10, 3.9, (-0.3, 19.3), (-0.6, 6.6))
    ax.text(-0.2, 6.25, "offline: indexing pipeline (once per image)", fontsize=9, fontweight="bold", color="dimgray")
    ax.text(-0.2, 2.3, "online: query pipeline (per query, milliseconds)", fontsize=9, fontweight="bold",
            color="dimgray")
    for k, (color, shape, _) in enumerate(_PAIRS[:3]):  # the gallery
        _shape_icon(ax, 0.6 + 0.35 * k, 5.3 - 0.35 * k, color, shape, size=0.28)
    ax.text(1.0, 3.95, "N images + metadata", ha="center", va="top", fontsize=7.5)
    _box(ax, 2.4, 4.6, 2.6, 1.1, "image encoder\n(CLIP / SigLIP)", _IMAGE, fontsize=8)
    _box(ax, 5.9, 4.6, 2.2, 1.1, "normalise\n(unit length)", "#8c8c8c", fontsize=8)
    _box(ax, 9.0, 3.3, 3.2, 2.4, "ANN index\n(IVF-PQ, HNSW)\n+ metadata store", _INDEX, fontsize=8.5)
    _arrow(ax, (1.75, 5.15), (2.35, 5.15))
    _arrow(ax, (5.05, 5.15), (5.85, 5.15))
    _arrow(ax, (8.15, 5.15), (8.95, 5.15))
    # The query path.
    ax.text(0.9, 1.1, '"a dog on\na beach"', ha="center", va="center", fontsize=8, style="italic")
    _box(ax, 2.4, 0.55, 2.6, 1.1, "text encoder\n(same model)", _TEXT, fontsize=8)
    _box(ax, 5.9, 0.55, 2.2, 1.1, "normalise", "#8c8c8c", fontsize=8)
    _arrow(ax, (1.75, 1.1), (2.35, 1.1))
    _arrow(ax, (5.05, 1.1), (5.85, 1.1))
    _arrow(ax, (8.15, 1.1), (10.6, 3.25))
    ax.text(8.75, 2.35, "search", ha="left", fontsize=7.5, color="dimgray")
    _box(ax, 13.1, 3.3, 2.6, 2.4, "top-K\ncandidates\n(K ≈ 100)", "#8172b3", fontsize=8.5)
    _arrow(ax, (12.25, 4.5), (13.05, 4.5))
    _box(ax, 13.1, 0.3, 2.6, 1.6, "re-ranker\n(cross-encoder:\nITM head)", _RERANK, fontsize=8)
    _arrow(ax, (14.4, 3.25), (14.4, 1.95))
    ax.text(14.55, 2.6, "query + each\ncandidate image", ha="left", va="center", fontsize=7, color="dimgray")
    _box(ax, 16.6, 0.3, 2.4, 1.6, "top-k results\n(k ≈ 10)", "#8c8c8c", fontsize=8.5)
    _arrow(ax, (15.75, 1.1), (16.55, 1.1))
    ax.text(10.6, -0.35, "stage 1: dual encoder + index, cost ~ search", ha="center", fontsize=7.5, color=_INDEX)
    ax.text(15.9, -0.35, "stage 2: K joint forward passes", ha="center", fontsize=7.5, color=_RERANK)
    fig.tight_layout()
    return fig


def ivf_and_pq(seed: int = 0, nlist: int = 12, nprobe: int = 3):
    """IVF's Voronoi cells with the probed cells of one query (left) and PQ's split of a vector into codes (right)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.8, 9.2, size=(6, 2))
    points = np.concatenate([c + 0.9 * rng.standard_normal((40, 2)) for c in centres]).clip(0.1, 9.9)
    # A few rounds of k-means give the coarse quantiser's centroids.
    centroids = points[rng.choice(len(points), nlist, replace=False)]
    for _ in range(10):
        assign = ((points[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
        centroids = np.array([points[assign == c].mean(0) if (assign == c).any() else centroids[c]
                              for c in range(nlist)])
    query = np.array([4.6, 5.2])
    probed = ((centroids - query) ** 2).sum(1).argsort()[:nprobe]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4), gridspec_kw={"width_ratios": [1, 1.25]})
    grid = np.stack(np.meshgrid(np.linspace(0, 10, 300), np.linspace(0, 10, 300)), -1)
    cell = ((grid[..., None, :] - centroids) ** 2).sum(-1).argmin(-1)
    left.imshow(np.isin(cell, probed), origin="lower", extent=(0, 10, 0, 10), cmap="Greens", vmin=0, vmax=2.5)
    left.contour(np.linspace(0, 10, 300), np.linspace(0, 10, 300), cell, levels=np.arange(nlist) + 0.5,
                 colors="grey", linewidths=0.6)
    assign = ((points[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    scanned = np.isin(assign, probed)
    left.scatter(*points[~scanned].T, s=6, color="#8c8c8c")
    left.scatter(*points[scanned].T, s=8, color=_INDEX)
    left.scatter(*centroids.T, s=45, marker="X", color="black", label="centroids (k-means)")
    left.scatter(*query, s=160, marker="*", color=_RERANK, zorder=3, label="query")
    left.set(xlim=(0, 10), ylim=(0, 10), xticks=[], yticks=[])
    left.set_title(f"IVF: {nlist} cells, the query scans nprobe = {nprobe}\n"
                   f"({scanned.sum()} of {len(points)} vectors compared)", fontsize=9.5)
    left.legend(loc="lower right", fontsize=7.5, framealpha=0.9)
    # PQ: a 16-d vector cut into m = 4 sub-vectors, each replaced by the id of its nearest sub-centroid.
    right.set(xlim=(-0.3, 16.5), ylim=(-0.2, 8.2), aspect="equal")
    right.axis("off")
    right.set_title("PQ: m = 4 sub-vectors, each stored as a 1-byte centroid id", fontsize=9.5)
    values = rng.standard_normal(16)
    colours = [_IMAGE, _TEXT, "#8172b3", _INDEX]
    codes = [37, 201, 8, 142]
    for k in range(16):
        shade = 0.35 + 0.5 * (values[k] - values.min()) / np.ptp(values)
        right.add_patch(Rectangle((k, 6.2), 1, 1, facecolor=colours[k // 4], alpha=shade, edgecolor="white"))
    right.text(8, 7.55, "x: d = 16 floats = 64 bytes", ha="center", fontsize=8.5)
    for s in range(4):
        x0 = 4 * s
        right.add_patch(Rectangle((x0, 6.2), 4, 1, fill=False, edgecolor="black", lw=1.3))
        _arrow(right, (x0 + 2, 6.1), (x0 + 2, 4.65))
        right.text(x0 + 2.1, 5.4, f"nearest of\n256 centroids\nin sub-space {s + 1}", ha="left", va="center",
                   fontsize=6.5, color="dimgray")
        right.add_patch(Rectangle((x0 + 0.9, 3.6), 2.2, 1.0, facecolor=colours[s], edgecolor="black"))
        right.text(x0 + 2, 4.1, f"{codes[s]}", ha="center", va="center", fontsize=10, color="white",
                   fontweight="bold")
    right.text(8, 3.05, "code: m = 4 bytes (16x smaller)", ha="center", fontsize=8.5)
    right.text(8, 1.9, "search (asymmetric distance): the query stays exact;\n"
               "a table of m x 256 sub-distances is built once per query,\n"
               "then each code costs m look-ups and additions", ha="center", va="center", fontsize=8)
    right.text(8, 0.35, "512-d CLIP vector: 2,048 bytes → 64 bytes with m = 64", ha="center", fontsize=8,
               color=_RERANK)
    fig.tight_layout()
    return fig


def hnsw_layers(seed: int = 1):
    """HNSW: sparse upper layers for long hops, the dense bottom layer for the final greedy steps."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(0.6, 11.0, 16) + rng.uniform(-0.15, 0.15, 16)
    ys = rng.uniform(-0.35, 0.35, 16)  # a node keeps its place in every layer it belongs to
    levels = [list(range(16)), [1, 4, 7, 10, 14], [1, 10]]  # the nodes of each layer
    target, query = 12, (xs[12] + 0.3, ys[12] - 0.3)
    path = {2: [1, 10], 1: [10, 14], 0: [14, 13, 12]}  # the greedy hops taken in each layer
    fig, ax = _canvas(8.5, 4.1, (-1.8, 12.4), (-1.4, 7.0))
    for layer, nodes in enumerate(levels):
        y = 0.3 + 2.7 * layer
        ax.add_patch(Polygon([(0, y - 0.65), (11.4, y - 0.65), (12.0, y + 0.65), (0.6, y + 0.65)],
                             facecolor="#f4f1ea", edgecolor="grey", lw=0.8))
        ax.text(-0.2, y, f"layer {layer}", ha="right", va="center", fontsize=8.5)
        for step in (1, 2) if layer == 0 else (1,):  # links to near neighbours (at most M per node)
            for a, b in zip(nodes, nodes[step:]):
                ax.plot([xs[a] + 0.3, xs[b] + 0.3], [y + ys[a], y + ys[b]], color="grey", lw=0.6)
        for n in nodes:
            ax.scatter(xs[n] + 0.3, y + ys[n], s=28, color=_RERANK if n == target else _IMAGE, zorder=3)
        hops = path[layer]
        for a, b in zip(hops, hops[1:]):
            ax.add_patch(FancyArrowPatch((xs[a] + 0.3, y + ys[a]), (xs[b] + 0.3, y + ys[b]),
                                         arrowstyle="-|>", mutation_scale=12, color=_INDEX, lw=2,
                                         shrinkA=4, shrinkB=4, connectionstyle=f"arc3,rad={-0.15 if layer else 0}",
                                         zorder=4))
        if layer:  # descend: where the greedy walk stopped is the next layer's entry point
            n = hops[-1]
            ax.plot([xs[n] + 0.3] * 2, [y + ys[n] - 0.1, y - 2.7 + ys[n] + 0.1], color=_INDEX, lw=1.2, ls="--")
    ax.scatter(query[0] + 0.3, 0.3 + query[1], s=110, marker="*", color="black", zorder=5)
    ax.text(xs[1] + 0.3, 5.75 + ys[1], "entry point", ha="center", va="top", fontsize=8, color=_INDEX)
    ax.text(query[0] + 0.3, -0.5, "query (star) and its nearest\nneighbour (red)", ha="center", va="top",
            fontsize=8)
    ax.text(0.2, -0.5, "greedy search: hop to the neighbour closest\nto the query, then drop a layer", ha="left",
            va="top", fontsize=8, color="dimgray")
    fig.tight_layout()
    return fig


def _scene_icon(ax, cx, cy, box=False, mask=False, size=0.75):
    """A small image holding a red circle and a blue square; optionally the circle's box or its mask."""
    ax.add_patch(Rectangle((cx - size, cy - size), 2 * size, 2 * size, facecolor="#f4f1ea", edgecolor="grey",
                           lw=0.8))
    circle = (cx - 0.3 * size, cy + 0.25 * size)
    ax.add_patch(plt.Circle(circle, 0.35 * size, color=_PAIRS[0][0]))
    ax.add_patch(Rectangle((cx + 0.2 * size, cy - 0.75 * size), 0.5 * size, 0.5 * size, color=_PAIRS[1][0]))
    if box:
        ax.add_patch(Rectangle((circle[0] - 0.45 * size, circle[1] - 0.45 * size), 0.9 * size, 0.9 * size,
                               fill=False, edgecolor=_INDEX, lw=1.8))
    if mask:
        ax.add_patch(plt.Circle(circle, 0.38 * size, facecolor=_INDEX, alpha=0.75, edgecolor="black", lw=0.8))


def open_vocabulary_grounding():
    """OWL-ViT scoring every patch token against a text query (top); Grounded SAM's detect-then-segment (bottom)."""
    fig, ax = _canvas(10.5, 6.4, (-0.3, 19.8), (-0.4, 11.8))
    ax.text(-0.2, 11.35, "OWL-ViT: every output token is a candidate object, classified by a text query",
            fontsize=9, fontweight="bold", color="dimgray")
    _scene_icon(ax, 0.75, 8.2)
    _box(ax, 1.9, 7.5, 2.0, 1.4, "ViT\n(CLIP image\ntower, no\npooling)", _IMAGE, fontsize=7.5)
    _arrow(ax, (1.55, 8.2), (1.85, 8.2))
    for i in range(3):
        for j in range(3):
            ax.add_patch(Rectangle((4.5 + 0.55 * j, 7.4 + 0.55 * i), 0.45, 0.45, facecolor=_IMAGE,
                                   edgecolor="black", lw=0.5))
    ax.text(5.3, 7.2, "patch tokens", ha="center", va="top", fontsize=7.5)
    _arrow(ax, (3.95, 8.2), (4.4, 8.2))
    _box(ax, 6.9, 8.6, 2.4, 1.1, "class head:\nproject to joint space", _IMAGE, fontsize=7)
    _box(ax, 6.9, 6.2, 2.4, 1.1, "box head: MLP,\none box per token", "#8c8c8c", fontsize=7)
    _arrow(ax, (6.15, 8.6), (6.85, 9.1))
    _arrow(ax, (6.15, 7.7), (6.85, 6.9))
    ax.text(3.9, 10.5, '"a red circle"', ha="center", va="center", fontsize=8, style="italic")
    _box(ax, 6.9, 10.0, 2.4, 0.9, "CLIP text tower", _TEXT, fontsize=7.5)
    _arrow(ax, (5.0, 10.45), (6.85, 10.45))
    _box(ax, 10.1, 8.6, 2.3, 1.1, "cosine with\nquery embedding", "#8172b3", fontsize=7)
    _arrow(ax, (9.35, 9.15), (10.05, 9.15))
    _arrow(ax, (9.35, 10.45), (10.6, 9.75))
    scores = np.array([[0.1, 0.2, 0.1], [0.8, 0.3, 0.1], [0.9, 0.2, 0.2]])  # the circle sits top left
    for i in range(3):
        for j in range(3):
            ax.add_patch(Rectangle((13.1 + 0.55 * j, 8.3 + 0.55 * (2 - i)), 0.45, 0.45, edgecolor="black",
                                   lw=0.5, facecolor=plt.cm.Greens(scores[i, j])))
    ax.text(13.9, 8.1, "score per token", ha="center", va="top", fontsize=7.5)
    _arrow(ax, (12.45, 9.15), (13.0, 9.15))
    _scene_icon(ax, 17.6, 8.2, box=True)
    _arrow(ax, (14.8, 9.15), (16.75, 8.6))
    _arrow(ax, (9.35, 6.75), (16.75, 7.6), color="grey")
    ax.text(17.6, 7.25, "boxes of tokens that\nscore above a threshold", ha="center", va="top", fontsize=7.5)
    # Grounded SAM: a text-conditioned detector, then a promptable segmenter.
    ax.text(-0.2, 5.0, "Grounded SAM: detect from text with Grounding DINO, segment from the box with SAM",
            fontsize=9, fontweight="bold", color="dimgray")
    _scene_icon(ax, 0.75, 2.3)
    ax.text(0.75, 3.45, '"the red circle"', ha="center", va="bottom", fontsize=8, style="italic")
    _box(ax, 1.9, 1.7, 2.6, 1.2, "Grounding DINO\n(image-text fusion)", "#8172b3", fontsize=7.5)
    _arrow(ax, (1.55, 2.3), (1.85, 2.3))
    _scene_icon(ax, 6.0, 2.3, box=True)
    _arrow(ax, (4.55, 2.3), (5.2, 2.3))
    ax.add_patch(Rectangle((7.6, 0.2), 7.9, 4.1, fill=False, edgecolor=_INDEX, lw=1.2, ls="--"))
    ax.text(15.4, 0.35, "SAM", ha="right", va="bottom", fontsize=8.5, color=_INDEX, fontweight="bold")
    _box(ax, 8.8, 2.9, 2.6, 1.0, "image encoder\n(ViT, once per image)", _IMAGE, fontsize=7)
    _box(ax, 8.8, 0.6, 2.6, 1.0, "prompt encoder\n(points, box, mask)", _TEXT, fontsize=7)
    _box(ax, 12.3, 1.7, 2.6, 1.2, "mask decoder\n(light, per prompt)", _INDEX, fontsize=7.5)
    _arrow(ax, (6.85, 2.7), (8.75, 3.35))
    _arrow(ax, (6.85, 1.9), (8.75, 1.1))
    _arrow(ax, (11.45, 3.4), (12.25, 2.6))
    _arrow(ax, (11.45, 1.1), (12.25, 2.0))
    _scene_icon(ax, 17.6, 2.3, mask=True)
    _arrow(ax, (14.95, 2.3), (16.75, 2.3))
    ax.text(17.6, 1.35, "mask", ha="center", va="top", fontsize=7.5)
    fig.tight_layout()
    return fig


def imagebind_star():
    """ImageBind: five modalities each paired only with images; the edges between them emerge (dashed)."""
    fig, ax = _canvas(7.5, 5.8, (-5.4, 5.4), (-5.6, 4.3))
    others = [("text", _TEXT, 90, "web image-text pairs\n(CLIP towers, frozen)"),
              ("audio", "#c44e52", 18, "video frames + their\nsound (AudioSet)"),
              ("depth", "#8172b3", -54, "RGB-D images\n(SUN RGB-D)"),
              ("thermal", "#937860", -126, "RGB + infrared\n(LLVIP)"),
              ("IMU", "#8c8c8c", 162, "egocentric video +\nmotion (Ego4D)")]
    radius, where = 3.6, {}
    for name, color, angle, _ in others:
        a = np.deg2rad(angle)
        where[name] = np.array([radius * np.cos(a), radius * np.sin(a)])
    where["image"] = np.zeros(2)
    half = {"image": (1.0, 0.5)}  # half width and height of each box, so that edges stop at its border

    def edge(a, b, **style):
        u = where[b] - where[a]
        t0, t1 = (min(w / (abs(u[0]) + 1e-9), h / (abs(u[1]) + 1e-9)) for w, h in
                  (half.get(a, (0.85, 0.4)), half.get(b, (0.85, 0.4))))
        ax.plot(*np.stack([where[a] + t0 * u, where[b] - t1 * u]).T, **style)

    for (a, b) in [("text", "audio"), ("audio", "depth"), ("text", "IMU"), ("depth", "thermal")]:
        edge(a, b, color="grey", lw=1.2, ls=(0, (4, 3)))
    for name, color, angle, data in others:
        x, y = where[name]
        edge("image", name, color="black", lw=1.6)
        _box(ax, x - 0.85, y - 0.4, 1.7, 0.8, name, color, fontsize=9)
        if name == "text":  # the data that pairs this modality with images, next to its box
            ax.text(x + 1.05, y, data, ha="left", va="center", fontsize=7, color="dimgray")
        else:
            ax.text(x, y - 0.55, data, ha="center", va="top", fontsize=7, color="dimgray")
    _box(ax, -1.0, -0.5, 2.0, 1.0, "image", _IMAGE, fontsize=10)
    ax.plot([], [], color="black", lw=1.6, label="trained: contrastive loss on image pairs")
    ax.plot([], [], color="grey", lw=1.2, ls=(0, (4, 3)), label="emergent: never paired, aligned via images")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.04), fontsize=7.5, ncol=1, frameon=False)
    fig.tight_layout()
    return fig
