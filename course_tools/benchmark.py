"""`python -m course_tools.benchmark` (`make benchmark`): how long the course takes, as one table.

It reports and asserts nothing: each executed notebook's stored full-mode seconds (the
`course_run` metadata `make execute` writes), the site build's seconds (no notebook is executed;
the build goes to a temporary folder, so `_build/html` stays as it is), and the grader's
throughput on honest submissions of two exercises.
"""

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_tools import QUICK_ENV, ROOT, book, provenance
from course_tools.datasets import seed_keras_home
from course_tools.execute import executed_notebooks
from course_tools.grading.answered import solved
from course_tools.grading.batch import GRADE_LIMITS, Batch, default_jobs

#: A notebook's full-mode run should fit in 15 minutes.
BUDGET_SECONDS = 900
#: The exercises whose grading is timed: the concepts one and the NumPy one.
GRADED_EXERCISES = ("ex1_concepts", "ex2_recurrent_neuron")

Row = tuple[str, float | None, str]  # what, seconds (None: not known), note


def notebook_rows(paths: list[Path]) -> list[Row]:
    """One row per notebook with its stored full-mode seconds, then a total row."""
    rows, total, over, unknown = [], 0.0, 0, 0
    for path in paths:
        name = (
            path.relative_to(ROOT).as_posix()
            if path.is_relative_to(ROOT)
            else str(path)
        )
        record = nbformat.read(path, as_version=4).metadata.get(provenance.METADATA_KEY)
        seconds = record.get("seconds") if record else None
        if seconds is None:
            unknown += 1
            why = "no course_run metadata" if record is None else "no seconds stored"
            rows.append((name, None, why))
            continue
        notes = []
        if record.get("mode") != "full":
            notes.append(f"{record.get('mode')} mode, not full")
        if seconds > BUDGET_SECONDS:
            over += 1
            notes.append(f"**over the {BUDGET_SECONDS} s budget**")
        total += seconds
        rows.append((name, seconds, "; ".join(notes)))
    notes = [f"{over} over budget"]
    if unknown:
        notes.append(f"{unknown} without a stored time, not counted")
    rows.append((f"**all {len(paths)} notebooks**", total, ", ".join(notes)))
    return rows


def book_row() -> Row:
    """Time the site build of `make book` (never executes), into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="course-benchmark-book-") as out:
        command = [*book.build_command(), "--path-output", out, "--quiet"]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    note = "`make book`, built into a temporary folder"
    if result.returncode != 0:
        note += f"; **the build failed (exit {result.returncode})**"
    return ("book build, no execution", seconds, note)


def grading_row(
    exercise: str, submissions: int, jobs: int, work: Path
) -> tuple[Row, str]:
    """Grade `submissions` copies of the solved notebook as `make grade` does, timing it all
    (start-up included); return the row and the isolation the grader used."""
    folder, out = work / exercise / "submissions", work / exercise / "graded"
    folder.mkdir(parents=True)
    notebook = solved(exercise)
    for index in range(submissions):
        nbformat.write(notebook, folder / f"student{index + 1:03d}.ipynb")
    what = f"grading {exercise}: {submissions} honest submissions, {jobs} jobs"
    start = time.perf_counter()
    batch = Batch(
        exercise=exercise,
        submissions=folder,
        out=out,
        limits=GRADE_LIMITS,
        jobs=jobs,
        force=True,
        progress=False,
    )
    results = batch.run()
    seconds = time.perf_counter() - start
    full = sum(
        result["status"] == "graded"
        and sum(result["scores"].values()) == sum(result["possible"].values())
        for result in results
    )
    note = (
        f"**{submissions / seconds * 60:.1f} submissions/minute**; "
        f"{full}/{submissions} full marks"
    )
    return (what, seconds, note), batch.isolation.describe()


def table(rows: list[Row]) -> str:
    lines = ["| what | seconds | note |", "|---|---:|---|"]
    for what, seconds, note in rows:
        shown = "–" if seconds is None else f"{seconds:.1f}"
        lines.append(f"| {what} | {shown} | {note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.benchmark", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--skip-grading", action="store_true", help="do not time the grader"
    )
    parser.add_argument(
        "--skip-book", action="store_true", help="do not time the book build"
    )
    parser.add_argument(
        "--submissions",
        type=int,
        default=6,
        metavar="N",
        help="honest submissions graded per exercise (default 6)",
    )
    args = parser.parse_args(argv)
    if args.submissions < 1:
        parser.error("--submissions must be at least 1")
    cores = default_jobs()
    rows = notebook_rows(executed_notebooks())
    isolation = set()
    if not args.skip_book:
        print("building the book ...", file=sys.stderr, flush=True)
        rows.append(book_row())
    if not args.skip_grading:
        # Full fidelity, as `make grade` runs, with datasets from an offline Keras cache.
        os.environ.pop(QUICK_ENV, None)
        work = Path(tempfile.mkdtemp(prefix="course-benchmark-"))
        try:
            for problem in seed_keras_home(work / "keras"):
                print(problem, file=sys.stderr)
            os.environ["KERAS_HOME"] = str(work / "keras")
            for exercise in GRADED_EXERCISES:
                print(f"grading {exercise} ...", file=sys.stderr, flush=True)
                try:
                    row, level = grading_row(exercise, args.submissions, cores, work)
                    rows.append(row)
                    isolation.add(level)
                except ValueError as error:  # exercises/ out of step with solutions/
                    rows.append((f"grading {exercise}", None, f"not run: {error}"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    today = datetime.date.today().isoformat()
    print(f"Measured {today} on {cores} cores (the CPUs this process may use).\n")
    print(table(rows))
    for level in sorted(isolation):
        print(f"\nGrading isolation: {level}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
