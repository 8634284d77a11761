"""Lab 12's patch-level grounding: where in the image a text query is, read off CLIP's patch tokens.

OWL-ViT's idea (Minderer et al. 2022): keep the image tower's patch tokens instead of pooling them, send each
through the tower's final projection (`visual.proj`, after `ln_post`) into the joint embedding space, and score
every patch against a text embedding: a similarity map over the patch grid. Scored against boxes with the
pointing game (is the best patch's centre inside a target box?) and a box read off the map (IoU with the target).
A re-projection of the frozen patch tokens, trained with a per-patch sigmoid loss from boxes, teaches the patches
to answer (`train_projection`).

Data: `offline`, the world-v3 scenes of Lab 6 (train split to train, test scenes with two or more groups to
test), one query per (image, group) in the captions' own words ("a red circle", "two blue squares"), the target
the boxes of that group; `t4`, COCO val2017 images (`detection-datasets/coco`), one query per (image, category),
"a photo of a dog", the target that category's boxes. Images are padded to a square at the bottom and right (as
OWL-ViT does), so a box in fractions of the padded square is a box in the model's frame. Boxes are always
(x0, y0, x1, y1), fractions, x to the right and y downwards; patch (row, col) covers x in [col/g, (col+1)/g].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from PIL import Image
from tqdm.auto import tqdm

from ..data.convert import encoded_image, hub_table
from ..data.grammar import noun_phrase
from ..data.objects import COCO_CATEGORIES
from ..data.pairs import decode_image, load_pairs
from ..data.scene_graph import Scene
from ..data.scene_world import COURSE_SCENES, scene_pairs_file
from ..metrics.grounding import Box, box_iou, pointing_hits
from ..models.clip import encode_texts
from ..profiles import Profile

OWLVIT = "google/owlvit-base-patch32"  # the t4 smoke test points this at a tiny random model
HUB_DATA = {"repo_id": "detection-datasets/coco", "split": "val"}  # the table Lab 10 reads
# `detection-datasets/coco` stores each box as [x_min, y_min, x_max, y_max] in pixels (COCO's own JSON has
# [x, y, width, height]); `coco_boxes` is the one place that reads them.
COCO_BOX_FORMAT = "xyxy"


@dataclass(frozen=True)
class GroundingRecipe:
    """Sizes of one profile's run."""

    train_images: int
    test_images: int
    steps: int  # optimiser steps of the re-projection's fine-tune
    batch_size: int  # images per step (every phrase of the vocabulary is scored on each)
    lr: float
    phrase: str  # a query's words; "{}" is the world's noun phrase or the COCO category


RECIPES = {
    "offline": GroundingRecipe(train_images=1600, test_images=200, steps=400, batch_size=64, lr=3e-3, phrase="{}"),
    "t4": GroundingRecipe(train_images=800, test_images=200, steps=400, batch_size=64, lr=1e-3,
                          phrase="a photo of a {}"),
}


@dataclass
class GroundingSet:
    """Images and their queries: `queries` has one row per (image, kind of object), with columns `image` (index into
    `images`), `phrase`, `boxes` (list of target boxes) and `area` (the share of the image the boxes cover)."""

    images: list[Image.Image]  # square, the profile's image size
    queries: pd.DataFrame


# ---------------------------------------------------------------------------------------------------- geometry

def patch_centres(grid: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) of every patch centre as fractions, each (grid, grid), indexed [row, col]: x grows along a row."""
    c = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid
    y, x = torch.meshgrid(c, c, indexing="ij")
    return x, y


def boxes_mask(boxes: list[Box], grid: int) -> torch.Tensor:
    """(grid, grid) bool: the patches whose centre lies inside one of `boxes` (edges included)."""
    x, y = patch_centres(grid)
    inside = torch.zeros(grid, grid, dtype=torch.bool)
    for x0, y0, x1, y1 in boxes:
        inside |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return inside


def covered_area(boxes: list[Box], resolution: int = 200) -> float:
    """The share of the image that the union of `boxes` covers (counted on a `resolution` x `resolution` raster)."""
    c = (np.arange(resolution) + 0.5) / resolution
    covered = np.zeros((resolution, resolution), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        covered |= ((c >= y0) & (c <= y1))[:, None] & ((c >= x0) & (c <= x1))[None, :]
    return float(covered.mean())


# ------------------------------------------------------------------------------------- the student's functions

def patch_similarity_map(patch_tokens: torch.Tensor, proj: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
    """Cosine of every projected patch token with its row's text embedding: (B, N, width), (width, D), (B, D) ->
    (B, g, g) with N = g * g, patches in row-major order (row = y)."""
    grid = math.isqrt(patch_tokens.shape[1])
    if grid * grid != patch_tokens.shape[1]:
        raise ValueError(f"{patch_tokens.shape[1]} patch tokens do not form a square grid (is the class token in?)")
    patches = F.normalize(patch_tokens @ proj, dim=-1)
    text = F.normalize(text_emb, dim=-1)
    return torch.einsum("bnd,bd->bn", patches, text).reshape(-1, grid, grid)


def box_from_map(sim_map: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """(4,) box (x0, y0, x1, y1) around every patch cell whose score, rescaled so the map runs from 0 (its minimum)
    to 1 (its maximum), is at least `threshold`; a flat map gives the whole image."""
    grid = sim_map.shape[-1]
    low, high = sim_map.min(), sim_map.max()
    if high <= low:
        return torch.tensor([0.0, 0.0, 1.0, 1.0])
    rows, cols = torch.nonzero((sim_map - low) / (high - low) >= threshold, as_tuple=True)
    return torch.stack([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]).float() / grid


def patch_alignment_loss(patch_emb: torch.Tensor, text_emb: torch.Tensor, targets: torch.Tensor,
                         scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Per-patch sigmoid loss: logits scale * cos(patch, text) + bias for (B, N, D) patches and (T, D) texts, binary
    cross-entropy against (B, T, N) 0/1 targets, averaged over the positives and over the negatives separately and
    the two means averaged (a missing kind is left out)."""
    cos = torch.einsum("bnd,td->btn", F.normalize(patch_emb, dim=-1), F.normalize(text_emb, dim=-1))
    losses = F.binary_cross_entropy_with_logits(scale * cos + bias, targets, reduction="none")
    positive = targets > 0.5
    parts = [losses[kind].mean() for kind in (positive, ~positive) if kind.any()]
    return torch.stack(parts).mean()


def size_classes(areas: pd.Series) -> pd.Series:
    """Each query's size class, "small", "medium" or "large": thirds of the queries by the share of the image their
    boxes cover (ties broken by order)."""
    return pd.qcut(areas.rank(method="first"), 3, labels=["small", "medium", "large"])


# ---------------------------------------------------------------------------------------------------------- data

def pad_to_square(image: Image.Image, size: int) -> Image.Image:
    """`image` padded with grey at the right or bottom to a square, then resized to `size` (OWL-ViT's framing):
    a box in pixels of the original, divided by the longer side, is a box in fractions of the result."""
    side = max(image.size)
    square = Image.new("RGB", (side, side), (128, 128, 128))
    square.paste(image.convert("RGB"), (0, 0))
    return square.resize((size, size), Image.BICUBIC)


def coco_boxes(bboxes, width: int, height: int, box_format: str = COCO_BOX_FORMAT) -> list[Box]:
    """COCO boxes in pixels, as `box_format` ("xyxy" or "xywh"), to (x0, y0, x1, y1) fractions of the image padded
    to a square (`pad_to_square`); empty boxes are dropped."""
    if box_format not in ("xyxy", "xywh"):
        raise ValueError(f"unknown box format {box_format!r}; use 'xyxy' or 'xywh'.")
    side = float(max(width, height))
    out = []
    for b in bboxes:
        x0, y0, a, b2 = (float(v) for v in b)
        x1, y1 = (x0 + a, y0 + b2) if box_format == "xywh" else (a, b2)
        if x1 < x0 or y1 < y0:
            raise ValueError(f"box {list(b)} has x1 < x0 or y1 < y0 as {box_format}; is the table's format the other "
                             "one? Pass box_format='xywh' (COCO's JSON) or 'xyxy'.")
        box = (max(0.0, x0 / side), max(0.0, y0 / side), min(1.0, x1 / side), min(1.0, y1 / side))
        if box[2] > box[0] and box[3] > box[1]:
            out.append(tuple(round(v, 4) for v in box))
    return out


def _queries(rows: list[tuple[int, str, list[Box]]], grid: int) -> pd.DataFrame:
    """The queries table; rows whose boxes hold no patch centre are dropped (no patch can point at them)."""
    df = pd.DataFrame(rows, columns=["image", "phrase", "boxes"])
    df["area"] = [covered_area(b) for b in df["boxes"]]
    return df[[bool(boxes_mask(b, grid).any()) for b in df["boxes"]]].reset_index(drop=True)


def world_grounding(profile: Profile, recipe: GroundingRecipe, grid: int) -> dict[str, GroundingSet]:
    """`train` and `test` sets of Lab 6's world scenes: each group of a scene is a query in the captions' words;
    test scenes have two or more groups, so the query must pick one object kind out of several."""
    pairs = load_pairs(scene_pairs_file(image_size=profile.image_size, **COURSE_SCENES))
    first = pairs.groupby("image_id", sort=True).head(1)
    sets = {}
    for split, n in (("train", recipe.train_images), ("test", recipe.test_images)):
        rows = first[first["split"] == split]
        scenes = [Scene.from_json(s) for s in rows["scene"]]
        keep = [i for i, s in enumerate(scenes) if split == "train" or len(s.groups()) >= 2][:n]
        queries = [(k, recipe.phrase.format(noun_phrase(g, ("color",))),
                    [o.box for o in scenes[i].objects if o.shape == g.shape])
                   for k, i in enumerate(keep) for g in scenes[i].groups()]
        sets[split] = GroundingSet([decode_image(rows["image"].iloc[i]) for i in keep], _queries(queries, grid))
    return sets


def coco_grounding(profile: Profile, recipe: GroundingRecipe, grid: int, seed: int = 0) -> dict[str, GroundingSet]:
    """`train` and `test` sets drawn (with `seed`) from COCO val2017 as `detection-datasets/coco` holds it: each
    category of an image is a query ("a photo of a dog"), its boxes the target."""
    table = hub_table(HUB_DATA["repo_id"], HUB_DATA["split"])
    n = min(len(table), recipe.train_images + recipe.test_images)
    table = table.sample(n=n, random_state=seed).reset_index(drop=True)
    n_test = max(1, round(n * recipe.test_images / (recipe.train_images + recipe.test_images)))
    sets = {}
    for split, part in (("test", table.iloc[:n_test]), ("train", table.iloc[n_test:])):
        images, queries = [], []
        for k, row in enumerate(tqdm(part.itertuples(), total=len(part), desc=f"COCO {split} images", leave=False)):
            image = decode_image(encoded_image(row.image))
            images.append(pad_to_square(image, profile.image_size))
            by_category: dict[str, list] = {}
            for c, b in zip(row.objects["category"], row.objects["bbox"]):
                by_category.setdefault(COCO_CATEGORIES[int(c)], []).append(b)
            queries += [(k, recipe.phrase.format(name), coco_boxes(bs, *image.size))
                        for name, bs in sorted(by_category.items())]
        sets[split] = GroundingSet(images, _queries([q for q in queries if q[2]], grid))
    return sets


def grounding_sets(profile: Profile, recipe: GroundingRecipe, grid: int, seed: int = 0) -> dict[str, GroundingSet]:
    """The profile's `train` and `test` grounding sets (world scenes offline, COCO on `t4`)."""
    sets = world_grounding(profile, recipe, grid) if profile.name == "offline" else coco_grounding(
        profile, recipe, grid, seed)
    for split, s in sets.items():
        if s.queries.empty:
            raise ValueError(f"the {split} set has no query whose boxes cover a patch centre; use more images.")
    return sets


# ------------------------------------------------------------------------------------------------------ models

@torch.no_grad()
def patch_tokens(tower, images: list[Image.Image], preprocess, profile: Profile, batch_size: int = 128) -> torch.Tensor:
    """(n, N, width) patch tokens of `images` from a `VisionTower`, in batches, on the CPU in fp32."""
    out = []
    for i in tqdm(range(0, len(images), batch_size), desc="patch tokens", leave=False):
        pixels = torch.stack([preprocess(im) for im in images[i:i + batch_size]]).to(profile.device)
        with profile.autocast():
            out.append(tower(pixels).float().cpu())
    return torch.cat(out)


@torch.no_grad()
def text_embeddings(model, tokenizer, phrases: list[str], profile: Profile) -> torch.Tensor:
    """(T, D) unit text embeddings of `phrases`."""
    return encode_texts(model, tokenizer, phrases, profile)


def query_maps(tokens: torch.Tensor, proj: torch.Tensor, queries: pd.DataFrame, text_emb: torch.Tensor,
               vocabulary: list[str], map_fn=patch_similarity_map, batch_size: int = 512) -> torch.Tensor:
    """(Q, g, g) similarity maps of every query: its image's patch tokens against its phrase's embedding."""
    index = {p: i for i, p in enumerate(vocabulary)}
    images = torch.tensor(queries["image"].to_numpy())
    texts = text_emb[torch.tensor([index[p] for p in queries["phrase"]])]
    with torch.no_grad():
        return torch.cat([map_fn(tokens[images[i:i + batch_size]], proj, texts[i:i + batch_size])
                          for i in range(0, len(queries), batch_size)])


def targets(queries: pd.DataFrame, n_images: int, vocabulary: list[str], grid: int) -> torch.Tensor:
    """(n_images, T, N) 0/1: patch n of image i is a positive for phrase t when its centre lies in one of the boxes
    of that image's query with phrase t; every other (image, phrase, patch) is a negative."""
    out = torch.zeros(n_images, len(vocabulary), grid * grid)
    index = {p: i for i, p in enumerate(vocabulary)}
    for image, phrase, boxes in zip(queries["image"], queries["phrase"], queries["boxes"]):
        out[image, index[phrase]] = boxes_mask(boxes, grid).flatten().float()
    return out


def train_projection(tokens: torch.Tensor, target: torch.Tensor, text_emb: torch.Tensor, proj: torch.Tensor,
                     loss_fn, recipe: GroundingRecipe, seed: int = 0, steps: int | None = None
                     ) -> tuple[torch.Tensor, list[float]]:
    """A new projection (width, D) for the frozen patch tokens, started from `proj` and trained with
    `loss_fn(patch_emb, text_emb, targets, scale, bias)` on random batches of images, every phrase per image; a
    learned scale (from 10) and bias (from -5) turn cosines into logits. Returns it and the loss per step."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.nn.Parameter(proj.detach().clone())
    log_scale, bias = torch.nn.Parameter(torch.tensor(math.log(10.0))), torch.nn.Parameter(torch.tensor(-5.0))
    optimiser = torch.optim.AdamW([weight, log_scale, bias], lr=recipe.lr, weight_decay=0.0)
    losses = []
    for _ in tqdm(range(recipe.steps if steps is None else steps), desc="fine-tuning the projection", leave=False):
        batch = torch.randint(0, len(tokens), (min(recipe.batch_size, len(tokens)),), generator=generator)
        loss = loss_fn(tokens[batch] @ weight, text_emb, target[batch], log_scale.exp(), bias)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return weight.detach(), losses


def grounding_scores(maps: torch.Tensor, queries: pd.DataFrame, threshold: float = 0.5,
                     pointing=pointing_hits, box_fn=box_from_map) -> dict[str, float]:
    """Pointing-game accuracy, its chance level (the share of patch centres inside the target boxes, averaged), and
    for queries with one box, the mean IoU of the box read off the map and the share with IoU >= 0.5."""
    grid = maps.shape[-1]
    hits = pointing(maps, list(queries["boxes"]))
    chance = [float(boxes_mask(b, grid).float().mean()) for b in queries["boxes"]]
    single = [i for i, b in enumerate(queries["boxes"]) if len(b) == 1]
    ious = torch.stack([box_iou(box_fn(maps[i], threshold), torch.tensor(queries["boxes"][i][0])) for i in single]
                       ) if single else torch.zeros(0)
    return {"pointing": hits.float().mean().item(), "chance": float(np.mean(chance)),
            "mean IoU": ious.mean().item() if single else float("nan"),
            "IoU >= 0.5": (ious >= 0.5).float().mean().item() if single else float("nan")}


# ---------------------------------------------------------------------------------------------------- OWL-ViT

def load_owlvit(name: str | None = None, device: str = "cpu"):
    """OWL-ViT's processor and detector (transformers), `OWLVIT` unless `name` is given."""
    from transformers import OwlViTForObjectDetection, OwlViTProcessor  # late: only the t4 profile loads OWL-ViT

    name = name or OWLVIT
    processor = OwlViTProcessor.from_pretrained(name)
    return processor, OwlViTForObjectDetection.from_pretrained(name).to(device).eval()


@torch.no_grad()
def owlvit_boxes(processor, detector, image: Image.Image, phrases: list[str], device: str = "cpu",
                 threshold: float = 0.1) -> pd.DataFrame:
    """OWL-ViT's detections of `phrases` in a square `image`: columns phrase, score and box (fractions)."""
    inputs = processor(text=[phrases], images=image, return_tensors="pt").to(device)
    outputs = detector(**inputs)
    side = image.size[0]
    found = processor.post_process_grounded_object_detection(
        outputs, threshold=threshold, target_sizes=torch.tensor([[side, side]]), text_labels=[phrases])[0]
    return pd.DataFrame({"phrase": [phrases[int(i)] for i in found["labels"]],
                         "score": found["scores"].float().cpu().numpy(),
                         "box": [tuple((b / side).clamp(0, 1).tolist()) for b in found["boxes"].float().cpu()]})


# ---------------------------------------------------------------------------------------------------- figures

def draw_box(ax, box: Box, size: int, **style) -> None:
    x0, y0, x1, y1 = (v * size for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, **style))


def plot_maps(images: list[Image.Image], maps: list[torch.Tensor], titles: list[str], boxes: list[list[Box]],
              predicted: list[torch.Tensor] | None = None, cols: int = 4, suptitle: str = ""):
    """Each image under its similarity map (upsampled, translucent), the target boxes in white and, if given, the
    box read off the map dashed."""
    rows = math.ceil(len(images) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(images):
            continue
        size = images[k].size[0]
        heat = F.interpolate(maps[k][None, None].float(), size=(size, size), mode="bilinear", align_corners=False)[0, 0]
        ax.imshow(images[k])
        ax.imshow(heat.numpy(), cmap="inferno", alpha=0.55, extent=(-0.5, size - 0.5, size - 0.5, -0.5))
        for box in boxes[k]:
            draw_box(ax, box, size, edgecolor="white", linewidth=1.5)
        if predicted is not None:
            draw_box(ax, tuple(predicted[k].tolist()), size, edgecolor="cyan", linewidth=1.5, linestyle="--")
        ax.set_title(titles[k], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
