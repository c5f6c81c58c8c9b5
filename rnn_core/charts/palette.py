"""The one colour palette of every chart: Okabe-Ito (safe with colour-vision deficiencies)."""

from __future__ import annotations

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
