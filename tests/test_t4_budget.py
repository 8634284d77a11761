"""The t4 budget harness runs every row (on the CPU, with a tiny CLIP and LM), and projects step time x steps."""
import dataclasses
from pathlib import Path

import pytest

from utils.course import t4_budget
from utils.profiles import PROFILES
from utils.recipes import captioning, connectors, finetune, vqa

REPO = Path(__file__).resolve().parents[1]


def test_every_row_is_measured_and_projected(monkeypatch):
    monkeypatch.setattr(t4_budget, "SMOLLM2_135M", {**t4_budget.SMOLLM2_135M, "hidden_size": 32,
                                                    "intermediate_size": 64, "num_hidden_layers": 2,
                                                    "num_attention_heads": 2, "num_key_value_heads": 1,
                                                    "vocab_size": 2100})
    small = {"batch_size": 2}
    monkeypatch.setitem(captioning.RECIPES, "t4", dataclasses.replace(captioning.RECIPES["t4"], **small,
                                                                      max_new_tokens=3, num_beams=2))
    monkeypatch.setitem(vqa.RECIPES, "t4", dataclasses.replace(vqa.RECIPES["t4"], **small))
    monkeypatch.setitem(connectors.RECIPES, "t4", dataclasses.replace(connectors.RECIPES["t4"],
                                                                                **small, latents=4))
    monkeypatch.setitem(finetune.RECIPES, "t4", dataclasses.replace(finetune.RECIPES["t4"], **small))
    table = t4_budget.budget(steps=1, profile=dataclasses.replace(PROFILES["t4"], device="cpu", precision="fp32",
                                                                   clip_model="WorldCLIP-Micro"),
                             caption_images=2)
    assert len(table) == 3 + 2 + 1 + len(connectors.CONNECTORS)
    assert table["fits"].all() and (table["seconds"] > 0).all()
    assert table["projected s"].tolist() == pytest.approx((table["seconds"] * table["batch / images"]).tolist())
    steps = dict(zip(table["what"], table["batch / images"]))
    assert steps["stage 2 step, batch 2"] == captioning.RECIPES["t4"].stage2_steps



def test_a_whole_lab_runs_with_its_parameters_and_reports_failure(tmp_path, monkeypatch):
    import nbformat

    monkeypatch.chdir(REPO)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('profile = "auto"', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('assert profile == "offline", profile\nprint("ran on", profile)')])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "lab.ipynb")
    row = t4_budget.run_lab(tmp_path / "lab.ipynb", tmp_path / "out" / "lab.ipynb", profile="offline")
    assert row["status"] == "ok" and row["lab"] == "lab" and "ran on offline" in (tmp_path / "out" / "lab.ipynb").read_text()
    row = t4_budget.run_lab(tmp_path / "lab.ipynb", tmp_path / "out" / "lab.ipynb", profile="t4")
    assert row["status"].startswith("failed in cell") and "AssertionError" in row["status"]
