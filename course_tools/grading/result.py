"""The one thing grading produces: what each question of a submission scored, and why.

A `Result` is plain JSON data, because it crosses from the worker process to the batch (and into
the cache and the Gradescope report) as text. Everything that builds or scores one is here; the
modules that write it out (`report`) or produce it (`worker`) only fill it in or read it.
"""

from typing import Literal, TypedDict

#: A result's size cap (it is cached and sent between processes): the cell problems and messages
#: kept, and the characters kept of any one message.
MAX_CELLS_KEPT = 200
MAX_MESSAGE_CHARS = 4_000
MAX_MESSAGES = 50

#: graded: the notebook ran and the tests judged it; invalid: the file is not a notebook that can
#: be graded (the reason is in `messages`); grader error: our fault, the student scores nothing
#: and the instructor is told.
Status = Literal["graded", "invalid", "grader error"]


class CaseOutcome(TypedDict):
    """One test case of a question: whether it passed, and the message a failure printed."""

    hidden: bool
    points: float
    passed: bool
    message: str


class CellProblem(TypedDict):
    """A code cell of the submission that did not run cleanly (error, timeout, killed)."""

    cell: int
    status: str
    message: str


class Result(TypedDict, total=False):
    submission: str  # the file's name in the submissions folder
    status: Status
    scores: dict[str, float]  # question -> points earned
    possible: dict[str, float]  # question -> points available
    tests: dict[str, list[CaseOutcome]]  # question -> its cases, in order
    cells: list[CellProblem]
    messages: list[str]  # what the student should know beyond the tests
    seconds_running: float


def possible_points(question: dict) -> float:
    return sum(case["points"] for case in question["cases"])


def empty(submission: str, questions: list[dict]) -> Result:
    """A graded result with nothing earned yet."""
    return {
        "submission": submission,
        "scores": {question["name"]: 0.0 for question in questions},
        "possible": {
            question["name"]: possible_points(question) for question in questions
        },
        "status": "graded",
        "messages": [],
        "cells": [],
        "tests": {},
    }


def failed(submission: str, questions: list[dict], message: str) -> Result:
    """The grader could not finish this submission: zero, with the reason."""
    result = empty(submission, questions)
    result["status"] = "grader error"
    result["messages"].append(message)
    return result


def invalid(submission: str, questions: list[dict], message: str) -> Result:
    """The file cannot be graded (a link, a folder, not a notebook ...): zero, with the reason."""
    result = failed(submission, questions, message)
    result["status"] = "invalid"
    return result


def score_question(question: dict, outcomes: list[CaseOutcome]) -> float:
    """Otter's rules: the points of the passed cases, or all or nothing if the question says so."""
    if question.get("all_or_nothing"):
        return possible_points(question) if all(o["passed"] for o in outcomes) else 0.0
    return sum(outcome["points"] for outcome in outcomes if outcome["passed"])


def record(result: Result, question: dict, outcomes: list[CaseOutcome]) -> None:
    """Store a question's case outcomes and its score in `result`."""
    result["tests"][question["name"]] = outcomes
    result["scores"][question["name"]] = score_question(question, outcomes)


def total(result: Result) -> float:
    return sum(result["scores"].values())


def total_possible(result: Result) -> float:
    return sum(result["possible"].values())


def _short(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    kept = (
        MAX_MESSAGE_CHARS - 60
    )  # room for the note, so that a capped text stays as it is
    return text[:kept] + f"\n... ({len(text) - kept:,} characters cut)"


def capped(result: Result) -> Result:
    """`result` with at most MAX_CELLS_KEPT cell problems and every message cut to
    MAX_MESSAGE_CHARS, saying what was left out."""
    cells = result.get("cells", [])
    kept = [
        {**cell, "message": _short(cell["message"])} for cell in cells[:MAX_CELLS_KEPT]
    ]
    notes = []
    if len(cells) > MAX_CELLS_KEPT:
        notes.append(f"{len(cells) - MAX_CELLS_KEPT} more cells failed (not listed)")
    kept_messages = result.get("messages", [])[: MAX_MESSAGES - len(notes)]
    messages = notes + [_short(message) for message in kept_messages]
    tests = {
        name: [{**case, "message": _short(case["message"])} for case in cases]
        for name, cases in result.get("tests", {}).items()
    }
    return {**result, "cells": kept, "messages": messages, "tests": tests}
