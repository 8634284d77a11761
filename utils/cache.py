"""The course cache: artefacts (rendered worlds, checkpoints) keyed by everything they were built from.

`VLM_CACHE` moves it (default `~/.cache/vlm-course`). A key is a hash of the inputs, so an artefact built
from other data, another recipe or an older world version is never picked up in its place; the inputs
are written beside the artefact in `inputs.json` for people to read.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

CACHE = Path(os.environ.get("VLM_CACHE", Path.home() / ".cache" / "vlm-course"))


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


def artefact_path(kind: str, filename: str, **inputs) -> Path:
    """`CACHE/kind/<hash of inputs>/filename`; the folder is created and records its inputs."""
    folder = CACHE / kind / fingerprint(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "inputs.json"
    if not record.exists():
        record.write_text(json.dumps(inputs, indent=2, sort_keys=True, default=str))
    return folder / filename
