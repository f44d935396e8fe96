"""Grading as an ordinary user: the sandbox shares the grader's user id (through a user
namespace), so only namespaces and read-only mounts keep the grader's code, its results and
other submissions out of reach. The grader runs here as `nobody` on a copy of the repository
that `nobody` owns and could write, as an instructor's own clone is."""

import contextlib
import csv
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from test_isolation import (
    EXERCISE,
    HONEST_POINTS,
    MARK,
    SHARED_UID_TRICKS,
    TRICKS,
    hostile,
)

from course_tools import ROOT
from grading_helpers import student, write

#: The system's Python, which an ordinary user may run (the course's venv may live under /root).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def system_python_matches() -> bool:
    if SYSTEM_PYTHON is None:
        return False
    said = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return said == str(tuple(sys.version_info[:2]))


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not system_python_matches(),
    reason="needs root (to become `nobody`) and a system Python of the course's version",
)


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def owned_by(uid: int, home: Path) -> dict[str, list]:
    processes = []
    for process in psutil.process_iter(["uids", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if process.info["uids"].real == uid or MARK in " ".join(
                process.info["cmdline"] or []
            ):
                processes.append(" ".join(process.info["cmdline"] or [])[:80])
    files = [
        path
        for folder in ("/tmp", "/var/tmp", "/dev/shm")
        for path in glob.glob(f"{folder}/*")
        if os.lstat(path).st_uid == uid and path != str(home)
    ]
    return {"processes": processes, "files": files}


@pytest.fixture(scope="module")
def as_nobody():
    user = pwd.getpwnam("nobody")
    home = Path(tempfile.mkdtemp(prefix="ordinary-grader-"))
    repo = home / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in tracked)):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    # A venv of the system's Python that sees the course's libraries through a .pth file.
    venv = home / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", venv], check=True)
    site = Path(sysconfig.get_paths(vars={"base": str(venv)})["purelib"])
    site.mkdir(parents=True, exist_ok=True)
    (site / "course.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (venv / "bin" / "ruff").symlink_to(Path(sys.executable).with_name("ruff"))
    tricks = {name: TRICKS[name] for name in SHARED_UID_TRICKS}
    files = {f"{name}.ipynb": hostile(cells) for name, cells in tricks.items()}
    files["untouched.ipynb"] = student(EXERCISE)
    write(home / "submissions", files)
    for path in [home, *home.rglob("*")]:
        os.lchown(path, user.pw_uid, user.pw_gid)
    home.chmod(0o755)
    before = owned_by(user.pw_uid, home), tree_digest(repo / "course_tools")
    done = subprocess.run(
        [
            *("setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}"),
            *("--clear-groups", str(venv / "bin" / "python"), "-m"),
            *("course_tools.grading", "grade", str(home / "submissions")),
            *("--exercise", EXERCISE, "--out", str(home / "graded")),
            *("--cell-timeout", "15", "--memory", "1.5", "--jobs", "2"),
        ],
        cwd=repo,
        env={
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "KERAS_HOME": str(home / "keras"),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )
    time.sleep(3)  # the orphaned helper would strike 2 s after its start
    after = owned_by(user.pw_uid, home), tree_digest(repo / "course_tools")
    yield home, done, before, after
    shutil.rmtree(home, ignore_errors=True)


def test_the_grader_says_it_isolates_by_namespaces(as_nobody):
    _, done, _, _ = as_nobody
    assert done.returncode == 0, done.stdout + done.stderr
    assert "isolation: PID, mount, network and IPC namespaces" in done.stderr
    assert "the grader's user id" in done.stderr


def test_no_attack_scores_more_than_the_honest_work(as_nobody):
    home, done, _, _ = as_nobody
    with open(home / "graded" / "grades.csv", encoding="utf-8") as table:
        totals = {
            row["submission"]: float(row["total"]) for row in csv.DictReader(table)
        }
    assert totals.pop("untouched.ipynb") == 0, done.stderr
    assert totals == {f"{name}.ipynb": HONEST_POINTS for name in SHARED_UID_TRICKS}


def test_nothing_outlives_the_batch_and_the_grader_is_unchanged(as_nobody):
    home, _, (processes_and_files, code), (left, code_after) = as_nobody
    assert left == processes_and_files == {"processes": [], "files": []}
    assert code_after == code  # no submission wrote the grader's own modules
    ours = ROOT / "course_tools" / "grading" / "sandbox_site" / "otter.py"
    planted = [
        p
        for p in (home / "repo").rglob("*")
        if MARK in p.name
        or (
            p.name in ("sitecustomize.py", "numpy.py", "otter.py", "IPython.py")
            and p.relative_to(home / "repo") != ours.relative_to(ROOT)
        )
    ]
    assert planted == []
