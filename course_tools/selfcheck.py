"""In-page self-check questions that work on the static site, with no Python and no server.

A multiple-choice question, in a MyST page::

    :::{selfcheck} Which layer returns one output per time step?
    - [ ] `SimpleRNN(32)` :: It returns its last output only.
    - [x] `SimpleRNN(32, return_sequences=True)` :: One output vector per step.
    :::

Options are `- [x]` (right) or `- [ ]` (wrong), then `::` and the feedback the reader gets after
choosing it. A numeric question::

    :::{selfcheck} How many weights has `SimpleRNN(4)` reading 3 features?
    :answer: 32
    :tolerance: 0
    :explain: 4 × (3 + 4 + 1): input weights, recurrent weights and biases.
    :::

The reader answers in the browser and presses *Check*; selfcheck.js says right or wrong, with the
feedback. Inline `code` is the only markup the text may carry. Use a colon fence: a backtick
fence may not carry backticks in its first line.
"""

import html
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

STATIC = Path(__file__).parent / "static"
OPTION = re.compile(
    r"^- \[(?P<mark>[ xX])\]\s+(?P<text>.*?)\s*(?:::\s*(?P<feedback>.*))?$"
)


def inline(text: str) -> str:
    """Escaped text, with `code` spans as <code>."""
    parts = re.split(r"`([^`]*)`", text)
    return "".join(
        f"<code>{html.escape(part)}</code>" if index % 2 else html.escape(part)
        for index, part in enumerate(parts)
    )


class SelfCheck(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {
        "answer": directives.unchanged,
        "tolerance": directives.unchanged,
        "explain": directives.unchanged,
    }

    def run(self):
        serial = self.env.new_serialno("selfcheck")
        name = f"selfcheck-{self.env.docname.replace('/', '-')}-{serial}"
        question = f'<p class="selfcheck-question">{inline(self.arguments[0])}</p>'
        if "answer" in self.options:
            body = self._numeric(name)
        else:
            body = self._choices(name)
        markup = (
            f'<div class="selfcheck" id="{name}">{question}{body}'
            '<button type="button" class="selfcheck-check">Check</button>'
            '<p class="selfcheck-feedback" aria-live="polite"></p></div>'
        )
        return [nodes.raw("", markup, format="html")]

    def _numeric(self, name):
        try:
            answer = float(self.options["answer"])
            tolerance = float(self.options.get("tolerance", "0"))
        except ValueError as error:
            message = f"selfcheck: answer and tolerance must be numbers ({error})"
            raise self.error(message) from error
        explain = html.escape(inline(self.options.get("explain", "")), quote=True)
        return (
            f'<input type="text" inputmode="decimal" class="selfcheck-number" '
            f'aria-label="your answer" data-answer="{answer!r}" '
            f'data-tolerance="{tolerance!r}" data-explain="{explain}">'
        )

    def _choices(self, name):
        options = [OPTION.match(line.strip()) for line in self.content if line.strip()]
        if not options or None in options:
            raise self.error(
                "selfcheck: every line must be an option: - [x] text :: feedback"
            )
        if not any(option["mark"] in "xX" for option in options):
            raise self.error("selfcheck: mark at least one option right with - [x]")
        items = []
        for index, option in enumerate(options):
            right = "1" if option["mark"] in "xX" else "0"
            feedback = html.escape(inline(option["feedback"] or ""), quote=True)
            items.append(
                f'<li><label><input type="radio" name="{name}" value="{index}" '
                f'data-right="{right}" data-feedback="{feedback}"> '
                f"{inline(option['text'])}</label></li>"
            )
        return f'<ul class="selfcheck-options">{"".join(items)}</ul>'


def add_static_path(app, config):
    config.html_static_path.append(str(STATIC))


def setup(app):
    app.add_directive("selfcheck", SelfCheck)
    app.connect("config-inited", add_static_path)
    app.add_css_file("selfcheck.css")
    app.add_js_file("selfcheck.js")
