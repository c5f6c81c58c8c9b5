"""Pure Plotly figure builders for the "Inside the RNN" stepper (NumPy data in, Figure out)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

# Okabe-Ito palette (colour-blind safe); one fixed colour per cell kind.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
CELL_COLOURS = {"simple_rnn": "#D55E00", "lstm": "#0072B2", "gru": "#009E73"}
CELL_LABELS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
# ColorBrewer RdBu (colour-blind safe), blue = negative, red = positive.
DIVERGING = ("#2166AC", "#67A9CF", "#D1E5F0", "#F7F7F7", "#FDDBC7", "#EF8A62", "#B2182B")
_DIV_SCALE = [[i / (len(DIVERGING) - 1), c] for i, c in enumerate(DIVERGING)]
_MARKER = {"color": "#000000", "width": 2, "dash": "dot"}


def _step_marker(step: int, xref: str = "x", yref: str = "y domain") -> dict:
    """Layout shape: a vertical dotted line at ``step`` spanning the whole subplot."""
    return {
        "type": "line",
        "x0": step,
        "x1": step,
        "y0": 0,
        "y1": 1,
        "xref": xref,
        "yref": yref,
        "line": _MARKER,
    }


def hidden_heatmap(h: np.ndarray, step: int, title: str = "Hidden state h_t") -> go.Figure:
    """Heatmap of h over time (units × timesteps) with a vertical marker at ``step``."""
    h = np.asarray(h)  # (T, H)
    fig = go.Figure(
        go.Heatmap(
            z=h.T.astype(np.float32),  # (H, T)
            x=np.arange(h.shape[0]),
            y=np.arange(h.shape[1]),
            colorscale=_DIV_SCALE,
            zmin=-1.0,
            zmax=1.0,
            colorbar={"title": {"text": "h"}},
            hovertemplate="t=%{x}<br>unit %{y}<br>h=%{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="timestep t",
        yaxis_title="unit",
        shapes=[_step_marker(step)],
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
    )
    return fig


def gates_heatmaps(
    gates: Mapping[str, np.ndarray],
    step: int,
    candidate: np.ndarray | None = None,
    c: np.ndarray | None = None,
) -> go.Figure:
    """Small multiples: one heatmap (units × timesteps) per gate, then candidate and c_t."""
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
        shapes.append(_step_marker(step, f"x{sfx}", f"y{sfx} domain"))
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
            "colorscale": _DIV_SCALE,
            "cmin": -span,
            "cmax": span,
            "colorbar": {"title": {"text": "state"}, "len": 0.45, "y": 0.22},
        },
        "annotations": titles,
        "shapes": shapes,
    }
    return go.Figure(data=traces, layout=layout)


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


def activation_spans_html(pairs: Sequence[tuple[str, float]], vmax: float = 1.0) -> str:
    """HTML <span>s, one per word, with background from the diverging scale and value tooltip."""
    colours = diverging_colours([v for _, v in pairs], vmax)
    spans = []
    for (word, value), bg in zip(pairs, colours, strict=True):
        fg = "#FFFFFF" if abs(value) / vmax > 0.6 else "#000000"
        spans.append(
            f'<span title="{value:+.3f}" style="background-color:{bg};color:{fg};'
            f'padding:1px 3px;margin:1px;border-radius:3px">{html.escape(word)}</span>'
        )
    return " ".join(spans)


def gradient_lens_chart(
    norms: Mapping[str, np.ndarray], title: str = "How far back does it remember?"
) -> go.Figure:
    """Log-scale line chart of ||d(readout·h_T)/d x_t|| over t, one line per cell."""
    fig = go.Figure()
    for k, (name, v) in enumerate(norms.items()):
        v = np.asarray(v, np.float64)  # (T,)
        fig.add_trace(
            go.Scatter(
                x=np.arange(v.shape[0]),
                y=np.where(v > 0, v, np.nan),  # log axis cannot show 0
                mode="lines",
                name=CELL_LABELS.get(name, name),
                line={"color": CELL_COLOURS.get(name, OKABE_ITO[k % len(OKABE_ITO)]), "width": 2},
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="input timestep t (read out at the last step)",
        yaxis={"type": "log", "title": {"text": "‖∂ output / ∂ x_t‖"}, "exponentformat": "power"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
    )
    return fig


def unit_terms_chart(
    blocks: Mapping[str, Mapping[str, float]],
    states: Mapping[str, float],
    unit: int,
    step: int,
) -> go.Figure:
    """Bars of the chosen unit's terms per gate block (W·x, U·h, b, pre, act) and its states."""
    traces: list[go.Bar] = [
        go.Bar(
            x=list(terms),
            y=list(terms.values()),
            name=f"block {name}",
            marker_color=OKABE_ITO[k % len(OKABE_ITO)],
            texttemplate="%{y:.3f}",
        )
        for k, (name, terms) in enumerate(blocks.items())
    ]
    traces.append(
        go.Bar(
            x=list(states),
            y=list(states.values()),
            name="states",
            marker_color=[OKABE_ITO[7] if "h" in s else OKABE_ITO[4] for s in states],
            texttemplate="%{y:.3f}",
            showlegend=False,
            xaxis="x2",
            yaxis="y2",
        )
    )
    head = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "showarrow": False}
    layout = {
        "barmode": "group",
        "title": {"text": f"Unit {unit} at step t = {step}"},
        "xaxis": {"domain": [0.0, 0.68], "anchor": "y"},
        "xaxis2": {"domain": [0.78, 1.0], "anchor": "y2"},
        "yaxis2": {"anchor": "x2"},
        "annotations": [
            {"text": "terms per gate block", "x": 0.34, **head},
            {"text": "states", "x": 0.89, **head},
        ],
        "legend": {"orientation": "h", "y": -0.15},
        "margin": {"l": 50, "r": 10, "t": 60, "b": 40},
    }
    return go.Figure(data=traces, layout=layout)
