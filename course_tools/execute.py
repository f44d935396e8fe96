"""Re-execute notebooks in place, in full mode (quick for a dry run), and stamp their provenance."""

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_tools import EXECUTED_DIRS, QUICK_ENV, ROOT, provenance, tidy
from course_tools.datasets import use_keras_home

#: Persistent cache for full-mode runs, so large archives are extracted once.
KERAS_HOME = ROOT / ".cache" / "keras"

#: Library chatter stays out of the stored outputs, where students would read it in Colab and
#: Jupyter. TensorFlow's C++ log lines (start-up notices, cuInit, grappler) go straight to file
#: descriptor 2: the kernel leaves that uncaptured, so they reach this command's terminal instead.
#: Python warnings still land in the notebook (and the tests reject them), except these, which a
#: library raises about code that is right.
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
IGNORED_WARNINGS = (
    # Keras warns on every fit() of a tf.data.Dataset under fit's own default,
    # shuffle=True; our training datasets are shuffled by the dataset itself.
    "ignore:`shuffle=True` was passed:UserWarning",
)


def execute_notebook(
    path: Path, quick: bool = False, timeout: int | None = None
) -> float:
    """Run `path` top to bottom in a fresh kernel, store its outputs, return the seconds taken."""
    tidy.format_notebook(path)  # the code that runs and is hashed is the formatted code
    notebook = nbformat.read(path, as_version=4)
    if quick:
        os.environ[QUICK_ENV] = "1"
    else:
        os.environ.pop(QUICK_ENV, None)
    os.environ["PYTHONWARNINGS"] = ",".join(IGNORED_WARNINGS)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=KERNEL_ARGUMENTS,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,  # no per-cell timestamps: a re-run is a diff of its outputs only
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    tidy.strip_volatile(notebook)
    provenance.stamp(notebook, mode="quick" if quick else "full", seconds=seconds)
    nbformat.write(notebook, path)
    return seconds


def executed_notebooks() -> list[Path]:
    return sorted(
        path for folder in EXECUTED_DIRS for path in (ROOT / folder).glob("*.ipynb")
    )


def main(paths: list[Path], quick: bool = False) -> int:
    for problem in use_keras_home(KERAS_HOME):
        print(problem)
    targets = paths or executed_notebooks()
    failures = 0
    for path in targets:
        mode = "quick" if quick else "full"
        print(f"executing {path} in {mode} mode ...", flush=True)
        try:
            seconds = execute_notebook(path, quick=quick)
        except Exception as error:  # one broken notebook must not stop the others
            failures += 1
            print(
                f"FAILED {path}: {type(error).__name__}: {str(error).strip().splitlines()[-1:]}"
            )
            continue
        print(f"  done in {seconds:.0f} s")
    return 1 if failures else 0
