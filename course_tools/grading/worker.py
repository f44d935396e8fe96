"""Grade submissions: `python -m course_tools.grading.worker < JOBS > RESULTS`, one JSON line each.

The batch command keeps one worker per job slot (see `pool`) and hands it one job at a time
(hidden tests included) on its standard input, so that no test is ever written to disk; the
worker answers each with one line of JSON. Every submission still runs in a sandbox process of
its own; keeping the worker saves starting Python and importing Keras for every submission. The
worker is trusted: it reads the submission as data, runs its code cells in a sandbox process (see
`runner`, `isolation`), then runs the public and hidden tests in itself (see `judge`) and writes
the scores to its standard output.
"""

import gc
import importlib
import json
import os
import re
import stat
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import nbformat

from course_tools.grading import isolation
from course_tools.grading import result as results
from course_tools.grading.judge import Judge
from course_tools.grading.runner import (
    CellRecord,
    Limits,
    Session,
    prepare_workdir,
    remove_workdir,
    sandbox_env,
    thread_env,
)

MAX_SUBMISSION_BYTES = 50 * 1024 * 1024


class InvalidSubmission(Exception):
    pass


def read_code_cells(path: Path) -> list[str]:
    """The code cells of a submitted notebook, or InvalidSubmission saying why there are none."""
    if path.suffix.lower() != ".ipynb":
        raise InvalidSubmission(
            f"{path.name} is not a Jupyter notebook: submit the .ipynb file "
            "(in Colab: File → Download → Download .ipynb)"
        )
    raw = read_regular_file(path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError as error:
        raise InvalidSubmission(
            f"{path.name} is not a valid notebook (its JSON is nested too deeply)"
        ) from error
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidSubmission(
            f"{path.name} is not a valid notebook (not JSON: {error}); download it again "
            "from Jupyter or Colab instead of editing or renaming it by hand"
        ) from error
    try:
        notebook = nbformat.from_dict(data)
        if notebook.get("nbformat", 0) < 4:
            notebook = nbformat.convert(notebook, 4)
        sources = [
            cell.source if isinstance(cell.source, str) else "".join(cell.source)
            for cell in notebook.cells
            if cell.get("cell_type") == "code"
        ]
    except Exception as error:
        raise InvalidSubmission(
            f"{path.name} is not a valid notebook ({error})"
        ) from error
    if not all(isinstance(source, str) for source in sources):
        raise InvalidSubmission(f"{path.name} has code cells without source text")
    return sources


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file, never following a link (a link is refused, not read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise InvalidSubmission(
            f"{path.name} cannot be read ({error.strerror})"
        ) from error
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InvalidSubmission(f"{path.name} is not a regular file")
        if info.st_size > MAX_SUBMISSION_BYTES:
            raise InvalidSubmission(
                f"{path.name} is larger than {MAX_SUBMISSION_BYTES >> 20} MiB"
            )
        return handle.read(MAX_SUBMISSION_BYTES + 1)


def _preload(questions: list[dict]) -> None:
    bodies = "\n".join(
        case["body"] for question in questions for case in question["cases"]
    )
    for module in sorted(set(re.findall(r"^>>> import (\w+)", bodies, re.MULTILINE))):
        try:
            importlib.import_module(module)
        except Exception:  # the test itself will report it
            pass


def grade(job: dict) -> results.Result:
    path = Path(job["submission"])
    questions = job["questions"]
    result = results.empty(path.name, questions)
    try:
        sources = read_code_cells(path)
    except InvalidSubmission as error:
        return results.invalid(path.name, questions, str(error))

    limits = Limits(**job.get("limits", {}))
    level = (
        isolation.Isolation(**job["isolation"])
        if "isolation" in job
        else isolation.detect()
    )
    uid = isolation.worker_uid(level)
    scratch = job.get("scratch")  # the batch's folder for this run, removed with it
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-", dir=scratch))
    private = Path(tempfile.mkdtemp(prefix="judge-", dir=scratch))
    confinement = isolation.Confinement(
        level,
        workdir,
        private / "stage",
        uid,
        [Path(folder) for folder in job.get("hidden", [])],
    )
    session = None
    try:
        exercise = job["exercise"]
        (workdir / f"{exercise}.ipynb").write_bytes(read_regular_file(path))
        tests_dir = workdir / "tests" / exercise
        tests_dir.mkdir(parents=True)
        for name, text in job.get("public_tests", {}).items():
            (tests_dir / name).write_text(text, encoding="utf-8")
        keras_home = workdir / ".keras" / "datasets"
        keras_home.mkdir(parents=True)
        for dataset in job.get("datasets", []):
            source = Path(dataset)
            if source.is_file():
                (keras_home / source.name).write_bytes(source.read_bytes())
        # Without namespaces the submission extracts its own copy, as a student's does.
        if level.namespaces:
            for folder in map(Path, job.get("extracted", [])):
                if folder.is_dir():
                    mount_point = keras_home / folder.name
                    mount_point.mkdir()
                    confinement.shared.append((folder, mount_point))
        prepare_workdir(workdir, uid)

        # The tests' imports (Keras takes seconds) load while the notebook runs.
        threading.Thread(target=_preload, args=(questions,), daemon=True).start()
        cells = [CellRecord(i + 1, source) for i, source in enumerate(sources)]
        extra = {isolation.TOKEN_ENV: confinement.token}
        if job.get("threads"):
            extra.update(thread_env(job["threads"]))
        env = sandbox_env(workdir, extra)
        session = Session(cells, workdir, env, limits, confinement)
        started = time.monotonic()
        session.run_all()
        result["seconds_running"] = round(time.monotonic() - started, 1)
        result["cells"] = [
            {"cell": cell.index, "status": cell.status, "message": cell.message}
            for cell in cells
            if cell.status != "ok"
        ]
        result["messages"].extend(session.events)

        judge = Judge(session, private)
        for question in questions:
            outcomes = []
            for case in question["cases"]:
                passed, message = judge.run_case(case["body"], case["hidden"])
                outcomes.append(
                    {
                        "hidden": case["hidden"],
                        "points": case["points"],
                        "passed": passed,
                        "message": message,
                    }
                )
            results.record(result, question, outcomes)
    except Exception:  # a bug of ours must not cost the student: say so, score nothing
        result["status"] = "grader error"
        result["messages"].append(traceback.format_exc(limit=5)[-3000:])
    finally:
        if session is not None:
            session.close()
        confinement.remove_leftovers()
        remove_workdir(workdir)
        remove_workdir(private)
    return result


def reset() -> None:
    """Forget what the last submission's tests left behind (Keras models, graphs, memory)."""
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            keras.backend.clear_session()
        except Exception:  # never let cleaning up cost the next submission its grade
            pass
    gc.collect()


def main() -> int:
    # Results go to the real standard output, one line each; whatever else prints goes to stderr.
    result_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        result = results.capped(grade(json.loads(line)))
        result_out.write(json.dumps(result) + "\n")
        result_out.flush()
        reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
