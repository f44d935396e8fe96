"""`python -m course_tools.grading {assign,autograder,grade}`: the instructor's commands."""

import argparse
import sys
from pathlib import Path

from course_tools.grading import assign, batch
from course_tools.grading.runner import GIB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.grading")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "assign",
        help="regenerate exercises/ (student notebooks, public tests) from solutions/",
    )
    generate.add_argument("names", nargs="*", help="exercises (default: all)")
    generate.add_argument(
        "--check",
        action="store_true",
        help="only report exercises that are out of date",
    )

    zips = commands.add_parser(
        "autograder", help="build the Gradescope autograder zip of each exercise"
    )
    zips.add_argument("names", nargs="*", help="exercises (default: all)")

    public = commands.add_parser(
        "check-public",
        help="fail if a hidden test appears in exercises/ or in the given files or folders",
    )
    public.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="more places students can see, e.g. _build/html of `make book SOLUTIONS=0`",
    )

    grade = commands.add_parser("grade", help="grade a folder of submitted notebooks")
    grade.add_argument(
        "submissions", type=Path, help="folder with one file per submission"
    )
    grade.add_argument("--exercise", required=True, help="e.g. ex1_concepts")
    grade.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default: SUBMISSIONS/../graded)",
    )
    grade.add_argument(
        "--jobs", type=int, default=0, help="parallel submissions (default: cores)"
    )
    limits = batch.GRADE_LIMITS
    grade.add_argument(
        "--timeout",
        type=float,
        default=limits.timeout,
        help=f"seconds per notebook (default {limits.timeout:g})",
    )
    grade.add_argument(
        "--cell-timeout",
        type=float,
        default=limits.cell_timeout,
        help=f"seconds per cell (default {limits.cell_timeout:g})",
    )
    grade.add_argument(
        "--call-timeout",
        type=float,
        default=limits.call_timeout,
        help=f"seconds per test request (default {limits.call_timeout:g})",
    )
    grade.add_argument(
        "--memory",
        type=float,
        default=limits.memory / GIB,
        help=f"GiB per notebook (default {limits.memory / GIB:g})",
    )
    grade.add_argument(
        "--force", action="store_true", help="regrade unchanged submissions too"
    )
    grade.add_argument("--quiet", action="store_true", help="no progress bar")

    args = parser.parse_args(argv)
    names = getattr(args, "names", None) or assign.exercise_names()
    if args.command == "assign":
        if args.check:
            problems = [problem for name in names for problem in assign.staleness(name)]
            print("\n".join(problems) or "exercises/ is up to date")
            return 1 if problems else 0
        for name in names:
            for path in assign.write_exercise(name):
                print(f"wrote {path.relative_to(assign.ROOT)}")
        return 0
    if args.command == "check-public":
        found = []
        for name in names:
            # an exercise's own student files (a generic line of one exercise's hidden test
            # may well be public in another's), and everything in the places named
            own = [
                assign.EXERCISES / f"{name}.ipynb",
                assign.EXERCISES / "tests" / name,
            ]
            found += assign.leaks(name, [*own, *args.paths])
        places = ", ".join(map(str, [assign.EXERCISES, *args.paths]))
        print("\n".join(found) or f"no hidden test in {places}")
        return 1 if found else 0
    if args.command == "autograder":
        for name in names:
            folder = assign.autograder(name)
            print(folder / f"{name}-autograder.zip")
        return 0
    if args.command == "grade":
        if args.exercise not in assign.exercise_names():
            parser.error(
                f"unknown exercise {args.exercise!r}: {assign.exercise_names()}"
            )
        if not args.submissions.is_dir():
            grade.error(
                f"{args.submissions} is not a folder: give the folder that holds the"
                " submissions, one file each"
            )
        args.out = args.out or args.submissions.resolve().parent / "graded"
        return batch.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
