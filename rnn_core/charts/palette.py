"""The one colour palette of every chart: Okabe-Ito (safe with colour-vision deficiencies).

A few colours depend on the page behind the chart (light or dark theme): the "ink" of lines
and markers that must stand out from the background, and the neutral middle of a diverging
scale. :class:`ChartTheme` holds them; pages pass the active one to the figure builders.
It also holds the sizes of type and lines: presenter mode is one theme with larger ones
(:func:`presenting`), applied by every builder through ``rnn_core.charts.style.styled``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# ColorBrewer RdBu (colour-blind safe), blue = negative, red = positive, white at 0.
DIVERGING_LIGHT = ("#2166AC", "#67A9CF", "#D1E5F0", "#F7F7F7", "#FDDBC7", "#EF8A62", "#B2182B")
# The same hues for a dark page: 0 is a dark grey, size is brightness, never near white.
DIVERGING_DARK = ("#6BAED6", "#4292C6", "#2B5C8A", "#2B2D36", "#8C2D2D", "#D6604D", "#F4A582")


@dataclass(frozen=True)
class ChartTheme:
    """Colours that depend on the page's background (Streamlit's light or dark theme)."""

    name: str  # "light" or "dark"
    ink: str  # lines and markers that must contrast with the page (black / near white)
    muted: str  # secondary marks: threshold lines, padding bands
    diverging: tuple[str, ...]  # blue (negative) → neutral (0) → red (positive)
    image_scale: str  # Plotly colour scale of greyscale images: pen darker or lighter than paper
    share_scale: str | tuple[tuple[float, str], ...]  # 0 → 1 shares (confusion matrix)
    font_size: int | None = None  # px of every chart text; None keeps the page's own sizes
    line_scale: float = 1.0  # factor on every line width (and default marker size)

    @property
    def palette(self) -> tuple[str, ...]:
        """Okabe-Ito with its black replaced by this theme's ink."""
        return (*PALETTE[:-1], self.ink)

    @property
    def ink_word(self) -> str:
        """The ink's colour, for captions."""
        return "black" if self.name == "light" else "white"

    @property
    def neutral_word(self) -> str:
        """What the middle of the diverging scale looks like, for captions."""
        return "white" if self.name == "light" else "dark grey"


LIGHT = ChartTheme("light", "#000000", "#444444", DIVERGING_LIGHT, "Greys", "Blues")
DARK = ChartTheme(
    "dark", "#CCCCCC", "#999999", DIVERGING_DARK, "gray",
    ((0.0, "#1E2029"), (1.0, "#56B4E9")),
)  # fmt: skip


PRESENTER_FONT = 20  # px of chart text in presenter mode (Streamlit's charts use 12-14)
PRESENTER_LINES = 2.0  # line widths in presenter mode, as a factor


def presenting(theme: ChartTheme) -> ChartTheme:
    """The same colours with presenter sizes: larger chart text, thicker lines."""
    return replace(theme, font_size=PRESENTER_FONT, line_scale=PRESENTER_LINES)


def chart_theme(kind: str | None, presenter: bool = False) -> ChartTheme:
    """The chart theme of a page theme type (``st.context.theme.type``; None reads as light),
    with presenter sizes when ``presenter``."""
    theme = DARK if kind == "dark" else LIGHT
    return presenting(theme) if presenter else theme
