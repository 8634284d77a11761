"""Fine-tune an off-the-shelf CLIP on a domain's own pairs (Lab 3), and cache the result for later labs.

`t4` fine-tunes OpenAI's ViT-B-32 on a real domain set from the Hub (5 epochs, batch 128, lr 1e-5).
`offline` fine-tunes the world CLIP on a domain-shifted world: shapes and colour names it never saw.
Also here: the held-out retrieval measurement and the replay mix that Lab 3 asks students to write.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from open_clip.loss import ClipLoss

from ..backbones import profile_clip, profile_clip_id
from ..cache import artefact_path, cached, pairs_fingerprint, reproducibly
from ..data import WORLDS, generate_world, hub_pairs_file, load_pairs, load_splits, pairs_from_hub, world_pairs_file
from ..metrics import recall_at_k
from ..models.clip import create_clip, encode_images, encode_texts
from ..profiles import PROFILES, Profile
from ..training.loops import TrainingLog, contrastive_step, train_contrastive


@dataclass(frozen=True)
class FinetuneRecipe:
    epochs: int
    batch_size: int
    lr: float  # small, so both towers stay unfrozen without forgetting what they knew
    seed: int = 0  # the order of the batches


RECIPES = {"t4": FinetuneRecipe(epochs=5, batch_size=128, lr=1e-5),
           "offline": FinetuneRecipe(epochs=20, batch_size=64, lr=2e-4)}
HUB_DOMAIN = {"repo_id": "wanghaofan/pokemon-wiki-captions", "image_column": "image", "caption_column": "text_en"}
# about 2,000 pairs; 150 held-out images form the retrieval gallery
OFFLINE_DOMAIN = {"n_scenes": 500, "seed": 22, "world": "shifted", "test_fraction": 0.3}


def domain_pairs_file(profile: Profile) -> Path:
    """The profile's domain `pairs.parquet`: a Hub set converted once (`t4`) or the shifted world (`offline`)."""
    if profile.name == "offline":
        return world_pairs_file(image_size=profile.image_size, **OFFLINE_DOMAIN)
    return hub_pairs_file(HUB_DOMAIN["repo_id"], lambda: pairs_from_hub(**HUB_DOMAIN))


def finetune_recipe(profile: Profile, seed: int | None = None) -> FinetuneRecipe:
    """The profile's recipe, with another `seed` for the order of the batches if one is given."""
    recipe = RECIPES[profile.name]
    return recipe if seed is None else dataclasses.replace(recipe, seed=seed)


def finetune_clip(model, train_set, profile: Profile, step: Callable = contrastive_step,
                  seed: int | None = None) -> TrainingLog:
    """Both towers unfrozen, open_clip's contrastive loss, the profile's recipe (`seed`: another order of the
    batches), seeded by it and on the cache's thread count (the global generators are left as they were); each
    optimizer step taken by `step` (Lab 3 passes the student's). Returns the training log."""
    recipe = finetune_recipe(profile, seed)
    model.requires_grad_(True)
    with reproducibly(recipe.seed):  # the same computation as the cache's own build (`domain_clip_checkpoint`)
        return train_contrastive(model, train_set, ClipLoss(), profile, epochs=recipe.epochs, lr=recipe.lr,
                                 batch_size=recipe.batch_size, seed=recipe.seed, step=step)


STEP_CASES = ("fresh", "stale gradients", "hot temperature")


def step_result(step: Callable, case: str) -> tuple[float, torch.Tensor]:
    """The loss `step` (`contrastive_step`'s signature) returns and the parameters (flattened into one vector) it
    leaves after one AdamW step on a micro CLIP, from a fixed state and batch. `case` sets the state: "fresh";
    "stale gradients" (an earlier backward left gradients behind); "hot temperature" (a logit scale past CLIP's
    clamp of 100)."""
    if case not in STEP_CASES:
        raise ValueError(f"unknown case {case!r}; one of {STEP_CASES}.")
    profile = PROFILES["offline"]
    with reproducibly(0):
        model, _, _ = create_clip("WorldCLIP-Micro")
        images, tokens = torch.randn(6, 3, 32, 32), torch.randint(1, 1000, (6, 16))
        if case == "hot temperature":
            model.logit_scale.data.fill_(math.log(200.0))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        if case == "stale gradients":
            model.encode_text(tokens).pow(2).sum().backward()
        loss = step(model, images, tokens, ClipLoss(), optimizer, profile.grad_scaler(), profile)
    return float(loss), torch.cat([p.detach().flatten() for p in model.parameters()])


def _domain_clip_inputs(profile: Profile, pairs: pd.DataFrame, seed: int | None = None) -> dict:
    return {"base": profile_clip_id(profile), "recipe": finetune_recipe(profile, seed),
            "data": pairs_fingerprint(pairs)}


def domain_clip_path(profile: Profile, pairs: pd.DataFrame) -> Path:
    """Where the profile's CLIP fine-tuned on `pairs` with Lab 3's recipe is cached (`domain_clip_checkpoint`)."""
    return artefact_path("domain_clip", "model.pt", **_domain_clip_inputs(profile, pairs))


def domain_clip_checkpoint(profile: Profile, pairs: pd.DataFrame | None = None, tuned=None,
                           seed: int | None = None) -> Path:
    """The profile's CLIP fine-tuned with Lab 3's recipe (`seed`: another order of the batches) on `pairs`
    (default: the profile's domain set), cached.

    If it is not cached yet, `tuned` (a model fine-tuned so, as Lab 3 hands over its own) is saved, or, without
    it, the fine-tuning is done here. The key holds the data's fingerprint and the recipe's seed, so Lab 3 run on
    your own data or another seed never replaces the checkpoint that Lab 4 expects, and vice versa.
    """
    pairs = load_pairs(domain_pairs_file(profile)) if pairs is None else pairs
    recipe = finetune_recipe(profile, seed)

    def build(path: Path) -> None:
        model = tuned
        if model is None:
            model, preprocess, tokenizer = profile_clip(profile)
            print(f"fine-tuning {profile.clip_model} on the domain set as Lab 3 does (cached at "
                  f"{path.parent.parent})")
            finetune_clip(model, load_splits(pairs, preprocess, tokenizer)["train"], profile, seed=recipe.seed)
        torch.save(model.state_dict(), path)

    return cached("domain_clip", "model.pt", _domain_clip_inputs(profile, pairs, seed), build, seed=recipe.seed)


def pick_queries(gallery_size: int, n_queries: int, seed: int = 0) -> torch.Tensor:
    """`n_queries` distinct gallery indices drawn reproducibly; all of them (said aloud) when the gallery is smaller."""
    if n_queries > gallery_size:
        print(f"note: {n_queries} queries asked for, but the gallery holds {gallery_size} images; using {gallery_size}.")
    return torch.randperm(gallery_size, generator=torch.Generator().manual_seed(seed))[:n_queries]


def evaluate_retrieval(model, tokenizer, images: torch.Tensor, queries: list[str], targets: torch.Tensor,
                       profile: Profile, ks=(1, 5, 10)) -> tuple[dict[int, float], torch.Tensor]:
    """Recall@k of text `queries` over the gallery `images` (query i wants image `targets[i]`), and the
    (queries x images) cosine-similarity matrix. Ties count against the query."""
    sim = encode_texts(model, tokenizer, queries, profile) @ encode_images(model, images, profile).T
    return recall_at_k(sim, targets, ks), sim


def with_replay(domain: pd.DataFrame, generic: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """The domain's training pairs plus round(`fraction` x their image count) generic training images.

    Generic images come from the generic set's `train` split only (its test split is the forgetting probe),
    with all their captions, under ids 'generic-<id>' that no domain image has, so no two images merge.
    """
    domain = domain[domain.split == "train"]
    pool = generic[generic.split == "train"].image_id.unique()
    n = min(round(fraction * domain.image_id.nunique()), len(pool))
    chosen = np.random.default_rng(seed).choice(pool, size=n, replace=False)
    extra = generic[generic.image_id.isin(chosen)]
    return pd.concat([domain, extra.assign(image_id=[f"generic-{i}" for i in extra.image_id])], ignore_index=True)


def check_gallery(preprocess, image_size: int, n: int = 6, seed: int = 7) -> tuple[torch.Tensor, list[str]]:
    """`n` preprocessed images of the shifted world and their first captions: inputs for the lab's checks."""
    scenes = generate_world(n, seed, **WORLDS["shifted"])
    return torch.stack([preprocess(s.render(image_size)) for s in scenes]), [s.captions[0] for s in scenes]


def replay_summary(mixed: pd.DataFrame, domain: pd.DataFrame, generic: pd.DataFrame) -> dict[str, object]:
    """What a replay mix must get right whichever generic images it drew (captions must be unique to an image)."""
    domain_train = domain[domain.split == "train"]
    ours = mixed[mixed.caption.isin(domain.caption)]
    theirs = mixed[mixed.caption.isin(generic.caption)]
    source = dict(zip(generic.caption, generic.image_id))
    whole = generic.groupby("image_id").caption.apply(frozenset)
    drawn = theirs.groupby("image_id").caption.apply(frozenset)
    return {
        "rows": len(mixed),
        "distinct image ids": mixed.image_id.nunique(),
        "domain training pairs, all and only, ids unchanged":
            sorted(zip(ours.image_id, ours.caption)) == sorted(zip(domain_train.image_id, domain_train.caption)),
        "generic images": len(drawn),
        "rows from the generic test split": int(theirs.caption.isin(generic[generic.split == "test"].caption).sum()),
        "generic images with all their captions": int(sum(caps == whole[source[next(iter(caps))]] for caps in drawn)),
    }


def text_to_image_recall(model, tokenizer, dataset, profile: Profile, ks=(1, 5, 10)) -> dict[int, float]:
    """Recall@k when each image's first caption queries the gallery of all images in `dataset`."""
    img = encode_images(model, dataset.images, profile)
    txt = encode_texts(model, tokenizer, dataset.first_captions(), profile)
    return recall_at_k(txt @ img.T, torch.arange(len(img)), ks)
