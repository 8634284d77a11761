"""Read a student's task code before it runs, and refuse what would let it pass a check without doing the work.

The grader runs the course's own cells around the student's task cells, so the only code a student controls is
in those cells. This screen refuses, with a reason a student can act on:
- IPython magics and shell commands (`%`, `!`), but for `%time`, `%timeit` and `%matplotlib`: they reach the
  kernel and the shell;
- the names that reach around Python's rules (`getattr`, `globals`, `exec`, `__import__`, `sys.modules`, `gc`,
  `ctypes`, dunder attributes, ...), with which a cell could rewrite the checks;
- assigning attributes of anything the cell did not create itself (`torch.allclose = ...`, `checks.x = ...`);
- rebinding, at top level or through `global`, a name that the lab's own cells define (`check_against`, `gen`);
- using the course's reference implementation of a task (`losses.symmetric_infonce`), or importing it.
Files, processes, signals and sockets are guarded while the code runs (see `sandbox`).
"""
from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager

from utils.course.grading import names

FORBIDDEN_NAMES = {"getattr", "setattr", "delattr", "globals", "locals", "vars", "exec", "eval", "compile",
                   "__import__", "__builtins__", "breakpoint", "get_ipython", "open"}
FORBIDDEN_MODULES = {"builtins", "gc", "ctypes", "importlib", "inspect", "sys", "signal", "subprocess", "socket",
                     "shutil", "pickle", "marshal", "types", "multiprocessing", "threading", "_thread", "os"}
HARMLESS_MAGICS = {"time", "timeit", "matplotlib"}
ALLOWED_DUNDERS = {"__init__", "__name__", "__call__", "__len__", "__iter__", "__getitem__", "__repr__", "__doc__"}


def _without_timing(line: str) -> str:
    """A line with a harmless magic (%time, %%timeit, %matplotlib, ...) read as the code it runs."""
    stripped = line.lstrip()
    magic, _, rest = stripped.partition(" ")
    if not magic.startswith("%") or magic.lstrip("%") not in HARMLESS_MAGICS:
        return line
    if magic.startswith("%%") or magic == "%matplotlib":
        return ""
    return line[:len(line) - len(stripped)] + rest


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def screen(source: str, lab_names: set[str], own_names: set[str], references: set[str]) -> list[str]:
    """Reasons to refuse `source` (empty when it may run).

    `lab_names`: names the lab's own cells bind; `own_names`: names the task may bind (the solution's task cell
    binds them); `references`: the names of the reference implementations the checks compare with.
    """
    source = "\n".join(_without_timing(line) for line in source.splitlines())
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        return ["IPython magics and shell commands (lines starting with % or !) are not allowed in a graded cell; "
                "only %time, %timeit and %matplotlib are."]
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError as err:
        return [f"syntax error on line {err.lineno}: {err.msg}."]
    local, reasons = names.local(tree) | {"self", "cls"}, []

    def refuse(node: ast.AST, why: str) -> None:
        reasons.append(f"line {getattr(node, 'lineno', '?')}: {why}")

    protected = lab_names - own_names
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            refuse(node, f"`{node.id}` is not allowed in a graded cell.")
        elif isinstance(node, ast.Name) and node.id in references - own_names and node.id not in local:
            refuse(node, f"`{node.id}` is the course's reference for this task; write your own.")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("__") and node.attr not in ALLOWED_DUNDERS:
                refuse(node, f"the attribute `{node.attr}` is not allowed in a graded cell.")
            elif node.attr in references:
                refuse(node, f"`.{node.attr}` is the course's reference implementation; write your own.")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_MODULES:
                    refuse(node, f"importing `{module}` is not allowed in a graded cell.")
            if isinstance(node, ast.ImportFrom) and {a.name for a in node.names} & references:
                refuse(node, "importing the course's reference implementation is not allowed; write your own.")
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and set(node.names) & protected:
            refuse(node, f"`global {', '.join(sorted(set(node.names) & protected))}` rebinds a name the lab's "
                         "own cells use.")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and isinstance(part.ctx, (ast.Store, ast.Del)):
                        root = _root(part)
                        if not (isinstance(root, ast.Name) and root.id in local):
                            refuse(node, "assigning an attribute of something this cell did not create "
                                         f"(`{ast.unparse(part)}`) is not allowed.")
    for node in tree.body:  # top level: rebinding what the lab's own cells define
        for name in sorted(names.bound([node]) & protected):
            refuse(node, f"`{name}` is defined by the lab's own cells; give yours another name.")
    return reasons
