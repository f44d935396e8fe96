"""Interrupted and concurrent batches: Ctrl-C keeps every finished result and leaves no process
or scratch folder behind; a run killed with SIGKILL leaves a scratch folder that the next run
sweeps away; two runs at once on the same submissions both grade honestly."""

import contextlib
import csv
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from course_tools import ROOT
from course_tools.grading import batch as batch_module
from grading_helpers import answer, grade, solved, student, total, write

EXERCISE = "ex1_concepts"
Q1 = 'q1_kinds = ["seq2seq", "seq2vec", "vec2seq", "encoder-decoder"] * 2'


def rows(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as table:
        return {row["submission"]: row["total"] for row in csv.DictReader(table)}


def test_ctrl_c_keeps_finished_results_and_leaves_nothing(tmp_path):
    quick, stuck = student(EXERCISE), student(EXERCISE)
    answer(quick, "q1", Q1)
    answer(stuck, "q1", "while True:\n    pass")
    folder = write(tmp_path / "in", {"a_quick.ipynb": quick, "b_stuck.ipynb": stuck})
    out = tmp_path / "out"
    command = [
        *(sys.executable, "-m", "course_tools.grading", "grade", str(folder)),
        *("--exercise", EXERCISE, "--out", str(out), "--quiet", "--jobs", "2"),
    ]
    run = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # as a background job of a script starts it: the grader must not rely on Python's
        # own SIGINT handler, which is not installed when SIGINT is ignored at start
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 240
    while "a_quick.ipynb" not in rows(out / "grades.csv"):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.5)
    started = psutil.Process(run.pid).children(recursive=True)
    scratch = list(Path(tempfile.gettempdir()).glob(f"grading-run-{run.pid}-*"))
    assert len(scratch) == 1 and started  # the stuck submission is still running
    run.send_signal(signal.SIGINT)
    _, said = run.communicate(timeout=60)
    assert run.returncode == 130, said
    assert rows(out / "grades.csv") == {"a_quick.ipynb": "2"}
    assert "interrupted: 1 submission(s) not graded" in said.decode()
    time.sleep(1)
    alive = []
    for process in started:
        with contextlib.suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.cmdline())
    assert alive == [] and not scratch[0].exists()


def test_the_next_run_sweeps_a_killed_runs_scratch_folder(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    left = tmp_path / f"{batch_module.RUN_PREFIX}{dead}-abc"
    (left / "judge-x").mkdir(parents=True)
    mine = tmp_path / f"{batch_module.RUN_PREFIX}{os.getpid()}-abc"
    mine.mkdir()
    assert batch_module.sweep_dead_runs(tmp_path) == [left]
    assert not left.exists() and mine.exists()


def test_two_runs_at_once_on_the_same_submissions_both_grade_honestly(tmp_path):
    folder = write(tmp_path / "in", {"solved.ipynb": solved(EXERCISE)})
    results = {}

    def run(name):
        _, results[name] = grade(EXERCISE, folder, tmp_path / name)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in ("one", "two"):
        result = results[name]["solved.ipynb"]
        assert result["cells"] == [] and total(result) == sum(
            result["possible"].values()
        )
