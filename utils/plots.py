"""Figures that several labs draw."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image


def loss_curve(losses: list[float] | dict[str, list[float]], title: str = "training loss", smooth: int = 10):
    """Per-step loss (raw and moving average); a dict draws one smoothed curve per run."""
    runs = losses if isinstance(losses, dict) else {"loss": losses}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, ys in runs.items():
        ys = np.asarray(ys)
        if not isinstance(losses, dict):
            ax.plot(ys, alpha=0.3, label="per step")
        k = min(smooth, len(ys))
        ax.plot(np.arange(k - 1, len(ys)), np.convolve(ys, np.ones(k) / k, mode="valid"), label=f"{label} (mean of {k})")
    ax.set(xlabel="step", ylabel="loss", title=title)
    ax.legend()
    return fig


def similarity_matrix(sim: torch.Tensor, row_labels: list[str], col_labels: list[str] | None = None,
                      title: str = "cosine similarity"):
    """Heat map of a small similarity matrix with its labels."""
    fig, ax = plt.subplots(figsize=(1 + 0.6 * sim.shape[1], 1 + 0.45 * sim.shape[0]))
    im = ax.imshow(sim.numpy(), cmap="viridis")
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.set_xticks(range(sim.shape[1]), col_labels or [str(i) for i in range(sim.shape[1])], fontsize=8, rotation=90)
    ax.set(title=title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def image_grid(images: list[Image.Image], titles: list[str], cols: int = 8, title: str | None = None,
               wrap: int = 22):
    """Thumbnails with a caption each, wrapped to `wrap` characters a line."""
    rows = (len(images) + cols - 1) // cols
    titles = ["\n".join(textwrap.fill(line, wrap) for line in t.splitlines()) for t in titles]
    lines = max(t.count("\n") + 1 for t in titles)
    fig, axes = plt.subplots(rows, cols, figsize=(1.8 * cols, (1.7 + 0.16 * lines) * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, t in zip(axes.flat, images, titles):
        ax.imshow(img)
        ax.set_title(t, fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def embedding_map(ax, xy: np.ndarray, labels: torch.Tensor, class_names: list[str], title: str):
    """A 2-D map of image points (dots, coloured by class) followed by one text point per class (stars)."""
    n_images = len(labels)
    cmap = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        pts = xy[:n_images][labels.numpy() == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=5, alpha=0.5, color=cmap(c % 10), label=name)
        ax.scatter(*xy[n_images + c], marker="*", s=250, color=cmap(c % 10), edgecolor="black", linewidth=0.8)
    ax.set(title=title, xticks=[], yticks=[])
