"""Hints that leave the thinking to the student, measured.

Each task has two hints. The first sits on its `### BEGIN SOLUTION hint: ...` line and becomes the error a
student's stub raises: at most `MAX_FIRST_CHARS` characters, naming the idea, the shapes and the pitfall, and
holding at most `MAX_SHARE` of the solution's distinct identifiers and operators (the function's own name and
parameters excluded: the signature gives them away already). The second, fuller one is a markdown cell right
after the task, a `<details>` block that stays collapsed in JupyterLab, on Colab and in the book until opened; it
is a course cell, so the grader's assembly keeps it, and it holds no line of the solution verbatim.

    python -m utils.course.hints     # every task's hints against these rules
"""
from __future__ import annotations

import ast
import io
import keyword
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]  # the repository
MAX_FIRST_CHARS = 300
MAX_SHARE = 0.3
DETAILS = "<details>"
MIN_GIVEAWAY = 12  # a solution line this long or longer must not appear in a hint
BLOCK = re.compile(r"### BEGIN SOLUTION(?:[ \t]+hint:[ \t]*([^\n]*))?\n(.*?)### END SOLUTION", re.S)
DELIMITERS = {"(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "=", "->", "...", "@="}


@dataclass
class TaskHints:
    cell_id: str
    first: str  # the BEGIN SOLUTION line's hint
    solution: list[str]  # the solution's lines, stripped
    signature: set[str]  # the enclosing function's name and parameters
    fuller: str | None  # the markdown cell after the task, if it holds a <details> block


def _signature_names(source: str, block_start: int) -> set[str]:
    """The name and parameters of the function whose body holds the character offset `block_start`."""
    try:
        tree = ast.parse(re.sub(r"^\s*[%!].*$", "", source, flags=re.M))
    except SyntaxError:
        return set()
    line = source[:block_start].count("\n") + 1
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= node.end_lineno:
            args = node.args
            names |= {node.name} | {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
            names |= {a.arg for a in (args.vararg, args.kwarg) if a}
    return names


def solution_tokens(lines: list[str], signature: set[str]) -> set[str]:
    """The distinct identifiers (not keywords) and operators (not brackets or separators) of a solution."""
    out: set[str] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string) and tok.string not in signature:
                out.add(tok.string)
            elif tok.type == tokenize.OP and tok.string not in DELIMITERS:
                out.add(tok.string)
    except (tokenize.TokenError, IndentationError):  # a block cut out of a function body: read what tokenizes
        pass
    return out


def revealed(hint: str, tokens: set[str]) -> set[str]:
    """The solution tokens a hint names: identifiers as whole words, operators as words of their own."""
    words = {w.strip(",;:!?'\"`") for w in hint.split()}
    return {t for t in tokens if (t in words if not t.isidentifier() else re.search(rf"\b{re.escape(t)}\b", hint))}


def task_hints(nb: nbformat.NotebookNode) -> list[TaskHints]:
    """Every task of a solution notebook with its two hints."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        fuller = following.source if following is not None and following.cell_type == "markdown" and \
            DETAILS in following.source else None
        for m in BLOCK.finditer(cell.source):
            lines = [ln.strip() for ln in m.group(2).splitlines() if ln.strip()]
            out.append(TaskHints(cell.get("id", f"cell {i}"), (m.group(1) or "").strip(), lines,
                                 _signature_names(cell.source, m.start()), fuller))
    return out


def problems(task: TaskHints) -> list[str]:
    """How a task's hints break the rules (empty when they keep them)."""
    found = []
    tokens = solution_tokens(task.solution, task.signature)
    named = revealed(task.first, tokens)
    if len(task.first) > MAX_FIRST_CHARS:
        found.append(f"first hint has {len(task.first)} characters (at most {MAX_FIRST_CHARS})")
    if tokens and len(named) / len(tokens) > MAX_SHARE:
        found.append(f"first hint names {len(named)} of the solution's {len(tokens)} identifiers and operators "
                     f"({sorted(named)}); at most {MAX_SHARE:.0%}")
    if task.fuller is None:
        found.append("no fuller hint (a markdown cell with a <details> block) right after the task")
    giveaways = [ln for ln in task.solution if len(ln) >= MIN_GIVEAWAY and not ln.startswith("#")]
    for hint in (task.first, task.fuller or ""):
        found += [f"a hint holds the solution line {ln!r}" for ln in giveaways if ln in hint]
    return found


def main() -> int:
    bad = 0
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for task in task_hints(nbformat.read(path, as_version=4)):
            for problem in problems(task):
                bad += 1
                print(f"{path.stem} [{task.cell_id}]: {problem}")
    print(f"{bad} problems" if bad else "every hint keeps the rules")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
