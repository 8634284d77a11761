"""Check a student's function against the course's reference on inputs the student did not choose, and state a
lab's outcome as claims that the seed tool can measure.

Every lab calls `check_against` right after a function the student writes: each named case runs through
both implementations, and the first disagreement fails with a message naming the case, both results and
what the case was probing. A lab's outcome cell states `Claim`s (a measured value, a comparison, a threshold
and the margin by which every seed must clear it) and passes them to `report_claims`; `utils.course.seeds`
records their values over seeds so that a test can hold each threshold below what every seed measured.
"""
from __future__ import annotations

import json
import math
import operator
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import torch
from torch.overrides import TorchFunctionMode


def _close(a: Any, b: Any, atol: float) -> bool:
    if isinstance(a, (pd.DataFrame, pd.Series)) or isinstance(b, (pd.DataFrame, pd.Series)):
        return type(a) is type(b) and a.equals(b)  # same index, columns, dtypes and values
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        return a.shape == b.shape and bool(torch.allclose(a, b, atol=atol, rtol=0, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], atol) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_close(x, y, atol) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, abs_tol=atol) or (math.isnan(a) and math.isnan(b))
    return a == b


def _show(x: Any) -> str:
    if isinstance(x, (pd.DataFrame, pd.Series)):
        return "\n" + x.to_string(max_rows=12) + "\n"
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {tuple(x.shape)}: {x.detach().flatten()[:6].tolist()}" if x.numel() > 1 else f"{x.item():.6g}"
    return f"{x:.6g}" if isinstance(x, float) else repr(x)


def check_against(student: Callable, reference: Callable, cases: dict[str, tuple], atol: float = 1e-5,
                  name: str | None = None) -> None:
    """Run `student(*args)` and `reference(*args)` on each named case; raise AssertionError on a mismatch.

    `cases` maps a description of what the case probes (e.g. "a batch of one pair") to its arguments.
    """
    name = name or getattr(student, "__name__", "your function")
    for label, args in cases.items():
        expected = reference(*args)
        try:
            got = student(*args)
        except NotImplementedError:
            raise
        except Exception as err:  # a student's crash is a finding, not a traceback to decode
            raise AssertionError(f"{name} crashed on case '{label}': {type(err).__name__}: {err}") from None
        if not _close(got, expected, atol):
            raise AssertionError(f"{name} is wrong on case '{label}': expected {_show(expected)}, got {_show(got)}.")
    print(f"{name}: agrees with the reference on {len(cases)} cases ({', '.join(cases)})")


def largest_tensor(fn: Callable, *args) -> int:
    """The most elements of any tensor that `fn(*args)` returns or builds through torch calls on the way.

    Checks a memory contract, e.g. that a blockwise loss never builds the full N x N matrix.
    """
    class Watch(TorchFunctionMode):
        biggest = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(t, torch.Tensor):
                    self.biggest = max(self.biggest, t.numel())
            return out

    with Watch() as watch:
        fn(*args)
    return watch.biggest


RECORD_ENV = "VLM_OUTCOME_RECORD"  # set by `utils.course.seeds`: a file that collects each run's claims
SEED_RECORDS = Path(__file__).resolve().parents[1] / "measurements" / "seeds"  # written by `utils.course.seeds`
COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Claim:
    """A lab's asserted outcome: `value` compared (`op`) with `threshold`; every seed of the seed tool's record must
    clear the threshold by `margin` (a threshold at the measured value is a coin, not an outcome)."""
    value: float
    op: str
    threshold: float
    margin: float

    def __post_init__(self) -> None:
        if self.op not in COMPARISONS:
            raise ValueError(f"a claim compares with one of {list(COMPARISONS)}, not {self.op!r}.")

    def holds(self) -> bool:
        return bool(COMPARISONS[self.op](float(self.value), self.threshold))


def report_claims(claims: dict[str, Claim], enforce: bool = True) -> None:
    """Print whether each claim holds (the printed verdicts are what nbval compares), record the measured values
    when the seed tool asks (`RECORD_ENV`; it then judges them itself, so the run goes on), and otherwise fail
    naming the claims that do not hold when `enforce`."""
    for what, claim in claims.items():
        print(f"{what}: {claim.holds()}")
    if os.environ.get(RECORD_ENV):
        with open(os.environ[RECORD_ENV], "a") as out:
            out.write(json.dumps({what: {**asdict(c), "value": float(c.value)} for what, c in claims.items()}) + "\n")
    failed = {what: round(float(c.value), 4) for what, c in claims.items() if not c.holds()}
    if enforce and failed and not os.environ.get(RECORD_ENV):  # the seed tool judges its records itself
        raise AssertionError(f"the lab's outcome does not hold: {failed} (measured values)")


def recorded_seeds(lab: str) -> dict[str, list[float]]:
    """Each claim's measured values on the seeds of lab `lab`'s seed record (e.g. "09_connectors"); empty where the
    record is not at hand (the labs copied out of the repository)."""
    path = SEED_RECORDS / f"{lab}.json"
    if not path.exists():
        return {}
    return {what: claim["values"] for what, claim in json.loads(path.read_text())["claims"].items()}
