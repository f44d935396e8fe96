"""Numbers in prose are bound to the stored outputs (the rule: course_tools/prose_numbers.py)."""

import json

import nbformat
import pytest

from conftest import executed_notebook_paths
from course_tools import ROOT
from course_tools.prose_numbers import unbound_in_page, unbound_numbers

THEORY_PAGES = sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize(
    "path", executed_notebook_paths(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_numbers_in_markdown_come_from_the_outputs(path):
    assert not (problems := unbound_numbers(path)), "\n".join(map(str, problems))


@pytest.mark.parametrize("path", THEORY_PAGES, ids=lambda p: p.name)
def test_theory_pages_type_no_results(path):
    assert not (problems := unbound_in_page(path)), "\n".join(map(str, problems))


def _notebook(tmp_path, prose, printed):
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(accuracy)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    notebook.cells = [code, nbformat.v4.new_markdown_cell(prose)]
    path = tmp_path / "example.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def test_a_number_that_disagrees_with_the_outputs_fails(tmp_path):
    printed = "test accuracy 0.8734, 25000 reviews\n"
    right = _notebook(tmp_path, "It reaches 0.87, 87.3% of 25,000 reviews.", printed)
    assert unbound_numbers(right) == []
    wrong = _notebook(tmp_path, "It reaches 0.89 on 25,000 reviews.", printed)
    assert [problem.number for problem in unbound_numbers(wrong)] == ["0.89"]


def test_given_numbers_formulas_and_references_pass(tmp_path):
    prose = (
        "Chollet reports 2.39 °C <!-- given: 2.39 -->; see chapter 6.1, Keras 3.11, "
        "$x = 0.5$ and `rate=0.25`."
    )
    assert unbound_numbers(_notebook(tmp_path, prose, "nothing\n")) == []


def test_a_result_typed_into_a_theory_page_fails(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(":width: 90%\n\nThe LSTM reaches 0.91 here.\n")
    assert [problem.number for problem in unbound_in_page(page)] == ["0.91"]
    page.write_text("% given: 0.91\n\nHochreiter reports 0.91.\n")
    assert unbound_in_page(page) == []
