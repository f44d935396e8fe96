"""Generate the student notebooks and the autograder from the solution notebooks (`otter assign`).

One source per exercise: `solutions/NAME.ipynb` holds the questions, the solutions and the public
and hidden tests in otter-assign format. From it this module writes

- `exercises/NAME.ipynb`, the student notebook: its own Colab badge, a set-up cell that installs
  otter-grader when missing and fetches the public tests from the repository named in
  `_config.yml` (or finds them on disk), the questions with their `grader.check` cells, and how
  to submit;
- `exercises/tests/NAME/qN.py`, the public tests, which the set-up cell downloads in Colab;
- `_build/grading/NAME/`, instructor-only and never committed: every test, hidden ones included,
  and `NAME-autograder.zip` for Gradescope (built by `gradescope`: it runs this course's grader).
"""

import ast
import contextlib
import difflib
import fcntl
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat
import yaml
from packaging.utils import canonicalize_name

from course_tools import RAW_URL_ENV, ROOT
from course_tools.book_config import load_repository
from course_tools.pins import pins

SOLUTIONS = ROOT / "solutions"
#: A folder of solution notebooks kept outside the public repository (hidden tests and
#: solutions private): `make assign`, `make grade` and `make autograder` read it instead.
PRIVATE_ENV = "COURSE_SOLUTIONS"
#: A folder where `generated` keeps what otter made, by solution digest, for other processes to
#: reuse (~10 s per exercise saved each time). Only the test suite sets it: `make grade`, the
#: Gradescope zip and `make assign` always generate afresh.
CACHE_ENV = "COURSE_ASSIGN_CACHE"


def solutions_dir() -> Path:
    """Where the exercises' sources are: COURSE_SOLUTIONS when set, else solutions/."""
    private = os.environ.get(PRIVATE_ENV)
    return Path(private).resolve() if private else SOLUTIONS


EXERCISES = ROOT / "exercises"
BUILD = ROOT / "_build" / "grading"
CONFIG_MARK = "# ASSIGNMENT CONFIG"
#: Packages of requirements.txt that the Gradescope image installs next to otter-grader.
GRADESCOPE_PACKAGES = (
    "numpy",
    "pandas",
    "matplotlib",
    "scikit-learn",
    "tensorflow",
    "keras",
)


def otter_version() -> str:
    return metadata.version("otter-grader")


def exercise_names() -> list[str]:
    """Every solution notebook that carries an otter `# ASSIGNMENT CONFIG` cell."""
    return sorted(
        path.stem
        for path in solutions_dir().glob("*.ipynb")
        if _config_cell(_read(path)) is not None
    )


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _config_cell(notebook) -> nbformat.NotebookNode | None:
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith(CONFIG_MARK):
            return cell
    return None


def question_names(notebook) -> list[str]:
    names = []
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith(
            "# BEGIN QUESTION"
        ):
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            names.append(str(config["name"]))
    return names


def pinned(names) -> list[str]:
    """`name==version` for each of `names` that requirements.txt pins."""
    versions = pins()
    return [
        f"{name}=={versions[canonicalize_name(name)]}"
        for name in names
        if canonicalize_name(name) in versions
    ]


def solution_digest(name: str) -> str:
    """Changes when the solution's cells, otter's version or this module change."""
    notebook = _read(solutions_dir() / f"{name}.ipynb")
    digest = hashlib.sha256(otter_version().encode())
    digest.update(Path(__file__).read_bytes())
    digest.update((ROOT / "_config.yml").read_bytes())
    for cell in notebook.cells:
        digest.update(cell.cell_type.encode() + b"\0" + cell.source.encode() + b"\0")
    digest.update(
        json.dumps(notebook.metadata.get("course", {}), sort_keys=True).encode()
    )
    return digest.hexdigest()


@dataclass
class Assignment:
    name: str
    student: nbformat.NotebookNode  # the student notebook, ready to write
    public_tests: dict[str, str]  # file name -> text, for exercises/tests/NAME/
    all_tests: dict[str, str]  # file name -> text, hidden tests included
    questions: list[str]  # question names in notebook order


#: First line of a solution's code cell that defines test helpers: `make assign` leaves the cell
#: out of the student notebook and copies it into every test that uses one of its names.
HELPERS_MARK = "# TEST HELPERS"


def _defined_names(source: str) -> set[str]:
    """The names a helper cell defines at its top level."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(
                n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)
            )
    return names


def _uses(source: str, names: set[str]) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", source) for name in names)


def inject_helpers(notebook) -> None:
    """Take the `# TEST HELPERS` cells out of `notebook` and put each at the top of every test
    cell that uses a name it defines (or one of an injected helper): a test then runs alone,
    in the grader's own namespace or from the public test file, with the single source of its
    helpers in the solution."""
    helpers = [
        (cell.source, _defined_names(cell.source))
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.source.startswith(HELPERS_MARK)
    ]
    notebook.cells = [
        cell
        for cell in notebook.cells
        if not (cell.cell_type == "code" and cell.source.startswith(HELPERS_MARK))
    ]
    in_tests = False
    for cell in notebook.cells:
        mark = cell.source.lstrip()
        if cell.cell_type == "raw" and mark.startswith(
            ("# BEGIN TESTS", "# END TESTS")
        ):
            in_tests = mark.startswith("# BEGIN TESTS")
        if not (in_tests and cell.cell_type == "code" and helpers):
            continue
        used: list[int] = []
        while True:  # a helper may use another one
            text = cell.source + "".join(helpers[index][0] for index in used)
            new = [
                index
                for index, (_, names) in enumerate(helpers)
                if index not in used and _uses(text, names)
            ]
            if not new:
                break
            used = sorted(used + new)
        blocks = [helpers[index][0].split("\n", 1)[1].strip() for index in used]
        if blocks:
            head, _, body = cell.source.partition("\n")
            hidden = head.strip() == "# HIDDEN"
            first, rest = (head + "\n", body) if hidden else ("", cell.source)
            cell.source = first + "\n\n\n".join([*blocks, rest.strip()]) + "\n"


def _otter_input(name: str, workdir: Path) -> Path:
    """The solution without outputs, its config completed with what this course relies on."""
    notebook = _read(solutions_dir() / f"{name}.ipynb")
    inject_helpers(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    cell = _config_cell(notebook)
    config = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
    config.update(
        {
            "name": name,
            "init_cell": False,  # replaced by our set-up cell, which also works in Colab
            "check_all_cell": False,
            "export_cell": False,  # grader.export() fails in Colab; students download instead
            "run_tests": False,  # CI grades the solution with the course's own grader
            "tests": {"files": True, "ok_format": True},
            "requirements": pinned(GRADESCOPE_PACKAGES),
            "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        }
    )
    generate = (
        config.get("generate") if isinstance(config.get("generate"), dict) else {}
    )
    config["generate"] = {"pdf": False, "zips": False, **generate}
    cell.source = f"{CONFIG_MARK}\n{yaml.safe_dump(config, sort_keys=False)}"
    notebook.metadata.setdefault(
        "kernelspec",
        {"display_name": "Python 3", "language": "python", "name": "python3"},
    )
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{name}.ipynb"
    nbformat.write(notebook, target)
    return target


def run_otter(name: str, workdir: Path) -> Assignment:
    source = _otter_input(name, workdir / "in")
    output = workdir / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "otter",
            "assign",
            "--no-pdfs",
            str(source),
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=source.parent,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"otter assign failed for {name}:\n{result.stdout}{result.stderr}"
        )
    student_dir, autograder_dir = output / "student", output / "autograder"
    notebook = _read(solutions_dir() / f"{name}.ipynb")
    return Assignment(
        name=name,
        student=finish_student_notebook(
            name, _read(student_dir / f"{name}.ipynb"), notebook
        ),
        public_tests=_public_test_files(name, student_dir / "tests", workdir),
        all_tests=_texts(autograder_dir / "tests"),
        questions=question_names(notebook),
    )


def _texts(folder: Path) -> dict[str, str]:
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(folder.glob("*.py"))
    }


def _public_test_files(name: str, folder: Path, workdir: Path) -> dict[str, str]:
    """otter's public test files, rewritten in the repository's style (ruff-formatted)."""
    out = workdir / "public"
    out.mkdir()
    for path in sorted(folder.glob("*.py")):
        spec: dict = {}
        exec(
            path.read_text(encoding="utf-8"), spec
        )  # our own otter output, not a submission
        (out / path.name).write_text(
            f"# Public tests of solutions/{name}.ipynb, generated by `make assign`: do not edit.\n"
            "# ruff: noqa: E501\n"
            f"OK_FORMAT = True\n\ntest = {spec['test']!r}\n",
            encoding="utf-8",
        )
    _format(out)
    return _texts(out)


#: What the set-up cell installs where otter is missing (Colab): otter-grader and the small
#: packages it imports that Colab lacks, with --no-deps so that nothing Colab ships is replaced.
CHECK_PACKAGES = ("otter-grader", "fica", "ipylab", "python-frontmatter")


def setup_source(name: str, questions: list[str]) -> str:
    repository = load_repository()
    raw_url = f"https://raw.githubusercontent.com/{repository.github_slug}/{repository.branch}"
    return f'''\
# @title Set-up: run this cell first
# It installs the checking tools if they are missing and finds the public tests that
# `grader.check` runs: next to this notebook when they are there, else it downloads them
# from the course repository.
import importlib.util
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

EXERCISE = "{name}"
QUESTIONS = {json.dumps(questions)}
# The repository's raw-file address (the course's tests point it at a local copy).
RAW_URL = os.environ.get("{RAW_URL_ENV}", "{raw_url}")


class SetUpFirst:
    """Stands in for the grader until this cell has succeeded."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: print(
            "The checks are not ready: run the set-up cell first"
            " (its message says why)."
        )


def tests_folder():
    """Where the public tests are: next to this notebook, in the working folder or in
    its exercises/ folder (a clone of the repository); else where to download them."""
    notebook = os.environ.get("JPY_SESSION_NAME")  # this notebook's path, in Jupyter
    near = [pathlib.Path(notebook).parent] if notebook else []
    for folder in [*near, pathlib.Path.cwd(), pathlib.Path.cwd() / "exercises"]:
        if (folder / "tests" / EXERCISE).is_dir():
            return folder / "tests" / EXERCISE
    return pathlib.Path("tests") / EXERCISE


def download(url, target):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            content = response.read()
    except (urllib.error.URLError, OSError) as error:
        # "HTTP Error 404: Not Found", or the network's reason (no connection, ...)
        http = isinstance(error, urllib.error.HTTPError)
        reason = error if http else getattr(error, "reason", error)
        print(
            f"Could not download the public tests of {{EXERCISE}} from\\n  {{url}}\\n"
            f"Reason: {{reason}}\\n"
            "What to do: check that this session is online, then run this cell"
            " again. If the address is your instructor's copy of the course, its"
            " exercises may not be published yet: ask your instructor."
        )
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return True


def install_check_tools():
    """otter-grader and what it imports that Colab lacks; --no-deps leaves every
    library that is already there as it is."""
    tools = {json.dumps(pinned(CHECK_PACKAGES))}
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *tools]
    result = subprocess.run(pip, capture_output=True, text=True)
    importlib.invalidate_caches()
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or ["no message"])[-1]
        print(
            "Could not install otter-grader, which runs the checks.\\n"
            f"Reason: {{said}}\\n"
            "What to do: check that this session is online, then run this cell again."
        )
    return result.returncode == 0


grader = SetUpFirst()
installed = importlib.util.find_spec("otter") is not None or install_check_tools()
tests_dir = tests_folder()
TESTS_URL = f"{{RAW_URL}}/exercises/tests/{{EXERCISE}}"
found = installed and all(
    (tests_dir / f"{{q}}.py").exists()
    or download(f"{{TESTS_URL}}/{{q}}.py", tests_dir / f"{{q}}.py")
    for q in QUESTIONS
)
if found:
    import otter

    grader = otter.Notebook(tests_dir=str(tests_dir))
'''


SUBMIT_MARKDOWN = """\
## Submit your work

1. Run every check once more: the next cell runs all the public tests.
2. Restart and run the whole notebook (*Runtime → Restart session and run all* in Colab,
   *Kernel → Restart Kernel and Run All Cells* in Jupyter) and check that every cell runs.
3. Download the notebook: in Colab *File → Download → Download .ipynb*, in Jupyter
   *File → Download*. Hand in that `.ipynb` file as your course asks; do not rename or edit it
   outside Jupyter.

The checks above run the public tests only. Your submission is graded again, in a separate
process, with the public tests and hidden ones: what the notebook prints does not count, and
neither does anything it changes in its own kernel."""


def finish_student_notebook(name: str, student, solution) -> nbformat.NotebookNode:
    """otter's student notebook, plus our badge, set-up cell and submission instructions."""
    questions = question_names(solution)
    badge = load_repository().colab_badge(EXERCISES / f"{name}.ipynb")
    cells = list(student.cells)
    if (
        cells
        and cells[0].cell_type == "markdown"
        and "colab-badge.svg" in cells[0].source
    ):
        cells[0] = nbformat.v4.new_markdown_cell(badge)
    else:
        cells.insert(0, nbformat.v4.new_markdown_cell(badge))
    first_code = next(i for i, cell in enumerate(cells) if cell.cell_type == "code")
    # Shown collapsed under its title: in Colab (a form cell) and on the site (hide-input).
    setup = nbformat.v4.new_code_cell(
        setup_source(name, questions),
        metadata={"cellView": "form", "tags": ["hide-input"]},
    )
    cells.insert(first_code, setup)
    cells.append(nbformat.v4.new_markdown_cell(SUBMIT_MARKDOWN))
    cells.append(nbformat.v4.new_code_cell("grader.check_all()"))
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
        "otter": {"assignment_name": name},
    }
    if "course" in solution.metadata:  # its summary, for the site's table of exercises
        notebook.metadata["course"] = solution.metadata["course"]
    return notebook


def _format(path: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff) if ruff.exists() else "ruff", "format", "--quiet", str(path)]
    subprocess.run(command, check=True, cwd=ROOT)


def build(name: str, workdir: Path) -> Assignment:
    """Run otter assign for exercise `name` in `workdir` and write the student notebook there."""
    assignment = run_otter(name, workdir)
    student = workdir / "student" / f"{name}.ipynb"
    student.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(assignment.student, student)
    _format(student)
    assignment.student = _read(student)
    return assignment


def write_exercise(name: str) -> list[Path]:
    """Regenerate exercises/NAME.ipynb and exercises/tests/NAME/; return the files written."""
    with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as tmp:
        assignment = build(name, Path(tmp))
        written = [EXERCISES / f"{name}.ipynb"]
        EXERCISES.mkdir(exist_ok=True)
        shutil.copyfile(Path(tmp) / "student" / f"{name}.ipynb", written[0])
        tests = EXERCISES / "tests" / name
        shutil.rmtree(tests, ignore_errors=True)
        tests.mkdir(parents=True)
        for file_name, text in assignment.public_tests.items():
            (tests / file_name).write_text(text, encoding="utf-8")
            written.append(tests / file_name)
        _write_autograder(assignment)
    return written


def _write_autograder(assignment: Assignment) -> Path:
    """Instructor-only copy of every test and the Gradescope zip, under _build/grading/NAME/."""
    folder = BUILD / assignment.name
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "tests").mkdir(parents=True)
    folder.chmod(0o700)
    for file_name, text in assignment.all_tests.items():
        (folder / "tests" / file_name).write_text(text, encoding="utf-8")
    # The course's own grader, not otter's zip: see `gradescope`.
    from course_tools.grading import gradescope

    zip_path = folder / f"{assignment.name}-autograder.zip"
    built = gradescope.write_zip(assignment.name, zip_path)
    (folder / "questions.json").write_text(
        json.dumps(assignment.questions), encoding="utf-8"
    )
    stamp = f"{solution_digest(assignment.name)} {built}"
    (folder / "digest").write_text(stamp, encoding="utf-8")
    return folder


def _autograder_stamp(name: str) -> str:
    from course_tools.grading import gradescope

    return f"{solution_digest(name)} {gradescope.build_digest(name)}"


_BUILDS: dict[str, Assignment] = {}


def generated(name: str) -> Assignment:
    """A fresh generation of exercise `name` (student notebook, all tests), once per process.

    Grading never reads tests back from `_build/` or `exercises/`, where a submission that runs
    with the instructor's user id could have changed them: it regenerates them from the solution.
    """
    digest = solution_digest(name)
    if digest not in _BUILDS:
        cache = os.environ.get(CACHE_ENV)
        record = Path(cache) / f"{name}-{digest}.json" if cache else None
        # One process generates, another that needs the same exercise meanwhile waits for its
        # record instead of running otter a second time on a machine whose cores are all busy.
        with _locked(record) if record else contextlib.nullcontext():
            _BUILDS[digest] = _read_record(record) if record else None
            if _BUILDS[digest] is None:
                with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as tmp:
                    _BUILDS[digest] = build(name, Path(tmp))
                if record:
                    _write_record(record, _BUILDS[digest])
    return _BUILDS[digest]


@contextlib.contextmanager
def _locked(record: Path):
    record.parent.mkdir(parents=True, exist_ok=True)
    with open(record.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_record(path: Path) -> Assignment | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["student"] = nbformat.reads(data["student"], as_version=4)
        return Assignment(**data)
    except (OSError, ValueError, TypeError, KeyError):
        return None  # absent or unreadable: generate afresh


def _write_record(path: Path, assignment: Assignment) -> None:
    data = {**vars(assignment), "student": nbformat.writes(assignment.student)}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)  # whole, even when two processes write it at once


def grading_tests(name: str) -> tuple[list[str], dict[str, str]]:
    """Question names in notebook order and every test file, hidden tests included."""
    assignment = generated(name)
    return assignment.questions, assignment.all_tests


def autograder(name: str) -> Path:
    """`_build/grading/NAME/`, rebuilt when the solution or the zip's files changed since."""
    folder = BUILD / name
    stamp = folder / "digest"
    zip_file = folder / f"{name}-autograder.zip"
    fresh = stamp.exists() and zip_file.exists()
    if not fresh or stamp.read_text(encoding="utf-8") != _autograder_stamp(name):
        _write_autograder(generated(name))
    return folder


def _comparable(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def staleness(name: str) -> list[str]:
    """Why the committed student files differ from a fresh generation (empty: up to date)."""
    fresh = generated(name)
    committed_path = EXERCISES / f"{name}.ipynb"
    if not committed_path.exists():
        return [f"exercises/{name}.ipynb is missing (run `make assign`)"]
    problems = []
    committed = _comparable(_read(committed_path))
    expected = _comparable(fresh.student)
    if committed != expected:
        diff = difflib.unified_diff(
            [f"{kind}: {source}" for kind, source in committed],
            [f"{kind}: {source}" for kind, source in expected],
            "committed",
            "generated",
            lineterm="",
            n=1,
        )
        problems.append(
            f"exercises/{name}.ipynb is out of date (run `make assign`):\n"
            + "\n".join(list(diff)[:40])
        )
    tests = EXERCISES / "tests" / name
    on_disk = _texts(tests) if tests.is_dir() else {}
    if on_disk != fresh.public_tests:
        changed = sorted(set(on_disk) ^ set(fresh.public_tests)) or [
            file
            for file in fresh.public_tests
            if on_disk.get(file) != fresh.public_tests[file]
        ]
        problems.append(f"exercises/tests/{name}/ is out of date: {', '.join(changed)}")
    leaked = leaks(name, [committed_path, tests])
    if leaked:
        problems.append(f"hidden tests leak into the student files: {leaked[:5]}")
    return problems


def _squashed(text: str) -> str:
    """Code with what formatting changes taken out (blanks, brackets, commas, quote style,
    doctest prompts), so that a test matches its copies however ruff or otter wrapped them."""
    text = re.sub(r"^\s*(>>>|\.\.\.) ?", "", text, flags=re.MULTILINE)
    return re.sub(r"[\s(),\\]", "", text).replace('"', "'")


def _case_codes(text: str) -> list[tuple[bool, str]]:
    """(hidden, code) of every case of an otter OK-format test file."""
    spec: dict = {}
    # otter's output for our own solution, or a file of exercises/tests
    exec(text, spec)
    return [
        (bool(case.get("hidden")), case["code"])
        for suite in spec["test"]["suites"]
        for case in suite["cases"]
    ]


def hidden_lines(name: str) -> list[str]:
    """The lines of exercise `name`'s hidden tests that no public test has (squashed, see
    `_squashed`): what must never appear in anything students can see."""
    hidden, public = [], set()
    for text in generated(name).all_tests.values():
        for is_hidden, code in _case_codes(text):
            lines = [_squashed(line) for line in code.splitlines()]
            if is_hidden:
                hidden += lines
            else:
                public.update(lines)
    # short lines (`assert x == 3`, `rng = default_rng(5)`) may well appear in public code
    return sorted({line for line in hidden if len(line) >= 36 and line not in public})


def _visible_text(path: Path) -> str:
    """What a reader of `path` sees: a notebook's cell sources, a page's text without tags."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        with contextlib.suppress(ValueError, KeyError, TypeError):
            cells = json.loads(raw)["cells"]
            return "\n".join(
                "".join(cell["source"])
                if isinstance(cell["source"], list)
                else cell["source"]
                for cell in cells
            )
    if path.suffix in (".html", ".htm", ".xml", ".js", ".txt"):
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return raw


def leaks(name: str, paths: list[Path]) -> list[str]:
    """`file: line` for every hidden-test line of exercise `name` found under `paths`."""
    lines = hidden_lines(name)
    found = []
    for path in paths:
        files = (
            [path]
            if path.is_file()
            else sorted(p for p in path.rglob("*") if p.is_file())
        )
        for file in files:
            try:
                text = _squashed(_visible_text(file))
            except OSError:
                continue
            found += [f"{file}: {line[:60]}" for line in lines if line in text]
    return found
