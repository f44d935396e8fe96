"""Draw the course's diagrams as SVG files beside this script (`make figures`).

One style for every figure: dark ink on an opaque white card, so the diagrams read the same on the
site's light and dark themes.
"""

from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = Path(__file__).parent
INK = "#1f2933"
NEURON = "#dbeafe"
INPUT = "#fef3c7"
OUTPUT = "#dcfce7"
plt.rcParams.update(
    {"font.family": "DejaVu Sans", "font.size": 13, "svg.hashsalt": "rnn-course"}
)


def card(width, height, bottom=0.0):
    """A white figure whose data coordinates are inches, with `bottom` inches of room below y=0."""
    fig = plt.figure(figsize=(width, height + bottom), facecolor="white")
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(-bottom, height)
    ax.axis("off")
    return fig, ax


def node(ax, x, y, text, color, w=0.9, h=0.6):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.05",
            fc=color,
            ec=INK,
            lw=1.5,
        )
    )
    ax.text(x, y, text, ha="center", va="center", color=INK)


def arrow(ax, start, end, style="-|>", connection="arc3", dashed=False):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=15,
            color=INK,
            lw=1.5,
            connectionstyle=connection,
            linestyle="--" if dashed else "-",
        )
    )


def save(fig, name):
    fig.savefig(HERE / f"{name}.svg", metadata={"Date": None})
    plt.close(fig)


def recurrent_neuron_unrolled():
    fig, ax = card(10, 3.6, bottom=0.3)
    # Folded view: one neuron whose output loops back into itself.
    node(ax, 1.2, 0.6, "$x_{(t)}$", INPUT)
    node(ax, 1.2, 1.8, "$\\Sigma,\\ \\phi$", NEURON)
    node(ax, 1.2, 3.0, "$y_{(t)}$", OUTPUT)
    arrow(ax, (1.2, 0.9), (1.2, 1.5))
    arrow(ax, (1.2, 2.1), (1.2, 2.7))
    arrow(ax, (1.65, 2.3), (1.65, 1.4), connection="arc3,rad=-1.4")
    ax.text(2.75, 1.8, "=", ha="center", va="center", fontsize=26, color=INK)
    # Unrolled view: one copy of the same neuron per time step.
    for i, x in enumerate([4.0, 5.6, 7.2, 8.8]):
        t = "t" if i == 3 else f"t-{3 - i}"
        node(ax, x, 0.6, f"$x_{{({t})}}$", INPUT, w=1.05)
        node(ax, x, 1.8, "$\\Sigma,\\ \\phi$", NEURON)
        node(ax, x, 3.0, f"$y_{{({t})}}$", OUTPUT, w=1.05)
        arrow(ax, (x, 0.9), (x, 1.5))
        arrow(ax, (x, 2.1), (x, 2.7))
        if i < 3:
            arrow(ax, (x + 0.45, 1.8), (x + 1.15, 1.8))
    arrow(ax, (3.1, 1.8), (3.55, 1.8), dashed=True)
    ax.text(6.4, -0.15, "time →", ha="center", va="center", color=INK)
    save(fig, "recurrent_neuron_unrolled")


if __name__ == "__main__":
    recurrent_neuron_unrolled()
