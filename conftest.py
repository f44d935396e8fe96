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
from course_tools.datasets import (
    EXTRACTED_ONCE,
    OFFLINE_DATASETS,
    extracted_folder,
    extracted_for_tests,
    seed_keras_home,
)
from course_tools.grading.assign import CACHE_ENV
from course_tools.grading.batch import default_jobs
from course_tools.grading.runner import THREAD_ENV

#: The first process's Keras cache, whose datasets it has checked (see pytest_configure).
CHECKED_DATASETS_ENV = "COURSE_TEST_CHECKED_DATASETS"


def pytest_configure(config):
    # Set before any kernel starts, so that nbval's kernels inherit both variables.
    os.environ.setdefault(QUICK_ENV, "1")
    # The hidden tests' draws, fixed for the suite (a test that needs fresh ones unsets it), so
    # that a run is reproducible; an instructor's own secret is never this one.
    os.environ.setdefault("COURSE_GRADING_SECRET", "the-course-test-suite")
    # `pytest -n N`: each worker's TensorFlow (its kernels, its floor runs, its grading) gets its
    # share of the cores; with two threads each on two cores, each waits on the other's core.
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > 1:
        share = str(max(1, default_jobs() // workers))  # as a grading batch shares them
        for name in THREAD_ENV:
            os.environ.setdefault(name, share)
    # Otter's generation of each exercise, shared by every process of the run (the workers, the
    # grading commands the tests start); set by the first process, inherited by the others.
    if CACHE_ENV not in os.environ:
        os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="course-assign-cache-")
        config._course_assign_cache = Path(os.environ[CACHE_ENV])
    keras_home = Path(tempfile.mkdtemp(prefix="course-keras-home-"))
    config._course_keras_home = keras_home
    # The first process checks the offline archives as it copies them; the pytest-xdist workers
    # it starts copy its checked copies (it removes them when the run ends, after the workers).
    checked = os.environ.get(CHECKED_DATASETS_ENV)
    if checked and Path(checked).is_dir():
        problems = seed_keras_home(keras_home, source=Path(checked), checked=True)
    else:
        problems = seed_keras_home(keras_home)
        os.environ[CHECKED_DATASETS_ENV] = str(keras_home / "datasets")
    for problem in problems:
        print(problem, file=sys.stderr)
    os.environ["KERAS_HOME"] = str(keras_home)
    # IMDB's 100,000 files, extracted once and kept between runs in _build/test-data (`make test`
    # extracts them while it builds the environments), linked into each process's cache, where
    # the notebooks, floor runs, grading sandboxes and hidden tests look before they extract.
    for name in EXTRACTED_ONCE:
        archive = keras_home / "datasets" / name
        if archive.is_file():
            shared = extracted_for_tests(OFFLINE_DATASETS / name)
            extracted_folder(archive).symlink_to(shared, target_is_directory=True)


#: Tests that run on one worker of `pytest -n 2`, the groups in the order they start: a module's
#: fixtures grade batches that several of its tests read (and each batch uses both cores); the
#: isolation tests count what is left on the machine; the site tests share one build of the book
#: in _build/. Grading groups may run side by side (each sandbox has a user id of its own).
SERIAL_GROUPS = {
    "tests/test_exercises.py": "grading",
    "tests/test_grading.py": "grading-cases",
    "tests/test_gradescope.py": "grading-cases",
    "tests/test_private_tests.py": "grading-cases",
    "tests/test_interrupted.py": "grading-cases",
    "tests/test_gamed_checks.py": "grading-cases",
    "tests/test_pool.py": "grading-cases",
    "tests/test_ordinary_user.py": "isolation",
    "tests/test_isolation.py": "isolation",
    "tests/test_site.py": "site",
    "tests/test_browser.py": "site",
}


def work_unit(nodeid: str) -> str:
    """What one worker runs as a whole: a notebook's cells (they share its kernel), a serial
    group, or else a single test."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return path
    return SERIAL_GROUPS.get(path, nodeid)


def pytest_xdist_make_scheduler(config, log):
    # xdist's own `--dist loadgroup` marks do not reach its scheduler under pytest 9.2, whose
    # node ids no longer follow `item._nodeid`; a scheduler that knows our units does.
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


def pytest_collection_modifyitems(session, config, items):
    # TensorFlow writes C++ log lines to stderr when it first touches a device, in whichever
    # cell that happens to be; checked cells compare stdout and displayed data, never stderr.
    for notebook in {
        item.parent for item in items if type(item).__name__ == "IPyNbCell"
    }:
        notebook.skip_compare = (*notebook.skip_compare, "stderr")
    # The long serial groups first, so that the other worker is never left alone at the end.
    order = list(dict.fromkeys(SERIAL_GROUPS.values()))
    items.sort(
        key=lambda item: (
            order.index(g)
            if (g := SERIAL_GROUPS.get(item.nodeid.split("::", 1)[0])) in order
            else len(order)
        )
    )


def pytest_unconfigure(config):
    cache = getattr(config, "_course_assign_cache", None)
    if cache is not None:  # only the process that made it
        shutil.rmtree(cache, ignore_errors=True)
    keras_home = getattr(config, "_course_keras_home", None)
    if keras_home is not None:
        shutil.rmtree(keras_home, ignore_errors=True)


def executed_notebook_paths() -> list[Path]:
    return sorted(
        path for folder in EXECUTED_DIRS for path in (ROOT / folder).glob("*.ipynb")
    )


def student_notebook_paths() -> list[Path]:
    return sorted((ROOT / "exercises").glob("*.ipynb"))


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
