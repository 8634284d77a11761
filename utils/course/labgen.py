"""Generate the student labs in `labs/` from the solution notebooks in `solutions/`.

In a solution's code cell, the answer sits between `### BEGIN SOLUTION` and `### END SOLUTION` lines; the
BEGIN line carries a hint that names the idea, the shapes and the pitfall (never the code):
`### BEGIN SOLUTION hint: ...`. The student version keeps everything else (signatures, prose, the checks)
and replaces the block with a `NotImplementedError`. In a markdown cell, a written answer sits between
`<!-- BEGIN ANSWER -->` and `<!-- END ANSWER -->` lines and becomes a prompt for the student's own.
Outputs and papermill's injected-parameters cell are dropped.

    python -m utils.course.labgen          # write labs/
    python -m utils.course.labgen --check  # exit 1 if labs/ is out of date
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]  # the repository
BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION(?:\s+hint:\s*(.*))?$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
BEGIN_ANSWER, END_ANSWER = "<!-- BEGIN ANSWER -->", "<!-- END ANSWER -->"
TODO, STUB = "# TODO: your code here", "raise NotImplementedError("  # what a student's task starts as
ANSWER_PROMPT = "**Your answer:** *(write it here, with the numbers you measured)*"


def _replace_blocks(source: str, begin: Callable[[str], list[str] | None], is_end: Callable[[str], bool],
                    names: tuple[str, str], where: str) -> str:
    """`source` with every block from a line that `begin` accepts (it returns the block's replacement lines)
    to the next line that `is_end` accepts replaced; `names` (begin, end) name the markers in errors."""
    out, inside = [], False
    for line in source.splitlines():
        replacement = begin(line)
        if replacement is not None:
            if inside:
                raise ValueError(f"{where}: nested '{names[0]}'; close the first block with '{names[1]}'.")
            out += replacement
            inside = True
        elif is_end(line):
            if not inside:
                raise ValueError(f"{where}: '{names[1]}' without a matching BEGIN.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: '{names[0]}' is never closed; add '{names[1]}'.")
    return "\n".join(out)


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every marked solution block in `source` by a stub that raises NotImplementedError."""
    def stub(line: str) -> list[str] | None:
        match = BEGIN.match(line)
        if not match:
            return None
        indent, hint = match.group(1), (match.group(2) or "see the text above").strip()
        return [f"{indent}{TODO}", f"{indent}{STUB}{('TODO: ' + hint)!r})"]

    return _replace_blocks(source, stub, lambda line: bool(END.match(line)),
                           ("### BEGIN SOLUTION", "### END SOLUTION"), where)


def strip_answers(source: str, where: str = "cell") -> str:
    """Replace every written answer in a markdown cell by a prompt for the student's own."""
    return _replace_blocks(source, lambda line: [ANSWER_PROMPT] if line.strip() == BEGIN_ANSWER else None,
                           lambda line: line.strip() == END_ANSWER, (BEGIN_ANSWER, END_ANSWER), where)


def student_version(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of a solution notebook with answers stubbed and all outputs removed."""
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{name}, cell {i}")
            cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "markdown":
            cell.source = strip_answers(cell.source, f"{name}, cell {i}")
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # progress-bar state from the executed solution; it pulls scripts from a CDN
    return nb


def render(solution: Path) -> str:
    return nbformat.writes(student_version(nbformat.read(solution, as_version=4), solution.name)) + "\n"


def stale_labs(root: Path = ROOT) -> list[str]:
    """Names of labs that differ from what their solution would generate (or are missing/orphaned)."""
    solutions = {p.name: p for p in sorted((root / "solutions").glob("*.ipynb"))}
    labs = {p.name for p in (root / "labs").glob("*.ipynb")}
    stale = [n for n, p in solutions.items()
             if not (root / "labs" / n).exists() or (root / "labs" / n).read_text() != render(p)]
    return stale + sorted(labs - set(solutions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if labs/ is out of date")
    if parser.parse_args(argv).check:
        stale = stale_labs()
        if stale:
            print(f"labs/ is out of date for {stale}; run `python -m utils.course.labgen`.", file=sys.stderr)
            return 1
        print("labs/ is in sync with solutions/")
        return 0
    for solution in sorted((ROOT / "solutions").glob("*.ipynb")):
        (ROOT / "labs" / solution.name).write_text(render(solution))
        print(f"labs/{solution.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
