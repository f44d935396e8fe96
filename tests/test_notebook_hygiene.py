"""Each executed notebook: fresh full-mode outputs, quick switch, Colab badge, TOC entry."""

import ast
import re
from pathlib import Path, PurePosixPath

import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

from conftest import executed_notebook_paths, read_notebook, student_notebook_paths
from course_tools import QUICK_ENV, ROOT, links, provenance, tidy
from course_tools.badges import badge_problem
from course_tools.book import toc_documents

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


def quick_switch_reads(notebook) -> list[str]:
    """Every read of the quick-mode switch in the notebook's code, as code (not in a comment or
    a string): `os.environ.get("COURSE_QUICK")`, `os.getenv(...)` or `os.environ[...]`."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:  # %pip and other magics become Python first
            tree = ast.parse(TransformerManager().transform_cell(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                target, key = ast.unparse(node.func), node.args[0]
                reads = target in ("os.environ.get", "os.getenv")
            elif isinstance(node, ast.Subscript):
                target, key = ast.unparse(node.value), node.slice
                reads = target == "os.environ"
            else:
                continue
            if reads and isinstance(key, ast.Constant) and key.value == QUICK_ENV:
                found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_reads_the_quick_mode_switch(path):
    assert quick_switch_reads(read_notebook(path)), (
        f'no os.environ.get("{QUICK_ENV}") in the code of {path.name}'
    )


def test_the_quick_switch_check_wants_code():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            f'%pip install --quiet numpy\n# QUICK = os.environ.get("{QUICK_ENV}") == "1"\n'
            f'print(\'os.environ.get("{QUICK_ENV}")\')\nos.environ.get("OTHER")'
        ),
        nbformat.v4.new_markdown_cell(f'`os.environ.get("{QUICK_ENV}")`'),
    ]
    assert quick_switch_reads(notebook) == []
    for read in (
        f'os.environ.get("{QUICK_ENV}")',
        f'os.getenv("{QUICK_ENV}", "0")',
        f'os.environ["{QUICK_ENV}"]',
    ):
        notebook.cells.append(nbformat.v4.new_code_cell(f"QUICK = {read} == '1'"))
        assert len(quick_switch_reads(notebook)) == len(notebook.cells) - 2


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


#: Folders whose every notebook is a page of the site.
PAGE_FOLDERS = ("notebooks", "exercises", "solutions")


def unlisted_notebooks(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Notebooks of PAGE_FOLDERS that the table of contents, read as YAML, does not list."""
    listed = {
        str(PurePosixPath(doc).with_suffix(""))
        if doc.endswith((".ipynb", ".md"))
        else doc
        for doc in toc_documents(toc)
    }
    return [
        rel
        for folder in PAGE_FOLDERS
        for path in sorted((ROOT / folder).glob("*.ipynb"))
        if (rel := path.relative_to(ROOT).with_suffix("").as_posix()) not in listed
    ]


def test_every_notebook_is_in_the_table_of_contents():
    missing = unlisted_notebooks()
    assert not missing, (
        f"add these to _toc.yml: {missing} (only_build_toc_files leaves an unlisted"
        " notebook off the site, without a warning)"
    )


def test_the_toc_check_ignores_comments_and_sees_every_folder(tmp_path):
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    exercise = student_notebook_paths()[0].relative_to(ROOT).with_suffix("").as_posix()
    assert f"- file: {exercise}\n" in toc
    commented = tmp_path / "_toc.yml"
    commented.write_text(
        toc.replace(f"- file: {exercise}\n", f"# - file: {exercise}\n", 1),
        encoding="utf-8",
    )
    assert unlisted_notebooks(commented) == [exercise]
    yaml.safe_load(toc)  # and the real one is valid YAML


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


@pytest.mark.parametrize(
    "path", NOTEBOOKS + student_notebook_paths(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_volatile_metadata(path):
    """No per-cell timestamps: a re-run changes a notebook's outputs, not every cell."""
    notebook = nbformat.read(path, as_version=4)
    assert not tidy.strip_volatile(notebook), (
        "run: python -m course_tools strip-metadata"
    )


def test_the_volatile_metadata_check_finds_a_timestamp():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    notebook.cells[0].metadata["execution"] = {
        "iopub.status.busy": "2026-12-03T10:00:00Z"
    }
    assert (
        tidy.strip_volatile(notebook) and "execution" not in notebook.cells[0].metadata
    )


def test_format_notebook_formats_its_code_cells(tmp_path):
    """What `make execute` runs first, so that a `ruff format` after it changes nothing."""
    path = tmp_path / "unformatted.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x=[1,2 ,3]")])
    nbformat.write(notebook, path)
    tidy.format_notebook(path)
    assert nbformat.read(path, as_version=4).cells[0].source == "x = [1, 2, 3]"
