"""What the instructor reads: one gradebook row per submission, and a feedback page per student."""
from __future__ import annotations

import csv
from pathlib import Path

from utils.course.grading.score import Result

FIXED = ["student", "lab", "status", "points", "max_points", "percent", "runtime_s", "cells_s", "peak_memory_gb"]


def row(result: Result) -> dict[str, object]:
    out: dict[str, object] = {
        "student": result.student, "lab": result.lab, "status": result.status, "points": result.points,
        "max_points": result.max_points, "percent": round(100 * result.points / max(result.max_points, 1), 1),
        "runtime_s": result.seconds, "cells_s": result.cells_s, "peak_memory_gb": result.peak_gb}
    out |= {f"{i.kind}: {i.title}": i.points for i in result.items}
    out["experiment ran"] = "; ".join(f"{t}: {'yes' if w.startswith('ran') else 'no'}"
                                      for t, w in result.experiments.items())
    out["answer words"] = sum(result.answers.values())
    out["refused"] = "; ".join(result.refused)
    out["sandbox refused"] = len(result.sandbox)
    out["detail"] = result.detail
    out["guards"] = result.guards
    out["seed"] = result.seed
    return out


def write_gradebook(results: list[Result], path: Path) -> None:
    rows = [row(r) for r in results]
    columns = FIXED + [c for r in rows for c in r if c not in FIXED]
    columns = list(dict.fromkeys(columns))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def feedback(result: Result, notebook: str | None) -> str:
    """A markdown page for the student: the score, each check's verdict and reason, what the grader refused."""
    lines = [f"# Lab {result.lab}: feedback for {result.student}", "",
             f"**{result.points} / {result.max_points} points.** Run status: {result.status}"
             + (f" ({result.detail})" if result.detail else "") + f"; {result.seconds:.0f} s.", ""]
    if notebook:
        lines += [f"Your notebook as the grader ran it: [{notebook}]({notebook}). The grader runs the course's own "
                  "cells with your task cells and answers in them, and re-seeds the random check cases.", ""]
    if result.items:
        lines += ["| | check | points | why |", "|---|---|---|---|"]
        for item in result.items:
            mark = "pass" if item.points == item.max_points else "FAIL"
            why = item.message.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {mark} | {item.kind}: {item.title} | {item.points} / {item.max_points} | {why} |")
        lines.append("")
    if result.experiments:
        lines += ["## Experiments and written answers (graded by your instructor)", ""]
        lines += [f"- {title}: {why}" for title, why in result.experiments.items()]
        lines += [f"- written answers: {sum(result.answers.values())} words"
                  if result.answers else "- written answers: none yet", ""]
    for title, reasons in result.refused.items():
        lines += [f"## The grader did not run your code for {title}", ""] + [f"- {r}" for r in reasons] + [""]
    if result.sandbox:
        lines += ["## Actions the grader's sandbox refused", ""] + [f"- {a}" for a in result.sandbox[:20]] + [""]
    if result.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    return "\n".join(lines)
