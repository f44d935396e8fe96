"""Tables of chapters or exercises generated from the table of contents, never kept by hand.

In a MyST page::

    ```{contents-table} chapter
    :part: Lecture
    ```

lists the chapters of the `_toc.yml` part captioned *Lecture*, one row each: its number, a link to
it and its summary. With `:sections-of: book/07_exercises` it lists that chapter's sections
instead. The argument is the heading of the link column.

Each listed document carries its own one-line summary (what the reader will do there):

- a MyST page in its front matter, a first block between `---` lines: `summary: ...`;
- a notebook in its notebook metadata, `"course": {"summary": "..."}` (an exercise's student
  notebook gets it from its solution, through `make assign`).

A document without a summary is a build error that names the file, so a new chapter or exercise
cannot slip into the site with an empty row.
"""

import json
from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective


def front_matter(path: Path) -> dict:
    """The YAML front matter of a MyST page: the block between its first two `---` lines."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    end = text.find("\n---", 4)
    if end < 0:
        return {}
    return yaml.safe_load(text[4:end]) or {}


def source_file(srcdir: Path, docname: str) -> Path:
    """The page or notebook a table-of-contents entry names."""
    for suffix in (".md", ".ipynb"):
        if (path := srcdir / f"{docname}{suffix}").is_file():
            return path
    raise ExtensionError(f"{docname}: no .md or .ipynb file for this table entry")


def summary(srcdir: Path, docname: str) -> str:
    """The summary a document declares; ExtensionError, naming the file, when it has none."""
    path = source_file(srcdir, docname)
    if path.suffix == ".md":
        found, where = front_matter(path).get("summary"), "front matter"
        hint = "a first block `---` / `summary: ...` / `---`"
    else:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        found, where = metadata.get("course", {}).get("summary"), "metadata"
        hint = (
            'notebook metadata "course": {"summary": "..."} (for an exercise, in '
            "its solution; then `make assign`)"
        )
    if isinstance(found, str) and found.strip():
        return " ".join(found.split())
    raise ExtensionError(
        f"{path.relative_to(srcdir)} has no summary in its {where}: the table of "
        f"contents lists it in a generated table, which needs {hint}"
    )


def _chapters(node, caption: str | None, parent: str | None) -> list[str] | None:
    """The files listed under the part `caption`, or in the sections of `parent`."""
    if isinstance(node, list):
        for item in node:
            found = _chapters(item, caption, parent)
            if found is not None:
                return found
        return None
    if not isinstance(node, dict):
        return None
    if caption is not None and node.get("caption") == caption:
        return [entry["file"] for entry in node.get("chapters", [])]
    if parent is not None and node.get("file") == parent:
        return [entry["file"] for entry in node.get("sections", [])]
    for value in node.values():
        found = _chapters(value, caption, parent)
        if found is not None:
            return found
    return None


def listed_documents(
    toc: dict, part: str | None = None, sections_of: str | None = None
) -> list[str]:
    found = _chapters(toc, part, sections_of)
    if not found:
        what = f"part {part!r}" if part else f"sections of {sections_of!r}"
        raise ExtensionError(f"_toc.yml lists no {what} for a contents table")
    return found


class ContentsTable(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"part": str, "sections-of": str}

    def run(self):
        srcdir = Path(self.env.srcdir)
        toc_path = Path(self.config.external_toc_path)
        if not toc_path.is_absolute():
            toc_path = srcdir / toc_path
        self.env.note_dependency(str(toc_path))
        toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
        documents = listed_documents(
            toc, self.options.get("part"), self.options.get("sections-of")
        )
        lines = [f"| | {self.arguments[0]} | you will |", "|---|---|---|"]
        for number, docname in enumerate(documents, start=1):
            self.env.note_dependency(str(source_file(srcdir, docname)))
            text = summary(srcdir, docname).replace("|", "\\|")
            lines.append(f"| {number} | {{doc}}`/{docname}` | {text} |")
        holder = nodes.container()
        self.state.nested_parse(
            StringList(lines, source=self.env.docname), self.content_offset, holder
        )
        return holder.children


def setup(app):
    app.add_directive("contents-table", ContentsTable)
