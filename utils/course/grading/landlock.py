"""Confine a process's file access with Linux Landlock, so that native code (torch.save, pyarrow) obeys too.

Landlock (Linux 5.13+, on by default in current distributions) lets an unprivileged process give up rights
for itself and its future threads and children. After `confine`, the process reads everywhere except the
forbidden trees, and writes, creates, deletes or renames only inside the writable ones. Where the kernel lacks
Landlock, `confine` returns False and the audit hook of `sandbox` is the only guard.
"""
from __future__ import annotations

import ctypes
import os

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same numbers on x86_64 and aarch64
_VERSION, _PATH_BENEATH, _NO_NEW_PRIVS = 1, 1, 38
READ_FILE, READ_DIR, WRITE_FILE = 1 << 2, 1 << 3, 1 << 1
_WRITE_RIGHTS = (WRITE_FILE | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 10 | 1 << 11 | 1 << 12)
_REFER, _TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and 3
_FILE_RIGHTS = READ_FILE | WRITE_FILE | _TRUNCATE


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 where Landlock is unavailable."""
    version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    return max(version, 0)


def _readable_rules(forbidden: list[str], path: str = "/") -> list[str]:
    """The fewest trees that cover everything readable: `path`, or its children where a forbidden tree is inside."""
    if path in forbidden:
        return []
    if not any(f.startswith(path.rstrip("/") + "/") for f in forbidden):
        return [path]
    try:
        children = [entry.path for entry in os.scandir(path)]
    except OSError:
        return []
    return [rule for child in children for rule in _readable_rules(forbidden, child)]


def confine(writable: list[str], forbidden: list[str]) -> bool:
    """Give up, for this process from now on, reading `forbidden` and writing anywhere but `writable`."""
    abi = abi_version()
    if abi < 1:
        return False
    libc = _libc()
    handled = READ_FILE | READ_DIR | _WRITE_RIGHTS | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    attr = ctypes.c_uint64(handled)
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    forbidden = [os.path.realpath(p) for p in forbidden]
    rules = [(p, READ_FILE | READ_DIR) for p in _readable_rules(forbidden)]
    rules += [(os.path.realpath(p), handled) for p in writable] + [("/dev/null", READ_FILE | WRITE_FILE)]
    try:
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            if not os.path.isdir(path):
                access &= _FILE_RIGHTS
            rule = _PathBeneath(access & handled, fd)
            result = libc.syscall(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0)
            os.close(fd)
            if result < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        if libc.prctl(_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.syscall(_RESTRICT_SELF, ruleset, 0):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return True
