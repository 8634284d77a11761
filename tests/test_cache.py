import json

import pandas as pd

from utils import cache


def test_key_changes_with_any_input_and_records_them(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE", tmp_path)
    a = cache.artefact_path("model", "m.pt", data="abc", lr=1e-3)
    assert a == cache.artefact_path("model", "m.pt", lr=1e-3, data="abc")  # order does not matter
    assert a != cache.artefact_path("model", "m.pt", data="abd", lr=1e-3)
    assert a != cache.artefact_path("model", "m.pt", data="abc", lr=2e-3)
    assert json.loads((a.parent / "inputs.json").read_text()) == {"data": "abc", "lr": 1e-3}


def test_pairs_fingerprint_sees_images_captions_and_splits(png):
    df = pd.DataFrame({"image": [png("red"), png("blue")], "caption": ["a", "b"], "split": ["train", "test"]})
    fp = cache.pairs_fingerprint(df)
    assert fp == cache.pairs_fingerprint(df.copy())
    assert fp != cache.pairs_fingerprint(df.assign(caption=["a", "c"]))
    assert fp != cache.pairs_fingerprint(df.assign(image=[png("red"), png("green")]))
    assert fp != cache.pairs_fingerprint(df.assign(split=["test", "train"]))
