"""What the grader knows about a lab, read from its solution notebook.

A *task* is a code cell holding a `### BEGIN SOLUTION` block (the student's code goes there); a *check* is a
cell tagged `check` that tests the task before it against the course's reference; an *outcome* is a cell
tagged `outcome` that asserts what the lab must achieve; an *answer* is a markdown cell holding a written
answer. Cells are known by their nbformat ids, which the generated student lab keeps.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from utils.course.grading import names
from utils.course.labgen import BEGIN_ANSWER, student_version

ROOT = Path(__file__).resolve().parents[3]  # the repository


@dataclass(frozen=True)
class Task:
    cell_id: str
    names: tuple[str, ...]  # functions and classes the task defines; () for an experiment written at top level
    title: str              # what the gradebook and feedback call it


@dataclass(frozen=True)
class Check:
    cell_id: str
    task: Task
    title: str


@dataclass
class Lab:
    number: str
    solution: Path
    official: nbformat.NotebookNode  # the student version generated from the solution: what the grader runs
    tasks: list[Task] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)  # cell ids
    answers: list[str] = field(default_factory=list)   # cell ids
    solution_names: set[str] = field(default_factory=set)  # top-level names the solution's task cells bind
    reference_names: set[str] = field(default_factory=set)  # reference implementations the checks compare with
    lab_names: set[str] = field(default_factory=set)  # what the lab's cells bind and its checks and outcomes read

    @property
    def name(self) -> str:
        return self.solution.stem


def _defined(source: str) -> tuple[str, ...]:
    return tuple(n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def _reference_leaves(source: str) -> set[str]:
    """The last name of each `check_against(student, REFERENCE, ...)` reference, e.g. `symmetric_infonce`."""
    leaves = set()
    for call in ast.walk(ast.parse(source)):
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "check_against" and len(call.args) > 1:
            ref = call.args[1].func if isinstance(call.args[1], ast.Call) else call.args[1]
            if isinstance(ref, ast.Attribute):
                leaves.add(ref.attr)
            elif isinstance(ref, ast.Name):
                leaves.add(ref.id)
    return leaves


def lab_numbers(root: Path = ROOT) -> list[str]:
    return sorted(p.name[:2] for p in (root / "solutions").glob("[0-9][0-9]_*.ipynb"))


def load_lab(number: str | int, root: Path = ROOT) -> Lab:
    """The lab numbered `number` (e.g. 1, "01"), with its tasks, checks, outcomes and written answers."""
    number = f"{int(number):02d}" if str(number).isdigit() else str(number)
    found = sorted((root / "solutions").glob(f"{number}_*.ipynb"))
    if not found:
        raise SystemExit(f"there is no lab {number!r}: the labs are {', '.join(lab_numbers(root))} "
                         f"(solutions/NN_name.ipynb).")
    solution = found[0]
    nb = nbformat.read(solution, as_version=4)
    lab = Lab(number, solution, student_version(nb, solution.name))
    task, defined, read = None, set(), set()
    for cell in nb.cells:
        cid = cell.get("id")
        if cell.cell_type == "markdown":
            if BEGIN_ANSWER in cell.source:
                lab.answers.append(cid)
            continue
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            continue
        if "### BEGIN SOLUTION" in cell.source:
            defines = _defined(cell.source)
            task = Task(cid, defines, ", ".join(defines) if defines else "the experiment")
            lab.tasks.append(task)
            lab.solution_names |= names.bound(ast.parse(cell.source).body)
            continue
        defined |= names.bound(ast.parse(cell.source).body)
        if "check" in tags:
            if task is None:
                raise ValueError(f"{solution.name}: a cell tagged 'check' comes before any task.")
            same = sum(c.task == task for c in lab.checks)
            lab.checks.append(Check(cid, task, task.title + (f" ({same + 1})" if same else "")))
            lab.reference_names |= _reference_leaves(cell.source)
            read |= names.free(cell.source)
        if "outcome" in tags:
            lab.outcomes.append(cid)
            read |= names.free(cell.source)
    lab.lab_names = defined & read
    lab.reference_names |= {n for t in lab.tasks for n in t.names}
    return lab
