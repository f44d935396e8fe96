"""The templates that `make new` starts from follow every rule as they are."""

import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml

from course_tools import ROOT, new, provenance
from course_tools.book import toc_documents
from course_tools.book_config import load_repository
from course_tools.execute import execute_notebook
from course_tools.prose_numbers import unbound_numbers


@pytest.fixture
def course(tmp_path):
    """A copy of the course's configuration and table of contents to start notebooks in."""
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "solutions").mkdir()
    return tmp_path


def test_a_new_notebook_has_its_badge_and_its_place_in_its_chapter(course):
    path = new.start("notebooks/03_stacked_forecasts.ipynb", root=course)
    first = nbformat.read(path, as_version=4).cells[0].source
    assert first == load_repository().colab_badge(
        ROOT / "notebooks/03_stacked_forecasts.ipynb"
    )
    files = toc_documents(course / "_toc.yml")
    assert (
        files.index("notebooks/03_stacked_forecasts")
        == files.index("notebooks/03_deep_rnns") + 1
    )
    yaml.safe_load((course / "_toc.yml").read_text())  # still valid
    with pytest.raises(new.NewError, match="exists already"):
        new.start("notebooks/03_stacked_forecasts.ipynb", root=course)


def test_a_new_chapter_gets_its_first_notebook_as_a_section(course):
    toc = course / "_toc.yml"
    toc.write_text(
        toc.read_text().replace(
            "      - file: book/06_training_rnns\n",
            "      - file: book/08_attention\n      - file: book/06_training_rnns\n",
        )
    )
    new.start("notebooks/08_attention_weights.ipynb", root=course)
    chapters = yaml.safe_load(toc.read_text())["parts"][0]["chapters"]
    chapter = next(c for c in chapters if c["file"] == "book/08_attention")
    assert chapter["sections"] == [{"file": "notebooks/08_attention_weights"}]


def test_a_new_exercise_is_named_and_listed_with_its_solution(course):
    path = new.start("solutions/ex9_windows.ipynb", root=course)
    text = path.read_text()
    assert "name: ex9_windows" in text and "/ex9_windows/" in text
    assert "# Exercise 9:" in text and "NAME" not in text
    files = toc_documents(course / "_toc.yml")
    assert "exercises/ex9_windows" in files and "solutions/ex9_windows" in files


@pytest.mark.parametrize(
    "relative", ["book/08_more.md", "notebooks/topic.ipynb", "solutions/topic.ipynb"]
)
def test_a_name_that_fits_no_template_is_refused(course, relative):
    with pytest.raises(new.NewError):
        new.start(relative, root=course)


def test_the_lecture_template_runs_and_follows_the_rules(tmp_path):
    path = tmp_path / "06_9_template.ipynb"
    shutil.copy(ROOT / "templates/lecture_notebook.ipynb", path)
    execute_notebook(path, quick=True)
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["course_run"]["mode"] == "quick"
    assert (
        provenance.code_hash(notebook) == notebook.metadata["course_run"]["code_sha256"]
    )
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    assert not unbound_numbers(path)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert (
        'os.environ.get("COURSE_QUICK") == "1"' in code and "course_tools" not in code
    )
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run([*ruff, "check", "--quiet", str(path)], check=True, cwd=ROOT)
    subprocess.run(
        [*ruff, "format", "--check", "--quiet", str(path)], check=True, cwd=ROOT
    )
