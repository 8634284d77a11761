"""The course cache: artefacts (rendered worlds, checkpoints) keyed by everything they were built from.

`VLM_CACHE` moves it (default `~/.cache/vlm-course`). A key is a hash of the inputs, of the version of the code
that builds that kind of artefact (`BUILDERS`) and of the torch version, so an artefact built from other data,
another recipe, older code or another torch is never picked up in its place; the inputs are written beside the
artefact in `inputs.json` for people to read.

`cached` builds a missing artefact once, whoever asks first: under a lock per artefact (another process asking
for it waits, then loads it), into a temporary folder renamed into place when complete (an interrupted build
leaves nothing that looks finished), with the global random generators forked and seeded from the recipe's own
seed and a fixed thread count (`reproducibly`), so that what ran before in the process changes nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from filelock import FileLock

CACHE = Path(os.environ.get("VLM_CACHE", Path.home() / ".cache" / "vlm-course"))
# The version of the code that builds each kind of artefact: bump a kind's number when its building code changes
# (training loop, recipe handling, what is saved), and every cached artefact of that kind is rebuilt.
BUILDERS = {"world_pairs": 1, "scene_world": 1, "objects": 1, "vqa": 1, "hub": 1,
            "world_clip": 2, "world_lm": 2, "domain_clip": 2, "captioner": 2, "checkpoint_captions": 2}
# Every builder trains on this many CPU threads, whatever the caller uses: one, so that two builds (or a build and a
# test) side by side on a two-core machine never oversubscribe it, and a reduction never splits differently.
BUILD_THREADS = 1


def fingerprint(value) -> str:
    """A short stable hash of JSON-able `value` (dicts hash the same whatever their key order)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def pairs_fingerprint(df: pd.DataFrame) -> str:
    """A hash of a pairs table's content: image bytes, captions and splits, in row order."""
    h = hashlib.sha256()
    splits = df["split"] if "split" in df.columns else [""] * len(df)
    for image, caption, split in zip(df["image"], df["caption"], splits):
        h.update(hashlib.sha256(image).digest() + caption.encode() + b"\0" + str(split).encode() + b"\0")
    return h.hexdigest()[:16]


def _key(kind: str, inputs: dict) -> dict:
    if kind not in BUILDERS:
        raise ValueError(f"unknown artefact kind {kind!r}: add it to utils.cache.BUILDERS with version 1.")
    return {**inputs, "builder": BUILDERS[kind], "torch": torch.__version__.split("+")[0]}


def artefact_path(kind: str, filename: str, **inputs) -> Path:
    """`CACHE/kind/<hash of the inputs, the kind's builder version and torch's version>/filename` (nothing is
    created: `cached` builds it)."""
    return CACHE / kind / fingerprint(_key(kind, inputs)) / filename


@contextlib.contextmanager
def reproducibly(seed: int, threads: int = BUILD_THREADS) -> Iterator[None]:
    """Run the block with torch's (CPU and CUDA), numpy's and Python's global generators seeded with `seed` and
    `threads` torch threads; every one of them is as it was before once the block ends."""
    numpy_state, python_state, before = np.random.get_state(), random.getstate(), torch.get_num_threads()
    with torch.random.fork_rng(devices=range(torch.cuda.device_count())):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def cached(kind: str, filename: str, inputs: dict, build: Callable[[Path], object], seed: int,
           rebuild: bool = False) -> Path:
    """The path of the artefact keyed by `inputs`, built first if it is missing (or if `rebuild`) by `build(path)`,
    which writes the file or folder `path` (named `filename`). `seed` is the recipe's own seed (so it is among the
    `inputs`) and seeds the build (`reproducibly`). Safe when several processes ask at once: one builds, the
    others wait, then load what it built."""
    path = artefact_path(kind, filename, **inputs)
    if path.exists() and not rebuild:
        return path
    folder = path.parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(folder.with_name(folder.name + ".lock")):
        if path.exists() and not rebuild:  # built by another process while this one waited
            return path
        partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        (partial / "inputs.json").write_text(json.dumps(_key(kind, inputs), indent=2, sort_keys=True, default=str))
        try:
            with reproducibly(seed):
                build(partial / filename)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(folder, ignore_errors=True)  # a rebuild's old copy
        partial.rename(folder)
    return path
