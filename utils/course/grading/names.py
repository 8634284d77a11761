"""Which names a piece of Python binds and reads: what the grader's lab reader and screen both ask of code."""
from __future__ import annotations

import ast

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)


def top_level(nodes: list[ast.AST]) -> list[ast.AST]:
    """`nodes` and what they hold, outside function and class bodies and comprehensions."""
    found, todo = [], list(nodes)
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, SCOPES):
            todo += list(ast.iter_child_nodes(node))
    return found


def bound(nodes: list[ast.AST]) -> set[str]:
    """Names `nodes` bind at top level: functions, classes, imports, assignment and loop targets, deletions."""
    names = set()
    for node in top_level(nodes):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
    return names


def local(tree: ast.AST) -> set[str]:
    """Every name `tree` assigns anywhere (imports aside): targets, arguments, comprehension variables, defs."""
    nodes = list(ast.walk(tree))
    names = {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    names |= {n.arg for n in nodes if isinstance(n, ast.arg)}
    return names | {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def free(source: str) -> set[str]:
    """Names a cell reads that it binds nowhere itself."""
    tree = ast.parse(source)
    reads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return reads - local(tree) - bound(tree.body)
