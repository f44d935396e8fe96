"""`make benchmark`'s notebook part and its table, on the real notebooks (no grading, no build)."""

import nbformat

from course_tools import benchmark, provenance
from course_tools.execute import executed_notebooks


def test_notebook_seconds_and_table_on_the_real_notebooks(tmp_path):
    bare = tmp_path / "never_executed.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), bare)
    paths = executed_notebooks()
    rows = benchmark.notebook_rows([*paths, bare])

    assert len(rows) == len(paths) + 2  # every notebook, the bare one, the total
    assert rows[-2] == (str(bare), None, "no course_run metadata")
    stored = [
        nbformat.read(path, as_version=4).metadata.get(provenance.METADATA_KEY, {})
        for path in paths
    ]
    seconds = [record.get("seconds") for record in stored]
    assert [row[1] for row in rows[: len(paths)]] == seconds
    known = [s for s in seconds if s is not None]
    assert rows[-1][1] == sum(known)
    assert "1 without a stored time" in rows[-1][2]
    over = [row for row in rows[:-1] if row[1] and row[1] > benchmark.BUDGET_SECONDS]
    assert all("over the 900 s budget" in row[2] for row in over)

    lines = benchmark.table(rows).splitlines()
    assert lines[:2] == ["| what | seconds | note |", "|---|---:|---|"]
    assert len(lines) == len(rows) + 2
    # four cell borders on every row: no note spills into a column of its own
    assert all(line.startswith("| ") and line.count("|") == 4 for line in lines[2:])
    assert f"| {bare} | – | no course_run metadata |" in lines
