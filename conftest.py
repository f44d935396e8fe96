"""Test-session set-up (at the root so that it applies to `pytest notebooks/x.ipynb` too): quick
mode and an offline Keras cache, inherited by every nbval kernel."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from course_tools import EXECUTED_DIRS, QUICK_ENV, ROOT, book
from course_tools.datasets import seed_keras_home


def pytest_configure(config):
    # Set before any kernel starts, so that nbval's kernels inherit both variables.
    os.environ.setdefault(QUICK_ENV, "1")
    keras_home = Path(tempfile.mkdtemp(prefix="course-keras-home-"))
    config._course_keras_home = keras_home
    for problem in seed_keras_home(keras_home):
        print(problem, file=sys.stderr)
    os.environ["KERAS_HOME"] = str(keras_home)


def pytest_collection_modifyitems(session, config, items):
    # TensorFlow writes C++ log lines to stderr when it first touches a device, in whichever
    # cell that happens to be; checked cells compare stdout and displayed data, never stderr.
    for notebook in {
        item.parent for item in items if type(item).__name__ == "IPyNbCell"
    }:
        notebook.skip_compare = (*notebook.skip_compare, "stderr")


def pytest_unconfigure(config):
    keras_home = getattr(config, "_course_keras_home", None)
    if keras_home is not None:
        shutil.rmtree(keras_home, ignore_errors=True)


def executed_notebook_paths() -> list[Path]:
    return sorted(
        path for folder in EXECUTED_DIRS for path in (ROOT / folder).glob("*.ipynb")
    )


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the book once per session as `make book` does; fail on any Sphinx warning."""
    result = book.build(capture=True)
    if result.returncode != 0:
        log = result.stdout + result.stderr
        pytest.fail(
            f"the book build failed (exit {result.returncode}):\n{log[-6000:]}",
            pytrace=False,
        )
    return book.BUILD_DIR / "html"
