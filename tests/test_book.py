"""The book builds with warnings as errors: chapters executed, the committed solution outputs reused
(re-executing the labs is the nbval half of the suite's job). One build, then checks on its HTML."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sphinx.util.matching import Matcher

from utils.course.labgen import ROOT

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"  # the venv's own, active or not
CHAPTERS = ["chapters/01_multimodal_challenge", "chapters/02_clip", "chapters/03_siglip_and_data",
            "chapters/04_captioning", "chapters/07_retrieval_grounding"]
FIGURES = {"chapters/02_clip": ["fig-clip-towers"],
           "chapters/03_siglip_and_data": ["fig-softmax-sigmoid", "fig-finetune-pipeline"],
           "chapters/04_captioning": ["fig-qformer-masks", "fig-llava-captioner"],
           "chapters/07_retrieval_grounding": ["fig-retrieval-system", "fig-ivf-pq", "fig-hnsw", "fig-open-vocab",
                                               "fig-imagebind"]}


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["exclude_patterns"] += ["solutions/*"]
    (out / "_config.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run([str(JUPYTER_BOOK), "build", "-W", "--keep-going", str(ROOT),
                             "--config", str(out / "_config.yml"), "--path-output", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


def pages(html: Path) -> dict[str, str]:
    return {p.relative_to(html).with_suffix("").as_posix(): p.read_text()
            for p in html.rglob("*.html") if "_static" not in p.parts}


def test_every_page_is_built(html):
    for page in ["intro", *CHAPTERS, "solutions/01_clip_loss", "solutions/05_siglip", "labs/01_clip_loss",
                 "labs/05_siglip", "bibliography", "execution_statistics"]:
        assert (html / f"{page}.html").exists(), page
    assert "colab.research.google.com" in (html / "labs" / "01_clip_loss.html").read_text()


def test_execution_statistics_show_the_gpu_budget(html):
    page = (html / "execution_statistics.html").read_text()
    measured = (ROOT / "measurements" / "t4_budget.md").read_text()
    assert "capped at 15 GiB" in page and measured.split(",")[0].removeprefix("Measured on ") in page
    assert page.count("<tr") >= measured.count("\n| ") - 1  # the header row and one row per measurement


def test_chapter_cells_ran(html):
    assert "symmetric loss: 0.0338" in (html / "chapters" / "02_clip.html").read_text()
    assert "siglip_loss: 0.1536" in (html / "chapters" / "03_siglip_and_data.html").read_text()
    # the transformers zero-shot classifier agrees with CLIPModel's own logits (random tiny model)
    assert "own logits_per_image: True" in (html / "chapters" / "02_clip.html").read_text()
    # the worked example's numbers, from the course's metrics (checked against pycocoevalcap elsewhere)
    captioning = (html / "chapters" / "04_captioning.html").read_text()
    assert "ROUGE-L 0.800" in captioning and "F1 1.00" in captioning


def test_solutions_show_their_committed_outputs(html):
    for page in sorted((html / "solutions").glob("*.html")):
        assert 'class="cell_output' in page.read_text(), f"{page.name} shows no cell output"


def test_bibliography_lists_entries_and_chapters_link_to_them(html):
    bibliography = (html / "bibliography.html").read_text()
    entries = re.findall(r'role="doc-biblioentry"|<li id="id\d+"', bibliography)
    assert len(entries) >= 30, f"{len(entries)} bibliography entries"
    assert "Learning transferable visual models from natural language supervision" in bibliography
    for chapter in CHAPTERS:
        text = (html / f"{chapter}.html").read_text()
        targets = re.findall(r'<span class="bibtex-citation"[^>]*>\S*?<a class="reference internal" '
                             r'href="\.\./bibliography\.html#(id\d+)"', text)
        assert targets, f"{chapter} has no resolved citation"
        for target in set(targets):
            assert f'id="{target}"' in bibliography, f"{chapter} cites #{target}, missing on the page"


def test_figures_are_drawn_with_caption_and_label(html):
    for chapter, labels in FIGURES.items():
        text = (html / f"{chapter}.html").read_text()
        for label in labels:
            figure = re.search(rf'<figure[^>]*id="{label}".*?</figure>', text, re.S)
            assert figure, f"{label} missing from {chapter}"
            image = re.search(r'<img[^>]*src="\.\./(_images/[^"]+)"', figure.group())
            drawn = image and html / image.group(1)
            assert drawn and drawn.exists() and drawn.stat().st_size > 5000, f"{label} has no image"
            assert 'class="caption-text"' in figure.group(), f"{label} has no caption"


def test_math_uses_the_bundled_mathjax(html):
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is not bundled in _static"
    for name, text in pages(html).items():
        scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', text, re.I)
        if "\\(" in text or "\\[" in text:
            assert scripts, f"{name} has math but loads no MathJax"
        for src in scripts:
            assert not src.startswith(("http:", "https:", "//")), f"{name} loads MathJax from {src}"
            assert src.endswith("_static/mathjax/tex-chtml.js"), f"{name} loads {src}"


def test_no_stray_outputs(html):
    for name, text in pages(html).items():
        assert "torch._C.Generator" not in text, f"{name} shows a stray <torch._C.Generator ...> output"


def code_lines(path: Path):
    """(line number, line) for the code in a MyST file's code cells and Python blocks, options excluded."""
    in_code = in_options = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_code, in_options = line.startswith(("```{code-cell}", "```python")), False
        elif in_code and line == "---":
            in_options = not in_options
        elif in_code and not in_options:
            yield number, line


def test_code_in_chapters_fits_the_page():
    for chapter in CHAPTERS:
        for number, line in code_lines(ROOT / f"{chapter}.md"):
            assert len(line) <= 100, f"{chapter}.md:{number} is {len(line)} characters long"


def test_a_virtual_environment_in_the_clone_is_not_read_as_pages():
    excluded = Matcher(yaml.safe_load((ROOT / "_config.yml").read_text())["exclude_patterns"])
    for folder in [".venv", "venv", "env", ".env", "my-venv", "anything/lib/python3.11/site-packages"]:
        assert excluded(folder), f"{folder}/ would be read as part of the book"
    for page in ["intro.md", "chapters/02_clip.md", "solutions/01_clip_loss.ipynb", "bibliography.md"]:
        assert not excluded(page), page
