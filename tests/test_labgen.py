import json
from pathlib import Path

import nbformat
import pytest

from utils.course import hints
from utils.course.labgen import BEGIN_ANSWER, ROOT, stale_labs, strip_solutions, student_version

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_solution_block_becomes_a_stub_with_the_hint():
    src = "def f(x):\n    ### BEGIN SOLUTION hint: double it\n    return 2 * x\n    ### END SOLUTION\n"
    out = strip_solutions(src)
    assert "return 2 * x" not in out
    assert "    raise NotImplementedError('TODO: double it')" in out
    assert out.startswith("def f(x):")


@pytest.mark.parametrize("src,msg", [("### BEGIN SOLUTION\nx = 1", "never closed"),
                                     ("x = 1\n### END SOLUTION", "without a matching BEGIN"),
                                     ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "nested")])
def test_malformed_markers_are_errors(src, msg):
    with pytest.raises(ValueError, match=msg):
        strip_solutions(src)


def test_student_version_drops_outputs_and_injected_parameters():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("profile = 'offline'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\ny = 2\n### END SOLUTION", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="2")]),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    student = student_version(nb)
    assert len(student.cells) == 1 and "widgets" not in student.metadata
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None


def test_labs_are_in_sync_with_solutions():
    assert SOLUTIONS, "no solution notebooks found"
    assert stale_labs() == [], "labs/ is stale: run `python -m utils.course.labgen`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_conventions(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []) and 'profile = "auto"' in code[0].source
    assert any("### BEGIN SOLUTION" in c.source for c in code), "a lab must ask the student for something"
    checked = [c for c in code if c.source.startswith("# NBVAL_CHECK_OUTPUT") or "\n# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked and any("assert " in c.source or "report_claims(" in c.source for c in checked), \
        "the outcome must be asserted and checked"
    lab = json.loads((ROOT / "labs" / path.name).read_text())
    assert "NotImplementedError" in "".join("".join(c["source"]) for c in lab["cells"])


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_tasks_have_substance_and_hints_teach(path: Path):
    nb = nbformat.read(path, as_version=4)
    blocks = [(task.first, task.solution) for task in hints.task_hints(nb)]
    assert 3 <= len(blocks) <= 8, f"{len(blocks)} solution blocks; a lab has 3-5 tasks of substance"
    assert sum(len(lines) for _, lines in blocks) >= 12, "the student should write more than a few lines"
    for hint, lines in blocks:
        assert len(hint) >= 40, f"hint too short to teach: {hint!r}"
        code_like = [ln for ln in lines if len(ln) >= 12 and not ln.startswith("#")]
        assert not any(ln in hint for ln in code_like), f"the hint gives the solution away: {hint!r}"
    answers = [c for c in nb.cells if c.cell_type == "markdown" and BEGIN_ANSWER in c.source]
    assert answers, "one task is an experiment the student explains in a markdown answer cell"


def test_written_answer_becomes_a_prompt():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "**Question.** Why?\n<!-- BEGIN ANSWER -->\nBecause the batch couples rows.\n<!-- END ANSWER -->")])
    text = student_version(nb).cells[0].source
    assert "Because" not in text and text.startswith("**Question.** Why?") and "Your answer" in text
    with pytest.raises(ValueError, match="never closed"):
        student_version(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("<!-- BEGIN ANSWER -->")]))
