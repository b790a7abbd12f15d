"""What an evaluation writes: TREC run files, per-query measures, MTEB result JSON, the Table-5
comparison (Markdown, CSV, bar chart) and the keys of the ``metrics`` column of ``runs``. No Spark.

Files of one system (``bm25``, ``dense``, ``hybrid`` or a name given to ``compare``) in ``DIR/<system>/``:

- ``<language>.trec``: the run in TREC format, ``query-id Q0 doc-id rank score <system>``, best
  first (what ``trec_eval``, ``ir_measures`` and ``pytrec_eval`` read);
- ``<language>.per-query.tsv``: ``query-id`` and each measure of :data:`lib.retrieval.metrics.MEASURES`;
- ``<task>.json``: MTEB's result layout (``task_name``, ``scores.<split>`` = one entry per language
  with ``hf_subset``, ``languages``, ``main_score`` = NDCG@10 and the measures under MTEB's names).

``runs.metrics`` keys are ``<system>/<language>/<measure>`` (e.g. ``bm25/eng/ndcg_at_10``), values
between 0 and 1. Rows written before that column existed hold the BM25 figures as integer counters
``<measure>_x10000_<language>``; :func:`run_metrics` reads both.
"""
from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Mapping

from lib.retrieval.metrics import MEASURES

# MTEB's names of our measures (MAP is computed over the 1,000 hits of the run).
MTEB_NAMES = {"ndcg_at_10": "ndcg_at_10", "map": "map_at_1000", "mrr_at_10": "mrr_at_10",
              "recall_at_100": "recall_at_100"}
# ISO 15924 script of each language MTEB tags a subset with (WebFAQ's 20 retrieval languages and more).
SCRIPTS = {
    "ara": "Arab", "fas": "Arab", "pes": "Arab", "urd": "Arab", "heb": "Hebr", "hin": "Deva", "mar": "Deva",
    "ben": "Beng", "tel": "Telu", "tam": "Taml", "tha": "Thai", "jpn": "Jpan", "kor": "Hang", "zho": "Hans",
    "cmn": "Hans", "rus": "Cyrl", "ukr": "Cyrl", "bul": "Cyrl", "srp": "Cyrl", "ell": "Grek", "kat": "Geor",
    "hye": "Armn",
}
SYSTEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def metric_key(system: str, language: str, measure: str) -> str:
    return f"{system}/{language}/{measure}"


def parse_metric_key(key: str) -> tuple[str, str, str]:
    system, language, measure = key.split("/", 2)
    return system, language, measure


def metrics_of(system: str, language: str, result: Mapping[str, float]) -> dict[str, float]:
    """The ``runs.metrics`` entries of one system on one language."""
    return {metric_key(system, language, m): float(result[m]) for m in MEASURES if m in result}


_LEGACY = re.compile(r"^(?P<measure>" + "|".join(MEASURES) + r")_x10000_(?P<language>.+)$")


def run_metrics(counters: Mapping[str, int] | None, metrics: Mapping[str, float] | None) -> dict[str, float]:
    """The measures of one ``runs`` row: its ``metrics`` column, or for rows written before that
    column existed the ``<measure>_x10000_<language>`` counters (BM25 evaluations) divided by 10,000."""
    if metrics:
        return {k: float(v) for k, v in metrics.items()}
    out = {}
    for key, value in (counters or {}).items():
        m = _LEGACY.match(key)
        if m:
            out[metric_key("bm25", m["language"], m["measure"])] = int(value) / 10000
    return out


def language_tag(language: str) -> str:
    """MTEB's ``xxx-Xxxx`` tag (ISO 639-3 and ISO 15924 script; Latin unless listed, ``Zzzz`` unknown)."""
    if len(language) != 3:
        return f"{language}-Zzzz"
    return f"{language}-{SCRIPTS.get(language, 'Latn')}"


def ranked(docs: Mapping[str, float]) -> list[tuple[str, float]]:
    """A query's hits best first, ties by document id descending (trec_eval's order)."""
    return sorted(docs.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def write_trec_run(path: str | os.PathLike, run: Mapping[str, Mapping[str, float]], tag: str) -> int:
    """Write ``run`` in TREC format; returns the number of lines."""
    n = 0
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for qid in sorted(run):
            for rank, (doc, score) in enumerate(ranked(run[qid]), start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")
                n += 1
    return n


def read_trec_run(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 6:
                run.setdefault(parts[0], {})[parts[2]] = float(parts[4])
    return run


def write_per_query(path: str | os.PathLike, per_query: Mapping[str, Mapping[str, float]]) -> int:
    """``query-id`` and every measure, one judged query a line (tab-separated, with a header)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", *MEASURES])
        for qid in sorted(per_query):
            writer.writerow([qid, *(f"{per_query[qid][m]:.6f}" for m in MEASURES)])
    return len(per_query)


def mteb_result(task_name: str, split: str, results: Mapping[str, Mapping[str, float]],
                evaluation_time: float | None = None, model: str | None = None) -> dict:
    """MTEB's result JSON for one system: one ``scores[split]`` entry per language."""
    entries = []
    for language in sorted(results):
        r = results[language]
        entry = {MTEB_NAMES[m]: float(r[m]) for m in MEASURES if m in r}
        entry.update({"main_score": float(r["ndcg_at_10"]), "hf_subset": language,
                      "languages": [language_tag(language)]})
        entries.append(entry)
    out = {"dataset_revision": None, "task_name": task_name, "mteb_version": None,
           "scores": {split: entries}, "evaluation_time": evaluation_time, "kg_co2_emissions": None}
    if model:
        out["model_name"] = model
    return out


def write_system_files(folder: str | os.PathLike, system: str, task_name: str, split: str,
                       runs: Mapping[str, Mapping[str, Mapping[str, float]]],
                       per_query: Mapping[str, Mapping[str, Mapping[str, float]]],
                       results: Mapping[str, Mapping[str, float]], evaluation_time: float | None = None,
                       model: str | None = None) -> list[str]:
    """Every file of one system under ``folder/<system>/``; returns their paths."""
    base = Path(folder) / system
    base.mkdir(parents=True, exist_ok=True)
    written = []
    for language, run in runs.items():
        write_trec_run(base / f"{language}.trec", run, system)
        write_per_query(base / f"{language}.per-query.tsv", per_query.get(language, {}))
        written += [str(base / f"{language}.trec"), str(base / f"{language}.per-query.tsv")]
    path = base / f"{task_name}.json"
    path.write_text(json.dumps(mteb_result(task_name, split, results, evaluation_time, model), indent=1),
                    encoding="utf-8")
    written.append(str(path))
    return written


# ---- the Table-5 comparison --------------------------------------------------------------------

def comparison_rows(results: Mapping[str, Mapping[str, Mapping[str, float]]], measure: str = "ndcg_at_10"
                    ) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """``(languages, [(system, [value in % or None per language])])`` in the systems' given order."""
    languages = sorted({lang for per_lang in results.values() for lang in per_lang})
    rows = [(system, [100.0 * per_lang[lang][measure] if lang in per_lang else None for lang in languages])
            for system, per_lang in results.items()]
    return languages, rows


def comparison_markdown(results, measure: str = "ndcg_at_10", caption: str | None = None) -> str:
    """A Markdown table shaped like Table 5: rows systems, columns languages, the measure in %."""
    languages, rows = comparison_rows(results, measure)
    lines = [caption, ""] if caption else []
    lines += ["| system | " + " | ".join(languages) + " |", "|---|" + "---:|" * len(languages)]
    for system, values in rows:
        lines.append(f"| {system} | " + " | ".join("" if v is None else f"{v:.1f}" for v in values) + " |")
    return "\n".join(lines) + "\n"


def write_comparison(folder: str | os.PathLike, results, measure: str = "ndcg_at_10",
                     caption: str | None = None) -> dict[str, str]:
    """``comparison.md``, ``comparison.csv`` and ``comparison.png`` (grouped bars) in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": str(folder / "comparison.md"), "csv": str(folder / "comparison.csv"),
             "png": str(folder / "comparison.png")}
    Path(paths["markdown"]).write_text(comparison_markdown(results, measure, caption), encoding="utf-8")
    languages, rows = comparison_rows(results, measure)
    with open(paths["csv"], "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["system", *languages])
        for system, values in rows:
            writer.writerow([system, *("" if v is None else f"{v:.2f}" for v in values)])
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 + 0.9 * len(languages) * max(1, len(rows)) / 3), 3.8), dpi=100)
    width = 0.8 / max(1, len(rows))
    for i, (system, values) in enumerate(rows):
        xs = [j + (i - (len(rows) - 1) / 2) * width for j in range(len(languages))]
        ax.bar(xs, [v or 0.0 for v in values], width, label=system)
    ax.set_xticks(range(len(languages)), languages)
    ax.set_ylabel(f"{measure.replace('_at_', '@').upper()} (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, ncol=min(3, max(1, len(rows))))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(paths["png"])
    plt.close(fig)
    return paths
