"""The course's Sphinx extension: a results directive, unnumbered sections, and one fix to the
theme's scripts.

The `{headline-results}` directive shows the headline results of every notebook, read from stored
outputs.

In a notebook, tag a code cell `headline` (cell metadata `tags`); its stored text output (a
printed table, a DataFrame) appears on the results page under the notebook's title, with a link
to it. Nothing is typed and nothing is executed: the page shows what the last full run produced.

Usage in a MyST page:

    ```{headline-results}
    ```
"""

from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util.docutils import SphinxDirective

from course_tools import contents_table, selfcheck

HEADLINE_TAG = "headline"


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def headline_outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    """The HTML or plain-text outputs of the notebook's headline cells, in order."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or HEADLINE_TAG not in cell.metadata.get(
            "tags", []
        ):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stdout":
                found.append({"text": output.text})
            elif output.output_type in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "text/html" in data:
                    found.append({"html": data["text/html"]})
                elif "text/plain" in data:
                    found.append({"text": data["text/plain"]})
    return found


class HeadlineResults(SphinxDirective):
    """A section per lecture notebook with headline cells: its title (a link), their outputs."""

    has_content = False

    def run(self):
        sections = []
        for docname in sorted(self.env.found_docs):
            path = Path(self.env.srcdir) / f"{docname}.ipynb"
            if not docname.startswith("notebooks/") or not path.is_file():
                continue
            self.env.note_dependency(
                str(path)
            )  # rebuild this page when the notebook changes
            notebook = nbformat.read(path, as_version=4)
            outputs = headline_outputs(notebook)
            if outputs:
                sections.append(
                    self._section(docname, notebook_title(notebook, docname), outputs)
                )
        return sections or [
            nodes.paragraph(text="No notebook has headline results yet.")
        ]

    def _section(self, docname, title_text, outputs):
        section = nodes.section(ids=[nodes.make_id(f"results-{docname}")])
        link = pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget=f"/{docname}",
            refexplicit=True,
        )
        link += nodes.inline(title_text, title_text)
        section += nodes.title("", "", link)
        for output in outputs:
            if "html" in output:
                section += nodes.raw("", output["html"], format="html")
            else:
                section += nodes.literal_block(output["text"], output["text"])
        return section


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep one copy of each script: Jupyter Book's extensions register their inline scripts twice,
    and a second `const THEBE_JS_URL = ...` is a JavaScript error on every page."""
    scripts = context.get("script_files", [])
    seen, unique = set(), []
    for script in scripts:
        key = (
            script.filename or "",
            tuple(sorted(script.attributes.items())),
        )  # None == ""
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: other handlers hold the same list


def unnumber_sections(app, env):
    """Take the section numbers off the documents of `course_unnumbered`, and number their later
    siblings as if they were not there.

    Chapter 6 of the lecture opens with backpropagation through time, then numbers its examples
    6.1 IMDB and 6.2 Jena: the gradients notebook comes first in the table of contents, without a
    number, so that IMDB is 6.1 as in the lecture. Sphinx numbers every entry of a numbered
    toctree, so the numbers are corrected once it has assigned them.
    """
    changed = set()
    for docname in app.config.course_unnumbered:
        own = env.toc_secnumbers.get(docname, {}).get("")
        if not own:
            continue
        parent, place = own[:-1], own[-1]

        def renumber(number, parent=parent, place=place):
            if len(number) <= len(parent) or number[: len(parent)] != parent:
                return number
            if number[len(parent)] == place:
                return None
            if number[len(parent)] > place:
                return (*parent, number[len(parent)] - 1, *number[len(parent) + 1 :])
            return number

        for name, numbers in env.toc_secnumbers.items():
            new = {anchor: renumber(number) for anchor, number in numbers.items()}
            if new != numbers:
                changed.add(name)
                env.toc_secnumbers[name] = {a: n for a, n in new.items() if n}
                for reference in env.tocs[name].findall(nodes.reference):
                    if "secnumber" in reference:
                        number = renumber(tuple(reference["secnumber"]))
                        if number:
                            reference["secnumber"] = number
                        else:
                            del reference["secnumber"]
    return sorted(changed)


def setup(app):
    selfcheck.setup(app)
    contents_table.setup(app)
    app.add_directive("headline-results", HeadlineResults)
    app.add_config_value("course_unnumbered", [], "env")
    # after Sphinx's own numbering (the toctree collector's handler, at the default priority)
    app.connect("env-get-updated", unnumber_sections, priority=900)
    app.connect(
        "html-page-context", drop_duplicate_scripts, priority=999
    )  # after the theme's
    return {"parallel_read_safe": True, "parallel_write_safe": True}
