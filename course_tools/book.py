"""Build the website: the one place that knows the build command (`make book` and the tests)."""

import subprocess
import sys
from pathlib import Path

import yaml

from course_tools import ROOT

BUILD_DIR = ROOT / "_build"
SOLUTIONS_CAPTION = "Solutions"


def toc_documents(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document the table of contents lists (root first), as paths without suffix."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    found.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc.read_text(encoding="utf-8")))
    return found


def toc_without_solutions(toc: Path = ROOT / "_toc.yml") -> Path:
    """Write a copy of the table of contents without its Solutions part and return its path."""
    contents = yaml.safe_load(toc.read_text(encoding="utf-8"))
    contents["parts"] = [
        p for p in contents["parts"] if p.get("caption") != SOLUTIONS_CAPTION
    ]
    BUILD_DIR.mkdir(exist_ok=True)
    path = BUILD_DIR / "_toc_without_solutions.yml"
    path.write_text(yaml.safe_dump(contents, sort_keys=False), encoding="utf-8")
    return path


def build_command(solutions: bool = True, builder: str = "html") -> list[str]:
    # --all: a fresh Sphinx environment, so every page's warnings are raised on every build.
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(ROOT),
        "--all",
    ]
    command += ["--warningiserror", "--nitpick", "--keep-going"]
    if builder != "html":
        command += ["--builder", builder]  # e.g. singlehtml, the whole book on one page
    if not solutions:
        command += ["--toc", str(toc_without_solutions())]
    return command


def build(solutions: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        build_command(solutions), cwd=ROOT, capture_output=capture, text=True
    )
