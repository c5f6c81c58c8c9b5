"""Pure Plotly figures and HTML for the "Inside the RNN" stepper (NumPy data in, no UI)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from rnn_core.charts.palette import DIVERGING_LIGHT as DIVERGING
from rnn_core.charts.palette import LIGHT, ChartTheme
from rnn_core.charts.style import styled
from rnn_core.stepper.numpy_rnn import CELL_NAMES as CELL_LABELS

# One fixed colour per cell kind.
CELL_COLOURS = {"simple_rnn": "#D55E00", "lstm": "#0072B2", "gru": "#009E73"}
CELL_LINE = {k: {"color": c, "width": 2} for k, c in CELL_COLOURS.items()}


def _div_scale(theme: ChartTheme) -> list[list]:
    """The theme's diverging colours as a Plotly colour scale."""
    cols = theme.diverging
    return [[i / (len(cols) - 1), c] for i, c in enumerate(cols)]


def _marker_line(theme: ChartTheme) -> dict:
    """The dotted line that marks the step on screen: the page's ink."""
    return {"color": theme.ink, "width": 2, "dash": "dot"}


# Short axis labels for unit_terms' keys, in axis order: the terms, their sum, the activation.
TERM_TICKS = {
    "W·x": "W·x",
    "U·h": "U·h",
    "b'": "b′",
    "r⊙(U·h+b')": "r⊙(U·h+b′)",
    "U·(r⊙h)": "U·(r⊙h)",
    "b": "b",
    "pre-activation": "sum",
    "activation": "act",
}


def _step_marker(
    step: int, xref: str = "x", yref: str = "y domain", theme: ChartTheme = LIGHT
) -> dict:
    """Layout shape: a vertical dotted line at ``step`` spanning the whole subplot."""
    return {
        "type": "line",
        "x0": step,
        "x1": step,
        "y0": 0,
        "y1": 1,
        "xref": xref,
        "yref": yref,
        "line": _marker_line(theme),
    }


def hidden_heatmap(
    h: np.ndarray,
    step: int,
    title: str = "Hidden state h_t",
    vmax: float = 1.0,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Heatmap of h over time (units × timesteps) with a vertical marker at ``step``.

    The diverging colour scale runs from -vmax (blue) through 0 (the theme's neutral: white,
    or dark grey on a dark page) to +vmax (red).
    """
    h = np.asarray(h)  # (T, H)
    fig = go.Figure(
        go.Heatmap(
            z=h.T.astype(np.float32),  # (H, T)
            x=np.arange(h.shape[0]),
            y=np.arange(h.shape[1]),
            colorscale=_div_scale(theme),
            zmin=-vmax,
            zmax=vmax,
            colorbar={"title": {"text": "h"}},
            hovertemplate="t=%{x}<br>unit %{y}<br>h=%{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="timestep t",
        yaxis_title="unit",
        shapes=[_step_marker(step, theme=theme)],
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
    )
    return styled(fig, theme)


def gates_heatmaps(
    gates: Mapping[str, np.ndarray],
    step: int,
    candidate: np.ndarray | None = None,
    c: np.ndarray | None = None,
    t0: int = 0,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Small multiples: one heatmap (units × timesteps) per gate, then candidate and c_t.

    The arrays may be a window of the sequence starting at timestep ``t0``: the x axis keeps
    the absolute timestep numbers, so the step marker and hover labels stay true.
    """
    panels = [(f"gate {n}", np.asarray(g), "coloraxis") for n, g in gates.items()]
    if candidate is not None:
        panels.append(("candidate (tanh)", np.asarray(candidate), "coloraxis2"))
    if c is not None:
        panels.append(("cell state c_t", np.asarray(c), "coloraxis2"))
    n, gap = len(panels), 0.04
    height = (1.0 - gap * (n - 1)) / n
    layout: dict = {"height": 150 * n + 60, "margin": {"l": 50, "r": 10, "t": 40, "b": 40}}
    traces, titles, shapes = [], [], []
    for i, (name, z, axis) in enumerate(panels):  # z: (T, H); panel 0 at the top
        sfx = str(i + 1) if i else ""
        top = 1.0 - i * (height + gap)
        domain = [round(max(top - height, 0.0), 6), round(top, 6)]
        layout[f"yaxis{sfx}"] = {"domain": domain, "anchor": f"x{sfx}"}
        layout[f"xaxis{sfx}"] = {
            "anchor": f"y{sfx}",
            "matches": "x" if i else None,
            "showticklabels": i == n - 1,
        }
        traces.append(
            go.Heatmap(
                z=z.T.astype(np.float32),  # (H, T)
                x=np.arange(t0, t0 + z.shape[0]),
                coloraxis=axis,
                name=name,
                xaxis=f"x{sfx}",
                yaxis=f"y{sfx}",
                hovertemplate=f"{name}<br>t=%{{x}}<br>unit %{{y}}<br>%{{z:.4f}}<extra></extra>",
            )
        )
        titles.append(
            {
                "text": name,
                "x": 0.5,
                "y": top,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
        shapes.append(_step_marker(step, f"x{sfx}", f"y{sfx} domain", theme))
    layout[f"xaxis{n if n > 1 else ''}"]["title"] = {"text": "timestep t"}
    span = max([1.0] + [float(np.max(np.abs(z))) for _, z, a in panels if a == "coloraxis2"])
    layout |= {
        "coloraxis": {
            "colorscale": "Viridis",
            "cmin": 0.0,
            "cmax": 1.0,
            "colorbar": {"title": {"text": "gate"}, "len": 0.45, "y": 0.78},
        },
        "coloraxis2": {
            "colorscale": _div_scale(theme),
            "cmin": -span,
            "cmax": span,
            "colorbar": {"title": {"text": "state"}, "len": 0.45, "y": 0.22},
        },
        "annotations": titles,
        "shapes": shapes,
    }
    return styled(go.Figure(data=traces, layout=layout), theme)


def word_activations(words: Sequence[str], h: np.ndarray, unit: int) -> list[tuple[str, float]]:
    """Pair each word with the chosen unit's activation h_t[unit] at that word's timestep."""
    h = np.asarray(h)  # (T, H)
    if len(words) != h.shape[0]:
        raise ValueError(f"{len(words)} words but {h.shape[0]} timesteps")
    return [(w, float(v)) for w, v in zip(words, h[:, unit], strict=True)]


def diverging_colours(values: Sequence[float] | np.ndarray, vmax: float = 1.0) -> list[str]:
    """Hex colours for ``values`` on the DIVERGING scale mapped to [-vmax, vmax] (vectorised)."""
    v = np.asarray(values, np.float64).reshape(-1)  # (N,)
    stops = np.array([[int(c[k : k + 2], 16) for k in (1, 3, 5)] for c in DIVERGING])  # (S, 3)
    pos = (np.clip(v / vmax, -1.0, 1.0) + 1.0) / 2.0 * (len(DIVERGING) - 1)  # (N,)
    lo = np.minimum(np.floor(pos).astype(int), len(DIVERGING) - 2)  # (N,)
    frac = (pos - lo)[:, None]  # (N, 1)
    rgb = np.rint(stops[lo] + (stops[lo + 1] - stops[lo]) * frac).astype(int)  # (N, 3)
    return ["#{:02X}{:02X}{:02X}".format(*c) for c in rgb]


def activation_spans_html(
    pairs: Sequence[tuple[str, float]],
    vmax: float = 1.0,
    current: int | None = None,
    theme: ChartTheme = LIGHT,
) -> str:
    """HTML <span>s, one per word, background from the (light) diverging scale with its own
    text colour, value tooltip.

    Words are HTML-escaped. The span at index ``current`` (the step on screen) gets a thick
    outline in the page's ink.
    """
    colours = diverging_colours([v for _, v in pairs], vmax)
    spans = []
    for k, ((word, value), bg) in enumerate(zip(pairs, colours, strict=True)):
        fg = "#FFFFFF" if abs(value) / vmax > 0.6 else "#000000"
        ring = f"outline:3px solid {theme.ink};" if k == current else ""
        spans.append(
            f'<span title="{value:+.3f}" style="background-color:{bg};color:{fg};{ring}'
            f'padding:1px 3px;margin:1px;border-radius:3px">{html.escape(word)}</span>'
        )
    return " ".join(spans)


def gradient_lens_chart(
    norms: Mapping[str, np.ndarray],
    title: str = "How far back does it remember?",
    labels: Mapping[str, str] | None = None,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Log-scale line chart of ‖∂ output / ∂ x_t‖ over t, one line per cell (or model).

    Keys "simple_rnn", "lstm", "gru" get their cell colour; any other key (a trained model,
    the layer on screen) is drawn as a thick dashed line in the page's ink. ``labels``
    renames legend entries (default: the cell's name, or the key itself).
    """
    labels = labels or {}
    fig = go.Figure()
    for name, v in norms.items():
        v = np.asarray(v, np.float64)  # (T,)
        fig.add_trace(
            go.Scatter(
                x=np.arange(v.shape[0]),
                y=np.where(v > 0, v, np.nan),  # log axis cannot show 0
                mode="lines",
                name=labels.get(name, CELL_LABELS.get(name, name))
                + ("" if np.any(v > 0) else " (exactly 0 at every t)"),
                line=CELL_LINE.get(name, {"color": theme.ink, "width": 3, "dash": "dash"}),
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="input timestep t",
        yaxis={"type": "log", "title": {"text": "‖∂ output / ∂ x_t‖"}, "exponentformat": "power"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
    )
    return styled(fig, theme)


def max_pool_strip(
    labels: Sequence[str],
    peaks: np.ndarray,
    pooled: np.ndarray,
    readout: np.ndarray,
    span: tuple[int, int],
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Where max pooling takes each unit's value: one marker per unit at the word of its maximum.

    x = the review's timesteps ``span`` (ticks name the words that hold a maximum), y = unit;
    maxima reached on padding (before ``span[0]``) share one grey column at the left, their
    true t in the hover. Colour: the unit's share of the logit, readout[k]·max_t h_t[k] (red
    raises it, blue lowers it).
    """
    peaks = np.asarray(peaks, int)  # (H,) timestep of each unit's maximum
    pooled = np.asarray(pooled, np.float64)  # (H,) max_t h_t
    share = np.asarray(readout, np.float64) * pooled  # (H,) what each unit adds to the logit
    s0, s1 = span
    pad_x = s0 - 2  # the padding column, one slot left of the first word
    padded = peaks < s0  # (H,) units whose maximum lies on padding
    x = np.where(padded, pad_x, peaks)  # (H,)
    vmax = max(float(np.max(np.abs(share))), 1e-6)
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=np.arange(peaks.size),
            mode="markers",
            marker={
                "size": 10,
                "color": share,
                "colorscale": _div_scale(theme),
                "cmin": -vmax,
                "cmax": vmax,
                "line": {"color": theme.ink, "width": 1},
                "colorbar": {"title": {"text": "w·max h"}},
            },
            customdata=np.stack([pooled, share, peaks], axis=1),  # (H, 3)
            text=[str(labels[t]) for t in peaks],
            hovertemplate="unit %{y}: max h = %{customdata[0]:.3f} at t = %{customdata[2]} "
            "(%{text})<br>adds %{customdata[1]:+.3f} to the logit<extra></extra>",
        )
    )
    ticks = sorted(set(peaks[~padded].tolist()))
    tickvals, ticktext = list(ticks), [str(labels[t])[:14] for t in ticks]
    shapes = []
    if padded.any():
        tickvals.insert(0, pad_x)
        ticktext.insert(0, f"padding (t < {s0})")
        shapes.append(
            {
                "type": "rect",
                "x0": pad_x - 1,
                "x1": pad_x + 1,
                "y0": 0,
                "y1": 1,
                "yref": "y domain",
                "fillcolor": theme.muted,
                "opacity": 0.6,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    fig.update_layout(
        title="Where max pooling takes each unit's value (the word of its maximum)",
        height=260 + 9 * peaks.size,
        xaxis={
            "range": [(pad_x - 1.5) if padded.any() else s0 - 0.5, s1 - 0.5],
            "tickmode": "array",
            "tickvals": tickvals,
            "ticktext": ticktext,
            "tickangle": -60,
            "title": {"text": "the review, timestep t (ticks: words holding a unit's maximum)"},
        },
        yaxis={"title": {"text": "unit"}, "range": [-0.5, peaks.size - 0.5]},
        shapes=shapes,
        margin={"l": 50, "r": 10, "t": 40, "b": 120},
    )
    return styled(fig, theme)


def _state_label(name: str) -> str:
    """Axis label of a state: ``h_{t-1}`` -> ``h(t-1)``, ``c_t`` -> ``c(t)``."""
    return name.replace("_{t-1}", "(t-1)").replace("_t", "(t)")


def unit_terms_chart(
    blocks: Mapping[str, Mapping[str, float]],
    states: Mapping[str, float],
    unit: int,
    step: int,
    theme: ChartTheme = LIGHT,
) -> go.Figure:
    """Bars of the chosen unit's terms per gate block (``unit_terms``' keys: W·x, U·h, GRU's
    b′, r⊙(U·h+b′) or U·(r⊙h), b, their sum, the activation) and its states.

    Values are printed on the bars for a single block (SimpleRNN); with several blocks they
    would overlap, so they are in the hover (and in the equation the page writes out).
    """
    text = "%{y:.3f}" if len(blocks) == 1 else None
    traces: list[go.Bar] = [
        go.Bar(
            x=list(terms),
            y=list(terms.values()),
            name=f"block {name}",
            marker_color=theme.palette[k % len(theme.palette)],
            texttemplate=text,
            hovertemplate=f"block {name}<br>%{{x}} = %{{y:.4f}}<extra></extra>",
        )
        for k, (name, terms) in enumerate(blocks.items())
    ]
    traces.append(
        go.Bar(
            x=list(states),
            y=list(states.values()),
            name="states",
            marker_color=[theme.palette[7] if "h" in s else theme.palette[4] for s in states],
            texttemplate="%{y:.3f}" if len(states) <= 2 else None,
            hovertemplate="%{x} = %{y:.4f}<extra></extra>",
            showlegend=False,
            xaxis="x2",
            yaxis="y2",
        )
    )
    head = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False}
    ticks = {"tickmode": "array", "tickvals": list(states)}
    shown = [k for k in TERM_TICKS if any(k in terms for terms in blocks.values())]
    layout = {
        "barmode": "group",
        "height": 420,
        "title": {"text": f"Unit {unit} at step t = {step}"},
        "xaxis": {
            "domain": [0.0, 0.62],
            "anchor": "y",
            "tickmode": "array",
            "categoryorder": "array",
            "categoryarray": shown,
            "tickvals": shown,
            "ticktext": [TERM_TICKS[k] for k in shown],
            "tickangle": 0,
        },
        "xaxis2": {
            "domain": [0.74, 1.0],
            "anchor": "y2",
            **ticks,
            "ticktext": [_state_label(s) for s in states],
        },
        "yaxis2": {"anchor": "x2"},
        "annotations": [
            {"text": "terms per gate block", "x": 0.31, **head},
            {"text": "states", "x": 0.87, **head},
        ],
        "legend": {"orientation": "h", "y": -0.15},
        "margin": {"l": 50, "r": 10, "t": 60, "b": 40},
    }
    return styled(go.Figure(data=traces, layout=layout), theme)


def digit_figure(
    image: np.ndarray, step: int, theme: ChartTheme = LIGHT, rows_per_step: int = 1
) -> go.Figure:
    """A 28×28 MNIST digit in grey, with the ``rows_per_step`` rows read at ``step`` boxed
    (dark pen on light paper, or light pen on dark paper on a dark page)."""
    img = np.asarray(image, np.float32)  # (rows, cols)
    fig = go.Figure(
        go.Heatmap(
            z=img,
            colorscale=theme.image_scale,
            showscale=False,
            hovertemplate="row %{y} (timestep)<br>column %{x}<br>%{z:.2f}<extra></extra>",
        )
    )
    rows, cols = img.shape
    fig.update_layout(
        height=300,
        margin={"l": 40, "r": 5, "t": 10, "b": 10},
        yaxis={
            "range": [rows - 0.5, -0.5],  # row 0 (the first timestep) at the top
            "title": {"text": "row = t" if rows_per_step == 1 else f"row ÷ {rows_per_step} = t"},
            "scaleanchor": "x",
            "constrain": "domain",
        },
        xaxis={"range": [-0.5, cols - 0.5], "showticklabels": False, "constrain": "domain"},
        shapes=[
            {
                "type": "rect",
                "x0": -0.5,
                "x1": img.shape[1] - 0.5,
                "y0": step * rows_per_step - 0.5,
                "y1": (step + 1) * rows_per_step - 0.5,
                "line": {"color": "#D55E00", "width": 3},
            }
        ],
    )
    return styled(fig, theme)
