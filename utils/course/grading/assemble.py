"""Build the notebook the grader runs: the course's own lab, with the student's task cells and answers in it.

Everything outside a task is the course's (setup, checks, outcome cells), so a submission cannot edit a
check or hard-code an outcome. The student's code for a task is every code cell of the submission that sits
where the task sits: found by the task cell's id, or, for cells without ids, between the course cells around
the task. Course cells are matched by id, then by identical source. Around each check, grader cells seed the
random generators with the grading seed (so the random check cases are ones the student has not seen) and
then restore their states (so the rest of the lab runs as it would ungraded).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from utils.course.grading.lab import Lab
from utils.course.grading.screen import screen
from utils.course.labgen import STUB, TODO


@dataclass
class Assembly:
    notebook: nbformat.NotebookNode
    refused: dict[str, list[str]] = field(default_factory=dict)  # task title -> the screen's reasons
    untouched: list[str] = field(default_factory=list)          # titles of tasks left as the stub
    notes: list[str] = field(default_factory=list)              # what the student should know about the run
    answers: dict[str, str] = field(default_factory=dict)       # answer cell id -> the student's text


def reseed_source(seed: int) -> str:
    """A cell that saves the random generators' states and seeds them for a check's cases."""
    return ("import random as _grader_random, numpy as _grader_np, torch as _grader_torch\n"
            "_grader_gen = globals().get('gen')\n"
            "_grader_gen = _grader_gen if isinstance(_grader_gen, _grader_torch.Generator) else None\n"
            "_grader_states = (_grader_random.getstate(), _grader_np.random.get_state(),\n"
            "                  _grader_torch.get_rng_state(), _grader_gen and _grader_gen.get_state())\n"
            f"_grader_random.seed({seed}); _grader_np.random.seed({seed}); _grader_torch.manual_seed({seed})\n"
            "if _grader_gen is not None:\n"
            f"    _grader_gen.manual_seed({seed})")


RESTORE = ("_grader_random.setstate(_grader_states[0]); _grader_np.random.set_state(_grader_states[1])\n"
           "_grader_torch.set_rng_state(_grader_states[2])\n"
           "if _grader_gen is not None:\n    _grader_gen.set_state(_grader_states[3])")


def _slots(lab: Lab, submission: nbformat.NotebookNode) -> dict[str, list[nbformat.NotebookNode]]:
    """For each task and answer cell id of the lab, the submission's cells that fill it."""
    official = lab.official.cells
    slot_ids = {t.cell_id for t in lab.tasks} | set(lab.answers)
    anchors = {c.get("id"): i for i, c in enumerate(official) if c.get("id") not in slot_ids}
    by_source = {(c.cell_type, c.source): i for i, c in enumerate(official) if c.get("id") not in slot_ids}
    position: list[int | str | None] = []  # per submission cell: official anchor index, a slot id, or None
    for cell in submission.cells:
        cid = cell.get("id")
        if cid in slot_ids:
            position.append(cid)
        elif cid in anchors and official[anchors[cid]].cell_type == cell.cell_type:
            position.append(anchors[cid])
        else:
            position.append(by_source.get((cell.cell_type, cell.source)))
    known = [j for j, p in enumerate(position) if p is not None]
    filled: dict[str, list] = {sid: [] for sid in slot_ids}
    taken: set[int] = set()
    for index, cell in enumerate(official):
        sid = cell.get("id")
        if sid not in slot_ids:
            continue
        if sid in position:  # by id, with the cells the student added around it
            at = position.index(sid)
            start = max([j for j in known if j < at], default=-1) + 1
            end = min([j for j in known if j > at], default=len(position))
        else:  # between the nearest course cells before and after the slot that the submission still has
            before = [i for i in range(index) if i in position]
            after = [i for i in range(index + 1, len(official)) if i in position]
            start = position.index(before[-1]) + 1 if before else 0
            end = position.index(after[0]) if after else len(position)
        picked = [j for j in range(start, end) if j not in taken and submission.cells[j].cell_type == cell.cell_type]
        taken |= set(picked)
        filled[sid] = [submission.cells[j] for j in picked]
    return filled


def assemble(lab: Lab, submission: nbformat.NotebookNode, seed: int) -> Assembly:
    """The lab to run for `submission` (see the module docstring), with what the screen refused noted."""
    submission = nbformat.from_dict(submission)
    submission.cells = [c for c in submission.cells  # papermill's parameters: the grader injects its own
                        if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    filled = _slots(lab, submission)
    nb = nbformat.from_dict(lab.official)
    out = Assembly(nb)
    check_ids = {c.cell_id for c in lab.checks}
    cells = []
    for cell in nb.cells:
        cid = cell.get("id")
        task = next((t for t in lab.tasks if t.cell_id == cid), None)
        if task is not None:
            code = "\n\n".join(c.source for c in filled[cid]).strip()
            if not code or (STUB in code and TODO in code):
                out.untouched.append(task.title)
            reasons = screen(code, lab.lab_names, lab.solution_names, lab.reference_names)
            if reasons:
                out.refused[task.title] = reasons
                code = (f"# The grader did not run your code for {task.title}:\n"
                        + "".join(f"#   {r}\n" for r in reasons)
                        + f"raise RuntimeError({('the grader refused this cell: ' + reasons[0])!r})\n"
                        + "".join(f"# {line}\n" for line in code.splitlines()))
            cell.source = code
        elif cid in lab.answers:
            text = "\n\n".join(c.source for c in filled[cid]).strip()
            out.answers[cid] = text
            cell.source = text or cell.source
        if cid in check_ids:
            cells.append(nbformat.v4.new_code_cell(reseed_source(seed), metadata={"grader": "reseed", "tags": []}))
        cell.metadata.setdefault("tags", [])  # papermill reads every cell's tags
        cells.append(cell)
        if cid in check_ids:  # the rest of the lab draws the same random numbers as it would ungraded
            cells.append(nbformat.v4.new_code_cell(RESTORE, metadata={"grader": "restore", "tags": []}))
    nb.cells = cells
    kept = {id(c) for cs in filled.values() for c in cs}
    known = {c.get("id") for c in lab.official.cells} | {(c.cell_type, c.source) for c in lab.official.cells}
    extra = [c for c in submission.cells if id(c) not in kept and c.get("id") not in known
             and (c.cell_type, c.source) not in known and c.cell_type == "code" and c.source.strip()]
    if extra:
        out.notes.append(f"{len(extra)} code cell(s) you added outside a task were not run; the grader runs the "
                         "course's cells and your task cells only.")
    return out
