"""ruff over the code and the notebooks: lint rules and formatting."""

import subprocess
import sys
from pathlib import Path

from course_tools import ROOT

RUFF = str(Path(sys.executable).with_name("ruff"))


def run_ruff(*args):
    return subprocess.run([RUFF, *args], capture_output=True, text=True, cwd=ROOT)


def test_ruff_lint_is_clean():
    result = run_ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run_ruff("format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
