"""The graded kernel: an IPython kernel that serves cells under the sandbox's guards.

Jupyter starts it from the `grader` kernelspec that `utils.grade` writes for each run:
`python -m utils.course.grading.kernel -f {connection_file}`. Without sandbox settings in the environment (the
course's own solution) it is a plain kernel; with them, no file it writes may exceed 2 GB (a copy cannot
fill the disk with one file).
"""
import resource

from utils.course.grading import sandbox


def start(ready=lambda: None) -> None:
    from ipykernel.kernelapp import IPKernelApp  # late: imported under the sandbox's guards

    app = IPKernelApp.instance()
    app.initialize()
    ready()
    app.start()


if __name__ == "__main__":
    settings = sandbox.settings_from_env()
    if settings:
        resource.setrlimit(resource.RLIMIT_FSIZE, (sandbox.MAX_FILE_BYTES, sandbox.MAX_FILE_BYTES))
        sandbox.guard(settings, start)
    else:
        start()
