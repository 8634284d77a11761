"""The layer checker (utils/course/layers.py): the real package, a small fake one, and a copy of the real one."""
import shutil
from pathlib import Path

import utils
from utils.course.layers import import_graph, layer_of, violations

CLEAN = {  # a fake `utils` with a few modules across the layers, clean
    "__init__.py": '"""The fake course package."""\n',
    "profiles.py": "import torch\nfrom dataclasses import dataclass\n",
    "cache.py": "from __future__ import annotations\nimport json\nfrom . import profiles\n",
    "data/__init__.py": "from .pairs import load_pairs\n",
    "data/pairs.py": "import pandas as pd\nfrom .. import cache\nfrom ..profiles import Profile\n",
    "data/convert.py": "from . import pairs, load_pairs\nfrom .. import *\n",
    "models/__init__.py": "",
    "models/tower.py": "import utils.data.pairs as pairs\n",
    "models/vlm.py": "from typing import TYPE_CHECKING\nfrom .tower import Tower\n"
                     "if TYPE_CHECKING:\n    from utils.data.pairs import Pair\n",
    "training/__init__.py": "",
    "training/loops.py": "from ..models import vlm, tower\nimport utils.cache\n",
    "recipes/__init__.py": "",
    "recipes/captioning.py": "from utils.training.loops import fit\n",
    "recipes/vqa.py": "def run():\n    from ..data import pairs\n    import numpy\n",
    "course/__init__.py": "",
}


def _write(root: Path, files: dict[str, str], mode: str = "w") -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        with open(root / name, mode, encoding="utf-8") as file:
            file.write(text)


def test_utils_layers():
    problems = violations(Path(utils.__file__).parent)
    assert problems == [], "\n".join(problems)


def test_layer_of():
    assert layer_of("utils") == (0, "ground") and layer_of("utils.cache") == (0, "ground")
    assert layer_of("utils.data") == (1, "data") and layer_of("utils.data.pairs") == (1, "data")
    assert layer_of("utils.backbones") == (6, "backbones") and layer_of("utils.recipes.vqa") == (7, "recipes")
    assert layer_of("utils.grade") == layer_of("utils.book.plots") == layer_of("utils.course.layers") == (8, "course")


def test_import_graph_resolves_relative_and_absolute_imports(tmp_path):
    _write(tmp_path / "utils", CLEAN)
    assert import_graph(tmp_path / "utils") == {
        "utils": set(),
        "utils.profiles": set(),
        "utils.cache": {"utils.profiles"},  # from . import profiles: the submodule
        "utils.data": {"utils.data.pairs"},
        "utils.data.pairs": {"utils.cache", "utils.profiles"},  # from .. import cache; from ..profiles import Profile
        "utils.data.convert": {"utils.data.pairs", "utils.data", "utils"},  # load_pairs is a name: the package
        "utils.models": set(),
        "utils.models.tower": {"utils.data.pairs"},  # import utils.data.pairs as pairs
        "utils.models.vlm": {"utils.models.tower", "utils.data.pairs"},  # TYPE_CHECKING counts
        "utils.training": set(),
        "utils.training.loops": {"utils.models.vlm", "utils.models.tower", "utils.cache"},
        "utils.recipes": set(),
        "utils.recipes.captioning": {"utils.training.loops"},
        "utils.recipes.vqa": {"utils.data.pairs"},  # inside a function
        "utils.course": set(),
    }


def _one(found: list[str], *words: str) -> str:
    """The one message that has all the words."""
    matches = [message for message in found if all(word in message for word in words)]
    assert len(matches) == 1, (words, found)
    return matches[0]


def test_checker_reports_upward_import_and_cycle(tmp_path):
    root = tmp_path / "utils"
    _write(root, CLEAN)
    assert violations(root) == []
    _write(root, {"data/convert.py": "def late():\n    from ..training.loops import fit\n",  # upward, in a function
                  "models/tower.py": "def vlm():\n    from .vlm import VLM\n",  # vlm imports tower: a cycle
                  "recipes/vqa.py": "from .captioning import caption\n"}, mode="a")  # a recipe importing a recipe
    found = violations(root)
    assert len(found) == 3, found
    assert "a layer imports only from its own layer" in _one(
        found, "utils.data.convert (data) imports utils.training.loops (training)")
    assert "cycle" in _one(found, "utils.models.tower", "utils.models.vlm")
    assert "recipe" in _one(found, "utils.recipes.vqa imports utils.recipes.captioning")
    _write(root, {"helpers.py": ""})
    assert set(violations(root)) - set(found) == {
        "utils.helpers is in no layer: place it in the layer table of utils/course/layers.py"}


def test_checker_on_a_copy_of_the_real_package(tmp_path):
    root = tmp_path / "utils"
    shutil.copytree(Path(utils.__file__).parent, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = set(violations(root))
    _write(root, {"cache.py": "\n\ndef _injected():\n    from .backbones import create_clip\n"
                              "    from .profiles import Profile\n",
                  "profiles.py": "\n\ndef _injected():\n    from .cache import artefact_path\n"}, mode="a")
    new = set(violations(root)) - before
    _one(new, "utils.cache (ground) imports utils.backbones (backbones)")
    _one(new, "cycle", "utils.cache", "utils.profiles")
