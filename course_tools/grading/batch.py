"""Grade a folder of submissions: `python -m course_tools.grading grade FOLDER --exercise NAME`.

Each file of the folder is one submission, graded in its own worker process (see `worker`) under
a time and a memory limit, several at once up to the number of cores. The results go to
`OUT/grades.csv` (a row per submission, a column per question, the total) and to one feedback
file per submission in `OUT/feedback/`, each written atomically. A re-run grades only the
submissions that are new or changed since the last run with the same tests and limits.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
from tqdm import tqdm

from course_tools import ROOT
from course_tools.datasets import extract_once
from course_tools.grading import assign, isolation
from course_tools.grading.otter_format import load_questions, public_tests
from course_tools.grading.pool import Pool, WorkerFailed
from course_tools.grading.report import (
    atomic_write,
    output_name,
    write_feedback,
    write_grades,
)
from course_tools.grading.result import failed, invalid
from course_tools.grading.runner import GIB, Limits
from course_tools.grading.worker import InvalidSubmission, read_regular_file

#: The instructor's secret that seeds what hidden tests draw (read by the tests themselves, in
#: the grader's process; never passed to a sandbox).
SECRET_ENV = "COURSE_GRADING_SECRET"
#: `make grade`'s limits (the defaults of `python -m course_tools.grading grade`, also used by
#: the Gradescope zip and `make benchmark`).
GRADE_LIMITS = Limits(timeout=900, cell_timeout=600, call_timeout=120, memory=3 * GIB)
GRADING_SOURCES = (
    "batch.py",
    "result.py",
    "report.py",
    "otter_format.py",
    "worker.py",
    "runner.py",
    "judge.py",
    "sandbox.py",
    "protocol.py",
    "isolation.py",
    "confine.py",
)


def integrity(exercise: str) -> dict[str, str]:
    """Digests of the files grading trusts: the solution (the tests' source) and the grader."""
    paths = [assign.solutions_dir() / f"{exercise}.ipynb"]
    paths += [Path(__file__).parent / name for name in (*GRADING_SOURCES, "assign.py")]
    return {
        str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path): _digest(
            path.read_bytes()
        )
        for path in paths
        if path.exists()
    }


def solution_code(exercise: str) -> str:
    """The code cells of the exercise's solution notebook (its tests included), as one text."""
    notebook = nbformat.read(assign.solutions_dir() / f"{exercise}.ipynb", as_version=4)
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


def cached_datasets(exercise: str) -> list[Path]:
    """The files the solution loads with `keras.utils.get_file`, from this machine's Keras cache.

    Each sandbox gets a copy, so that submissions load their data offline, as the solution does.
    """
    names = set(re.findall(r'get_file\(\s*"([\w.-]+)"', solution_code(exercise)))
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return sorted(
        home / "datasets" / name
        for name in names
        if (home / "datasets" / name).is_file()
    )


def extract_solution_archives(exercise: str, datasets: list[Path]) -> list[Path]:
    """Extract, once and before any worker starts, the archives the solution opens with
    `get_file(..., extract=True)`; return the extracted folders.

    Keras 3 extracts again at every such call. The tests look for an extracted copy first, so
    they find this one, and parallel workers never extract into the same folder at once. Under
    namespaces every sandbox sees these folders read-only in its own Keras cache (IMDB's
    100,000 files are then neither extracted nor counted against its disk limit per submission).
    """
    names = set(
        re.findall(
            r'get_file\(\s*"([\w.-]+)",[^()]*?extract=True', solution_code(exercise)
        )
    )
    folders = []
    for path in datasets:
        if path.name not in names:
            continue
        folders.append(extract_once(path))
    return folders


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grading_key(questions: list[dict], limits: Limits, exercise: str) -> str:
    """Changes when the tests, the limits or the grader change: then everything is regraded."""
    digest = hashlib.sha256(
        json.dumps([exercise, questions, dataclasses.asdict(limits)]).encode()
    )
    digest.update(os.environ.get("COURSE_QUICK", "").encode())
    # another secret draws other hidden samples: regrade (only a digest of it is stored)
    digest.update(hashlib.sha256(os.environ.get(SECRET_ENV, "").encode()).digest())
    for name in GRADING_SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def submissions_in(folder: Path) -> list[Path]:
    """Every entry of the folder but hidden ones: files, and links, folders or FIFOs too, which
    get a row that says why they were not graded instead of vanishing from the grades."""
    return sorted(path for path in folder.iterdir() if not path.name.startswith("."))


def refusal(path: Path) -> str | None:
    """Why an entry of the submissions folder is not a notebook file to grade, if it is not."""
    try:
        info = path.lstat()
    except OSError as error:
        return f"{path.name} cannot be read ({error.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return (
            f"{path.name} is a link, not a file: hand in the notebook file itself "
            "(links are never followed)"
        )
    if stat.S_ISDIR(info.st_mode):
        return f"{path.name} is a folder, not a notebook file"
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file"
    return None


#: Name of a run's scratch folder in the temp folder: the prefix, the batch's process id, a
#: random part.
RUN_PREFIX = "grading-run-"


def sweep_dead_runs(temp: Path | None = None) -> list[Path]:
    """Remove the scratch folders of runs whose batch is gone (a run killed with SIGKILL
    cannot remove its own); a live run's folder is left alone."""
    removed = []
    for folder in Path(temp or tempfile.gettempdir()).glob(f"{RUN_PREFIX}*-*"):
        try:
            pid = int(folder.name.removeprefix(RUN_PREFIX).split("-", 1)[0])
            if folder.lstat().st_uid != os.geteuid() or pid == os.getpid():
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except (ValueError, OSError):  # not ours, or a live process
            continue
    return removed


@contextlib.contextmanager
def exclusive(out: Path):
    """Hold OUT for this run: a second run on the same results folder is refused."""
    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SystemExit(
            f"another grading run is writing to {out}; wait for it to finish "
            "(or give this one another --out)"
        ) from None
    try:
        yield
    finally:
        handle.close()


@dataclasses.dataclass
class Batch:
    exercise: str
    submissions: Path
    out: Path
    limits: Limits
    jobs: int
    force: bool = False
    progress: bool = True
    datasets: tuple[str, ...] = ()
    #: More folders no sandbox may see (besides the submissions, the results, the solutions).
    hidden: tuple[Path, ...] = ()
    graded_now: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def run(self) -> list[dict]:
        with exclusive(self.out):
            sweep_dead_runs()
            # The workers' sandbox and judge folders live in this run's own folder, so that
            # one removal takes everything away, also when the run is interrupted.
            self.scratch = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-"))
            self.scratch.chmod(0o711)  # a sandbox's own user id passes to its folder
            try:
                return self._run()
            finally:
                shutil.rmtree(self.scratch, ignore_errors=True)

    def _run(self) -> list[dict]:
        questions = load_questions(*assign.grading_tests(self.exercise))
        datasets = list(self.datasets) or cached_datasets(self.exercise)
        extracted = extract_solution_archives(self.exercise, datasets)
        guarded = integrity(self.exercise)
        key = grading_key(questions, self.limits, self.exercise)
        level = isolation.detect()
        self.isolation = level
        self.warnings.extend(level.warnings())
        if self.progress:
            print(f"isolation: {level.describe()}", file=sys.stderr)
            for warning in level.warnings():
                print(f"WARNING: {warning}", file=sys.stderr)
        files = submissions_in(self.submissions)
        cache = self.out / ".cache"
        results: dict[str, dict] = {}
        todo = []
        base_job = {
            "exercise": self.exercise,
            "questions": questions,
            "public_tests": public_tests(questions),
            "limits": dataclasses.asdict(self.limits),
            "datasets": [str(path) for path in datasets],
            "extracted": [str(path) for path in extracted],
            "isolation": dataclasses.asdict(level),
            # each job's share of the cores, for its sandbox's TensorFlow and BLAS threads
            "threads": max(1, default_jobs() // self.jobs),
            "scratch": str(self.scratch),
            # folders a sandbox must not see: other people's work, results, solutions
            "hidden": [
                str(folder.resolve())
                for folder in (
                    self.submissions,
                    self.out,
                    assign.solutions_dir(),
                    *self.hidden,
                )
            ],
        }
        for path in files:
            why = refusal(path)
            digest = None
            if why is None:
                try:
                    digest = _digest(read_regular_file(path))
                except InvalidSubmission as error:
                    why = str(error)
            if why is not None:
                results[path.name] = invalid(path.name, base_job["questions"], why)
                continue
            record = cache / f"{output_name(path.name)}.json"
            if not self.force and record.exists():
                try:
                    stored = json.loads(record.read_text(encoding="utf-8"))
                except ValueError:
                    stored = {}
                if stored.get("digest") == digest and stored.get("key") == key:
                    results[path.name] = stored["result"]
                    continue
            todo.append((path, digest))
        bar = tqdm(
            total=len(files),
            initial=len(files) - len(todo),
            desc=f"grading {self.exercise}",
            unit="notebook",
            disable=not self.progress,
            file=sys.stderr,
        )
        self._pool = Pool()
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        try:
            with bar:
                futures = {
                    pool.submit(self._grade_one, path, base_job): (path, digest)
                    for path, digest in todo
                }
                for future in as_completed(futures):
                    path, digest = futures[future]
                    result, cacheable = future.result()
                    results[path.name] = result
                    write_feedback(self.out, self.exercise, result)
                    if cacheable:
                        record = {"digest": digest, "key": key, "result": result}
                        atomic_write(
                            cache / f"{output_name(path.name)}.json", json.dumps(record)
                        )
                    write_grades(self.out, questions, results)
                    bar.update(1)
        except KeyboardInterrupt:
            # Finished results are on disk already; end the running workers and say so.
            self.interrupted = True
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool.kill()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._pool.close()
        for path in files:
            if path.name in results:
                feedback = self.out / "feedback" / f"{output_name(path.name)}.md"
                if not feedback.exists() or results[path.name]["status"] == "invalid":
                    write_feedback(self.out, self.exercise, results[path.name])
        write_grades(self.out, questions, results)
        self.graded_now = [path.name for path, _ in todo if path.name in results]
        changed = [
            name
            for name, digest in integrity(self.exercise).items()
            if guarded.get(name) != digest
        ]
        if changed:
            self.warnings.append(
                "these files changed while submissions ran, perhaps written by one of them: "
                + ", ".join(changed)
                + " (this run used the tests loaded before; check them before the next run)"
            )
        if getattr(self, "interrupted", False):
            left = len(files) - len(results)
            self.warnings.append(
                f"interrupted: {left} submission(s) not graded; run the same command again "
                "to grade them (finished ones are kept)"
            )
        return [results[path.name] for path in files if path.name in results]

    def _grade_one(self, path: Path, base_job: dict):
        job = {**base_job, "submission": str(path.absolute())}
        limit = self.limits.timeout + 180  # the tests and start-up get time on top
        try:
            result = self._pool.grade(job, limit)
        except WorkerFailed as error:
            # a submission that ran out of time keeps its result; a failure of ours does not
            return failed(path.name, base_job["questions"], str(error)), error.timed_out
        return result, result.get("status") != "grader error"


def default_jobs() -> int:
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )


def summary(results: list[dict], seconds: float) -> str:
    graded = sum(result["status"] == "graded" for result in results)
    rate = len(results) / seconds * 60 if seconds else 0
    return (
        f"{len(results)} submissions ({graded} graded, {len(results) - graded} not) "
        f"in {seconds:.0f} s ({rate:.1f} per minute)"
    )


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def run(args) -> int:
    # Ctrl-C and `kill` end a run cleanly (finished results kept, workers and their folders
    # gone), also where the grader was started with SIGINT ignored (a background job of a
    # script, or some CI runners).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    limits = Limits(
        timeout=args.timeout,
        cell_timeout=args.cell_timeout,
        call_timeout=args.call_timeout,
        memory=int(args.memory * 1024**3),
    )
    batch = Batch(
        exercise=args.exercise,
        submissions=args.submissions,
        out=args.out,
        limits=limits,
        jobs=args.jobs or default_jobs(),
        force=args.force,
        progress=not args.quiet,
    )
    start = time.perf_counter()
    results = batch.run()
    print(summary(results, time.perf_counter() - start))
    for warning in batch.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    print(f"grades: {args.out / 'grades.csv'}; feedback: {args.out / 'feedback'}/")
    return 130 if getattr(batch, "interrupted", False) else 0
