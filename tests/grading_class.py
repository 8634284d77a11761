"""A toy lab and a class of synthetic submissions for it (correct, partly wrong, broken, hostile).

The toy lab has the shape of a course lab (parameters, two tasks with checks, an outcome, a written answer) and
runs in seconds, so the grader's handling of every kind of submission can be tested row by row.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from utils.course.labgen import student_version

TASK_ADD = '''def add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise sum."""
    ### BEGIN SOLUTION hint: one operator; the shapes broadcast as torch does.
{body}
    ### END SOLUTION'''
TASK_MEAN = '''def row_means(x: torch.Tensor) -> torch.Tensor:
    """The mean of each row of a 2-d tensor."""
    ### BEGIN SOLUTION hint: reduce over the last dimension; the result has one entry per row.
{body}
    ### END SOLUTION'''
RIGHT_ADD, RIGHT_MEAN = "    return a + b", "    return x.mean(dim=-1)"


def toy_solution(add_body: str = RIGHT_ADD, mean_body: str = RIGHT_MEAN) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Toy lab"),
        new_code_cell('profile = "auto"\nseed = 0', metadata={"tags": ["parameters"]}),
        new_code_cell("import torch\n\nfrom utils.checks import check_against\n\n"
                      "gen = torch.Generator().manual_seed(seed)\n\n\n"
                      "def reference_add(a, b):\n    return torch.add(a, b)"),
        new_markdown_cell("## Task 1: add"),
        new_code_cell(TASK_ADD.format(body=add_body)),
        new_code_cell('check_against(add, reference_add, {\n'
                      '    "two scalars": (torch.tensor(2.0), torch.tensor(3.0)),\n'
                      '    "random 4x3": (torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)),\n'
                      '    "broadcast": (torch.randn(4, 3, generator=gen), torch.randn(3, generator=gen)),\n})',
                      metadata={"tags": ["check"]}),
        new_markdown_cell("## Task 2: row means"),
        new_code_cell(TASK_MEAN.format(body=mean_body)),
        new_code_cell('check_against(row_means, lambda x: torch.mean(x, dim=1), {\n'
                      '    "random 5x7": (torch.randn(5, 7, generator=gen),),\n'
                      '    "one row": (torch.randn(1, 9, generator=gen),),\n})',
                      metadata={"tags": ["check"]}),
        new_code_cell("# NBVAL_CHECK_OUTPUT\ntotal = row_means(add(torch.ones(3, 4), torch.ones(3, 4))).sum().item()\n"
                      "print(f'total {total:.1f}')\nassert total == 6.0, total", metadata={"tags": ["outcome"]}),
        new_markdown_cell("Why do the two checks differ?\n\n<!-- BEGIN ANSWER -->\nOne adds, one averages.\n"
                          "<!-- END ANSWER -->"),
    ]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    for k, cell in enumerate(nb.cells):
        cell.id = f"toy-{k:02d}"
    return nb


def write_toy_course(root: Path) -> Path:
    """A course root holding the toy lab as `solutions/99_toy.ipynb`; returns the root."""
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    nbformat.write(toy_solution(), root / "solutions" / "99_toy.ipynb")
    return root


def _unmarked(task: str, body: str) -> str:
    """A task cell as a student writes it: the signature and docstring, then their code."""
    return "\n".join(line for line in task.format(body=body).splitlines() if "### " not in line)


def _with(add_body: str = RIGHT_ADD, mean_body: str = RIGHT_MEAN) -> nbformat.NotebookNode:
    """The student lab with these task bodies filled in and an answer written."""
    nb = student_version(toy_solution())
    nb.cells[4].source, nb.cells[7].source = _unmarked(TASK_ADD, add_body), _unmarked(TASK_MEAN, mean_body)
    nb.cells[10].source = "The first compares sums, the second averages over rows."
    return nb


def write_class(folder: Path, victim: Path, solution: Path) -> dict[str, dict]:
    """Write the class into `folder`; return each student's expected gradebook entries.

    `victim` is a file outside every working copy that hostile submissions try to change or delete;
    `solution` is the toy lab's solution notebook, which one of them tries to read.
    """
    folder.mkdir(parents=True, exist_ok=True)
    full = {"check: add": 2, "check: row_means": 2, "outcome: outcome 1": 1}
    zero = {"check: add": 0, "check: row_means": 0, "outcome: outcome 1": 0}
    only_mean = {"check: add": 0, "check: row_means": 2, "outcome: outcome 1": 0}
    cases: dict[str, tuple[nbformat.NotebookNode | str | bytes, dict]] = {
        "correct": (_with(), {"status": "finished", **full}),
        "untouched": (student_version(toy_solution()), {"status": "errors", **zero}),
        "no_cell_ids": (_without_ids(), {"status": "finished", **full}),
        "partly_wrong": (_with(mean_body="    return x.sum(dim=-1)"),
                         {"status": "errors", "check: add": 2, "check: row_means": 0, "outcome: outcome 1": 0}),
        "syntax_error": (_with(add_body="    return a +* b"), {"status": "errors", **only_mean}),
        "wrong_signature": (_with_source(4, "def add(a):\n    return a + a"), {"status": "errors", **only_mean}),
        "infinite_loop": (_with(add_body="    while True:\n        pass"), {"status": "errors", **only_mean}),
        "exits_kernel": (_with(add_body="    torch.os._exit(3)"), {"status": "kernel died", **zero}),
        "kills_the_grader": (_with(add_body="    torch.os.kill(torch.os.getppid(), 9)\n    torch.os.kill(0, 9)\n"
                                            "    return a + b"), {"status": "errors", **only_mean}),
        "raises_system_exit": (_with(add_body="    raise SystemExit(1)"), {"status": "errors", **only_mean}),
        "memory_hog": (_with(add_body="    return torch.ones(2**31) + a + b"), {"status": "out of memory", **zero}),
        "deletes_files": (_with(add_body=f"    import pathlib\n    pathlib.Path({str(victim)!r}).unlink()\n"
                                          f"    torch.save(a, {str(victim)!r})\n    return a + b"),
                          {"status": "errors", **only_mean}),
        "writes_outside": (_with(add_body=f"    torch.os.system('touch {victim}.owned')\n"
                                           f"    torch.save(a, {str(victim) + '.saved'!r})\n    return a + b"),
                           {"status": "errors", **only_mean}),
        "output_flood": (_with(add_body="    for _ in range(200):\n        print('x' * 100_000)\n    return a + b"),
                         {"status": "finished", **full}),
        "redefines_check": (_with_source(4, "def add(a, b):\n    return a\n\ncheck_against = lambda *args, **kw: None"),
                            {"status": "errors", **only_mean}),
        "patches_checks": (_with_source(4, "import utils.checks\nutils.checks.check_against = print\n"
                                           "def add(a, b):\n    return a"), {"status": "errors", **only_mean}),
        "hard_codes": (_with(add_body="    print('add: agrees with the reference on 3 cases')\n"
                                      "    return torch.tensor(5.0)"), {"status": "errors", **only_mean}),
        "reads_solution": (_with(add_body=f"    import pathlib, json\n"
                                          f"    json.loads(pathlib.Path({str(solution)!r}).read_text())\n"
                                          "    return a + b"), {"status": "errors", **only_mean}),
        "calls_reference": (_with(add_body="    return reference_add(a, b)"), {"status": "errors", **only_mean}),
        "redefines_assert": (_with_source(4, "AssertionError = Warning\n\ndef add(a, b):\n    return a"),
                             {"status": "errors", **only_mean}),
        "edits_checks": (_edited_checks(), {"status": "errors", **only_mean}),
        "not_a_notebook": ("print('hello')\n", {"status": "not a notebook", **zero}),
        "broken_json": (b'{"cells": [', {"status": "not a notebook", **zero}),
    }
    (folder / "links_solution.ipynb").symlink_to(solution)
    (folder / "in_a_folder").mkdir()  # a folder per student, with a scratch notebook beside the lab
    nbformat.write(_with(), folder / "in_a_folder" / "99_toy.ipynb")
    nbformat.write(_with_source(4, "x = 1"), folder / "in_a_folder" / "scratch.ipynb")
    cases_in_folders = {"in_a_folder": {"status": "finished", **full}}
    cases["_underscored"] = (_with(), {"status": "finished", **full})
    expected = {"links_solution": {"status": "not a notebook", **zero}, **cases_in_folders}
    for student, (content, want) in cases.items():
        if isinstance(content, nbformat.NotebookNode):
            nbformat.write(content, folder / f"{student}.ipynb")
        else:
            target = folder / (f"{student}.py" if isinstance(content, str) else f"{student}.ipynb")
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        expected[student] = want
    return expected


def _with_source(index: int, source: str) -> nbformat.NotebookNode:
    nb = _with()
    nb.cells[index].source = source
    return nb


def _edited_checks() -> nbformat.NotebookNode:
    """A wrong `add` whose check cell is emptied and whose outcome cell prints the expected line."""
    nb = _with_source(4, "def add(a, b):\n    return a")
    nb.cells[5].source = "pass"
    nb.cells[9].source = "print('total 6.0')"
    return nb


def _without_ids() -> nbformat.NotebookNode:
    """A correct submission saved by an older Jupyter (nbformat 4.4: cells have no ids)."""
    nb = _with()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.pop("id", None)
    return nb
