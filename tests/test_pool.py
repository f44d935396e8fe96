"""The batch's long-lived workers: reused for speed, replaced when they fail, and never a
reason for two submissions to share a sandbox."""

import pytest

from course_tools.grading import batch as batch_module
from course_tools.grading.batch import GRADE_LIMITS, Batch
from course_tools.grading.pool import Pool, WorkerFailed
from grading_helpers import insert_after, solved, total, write

EXERCISE = "ex1_concepts"


def _batch(folder, out, jobs=1):
    return Batch(
        exercise=EXERCISE,
        submissions=folder,
        out=out,
        limits=GRADE_LIMITS,
        jobs=jobs,
        force=True,
        progress=False,
    )


def test_one_worker_grades_many_submissions_each_in_a_sandbox_of_its_own(tmp_path):
    # "a" plants a mark in NumPy and in the builtins of its sandbox; "b", graded next by the
    # same worker, answers q4 right only if its own sandbox has neither mark.
    planter = solved(EXERCISE)
    insert_after(
        planter,
        "q4",
        "import builtins\n\nimport numpy\n\n"
        "numpy.planted_by_a = True\nbuiltins.planted_by_a = True",
    )
    reader = solved(EXERCISE)
    insert_after(
        reader,
        "q4",
        "import builtins\n\nimport numpy\n\n"
        "if hasattr(numpy, 'planted_by_a') or hasattr(builtins, 'planted_by_a'):\n"
        "    q4_units = 0",
    )
    folder = write(
        tmp_path / "in",
        {"a.ipynb": planter, "b.ipynb": reader, "c.ipynb": solved(EXERCISE)},
    )
    pools = []

    class Recorded(Pool):
        def __init__(self):
            super().__init__()
            pools.append(self)

    batch = _batch(folder, tmp_path / "out")
    original = batch_module.Pool
    batch_module.Pool = Recorded
    try:
        results = {result["submission"]: result for result in batch.run()}
    finally:
        batch_module.Pool = original
    full = sum(results["c.ipynb"]["possible"].values())
    assert [total(results[name]) for name in ("a.ipynb", "b.ipynb", "c.ipynb")] == [
        full
    ] * 3
    assert pools[0].started == 1, "one slot, one worker for the three submissions"
    assert pools[0].workers == [], "the batch closes its workers when it is done"


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """A real job of the batch (hidden tests included), captured on its way to a worker."""
    tmp = tmp_path_factory.mktemp("pool-job")
    folder = write(tmp / "in", {"honest.ipynb": solved(EXERCISE)})
    captured = []

    class Capturing(Pool):
        def grade(self, job, timeout):
            captured.append(job)
            return super().grade(job, timeout)

    original = batch_module.Pool
    batch_module.Pool = Capturing
    try:
        batch = _batch(folder, tmp / "out")
        batch.run()
    finally:
        batch_module.Pool = original
    # the batch removed its scratch folder: the job gets one that stays
    return {**captured[0], "scratch": str(tmp)}


def test_a_worker_that_fails_is_replaced_and_the_next_job_is_graded(job):
    pool = Pool()
    try:
        with pytest.raises(WorkerFailed, match="the grader failed"):
            pool.grade({"not": "a job"}, timeout=120)
        result = pool.grade(job, timeout=300)
        assert result["status"] == "graded"
        assert sum(result["scores"].values()) == sum(result["possible"].values())
        assert pool.started == 2
    finally:
        pool.close()


def test_a_worker_past_its_time_is_killed_and_replaced(job):
    pool = Pool()
    try:
        with pytest.raises(WorkerFailed, match="longer than") as caught:
            pool.grade(job, timeout=0.05)
        assert caught.value.timed_out
        late = pool.workers[0]
        late.process.wait(timeout=30)  # killed, not left running
        result = pool.grade(job, timeout=300)
        assert result["status"] == "graded"
        assert pool.started == 2
    finally:
        pool.close()


def test_a_submission_imports_the_stand_in_for_otter(job, tmp_path):
    notebook = solved(EXERCISE)
    insert_after(
        notebook,
        "q4",
        "import otter\n\n"
        "if otter.__version__ == 'stand-in' and 'grader' in repr(grader.check('q1')):\n"
        "    q4_units = 7\nelse:\n    q4_units = 0",
    )
    submission = write(tmp_path, {"s.ipynb": notebook}) / "s.ipynb"
    pool = Pool()
    try:
        result = pool.grade({**job, "submission": str(submission)}, timeout=300)
    finally:
        pool.close()
    assert result["scores"] == result["possible"]
