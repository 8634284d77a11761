"""Build the offline profile's "off-the-shelf" CLIPs: small models pre-trained on the course's worlds.

Two worlds, two CLIPs: `shapes` (world v2, one to three objects; Labs 1-5) and `scenes` (world v3, up to
five objects with sizes, styles and relations; the generative labs). Run `python -m utils.offline.world_clip` to
(re)build both; labs call `world_clip_checkpoint(world)`, which builds the CLIP on first use and caches it
under a key made of everything it was trained from (on two cores, about four minutes for the shapes CLIP
and eight for the scenes CLIP).

The scenes CLIP is built as LiT (Zhai et al. 2022) builds its CLIPs: an image tower pre-trained with labels
first (there ImageNet-21k or JFT classes; here which shapes a scene shows, in which colour, size and style),
then locked while the text tower learns to match it. Trained contrastively from scratch on a few thousand
scenes, both towers settle on colour, count and layout, which tell a batch's scenes apart well enough, and
never learn the shapes of objects a few patches wide: a caption's shape word is then at chance.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..cache import cached
from ..data import ImageCaptionSet, generate_world, world_pairs
from ..data.grammar import scene_facts
from ..data.scene_graph import COLORS, SIZES, STYLES, Scene
from ..data.scene_world import SCENE_WORLD_VERSION, generate_scenes, scene_pairs
from ..data.world import WORLD_VERSION
from ..models.clip import create_clip
from ..profiles import PROFILES
from ..training.loops import adamw_one_cycle, train_contrastive
from ..training.losses import clip_loss

WORLD_SEED = 1234  # distinct from the labs' seeds, so lab test images are unseen
# `init_seed` seeds the random initialisation too, so every machine builds the same CLIP (an unseeded start
# gave each fresh cache its own model, and labs whose thresholds suited one of them).
RECIPES = {
    "shapes": {"n_scenes": 3000, "epochs": 8, "seed": WORLD_SEED, "init_seed": WORLD_SEED, "loss": "clip_loss",
               "weight_decay": "open_clip rule", "world_version": WORLD_VERSION},
    "scenes": {"n_scenes": 3000, "epochs": 8, "seed": WORLD_SEED, "init_seed": WORLD_SEED, "loss": "clip_loss",
               "weight_decay": "open_clip rule", "world_version": SCENE_WORLD_VERSION,
               "model": "WorldCLIP-Tiny-ConvStem",
               "image_tower": {"labels": "appearance facts", "steps": 600, "lr": 1e-3, "weight_decay": 0.05},
               "text_tower": "LiT"},
}


def world_clip_model(world: str) -> str:
    """The open_clip name of the architecture of the offline CLIP of `world`."""
    if world not in RECIPES:
        raise ValueError(f"unknown world {world!r}; choose one of {list(RECIPES)}.")
    return RECIPES[world].get("model", PROFILES["offline"].clip_model)


def _training_pairs(world: str, n_scenes: int, image_size: int) -> pd.DataFrame:
    if world == "shapes":
        return world_pairs(generate_world(n_scenes, seed=WORLD_SEED), image_size, test_fraction=0, val_fraction=0)
    return scene_pairs(generate_scenes(n_scenes, seed=WORLD_SEED), image_size, test_fraction=0, val_fraction=0)


def appearance_labels(scenes: list[Scene]) -> tuple[torch.Tensor, list[tuple]]:
    """(scenes x facts 0/1 matrix, the facts): which shapes each scene shows and in which colour, size and style,
    over every such fact seen in `scenes` (counts and relations are left to the patch tokens)."""
    looks = {*COLORS, *SIZES, *STYLES}
    facts = [{f for f in scene_facts(s) if len(f) == 1 or (len(f) == 2 and f[1] in looks)} for s in scenes]
    vocabulary = sorted(set().union(*facts))
    return torch.tensor([[f in have for f in vocabulary] for have in facts], dtype=torch.float32), vocabulary


def pretrain_image_tower(visual: nn.Module, images: torch.Tensor, labels: torch.Tensor, steps: int, lr: float,
                         weight_decay: float, batch_size: int, seed: int = 0) -> list[float]:
    """Train `visual` (and a linear head, then dropped) to predict each image's 0/1 `labels`; the losses."""
    generator = torch.Generator().manual_seed(seed)
    head = nn.Linear(visual.output_dim, labels.shape[1])
    params = list(visual.parameters()) + list(head.parameters())
    opt, sched = adamw_one_cycle([{"params": params, "weight_decay": weight_decay}], lr, steps)
    visual.train()
    losses = []
    for _ in tqdm(range(steps), desc="image tower on labels", unit="step", mininterval=0.5):
        batch = torch.randint(0, len(images), (batch_size,), generator=generator)
        loss = F.binary_cross_entropy_with_logits(head(visual(images[batch])), labels[batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    visual.eval()
    return losses


def world_clip_checkpoint(world: str = "shapes", rebuild: bool = False) -> Path:
    """Path of the CLIP pre-trained on `world` ("shapes" or "scenes"), training it first if it is missing."""
    name = world_clip_model(world)
    profile, recipe = PROFILES["offline"], RECIPES[world]
    key = recipe if world == "shapes" else {**recipe, "world": world}
    inputs = {"model": name, **key, "lr": profile.lr, "batch_size": profile.batch_size}

    def build(path: Path) -> None:
        model, preprocess, tokenizer = create_clip(name)  # initialised from the build's seed, `init_seed`
        pairs = _training_pairs(world, recipe["n_scenes"], profile.image_size)
        data = ImageCaptionSet(pairs, preprocess, tokenizer)
        print(f"pre-training the {world} world's CLIP on {len(data)} images (cached at {path.parent.parent})")
        tower = recipe.get("image_tower")
        if tower:
            scenes = [Scene.from_json(j) for j in pairs.groupby("image_id", sort=False).head(1)["scene"]]
            pretrain_image_tower(model.visual, data.images, appearance_labels(scenes)[0], tower["steps"],
                                 tower["lr"], tower["weight_decay"], profile.batch_size, seed=recipe["init_seed"])
        train_contrastive(model, data, clip_loss, profile, epochs=recipe["epochs"], lr=profile.lr,
                          batch_size=profile.batch_size, lock_image_tower=recipe.get("text_tower") == "LiT")
        torch.save(model.state_dict(), path)

    return cached("world_clip", "model.pt", inputs, build, seed=recipe["init_seed"], rebuild=rebuild)


if __name__ == "__main__":
    for world in RECIPES:
        print(world_clip_checkpoint(world, rebuild=True))
