"""Build tiny world CLIPs into the course cache as a fresh process would (run by tests/test_cache.py).

    python tests/tiny_builder.py WORLD [WORLD ...] [--prior-work]

Each world's CLIP is built with a reduced recipe (a few steps of the real builder) or loaded when the cache
already holds it; `--prior-work` first does what an earlier lab might have done to the process's global state
(draws from every global generator, another thread count). Prints one JSON line: for each world, a hash of the
saved weights, and which worlds this process built.
"""
import argparse
import contextlib
import hashlib
import io
import json
import random

import numpy as np
import torch

from utils.offline import world_clip

TINY = {"n_scenes": 96, "epochs": 2, "model": "WorldCLIP-Micro"}


def weights_hash(path) -> str:
    state = torch.load(path, map_location="cpu")
    return hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("worlds", nargs="+")
    parser.add_argument("--prior-work", action="store_true")
    args = parser.parse_args()
    for world in world_clip.RECIPES:
        recipe = {**world_clip.RECIPES[world], **TINY}
        if "image_tower" in recipe:
            recipe["image_tower"] = {**recipe["image_tower"], "steps": 3}
        world_clip.RECIPES[world] = recipe
    if args.prior_work:
        torch.randn(1000), np.random.rand(10), random.random()
        torch.set_num_threads(2)
    hashes, built = {}, []
    for world in args.worlds:
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            path = world_clip.world_clip_checkpoint(world)
        if "pre-training" in log.getvalue():
            built.append(world)
        hashes[world] = weights_hash(path)
    print(json.dumps({"hashes": hashes, "built": built}))


if __name__ == "__main__":
    main()
