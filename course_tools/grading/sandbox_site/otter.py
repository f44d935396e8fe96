"""What a submission's `import otter` finds in the sandbox: a stand-in for otter-grader.

In a student's Colab or Jupyter, `grader.check("q1")` runs the public tests and prints their
verdict. In the grader that verdict is thrown away (the grader runs every test itself, in its
own process: see `judge`), so importing the real otter, which takes seconds, would only slow
each submission down. This module answers the same calls and checks nothing.
"""

__version__ = "stand-in"


class Checked:
    """What a check returns here: a note that the grader runs the tests."""

    def __init__(self, question=None):
        self.question = question

    def __repr__(self):
        what = self.question or "every question"
        return f"{what}: checked by the grader"

    def _repr_html_(self):
        return f"<p>{self!r}</p>"


class Notebook:
    def __init__(self, *args, **kwargs):
        pass

    def check(self, question=None, *args, **kwargs):
        return Checked(question)

    def check_all(self, *args, **kwargs):
        return Checked()

    def export(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
