"""Submissions that attack the machine, the grader and each other, in every isolation mode.

Each hostile notebook answers q1 and q3 of the concepts exercise honestly (4 points), then tries
to leave processes or files behind, read the solution or other work, plant modules, signal or
stop the grader, forge protocol frames or forge its own feedback. After the batch nothing of
theirs may be running or on disk, no score may exceed the honest 4, and every file of the folder
has a row.
"""

import contextlib
import csv
import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from markdown_it import MarkdownIt

from course_tools import ROOT
from course_tools.grading import batch as batch_module
from course_tools.grading import isolation, report, runner
from course_tools.grading.judge import StudentCodeError, check_model_archive
from grading_helpers import answer, feedback, grade, insert_after, student, total, write

EXERCISE = "ex1_concepts"
HONEST_POINTS = 4
Q1 = 'q1_kinds = ["seq2seq", "seq2vec", "vec2seq", "encoder-decoder"] * 2'
Q3 = "q3_seq2seq = [True, True, True]\nq3_seq2vec = [True, True, False]"
MARK = "LEFTOVER7731"  # in every process and file name a submission leaves behind
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")

TRICKS = {
    # processes in new sessions, one of which later tries to rewrite every grades.csv
    "orphans": [
        "import subprocess, sys\n\n"
        "helper = (\n"
        "    'import glob, time\\n'\n"
        "    'time.sleep(2)\\n'\n"
        "    'for p in glob.glob(\"/tmp/**/grades.csv\", recursive=True):\\n'\n"
        '    \'    open(p, "w").write("FORGED7731")\\n\'\n'
        f"    'time.sleep(600)  # {MARK}'\n"
        ")\n"
        "subprocess.Popen(['setsid', sys.executable, '-c', helper])\n"
        "subprocess.Popen(['setsid', 'sleep', '7731'], start_new_session=True)"
    ],
    "fills_temp_folders": [
        "import os\n\n"
        "for folder in ['/tmp', '/var/tmp', '/dev/shm']:\n"
        "    try:\n"
        f"        with open(os.path.join(folder, '{MARK}.bin'), 'wb') as out:\n"
        "            out.write(b'x' * 40 * 1024**2)\n"
        "    except OSError as error:\n"
        "        print(folder, error)"
    ],
    "fills_the_disk": [
        "for i in range(20):\n"
        "    with open(f'big-{i}.bin', 'wb') as out:\n"
        "        out.write(b'x' * 50 * 1024**2)\n"
        "import time\n\ntime.sleep(5)"
    ],
    # modules that a later sandbox (or the grader) would import, and the grader's own code
    "plants_modules": [
        "import os, sys\n\n"
        f"code = 'import builtins\\nbuiltins.{MARK} = True\\n'\n"
        "root = os.environ['PYTHONPATH']\n"
        "for folder in ['/tmp', '/var/tmp', '/dev/shm', root, root + '/course_tools']:\n"
        "    for name in ['sitecustomize.py', 'numpy.py', 'otter.py', 'IPython.py']:\n"
        "        try:\n"
        "            with open(os.path.join(folder, name), 'w') as out:\n"
        f"                out.write(code + '# {MARK}')\n"
        "        except OSError as error:\n"
        "            print(folder, name, error)\n"
        "try:\n"
        "    with open(root + '/course_tools/grading/judge.py', 'a') as out:\n"
        "        out.write('\\nRun_case = None\\n')\n"
        "except OSError as error:\n"
        "    print(error)"
    ],
    # the solution's own q2 answer, read from the repository, and other students' work
    "copies_the_solution": [
        "import json, os\n\n"
        "path = os.environ['PYTHONPATH'] + '/solutions/ex1_concepts.ipynb'\n"
        "try:\n"
        "    cells = json.load(open(path))['cells']\n"
        "    sources = [''.join(cell['source']) for cell in cells]\n"
        "    exec(next(source for source in sources if 'q2_ndim =' in source))\n"
        "except OSError as error:\n"
        "    print(error)"
    ],
    # every process it can see stopped, then killed
    "signals_everything": [
        "import os, signal\n\n"
        "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGSTOP)\n"
        "        except OSError:\n"
        "            pass\n"
        "try:\n"
        "    os.kill(-1, signal.SIGKILL)\n"
        "except OSError:\n"
        "    pass"
    ],
    # frames forged on the reply channel: one that stops half-way, one nested 100,000 deep,
    # one carrying an integer of 100,000 digits
    "forged_stalled_frame": [
        "import os, struct, sys\n\n"
        "os.write(int(sys.argv[2]), struct.pack('>I', 1000) + b'{\"id\": 1')\n"
        "import time\n\ntime.sleep(30)"
    ],
    "forged_deep_frame": [
        "import os, struct, sys\n\n"
        "payload = b'[' * 100_000 + b']' * 100_000\n"
        "os.write(int(sys.argv[2]), struct.pack('>I', len(payload)) + payload)"
    ],
    "forged_huge_integer": [
        "import os, struct, sys\n\n"
        "payload = b'{\"id\": ' + b'9' * 100_000 + b'}'\n"
        "os.write(int(sys.argv[2]), struct.pack('>I', len(payload)) + payload)"
    ],
    # an error message that closes the feedback's code block and writes a score of its own
    "forges_feedback": ['raise ValueError("\\n```\\n\\n**Score: 13 / 13**\\n\\n```")'],
    "many_failing_cells": ["1 / 0"] * 400,
}
#: The tricks that also run with the grader's user id (namespaces without a uid of their own).
SHARED_UID_TRICKS = (
    "orphans",
    "fills_temp_folders",
    "plants_modules",
    "copies_the_solution",
    "signals_everything",
)


#: Tricks that copy answers: they go after the last answer cell, which would undo them.
LATE_TRICKS = ("copies_the_solution",)


def hostile(tricks: list[str], after: str = "q1") -> nbformat.NotebookNode:
    notebook = student(EXERCISE)
    answer(notebook, "q1", Q1)
    insert_after(notebook, after, *tricks)
    answer(notebook, "q3", Q3)
    return notebook


def leftovers() -> dict[str, list]:
    processes = []
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            line = " ".join(process.info["cmdline"] or [])
            if MARK in line or "sleep 7731" in line:
                processes.append(line[:80])
    files = [path for folder in SCRATCH for path in glob.glob(f"{folder}/*{MARK}*")]
    planted = [
        path
        for folder in (*SCRATCH, str(ROOT), str(ROOT / "course_tools"))
        for name in ("sitecustomize.py", "numpy.py", "otter.py", "IPython.py")
        if os.path.exists(path := os.path.join(folder, name))
    ]
    return {"processes": processes, "files": files, "planted": planted}


def run_batch(root: Path, tricks: dict, mode: str, monkeypatch=None):
    files = {
        f"{name}.ipynb": hostile(cells, "q6" if name in LATE_TRICKS else "q1")
        for name, cells in tricks.items()
    }
    files["untouched.ipynb"] = student(EXERCISE)
    folder = write(root / "submissions", files)
    before = leftovers()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(isolation.MODE_ENV, mode)
        batch, results = grade(
            EXERCISE, folder, root / "graded", cell_timeout=15, disk=300 * 1024**2
        )
    time.sleep(3)  # the orphaned helper would strike 2 s after its start
    return batch, results, before, leftovers()


@pytest.fixture(scope="module")
def strongest(tmp_path_factory):
    root = tmp_path_factory.mktemp("isolation")
    folder = root / "submissions"
    folder.mkdir()
    # files that are not notebooks to grade, each of which must still get a row
    (folder / "link_to_the_solution.ipynb").symlink_to(
        ROOT / "solutions" / f"{EXERCISE}.ipynb"
    )
    (folder / "link_to_shadow.ipynb").symlink_to("/etc/shadow")
    os.mkfifo(folder / "fifo.ipynb")
    (folder / "folder.ipynb").mkdir()
    (folder / "deep.ipynb").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    nbformat.write(hostile([]), folder / f"{'n' * 240}.ipynb")
    batch, results, before, after = run_batch(root, TRICKS, "")
    return root / "graded", batch, results, before, after


def test_the_machine_gives_namespaces_and_the_grader_says_which(strongest):
    _, batch, _, _, _ = strongest
    level = batch.isolation
    if not level.namespaces:  # the grader must say so, loudly
        assert any("NO SANDBOX ISOLATION" in w for w in batch.warnings)
    assert sys.platform != "linux" or level.namespaces, level.reasons
    if os.geteuid() == 0:
        assert level.separate_uids, level.reasons


def test_every_entry_of_the_folder_gets_a_row(strongest):
    out, _, results, _, _ = strongest
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    assert len(rows) == len(TRICKS) + 7 and set(rows) == set(results)
    for name, why in {
        "link_to_the_solution.ipynb": "is a link",
        "link_to_shadow.ipynb": "is a link",
        "fifo.ipynb": "not a regular file",
        "folder.ipynb": "is a folder",
        "deep.ipynb": "nested too deeply",
    }.items():
        assert rows[name]["status"] == "invalid" and float(rows[name]["total"]) == 0
        assert why in feedback(out, name)
    long_name = f"{'n' * 240}.ipynb"
    assert total(results[long_name]) == HONEST_POINTS
    assert len(list((out / "feedback").iterdir())) == len(rows)


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_no_attack_scores_more_than_the_honest_work(strongest, name):
    _, _, results, _, _ = strongest
    result = results[f"{name}.ipynb"]
    assert result["status"] == "graded", result["messages"]
    assert result["scores"]["q1"] == 2 and result["scores"]["q3"] == 2, result
    assert total(result) == HONEST_POINTS, result["scores"]


def test_nothing_outlives_the_batch(strongest):
    out, batch, results, before, after = strongest
    assert before == {"processes": [], "files": [], "planted": []}
    assert after == before
    assert (out / "grades.csv").read_text(encoding="utf-8").startswith("submission,")
    assert total(results["untouched.ipynb"]) == 0
    assert not batch.warnings  # the grader's own files are unchanged


@pytest.mark.parametrize(
    "name, said",
    [
        ("fills_the_disk", "disk limit"),
        ("forged_stalled_frame", "garbage"),
        ("forged_deep_frame", "garbage"),
        ("forged_huge_integer", "garbage"),
    ],
)
def test_feedback_says_what_ended_the_kernel(strongest, name, said):
    out, _, _, _, _ = strongest
    assert said in feedback(out, f"{name}.ipynb")


def scores_in(markdown: str) -> list[str]:
    """Every bold text outside code in a feedback file, as a reader would see it rendered."""
    tokens = MarkdownIt().parse(markdown)
    bold = []
    for token in tokens:
        children = token.children or []
        for i, child in enumerate(children):
            if child.type == "strong_open":
                bold.append(children[i + 1].content)
    return bold


def test_a_message_cannot_write_the_feedback(strongest):
    out, _, _, _, _ = strongest
    text = feedback(out, "forges_feedback.ipynb")
    assert "**Score: 13 / 13**" in text  # the message is shown, as code
    assert scores_in(text) == ["Score: 4 / 13"]


def test_feedback_has_a_size_cap(strongest):
    out, _, _, _, _ = strongest
    text = feedback(out, "many_failing_cells.ipynb")
    assert "more cells" in text
    assert len(text) <= report.MAX_FEEDBACK_CHARS + 200


@pytest.fixture(scope="module")
def shared_uid(tmp_path_factory):
    """Namespaces without a user id of their own: what an ordinary user's grading gets."""
    root = tmp_path_factory.mktemp("shared-uid")
    tricks = {name: TRICKS[name] for name in SHARED_UID_TRICKS}
    return run_batch(root, tricks, "shared-uid")


def test_with_the_graders_uid_nothing_leaks_either(shared_uid):
    batch, results, before, after = shared_uid
    assert batch.isolation.namespaces and not batch.isolation.separate_uids
    assert after == before == {"processes": [], "files": [], "planted": []}
    for name in SHARED_UID_TRICKS:
        assert total(results[f"{name}.ipynb"]) == HONEST_POINTS, name
    assert total(results["untouched.ipynb"]) == 0 and not batch.warnings[1:]


def test_without_namespaces_the_grader_warns_loudly(tmp_path, capsys):
    folder = write(tmp_path / "in", {"honest.ipynb": hostile([])})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(isolation.MODE_ENV, "none")
        batch, results = grade(EXERCISE, folder, tmp_path / "out")
    assert not batch.isolation.namespaces
    assert any("NO SANDBOX ISOLATION" in warning for warning in batch.warnings)
    assert total(results["honest.ipynb"]) == HONEST_POINTS


def test_a_second_run_on_the_same_results_is_refused(tmp_path):
    with batch_module.exclusive(tmp_path):
        with pytest.raises(SystemExit, match="another grading run"):
            with batch_module.exclusive(tmp_path):
                pass
    with batch_module.exclusive(tmp_path):  # and the lock is released afterwards
        pass


def test_a_killed_batch_leaves_no_worker_or_sandbox(tmp_path):
    folder = write(tmp_path / "in", {"loop.ipynb": hostile(["while True:\n    pass"])})
    command = [
        *(sys.executable, "-m", "course_tools.grading", "grade", str(folder)),
        *("--exercise", EXERCISE, "--out", str(tmp_path / "out"), "--quiet"),
    ]
    batch = subprocess.Popen(command, cwd=ROOT)

    def descendants():
        with contextlib.suppress(psutil.Error):
            return psutil.Process(batch.pid).children(recursive=True)
        return []

    def commands():
        found = []
        for process in descendants():
            with contextlib.suppress(psutil.Error):
                found.append(process.cmdline())
        return found

    def started_a_submission(found):
        # The worker and its sandbox (`-m ...sandbox`), not the isolation probe the batch
        # starts first (its command only imports the sandbox module).
        return any("course_tools.grading.worker" in argv for argv in found) and any(
            argv[i : i + 2] == ["-m", "course_tools.grading.sandbox"]
            for argv in found
            for i in range(len(argv))
        )

    deadline = time.monotonic() + 120
    while not started_a_submission(commands()):
        assert time.monotonic() < deadline, "no sandbox started"
        time.sleep(0.5)
    started = descendants()
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    deadline = time.monotonic() + 20

    def alive():
        running = []
        for process in started:
            with contextlib.suppress(psutil.Error):
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    running.append(" ".join(process.cmdline())[:100])
        return running

    while alive() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(started) >= 3 and alive() == []  # worker, launcher, sandbox


def test_a_huge_model_config_is_refused_before_it_is_read(tmp_path):
    import zipfile

    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b" " * (64 * 1024**2))
    with pytest.raises(StudentCodeError, match="larger than"):
        check_model_archive(path)


def test_a_shared_dataset_folder_is_read_only_inside_the_sandbox(tmp_path):
    """The grader's extracted datasets (IMDB's 100,000 reviews) reach each sandbox as a
    read-only view: readable where Keras looks for them, not writable, not removable."""
    level = isolation.detect()
    if not level.namespaces:
        pytest.skip(f"no namespaces here: {level.reasons}")
    source = tmp_path / "keras" / "datasets" / "reviews_extracted"
    (source / "train").mkdir(parents=True)
    (source / "train" / "1.txt").write_text("a fine film", encoding="utf-8")
    workdir = tmp_path / "sandbox"
    mount_point = workdir / ".keras" / "datasets" / source.name
    mount_point.mkdir(parents=True)
    uid = isolation.worker_uid(level)
    runner.prepare_workdir(workdir, uid)
    confinement = isolation.Confinement(
        level, workdir, tmp_path / "stage", uid, shared=[(source, mount_point)]
    )
    code = (
        "import os, pathlib\n"
        "view = pathlib.Path('.keras/datasets/reviews_extracted')\n"
        "print(view.joinpath('train', '1.txt').read_text())\n"
        "for attempt in (\n"
        "    lambda: view.joinpath('train', '1.txt').write_text('forged'),\n"
        "    lambda: view.joinpath('new.txt').write_text('planted'),\n"
        "    lambda: os.remove(view / 'train' / '1.txt'),\n"
        "):\n"
        "    try:\n"
        "        attempt()\n"
        "        print('WROTE')\n"
        "    except OSError as error:\n"
        "        print(error.strerror)\n"
    )
    done = subprocess.run(
        [*confinement.prefix(), sys.executable, "-c", code],
        cwd=workdir,
        env=runner.sandbox_env(workdir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "a fine film"
    assert "WROTE" not in done.stdout and "Read-only file system" in done.stdout
    assert (source / "train" / "1.txt").read_text(encoding="utf-8") == "a fine film"
    assert sorted(p.name for p in source.rglob("*")) == ["1.txt", "train"]
