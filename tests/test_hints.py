"""Hints leave the thinking to the student: the rules of `utils.course.hints` on every task, and the rules
themselves on hand-made tasks (a hint that gives the code away must fail)."""
from pathlib import Path

import nbformat
import pytest

from utils.course import hints

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_task_has_two_hints_within_the_rules(path):
    tasks = hints.task_hints(nbformat.read(path, as_version=4))
    assert tasks
    found = {t.cell_id: hints.problems(t) for t in tasks}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_fuller_hints_reach_the_student_collapsed(path):
    lab = nbformat.read(ROOT / "labs" / path.name, as_version=4)
    details = [c for c in lab.cells if c.cell_type == "markdown" and hints.DETAILS in c.source]
    assert len(details) == len({t.cell_id for t in hints.task_hints(nbformat.read(path, as_version=4))})
    assert all("<summary>" in c.source and "</details>" in c.source for c in details)


FULLER = "<details><summary>Hint</summary>\n\nThink.\n\n</details>"


def _task(first: str, fuller: str | None = FULLER) -> hints.TaskHints:
    source = ("def mean_loss(logits, labels):\n"
              f"    ### BEGIN SOLUTION hint: {first}\n"
              "    per_row = torch.nn.functional.cross_entropy(logits, labels, reduction='none')\n"
              "    return per_row.mean() * 2 - logits.sum() / labels.numel()\n"
              "    ### END SOLUTION\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    if fuller is not None:
        nb.cells.append(nbformat.v4.new_markdown_cell(fuller))
    return hints.task_hints(nb)[0]


def test_the_rules_catch_giveaways():
    good = _task("a cross-entropy per row, then a correction for the scale; the labels index classes, not one-hot.")
    assert good.signature == {"mean_loss", "logits", "labels"}
    assert "logits" not in hints.solution_tokens(good.solution, good.signature)  # the signature is free to name
    assert hints.problems(good) == []
    assert "characters" in hints.problems(_task("x" * 301))[0]
    named = hints.problems(_task("torch.nn.functional.cross_entropy with reduction none, per_row.mean(), sum, numel"))
    assert any("identifiers and operators" in p for p in named)
    assert any("no fuller hint" in p for p in hints.problems(_task("the idea.", fuller=None)))
    copied = "<details><summary>Hint</summary>\n\nreturn per_row.mean() * 2 - logits.sum() / labels.numel()\n</details>"
    assert any("solution line" in p for p in hints.problems(_task("the idea.", fuller=copied)))
