"""The report as files: one self-contained HTML page, Markdown, and a CSV file per table.

:func:`build` takes the aggregated counts (:class:`Inputs`, made by udfs/report.py; ``None`` where
a table does not exist yet), makes the tables and figures and returns ``{relative path: text}``:

    report.html          every section: figures inline (SVG), tables, no script, no external file
    report.md            the same tables in Markdown (figures linked)
    tables/<name>.csv    one file per table
    figures/<name>.svg   one file per figure

The page opens from disk in any browser, e-mails as one file, and renders on a machine without
network access.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from lib.report import figures as figs
from lib.report import tables as tbl


@dataclass
class Inputs:
    language_stats: pd.DataFrame                   # language, pairs, origins, mean_question_chars, mean_answer_chars
    origin_size_counts: pd.DataFrame               # pairs_per_origin, origins
    topic_counts: pd.DataFrame | None = None       # language, topic, pairs
    question_type_counts: pd.DataFrame | None = None   # language, question_type, pairs
    bitext_counts: pd.DataFrame | None = None      # language1, language2, bitexts, origins
    hard_negative_counts: pd.DataFrame | None = None   # language, strategy, queries, queries_with_negatives, negatives
    evaluation_runs: list = field(default_factory=list)  # tables.EvaluationRun
    topic_order: list[str] = field(default_factory=list)
    question_type_order: list[str] = field(default_factory=list)


@dataclass
class Section:
    key: str
    title: str
    text: str
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, str, object]] = field(default_factory=list)   # (name, caption, Figure)
    missing: str | None = None


def sections(inputs: Inputs, figure_languages: int = 40, origin_size_base: int = 2) -> list[Section]:
    out = []
    lang = tbl.languages(inputs.language_stats)
    out.append(Section(
        "languages", "Languages",
        f"{int(lang.pairs.sum()):,} QA pairs in {len(lang)} languages from {int(lang.origins.sum()):,} "
        "origins (an origin counted once per language it has pairs in); mean lengths in characters.",
        [("languages", lang)],
        [("languages", "QA pairs per language, log scale", figs.languages(lang, figure_languages))]))
    sizes = tbl.origin_sizes(inputs.origin_size_counts, origin_size_base)
    out.append(Section(
        "origins", "Origin sizes",
        "How many QA pairs each origin (scheme://host) contributes, in bins of powers of "
        f"{origin_size_base}.", [("origin_sizes", sizes)],
        [("origin_sizes", "Origins per size bin, log scale", figs.origin_sizes(sizes))]))

    top = lang.language.head(figure_languages).tolist()
    for key, title, counts, label, order, short in (
            ("topics", "Topics", inputs.topic_counts, "topic", inputs.topic_order, tbl.TOPIC_SHORT),
            ("question_types", "Question types", inputs.question_type_counts, "question_type",
             inputs.question_type_order, None)):
        if counts is None or counts.empty:
            out.append(Section(key, title, "", missing="no labels yet: run the annotate stage"))
            continue
        overall, per = tbl.labels(counts, label, order)
        names = order + [x for x in overall[label] if x not in order]
        shown = [x for x in top if x in set(per.language)] or sorted(set(per.language))[:figure_languages]
        heat = figs.label_heatmap(per, label, names, shown, f"{title} per language", short)
        out.append(Section(
            key, title, f"Shares of the {int(overall.pairs.sum()):,} labelled pairs, overall and per language.",
            [(key, overall), (f"{key}_by_language", per)],
            [(key, f"{title}: share of all labelled pairs", figs.label_bars(overall, label, title, short)),
             (f"{key}_by_language", f"{title} per language (% of the language's labelled pairs)", heat)]))

    if inputs.bitext_counts is None or inputs.bitext_counts.empty:
        out.append(Section("bitexts", "Bitexts", "", missing="no bitexts yet: run the bitexts stage"))
    else:
        bit = tbl.bitexts(inputs.bitext_counts)
        out.append(Section(
            "bitexts", "Bitexts",
            f"{int(bit.bitexts.sum()):,} aligned QA pairs over {len(bit)} language pairs.",
            [("bitexts", bit)],
            [("bitexts", "Bitexts per language pair, log colour scale", figs.bitext_matrix(bit, figure_languages))]))

    if inputs.hard_negative_counts is None or inputs.hard_negative_counts.empty:
        out.append(Section("hard_negatives", "Hard negatives", "", missing="no hard negatives yet: run the mine stage"))
    else:
        neg = tbl.hard_negatives(inputs.hard_negative_counts)
        out.append(Section(
            "hard_negatives", "Hard negatives",
            "Training queries per language, and what each export strategy keeps of their candidates "
            "(`all`: every stored candidate).", [("hard_negatives", neg)]))

    ev = tbl.evaluation(inputs.evaluation_runs)
    if ev.empty:
        out.append(Section("evaluation", "Evaluation", "", missing="no evaluation yet: run the evaluate stage"))
    else:
        out.append(Section("evaluation", "Evaluation",
                           "The latest evaluation of each retriever on each language recorded in the runs table.", [("evaluation", ev)]))
    return out


def summary(inputs: Inputs, found: list[Section]) -> pd.DataFrame:
    lang = inputs.language_stats
    rows = [("QA pairs", int(lang.pairs.sum())), ("languages", len(lang)),
            ("origins (per language, summed)", int(lang.origins.sum())),
            ("origins", int(inputs.origin_size_counts.origins.sum()))]
    if inputs.topic_counts is not None:
        rows.append(("pairs with a topic", int(inputs.topic_counts.pairs.sum())))
    if inputs.bitext_counts is not None:
        rows += [("bitexts", int(inputs.bitext_counts.bitexts.sum())), ("bitext language pairs", len(inputs.bitext_counts))]
    if inputs.hard_negative_counts is not None and not inputs.hard_negative_counts.empty:
        per_lang = inputs.hard_negative_counts.groupby("language").queries.max()
        rows.append(("queries with mined candidates", int(per_lang.sum())))
    ev = next((s for s in found if s.key == "evaluation" and s.tables), None)
    if ev is not None:
        rows.append(("evaluated languages", int(ev.tables[0][1].language.nunique())))
    return pd.DataFrame(rows, columns=["what", "count"])


# ---- rendering ----------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 6px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#5b6673;font-size:12.5px}
nav a{margin-right:12px}.missing{color:#8a5a00;background:#fff6e0;padding:6px 10px;border-radius:4px}
figure{margin:14px 0;overflow-x:auto}figcaption{color:#5b6673;font-size:12.5px}
figure svg{max-width:100%;height:auto}
.tablewrap{max-height:420px;overflow:auto;border:1px solid #e3e6ea;margin:8px 0 16px}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{padding:3px 8px;border-bottom:1px solid #eef0f3;text-align:left;white-space:nowrap}
th{position:sticky;top:0;background:#f0f2f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
"""


def _cell(value) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", False
    if isinstance(value, bool):
        return str(value), False
    try:
        import numpy as np

        if isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, np.floating):
            value = float(value)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip("."), True
    return html.escape(str(value)), False


def html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            text, numeric = _cell(v)
            cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def render_html(title: str, meta: list[str], summary_table: pd.DataFrame, found: list[Section],
                svgs: dict[str, str]) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body><main>",
             f"<h1>{html.escape(title)}</h1>",
             "".join(f'<div class="meta">{html.escape(m)}</div>' for m in meta),
             "<nav>" + "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in found) + "</nav>",
             '<h2 id="summary">Summary</h2>', html_table(summary_table)]
    for s in found:
        parts.append(f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2>')
        if s.missing:
            parts.append(f'<p class="missing">{html.escape(s.missing)}</p></section>')
            continue
        parts.append(f"<p>{html.escape(s.text)}</p>")
        for name, caption, _ in s.figures:
            parts.append(f'<figure id="figure-{name}">{svgs[name]}<figcaption>{html.escape(caption)}</figcaption></figure>')
        for name, table in s.tables:
            parts.append(f'<h3>{html.escape(name)}</h3>{html_table(table)}'
                         f'<div class="meta">tables/{html.escape(name)}.csv</div>')
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def render_markdown(title: str, meta: list[str], summary_table: pd.DataFrame, found: list[Section]) -> str:
    parts = [f"# {title}\n", *[f"{m}  " for m in meta], "", "## Summary\n", tbl.to_markdown(summary_table)]
    for s in found:
        parts.append(f"## {s.title}\n")
        if s.missing:
            parts.append(f"_{s.missing}_\n")
            continue
        parts.append(s.text + "\n")
        for name, caption, _ in s.figures:
            parts.append(f"![{caption}](figures/{name}.svg)\n")
        for name, table in s.tables:
            parts.append(f"### {name}\n")
            parts.append(tbl.to_markdown(table, max_rows=200))
    return "\n".join(parts)


def build(inputs: Inputs, *, title: str = "WebFAQ statistics", source: str = "", generated_at: datetime | None = None,
          figure_languages: int = 40, origin_size_base: int = 2) -> dict[str, str]:
    """``{relative path: text}`` of every file of the report."""
    found = sections(inputs, figure_languages, origin_size_base)
    summary_table = summary(inputs, found)
    meta = [f"Generated {(generated_at or datetime.now()).strftime('%Y-%m-%d %H:%M %Z').strip()}"
            + (f" from {source}" if source else "")]
    svgs = {name: figs.to_svg(fig) for s in found for name, _, fig in s.figures}
    files = {"report.html": render_html(title, meta, summary_table, found, svgs),
             "report.md": render_markdown(title, meta, summary_table, found),
             "tables/summary.csv": summary_table.to_csv(index=False)}
    for s in found:
        for name, table in s.tables:
            files[f"tables/{name}.csv"] = table.to_csv(index=False)
    for name, svg in svgs.items():
        files[f"figures/{name}.svg"] = svg
    return files
