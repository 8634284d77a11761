"""Seed records: every lab that states its outcome as claims has a fresh record on three seeds, and every threshold
sits below what each seed measured by the claim's stated margin."""
import json
from pathlib import Path

import nbformat
import pytest

from utils.checks import RECORD_ENV, Claim, report_claims
from utils.course import seeds

ROOT = Path(__file__).resolve().parents[1]


def claiming_labs() -> list[str]:
    """Solutions whose outcome cells report claims."""
    out = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any("outcome" in c.metadata.get("tags", []) and "report_claims(" in c.source for c in nb.cells):
            out.append(path.stem)
    return out


@pytest.mark.parametrize("lab", claiming_labs())
def test_each_claiming_lab_has_a_sound_record(lab):
    path = seeds.RECORDS / f"{lab}.json"
    assert path.exists(), f"no seed record for {lab}: run `python -m utils.course.seeds {lab[:2]}`"
    record = json.loads(path.read_text())
    assert seeds.check_record(record) == []
    nb = nbformat.read(seeds.solution(lab), as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if "outcome" in c.metadata.get("tags", [])
                      for o in c.get("outputs", []))
    missing = [what for what in record["claims"] if f"{what}: True" not in printed]
    assert not missing, f"claims of the record that the committed outcome cells do not print as holding: {missing}"


def _record(lab: str, values: list[float], op: str = ">", threshold: float = 0.1, margin: float = 0.05) -> dict:
    return {"lab": lab, "fingerprint": seeds.fingerprint(seeds.solution(lab)), "seeds": [0, 1, 2],
            "claims": {"gain": {"op": op, "threshold": threshold, "margin": margin, "values": values}}}


def test_a_threshold_must_clear_the_worst_seed_by_the_margin():
    lab = claiming_labs()[0]
    assert seeds.check_record(_record(lab, [0.2, 0.16, 0.3])) == []
    assert "does not clear" in seeds.check_record(_record(lab, [0.2, 0.14, 0.3]))[0]  # 0.14 - 0.05 < 0.1
    assert "does not clear" in seeds.check_record(_record(lab, [0.2, 0.2, 0.2], op="<", threshold=0.22))[0]
    assert seeds.check_record(_record(lab, [0.1, 0.1, 0.1], op="<=", threshold=0.2)) == []


def test_a_record_goes_stale_when_the_code_changes(tmp_path):
    lab = claiming_labs()[0]
    record = {**_record(lab, [1.0, 1.0, 1.0]), "fingerprint": "0" * 16}
    assert "stale" in seeds.check_record(record)[0]
    assert "three are needed" in seeds.check_record({**_record(lab, [1.0]), "seeds": [0]})[0]


def test_the_fingerprint_follows_imports_through_utils():
    files = {p.relative_to(ROOT).as_posix() for p in seeds.module_closure(["from utils.recipes import vqa"])}
    assert "utils/recipes/vqa.py" in files
    assert "utils/metrics/vqa.py" in files  # imported by the recipe
    assert "utils/data/answers.py" in files  # imported by the metric: a change to it changes Lab 8's numbers
    assert not any(f.startswith("utils/course/") for f in files)


def test_claims_print_verdicts_record_values_and_fail_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RECORD_ENV, str(tmp_path / "claims.jsonl"))
    claims = {"recall rose": Claim(0.3, ">", 0.1, margin=0.05), "loss fell": Claim(2.0, "<", 1.0, margin=0.1)}
    report_claims(claims, enforce=False)
    assert capsys.readouterr().out == "recall rose: True\nloss fell: False\n"
    assert json.loads((tmp_path / "claims.jsonl").read_text())["recall rose"]["value"] == 0.3
    report_claims(claims)  # recording for the seed tool: it judges the values, the run goes on
    monkeypatch.delenv(RECORD_ENV)
    with pytest.raises(AssertionError, match="loss fell"):
        report_claims(claims)
    with pytest.raises(ValueError, match="compares with one of"):
        Claim(1.0, "=>", 0.0, margin=0.0)


def test_comments_and_docstrings_do_not_make_a_record_stale():
    code = 'def f(x):\n    """Twice x."""\n    # a hint\n    return 2 * x\n'
    assert seeds.code_only(code) == seeds.code_only('def f(x):\n    return 2 * x  # doubled\n')
    assert seeds.code_only(code) != seeds.code_only('def f(x):\n    return 3 * x\n')
    assert seeds.code_only("%time f(2)\n# note\nx = 1") == "%time f(2)\nx = 1"
