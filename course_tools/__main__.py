"""Command line for maintainers: `python -m course_tools COMMAND` (execute, links, book,
seed-cache, strip-metadata, new)."""

import argparse
import sys
from pathlib import Path

from course_tools import ROOT, badges, book, execute, links, new, tidy
from course_tools.datasets import seed_keras_home


def every_notebook() -> list[Path]:
    """The lecture notebooks and solutions (executed), then the student exercises."""
    return execute.executed_notebooks() + sorted((ROOT / "exercises").glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "execute", help="re-run notebooks in place and stamp their provenance"
    )
    run.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="notebooks to run (default: notebooks/ and solutions/)",
    )
    run.add_argument(
        "--quick",
        action="store_true",
        help="quick mode, for a dry run (the tests reject its outputs)",
    )

    sync = commands.add_parser(
        "links",
        aliases=["badges"],
        help="point every notebook's Colab badge at its repository path and its links to"
        " the course's pages at the published site",
    )
    sync.add_argument(
        "--check", action="store_true", help="only report, change nothing"
    )

    site = commands.add_parser("book", help="build the website into _build/html")
    site.add_argument(
        "--without-solutions", action="store_true", help="leave the solutions out"
    )

    seed = commands.add_parser(
        "seed-cache", help="copy the offline datasets into KERAS_HOME/datasets"
    )
    seed.add_argument("keras_home", type=Path)

    strip = commands.add_parser(
        "strip-metadata",
        help="remove per-cell execution timestamps and other volatile notebook metadata",
    )
    strip.add_argument(
        "paths", nargs="*", type=Path, help="notebooks (default: every notebook)"
    )

    begin = commands.add_parser(
        "new",
        help="start notebooks/NN_topic.ipynb or solutions/exN_topic.ipynb from templates/",
    )
    begin.add_argument(
        "path", help="notebooks/NN_topic.ipynb or solutions/exN_topic.ipynb"
    )

    args = parser.parse_args(argv)
    if args.command == "new":
        try:
            path = new.start(Path(args.path).as_posix())
        except new.NewError as error:
            print(f"new: {error}")
            return 1
        print(f"started {path.relative_to(ROOT)} and listed it in _toc.yml")
        return 0
    if args.command == "strip-metadata":
        paths = args.paths or every_notebook()
        for path in tidy.strip_files(paths):
            print(f"stripped {path}")
        return 0
    if args.command == "execute":
        return execute.main(args.paths, quick=args.quick)
    if args.command in ("links", "badges"):
        paths = every_notebook()
        if args.check:
            found = [badges.badge_problem(path) for path in paths]
            found = [p for p in found if p] + [
                problem for path in paths for problem in links.link_problems(path)
            ]
            print("\n".join(found) or "every badge and link points where it should")
            return 1 if found else 0
        for path in paths:
            if badges.sync_badge(path) | links.sync_links(path):
                print(f"updated {path.relative_to(ROOT)}")
        return 0
    if args.command == "book":
        result = book.build(solutions=not args.without_solutions)
        if result.returncode == 0:
            print("The site is in _build/html/index.html. Serve it with: make serve")
        return result.returncode
    if args.command == "seed-cache":
        problems = seed_keras_home(args.keras_home)
        print("\n".join(problems) or f"seeded {args.keras_home / 'datasets'}")
        return 1 if problems else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
