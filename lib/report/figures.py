"""The report's figures, drawn with matplotlib from the report's tables (lib/report/tables.py).

Each function takes a table and returns a ``matplotlib.figure.Figure`` (no pyplot, no global
state, any backend); :func:`to_svg` renders it as an SVG string the HTML page embeds inline (text
kept as text, no date, stable ids, so the same tables give the same bytes). What a figure plots
is exactly a column of its table: bar lengths are the table's counts or shares, heatmap cells its
shares or counts (tests/report checks them against the CSV files).
"""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from lib.report.tables import TOPIC_SHORT

BLUE, ORANGE, GREEN = "#3b6ea5", "#e07b39", "#4c9a6a"
RC = {"svg.fonttype": "none", "svg.hashsalt": "webfaq-report", "font.size": 9,
      "axes.spines.top": False, "axes.spines.right": False}


def to_svg(fig: Figure) -> str:
    """The figure as an SVG document without the XML prologue (ready to inline in HTML)."""
    buf = io.StringIO()
    with rc_context(RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _plain_log_axis(axis, low: float) -> None:
    """A log axis labelled 1, 2, 5, 10, 20, 50 ... (plain numbers); returns the power of ten at or
    below ``low``, where the axis should start."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
    return 10.0 ** math.floor(math.log10(max(low, 1.0)))


def _figure(width: float, height: float) -> Figure:
    with rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def languages(table: pd.DataFrame, top: int) -> Figure:
    """QA pairs per language (log scale), the ``top`` largest languages, largest on top."""
    shown = table.head(top)
    with rc_context(RC):
        fig = _figure(7.5, 0.6 + 0.22 * max(len(shown), 1))
        ax = fig.add_subplot()
        ax.barh(range(len(shown)), shown.pairs.to_numpy(), color=BLUE)
        ax.set_yticks(range(len(shown)), shown.language.tolist())
        ax.invert_yaxis()
        ax.set_xscale("log")
        if len(shown):
            ax.set_xlim(left=_plain_log_axis(ax.xaxis, float(shown.pairs.min()) / 2))
        ax.set_xlabel("QA pairs (log scale)")
        ax.set_title(f"QA pairs per language ({len(shown)} of {len(table)} languages)")
    return fig


def label_heatmap(per_language: pd.DataFrame, label: str, order: list[str], languages: list[str],
                  title: str, short: dict[str, str] | None = None) -> Figure:
    """Share (%) of each label within each language: rows ``languages``, columns ``order``."""
    matrix = (per_language.pivot_table(index="language", columns=label, values="share_pct", aggfunc="sum")
              .reindex(index=languages, columns=order).fillna(0.0))
    with rc_context(RC):
        fig = _figure(1.6 + 0.75 * len(order), 1.2 + 0.28 * max(len(languages), 1))
        ax = fig.add_subplot()
        image = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=100)
        ax.set_xticks(range(len(order)), [(short or {}).get(x, x) for x in order], rotation=35, ha="right")
        ax.set_yticks(range(len(languages)), languages)
        if matrix.size <= 400:
            for (i, j), v in np.ndenumerate(matrix.to_numpy()):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if v < 50 else "black")
        fig.colorbar(image, ax=ax, label="% of the language's labelled pairs")
        ax.set_title(title)
    return fig


def topic_heatmap(per_language: pd.DataFrame, order: list[str], languages: list[str]) -> Figure:
    return label_heatmap(per_language, "topic", order, languages, "Topics per language", TOPIC_SHORT)


def label_bars(overall: pd.DataFrame, label: str, title: str, short: dict[str, str] | None = None) -> Figure:
    """Share (%) of each label over all labelled pairs, in the table's order."""
    with rc_context(RC):
        fig = _figure(6.5, 3.2)
        ax = fig.add_subplot()
        names = [(short or {}).get(x, x) for x in overall[label]]
        ax.bar(range(len(overall)), overall.share_pct.to_numpy(), color=ORANGE)
        ax.set_xticks(range(len(overall)), names, rotation=35, ha="right")
        ax.set_ylabel("% of labelled pairs")
        ax.set_title(title)
    return fig


def bitext_matrix(table: pd.DataFrame, top: int) -> Figure:
    """Bitexts per language pair (log colour scale; a pair without bitexts is blank), the ``top``
    languages with the most bitexts."""
    totals = pd.concat([table[["language1", "bitexts"]].rename(columns={"language1": "language"}),
                        table[["language2", "bitexts"]].rename(columns={"language2": "language"})])
    order = (totals.groupby("language").bitexts.sum().sort_values(ascending=False, kind="stable")
             .head(top).index.tolist())
    order = sorted(order)
    index = {lang: i for i, lang in enumerate(order)}
    matrix = np.zeros((len(order), len(order)))
    for r in table.itertuples(index=False):
        if r.language1 in index and r.language2 in index:
            i, j = index[r.language1], index[r.language2]
            matrix[i, j] = matrix[j, i] = r.bitexts
    masked = np.ma.masked_where(matrix == 0, matrix)
    with rc_context(RC):
        size = 1.8 + 0.32 * max(len(order), 1)
        fig = _figure(size + 1.2, size)
        ax = fig.add_subplot()
        vmax = max(float(matrix.max()), 1.0)
        image = ax.imshow(masked, cmap="magma_r", norm=LogNorm(vmin=1, vmax=vmax if vmax > 1 else 10))
        ax.set_xticks(range(len(order)), order, rotation=90)
        ax.set_yticks(range(len(order)), order)
        if len(order) <= 12:
            for (i, j), v in np.ndenumerate(matrix):
                if v:
                    ax.text(j, i, f"{int(v):,}", ha="center", va="center", fontsize=7, color="#222")
        fig.colorbar(image, ax=ax, label="bitexts (log scale)")
        ax.set_title("Bitexts per language pair")
    return fig


def origin_sizes(table: pd.DataFrame) -> Figure:
    """Origins per size bin (QA pairs per origin), log scale."""
    with rc_context(RC):
        fig = _figure(6.5, 3.2)
        ax = fig.add_subplot()
        ax.bar(range(len(table)), table.origins.to_numpy(), color=GREEN)
        ax.set_xticks(range(len(table)), table["bin"].tolist(), rotation=35, ha="right")
        ax.set_yscale("log")
        if len(table):
            _plain_log_axis(ax.yaxis, 1.0)
            ax.set_ylim(bottom=0.7)          # a bin of one origin still shows a bar
        ax.set_xlabel("QA pairs per origin")
        ax.set_ylabel("origins (log scale)")
        ax.set_title("Origin sizes")
    return fig
