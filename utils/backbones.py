"""Which pre-trained weights a profile uses: its CLIP, its language model, and a VLM's frozen parts.

`t4` names the Hub's (OpenAI's ViT-B-32, SmolLM2-135M-Instruct); `offline` names the models the course builds for
itself (`utils.offline`), built on first use and cached. Each `*_id` function names the weights in a way that
changes whenever they would, for the cache keys of artefacts trained on top of them.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from .models.clip import create_clip
from .models.vision_tower import RememberingTower, VisionTower
from .offline.world_clip import world_clip_checkpoint, world_clip_model
from .offline.world_lm import WORLD_LM, world_lm_folder
from .profiles import Profile


def profile_clip_weights(profile: Profile, world: str = "shapes") -> str:
    """The profile's off-the-shelf weights: an open_clip tag on `t4`; offline, the checkpoint of the CLIP
    pre-trained on the course's `world` ("shapes" for Labs 1-5, "scenes" for the generative labs)."""
    if profile.clip_pretrained:
        return profile.clip_pretrained
    return str(world_clip_checkpoint(world))


def profile_clip_model(profile: Profile, world: str = "shapes") -> str:
    """The open_clip name of the profile's off-the-shelf CLIP (offline, each world's recipe names its own)."""
    if profile.clip_pretrained:
        return profile.clip_model
    return world_clip_model(world)


def profile_clip_id(profile: Profile, world: str = "shapes") -> str:
    """A name for the profile's off-the-shelf CLIP that changes whenever its weights would (for cache keys)."""
    weights = profile_clip_weights(profile, world)
    name = profile_clip_model(profile, world)
    return f"{name}/{weights if profile.clip_pretrained else Path(weights).parent.name}"


def profile_clip(profile: Profile, world: str = "shapes"):
    """The profile's off-the-shelf CLIP: OpenAI's ViT-B-32 on `t4`; offline, the CLIP pre-trained on `world`."""
    return create_clip(profile_clip_model(profile, world), profile_clip_weights(profile, world), profile.device)


def load_language_model(profile: Profile) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """`profile.lm` and its tokenizer, on the profile's device, in eval mode.

    Weights load in fp32 whatever the checkpoint stores: on `t4` fp16 comes from autocast, and the GradScaler
    needs fp32 weights to update. The world LM (offline) is pre-trained on first use and cached.
    """
    source = str(world_lm_folder()) if profile.lm == WORLD_LM else profile.lm
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    return model.to(profile.device).eval(), tokenizer


def language_model_id(profile: Profile) -> str:
    """A name for the profile's LM that changes whenever its weights would (for cache keys)."""
    return f"{WORLD_LM}/{world_lm_folder().parent.name}" if profile.lm == WORLD_LM else profile.lm


def vlm_parts(profile: Profile, layer: int, remember_patch_tokens: bool,
              seed: int) -> tuple[VisionTower, PreTrainedModel, PreTrainedTokenizerBase, Callable]:
    """The profile's frozen vision tower (the scenes CLIP's image encoder read at block `layer`; remembering patch
    tokens if asked), its LM and tokenizer, and CLIP's `preprocess`; the torch seed is set to `seed` before the parts
    are made and again after, for the connector built next."""
    torch.manual_seed(seed)  # parts with random weights (the t4 smoke test's stand-ins) come out the same every call
    clip_model, preprocess, _ = profile_clip(profile, world="scenes")
    lm, tokenizer = load_language_model(profile)
    torch.manual_seed(seed)
    tower = (RememberingTower if remember_patch_tokens else VisionTower)(clip_model.visual, layer)
    return tower, lm, tokenizer, preprocess


def vlm_parts_id(profile: Profile) -> dict[str, str]:
    """Names of a VLM's pre-trained parts that change whenever their weights would (for cache keys)."""
    return {"clip": profile_clip_id(profile, world="scenes"), "lm": language_model_id(profile)}
