"""The chapter and exercise tables are generated from the table of contents and each document's
own summary, and a document without one stops the build with a message that names it."""

import json

import nbformat
import pytest
import yaml
from sphinx.errors import ExtensionError

from course_tools import ROOT
from course_tools.contents_table import listed_documents, summary


@pytest.fixture(scope="module")
def toc():
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def test_the_tables_list_what_the_table_of_contents_lists(toc):
    chapters = listed_documents(toc, part="Lecture")
    exercises = listed_documents(toc, sections_of="book/07_exercises")
    assert chapters[0] == "book/01_introduction" and len(chapters) >= 6
    assert all(name.startswith("exercises/ex") for name in exercises)
    for docname in chapters + exercises:
        text = summary(ROOT, docname)
        assert text, docname
    intro = (ROOT / "book/intro.md").read_text(encoding="utf-8")
    assert "{contents-table}" in intro and "| 1 |" not in intro  # no hand-kept rows


def test_an_exercise_carries_its_solutions_summary():
    for path in sorted((ROOT / "solutions").glob("ex*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        student = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
        assert student.metadata["course"] == solution.metadata["course"], path.name


def test_a_page_without_a_summary_stops_the_build(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book/08_attention.md").write_text("# Attention\n", encoding="utf-8")
    with pytest.raises(ExtensionError, match=r"book/08_attention\.md has no summary"):
        summary(tmp_path, "book/08_attention")
    (tmp_path / "book/08_attention.md").write_text(
        "---\nsummary: weigh the encoder's states\n---\n# Attention\n", encoding="utf-8"
    )
    assert summary(tmp_path, "book/08_attention") == "weigh the encoder's states"


def test_a_notebook_without_a_summary_stops_the_build(tmp_path):
    (tmp_path / "exercises").mkdir()
    path = tmp_path / "exercises/ex9_windows.ipynb"
    path.write_text(json.dumps(nbformat.v4.new_notebook()), encoding="utf-8")
    with pytest.raises(
        ExtensionError, match=r"ex9_windows\.ipynb has no summary.*make assign"
    ):
        summary(tmp_path, "exercises/ex9_windows")


def test_an_unknown_part_is_an_error(toc):
    with pytest.raises(ExtensionError, match="no part 'Appendix'"):
        listed_documents(toc, part="Appendix")
