"""Grade a Gradescope submission with the course's own grader and write `results/results.json`.

`python -m course_tools.grading.gradescope_grade grade --root /autograder` (what `run_autograder`
runs) finds the one notebook in `submission/`, grades it with `batch.Batch`, the grader of
`make grade`, for the exercise the zip was built for (whatever the notebook's metadata says), and
writes Gradescope's results: a test per question with its failures, and the isolation used.
`fetch` downloads the exercise's datasets (`setup.sh` runs it; grading retries what is missing).
"""

import argparse
import json
import os
import stat
import sys
import tempfile
import time
import traceback
from pathlib import Path

from course_tools.grading import assign, isolation
from course_tools.grading.batch import SECRET_ENV, Batch
from course_tools.grading.runner import Limits

SUBMIT_HINT = "Submit the .ipynb file (in Colab: File → Download → Download .ipynb)."
#: Most files of a submission looked at when searching for its notebook.
MAX_ENTRIES = 10_000


def keras_home(source: Path) -> Path:
    return Path(os.environ.get("KERAS_HOME") or source / "keras")


def fetch(datasets: dict[str, str], home: Path) -> list[str]:
    """Download the datasets missing from `home/datasets`; a message for each that failed."""
    missing = {
        n: u for n, u in datasets.items() if not (home / "datasets" / n).is_file()
    }
    if not missing:
        return []
    import keras  # slow to import: only when something is missing

    problems = []
    for name, url in missing.items():
        try:
            keras.utils.get_file(
                name, url, cache_dir=str(home), cache_subdir="datasets"
            )
        except Exception as error:  # the grader goes on; the notebook says what failed
            problems.append(f"could not download {name} from {url}: {error}")
    return problems


def find_notebooks(folder: Path) -> tuple[list[Path], list[str]]:
    """The notebooks of a submission folder and the names of its other files; hidden entries
    and links are left out (a link could point at the grader's files)."""
    notebooks, others = [], []
    for top, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith((".", "__MACOSX")))
        for name in sorted(files):
            path = Path(top) / name
            if name.startswith(".") or path.is_symlink():
                continue
            if name.lower().endswith(".ipynb"):
                notebooks.append(path)
            else:
                others.append(path.relative_to(folder).as_posix())
            if len(notebooks) + len(others) > MAX_ENTRIES:
                return notebooks, others
    return notebooks, others


def refusal(notebooks: list[Path], others: list[str], folder: Path) -> str | None:
    """Why a submission folder has no single notebook to grade (None when it has one)."""
    if len(notebooks) == 1:
        return None
    if notebooks:
        names = ", ".join(p.relative_to(folder).as_posix() for p in notebooks)
        return f"The submission holds {len(notebooks)} notebooks ({names}): submit one."
    found = f"it holds {', '.join(others[:10])}" if others else "it is empty"
    return (
        f"The submission has no Jupyter notebook (.ipynb file): {found}. {SUBMIT_HINT}"
    )


def copy_regular(source: Path, target: Path) -> None:
    """Copy a file without following a link, as the grader's user (root on Gradescope)."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{source.name} is not a regular file")
        target.write_bytes(handle.read())


def protect(source: Path) -> None:
    """The solution (the hidden tests' source) and the settings readable by the grader only;
    the grading package stays readable, since each sandbox imports its own part of it."""
    for path in (source / "solutions", source / "gradescope.json", keras_home(source)):
        if path.exists() and path.is_relative_to(source):
            path.chmod(0o700 if path.is_dir() else 0o600)


def run_batch(
    exercise: str, limits: dict, notebook: Path | None, hidden: tuple[Path, ...] = ()
) -> dict:
    """The grader of `make grade` on one submission (an empty stand-in file when there is no
    notebook to grade, so that the result still lists every question and its points)."""
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        folder, out = Path(tmp) / "submission", Path(tmp) / "graded"
        folder.mkdir()
        if notebook is None:
            (folder / "no-notebook").write_bytes(b"")
        else:
            copy_regular(notebook, folder / notebook.name)
        batch = Batch(
            exercise=exercise,
            submissions=folder,
            out=out,
            limits=Limits(**limits),
            jobs=1,
            force=True,
            progress=False,
            hidden=hidden,
        )
        [result] = batch.run()
    result["warnings"] = list(dict.fromkeys(batch.warnings))
    return result


def _number(value: float) -> str:
    return f"{value:g}"


def question_output(cases: list[dict], status: str) -> str:
    if status != "graded":
        return "Not graded: see the message at the top."
    lines = []
    for kind, hidden in (("public", False), ("hidden", True)):
        group = [case for case in cases if case["hidden"] == hidden]
        for number, case in enumerate(group, start=1):
            if not case["passed"]:
                lines += [f"{kind} test {number} failed:", case["message"].rstrip(), ""]
    passed = sum(case["passed"] for case in cases)
    return "\n".join([f"{passed} of {len(cases)} tests passed.", "", *lines]).strip()


def overall_output(exercise: str, result: dict, refused: str | None) -> str:
    lines = [
        f"{exercise}, graded by the course's grader (as `make grade` grades): your notebook ran "
        "in a sandbox process, and the tests ran in the grader's own process on the values it "
        "computed, so printed text and changes to its own modules count for nothing.",
        f"Isolation: {isolation.detect().describe()}",
        *[f"WARNING: {warning}" for warning in result.get("warnings", [])],
        "",
    ]
    if refused:
        return "\n".join([*lines, refused])
    lines.append(f"Submission: {result['submission']}")
    if result["status"] == "invalid":
        lines += ["Your submission could not be graded:", *result["messages"]]
        return "\n".join(lines)
    if result["status"] == "grader error":
        lines.append(
            "The grader failed on this submission; details for your instructor:"
        )
    for cell in result.get("cells", []):
        lines += [f"code cell {cell['cell']} ({cell['status']}):", cell["message"], ""]
    return "\n".join([*lines, *result["messages"]]).strip()


def results_json(exercise: str, result: dict, refused: str | None, seconds: float):
    """Gradescope's results: the total, a test per question, what the grader says overall."""
    tests = []
    for name, possible in result["possible"].items():
        score = 0.0 if refused else result["scores"].get(name, 0.0)
        tests.append(
            {
                "name": name,
                "score": score,
                "max_score": possible,
                "status": "passed" if score >= possible else "failed",
                "output": question_output(
                    result["tests"].get(name, []), result["status"]
                ),
                "visibility": "visible",
            }
        )
    return {
        "score": sum(test["score"] for test in tests),
        "execution_time": round(seconds),
        "output": overall_output(exercise, result, refused),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def grade(root: Path) -> dict:
    started = time.monotonic()
    source = root / "source"
    config = json.loads((source / "gradescope.json").read_text(encoding="utf-8"))
    exercise = config["exercise"]
    # The tests come from the zip's own solution, which the submission cannot write.
    os.environ[assign.PRIVATE_ENV] = str(source / "solutions")
    os.environ["KERAS_HOME"] = str(keras_home(source))
    if config.get("secret"):  # else each submission's hidden tests draw afresh
        os.environ[SECRET_ENV] = config["secret"]
    protect(source)
    problems = fetch(config["datasets"], keras_home(source))
    notebooks, others = find_notebooks(root / "submission")
    refused = refusal(notebooks, others, root / "submission")
    notebook = None if refused else notebooks[0]
    # Gradescope's folders stay out of the sandbox's sight, like the grader's own.
    hidden = (root / "submission", root / "results", source)
    result = run_batch(exercise, config["limits"], notebook, hidden)
    result["warnings"] += problems
    return results_json(exercise, result, refused, time.monotonic() - started)


def write_results(root: Path, results: dict) -> Path:
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(results, indent=2), encoding="utf-8")
    os.replace(temporary, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.grading.gradescope_grade"
    )
    parser.add_argument("command", choices=("grade", "fetch"))
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    source = args.root / "source"
    if args.command == "fetch":
        config = json.loads((source / "gradescope.json").read_text(encoding="utf-8"))
        problems = fetch(config["datasets"], keras_home(source))
        print("\n".join(problems) or "datasets ready", file=sys.stderr)
        return 1 if problems else 0
    try:
        results = grade(args.root)
    except Exception:  # a valid results.json all the same, saying what went wrong
        message = traceback.format_exc(limit=8)[-4000:]
        print(message, file=sys.stderr)
        results = {
            "score": 0.0,
            "output": f"The autograder failed; your instructor can see why:\n{message}",
            "output_format": "text",
            "tests": [],
        }
    print(results["output"], file=sys.stderr)
    write_results(args.root, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
