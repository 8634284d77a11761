"""The course's time budget, and a command that measures each lab against it on the offline profile.

    python -m utils.course.budget [--labs 06 11] [--cold] [--out FILE.md]

runs each solution with papermill (`-p profile offline`) and prints its wall time. Warm (the default), the course
cache is used as it is: run the command twice, or after `make book`, to measure the labs' own work. `--cold`
points the runs at one new empty cache, in the book's order, as a fresh clone's first `make book` does: each lab
then also pays for the artefacts it is the first to need (`one-time builds` = cold - warm, where both are given).
Exits 1 when a lab is over its budget and what it borrows (`BORROWS`) does not cover it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]  # the repository
# What every lab must meet on two CPU cores, offline (a new lab meets it or names the lab whose budget it takes):
LAB_WARM_S = 150  # one lab's run on a warm cache, one worker
LAB_BUILDS_S = 300  # the one-time artefact builds a lab is the first to need
# A lab over its budget names the labs whose unused budget it takes: it is within budget when the group's total
# time is within the group's total budget (measurements/budget.md says why each lab needs more).
BORROWS = {
    "03_domain_finetune": ["02_zero_shot"],  # warm: two fine-tunings, on the cache's one thread
    "06_captioner": ["10_hallucination", "12_grounding"],  # cold: the scenes CLIP and the world LM, which 7-12 reuse
}
SUITE = {"make test, warm": "15 min", "make test, cold (empty cache)": "25 min",
         ".ci/run on a fresh clone (new venv, empty cache)": "45 min", "make book, nothing changed": "2 min",
         "each new lab, warm": "+2 min"}


def run_lab(notebook: Path, cache: Path, out: Path) -> float:
    """Seconds papermill takes to execute `notebook` on the offline profile with the course cache at `cache`."""
    env = {**os.environ, "VLM_CACHE": str(cache), "VLM_PROFILE": "offline"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(out / notebook.name),
                             "-p", "profile", "offline", "--cwd", str(notebook.parent)],
                            env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{notebook.name} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def within_budget(seconds: dict[str, float], budget: float) -> dict[str, bool]:
    """Whether each lab meets `budget`, a lab over it counting as within when it and the labs it borrows from
    (`BORROWS`, all measured in the same run) are within their budgets together."""
    ok = {lab: t <= budget for lab, t in seconds.items()}
    for lab, lenders in BORROWS.items():
        if lab in seconds and not ok[lab] and all(lender in seconds for lender in lenders):
            group = [lab, *lenders]
            ok[lab] = sum(seconds[g] for g in group) <= budget * len(group)
    return ok


def measure(labs: list[Path], cold: bool) -> pd.DataFrame:
    """One row per lab: its wall time, the budget it is held to, and whether it meets it."""
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache" if cold else Path(os.environ.get("VLM_CACHE", Path.home() / ".cache" /
                                                                          "vlm-course"))
        for notebook in labs:
            seconds[notebook.stem] = run_lab(notebook, cache, Path(scratch))
            print(f"{notebook.stem}: {seconds[notebook.stem]:.0f} s", flush=True)
    budget = LAB_WARM_S + (LAB_BUILDS_S if cold else 0)
    ok = within_budget(seconds, budget)
    return pd.DataFrame([{"lab": lab, "seconds": round(t), "budget (s)": budget, "within": ok[lab],
                          "borrows from": ", ".join(BORROWS.get(lab, [])) if t > budget else ""}
                         for lab, t in seconds.items()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", nargs="*", default=None, help="lab numbers, e.g. 06 11 (default: all)")
    parser.add_argument("--cold", action="store_true", help="one new empty cache for the whole run")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    labs = sorted((ROOT / "solutions").glob("*.ipynb"))
    if args.labs:
        labs = [p for p in labs if p.name[:2] in args.labs]
    table = measure(labs, args.cold)
    text = table.to_markdown(index=False)
    print(text)
    if args.out:
        args.out.write_text(f"{'Cold' if args.cold else 'Warm'} runs, offline profile, `python -m "
                            f"utils.course.budget{' --cold' if args.cold else ''}`:\n\n{text}\n")
    return 0 if table["within"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
