"""Run one assembled notebook in the graded kernel, under a time limit and an output cap.

The grader starts this in its own process (`python -m utils.course.grading.execute SPEC.json`) and watches its
memory from outside. Errors do not stop the run (a later task still earns its points); a cell that runs too
long is interrupted and the run goes on; past the notebook's time limit the remaining cells are skipped.
The executed notebook is saved after every cell, so a run that is killed still leaves what it did.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

KERNEL = "grader"


class GradedClient(NotebookClient):
    """nbclient with a notebook deadline, per-cell time limit, an output cap per cell and a save after each cell."""

    def __init__(self, nb, *, deadline: float, cell_timeout: float, max_output: int, save, **kwargs):
        self.deadline, self.cell_limit, self.max_output, self.save = deadline, cell_timeout, max_output, save
        self.sizes: dict[int, int] = {}
        super().__init__(nb, kernel_name=KERNEL, allow_errors=True, interrupt_on_timeout=True,
                         timeout_func=self._timeout, error_on_timeout={
                             "ename": "CellTimeoutError", "traceback": [],
                             "evalue": f"the cell ran past its time limit ({cell_timeout:.0f} s) and was interrupted"},
                         **kwargs)

    def _timeout(self, cell) -> int:
        return max(1, int(min(self.cell_limit, self.deadline - time.monotonic())))

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if time.monotonic() >= self.deadline:
            cell.metadata["grader_skipped"] = "the notebook's time limit was reached"
            return cell
        try:
            result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            cell.metadata["grader_skipped"] = "the kernel died while this cell ran"
            self.save(self.nb)
            raise
        self.save(self.nb)
        return result

    def output(self, outs, msg, display_id, cell_index):
        seen = self.sizes.get(cell_index, 0)
        if seen > self.max_output:
            return None
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str))
        self.sizes[cell_index] = seen + size
        if seen + size <= self.max_output:
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "stream":  # keep the part that fits
            msg = {**msg, "content": {**content, "text": content.get("text", "")[:self.max_output - seen]}}
            super().output(outs, msg, display_id, cell_index)
        outs.append(nbformat.v4.new_output("stream", name="stderr", text=(
            f"\n[the grader kept the first {self.max_output // 1000} kB of this cell's output]\n")))
        return None

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            cell.metadata["grader_timeout"] = timeout
        return await super()._async_handle_timeout(timeout, cell)


def run(spec: dict) -> dict:
    """Execute `spec["notebook"]` into `spec["out"]`; return {"status": ..., "detail": ...}."""
    nb = nbformat.read(spec["notebook"], as_version=4)
    out = Path(spec["out"])

    def save(notebook) -> None:
        nbformat.write(notebook, out)

    start = time.monotonic()
    client = GradedClient(nb, deadline=start + spec["timeout"], cell_timeout=spec["cell_timeout"],
                          max_output=spec["max_output"], save=save, resources={"metadata": {"path": spec["workdir"]}},
                          startup_timeout=120)
    status, detail = "finished", ""
    try:
        client.execute()
    except DeadKernelError as err:
        status, detail = "kernel died", ("the kernel stopped while a cell ran: the code ended the process "
                                         f"(os._exit, quit) or crashed it ({err})")
    except Exception as err:  # a runner failure is reported in the gradebook, never a traceback
        status, detail = "runner error", f"{type(err).__name__}: {err}"
    save(nb)
    if status == "finished" and any("grader_skipped" in c.metadata for c in nb.cells):
        status, detail = "timeout", f"the notebook's time limit ({spec['timeout']:.0f} s) was reached"
    return {"status": status, "detail": detail}


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(spec["result"]).write_text(json.dumps(run(spec)))
