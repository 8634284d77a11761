"""The book's notebook cache is cleared when the code the notebooks run changes, and only then."""
import re

import yaml

from utils.course.book_cache import CACHE_FOLDER, ROOT, code_stamp, refresh


def _course(tmp_path):
    (tmp_path / "utils" / "data").mkdir(parents=True)
    (tmp_path / "utils" / "data" / "world.py").write_text("WORLD_VERSION = 2\n")
    (tmp_path / "pyproject.toml").write_text("dependencies = ['torch']\n")
    build = tmp_path / "_build"
    (build / CACHE_FOLDER).mkdir(parents=True)
    return build


def test_cache_kept_while_the_code_stays_and_cleared_when_it_changes(tmp_path):
    build = _course(tmp_path)
    refresh(build, tmp_path)  # a cache without a stamp came from unknown code: cleared
    (build / CACHE_FOLDER).mkdir()
    assert not refresh(build, tmp_path) and (build / CACHE_FOLDER).exists()
    (tmp_path / "utils" / "data" / "world.py").write_text("WORLD_VERSION = 3\n")
    assert refresh(build, tmp_path) and not (build / CACHE_FOLDER).exists()
    (build / CACHE_FOLDER).mkdir()
    (tmp_path / "pyproject.toml").write_text("dependencies = ['torch>=2.5']\n")
    assert refresh(build, tmp_path) and not (build / CACHE_FOLDER).exists()
    stamp = code_stamp(tmp_path)
    (tmp_path / "utils" / "notes.md").write_text("prose does not run")
    assert code_stamp(tmp_path) == stamp


def test_make_book_uses_the_cache_and_refreshes_it_first():
    execute = yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]
    assert execute["execute_notebooks"] == "cache"
    recipe = re.search(r"^book:.*?(?=^\S)", (ROOT / "Makefile").read_text(), re.S | re.M).group(0)
    assert recipe.index("utils.course.book_cache") < recipe.index("jupyter-book")
