"""Read an executed notebook back into points: which checks passed, which outcomes held, and why not."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import nbformat

from utils.course.grading.assemble import Assembly
from utils.course.grading.lab import Lab
from utils.course.labgen import ANSWER_PROMPT

CHECK_POINTS, OUTCOME_POINTS = 2, 1
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Item:
    kind: str   # "check" or "outcome"
    title: str
    points: int
    max_points: int
    message: str = ""


@dataclass
class Result:
    student: str
    lab: str
    status: str                  # finished, errors, timeout, out of memory, kernel died, not a notebook, ...
    detail: str = ""
    items: list[Item] = field(default_factory=list)
    seconds: float = 0.0         # grading this submission, all in
    cells_s: float = 0.0         # of which its cells ran
    peak_gb: float = 0.0
    experiments: dict[str, str] = field(default_factory=dict)   # experiment title -> "ran" or why not
    answers: dict[str, int] = field(default_factory=dict)       # answer cell id -> words written
    refused: dict[str, list[str]] = field(default_factory=dict)
    sandbox: list[str] = field(default_factory=list)            # actions the sandbox refused
    notes: list[str] = field(default_factory=list)
    guards: str = ""
    seed: int = 0                # of the random check cases; rerun with `--seed` to reproduce the row

    @property
    def points(self) -> int:
        return sum(i.points for i in self.items)

    @property
    def max_points(self) -> int:
        return sum(i.max_points for i in self.items)


def no_points(lab: Lab, why: str) -> list[Item]:
    """Every check and outcome of `lab` at zero points, for the reason `why` (the notebook did not run)."""
    return ([Item("check", c.title, 0, CHECK_POINTS, why) for c in lab.checks]
            + [Item("outcome", f"outcome {k + 1}", 0, OUTCOME_POINTS, why) for k in range(len(lab.outcomes))])


def _error(cell, stopped: str = "") -> str | None:
    """Why `cell` did not succeed, or None when it ran without an error; `stopped` says why the run was ended."""
    if "grader_skipped" in cell.metadata:
        return f"not run: {cell.metadata['grader_skipped']}"
    if "grader_timeout" in cell.metadata:
        return (f"the cell ran past its time limit ({cell.metadata['grader_timeout']} s) and was interrupted: "
                "an endless loop, or far more work than the task needs")
    if cell.get("execution_count") is None:
        return f"not run: the run was stopped ({stopped}) at or before this cell" if stopped else \
            "not run: the run stopped before this cell"
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            text = ANSI.sub("", f"{out.ename}: {out.evalue}").strip()
            return text if len(text) < 800 else text[:800] + " [...]"
    return None


def score(lab: Lab, assembly: Assembly, executed: nbformat.NotebookNode, result: Result) -> Result:
    """Fill `result` with the points earned in `executed` (the run of `assembly`)."""
    cells = {c.get("id"): c for c in executed.cells}
    stopped = result.status if result.status in ("out of memory", "timeout", "interrupted") else ""
    untouched, refused = set(assembly.untouched), assembly.refused
    for check in lab.checks:
        title = check.task.title
        if title in refused:
            why = "the grader refused your code: " + refused[title][0]
        elif title in untouched:
            why = "not attempted: the task still raises NotImplementedError"
        else:
            why = _error(cells[check.cell_id], stopped) if check.cell_id in cells else "not run"
        result.items.append(Item("check", check.title, 0 if why else CHECK_POINTS, CHECK_POINTS, why or "passed"))
    checks_pass = all(i.points for i in result.items)
    for k, cid in enumerate(lab.outcomes):
        why = _error(cells[cid], stopped) if cid in cells else "not run"
        if why is None and not checks_pass:
            why = "the outcome cell ran, but outcome points need every check to pass"
        result.items.append(Item("outcome", f"outcome {k + 1}", 0 if why else OUTCOME_POINTS, OUTCOME_POINTS,
                                 why or "held"))
    for task in lab.tasks:
        if not task.names:
            why = _error(cells[task.cell_id]) if task.cell_id in cells else "not run"
            result.experiments[task.title] = why or "ran without an error"
    result.answers = {cid: len(text.split()) for cid, text in assembly.answers.items()
                      if ANSWER_PROMPT not in text}
    result.refused, result.notes = refused, result.notes + assembly.notes
    if result.status == "finished" and any(_error(c) for c in executed.cells if c.cell_type == "code"):
        result.status = "errors"
    return result
