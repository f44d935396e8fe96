"""Run a notebook the way a student's Colab session does: alone in an empty folder, at the floor of
the supported library range, with nothing of this repository importable.

The kernel runs in a throw-away *overlay* environment that sees the floor environment's packages
(`.venv-floor`, from requirements-floor.txt) but installs into a folder of its own, so that an
install cell (an exercise's install of its checking tools) runs every time, as in a fresh
Colab runtime, and cannot change the floor environment for the notebooks after it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from course_tools import QUICK_ENV, RAW_URL_ENV, ROOT

FLOOR_VENV = ROOT / ".venv-floor"
FLOOR_REQUIREMENTS = ROOT / "requirements-floor.txt"
KERNEL_NAME = "course-floor"

#: Appended to the copy that runs: nothing of the repository may be importable or on sys.path,
#: except the floor environment's own packages (which live in the repository's folder).
ISOLATION_CHECK = f"""\
import importlib.util
import sys

_repository, _floor = {str(ROOT)!r}, {str(FLOOR_VENV)!r}
assert importlib.util.find_spec("course_tools") is None, "course_tools is importable"
_leaks = [p for p in sys.path if p.startswith(_repository) and not p.startswith(_floor)]
assert not _leaks, _leaks
"""


def floor_python() -> Path:
    python = FLOOR_VENV / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"{python} is missing: `make test` creates it from {FLOOR_REQUIREMENTS.name}"
        )
    return python


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def installed_names(site_packages: Path) -> set[str]:
    """Normalised names of the distributions installed in one site-packages folder."""
    names = set()
    for info in site_packages.glob("*.dist-info"):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        names.add(name.lower().replace("_", "-").replace(".", "-"))
    return names


@dataclass
class Overlay:
    python: Path
    site_packages: Path  # where the notebook's own installs land


def make_overlay(folder: Path, base: Path | None = None) -> Overlay:
    """A virtual environment in `folder` that sees the floor's packages and installs into itself."""
    base = base or floor_python()
    subprocess.run(
        [str(base), "-m", "venv", "--without-pip", str(folder)],
        check=True,
        capture_output=True,
    )
    python = folder / "bin" / "python"
    own = _site_packages(python)
    # addsitedir, not a bare path: the floor's own .pth files must be processed too.
    floor_site = _site_packages(base)
    (own / "floor.pth").write_text(
        f"import site; site.addsitedir({str(floor_site)!r})\n", encoding="utf-8"
    )
    return Overlay(python=python, site_packages=own)


def _kernel_manager(python: Path, spec_dir: Path) -> KernelManager:
    kernel = spec_dir / KERNEL_NAME
    kernel.mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab floor)",
        "language": "python",
    }
    (kernel / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir)]),
    )


def student_environment(**extra: str) -> dict[str, str]:
    """This process's environment as a student's kernel has it: no path to this repository."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_PATH"}
    }
    env.update(extra)
    return env


@dataclass
class AloneRun:
    notebook: nbformat.NotebookNode  # the executed copy, isolation check last
    folder: Path  # the folder it ran in, as it left it
    installed: set[str]  # distributions its cells installed


def run_alone(
    path: Path,
    workdir: Path,
    raw_url: str | None = None,
    allow_errors: bool = False,
    timeout: int = 900,
    env: dict[str, str] | None = None,
) -> AloneRun:
    """Copy `path` alone into `workdir/run`, execute it there in quick mode at the floor."""
    folder = workdir / "run"
    folder.mkdir(parents=True)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(ISOLATION_CHECK))
    nbformat.write(notebook, folder / path.name)
    overlay = make_overlay(workdir / "env")
    extra = {QUICK_ENV: "1", **(env or {})}
    if raw_url:
        extra[RAW_URL_ENV] = raw_url
    km = _kernel_manager(overlay.python, workdir / "kernels")
    client = NotebookClient(
        notebook,
        km=km,
        timeout=timeout,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute(env=student_environment(**extra), cwd=str(folder))
    finally:  # nbclient leaves a kernel it was given running, busy with TensorFlow's threads
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return AloneRun(notebook, folder, installed_names(overlay.site_packages))


@contextmanager
def raw_file_server() -> Iterator[str]:
    """Serve the exercises' public tests on 127.0.0.1 as the repository's raw-file address does.

    Yields the base address to put in COURSE_RAW_URL. Only `exercises/tests/` is served: what a
    student's notebook downloads from the public repository, nothing more.
    """
    with tempfile.TemporaryDirectory(prefix="raw-files-") as tmp:
        served = Path(tmp)
        shutil.copytree(ROOT / "exercises" / "tests", served / "exercises" / "tests")
        handler = partial(_QuietHandler, directory=str(served))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


if (
    __name__ == "__main__"
):  # run one notebook by hand: python -m course_tools.floor PATH
    from course_tools.datasets import use_keras_home

    with tempfile.TemporaryDirectory() as tmp, raw_file_server() as url:
        for problem in use_keras_home(Path(tmp) / "keras"):
            print(problem)
        run = run_alone(Path(sys.argv[1]).resolve(), Path(tmp), raw_url=url)
        print(
            f"ran alone at the floor; installed: {sorted(run.installed) or 'nothing'}"
        )
