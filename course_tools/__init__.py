"""Maintainer tooling for the course: data seeding, notebook execution and provenance, Colab links.

Nothing in here is imported by a notebook; notebooks stay self-contained so they run in Colab.
"""

from pathlib import Path

#: The repository root, which is also the Jupyter Book root.
ROOT = Path(__file__).resolve().parent.parent

#: The one switch that shrinks data and epochs for CI. Unset (or not "1") means full fidelity.
QUICK_ENV = "COURSE_QUICK"

#: The repository's raw-file address, which an exercise's set-up cell downloads its public tests
#: from. Unset, it is GitHub's address of the repository in _config.yml; the tests point it at a
#: local server that stands in for it.
RAW_URL_ENV = "COURSE_RAW_URL"

#: Folders whose notebooks are committed with full-mode outputs and run under nbval.
EXECUTED_DIRS = ("notebooks", "solutions")
