"""The layer order of `utils/`, and a checker that reads the import graph from the source with `ast`.

`python -m utils.course.layers` prints the violations and exits 1 when there are any.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

LAYERS = ("ground", "data", "models", "metrics", "training", "offline", "backbones", "recipes", "course")
RANKS = {"profiles": 0, "cache": 0, "memory": 0, "resources": 0, "checks": 0, "data": 1, "models": 2, "metrics": 3,
         "training": 4, "offline": 5, "backbones": 6, "recipes": 7, "book": 8, "course": 8, "grade": 8}
"""Rank of each name directly under `utils` (the module, or the package and everything under it)."""


def layer_of(module: str) -> tuple[int, str]:
    """(rank, layer name) of a course module, lowest layer first; ValueError when it is in no layer."""
    parts = module.split(".")
    if parts[0] != "utils" or parts[1:2] and parts[1] not in RANKS:
        raise ValueError(f"{module} is in no layer")
    rank = RANKS[parts[1]] if len(parts) > 1 else 0
    return rank, LAYERS[rank]


def module_files(package_dir: Path) -> dict[str, Path]:
    """Module name (rooted at the folder's own name; a package is its `__init__.py`) -> source file."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if "__pycache__" not in parts:
            modules[".".join((package_dir.name, *parts[:-1 if parts[-1] == "__init__" else None]))] = path
    return modules


def imports_of(source: str, package: list[str], modules: dict[str, Path]) -> set[str]:
    """The package's modules that a source inside `package` (its dotted parts) imports anywhere (function bodies,
    `if TYPE_CHECKING:` blocks too)."""
    def known(name: str) -> str | None:  # the longest prefix that is one of the package's modules
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:
            parts.pop()
        return ".".join(parts) or None

    found: set[str | None] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(known(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level <= len(package):
            base = ".".join(package[:len(package) + 1 - node.level] + [node.module or ""]).strip(".") \
                if node.level else node.module or ""
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else known(base) for a in node.names)
    return {name for name in found if name}


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that one file imports."""
    package = (module if path.name == "__init__.py" else module.rpartition(".")[0]).split(".")
    return imports_of(path.read_text(encoding="utf-8"), package, modules)


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module name -> the package's modules it imports (imports of outside libraries ignored)."""
    modules = module_files(Path(package_dir))
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once: a strongly connected component (Tarjan) of two or more modules, or a self-import,
    its modules in order of discovery and the first one again at the end."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(members) > 1 or node in graph[node]:
                cycles.append(members + [node])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def violations(package_dir: Path) -> list[str]:
    """Human-readable problems: modules in no layer, upward imports, recipes importing recipes, import cycles."""
    graph, found, layers = import_graph(package_dir), [], {}
    for module in sorted(graph):
        try:
            layers[module] = layer_of(module)
        except ValueError:
            found.append(f"{module} is in no layer: place it in the layer table of utils/course/layers.py")
    for module in sorted(graph):
        for target in sorted(graph[module]):
            if module in layers and target in layers and layers[module][0] < layers[target][0]:
                found.append(f"{module} ({layers[module][1]}) imports {target} ({layers[target][1]}): "
                             "a layer imports only from its own layer or lower ones")
            ours, theirs = module.split(".")[1:3], target.split(".")[1:3]
            if len(ours) == len(theirs) == 2 and ours[0] == theirs[0] == "recipes" and ours != theirs:
                found.append(f"{module} imports {target}: a recipe does not import another recipe "
                             "(move what they share down a layer)")
    for cycle in _cycles(graph):  # shown as a path where the order of discovery is one, else as the members
        path = all(b in graph[a] for a, b in zip(cycle, cycle[1:]))
        found.append(f"import cycle {' -> '.join(cycle) if path else 'among ' + ', '.join(sorted(cycle[:-1]))}: "
                     "modules must not import each other in a circle")
    return found


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    problems = violations(root)
    print("\n".join(problems) if problems else f"no layer violations in {len(import_graph(root))} modules")
    sys.exit(1 if problems else 0)
