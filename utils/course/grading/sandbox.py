"""The guard a graded kernel runs under: an audit hook (PEP 578) installed before any student code.

While a submission runs, the hook refuses, with `PermissionError` and a line in the run's log (outside the copy):
writing, deleting, renaming or creating anything outside the submission's working copy; reading the course's
solutions, its git history and built book, or the other submissions; starting processes; signalling other
processes; and opening network sockets. An audit hook cannot be removed once installed. Native code (torch.save,
pyarrow) writes files without Python's audit events, so the same file rules are also given to the kernel
(`landlock`), where Linux provides Landlock; the gradebook says which guards were on.
"""
from __future__ import annotations

import json
import os
import sys

from utils.course.grading import landlock

MAX_FILE_BYTES = 2 * 2**30
ENV = "GRADER_SANDBOX"  # JSON: {"workdir": ..., "writable": [...], "unreadable": [...], "log": ...}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Read-only questions that libraries ask on import: torch, which libraries exist; matplotlib, which fonts.
QUERIES = {("ldconfig", "-p"), ("fc-list", "--help"), ("fc-list", "--format=%{file}\\n")}
CHANGED = (0,)  # per event, the positions of the arguments that name what it changes
PATH_EVENTS = {"os.remove": CHANGED, "os.rmdir": CHANGED, "os.mkdir": CHANGED, "os.chmod": CHANGED,
               "os.chown": CHANGED, "os.truncate": CHANGED, "os.utime": CHANGED, "os.rename": (0, 1),
               "os.link": (1,), "os.symlink": (1,), "shutil.rmtree": CHANGED, "shutil.copyfile": (1,),
               "shutil.copytree": (1,), "shutil.move": (0, 1), "os.setxattr": CHANGED, "os.removexattr": CHANGED}
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "socket.connect", "socket.sendto"}


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def add_hook(workdir: str, writable: list[str], unreadable: list[str], log_fd: int) -> None:
    """Refuse, from now on in this process, what a graded notebook may not do (see the module's docstring);
    each refusal is also written to `log_fd`."""
    writable = [os.path.realpath(p) for p in [workdir, *writable]] + ["/dev/null"]
    unreadable = [os.path.realpath(p) for p in unreadable]
    me = os.getpid()

    def refuse(what: str) -> None:
        os.write(log_fd, (what + "\n").encode())
        raise PermissionError(f"grader sandbox: {what}")

    def real(path) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        return os.path.realpath(os.fsdecode(path))

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (list(args) + [None, None])[:3]
            where = real(path)
            if where is None:
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                      (isinstance(flags, int) and mode is None and flags & WRITE_FLAGS)
            if writing and not _inside(where, writable):
                refuse(f"writing {where} (outside your working copy)")
            if _inside(where, unreadable) and not _inside(where, writable):
                refuse(f"reading {where} (the course's solutions and other submissions are off limits)")
        elif event in PATH_EVENTS:
            for position in PATH_EVENTS[event]:
                where = real(args[position]) if position < len(args) else None
                if event == "os.mkdir" and where and os.path.isdir(where):
                    continue  # an existing folder: nothing changes
                if where is not None and not _inside(where, writable):
                    refuse(f"{event} on {where} (outside your working copy)")
        elif event == "subprocess.Popen" and args[1] and len(args[1]) == 2 and \
                (os.path.basename(str(args[1][0])), str(args[1][1])) in QUERIES:
            return
        elif event in PROCESS_EVENTS:
            what = " ".join(map(str, args[1]))[:120] if event == "subprocess.Popen" and args[1] else ""
            refuse(f"{event} {what}".rstrip() + " (graded notebooks may not start processes or open sockets)")
        elif (event == "os.kill" and args[0] != me) or event == "os.killpg":
            refuse(f"{event} {args[0]} (graded notebooks may not signal other processes)")

    sys.addaudithook(hook)


def settings_from_env() -> dict | None:
    """The settings the grader put in `GRADER_SANDBOX` (None: run unguarded, as the course's solution does)."""
    return json.loads(os.environ.pop(ENV)) if ENV in os.environ else None


def guard(settings: dict, start_kernel) -> None:
    """Run `start_kernel(ready)` under the guards: the log opened and Landlock on first, while the process has
    one thread (later threads inherit it); the audit hook when the kernel calls `ready()`, after it has set up
    its own sockets and files."""
    log_fd = os.open(settings["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    landlock.confine([settings["workdir"], *settings["writable"]], settings["unreadable"])
    start_kernel(lambda: add_hook(settings["workdir"], settings["writable"], settings["unreadable"], log_fd))
