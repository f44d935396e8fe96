"""Each executed notebook: fresh full-mode outputs, quick switch, Colab badge, TOC entry."""

import re

import nbformat
import pytest
import yaml

from conftest import executed_notebook_paths, read_notebook, student_notebook_paths
from course_tools import QUICK_ENV, ROOT, links, provenance
from course_tools.badges import badge_problem

NOTEBOOKS = executed_notebook_paths()
IDS = [path.relative_to(ROOT).as_posix() for path in NOTEBOOKS]


def test_there_are_notebooks_to_check():
    assert NOTEBOOKS, "no notebook found under notebooks/ or solutions/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_are_fresh_and_full_mode(path):
    found = provenance.problems(read_notebook(path))
    rel = path.relative_to(ROOT).as_posix()
    assert not found, (
        f"{rel}: {'; '.join(found)}; refresh it with `make execute NB={rel}`"
    )


def stray_stderr(notebook) -> list[int]:
    """Code cells with a stderr output, except those tagged `stderr` (a deliberate part of the
    lesson, shown on the site too)."""
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and "stderr" not in cell.metadata.get("tags", [])
        and any(output.get("name") == "stderr" for output in cell.get("outputs", []))
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_carry_no_library_chatter(path):
    found = stray_stderr(read_notebook(path))
    rel = path.relative_to(ROOT).as_posix()
    assert not found, (
        f"{rel}: cells {found} show stderr (library logs or warnings) that students would"
        f" read in Colab; silence it where it arises, re-run `make execute NB={rel}`, or tag"
        " the cell `stderr` if it is part of the lesson"
    )


def test_the_stderr_check_finds_a_warning():
    notebook = small_notebook()
    warning = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: ...")
    notebook.cells[0].outputs = [warning]
    assert stray_stderr(notebook) == [0]
    notebook.cells[0].metadata["tags"] = ["stderr"]
    assert stray_stderr(notebook) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_reads_the_quick_mode_switch(path):
    code = "\n".join(
        cell.source for cell in read_notebook(path).cells if cell.cell_type == "code"
    )
    assert f'os.environ.get("{QUICK_ENV}")' in code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_cell_is_its_own_colab_badge(path):
    assert badge_problem(path) is None, badge_problem(path)


STUDENT_NOTEBOOKS = student_notebook_paths()


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS + STUDENT_NOTEBOOKS,
    ids=IDS + [p.relative_to(ROOT).as_posix() for p in STUDENT_NOTEBOOKS],
)
def test_links_to_course_pages_work_outside_the_site(path):
    assert links.link_problems(path) == []


def test_the_link_check_finds_roles_and_foreign_links(monkeypatch):
    notebook = nbformat.v4.new_notebook()
    base = links.site_url()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            "See {doc}`../book/04_lstm_gru`, [old](https://old.example/book/04_lstm_gru.html),"
            f" [gone]({base}book/no_such_page.html) and [ok]({base}book/04_lstm_gru.html)."
        )
    ]
    path = ROOT / "notebooks" / "scratch.ipynb"
    monkeypatch.setattr(nbformat, "read", lambda *args, **kwargs: notebook)
    found = links.link_problems(path)
    assert len(found) == 3 and "{doc}" in found[0], found
    assert "old.example" in found[1] and "no_such_page" in found[2], found
    fixed = links.rewrite(notebook.cells[0].source, path, base)
    assert "{doc}" not in fixed and "old.example" not in fixed
    assert f"See [LSTM and GRU cells]({base}book/04_lstm_gru.html)," in fixed
    assert f"[old]({base}book/04_lstm_gru.html)" in fixed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_imports_nothing_from_this_repository(path):
    code = "\n".join(
        cell.source for cell in read_notebook(path).cells if cell.cell_type == "code"
    )
    assert not re.search(
        r"^\s*(from|import)\s+(course_tools|tests)\b", code, re.MULTILINE
    )


def test_every_lecture_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"file:\s*(\S+)", toc))
    missing = [
        p.relative_to(ROOT).with_suffix("").as_posix()
        for p in NOTEBOOKS
        if p.parent.name == "notebooks"
    ]
    assert not [m for m in missing if m not in listed], (
        f"add these to _toc.yml: {missing}"
    )
    yaml.safe_load(toc)  # and the file is valid YAML


# The checks above must be able to fail: show it on a notebook whose provenance is wrong.
def small_notebook():
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1 + 1)")
    cell.execution_count = 1
    notebook.cells = [cell]
    return notebook


def test_provenance_accepts_a_full_run():
    notebook = small_notebook()
    provenance.stamp(notebook, mode="full", seconds=1.0)
    assert provenance.problems(notebook) == []


def test_provenance_rejects_edited_code():
    notebook = small_notebook()
    provenance.stamp(notebook, mode="full", seconds=1.0)
    notebook.cells[0].source = "print(2 + 2)"
    assert provenance.problems(notebook) == [
        "code changed after its outputs were produced"
    ]


def test_provenance_rejects_quick_mode_outputs():
    notebook = small_notebook()
    provenance.stamp(notebook, mode="quick", seconds=1.0)
    assert provenance.problems(notebook) == [
        "outputs come from 'quick' mode, not full mode"
    ]


def test_provenance_rejects_a_notebook_never_executed():
    notebook = small_notebook()
    assert provenance.problems(notebook)
    provenance.stamp(notebook, mode="full", seconds=1.0)
    notebook.cells[0].execution_count = None
    assert provenance.problems(notebook) == ["some code cells have no stored execution"]


def test_provenance_ignores_prose_edits():
    notebook = small_notebook()
    provenance.stamp(notebook, mode="full", seconds=1.0)
    notebook.cells.append(nbformat.v4.new_markdown_cell("A clarified explanation."))
    assert provenance.problems(notebook) == []
