"""Result numbers in prose must come from the stored outputs.

A decimal number, a percentage or a number in thousands (42,143) in a notebook's markdown is a
claim about a result. It passes when some number in the same notebook's stored outputs or code (a
hyperparameter) rounds to it at the prose's precision, as a fraction or as a percentage, or when the
markdown marks it as given by the literature, the lecture or plain arithmetic, with
`<!-- given: 2.62 420,551 -->` in the cell that states it (`% given: ...` in a theory page).
Numbers inside math (`$...$`), code spans and links are not checked (formulas, code and addresses),
nor are headings, the "Try this" tasks, and numbers that name a chapter or a version.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

# decimals (0.89), percentages (9%, 2.5 %) and thousands (42,143)
NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?=\s?%))(?![\w]|[.,]\d)"
)
#: a number right after one of these words names a part of the course or a version, not a result
REFERENCE = re.compile(
    r"(?:chapters?|examples?|sections?|exercises?|versions?|before|Keras|Python)\s*"
    r"(?:\d[\d.]*\s*[–-]\s*)?$",
    re.I,
)
OUTPUT_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
GIVEN = re.compile(r"(?:<!--|^%)\s*given:([^>\n]*)", re.M)
# math, inline code, fenced code, link targets, HTML comments
UNCHECKED = re.compile(
    r"\$\$.*?\$\$|\$[^$\n]+\$|```.*?```|`[^`\n]*`|\]\([^)]*\)|<!--.*?-->|https?://\S+",
    re.S,
)


@dataclass(frozen=True)
class Unbound:
    source: str
    cell: int | None  # None for a theory page
    number: str
    context: str

    def __str__(self):
        if self.cell is None:
            return (
                f"{self.source}: {self.number} (…{self.context}…) is a result typed into a "
                f"theory page; quote it from a notebook's output there, or, if the lecture, the "
                f"literature or arithmetic gives it, say so with a line `% given: {self.number}`"
            )
        return (
            f"{self.source}, markdown cell {self.cell}: {self.number} is in no stored output "
            f"of the notebook (…{self.context}…): print it from code, or, if the lecture, the "
            f"literature or arithmetic gives it, say so with <!-- given: {self.number} -->"
        )


def output_numbers(notebook) -> list[float]:
    """Every number in the stored outputs, and the literals of the code (hyperparameters)."""
    # 8_000 in code is 8,000 in prose
    texts = [
        re.sub(r"(?<=\d)_(?=\d)", "", cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(output["text"])
            for kind in ("text/plain", "text/html", "text/markdown"):
                if kind in output.get("data", {}):
                    texts.append(output["data"][kind])
    found = []
    for text in texts:
        for match in OUTPUT_NUMBER.findall(text):
            found.append(float(match.replace(",", "")))
    return found


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def is_bound(number: str, percent: bool, outputs: list[float]) -> bool:
    value, places = float(number), _decimals(number)
    for x in outputs:
        for candidate in (x, abs(x)) + ((100 * x, 100 * abs(x)) if percent else ()):
            if round(candidate, places) == round(value, places):
                return True
    return False


def _claims(text: str):
    """(number, is a percentage, context) for every checked number of a piece of prose."""
    prose = UNCHECKED.sub(" ", text)
    prose = re.sub(
        r"^#.*$", " ", prose, flags=re.M
    )  # headings carry titles, not results
    for match in NUMBER.finditer(prose):
        if REFERENCE.search(prose[max(0, match.start() - 30) : match.start()]):
            continue
        percent = prose[match.end() :].lstrip().startswith("%")
        context = prose[max(0, match.start() - 40) : match.end() + 20]
        yield match.group(1), percent, context.replace("\n", " ")


def _given(text: str) -> set[str]:
    return {number for marked in GIVEN.findall(text) for number in marked.split()}


def unbound_numbers(path: Path) -> list[Unbound]:
    notebook = nbformat.read(path, as_version=4)
    outputs = output_numbers(notebook)
    given = _given("\n".join(cell.source for cell in notebook.cells))
    return [
        Unbound(path.name, index, number, context)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown" and not cell.source.startswith("## Try this")
        for number, percent, context in _claims(cell.source)
        if number not in given
        and not is_bound(number.replace(",", ""), percent, outputs)
    ]


def unbound_in_page(path: Path) -> list[Unbound]:
    """The same rule for a theory page, which has no outputs: every result number is `given`."""
    text = path.read_text()
    given = _given(text)
    # directive options (":width: 90%") and MyST comments ("% ...") are not prose
    prose = re.sub(r"^\s*[:%].*$", " ", text, flags=re.M)
    return [
        Unbound(path.name, None, number, context)
        for number, _, context in _claims(prose)
        if number not in given
    ]
