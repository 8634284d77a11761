"""Profiles: one code path, two sets of names and sizes.

`t4` is what students get on Colab (pretrained weights and data from the Hub, fp16 autocast).
`offline` builds everything on the machine (the procedural world, small models trained on the CPU).
`auto` picks one and says why; the environment variable `VLM_PROFILE` overrides it (CI sets `offline`).
"""
from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass

import torch

ENV_VAR = "VLM_PROFILE"
HUB_HOST = "huggingface.co"


@dataclass(frozen=True)
class Profile:
    """Names and sizes that a lab reads; everything else is shared code."""

    name: str
    device: str
    precision: str  # "fp16" (autocast + GradScaler) or "fp32"
    clip_model: str  # open_clip model name
    clip_pretrained: str | None  # open_clip tag, or None for the world CLIP built locally
    n_scenes: int  # world scenes rendered for a lab
    image_size: int  # side of rendered world images
    batch_size: int
    epochs: int
    lr: float
    lm: str  # causal language model: a Hub id on `t4`, the course's own tiny model (built here) offline

    def autocast(self):
        """fp16 autocast on the profile's device where the profile asks for fp16, else a no-op."""
        if self.precision == "fp16":
            return torch.autocast(device_type=torch.device(self.device).type, dtype=torch.float16)
        return contextlib.nullcontext()

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A GradScaler for the profile's device, enabled with fp16 (whose small gradients underflow)."""
        return torch.amp.GradScaler(torch.device(self.device).type, enabled=self.precision == "fp16")


PROFILES = {
    # OpenAI trained its CLIPs with QuickGELU; open_clip's plain "ViT-B-32" would run them with GELU
    "t4": Profile("t4", "cuda", "fp16", "ViT-B-32-quickgelu", "openai", n_scenes=20_000, image_size=224,
                  batch_size=128, epochs=5, lr=5e-4, lm="HuggingFaceTB/SmolLM2-135M-Instruct"),
    "offline": Profile("offline", "cpu", "fp32", "WorldCLIP-Tiny", None, n_scenes=2_000, image_size=64,
                       batch_size=64, epochs=4, lr=1e-3, lm="WorldLM-Tiny"),
}


def hub_reachable(timeout: float = 2.0) -> bool:
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def resolve_profile(name: str = "auto", verbose: bool = True) -> Profile:
    """Turn `auto`, `t4` or `offline` into a Profile; `VLM_PROFILE` wins over `auto`."""
    choices = ["auto", *PROFILES]
    if name not in choices:
        raise ValueError(f"unknown profile {name!r}; choose one of {choices}.")
    reason = f"asked for {name!r}"
    if name == "auto" and os.environ.get(ENV_VAR):
        name, reason = os.environ[ENV_VAR], f"{ENV_VAR}={os.environ[ENV_VAR]} is set"
        if name not in PROFILES:
            raise ValueError(f"{ENV_VAR}={name!r} is not a profile; set it to one of {list(PROFILES)}.")
    elif name == "auto":
        cuda = torch.cuda.is_available()
        hub = cuda and hub_reachable()  # no point waiting on the network without a GPU
        name = "t4" if hub else "offline"
        reason = ("CUDA not available" if not cuda else
                  f"CUDA available, Hugging Face Hub {'reachable' if hub else 'not reachable'}")
    if verbose:
        print(f"profile: {name} ({reason})")
    return PROFILES[name]
