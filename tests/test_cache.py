"""The course cache: keys, one build per artefact whoever asks first, and the same artefact whatever ran before."""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from utils import cache

BUILDER = Path(__file__).with_name("tiny_builder.py")


def test_key_changes_with_any_input_the_builder_version_and_torch(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    a = cache.artefact_path("world_clip", "m.pt", data="abc", lr=1e-3)
    assert a == cache.artefact_path("world_clip", "m.pt", lr=1e-3, data="abc")  # order does not matter
    assert a != cache.artefact_path("world_clip", "m.pt", data="abd", lr=1e-3)
    assert a != cache.artefact_path("world_clip", "m.pt", data="abc", lr=2e-3)
    assert not a.parent.exists()  # only `cached` creates anything
    monkeypatch.setitem(cache.BUILDERS, "world_clip", cache.BUILDERS["world_clip"] + 1)
    assert a != cache.artefact_path("world_clip", "m.pt", data="abc", lr=1e-3)
    with pytest.raises(ValueError, match="unknown artefact kind 'model'.*BUILDERS"):
        cache.artefact_path("model", "m.pt")


def test_cached_builds_once_records_its_inputs_and_leaves_nothing_half_built(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    calls = []
    build = lambda path: calls.append(path) or path.write_text("weights")  # noqa: E731
    path = cache.cached("world_clip", "m.pt", {"data": "abc", "seed": 3}, build, seed=3)
    assert path.read_text() == "weights" and len(calls) == 1
    assert cache.cached("world_clip", "m.pt", {"data": "abc", "seed": 3}, build, seed=3) == path and len(calls) == 1
    recorded = json.loads((path.parent / "inputs.json").read_text())
    assert recorded["data"] == "abc" and recorded["builder"] == cache.BUILDERS["world_clip"] and "torch" in recorded

    def interrupted(path):
        path.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.cached("world_clip", "m.pt", {"data": "xyz", "seed": 3}, interrupted, seed=3)
    assert sorted(p.name for p in (tmp_path / "world_clip").iterdir() if not p.name.endswith(".lock")) == \
        [path.parent.name]


def test_a_build_neither_reads_nor_changes_the_global_generators(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    seen = []
    build = lambda path: seen.append((torch.rand(1).item(), np.random.rand(), random.random(),  # noqa: E731
                                      torch.get_num_threads())) or path.write_text("x")
    threads = torch.get_num_threads()
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    torch.set_num_threads(cache.BUILD_THREADS + 1)
    cache.cached("world_clip", "a", {"seed": 5}, build, seed=5)
    after = (torch.rand(1).item(), np.random.rand(), random.random(), torch.get_num_threads())
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    cache.cached("world_clip", "b", {"seed": 5}, build, seed=5)  # other prior state, same draws inside
    assert seen[0] == seen[1] and seen[0][3] == cache.BUILD_THREADS
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    assert after == (torch.rand(1).item(), np.random.rand(), random.random(),  # as if no build had run
                     cache.BUILD_THREADS + 1)
    torch.set_num_threads(threads)


def _build(cache_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(BUILDER), *args], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL, env={**os.environ, "VLM_CACHE": str(cache_dir)})


def _result(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


def test_trained_artefacts_are_the_same_whoever_builds_them_first(tmp_path):
    """Two fresh processes build the same two tiny world CLIPs in opposite orders, one after other work that
    drew from every global generator and changed the thread count: the weights are equal to the bit."""
    one = _result(_build(tmp_path / "one", "shapes", "scenes"))
    two = _result(_build(tmp_path / "two", "scenes", "shapes", "--prior-work"))
    assert one["built"] == ["shapes", "scenes"] and two["built"] == ["scenes", "shapes"]
    assert one["hashes"] == two["hashes"]


def test_two_processes_asking_at_once_build_once_and_load_the_same(tmp_path):
    first, second = _build(tmp_path, "scenes"), _build(tmp_path, "scenes")
    results = [_result(first), _result(second)]
    assert sorted(len(r["built"]) for r in results) == [0, 1]  # one built, the other waited for it
    assert results[0]["hashes"] == results[1]["hashes"]
    assert [p.name for p in (tmp_path / "world_clip").iterdir() if ".partial" in p.name] == []


def test_pairs_fingerprint_sees_images_captions_and_splits(png):
    df = pd.DataFrame({"image": [png("red"), png("blue")], "caption": ["a", "b"], "split": ["train", "test"]})
    fp = cache.pairs_fingerprint(df)
    assert fp == cache.pairs_fingerprint(df.copy())
    assert fp != cache.pairs_fingerprint(df.assign(caption=["a", "c"]))
    assert fp != cache.pairs_fingerprint(df.assign(image=[png("red"), png("green")]))
    assert fp != cache.pairs_fingerprint(df.assign(split=["test", "train"]))
