"""A sample class for a lab, made from its solution, to try the grader on or to time it.

    python -m utils.course.grading.sample_class 10 FOLDER [--size 100] [--seed 0]

Students come in five kinds, mixed at random: correct (the solution's task code), partly done (one task still
the stub), untouched (the student lab as shipped), one task's code in an endless loop, and a syntax error in one
task.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import nbformat

from utils.course.grading.lab import load_lab
from utils.course.labgen import BEGIN, student_version

KINDS = {"correct": 0.4, "partly_done": 0.25, "untouched": 0.15, "endless_loop": 0.1, "syntax_error": 0.1}


def _looping(source: str) -> str:
    """`source` with an endless loop at the start of each solution block: the task's code never returns."""
    lines = []
    for line in source.splitlines():
        lines.append(line)
        if match := BEGIN.match(line):
            lines += [match.group(1) + "while True:", match.group(1) + "    pass"]
    return "\n".join(lines)


def submission(solution: nbformat.NotebookNode, kind: str, task_ids: list[str], rng: random.Random):
    """A notebook of the given kind: the student lab with some of the solution's task cells in it."""
    nb = student_version(solution)
    answers = {c.get("id"): c.source for c in solution.cells}
    spoiled = rng.choice(task_ids)
    for cell in nb.cells:
        cid = cell.get("id")
        if cid not in task_ids or kind == "untouched":
            continue
        source = _looping(answers[cid]) if cid == spoiled and kind == "endless_loop" else answers[cid]
        code = "\n".join(line for line in source.splitlines() if "### " not in line)
        if cid == spoiled and kind == "syntax_error":
            code = code.replace("return ", "return = ", 1) if "return " in code else code + "\n)"
        elif cid == spoiled and kind == "partly_done":
            continue
        cell.source = code
    return nb


def write_sample_class(number: str, folder: Path, size: int = 100, seed: int = 0) -> dict[str, str]:
    """Write `size` submissions for lab `number` into `folder`; return each student's kind."""
    lab = load_lab(number)
    solution = nbformat.read(lab.solution, as_version=4)
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    for k in range(size):
        kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        kinds[f"student{k:03d}"] = kind
        nb = submission(solution, kind, [t.cell_id for t in lab.tasks], rng)
        nbformat.write(nb, folder / f"student{k:03d}.ipynb")
    return kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lab")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    kinds = write_sample_class(args.lab, args.folder, args.size, args.seed)
    print(f"{len(kinds)} submissions in {args.folder}: " + ", ".join(
        f"{sum(v == kind for v in kinds.values())} {kind}" for kind in KINDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
