"""The book builds with warnings as errors: chapters executed, the committed solution outputs reused
(re-executing the labs is the nbval half of the suite's job)."""
import shutil
import subprocess

import yaml

from utils.labgen import ROOT


def test_book_builds_without_warnings(tmp_path):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["exclude_patterns"] += ["solutions/*"]
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run([shutil.which("jupyter-book"), "build", "-W", "--keep-going", str(ROOT),
                             "--config", str(tmp_path / "_config.yml"), "--path-output", str(tmp_path)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    for page in ["intro", "chapters/02_clip", "chapters/03_siglip_and_data", "solutions/01_clip_loss",
                 "solutions/05_siglip", "labs/01_clip_loss", "labs/05_siglip", "execution_statistics"]:
        assert (html / f"{page}.html").exists(), page
    assert "colab.research.google.com" in (html / "labs" / "01_clip_loss.html").read_text()
    assert "symmetric loss: 0.0338" in (html / "chapters" / "02_clip.html").read_text()  # chapter cells ran
    assert "siglip_loss: 0.1536" in (html / "chapters" / "03_siglip_and_data.html").read_text()
    assert "recall@10 after training is at least 0.8: True" in (html / "solutions" / "01_clip_loss.html").read_text()
