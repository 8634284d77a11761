"""The grader: its screen, its assembly of a submission into the course's lab, and a whole class graded row by row.

The class (`grading_class`) is graded on a toy lab that runs in seconds: correct, partly wrong, broken and
hostile submissions, each of which must get its own right row while nothing outside the working copies changes.
"""
from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest
from grading_class import toy_solution, write_class, write_toy_course

from utils.course.grading.assemble import assemble
from utils.course.grading.grade import SOLUTION, grade
from utils.course.grading.lab import lab_numbers, load_lab
from utils.course.grading.screen import screen
from utils.course.labgen import student_version


@pytest.fixture(scope="module")
def toy_root(tmp_path_factory) -> Path:
    return write_toy_course(tmp_path_factory.mktemp("course"))


def test_every_solution_passes_the_screen():
    """A student who writes exactly the course's solution is never refused."""
    for number in lab_numbers():
        lab = load_lab(number)
        solution = {c.get("id"): c for c in nbformat.read(lab.solution, as_version=4).cells}
        for task in lab.tasks:
            reasons = screen(solution[task.cell_id].source, lab.lab_names, lab.solution_names, lab.reference_names)
            assert not reasons, (lab.name, task.title, reasons)


@pytest.mark.parametrize("code, refused", [
    ("def add(a, b):\n    return a + b", False),
    ("def add(a, b):\n    out = a.clone()\n    out.data = a + b\n    return out", False),
    ("!rm -rf ~", True),
    ("%%time\nx = add(torch.ones(2), torch.ones(2))", False),
    ("%time x = add(torch.ones(2), torch.ones(2))", False),
    ("%time check_against = print", True),
    ("%run other_notebook.ipynb", True),
    ("def add(a, b):\n    return getattr(torch, 'add')(a, b)", True),
    ("import utils.checks\nutils.checks.check_against = print", True),
    ("torch.allclose = lambda *a, **k: True", True),
    ("check_against = print", True),
    ("def add(a, b):\n    global gen\n    return a + b", True),
    ("def add(a, b):\n    return reference_add(a, b)", True),
    ("def add(a, b):\n    return a.__class__(a + b)", True),
    ("import ctypes", True),
    ("def add(a, b):\n    return eval('a + b')", True),
    ("def add(a, b)\n    return a + b", True),
])
def test_screen(toy_root, code, refused):
    lab = load_lab("99", toy_root)
    assert bool(screen(code, lab.lab_names, lab.solution_names, lab.reference_names)) == refused


def test_assembly_takes_task_cells_and_answers_only(toy_root):
    """Edits to the course's cells are undone; added helper cells beside a task stay with it; ids are optional."""
    lab = load_lab("99", toy_root)
    sub = student_version(toy_solution())
    sub.cells[4].source = "def add(a, b):\n    return helper(a) + b"
    sub.cells.insert(4, nbformat.v4.new_code_cell("def helper(x):\n    return x"))
    sub.cells[6].source = "pass  # the student deleted the check"
    sub.cells.append(nbformat.v4.new_code_cell("total = 6.0  # a hard-coded outcome, outside any task"))
    sub.cells[11].source = "Because rows."
    for with_ids in (True, False):
        if not with_ids:
            for cell in sub.cells:
                cell.pop("id", None)
        built = assemble(lab, sub, seed=7)
        sources = [c.source for c in built.notebook.cells]
        assert any("def helper" in s and "helper(a) + b" in s for s in sources)
        assert lab.official.cells[5].source in sources and "pass  # the student deleted the check" not in sources
        assert not any("hard-coded outcome" in s for s in sources)
        assert "Because rows." in sources
        assert sum("manual_seed(7)" in s for s in sources) == len(lab.checks)
        assert built.notes and "not run" in built.notes[0]


def test_a_class_is_graded_row_by_row(toy_root, tmp_path):
    """Every kind of submission gets its own right row and feedback; nothing outside the working copies changes."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    expected = write_class(tmp_path / "class", victim, toy_root / "solutions" / "99_toy.ipynb")
    before = {p: p.stat().st_mtime for p in tmp_path.rglob("*")}
    grade(tmp_path / "class", "99", timeout=60, cell_timeout=8, jobs=2, memory_gb=2, seed=11,
          out=tmp_path / "graded", root=toy_root)
    after = {p: p.stat().st_mtime for p in tmp_path.rglob("*") if "graded" not in p.parts}
    assert after == before, "a submission changed files outside its working copy"
    assert victim.read_text() == "precious" and not list(tmp_path.glob("victim.txt.*"))
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "graded" / "gradebook.csv"))}
    assert rows[SOLUTION]["points"] == rows[SOLUTION]["max_points"] == "5"
    assert set(rows) == set(expected) | {SOLUTION}
    for student, want in expected.items():
        got = {k: rows[student][k] for k in want}
        assert got == {k: str(v) for k, v in want.items()}, student
        page = (tmp_path / "graded" / student / "feedback.md").read_text()
        assert f"feedback for {student}" in page and f"{rows[student]['points']} / 5 points" in page
    assert int(rows["deletes_files"]["sandbox refused"]) >= 1 and int(rows["writes_outside"]["sandbox refused"]) >= 1
    assert "time limit" in (tmp_path / "graded" / "infinite_loop" / "feedback.md").read_text()
    assert "refused your code" in (tmp_path / "graded" / "redefines_check" / "feedback.md").read_text()
    flood = tmp_path / "graded" / "output_flood" / "99_toy.ipynb"
    assert flood.stat().st_size < 1_000_000
    assert not (tmp_path / "graded" / ".work").exists()


def test_clear_errors(tmp_path, toy_root):
    with pytest.raises(SystemExit, match="there is no lab '42'"):
        load_lab("42", toy_root)
    with pytest.raises(SystemExit, match="not a folder"):
        grade(tmp_path / "missing", "99", root=toy_root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="holds no submissions"):
        grade(tmp_path / "empty", "99", root=toy_root)


def test_every_check_is_tagged():
    """A cell that checks a student's function is tagged `check`, so the grader scores it (and only those)."""
    for number in lab_numbers():
        lab = load_lab(number)
        tagged = {c.cell_id for c in lab.checks}
        for cell in nbformat.read(lab.solution, as_version=4).cells:
            checks = cell.cell_type == "code" and "check_against(" in cell.source
            if checks and "outcome" not in cell.metadata.get("tags", []):
                assert cell.get("id") in tagged, (lab.name, cell.source[:80])
        assert lab.checks and lab.outcomes, lab.name


def test_sample_class(tmp_path):
    """The sample class holds each kind of student, and its correct ones carry the solution's task code."""
    from utils.course.grading.sample_class import KINDS, write_sample_class
    kinds = write_sample_class("01", tmp_path, size=30, seed=1)
    assert set(kinds.values()) == set(KINDS) and len(list(tmp_path.glob("*.ipynb"))) == 30
    lab = load_lab("01")
    correct = nbformat.read(tmp_path / f"{next(s for s, k in kinds.items() if k == 'correct')}.ipynb", as_version=4)
    untouched = nbformat.read(tmp_path / f"{next(s for s, k in kinds.items() if k == 'untouched')}.ipynb", as_version=4)
    built, stub = assemble(lab, correct, seed=0), assemble(lab, untouched, seed=0)
    assert not built.untouched and not built.refused and set(stub.untouched) == {t.title for t in lab.tasks}


def test_outcome_points_need_every_check(toy_root):
    """An outcome cell that ran cleanly earns nothing while a check fails: the functions must do the work."""
    from utils.course.grading.score import Result, score
    lab = load_lab("99", toy_root)
    built = assemble(lab, nbformat.read(lab.solution, as_version=4), seed=0)
    executed = nbformat.from_dict(built.notebook)
    for count, cell in enumerate(c for c in executed.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
    failed = next(c for c in executed.cells if c.get("id") == lab.checks[1].cell_id)
    failed.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="row_means is wrong",
                                             traceback=[])]
    result = score(lab, built, executed, Result("s", "99", "finished"))
    points = {i.title: i.points for i in result.items}
    assert points == {"add": 2, "row_means": 0, "outcome 1": 0} and result.status == "errors"
    assert "every check" in result.items[-1].message and "row_means is wrong" in result.items[1].message
