"""The Colab (`t4`) path of every lab, run here: the crash a student would hit on Colab fails CI.

Each solution runs under papermill with `profile = "t4"`, tiny lab knobs and the stand-ins of
`t4_smoke.py` (Hub data from local fixtures, open_clip tags with random weights, the CPU, tiny sizes).
Cells tagged `outcome` are dropped: random weights cannot reach the lab's outcome, and by convention
those cells define nothing that later cells use. Quality on real weights is the GPU runner's job.
"""
from __future__ import annotations

import dataclasses
import re
import resource
import time
from pathlib import Path

import nbformat
import papermill
import pytest
import t4_smoke
import torch
from nbclient.exceptions import CellTimeoutError

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9]*.ipynb"))
# Lab knobs that keep the t4 path tiny; each must be a parameter of its lab.
TINY_KNOBS = {
    "02_zero_shot": {"n_scenes": 60, "n_images": 16, "test_sets": 2},
    "04_embedding_space": {"n_per_class": 3},  # t-SNE needs more than 30 points (30 images, 10 prompts)
    "05_siglip": {"batch_sizes": [4, 8], "steps": 2, "n_seeds": 2, "n_scenes": 60},
    "06_captioner": {"stage1_steps": 2, "stage2_steps": 2, "test_images": 4},
    "07_caption_metrics": {"n_scenes": 80, "n_images": 8},  # 64 training images for the neighbour baseline
    "08_vqa": {"stage2_steps": 2, "blind_steps": 2},
    "09_connectors": {"steps": 2},
    "11_vector_search": {"n_collection": 4000, "n_queries": 10, "nlist": 16, "rerank_depth": 3},
    "12_grounding": {"steps": 2, "owl_images": 2},
}
# What each lab must reach on t4, besides the t4 profile itself: a stand-in line of t4_smoke.
REACHES = {
    "02_zero_shot": ["open_clip weights"],
    "03_domain_finetune": ["open_clip weights", "Hub dataset wanghaofan/pokemon-wiki-captions"],
    "04_embedding_space": ["open_clip weights", "Hub dataset wanghaofan/pokemon-wiki-captions",
                           "Hub dataset uoft-cs/cifar10"],
    "06_captioner": ["open_clip weights", "Hub dataset jxie/flickr8k",
                     "language model HuggingFaceTB/SmolLM2-135M-Instruct replaced"],
    "07_caption_metrics": ["open_clip weights"],
    "08_vqa": ["open_clip weights", "Hub dataset lmms-lab/VQAv2",
               "language model HuggingFaceTB/SmolLM2-135M-Instruct replaced"],
    "09_connectors": ["open_clip weights", "Hub dataset lmms-lab/VQAv2",
                      "language model HuggingFaceTB/SmolLM2-135M-Instruct replaced"],
    "10_hallucination": ["open_clip weights", "Hub dataset detection-datasets/coco", "Hub dataset jxie/flickr8k",
                         "language model HuggingFaceTB/SmolLM2-135M-Instruct replaced"],
    "11_vector_search": ["open_clip weights", "Hub dataset jxie/flickr8k",
                         "language model HuggingFaceTB/SmolLM2-135M-Instruct replaced"],
    "12_grounding": ["open_clip weights", "Hub dataset detection-datasets/coco",
                     "OWL-ViT google/owlvit-base-patch32 replaced"],
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT = 300  # seconds


def kernel_cpu_seconds() -> float:
    """CPU time of this process's finished children (the kernels): a load-independent measure of work."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def smoke_notebook(source: Path, fixtures: Path) -> nbformat.NotebookNode:
    """`source` without its outcome cells and old injected parameters, stand-ins installed first."""
    nb = nbformat.read(source, as_version=4)
    tags = lambda cell: cell.get("metadata", {}).get("tags", [])  # noqa: E731
    nb.cells = [c for c in nb.cells if not {"outcome", "injected-parameters"} & set(tags(c))]
    first = next(i for i, c in enumerate(nb.cells) if "parameters" in tags(c))
    install = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
               f"import t4_smoke\nt4_smoke.install({str(fixtures)!r})")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(install))
    return nb


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the executed notebook printed (stream outputs and plain-text results)."""
    return "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                   for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_lab_runs_on_t4(solution: Path, tmp_path: Path, monkeypatch):
    # The kernel inherits the environment: a fresh course cache, as on a new Colab runtime (Lab 4
    # re-creates Lab 3's checkpoint), so artefacts built on fixtures never reach the real cache.
    monkeypatch.setenv("VLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a Hub call without a stand-in fails at once
    knobs = TINY_KNOBS.get(solution.stem, {})
    unknown = set(knobs) - set(papermill.inspect_notebook(solution))
    assert not unknown, f"{solution.name} has no parameters {sorted(unknown)}: update TINY_KNOBS"
    smoke = tmp_path / solution.name
    nbformat.write(smoke_notebook(solution, tmp_path / "hub"), smoke)

    start, cpu = time.perf_counter(), kernel_cpu_seconds()
    try:
        papermill.execute_notebook(smoke, smoke, parameters={"profile": "t4", **knobs}, cwd=str(REPO),
                                   kernel_name="python3", progress_bar=False, execution_timeout=CELL_TIMEOUT)
    except papermill.PapermillExecutionError as e:
        trace = ANSI.sub("", "\n".join(e.traceback[-6:]))
        pytest.fail(f"{solution.name} crashes on the t4 path, in the cell starting\n"
                    f"{e.source.strip()[:400]}\n\n{e.ename}: {e.evalue}\n{trace}", pytrace=False)
    except CellTimeoutError as e:
        pytest.fail(f"{solution.name} takes over {CELL_TIMEOUT} s in one cell on the tiny t4 path: a size "
                    f"the stand-ins do not shrink?\n{e}", pytrace=False)
    print(f"{solution.stem}: t4 path ran in {time.perf_counter() - start:.0f} s, "
          f"{kernel_cpu_seconds() - cpu:.0f} s of kernel CPU time")

    out = printed(nbformat.read(smoke, as_version=4))
    assert "profile: t4" in out, f"{solution.name} did not resolve the t4 profile"
    missing = [s for s in REACHES.get(solution.stem, []) if f"{t4_smoke.STAND_IN} {s}" not in out]
    assert not missing, f"{solution.name} ran on t4 without reaching {missing}; it printed:\n{out[-2000:]}"


def test_t4_precision_runs_on_a_cpu():
    """fp16 autocast and the GradScaler, on the profile's device, through the shared training loop."""
    from utils import profiles
    from utils.data import ImageCaptionSet, world_pairs
    from utils.data.world import generate_world
    from utils.models.clip import create_clip
    from utils.training.loops import train_contrastive
    from utils.training.losses import clip_loss

    P = dataclasses.replace(profiles.PROFILES["t4"], device="cpu")
    model, preprocess, tokenizer = create_clip("WorldCLIP-Micro")
    with P.autocast():
        assert model.encode_image(torch.zeros(1, 3, 32, 32)).dtype == torch.float16
    scaler = P.grad_scaler()
    assert scaler.is_enabled(), "the t4 profile's GradScaler is disabled on its own device"
    pairs = world_pairs(generate_world(4), 32, val_fraction=0.0, test_fraction=0.0)
    data = ImageCaptionSet(pairs, preprocess, tokenizer)
    before = [p.detach().clone() for p in model.parameters()]
    # 5 epochs of 2 steps: 10 steps, where a one-step warm-up once made OneCycleLR divide by zero
    log = train_contrastive(model, data, clip_loss, P, epochs=5, lr=1e-3, batch_size=2)
    assert len(log) == 10 and all(torch.isfinite(torch.tensor(log.loss)))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
