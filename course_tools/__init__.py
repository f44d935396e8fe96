"""Maintainer tooling for the course: data seeding, notebook execution and provenance, Colab links.

Nothing in here is imported by a notebook; notebooks stay self-contained so they run in Colab.
"""

from pathlib import Path

#: The repository root, which is also the Jupyter Book root.
ROOT = Path(__file__).resolve().parent.parent

#: The one switch that shrinks data and epochs for CI. Unset (or not "1") means full fidelity.
QUICK_ENV = "COURSE_QUICK"

#: Folders whose notebooks are committed with full-mode outputs and run under nbval.
EXECUTED_DIRS = ("notebooks", "solutions")
