"""Seed records: a lab's asserted outcome measured on several seeds, so that its thresholds sit below what every
seed measured, with a stated margin.

    python -m utils.course.seeds 10 [--seeds 0 1 2]     # run Lab 10 on each seed, write its record
    python -m utils.course.seeds --check                # every record fresh, every threshold within its margin

A lab's outcome cell states `utils.checks.Claim`s and reports them with `report_claims`. This command runs the
solution with papermill on the `offline` profile once per seed (`-p seed S`: each seeded lab has a `seed`
parameter that seeds its recipe) and writes `measurements/seeds/<lab>.json`: each claim's comparison, threshold
and margin, and its value on each seed. The record carries a fingerprint of what the numbers depend on: the
solution's code cells and the source of every `utils` module the solution imports, directly or not (the recipes,
the worlds' versions, the builders of the lab's artefacts). `check_record` fails when the fingerprint no longer
matches (re-run the command) or when a threshold is not cleared by every seed's value with the claim's margin.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from ..checks import RECORD_ENV, SEED_RECORDS
from .layers import import_graph, imports_of, module_files

ROOT = Path(__file__).resolve().parents[2]  # the repository
RECORDS = SEED_RECORDS
SEEDS = (0, 1, 2)


def solution(lab: str, root: Path = ROOT) -> Path:
    """The solution notebook of lab `lab` ("10" or "10_hallucination")."""
    found = sorted((root / "solutions").glob(f"{lab[:2]}_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no solution for lab {lab!r} in {root / 'solutions'}; give its number, e.g. 10.")
    return found[0]


def _code_cells(notebook: Path) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]


def module_closure(sources: list[str], root: Path = ROOT) -> list[Path]:
    """The files of every `utils` module the sources import, directly or through other `utils` modules (the import
    graph of `utils.course.layers`; a package's `__init__` included, as Python runs it)."""
    modules, graph = module_files(root / "utils"), import_graph(root / "utils")
    todo = {name for source in sources for name in imports_of(source, ["utils"], modules)}
    seen: set[str] = set()
    while todo:
        parts = todo.pop().split(".")
        for k in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
            prefix = ".".join(parts[:k])
            if prefix in modules and prefix not in seen:
                seen.add(prefix)
                todo |= graph[prefix]
    return sorted(modules[name] for name in seen)


def code_only(source: str) -> str:
    """What of a source can change a result: its syntax tree without comments and docstrings (a hint or a
    docstring edited leaves a record fresh); source that does not parse (a cell with magics) loses its comment
    lines only."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def fingerprint(notebook: Path, root: Path = ROOT) -> str:
    """A hash of the code (`code_only`) of the solution's code cells and of every `utils` module they import,
    directly or not."""
    cells = _code_cells(notebook)
    h = hashlib.sha256()
    for text in cells:
        h.update(code_only(text).encode() + b"\0")
    for path in module_closure(cells, root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + code_only(path.read_text()).encode() + b"\0")
    return h.hexdigest()[:16]


def run_seed(notebook: Path, seed: int, scratch: Path) -> dict[str, dict]:
    """The claims a solution reports when papermill runs it on `offline` with `seed`."""
    record = scratch / f"claims_{seed}.jsonl"
    record.unlink(missing_ok=True)
    env = {**os.environ, RECORD_ENV: str(record), "VLM_PROFILE": "offline"}
    result = subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(scratch / notebook.name),
                             "-p", "profile", "offline", "-p", "seed", str(seed), "--cwd", str(notebook.parent)],
                            env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"{notebook.name} failed on seed {seed}:\n{result.stderr[-3000:]}")
    if not record.exists():
        raise RuntimeError(f"{notebook.name} reported no claims: its outcome cell must call "
                           "utils.checks.report_claims.")
    claims: dict[str, dict] = {}
    for line in record.read_text().splitlines():
        claims.update(json.loads(line))
    return claims


def measure(lab: str, seeds: tuple[int, ...] = SEEDS, root: Path = ROOT) -> dict:
    """Run lab `lab` on each seed and return its record (not yet written)."""
    notebook = solution(lab, root)
    per_seed: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for seed in seeds:
            per_seed[str(seed)] = run_seed(notebook, seed, Path(scratch))
            print(f"{notebook.stem} seed {seed}: " + ", ".join(
                f"{what[:40]}... = {c['value']:.3f}" for what, c in per_seed[str(seed)].items()), flush=True)
    first = next(iter(per_seed.values()))
    return {"lab": notebook.stem, "fingerprint": fingerprint(notebook, root), "seeds": list(seeds),
            "claims": {what: {"op": c["op"], "threshold": c["threshold"], "margin": c["margin"],
                              "values": [per_seed[str(s)][what]["value"] for s in seeds]}
                       for what, c in first.items()}}


def check_record(record: dict, root: Path = ROOT) -> list[str]:
    """What is wrong with a record: stale, fewer than three seeds, or a threshold not cleared by every seed with
    its claim's margin. Empty when it is sound."""
    problems = []
    notebook = solution(record["lab"], root)
    if record["fingerprint"] != fingerprint(notebook, root):
        problems.append(f"{record['lab']}: the record is stale (the solution or the utils code it runs changed); "
                        f"re-run `python -m utils.course.seeds {record['lab'][:2]}`.")
    if len(set(record["seeds"])) < 3:
        problems.append(f"{record['lab']}: measured on {len(set(record['seeds']))} seeds; three are needed.")
    for what, c in record["claims"].items():
        above = c["op"] in (">", ">=")
        worst = min(c["values"]) if above else max(c["values"])
        cleared = worst - c["margin"] >= c["threshold"] if above else worst + c["margin"] <= c["threshold"]
        if not cleared:
            problems.append(f"{record['lab']}: '{what}' asserts {c['op']} {c['threshold']} but the worst seed measured "
                            f"{worst:.4f}, which does not clear it by the stated margin {c['margin']}.")
    return problems


def records(root: Path = ROOT) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / RECORDS.relative_to(ROOT)).glob("*.json"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", help="lab numbers to measure, e.g. 08 10")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--check", action="store_true", help="check every record instead of measuring")
    args = parser.parse_args(argv)
    if args.check or not args.labs:
        problems = [p for r in records() for p in check_record(r)]
        print("\n".join(problems) or f"{len(records())} seed records, all fresh and within their margins")
        return 1 if problems else 0
    RECORDS.mkdir(parents=True, exist_ok=True)
    failed = False
    for lab in args.labs:
        record = measure(lab, tuple(args.seeds))
        (RECORDS / f"{record['lab']}.json").write_text(json.dumps(record, indent=1) + "\n")
        problems = check_record(record)
        print("\n".join(problems) or f"{record['lab']}: every claim clears its threshold on every seed")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
