"""The report's tables, from the per-key counts udfs/report.py aggregates.

Every function takes and returns small pandas DataFrames (one row per language, label, language
pair, ...): shares are computed here, once, so the CSV, the Markdown, the HTML tables and the
figures all show the same numbers. Percentages are of the table's own total (a topic's share of
the annotated pairs of its language, a language's share of all pairs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from lib.retrieval.metrics import MEASURES
from lib.retrieval.results import parse_metric_key, run_metrics

# The short names the paper's figures use for the topic classes.
TOPIC_SHORT = {
    "Traveling and Hospitality": "Travel",
    "Products and Commercial Services": "Products",
    "Healthcare Services, Wellness and Lifestyle": "Health",
    "Entertainment, Recreation and Leisure": "Entertainment",
    "Banking, Financial Services and Insurance": "Finance",
    "General Information and Other": "General",
    "Employment, Education and Training": "Employment",
    "Legal Services, Regulations and Government": "Legal",
}


def language_name(code: str) -> str:
    try:
        import iso639

        return iso639.Language.from_part3(code).name
    except Exception:  # noqa: BLE001 - a code the ISO table does not know stays as it is
        return code


def share(part: pd.Series, whole) -> pd.Series:
    return (100.0 * part / whole).round(2) if whole else part * 0.0


def languages(stats: pd.DataFrame) -> pd.DataFrame:
    """``language, pairs, origins, mean_question_chars, mean_answer_chars`` -> the language table,
    largest first, with the language's English name and its share of all pairs."""
    out = stats.copy()
    out.insert(1, "name", out.language.map(language_name))
    out.insert(3, "share_pct", share(out.pairs, out.pairs.sum()))
    out["mean_question_chars"] = out.mean_question_chars.round(1)
    out["mean_answer_chars"] = out.mean_answer_chars.round(1)
    return out.sort_values(["pairs", "language"], ascending=[False, True]).reset_index(drop=True)


def origin_sizes(size_counts: pd.DataFrame, base: int = 2) -> pd.DataFrame:
    """``pairs_per_origin, origins`` (how many origins have exactly that many pairs) -> bins
    ``[base^k, base^(k+1) - 1]``: ``bin, min_pairs, max_pairs, origins, pairs, share_of_origins_pct``."""
    if base < 2:
        raise ValueError("origin_size_base must be at least 2")
    rows = {}
    for size, n in zip(size_counts.pairs_per_origin, size_counts.origins):
        k = int(math.floor(math.log(size, base) + 1e-9))
        while base ** (k + 1) <= size:       # guard against rounding at exact powers
            k += 1
        while base ** k > size:
            k -= 1
        lo, hi = base ** k, base ** (k + 1) - 1
        r = rows.setdefault(k, {"bin": str(lo) if lo == hi else f"{lo}-{hi}", "min_pairs": lo, "max_pairs": hi,
                                "origins": 0, "pairs": 0})
        r["origins"] += int(n)
        r["pairs"] += int(size) * int(n)
    out = pd.DataFrame([rows[k] for k in sorted(rows)],
                       columns=["bin", "min_pairs", "max_pairs", "origins", "pairs"])
    out["share_of_origins_pct"] = share(out.origins, out.origins.sum())
    return out


def labels(counts: pd.DataFrame, label: str, order: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``language, <label>, pairs`` -> (overall shares, shares within each language).

    Overall: ``<label>, pairs, share_pct``; per language: ``language, <label>, pairs, share_pct``
    (share of the language's labelled pairs). Labels come in ``order`` (the model's classes),
    any other label after them by name.
    """
    rank = {name: i for i, name in enumerate(order or [])}

    def ordered(df: pd.DataFrame) -> pd.DataFrame:
        df = df.assign(_rank=df[label].map(lambda x: rank.get(x, len(rank))))
        by = (["language"] if "language" in df.columns else []) + ["_rank", label]
        return df.sort_values(by).drop(columns="_rank").reset_index(drop=True)

    overall = ordered(counts.groupby(label, as_index=False).pairs.sum())
    overall["share_pct"] = share(overall.pairs, overall.pairs.sum())
    per = ordered(counts[["language", label, "pairs"]])
    per["share_pct"] = (100.0 * per.pairs / per.groupby("language").pairs.transform("sum")).round(2)
    return overall, per


def bitexts(counts: pd.DataFrame) -> pd.DataFrame:
    """``language1, language2, bitexts, origins`` largest first."""
    return counts.sort_values(["bitexts", "language1", "language2"], ascending=[False, True, True]).reset_index(drop=True)


def hard_negatives(counts: pd.DataFrame) -> pd.DataFrame:
    """``language, strategy, queries, queries_with_negatives, negatives`` -> plus the mean number
    of negatives per query that has one."""
    out = counts.sort_values(["language", "strategy"]).reset_index(drop=True)
    out["mean_negatives"] = (out.negatives / out.queries_with_negatives.where(out.queries_with_negatives > 0)).round(2)
    return out


@dataclass
class EvaluationRun:
    run_id: str
    finished_at: object
    counters: dict = field(default_factory=dict)
    #: The ``metrics`` column of the runs row (``<system>/<language>/<measure>`` -> 0..1).
    metrics: dict = field(default_factory=dict)


def _seconds(when) -> object:
    return when.strftime("%Y-%m-%d %H:%M:%S") if hasattr(when, "strftime") else when


def evaluation(runs: list[EvaluationRun]) -> pd.DataFrame:
    """The latest evaluation of each retriever (``system``) on each language, from the ``evaluate``
    and ``compare`` rows of the runs table.

    A row's measures are its ``metrics`` column (``<system>/<language>/<measure>``), or for rows
    written before that column existed the BM25 counters ``<measure>_x10000_<language>``
    (lib.retrieval.results.run_metrics); ``queries_<language>`` counts the judged queries. A
    (system, language) row comes from the last run that evaluated it.
    """
    latest: dict[tuple[str, str], dict] = {}
    for run in sorted(runs, key=lambda r: (r.finished_at is None, r.finished_at)):
        found: dict[tuple[str, str], dict] = {}
        for key, value in run_metrics(run.counters, run.metrics).items():
            system, language, measure = parse_metric_key(key)
            if measure in MEASURES:
                found.setdefault((system, language), {})[measure] = value
        for (system, language), values in found.items():
            latest[(system, language)] = {
                "system": system, "language": language, **{k: values.get(k) for k in MEASURES},
                "queries": (run.counters or {}).get(f"queries_{language}"),
                "run_id": run.run_id, "finished_at": _seconds(run.finished_at)}
    cols = ["system", "language", *MEASURES, "queries", "run_id", "finished_at"]
    return pd.DataFrame([latest[k] for k in sorted(latest)], columns=cols)


def to_markdown(df: pd.DataFrame, max_rows: int | None = None) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned, thousands separated)."""
    def cell(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu"):
            return f"{int(v):,}"
        if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
            return f"{float(v):,.4f}".rstrip("0").rstrip(".")
        return str(v).replace("|", "\\|").replace("\n", " ")

    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    shown = df if max_rows is None else df.head(max_rows)
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    if max_rows is not None and len(df) > max_rows:
        lines.append(f"\n({len(df) - max_rows:,} more rows in the CSV file)")
    return "\n".join(lines) + "\n"
