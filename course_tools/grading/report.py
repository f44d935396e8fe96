"""What a batch writes out: `grades.csv` (a row per submission) and one feedback file each, both
written atomically, with names a submission's file name cannot misuse, and feedback whose
structure nothing a submission prints can change."""

import csv
import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

from course_tools.grading.result import Result, total, total_possible

#: Largest feedback file written; longer ones are cut, saying so.
MAX_FEEDBACK_CHARS = 200_000
#: Most cells listed in one feedback file.
MAX_CELLS_LISTED = 50


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.replace(temporary, path)


def output_name(submission: str) -> str:
    """A file name for a submission's feedback and cache record: the name itself when it is
    short and plain, else a plain prefix of it and a digest."""
    plain = re.sub(r"[^\w.+@()-]", "_", submission)
    if plain == submission and len(submission.encode()) <= 120:
        return submission
    return f"{plain[:80]}-{hashlib.sha256(submission.encode()).hexdigest()[:12]}"


def _number(value: float) -> str:
    return f"{value:g}"


def write_grades(out: Path, questions: list[dict], results: dict[str, Result]) -> Path:
    names = [question["name"] for question in questions]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", *names, "total", "status"])
    for submission in sorted(results):
        result = results[submission]
        scores = [result["scores"].get(name, 0.0) for name in names]
        writer.writerow(
            [submission, *map(_number, scores), _number(sum(scores)), result["status"]]
        )
    path = out / "grades.csv"
    atomic_write(path, buffer.getvalue())
    return path


def fenced(text: str, indent: str = "") -> list[str]:
    """`text` as a code block that nothing in it can close: its fence is longer than any run
    of backticks the text holds, so a message cannot write markdown of its own."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [
        indent + fence,
        *[indent + line for line in text.splitlines()],
        indent + fence,
    ]


def feedback_text(exercise: str, result: Result) -> str:
    lines = [
        f"# {exercise}: feedback",
        "",
        *fenced(result["submission"]),
        "",
        f"**Score: {_number(total(result))} / {_number(total_possible(result))}**",
        "",
    ]
    if result["status"] == "invalid":
        lines += ["Your submission could not be graded:", ""]
        lines += fenced("\n".join(result["messages"])) + [""]
        return _capped("\n".join(lines))
    if result["status"] == "grader error":
        lines += [
            "The grader failed on this submission; your instructor has been told. Details:",
            "",
            *fenced("\n".join(result["messages"])),
            "",
        ]
        return _capped("\n".join(lines))
    lines += ["| question | score |", "|---|---|"]
    for name, score in result["scores"].items():
        lines.append(
            f"| {name} | {_number(score)} / {_number(result['possible'][name])} |"
        )
    lines.append("")
    for name, cases in result["tests"].items():
        failed = [case for case in cases if not case["passed"]]
        if not failed:
            continue
        lines += [f"## {name}", ""]
        public = [case for case in cases if not case["hidden"]]
        hidden = [case for case in cases if case["hidden"]]
        for kind, group in (("public", public), ("hidden", hidden)):
            for number, case in enumerate(group, start=1):
                if case["passed"]:
                    continue
                lines += [f"- {kind} test {number} failed:", ""]
                lines += fenced(case["message"], "  ") + [""]
    if result["cells"] or result["messages"]:
        lines += ["## Running your notebook", ""]
        cells = result["cells"]
        for cell in cells[:MAX_CELLS_LISTED]:
            lines += [f"- code cell {cell['cell']} ({cell['status']}):", ""]
            lines += fenced(cell["message"], "  ") + [""]
        if len(cells) > MAX_CELLS_LISTED:
            lines += [f"- and {len(cells) - MAX_CELLS_LISTED} more cells", ""]
        if result["messages"]:
            lines += fenced("\n".join(result["messages"])) + [""]
    lines += [
        "The tests ran in the grader's own process: printed text, `grader.check` results and "
        "changes the notebook makes to its own modules do not count.",
        "",
    ]
    return _capped("\n".join(lines))


def _capped(text: str) -> str:
    if len(text) <= MAX_FEEDBACK_CHARS:
        return text
    cut = text[:MAX_FEEDBACK_CHARS]
    longest = max((len(run) for run in re.findall(r"`+", cut)), default=0)
    fence = "`" * (longest + 1)  # closes whatever block the cut fell in
    return f"{cut}\n{fence}\n\n(feedback cut at {MAX_FEEDBACK_CHARS:,} characters)\n"


def write_feedback(out: Path, exercise: str, result: Result) -> Path:
    path = out / "feedback" / f"{output_name(result['submission'])}.md"
    atomic_write(path, feedback_text(exercise, result))
    return path
