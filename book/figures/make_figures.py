"""Draw the course's diagrams as SVG files beside this script (`make figures`).

One style for every figure: dark ink on an opaque white card, so the diagrams read the same on the
site's light and dark themes. Data coordinates are inches, so sizes and gaps below are in inches.
"""

from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.patches import (  # noqa: E402
    Circle,
    FancyArrowPatch,
    FancyBboxPatch,
    Polygon,
    Rectangle,
)
from matplotlib.path import Path as MplPath  # noqa: E402

HERE = Path(__file__).parent
INK = "#1f2933"
NEURON = "#dbeafe"  # neurons, layers and cells
INPUT = "#fef3c7"
OUTPUT = "#dcfce7"
SIGMOID = "#ffedd5"  # gate layers (logistic activation)
TANH = "#ede9fe"  # candidate layers (tanh activation)
ACCENT = "#ea580c"  # highlights: the kernel position in conv1d
GRADIENT = "#dc2626"
FADED = 0.3  # alpha of what a configuration ignores
MONO = "DejaVu Sans Mono"
OP_R = 0.2  # radius of the ⊗ / ⊕ circles
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


def node(ax, x, y, text, color, w=0.9, h=0.6, alpha=1.0, **text_kw):
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.05",
            fc=color,
            ec=INK,
            lw=1.5,
            alpha=alpha,
            zorder=2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", color=INK, alpha=alpha, **text_kw)


def layer(ax, x, y, n=4, w=1.3, h=0.55, alpha=1.0):
    """A layer of recurrent neurons: a box holding one small circle per neuron."""
    node(ax, x, y, "", NEURON, w=w, h=h, alpha=alpha)
    step = min(0.3, (w - 0.2) / n)
    for k in range(n):
        cx = x + (k - (n - 1) / 2) * step
        ax.add_patch(
            Circle((cx, y), 0.1, fc="white", ec=INK, lw=1.2, alpha=alpha, zorder=3)
        )


def op(ax, x, y, sign):
    """An element-wise operation; + and × are drawn as strokes so they stay centred."""
    ax.add_patch(Circle((x, y), OP_R, fc="white", ec=INK, lw=1.5, zorder=3))
    d = 0.55 * OP_R if sign == "+" else 0.4 * OP_R
    if sign == "+":
        strokes = [((x - d, x + d), (y, y)), ((x, x), (y - d, y + d))]
    else:
        strokes = [((x - d, x + d), (y - d, y + d)), ((x - d, x + d), (y + d, y - d))]
    for xs, ys in strokes:
        ax.plot(xs, ys, color=INK, lw=1.8, zorder=4, solid_capstyle="round")


def dot(ax, x, y, color=INK):
    """A junction: the signal is copied to every branch."""
    ax.add_patch(Circle((x, y), 0.05, fc=color, ec="none", zorder=3))


def arrow(
    ax,
    *points,
    style="-|>",
    connection="arc3",
    dashed=False,
    color=INK,
    alpha=1.0,
    bridge=None,
):
    """An arrow from the first point to the last; more than two points make a polyline.

    `bridge`, the background colour, draws a halo under the line: it then reads as passing over,
    not joining, the lines it crosses.
    """
    common = dict(
        arrowstyle=style,
        mutation_scale=15,
        color=color,
        alpha=alpha,
        lw=1.5,
        linestyle="--" if dashed else "-",
        zorder=1.5 if bridge else 1,
    )
    if len(points) == 2:
        patch = FancyArrowPatch(*points, connectionstyle=connection, **common)
    else:
        patch = FancyArrowPatch(path=MplPath(points), **common)
    if bridge:
        patch.set_path_effects(
            [
                patheffects.withStroke(linewidth=7, foreground=bridge),
                patheffects.Normal(),
            ]
        )
    ax.add_patch(patch)


def code(ax, x, y, text, **kw):
    ax.text(x, y, text, family=MONO, fontsize=12, color=INK, va="center", **kw)


def save(fig, name):
    fig.savefig(HERE / f"{name}.svg", metadata={"Date": None})
    plt.close(fig)


def step_label(i, last):
    """'t' for the last step, 't-1', 't-2', ... before it."""
    return "t" if i == last else f"t-{last - i}"


def recurrent_neuron_unrolled():
    fig, ax = card(10, 3.6, bottom=0.3)
    # Folded view: the neuron's output is copied (dot) and fed back into the neuron.
    node(ax, 1.2, 0.6, "$x_{(t)}$", INPUT)
    node(ax, 1.2, 1.8, "$\\Sigma,\\ \\phi$", NEURON)
    node(ax, 1.2, 3.0, "$y_{(t)}$", OUTPUT)
    arrow(ax, (1.2, 0.9), (1.2, 1.45))
    arrow(ax, (1.2, 2.15), (1.2, 2.65))
    dot(ax, 1.2, 2.4)
    arrow(ax, (1.2, 2.4), (2.05, 2.4), (2.05, 1.8), (1.7, 1.8))
    ax.text(2.75, 1.8, "=", ha="center", va="center", fontsize=26, color=INK)
    # Unrolled view: one copy of the same neuron per time step.
    for i, x in enumerate([4.0, 5.6, 7.2, 8.8]):
        t = step_label(i, 3)
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


def recurrent_layer_unrolled():
    fig, ax = card(10, 4.0, bottom=0.9)
    # Folded view, as for one neuron, but every signal is now a vector.
    x = 1.3
    node(ax, x, 0.6, "$\\mathbf{x}_{(t)}$", INPUT, w=1.05)
    layer(ax, x, 2.0)
    node(ax, x, 3.4, "$\\mathbf{y}_{(t)}$", OUTPUT, w=1.05)
    arrow(ax, (x, 0.95), (x, 1.67))
    arrow(ax, (x, 2.33), (x, 3.05))
    ax.text(x + 0.12, 1.3, "$\\mathbf{W}_x$", va="center", color=INK)
    dot(ax, x, 2.7)
    arrow(ax, (x, 2.7), (2.35, 2.7), (2.35, 2.0), (2.0, 2.0))
    ax.text(2.45, 2.35, "$\\mathbf{W}_y$", va="center", color=INK)
    ax.text(3.2, 2.0, "=", ha="center", va="center", fontsize=26, color=INK)
    # Unrolled view: the same weights W_x and W_y at every step.
    xs = [4.7, 6.6, 8.5]
    for i, x in enumerate(xs):
        t = step_label(i, len(xs) - 1)
        node(ax, x, 0.6, f"$\\mathbf{{x}}_{{({t})}}$", INPUT, w=1.05)
        layer(ax, x, 2.0)
        node(ax, x, 3.4, f"$\\mathbf{{y}}_{{({t})}}$", OUTPUT, w=1.05)
        arrow(ax, (x, 0.95), (x, 1.67))
        arrow(ax, (x, 2.33), (x, 3.05))
        ax.text(x + 0.12, 1.3, "$\\mathbf{W}_x$", va="center", color=INK)
        if i < len(xs) - 1:
            arrow(ax, (x + 0.7, 2.0), (x + 1.2, 2.0))
            ax.text(x + 0.95, 2.25, "$\\mathbf{W}_y$", ha="center", color=INK)
    arrow(ax, (3.5, 2.0), (4.0, 2.0), dashed=True)
    ax.text(6.6, 0.0, "time →", ha="center", va="center", color=INK)
    ax.text(
        5.0,
        -0.6,
        "$\\mathbf{y}_{(t)} = \\phi\\left(\\mathbf{x}_{(t)}\\,\\mathbf{W}_x"
        " + \\mathbf{y}_{(t-1)}\\,\\mathbf{W}_y + \\mathbf{b}\\right)$",
        ha="center",
        va="center",
        fontsize=15,
        color=INK,
    )
    save(fig, "recurrent_layer_unrolled")


def deep_rnn():
    fig, ax = card(10, 6.6, bottom=0.3)
    xs = [4.4, 5.8, 7.2, 8.6]
    rows = [1.7, 2.9, 4.1]  # recurrent layers 1 to 3, bottom to top
    for i, x in enumerate(xs):
        node(ax, x, 0.5, f"$\\mathbf{{x}}_{{({i})}}$", INPUT, w=0.8)
        arrow(ax, (x, 0.85), (x, rows[0] - 0.33))
        for r, y in enumerate(rows):
            layer(ax, x, y, n=3, w=1.0)
            # Layers 1 and 2 return the whole sequence; layer 3 only its last output.
            if r < 2:
                arrow(ax, (x, y + 0.33), (x, rows[r + 1] - 0.33))
            if i < len(xs) - 1:
                arrow(ax, (x + 0.55, y), (x + 0.85, y))
    top = xs[-1]
    node(ax, top, 5.25, "Dense", NEURON, w=1.0, h=0.5, family=MONO, fontsize=12)
    node(ax, top, 6.2, "$\\hat{\\mathbf{y}}$", OUTPUT, w=0.8, h=0.5)
    arrow(ax, (top, rows[2] + 0.33), (top, 4.95))
    arrow(ax, (top, 5.55), (top, 5.9))
    labels = [
        "SimpleRNN(n,\n  return_sequences=True)",
        "SimpleRNN(n,\n  return_sequences=True)",
        "SimpleRNN(n)\n  # return_sequences=False",
    ]
    for y, text in zip(rows, labels, strict=True):
        code(ax, 0.2, y, text)
    code(ax, 0.2, 5.25, "Dense(1)")
    ax.text(
        0.2,
        6.45,
        "Layers 1 and 2 feed a recurrent layer, which needs\n"
        "a whole sequence: return_sequences=True. Only the\n"
        "last recurrent layer of a sequence-to-vector stack\n"
        "may drop it, to hand its last output to the Dense head.",
        va="top",
        fontsize=12,
        color=INK,
        style="italic",
    )
    ax.text((xs[0] + xs[-1]) / 2, -0.1, "time →", ha="center", va="center", color=INK)
    save(fig, "deep_rnn")


def lstm_cell():
    fig, ax = card(10, 5.9, bottom=0.3)
    cell = FancyBboxPatch(
        (1.3, 0.75), 7.6, 4.8, boxstyle="round,pad=0.05", fc=NEURON, ec=INK, lw=1.5
    )
    ax.add_patch(cell)
    belt, bus, gates = 5.0, 1.3, 2.35
    # Long-term state c: forget (×), then add (+) the new memories; no layer touches it.
    ax.text(0.65, belt, "$\\mathbf{c}_{(t-1)}$", ha="center", va="center", color=INK)
    fx, px, ox = 3.0, 5.2, 7.6  # columns of the forget ×, the add +, the output ×
    arrow(ax, (1.1, belt), (fx - OP_R, belt), style="-")
    op(ax, fx, belt, "×")
    arrow(ax, (fx + OP_R, belt), (px - OP_R, belt))
    op(ax, px, belt, "+")
    arrow(ax, (px + OP_R, belt), (9.05, belt))
    ax.text(3.3, 4.78, "long-term state", fontsize=12, style="italic", color=INK)
    ax.text(9.45, belt, "$\\mathbf{c}_{(t)}$", ha="center", va="center", color=INK)
    # Short-term state h_(t-1) and input x_(t) feed all four fully connected layers.
    ax.text(0.65, bus, "$\\mathbf{h}_{(t-1)}$", ha="center", va="center", color=INK)
    ax.text(2.0, -0.1, "$\\mathbf{x}_{(t)}$", ha="center", va="center", color=INK)
    arrow(ax, (2.0, 0.15), (2.0, bus), style="-")
    dot(ax, 2.0, bus)
    gx = {"f": fx, "g": 4.6, "i": 5.8, "o": 7.0}
    arrow(ax, (1.15, bus), (gx["o"], bus), (gx["o"], gates - 0.3))
    for name, act, color in [
        ("f", "σ", SIGMOID),
        ("g", "tanh", TANH),
        ("i", "σ", SIGMOID),
        ("o", "σ", SIGMOID),
    ]:
        node(ax, gx[name], gates, act, color, w=0.75, h=0.5, fontsize=16)
        if name != "o":
            dot(ax, gx[name], bus)
            arrow(ax, (gx[name], bus), (gx[name], gates - 0.3))
    top = gates + 0.3
    # Forget gate: which parts of c to erase.
    arrow(ax, (fx, top), (fx, belt - OP_R))
    ax.text(fx - 0.12, 3.5, "$\\mathbf{f}_{(t)}$", ha="right", va="center")
    # Input gate × candidate: what to add to c.
    mul_in = 3.9
    op(ax, px, mul_in, "×")
    arrow(ax, (gx["g"], top), (gx["g"], mul_in), (px - OP_R, mul_in))
    arrow(ax, (gx["i"], top), (gx["i"], mul_in), (px + OP_R, mul_in))
    arrow(ax, (px, mul_in + OP_R), (px, belt - OP_R))
    ax.text(gx["g"] - 0.12, 3.3, "$\\mathbf{g}_{(t)}$", ha="right", va="center")
    ax.text(gx["i"] + 0.12, 3.3, "$\\mathbf{i}_{(t)}$", va="center")
    # Output gate: which parts of tanh(c) to output as h (= y).
    mul_out = 3.5
    dot(ax, ox, belt)
    arrow(ax, (ox, belt), (ox, 4.47))
    node(ax, ox, 4.3, "tanh", "white", w=0.6, h=0.32, fontsize=12)
    arrow(ax, (ox, 4.13), (ox, mul_out + OP_R))
    op(ax, ox, mul_out, "×")
    arrow(ax, (gx["o"], top), (gx["o"], mul_out), (ox - OP_R, mul_out))
    ax.text(gx["o"] - 0.12, 3.05, "$\\mathbf{o}_{(t)}$", ha="right", va="center")
    for name, text in [("f", "forget gate"), ("i", "input gate"), ("o", "output gate")]:
        ax.text(gx[name] + 0.1, 1.7, text, va="center", fontsize=12, color=INK)
    arrow(ax, (ox + OP_R, mul_out), (9.05, mul_out))
    dot(ax, 8.5, mul_out)
    arrow(ax, (8.5, mul_out), (8.5, bus), (9.05, bus))
    ax.text(9.45, mul_out, "$\\mathbf{y}_{(t)}$", ha="center", va="center")
    ax.text(9.45, bus, "$\\mathbf{h}_{(t)}$", ha="center", va="center")
    save(fig, "lstm_cell")


def gru_cell():
    fig, ax = card(10, 6.5, bottom=0.4)
    cell = FancyBboxPatch(
        (1.3, 0.35), 7.6, 5.2, boxstyle="round,pad=0.05", fc=NEURON, ec=INK, lw=1.5
    )
    ax.add_patch(cell)
    state, bus, xline, gates = 5.0, 1.4, 0.85, 2.3
    zx, rx, gx, mx = 4.6, 3.4, 6.4, 7.4  # gate columns; mx: the (1 - z) × g column
    # The single state h: kept in proportion z, replaced by the candidate in proportion 1 - z.
    ax.text(0.65, state, "$\\mathbf{h}_{(t-1)}$", ha="center", va="center")
    arrow(ax, (1.1, state), (zx - OP_R, state), style="-")
    op(ax, zx, state, "×")
    arrow(ax, (zx + OP_R, state), (mx - OP_R, state))
    op(ax, mx, state, "+")
    arrow(ax, (mx + OP_R, state), (9.05, state))
    ax.text(9.45, state, "$\\mathbf{h}_{(t)}$", ha="center", va="center")
    dot(ax, 8.4, state)
    arrow(ax, (8.4, state), (8.4, 5.95))
    ax.text(8.4, 6.2, "$\\mathbf{y}_{(t)}$", ha="center", va="center")
    # z and r see h_(t-1) and x_(t); the candidate sees x_(t) and the reset state r × h_(t-1).
    ax.text(2.4, -0.2, "$\\mathbf{x}_{(t)}$", ha="center", va="center")
    arrow(ax, (2.4, 0.05), (2.4, bus), style="-")
    dot(ax, 1.7, state)
    arrow(ax, (1.7, state), (1.7, bus), (zx, bus), (zx, gates - 0.3))
    for x in (2.4, rx):
        dot(ax, x, bus)
    arrow(ax, (rx, bus), (rx, gates - 0.3))
    dot(ax, 2.4, xline)
    arrow(ax, (2.4, xline), (gx, xline), (gx, gates - 0.3))
    for x, act, color in [(rx, "σ", SIGMOID), (zx, "σ", SIGMOID), (gx, "tanh", TANH)]:
        node(ax, x, gates, act, color, w=0.75, h=0.5, fontsize=16)
    top = gates + 0.3
    # Reset gate: how much of h_(t-1) the candidate gets to see.
    mul_r = 3.3
    dot(ax, rx, state)
    arrow(ax, (rx, state), (rx, mul_r + OP_R))
    op(ax, rx, mul_r, "×")
    arrow(ax, (rx, top), (rx, mul_r - OP_R))
    arrow(ax, (rx + OP_R, mul_r), (gx, mul_r), (gx, top), bridge=NEURON)
    ax.text(rx - 0.12, 2.95, "$\\mathbf{r}_{(t)}$", ha="right", va="center")
    # Update gate z keeps the old state; 1 - z lets the candidate in.
    arrow(ax, (zx, top), (zx, state - OP_R))
    ax.text(zx + 0.12, 2.95, "$\\mathbf{z}_{(t)}$", va="center")
    mul_g = 4.1
    dot(ax, zx, mul_g)
    arrow(ax, (zx, mul_g), (5.35, mul_g))
    node(ax, 5.75, mul_g, "$1-$", "white", w=0.6, h=0.36, fontsize=14)
    arrow(ax, (6.15, mul_g), (mx - OP_R, mul_g))
    op(ax, mx, mul_g, "×")
    arrow(ax, (gx + 0.43, gates), (mx, gates), (mx, mul_g - OP_R))
    ax.text(mx + 0.12, 3.0, "$\\mathbf{g}_{(t)}$", va="center")
    arrow(ax, (mx, mul_g + OP_R), (mx, state - OP_R))
    for x, text in [(rx, "reset gate"), (zx, "update gate")]:
        ax.text(x + 0.1, 1.8, text, va="center", fontsize=12, color=INK)
    save(fig, "gru_cell")


def unrolled(ax, xs, y0, inputs, outputs, w=0.62, cw=0.5):
    """A small unrolled RNN for io_configurations: inputs at y0, cells above, outputs on top.

    `inputs` / `outputs` hold one label per step; None draws nothing, and an output label
    starting with "~" is drawn faded (computed but ignored).
    """
    for i, x in enumerate(xs):
        node(ax, x, y0 + 1.0, "", NEURON, w=cw, h=0.4)
        if i:
            arrow(
                ax, (xs[i - 1] + cw / 2 + 0.05, y0 + 1.0), (x - cw / 2 - 0.05, y0 + 1.0)
            )
        if inputs[i] is not None:
            node(ax, x, y0, inputs[i], INPUT, w=w, h=0.4, fontsize=12)
            arrow(ax, (x, y0 + 0.25), (x, y0 + 0.75))
        if outputs[i] is not None:
            label = outputs[i].lstrip("~")
            alpha = FADED if outputs[i].startswith("~") else 1.0
            node(ax, x, y0 + 2.0, label, OUTPUT, w=w, h=0.4, alpha=alpha, fontsize=12)
            arrow(ax, (x, y0 + 1.25), (x, y0 + 1.75), alpha=alpha)


def io_configurations():
    fig, ax = card(10, 6.9, bottom=0.35)
    top, bottom = 3.8, 0.4  # y of the input rows of the two rows of panels
    left = [1.0, 2.0, 3.0, 4.0]
    right = [x + 5 for x in left]
    enc, dec = [5.25, 6.03, 6.81], [7.75, 8.53, 9.31]
    xin = [f"$x_{{({i})}}$" for i in range(4)]
    yout = [f"$y_{{({i})}}$" for i in range(4)]
    for xs, y0, title in [
        (left, top, "sequence-to-sequence"),
        (right, top, "sequence-to-vector"),
        (left, bottom, "vector-to-sequence"),
        (enc + dec, bottom, "encoder–decoder"),
    ]:
        centre = (xs[0] + xs[-1]) / 2
        ax.text(centre, y0 + 2.65, title, ha="center", fontsize=14, weight="bold")
    # Sequence-to-sequence: one output per input step.
    unrolled(ax, left, top, xin, yout)
    # Sequence-to-vector: all outputs but the last are ignored.
    unrolled(ax, right, top, xin, ["~" + y for y in yout[:3]] + ["$y$"])
    # Vector-to-sequence: the same vector x is copied to every step.
    unrolled(ax, left, bottom, ["$x$", None, None, None], yout)
    fan = bottom + 0.45
    dot(ax, left[0], fan)
    arrow(ax, (left[0], fan), (left[-1], fan), (left[-1], bottom + 0.75))
    for x in left[1:-1]:
        dot(ax, x, fan)
        arrow(ax, (x, fan), (x, bottom + 0.75))
    # Encoder-decoder: the encoder's final state is the vector that starts the decoder, whose
    # inputs are the previous targets behind a start token (teacher forcing, during training).
    unrolled(ax, enc, bottom, xin[:3], [None] * 3, w=0.55, cw=0.4)
    decoded = [f"$y'_{{({i})}}$" for i in range(3)]
    shifted = ["go", "$y_{(0)}$", "$y_{(1)}$"]
    unrolled(ax, dec, bottom, shifted, decoded, w=0.55, cw=0.4)
    arrow(ax, (enc[-1] + 0.25, bottom + 1.0), (dec[0] - 0.25, bottom + 1.0))
    for xs, text in [(enc, "encoder"), (dec, "decoder")]:
        ax.text(
            xs[1],
            bottom - 0.45,
            text,
            ha="center",
            va="center",
            fontsize=12,
            style="italic",
        )
    save(fig, "io_configurations")


def bptt():
    fig, ax = card(10, 5.6, bottom=0.2)
    xs = [1.2, 3.0, 4.8, 6.6, 8.4]
    used = {2, 3, 4}  # steps whose outputs enter the cost
    d = 0.17  # forward arrows run left of / above the gradients that go back
    cost = (6.6, 4.9)
    node(
        ax,
        *cost,
        "$C(\\mathbf{Y}_{(2)}, \\mathbf{Y}_{(3)}, \\mathbf{Y}_{(4)})$",
        "white",
        w=3.0,
        h=0.6,
    )
    for i, x in enumerate(xs):
        alpha = 1.0 if i in used else FADED
        node(ax, x, 0.5, f"$\\mathbf{{X}}_{{({i})}}$", INPUT)
        node(ax, x, 1.9, "", NEURON)
        node(ax, x, 3.3, f"$\\mathbf{{Y}}_{{({i})}}$", OUTPUT, alpha=alpha)
        arrow(ax, (x, 0.85), (x, 1.55), dashed=True)
        arrow(ax, (x - d, 2.25), (x - d, 2.95), dashed=True, alpha=alpha)
        if i < len(xs) - 1:
            arrow(ax, (x + 0.5, 1.9 + 0.12), (xs[i + 1] - 0.5, 1.9 + 0.12), dashed=True)
        # Gradients flow back through every step, even those whose outputs C ignores.
        if i > 0:
            arrow(
                ax, (x - 0.5, 1.9 - 0.12), (xs[i - 1] + 0.5, 1.9 - 0.12), color=GRADIENT
            )
        if i in used:
            arrow(ax, (x + d, 2.95), (x + d, 2.25), color=GRADIENT)
            top = (cost[0] + (x - cost[0]) * 0.3, cost[1] - 0.35)
            arrow(ax, (x - d, 3.65), (top[0] - d, top[1]), dashed=True)
            arrow(ax, (top[0] + d, top[1]), (x + d, 3.65), color=GRADIENT)
    # Legend, in the space the ignored outputs leave free.
    arrow(ax, (0.4, 5.0), (1.1, 5.0), dashed=True)
    ax.text(1.25, 5.0, "forward pass", va="center")
    arrow(ax, (0.4, 4.5), (1.1, 4.5), color=GRADIENT)
    ax.text(1.25, 4.5, "gradients", va="center")
    ax.text(4.8, -0.05, "time →", ha="center", va="center")
    save(fig, "bptt")


def conv1d():
    fig, ax = card(9.5, 4.6)
    s, x0, y0 = 0.5, 2.6, 0.55  # cell size; lower-left corner of the input grid
    steps, features, k = 12, 3, 4
    out_y = 3.2  # bottom of the output row
    start = 3  # the kernel position that is highlighted
    for j in range(steps):
        for r in range(features):
            ax.add_patch(
                Rectangle((x0 + j * s, y0 + r * s), s, s, fc=INPUT, ec=INK, lw=1)
            )
    # "valid" padding, stride 1: the kernel fits at 12 - 4 + 1 = 9 positions, one output each;
    # output i sits above the centre of the window it was computed from.
    for i in range(steps - k + 1):
        hit = i == start
        ax.add_patch(
            Rectangle(
                (x0 + (i + 1.5) * s, out_y),
                s,
                s,
                fc=OUTPUT,
                ec=ACCENT if hit else INK,
                lw=2.5 if hit else 1,
                zorder=3 if hit else 2,
            )
        )
    left, right, top = x0 + start * s, x0 + (start + k) * s, y0 + features * s
    ax.add_patch(
        Polygon(
            [
                (left, top),
                (right, top),
                (x0 + (start + 2.5) * s, out_y),
                (x0 + (start + 1.5) * s, out_y),
            ],
            fc=ACCENT,
            alpha=0.15,
            ec="none",
        )
    )
    for a, b in [(left, start + 1.5), (right, start + 2.5)]:
        ax.plot([a, x0 + b * s], [top, out_y], color=ACCENT, lw=1.5)
    ax.add_patch(
        Rectangle(
            (left, y0), k * s, features * s, fc=ACCENT, alpha=0.2, ec="none", zorder=3
        )
    )
    ax.add_patch(
        Rectangle(
            (left, y0), k * s, features * s, fc="none", ec=ACCENT, lw=2.5, zorder=4
        )
    )
    ax.text(0.2, y0 + features * s / 2, "input\n3 features × 12 steps", va="center")
    ax.text(0.2, out_y + s / 2, "output\n9 steps", va="center")
    ax.text(
        left + k * s / 2,
        y0 - 0.25,
        "kernel: 4 steps × all 3 features",
        ha="center",
        va="center",
        color=ACCENT,
        fontsize=12,
    )
    code(
        ax,
        x0 + steps * s / 2,
        4.25,
        'Conv1D(filters=1, kernel_size=4,\n       strides=1, padding="valid")',
        ha="center",
        multialignment="left",
    )
    ax.text(x0 + steps * s - 0.1, y0 - 0.25, "time →", ha="right", va="center")
    save(fig, "conv1d")


if __name__ == "__main__":
    recurrent_neuron_unrolled()
    recurrent_layer_unrolled()
    deep_rnn()
    lstm_cell()
    gru_cell()
    io_configurations()
    bptt()
    conv1d()
