"""Figures that several labs draw."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image


def literal(text: str) -> str:
    """`text` as matplotlib should print it: data (captions, class names, a model's output) may hold `$`,
    which matplotlib would otherwise parse as the start of a formula and fail on."""
    return text.replace("$", r"\$")


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


def training_log(log, title: str = "training", start_temperature: float | None = None,
                 lr: float | None = None, smooth: int = 10):
    """Loss (left) and temperature (right) at every step of a `utils.train.TrainingLog`.

    With `start_temperature` and the peak `lr`, the right panel shades Adam's reach: Adam moves
    log(1/temperature) by about `lr` per step whatever the gradient's size, so after t steps the
    temperature lies within about start * exp(+-lr * t).
    """
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    ys, steps = np.asarray(log.loss), np.arange(1, len(log) + 1)
    k = min(smooth, len(ys))
    a.plot(steps, ys, alpha=0.3, label="per step")
    a.plot(steps[k - 1:], np.convolve(ys, np.ones(k) / k, mode="valid"), label=f"mean of {k}")
    a.set(xlabel="step", ylabel="loss", title=f"{title}: loss")
    a.legend()
    b.plot(steps, log.temperature, label="learned temperature")
    if start_temperature is not None and lr is not None:
        b.fill_between(steps, start_temperature * np.exp(-lr * steps), start_temperature * np.exp(lr * steps),
                       alpha=0.15, label=f"Adam's reach at lr {lr:g}")
        b.axhline(start_temperature, color="gray", ls=":", label=f"start {start_temperature:g}")
    b.set(xlabel="step", ylabel="temperature", title=f"{title}: temperature")
    b.legend()
    fig.tight_layout()
    return fig


def temperature_landscape(temperatures: np.ndarray, landscapes: dict[str, list[float]],
                          trajectories: dict[str, list[float]]):
    """Left: loss against temperature (log axis), one curve per named set of embeddings, its minimum dotted.
    Right: temperatures step by step, one line per run of `utils.losses.fit_temperature`."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    for label, ys in landscapes.items():
        best = temperatures[int(np.argmin(ys))]
        line, = a.plot(temperatures, ys, label=f"{label} (lowest at {best:.3g})")
        a.axvline(best, color=line.get_color(), ls=":")
    a.set(xscale="log", xlabel="temperature", ylabel="loss", title="loss against the temperature")
    a.legend(fontsize=8)
    for label, taus in trajectories.items():
        b.plot(taus, label=label)
    b.set(yscale="log", xlabel="step", ylabel="temperature", title="learning the temperature alone")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def similarity_matrix(sim: torch.Tensor, row_labels: list[str], col_labels: list[str] | None = None,
                      title: str = "cosine similarity"):
    """Heat map of a small similarity matrix with its labels."""
    fig, ax = plt.subplots(figsize=(1 + 0.6 * sim.shape[1], 1 + 0.45 * sim.shape[0]))
    im = ax.imshow(sim.numpy(), cmap="viridis")
    ax.set_yticks(range(len(row_labels)), [literal(t) for t in row_labels], fontsize=8)
    ax.set_xticks(range(sim.shape[1]), [literal(t) for t in col_labels or map(str, range(sim.shape[1]))], fontsize=8,
                  rotation=90)
    ax.set(title=title)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def image_grid(images: list[Image.Image], titles: list[str], cols: int = 8, title: str | None = None,
               wrap: int = 22):
    """Thumbnails with a caption each, wrapped to `wrap` characters a line."""
    rows = (len(images) + cols - 1) // cols
    titles = ["\n".join(textwrap.fill(literal(line), wrap) for line in t.splitlines()) for t in titles]
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
        ax.scatter(pts[:, 0], pts[:, 1], s=5, alpha=0.5, color=cmap(c % 10), label=literal(name))
        ax.scatter(*xy[n_images + c], marker="*", s=250, color=cmap(c % 10), edgecolor="black", linewidth=0.8)
    ax.set(title=title, xticks=[], yticks=[])


def cosine_histograms(ax, groups: dict[str, torch.Tensor], title: str, bins: int = 60):
    """Overlaid density histograms of cosine similarities, one per named group, on a shared [-1, 1] axis."""
    for label, values in groups.items():
        ax.hist(values.flatten().numpy(), bins=bins, range=(-1, 1), density=True, alpha=0.55, label=label)
    ax.set(title=title, xlabel="cosine similarity", xlim=(-1, 1), xticks=np.linspace(-1, 1, 5))


def seed_spread(ax, results, x: str, y: str, hue: str, seed: str = "seed"):
    """One colour per `hue` value: every seed's `y` (dots), their mean (line) and min-max band, against `x`.

    `results` is a DataFrame with one row per run; draw on a log-2 `x` axis when `x` is a batch size.
    """
    for i, (label, group) in enumerate(results.groupby(hue, sort=False)):
        color = plt.get_cmap("tab10")(i)
        stats = group.groupby(x)[y].agg(["mean", "min", "max"])
        ax.scatter(group[x], group[y], s=12, alpha=0.5, color=color)
        ax.plot(stats.index, stats["mean"], marker="o", color=color,
                label=f"{label} (mean of {group[seed].nunique()} seeds)")
        ax.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.15)
    ax.set(xlabel=x, ylabel=y)
    ax.legend()


def confusion(ax, counts: torch.Tensor, class_names: list[str], title: str):
    """A row-normalised confusion matrix (row = true class) with each cell's share written in it."""
    rates = counts.double() / counts.sum(dim=1, keepdim=True).clamp(min=1)
    ax.imshow(rates.numpy(), cmap="Blues", vmin=0, vmax=1)
    for (i, j), r in np.ndenumerate(rates.numpy()):
        if r >= 0.005:
            ax.text(j, i, f"{r:.2f}", ha="center", va="center", fontsize=7, color="white" if r > 0.5 else "black")
    names = [literal(name) for name in class_names]
    ax.set_xticks(range(len(names)), names, rotation=45)
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="true", title=title)


def spread_bars(ax, values: dict[str, list[float]], ylabel: str, title: str):
    """One bar per name at the mean of its values, with every value as a dot and the min-max range."""
    for i, (name, ys) in enumerate(values.items()):
        ys = np.asarray(ys, float)
        ax.bar(i, ys.mean(), color="tab:blue" if ys.mean() >= 0 else "tab:red", alpha=0.6)
        ax.vlines(i, ys.min(), ys.max(), color="black")
        ax.scatter(np.full(len(ys), i), ys, s=10, color="black", zorder=3)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(values)), list(values), rotation=30, ha="right", fontsize=8)
    ax.set(ylabel=ylabel, title=title)
