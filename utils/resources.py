"""What a lab cost: wall time since it started and the peak memory of its process (CPU RAM, and GPU if used)."""
from __future__ import annotations

import resource
import sys
import time

import torch


def peak_ram_gib() -> float:
    """The largest resident set this process has had, in GiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** (30 if sys.platform == "darwin" else 20)


class LabClock:
    """Started in a lab's first cell; `report()` prints the wall time and peak memory since then."""

    def __init__(self):
        self.start = time.perf_counter()

    def report(self) -> dict[str, float]:
        cost = {"wall s": time.perf_counter() - self.start, "peak RAM GiB": peak_ram_gib()}
        if torch.cuda.is_available():
            cost["peak GPU GiB"] = torch.cuda.max_memory_allocated() / 2 ** 30
        print(", ".join(f"{name} {value:.1f}" for name, value in cost.items()))
        return cost
