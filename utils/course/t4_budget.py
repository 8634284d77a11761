"""What the `t4` recipes cost on a GPU: each lab's training step and captioning at full size, random weights.

`python -m utils.course.t4_budget [--steps N] [--out FILE.md]` on a machine with a CUDA GPU; with `--labs NB [NB ...]`
it runs whole solution notebooks instead (`run_lab`: papermill, `-p profile t4`, the same cap), as the GPU
runner's workflow does where the Hub is reachable. Time and memory depend on
the architecture, the batch and the sequence lengths, not on the weights, so no Hub download is needed: open_clip's
ViT-B/32 with random weights and a Llama with SmolLM2-135M's published configuration stand in for the
pretrained models, and the labs' own model classes, connectors and training loop do the rest. The process is
capped at 15 GiB of GPU memory (a T4's 16 GB less the CUDA context) with
`torch.cuda.set_per_process_memory_fraction`, so a recipe that would not fit a T4 fails here too. Each row
gives the step time, the peak memory and the lab's projected training time (its recipe's steps times the step
time) on the GPU it ran on; a T4 is slower (about a fifteenth of an H100's fp16 tensor throughput, a tenth of
its memory bandwidth), by less than that for steps this small, which launch overhead dominates. Captions are
generated to their full length (random weights never stop early): an upper bound. The table of the last run on
a GPU is kept in `measurements/t4_budget.md` and shown on the book's execution-statistics page.
"""
from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from ..models.clip import create_clip
from ..models.language_model import DESCRIBE
from ..models.vision_tower import VisionTower
from ..models.vlm import VisionLanguageModel
from ..offline.world_lm import world_lines
from ..offline.world_tokenizer import build_tokenizer
from ..profiles import PROFILES, Profile
from ..recipes import captioning, connectors, finetune, vqa
from ..recipes.connectors import assemble
from ..training.loops import train_steps
from ..training.losses import clip_loss

T4_MEMORY_GIB = 15.0
# HuggingFaceTB/SmolLM2-135M(-Instruct)'s config.json
SMOLLM2_135M = {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
                "num_key_value_heads": 3, "max_position_embeddings": 8192, "rope_theta": 100000.0,
                "rms_norm_eps": 1e-5, "tie_word_embeddings": True, "vocab_size": 49152}


def cap_memory(gib: float = T4_MEMORY_GIB) -> None:
    """Let this process allocate at most `gib` of the GPU's memory."""
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, gib * 2 ** 30 / total))


@functools.cache
def world_tokenizer() -> PreTrainedTokenizerBase:
    """A tokenizer of world text with the chat template and special tokens the VLMs need (2,000 tokens)."""
    return build_tokenizer(world_lines(300, 0), vocab_size=2000)


def random_vlm(profile: Profile, architecture: str, recipe) -> VisionLanguageModel:
    """The t4 VLM of a lab (`architecture` "mlp", "flamingo" or "qformer"), full size with random weights: the
    profile's CLIP image tower and an LM shaped like SmolLM2-135M (a world tokenizer: token ids only)."""
    clip_model, _, _ = create_clip(profile.clip_model, None, profile.device)
    tokenizer = world_tokenizer()
    lm = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M, bos_token_id=tokenizer.bos_token_id,
                                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id))
    return assemble(architecture, VisionTower(clip_model.visual, recipe.layer), lm.to(profile.device), tokenizer,
                    recipe)


def world_examples(kind: str, n: int) -> list[tuple[str, str]]:
    """(prompt, answer) pairs of world text, as long as the labs' in tokens: captions (about 12 words, as
    Flickr8k's) or questions with one-word answers (as VQA v2's)."""
    lines = _world_text()
    if kind == "caption":
        pairs = [(DESCRIBE, line) for line in lines if "? " not in line]
    else:
        pairs = [tuple(line.split("? ")) for line in lines if "? " in line]
        pairs = [(q + "?", a) for q, a in pairs]
    return (list(pairs) * (n // len(pairs) + 1))[:n]


@functools.cache
def _world_text() -> tuple[str, ...]:
    return tuple(world_lines(200, 1))


def measure(run: Callable[[], None], repeats: int) -> dict[str, float]:
    """Seconds per call of `run` (after one warm-up call) and the peak GPU memory, or the error if it did not fit."""
    gpu = torch.cuda.is_available()  # without one (the tests), time only
    try:
        run()
        if gpu:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        if gpu:
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / repeats
        return {"seconds": seconds, "peak GiB": torch.cuda.max_memory_allocated() / 2 ** 30 if gpu else float("nan"),
                "fits": True}
    except torch.OutOfMemoryError as err:
        return {"seconds": float("nan"), "peak GiB": float("nan"), "fits": False, "error": str(err)[:200]}
    finally:
        if gpu:
            torch.cuda.empty_cache()


def vlm_training(profile: Profile, architecture: str, recipe, stage: int, kind: str, steps: int) -> dict:
    """One training step of a lab's VLM at the recipe's batch size (`steps` of them timed)."""
    torch.manual_seed(0)
    vlm = random_vlm(profile, architecture, recipe)
    vlm.set_stage(stage)
    pairs = world_examples(kind, recipe.batch_size)
    pixels = torch.randn(recipe.batch_size, 3, *vlm.vision_tower.visual.image_size)
    batch = vlm.collate(pixels, [p for p, _ in pairs], [a for _, a in pairs])
    batch = {k: v.to(profile.device) for k, v in batch.items()}
    out = measure(lambda: train_steps(vlm, [batch], profile, lr=1e-4, steps=steps, desc="timing"), 1)
    out["seconds"] /= steps
    out["tokens"] = int(batch["input_ids"].shape[1])
    del vlm
    return out


def captioning_cost(profile: Profile, recipe: captioning.CaptionRecipe, num_beams: int, images: int = 100) -> dict:
    """Captioning `images` images to the recipe's full caption length (seconds per image)."""
    torch.manual_seed(0)
    vlm = random_vlm(profile, "mlp", recipe).eval()
    pixels = torch.randn(images, 3, *vlm.vision_tower.visual.image_size)

    def run() -> None:
        with torch.no_grad(), profile.autocast():
            vlm.generate(pixels, [DESCRIBE] * images, max_new_tokens=recipe.max_new_tokens,
                         num_beams=num_beams)

    out = measure(run, 1)
    out["seconds"] /= images
    return out


def clip_training(profile: Profile, recipe: finetune.FinetuneRecipe, steps: int) -> dict:
    """Lab 3's contrastive fine-tuning step: the whole CLIP, the recipe's batch, fp16 autocast."""
    torch.manual_seed(0)
    model, _, tokenizer = create_clip(profile.clip_model, None, profile.device)
    images = torch.randn(recipe.batch_size, 3, *model.visual.image_size, device=profile.device)
    texts = tokenizer(["a photo of a small purple pokemon with a long tail"] * recipe.batch_size).to(profile.device)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr)
    scaler = profile.grad_scaler()

    def run() -> None:
        for _ in range(steps):
            with profile.autocast():
                image_emb, text_emb, scale = model(images, texts)[:3]
                loss = clip_loss(image_emb, text_emb, scale)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

    out = measure(run, 1)
    out["seconds"] /= steps
    return out


def budget(steps: int = 10, profile: Profile = PROFILES["t4"], caption_images: int = 100) -> pd.DataFrame:
    """Every row of the table: what is measured (over `steps` training steps or `caption_images` captions), per
    step or image, and the lab's projected total."""
    cap, vq, conn, ft = (captioning.RECIPES["t4"], vqa.RECIPES["t4"], connectors.RECIPES["t4"],
                         finetune.RECIPES["t4"])
    rows = []

    def add(lab: str, what: str, result: dict, count: int, unit: str) -> None:
        rows.append({"lab": lab, "what": what, "batch / images": count, **result,
                     "projected s": result["seconds"] * count if result["fits"] else float("nan"), "unit": unit})
        print(rows[-1], flush=True)

    clip_steps = ft.epochs * -(-1850 // ft.batch_size)  # ~1,850 training pairs, 5 epochs
    add("03 domain fine-tune", f"CLIP step, batch {ft.batch_size}", clip_training(profile, ft, steps), clip_steps,
        "steps")
    for stage, n in ((1, cap.stage1_steps), (2, cap.stage2_steps)):
        add("06 captioner", f"stage {stage} step, batch {cap.batch_size}",
            vlm_training(profile, "mlp", cap, stage, "caption", steps), n, "steps")
    for beams in (1, cap.num_beams):
        add("06 captioner", f"captioning, {beams} beam(s), {cap.max_new_tokens} tokens",
            captioning_cost(profile, cap, beams, caption_images), cap.test_images, "images")
    add("08 VQA", f"stage 2 step, batch {vq.batch_size} (stage 1's steps counted at its time)", vlm_training(profile, "mlp", vq, 2, "question", steps),
        vq.stage1_steps + vq.stage2_steps, "steps")
    for name, (architecture, stage) in connectors.CONNECTORS.items():
        add("09 connectors", name, vlm_training(profile, architecture, conn, stage, "question", steps), conn.steps,
            "steps")
    return pd.DataFrame(rows)


PEAK_MARKER = "T4_BUDGET_PEAK_GIB="


def run_lab(notebook: Path, out: Path, profile: str = "t4", timeout: int = 1800) -> dict:
    """Execute a solution notebook with papermill (its outcome cells included) under the 15 GiB cap, writing the
    executed copy to `out`; its wall time, peak GPU memory and whether it succeeded."""
    import nbformat  # late: only whole-lab runs need the notebook tools
    import papermill

    nb = nbformat.read(notebook, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(
        "import torch\nfrom utils.course.t4_budget import cap_memory\nif torch.cuda.is_available():\n    cap_memory()"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import torch\nprint('" + PEAK_MARKER + "' + str(torch.cuda.max_memory_allocated() / 2 ** 30 "
        "if torch.cuda.is_available() else float('nan')))"))
    capped = out.with_suffix(".capped.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, capped)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(capped, out, parameters={"profile": profile}, cwd=str(Path.cwd()),
                                   kernel_name="python3", progress_bar=False, execution_timeout=timeout)
        status = "ok"
    except papermill.PapermillExecutionError as err:
        status = f"failed in cell {err.exec_count}: {err.ename}: {str(err.evalue)[:200]}"
    finally:
        capped.unlink()
    seconds = time.perf_counter() - start
    printed = "".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    peak = float(printed.rsplit(PEAK_MARKER, 1)[1].split()[0]) if PEAK_MARKER in printed else float("nan")
    return {"lab": notebook.stem, "status": status, "wall s": round(seconds), "peak GiB": round(peak, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="training steps timed per row (after one warm-up run)")
    parser.add_argument("--out", type=Path, default=Path("measurements/t4_budget.md"),
                        help="where the table is written")
    parser.add_argument("--labs", type=Path, nargs="*", help="solution notebooks to run whole, on `t4`")
    parser.add_argument("--executed", type=Path, default=Path("executed"), help="where --labs writes them executed")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: the t4 budget measures GPU time and memory; run it on a GPU machine.")
    if args.labs:
        rows = pd.DataFrame([run_lab(nb, args.executed / nb.name) for nb in args.labs])
        text = (f"Whole labs on {torch.cuda.get_device_name(0)}, `-p profile t4`, capped at {T4_MEMORY_GIB:g} GiB "
                f"(`python -m utils.course.t4_budget --labs`).\n\n" + rows.to_markdown(index=False) + "\n")
        args.out.write_text(text)
        print(text)
        raise SystemExit(0 if (rows["status"] == "ok").all() else 1)
    cap_memory()
    table = budget(args.steps)
    device = torch.cuda.get_device_name(0)
    table = table.assign(**{"ms per step or image": (table["seconds"] * 1000).round(1),
                            "peak GiB": table["peak GiB"].round(2), "projected s": table["projected s"].round(0)})
    text = (f"Measured on {device}, capped at {T4_MEMORY_GIB:g} GiB, torch {torch.__version__}, fp16 autocast, "
            f"random weights at full size (`python -m utils.course.t4_budget`).\n\n"
            + table[["lab", "what", "batch / images", "ms per step or image", "peak GiB", "fits", "projected s",
                     "unit"]].to_markdown(index=False) + "\n")
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
