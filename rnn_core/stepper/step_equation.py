"""One unit's cell step as LaTeX with the actual numbers filled in (for st.latex)."""

from __future__ import annotations

from rnn_core.stepper.numpy_rnn import StepTerms, block_sum_keys, unit_terms


def _num(v: float) -> str:
    """A number for an equation: 3 decimals, or 3 significant digits when very large."""
    return f"{v:.3f}" if abs(v) < 1e3 else f"{v:.3g}"


def _fac(v: float) -> str:
    """A factor in a product: negative numbers in parentheses."""
    return f"({_num(v)})" if v < 0 else _num(v)


def _sum(*values: float) -> str:
    """Terms written as a signed sum, e.g. ``0.310 - 0.120 + 0.000``."""
    out = _num(values[0])
    for v in values[1:]:
        out += f" - {_num(-v)}" if v < 0 else f" + {_num(v)}"
    return out


def _gate_line(
    lhs: str, fn: str, symbolic: str, parts: tuple[float, ...], pre: float, act: float
) -> str:
    """One aligned line: ``lhs = fn(symbolic) = fn(numbers) = fn(pre) = act``."""
    return (
        rf"{lhs} &= {fn}\left({symbolic}\right) = {fn}\left({_sum(*parts)}\right)"
        rf" = {fn}({_num(pre)}) = {_num(act)}"
    )


def unit_equation_latex(terms: StepTerms, unit: int) -> str:
    """LaTeX (aligned) of one unit's step with the actual numbers filled in, for st.latex."""
    j, kind, hn = unit, terms.kind, terms.h_t.shape[-1]
    blocks, states = unit_terms(terms, j)
    lines = []

    def gate(name: str, lhs: str, fn: str, sym: str) -> None:
        """Append the line of block ``name``: its summed terms in ``block_sum_keys`` order."""
        b = blocks[name]
        parts = tuple(b[k] for k in block_sum_keys(b))
        lines.append(_gate_line(lhs, fn, sym, parts, b["pre-activation"], b["activation"]))

    if kind == "simple_rnn":
        gate("h", f"h_t[{j}]", r"\tanh", r"W x_t + U h_{t-1} + b")
    elif kind == "lstm":
        for name, lhs, fn in (
            ("i", "i_t", r"\sigma"),
            ("f", "f_t", r"\sigma"),
            ("c", r"\tilde c_t", r"\tanh"),
            ("o", "o_t", r"\sigma"),
        ):
            gate(name, f"{lhs}[{j}]", fn, rf"W_{name} x_t + U_{name} h_{{t-1}} + b_{name}")
        i, f = blocks["i"]["activation"], blocks["f"]["activation"]
        g, o = blocks["c"]["activation"], blocks["o"]["activation"]
        c_prev, c_t, h_t = states["c_{t-1}"], states["c_t"], states["h_t"]
        lines.append(
            rf"c_t[{j}] &= f_t c_{{t-1}} + i_t \tilde c_t = {_num(f)} \cdot {_fac(c_prev)}"
            rf" + {_num(i)} \cdot {_fac(g)} = {_num(c_t)}"
        )
        lines.append(
            rf"h_t[{j}] &= o_t \tanh(c_t) = {_num(o)} \cdot \tanh({_num(c_t)}) = {_num(h_t)}"
        )
    else:
        after = terms.b_rec is not None
        for name in ("z", "r"):
            rec = rf"U_{name} h_{{t-1}} + b'_{name}" if after else rf"U_{name} h_{{t-1}}"
            gate(name, f"{name}_t[{j}]", r"\sigma", rf"W_{name} x_t + {rec} + b_{name}")
        hb = blocks["h"]
        if after:
            inner = float(terms.block("h", "uh")[j] + terms.b_rec[2 * hn + j])
            r = blocks["r"]["activation"]
            lines.append(
                rf"\tilde h_t[{j}] &= \tanh\left(W_h x_t + b_h + r_t \odot \left(U_h h_{{t-1}}"
                rf" + b'_h\right)\right) = \tanh\left({_sum(hb['W·x'], hb['b'])} + {_num(r)}"
                rf" \cdot ({_num(inner)})\right) = \tanh({_num(hb['pre-activation'])})"
                rf" = {_num(hb['activation'])}"
            )
        else:
            gate("h", rf"\tilde h_t[{j}]", r"\tanh", r"W_h x_t + U_h (r_t \odot h_{t-1}) + b_h")
        z, hh = blocks["z"]["activation"], hb["activation"]
        lines.append(
            rf"h_t[{j}] &= z_t h_{{t-1}} + (1 - z_t) \tilde h_t = {_num(z)} \cdot "
            rf"{_fac(states['h_{t-1}'])} + {_num(1 - z)} \cdot {_fac(hh)} = {_num(states['h_t'])}"
        )
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"
