"""Build an exercise's Gradescope autograder zip, which grades with the course's own grader.

Gradescope unpacks the zip into `/autograder/source`, runs `setup.sh` once to build its image and
`run_autograder` once per submission. The zip holds what `make grade` needs and nothing else:
the grading package (and the modules of `course_tools` it imports), the exercise's solution
notebook without outputs (the source the tests are generated from, as `make grade` does), the
pinned libraries to install, and `gradescope.json` (the exercise, its limits and datasets).
`gradescope_grade` is what runs there.
"""

import hashlib
import io
import json
import os
import re
import stat
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from course_tools import ROOT
from course_tools.grading import assign, batch
from course_tools.pins import pins

#: What grading imports (the grader, otter to read and generate the tests, ruff which formats
#: them) and what a submission imports (the notebooks' libraries); their dependencies follow.
TOP_PACKAGES = (
    "otter-grader",
    "nbformat",
    "pyyaml",
    "tqdm",
    "psutil",
    "ruff",
    "ipython",
    *assign.GRADESCOPE_PACKAGES,
)
#: Left out though a dependency asks for it: otter's PDF export (off here) needs a browser.
LEFT_OUT = {"playwright"}
#: The limits of `make grade`; edit gradescope.json in the zip to change them.
LIMITS = {
    name: getattr(batch.GRADE_LIMITS, name)
    for name in ("timeout", "cell_timeout", "call_timeout", "memory")
}
#: Files at the repository root that the grading package reads.
ROOT_FILES = ("_config.yml", "requirements.txt")
#: Where a Gradescope container has everything; `run_autograder` and `gradescope_grade` take
#: another root from this variable (the tests run the zip in a temporary folder).
ROOT_ENV = "COURSE_AUTOGRADER_ROOT"
#: The Python that runs the grader (default: the virtual environment `setup.sh` creates).
PYTHON_ENV = "COURSE_AUTOGRADER_PYTHON"

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: a virtual
# environment with the pinned libraries of requirements-gradescope.txt, then the datasets the
# exercise loads, from their canonical addresses. Nothing else is downloaded.
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
root="${COURSE_AUTOGRADER_ROOT:-$(dirname "$source_dir")}"
python=""
# the Python the pins were resolved for first
for candidate in @PYTHON@ python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null &&
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  # Ubuntu 22.04 images have Python 3.10; their own archive has 3.11 (or pick a newer image)
  apt-get update -qq && apt-get install -y -qq python3.11 python3.11-venv
  python=python3.11
fi
# unshare and setpriv isolate the sandboxes; without them the grader says so and goes on
for tool in unshare setpriv; do
  command -v "$tool" >/dev/null || echo "WARNING: $tool is missing: weaker isolation"
done
"$python" -m venv "$root/venv" || {
  # Debian and Ubuntu ship venv apart from Python
  apt-get update -qq && apt-get install -y -qq "$python-venv"
  "$python" -m venv "$root/venv"
}
# Exactly the pinned list (--no-deps: nothing unpinned, no browser for PDF export)
"$root/venv/bin/python" -m pip install --quiet --no-cache-dir --no-deps \\
  -r "$source_dir/requirements-gradescope.txt"
"$root/venv/bin/python" -m pip check || echo "WARNING: see pip check above"
cd "$source_dir"
"$root/venv/bin/python" -m course_tools.grading.gradescope_grade fetch --root "$root"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission: the course's own grader grades the notebook in
# submission/ (its code in a sandbox process, the tests in the grader's process) and writes
# results/results.json. COURSE_AUTOGRADER_ROOT replaces /autograder (the course's tests use a
# temporary folder), COURSE_AUTOGRADER_PYTHON the Python of setup.sh's environment.
root="${COURSE_AUTOGRADER_ROOT:-/autograder}"
python="${COURSE_AUTOGRADER_PYTHON:-$root/venv/bin/python}"
cd "$root/source" || exit 1
exec "$python" -m course_tools.grading.gradescope_grade grade --root "$root"
"""


def package_files() -> list[Path]:
    """The grading package and every module of `course_tools` it imports, however deep."""
    package = ROOT / "course_tools"
    todo = [package / "__init__.py", *sorted((package / "grading").rglob("*.py"))]
    seen: set[Path] = set()
    pattern = re.compile(
        r"^\s*(?:from\s+(course_tools[\w.]*)\s+import\s+(\([^)]*\)|[^\n]*)"
        r"|import\s+(course_tools[\w.]*))",
        re.MULTILINE,
    )
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module, names, imported in pattern.findall(path.read_text("utf-8")):
            base = ROOT.joinpath(*(module or imported).split("."))
            candidates = [base.with_suffix(".py"), base / "__init__.py"]
            names = re.findall(r"\w+", names)
            candidates += [base / f"{name}.py" for name in names]
            todo += [candidate for candidate in candidates if candidate.is_file()]
    return sorted(seen)


def requirements() -> list[str]:
    """`name==version` for every package grading needs and their dependencies, at the versions
    of requirements.txt (else of this environment, which `make` builds from it)."""
    pinned = pins()
    found: dict[str, str] = {}
    todo = [(name, frozenset()) for name in TOP_PACKAGES]
    done = set()
    while todo:
        name, extras = todo.pop()
        name = canonicalize_name(name)
        if (name, extras) in done or name in LEFT_OUT:
            continue
        done.add((name, extras))
        distribution = metadata.distribution(name)
        found[name] = pinned.get(name, distribution.version)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(
                marker.evaluate({"extra": extra}) for extra in {"", *extras}
            ):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def datasets(name: str) -> dict[str, str]:
    """File name -> canonical address of every `get_file(name, url)` in the solution."""
    code = batch.solution_code(name)
    return dict(re.findall(r'get_file\(\s*"([\w.-]+)",\s*"(https?://[^"\s]+)"', code))


def _solution_bytes(name: str) -> bytes:
    """The solution as `make grade` reads it, without outputs (they are not needed)."""
    notebook = nbformat.read(assign.solutions_dir() / f"{name}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(notebook).encode()


def contents(name: str) -> dict[str, bytes]:
    """Path in the zip -> bytes, for exercise `name`."""
    config = {"exercise": name, "limits": LIMITS, "datasets": datasets(name)}
    # The instructor's secret for the hidden tests' draws, when set at build time: every
    # submission is then graded on the same hidden samples (readable by root only there).
    if os.environ.get(batch.SECRET_ENV):
        config["secret"] = os.environ[batch.SECRET_ENV]
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"
    files = {
        "setup.sh": SETUP_SH.replace("@PYTHON@", python).encode(),
        "run_autograder": RUN_AUTOGRADER.encode(),
        "requirements-gradescope.txt": (
            "# Generated by `make autograder`: what grading needs, pinned.\n"
            + "\n".join(requirements())
            + "\n"
        ).encode(),
        "gradescope.json": json.dumps(config, indent=2).encode(),
        f"solutions/{name}.ipynb": _solution_bytes(name),
    }
    for path in package_files():
        files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    for file_name in ROOT_FILES:
        files[file_name] = (ROOT / file_name).read_bytes()
    return files


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path, data in sorted(files.items()):
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def build_digest(name: str) -> str:
    """Changes when anything the zip holds changes."""
    return _digest(contents(name))


def write_zip(name: str, target: Path) -> str:
    """Write exercise `name`'s autograder zip to `target` (same inputs, same bytes); return its
    `build_digest`."""
    files = contents(name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            executable = path in ("setup.sh", "run_autograder")
            mode = 0o755 if executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    target.write_bytes(buffer.getvalue())
    return _digest(files)
