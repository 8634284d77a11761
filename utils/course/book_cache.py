"""Keep the book's notebook cache honest: clear it when the code the notebooks run has changed.

`make book` executes chapters and solutions through jupyter-book's notebook cache (`execute_notebooks: cache`),
which re-executes a notebook only when the notebook's own code changed. A notebook's outputs also depend on
`utils/` (and through it on the worlds' versions and the recipes) and on the declared dependencies, which that
cache does not see, so `python -m utils.course.book_cache` runs first: it hashes them, and when the hash differs
from the one stamped beside the cache, it clears the cache so that every notebook runs again.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
CACHE_FOLDER = ".jupyter_cache"  # jupyter-book's notebook cache, inside the build folder
STAMP = "code.stamp"


def code_stamp(root: Path = ROOT) -> str:
    """A hash of every file under `utils/` that runs or configures code (sources, model configs) and of
    `pyproject.toml`, by path and content."""
    files = sorted(p for p in (root / "utils").rglob("*") if p.suffix in {".py", ".json"} and p.is_file()
                   and "__pycache__" not in p.parts)
    h = hashlib.sha256()
    for path in [*files, root / "pyproject.toml"]:
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def refresh(build: Path, root: Path = ROOT) -> bool:
    """Clear `build`'s notebook cache if the code changed since it was stamped; stamp it. True if cleared."""
    stamp, cache = build / STAMP, build / CACHE_FOLDER
    current = code_stamp(root)
    stale = stamp.exists() and stamp.read_text() != current or not stamp.exists() and cache.exists()
    if stale:
        shutil.rmtree(cache, ignore_errors=True)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=ROOT / "_build", help="the book's build folder")
    build = parser.parse_args(argv).build
    cleared = refresh(build)
    print(f"notebook cache {'cleared: utils/ or the dependencies changed' if cleared else 'kept'} ({build})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
