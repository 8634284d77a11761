"""Grade a class's lab notebooks: run each in its own sandboxed copy, check it, write a gradebook and feedback.

    python -m utils.grade SUBMISSIONS --lab 01 [--profile offline|t4] [--timeout S] [--jobs J] [--out DIR]

SUBMISSIONS holds one notebook per student (`alice.ipynb`), or one folder per student holding their notebook.
First the course's own solution runs through the same pipeline (unsandboxed, so that it fills the course cache);
its row opens the gradebook and shows the most a submission can earn here. Each submission then runs in a
throwaway working copy that holds a copy of that cache, in a kernel that may write only inside it (`grading.sandbox`),
under a time limit and a memory limit, and is scored by the lab's checks (`grading.score`). Written to DIR:
`gradebook.csv`, and per student `STUDENT/feedback.md` beside `STUDENT/LAB.ipynb`, the notebook as it ran.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
import psutil
from papermill.parameterize import parameterize_notebook
from tqdm.auto import tqdm

from utils import cache
from utils.course.grading import execute, landlock, sandbox
from utils.course.grading.assemble import assemble
from utils.course.grading.lab import ROOT, Lab, load_lab
from utils.course.grading.report import feedback, write_gradebook
from utils.course.grading.score import Result, no_points, score

SOLUTION = "(course solution)"
MAX_NOTEBOOK_BYTES = 50_000_000
REFERENCE_TIMEOUT = 6 * 3600.0
LINK_ABOVE = 2**30  # cache files larger than this are shared read-only with a submission, not copied


@dataclass
class Settings:
    profile: str
    timeout: float
    cell_timeout: float
    memory_gb: float
    seed: int
    out: Path
    submissions: Path
    threads: int
    max_output: int = 200_000
    keep_work: bool = False


def find_submissions(folder: Path, lab: Lab) -> list[tuple[str, Path | None]]:
    """(student, notebook) per entry of `folder`: a file, or a folder holding the student's notebook (the one
    notebook in it, or the one named like the lab; None when that does not single one out)."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":  # hidden files; a zip's resource forks
            continue
        if entry.is_dir():
            notebooks = sorted(entry.rglob("*.ipynb"))
            if len(notebooks) > 1:
                notebooks = [n for n in notebooks if n.name.startswith(lab.number)]
            found.append((entry.name, notebooks[0] if len(notebooks) == 1 else None))
        else:
            found.append((entry.stem, entry))
    return found


def folder_names(students: list[str]) -> list[str]:
    """A distinct, file-system-safe folder name per student."""
    names: list[str] = []
    for student in students:
        base = re.sub(r"[^\w.-]", "_", student).lstrip(".") or "student"
        name, k = base, 1
        while name in names or name == "_solution":
            k += 1
            name = f"{base}_{k}"
        names.append(name)
    return names


def _cache_copy(real: Path, copy: Path) -> None:
    """The course cache for one submission: its files copied (a lab may overwrite an artefact, as Lab 3 saves
    its checkpoint), those over `LINK_ABOVE` bytes linked read-only; artefacts it lacks are built in the copy."""
    for source in (real.rglob("*") if real.is_dir() else []):
        target = copy / source.relative_to(real)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.stat().st_size > LINK_ABOVE:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _environment(lab: Lab, settings: Settings, copy: Path, run: Path, sandboxed: bool) -> dict[str, str]:
    path = os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", VLM_PROFILE=settings.profile, PYTHONPATH=path,
               OMP_NUM_THREADS=str(settings.threads), MKL_NUM_THREADS=str(settings.threads),
               JUPYTER_PATH=str(run / "jupyter"))
    if not sandboxed:
        return env
    hf_home = os.environ.get("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
    env |= {"HOME": str(copy), "TMPDIR": str(copy / "tmp"), "VLM_CACHE": str(copy / "cache"), "HF_HOME": hf_home,
            "MPLCONFIGDIR": str(copy / ".matplotlib"), "IPYTHONDIR": str(copy / ".ipython"),
            "NUMBA_CACHE_DIR": str(copy / ".numba"), "XDG_CACHE_HOME": str(copy / ".cache")}
    if settings.profile == "offline":
        env |= {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env[sandbox.ENV] = json.dumps({
        "workdir": str(copy), "log": str(run / "sandbox.log"),
        "writable": [hf_home] if settings.profile == "t4" else [],  # the Hub's cache takes lock files as it reads
        "unreadable": sorted({str(lab.solution.parent), str(ROOT / "solutions"), str(ROOT / ".git"),
                              str(ROOT / "_build"), str(settings.submissions), str(settings.out)})})
    return env


class _tail:
    """Keeps the last `keep` bytes of a stream, read in a thread (a flood of output costs no memory or disk)."""

    def __init__(self, stream, keep: int = 20_000):
        self.data, self.keep = b"", keep
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self.data = (self.data + chunk)[-self.keep:]

    def text(self) -> str:
        self.thread.join(timeout=5)
        return self.data.decode(errors="replace")


STOP = threading.Event()  # set when the instructor interrupts the run: every submission still running is stopped


def _family(parent: psutil.Process) -> list[psutil.Process]:
    try:
        return [parent] + parent.children(recursive=True)
    except psutil.Error:
        return []


def _kill(family: list[psutil.Process]) -> None:
    for p in family:
        try:
            p.kill()
        except psutil.Error:
            pass


def _watch(process: subprocess.Popen, limit_gb: float, deadline: float) -> tuple[str | None, float]:
    """Wait for `process`, killing it with its children past `limit_gb` of memory, past `deadline` or when the
    run is interrupted; (why it was killed or None, peak GB)."""
    peak, why = 0.0, None
    parent = psutil.Process(process.pid)
    try:
        while process.poll() is None:
            family = _family(parent)
            try:
                rss = sum(p.memory_info().rss for p in family) / 2**30
            except psutil.Error:
                rss = 0.0
            peak = max(peak, rss)
            why = ("out of memory" if rss > limit_gb else "timeout" if time.monotonic() > deadline
                   else "interrupted" if STOP.is_set() else None)
            if why:
                _kill(family)
                break
            time.sleep(0.25)
    except BaseException:  # Ctrl-C in the main thread: leave no kernel behind
        _kill(_family(parent))
        raise
    process.wait()
    return why, round(peak, 2)


def grade_one(lab: Lab, student: str, path: Path | None, settings: Settings, safe: str,
              sandboxed: bool = True) -> Result:
    """Run and score one submission into `settings.out / safe`; never raises for anything the submission does."""
    try:
        return _grade_one(lab, student, path, settings, safe, sandboxed)
    except Exception as err:  # a fault of the grader's own: the row says so, and the class goes on
        result = Result(student, lab.number, "grader error", f"{type(err).__name__}: {err}", seed=settings.seed)
        result.items = no_points(lab, "not graded: the grader failed on this submission")
        return result


def _grade_one(lab: Lab, student: str, path: Path | None, settings: Settings, safe: str, sandboxed: bool) -> Result:
    start = time.monotonic()
    result = Result(student, lab.number, "finished", seed=settings.seed)
    result.guards = ("audit hook + Landlock" if landlock.abi_version() else "audit hook") if sandboxed else "none"
    student_dir = settings.out / safe
    shutil.rmtree(student_dir, ignore_errors=True)
    student_dir.mkdir(parents=True)
    try:
        if path is None or not path.is_file():
            raise ValueError("no single notebook was found for this student")
        if path.is_symlink() and sandboxed:
            raise ValueError("it is a link to another file, not a file")
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 10**6} MB")
        submitted = nbformat.read(path, as_version=4)
        nbformat.validate(submitted)
    except Exception as err:
        result.status, result.detail = "not a notebook", f"{path.name if path else safe}: {err}"
        result.items = no_points(lab, "not run: the submission is not a notebook")
        (student_dir / "feedback.md").write_text(feedback(result, None))
        return result
    work = settings.out / ".work" / safe
    shutil.rmtree(work, ignore_errors=True)
    copy, run = work / "copy", work / "run"
    for folder in (copy / "tmp", run / "jupyter" / "kernels" / execute.KERNEL):
        folder.mkdir(parents=True)
    if sandboxed:
        _cache_copy(cache.CACHE, copy / "cache")
    (run / "jupyter" / "kernels" / execute.KERNEL / "kernel.json").write_text(json.dumps(
        {"argv": [sys.executable, "-m", "utils.course.grading.kernel", "-f", "{connection_file}"],
         "display_name": "graded", "language": "python"}))
    assembly = assemble(lab, submitted, settings.seed)
    assembly.notebook.metadata["papermill"] = {}
    nb = parameterize_notebook(assembly.notebook, {"profile": settings.profile})
    nbformat.write(nb, run / "assembled.ipynb")
    spec = {"notebook": str(run / "assembled.ipynb"), "out": str(run / "executed.ipynb"), "workdir": str(copy),
            "timeout": settings.timeout, "cell_timeout": settings.cell_timeout,
            "max_output": settings.max_output, "result": str(run / "result.json")}
    (run / "spec.json").write_text(json.dumps(spec))
    process = subprocess.Popen([sys.executable, "-m", "utils.course.grading.execute", str(run / "spec.json")],
                               cwd=copy, env=_environment(lab, settings, copy, run, sandboxed),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    log = _tail(process.stderr)
    killed, result.peak_gb = _watch(process, settings.memory_gb, time.monotonic() + settings.timeout + 120)
    ran = json.loads((run / "result.json").read_text()) if (run / "result.json").exists() else {}
    result.status, result.detail = ran.get("status", "kernel died"), ran.get("detail", "")
    if result.status == "runner error":
        result.detail += " | the kernel's last words: " + log.text()[-1500:]
    if killed:
        result.status = killed
        result.detail = {"out of memory": f"it used more than {settings.memory_gb:g} GB of memory and was stopped",
                         "timeout": f"it ran past {settings.timeout:.0f} s and was stopped",
                         "interrupted": "the instructor interrupted the run"}[killed]
    executed = nbformat.read(run / "executed.ipynb", as_version=4) if (run / "executed.ipynb").exists() else nb
    notebook_name = f"{lab.name}.ipynb"
    nbformat.write(executed, student_dir / notebook_name)
    score(lab, assembly, executed, result)
    result.cells_s = round(sum(cell_seconds(executed)), 1)
    if (run / "sandbox.log").exists():
        result.sandbox = (run / "sandbox.log").read_text(errors="replace").splitlines()[:100]
    if not settings.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    result.seconds = round(time.monotonic() - start, 1)
    (student_dir / "feedback.md").write_text(feedback(result, notebook_name))
    return result


def cell_seconds(nb: nbformat.NotebookNode) -> list[float]:
    """How long each executed code cell of `nb` took, from the timings nbclient records."""
    spans = []
    for cell in nb.cells:
        timing = cell.metadata.get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            began, ended = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                            for k in ("iopub.execute_input", "shell.execute_reply"))
            spans.append((ended - began).total_seconds())
    return spans


def grade(folder: Path, lab_number: str, profile: str = "offline", timeout: float = 900,
          cell_timeout: float | None = None, jobs: int = 1, memory_gb: float = 6.0, seed: int | None = None,
          out: Path | None = None, keep_work: bool = False, root: Path = ROOT) -> list[Result]:
    """Grade every submission in `folder` for lab `lab_number`; return the rows written to `out/gradebook.csv`."""
    folder = folder.resolve()
    if not folder.is_dir():
        raise SystemExit(f"{folder} is not a folder: give the folder that holds the students' notebooks.")
    lab = load_lab(lab_number, root)
    out = (out or folder.parent / f"{folder.name}_graded_lab{lab.number}").resolve()
    if out == folder or folder in out.parents:
        raise SystemExit(f"--out {out} is inside the submissions folder; choose a folder outside it.")
    out.mkdir(parents=True, exist_ok=True)
    seed = random.SystemRandom().randrange(1, 2**31) if seed is None else seed
    settings = Settings(profile, timeout, cell_timeout or timeout, memory_gb, seed, out, folder,
                        threads=max(1, (os.cpu_count() or 1) // max(jobs, 1)), keep_work=keep_work)
    entries = find_submissions(folder, lab)
    names = folder_names([student for student, _ in entries])
    if not entries:
        raise SystemExit(f"{folder} holds no submissions (one notebook per student, or a folder per student).")
    print(f"lab {lab.number} ({lab.name}), profile {profile}, {len(entries)} submissions, seed {seed}, "
          f"guards: {'audit hook + Landlock' if landlock.abi_version() else 'audit hook only (no Landlock here)'}")
    limits = settings.timeout, settings.cell_timeout
    settings.timeout = settings.cell_timeout = REFERENCE_TIMEOUT  # a cold cache: the solution builds artefacts
    reference = grade_one(lab, SOLUTION, lab.solution, settings, "_solution", sandboxed=False)
    settings.timeout, settings.cell_timeout = limits
    print(f"the course's solution: {reference.points} / {reference.max_points} points in {reference.seconds:.0f} s"
          + ("" if reference.points == reference.max_points else
             " -- below full marks: look at its feedback before trusting the gradebook"))
    if cell_timeout is None:  # a cell may take five times the solution's slowest, and at least a minute
        settings.cell_timeout = min(timeout, max(60.0, 5 * max(cell_seconds(
            nbformat.read(out / "_solution" / f"{lab.name}.ipynb", as_version=4)), default=0.0)))
    try:
        rows = [reference] + _grade_all(lab, entries, names, settings, reference, jobs)
    finally:
        shutil.rmtree(out / ".work", ignore_errors=True)
    write_gradebook(rows, out / "gradebook.csv")
    print(f"gradebook: {out / 'gradebook.csv'}; feedback: {out}/STUDENT/feedback.md")
    return rows


def _grade_all(lab: Lab, entries: list[tuple[str, Path | None]], names: list[str], settings: Settings,
               reference: Result, jobs: int) -> list[Result]:
    """Grade the submissions, `jobs` at a time, rewriting the gradebook as each row comes in; Ctrl-C stops the
    submissions that are running (their rows say so) and keeps the rows graded so far."""
    results: list[Result | None] = [None] * len(entries)
    lock = threading.Lock()
    gradebook = settings.out / "gradebook.csv"

    def work(k: int) -> None:
        results[k] = grade_one(lab, entries[k][0], entries[k][1], settings, names[k])
        with lock:
            bar.update()
            write_gradebook([reference] + [r for r in results if r is not None], gradebook)

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool, tqdm(total=len(entries), desc="grading") as bar:
        try:
            list(pool.map(work, range(len(entries))))
        except KeyboardInterrupt:
            STOP.set()
            pool.shutdown(cancel_futures=True)
            raise SystemExit(f"interrupted: {gradebook} holds the rows graded so far") from None
    return [r for r in results if r is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("submissions", type=Path, help="folder with one notebook (or one folder) per student")
    parser.add_argument("--lab", required=True, help="the lab's number, e.g. 01")
    parser.add_argument("--profile", choices=["offline", "t4"], default="offline")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per notebook (default 900)")
    parser.add_argument("--cell-timeout", type=float, help="seconds per cell (default: 5x the solution's slowest)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions run at once (default 1)")
    parser.add_argument("--memory", type=float, default=6.0, help="GB of memory per submission (default 6)")
    parser.add_argument("--seed", type=int, help="seed of the random check cases (default: a fresh one, printed)")
    parser.add_argument("--out", type=Path, help="where the gradebook goes (default: beside SUBMISSIONS)")
    parser.add_argument("--keep-work", action="store_true", help="keep each submission's working copy")
    args = parser.parse_args(argv)
    grade(args.submissions, args.lab, args.profile, args.timeout, args.cell_timeout, args.jobs, args.memory,
          args.seed, args.out, args.keep_work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
