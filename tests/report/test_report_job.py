"""jobs/report.py end to end: the statistics of real data, its figures checked against its tables,
and the page opened in a real headless browser (Debian's Chromium) where one is installed.

Tables: qa_pairs from the real COVID-QA pairs; bitexts from Tatoeba's real parallel sentences;
hard_negatives from COVID-QA scored by the real MiniLM encoder; qa_annotations with stand-in
labels and two evaluate rows in runs, both invented (tests/qa_fixtures.py and below say why).
"""
from __future__ import annotations

import collections
import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.report import ReportJob
from lib.exports import trainers
from lib.models.annotate import QUESTION_TYPES, TOPICS
from lib.report import figures as figs
from lib.report import tables as tbl
from lib.schemas import RUNS
from tests.qa_fixtures import (covidqa_pairs, minilm_hard_negatives, stand_in_annotations, tatoeba_bitexts,
                               write_annotations_table, write_bitexts_table, write_hard_negatives_table,
                               write_qa_pairs_table)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

# Three runs as the stages record them (the figures are invented): an evaluate run of an older
# version (BM25 measures x 10,000 in the counters, no metrics column), a newer evaluate run (measures
# in the metrics column) that wins for BM25 on deu, and a compare run with a dense model "rn"; ita
# keeps the older BM25 figure.
EVALUATIONS = [
    ("eval-old", datetime(2026, 1, 5, tzinfo=timezone.utc), "evaluate",
     {"ndcg_at_10_x10000_deu": 2900, "map_x10000_deu": 2500, "mrr_at_10_x10000_deu": 2400,
      "recall_at_100_x10000_deu": 7000, "queries_deu": 4, "ndcg_at_10_x10000_ita": 5000, "queries_ita": 1}, None),
    ("eval-new", datetime(2026, 2, 5, tzinfo=timezone.utc), "evaluate", {"queries_deu": 4},
     {"bm25/deu/ndcg_at_10": 0.3123, "bm25/deu/map": 0.26, "bm25/deu/mrr_at_10": 0.25, "bm25/deu/recall_at_100": 0.75}),
    ("compare-1", datetime(2026, 2, 6, tzinfo=timezone.utc), "compare", {"queries_deu": 4},
     {"bm25/deu/ndcg_at_10": 0.3123, "rn/deu/ndcg_at_10": 0.4, "rn/deu/recall_at_100": 0.8}),
]


@pytest.fixture(scope="module")
def built(spark, shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    wh = root / "warehouse"
    pairs = covidqa_pairs(shared_data)
    write_qa_pairs_table(spark, shared_data, str(wh / "qa_pairs"))
    annotations = stand_in_annotations(pairs)
    write_annotations_table(spark, annotations, str(wh / "qa_annotations"))
    bitexts = tatoeba_bitexts(shared_data)
    write_bitexts_table(spark, bitexts, str(wh / "bitexts"))
    negatives = minilm_hard_negatives(shared_data, queries_per_language=8)
    write_hard_negatives_table(spark, negatives, str(wh / "hard_negatives"))
    rows = [{"run_id": r, "job": job, "profile": "local", "started_at": t, "finished_at": t,
             "inputs": [], "counters": c, "metrics": m} for r, t, job, c, m in EVALUATIONS]
    spark.createDataFrame(rows, schema=RUNS).write.format("delta").save(str(wh / "runs"))
    out = root / "report"
    assert ReportJob().main(["--warehouse", str(wh), "--output", str(out), "--conf", "report.figure_languages=4"]) == 0
    return {"out": out, "pairs": pairs, "annotations": annotations, "bitexts": bitexts, "negatives": negatives}


def csv(built, name) -> pd.DataFrame:
    return pd.read_csv(built["out"] / "tables" / f"{name}.csv", keep_default_na=False, na_values=[""])


@pytest.mark.slow
def test_tables_hold_the_statistics_of_the_data(built):
    pairs = built["pairs"]
    lang = csv(built, "languages").set_index("language")
    assert lang.pairs.to_dict() == {"deu": 395, "eng": 211, "pol": 131, "ita": 78, "swe": 64}
    assert lang.origins.to_dict() == {"deu": 11, "eng": 5, "pol": 1, "ita": 1, "swe": 1}
    assert lang.loc["deu", "name"] == "German" and lang.share_pct.sum() == pytest.approx(100, abs=0.02)
    for code, group in pairs.groupby("language"):
        assert lang.loc[code, "mean_question_chars"] == pytest.approx(group.question.str.len().mean(), abs=0.05)
        assert lang.loc[code, "mean_answer_chars"] == pytest.approx(group.answer.str.len().mean(), abs=0.05)

    per_origin = collections.Counter(pairs.origin)                 # pairs per origin over all languages
    sizes = csv(built, "origin_sizes")
    assert sizes.origins.sum() == len(per_origin) and sizes.pairs.sum() == len(pairs)
    for r in sizes.itertuples():
        inside = [n for n in per_origin.values() if r.min_pairs <= n <= r.max_pairs]
        assert (r.origins, r.pairs) == (len(inside), sum(inside))

    ann = built["annotations"].dropna(subset=["topic"])
    topics = csv(built, "topics").set_index("topic")
    assert topics.pairs.to_dict() == ann.topic.value_counts().to_dict()
    assert list(topics.index) == [t for t in TOPICS if t in set(ann.topic)]
    by_lang = csv(built, "question_types_by_language")
    deu = ann[ann.language == "deu"].question_type.value_counts(normalize=True) * 100
    got = by_lang[by_lang.language == "deu"].set_index("question_type").share_pct
    assert got.to_dict() == pytest.approx(deu.round(2).to_dict())

    bit = csv(built, "bitexts")
    assert set(zip(bit.language1, bit.language2, bit.bitexts)) == {
        ("deu", "eng", 1000), ("eng", "ita", 1000), ("eng", "pol", 1000), ("eng", "swe", 1000)}

    neg = csv(built, "hard_negatives").set_index(["language", "strategy"])
    assert set(neg.index.get_level_values("strategy")) == set(trainers.STRATEGIES)
    for (language, strategy), r in neg.iterrows():
        recs = built["negatives"][built["negatives"].language == language].to_dict("records")
        kept = [len(trainers.selected(strategy, rec, 42, trainers.neg.StrategyParams())) for rec in recs]
        assert (r.queries, r.queries_with_negatives, r.negatives) == (len(recs), sum(k > 0 for k in kept), sum(kept))
    assert neg.loc[("eng", "all"), "negatives"] == 8 * 12 and neg.loc[("eng", "top4"), "mean_negatives"] == 4.0

    ev = csv(built, "evaluation").set_index(["system", "language"])
    assert sorted(ev.index) == [("bm25", "deu"), ("bm25", "ita"), ("rn", "deu")]
    assert ev.loc[("bm25", "deu"), "ndcg_at_10"] == 0.3123 and ev.loc[("bm25", "deu"), "run_id"] == "compare-1"
    assert ev.loc[("bm25", "ita"), "ndcg_at_10"] == 0.5 and ev.loc[("bm25", "ita"), "run_id"] == "eval-old"
    assert ev.loc[("rn", "deu"), "recall_at_100"] == 0.8 and pd.isna(ev.loc[("rn", "deu"), "map"])

    summary = dict(csv(built, "summary").values)
    assert summary["QA pairs"] == len(pairs) and summary["bitexts"] == 4000 and summary["languages"] == 5
    md = (built["out"] / "report.md").read_text()
    assert "| deu | German | 395 |" in md and "## Bitexts" in md


@pytest.mark.slow
def test_figures_are_drawn_from_the_tables(built):
    """Each SVG of the report is byte for byte the figure drawn from its CSV table, and that figure
    plots the table's numbers."""
    out = built["out"]
    lang = csv(built, "languages")
    fig = figs.languages(lang, 4)
    assert figs.to_svg(fig) == (out / "figures" / "languages.svg").read_text()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["deu", "eng", "pol", "ita"]
    assert [p.get_width() for p in ax.patches] == [395, 211, 131, 78]

    sizes = csv(built, "origin_sizes")
    fig = figs.origin_sizes(sizes)
    assert figs.to_svg(fig) == (out / "figures" / "origin_sizes.svg").read_text()
    assert [p.get_height() for p in fig.axes[0].patches] == sizes.origins.tolist()

    per = csv(built, "topics_by_language")
    fig = figs.topic_heatmap(per, list(TOPICS), ["deu", "eng"])
    assert figs.to_svg(fig) == (out / "figures" / "topics_by_language.svg").read_text()
    grid = fig.axes[0].images[0].get_array()
    for i, language in enumerate(["deu", "eng"]):
        for j, topic in enumerate(TOPICS):
            want = per[(per.language == language) & (per.topic == topic)].share_pct.sum()
            assert grid[i, j] == pytest.approx(want)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [tbl.TOPIC_SHORT[t] for t in TOPICS]

    qt = csv(built, "question_types")
    fig = figs.label_bars(qt, "question_type", "Question types")
    assert figs.to_svg(fig) == (out / "figures" / "question_types.svg").read_text()
    assert [p.get_height() for p in fig.axes[0].patches] == qt.share_pct.tolist()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [q for q in QUESTION_TYPES if q in set(qt.question_type)]

    bit = csv(built, "bitexts")
    fig = figs.bitext_matrix(bit, 4)
    assert figs.to_svg(fig) == (out / "figures" / "bitexts.svg").read_text()
    order = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    matrix = fig.axes[0].images[0].get_array()
    assert order == ["deu", "eng", "ita", "pol"]                           # the 4 languages with most bitexts
    assert matrix[order.index("deu"), order.index("eng")] == 1000 and np.ma.is_masked(matrix[0, 2])

    page = (out / "report.html").read_text()
    for name in ("languages", "origin_sizes", "topics", "topics_by_language", "question_types",
                 "question_types_by_language", "bitexts"):
        svg = (out / "figures" / f"{name}.svg").read_text()
        assert f'<figure id="figure-{name}">{svg}' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)                 # nothing fetched from elsewhere


def chromium(page: Path, tmp: Path, *extra: str, size: str = "1280,2200") -> subprocess.CompletedProcess:
    """Open a page in headless Chromium with a fresh profile; stderr carries the console."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    env = {**os.environ, "XDG_CONFIG_HOME": str(profile / "config"), "XDG_CACHE_HOME": str(profile / "cache")}
    return subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                           "--v=0", f"--window-size={size}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=180, env=env)


def console(result: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r":CONSOLE[^\]]*\] (.*)", result.stderr)


# Appended to a copy of the page: measures what the browser laid out and decoded.
PROBE = """<script>
(async () => {
  const figures = [...document.querySelectorAll("figure svg")];
  const images = [...document.querySelectorAll("figure svg image")];
  const decoded = await Promise.all(images.map(async (im) => {
    const img = new Image(); img.src = im.getAttribute("xlink:href") || im.getAttribute("href");
    try { await img.decode(); return img.naturalWidth > 0; } catch (e) { return false; }
  }));
  console.log("PROBE " + JSON.stringify({
    figures: figures.length,
    drawn: figures.filter(s => s.getBoundingClientRect().width > 100 && s.getBoundingClientRect().height > 100).length,
    images: images.length, decoded: decoded.filter(Boolean).length,
    tables: document.querySelectorAll("table").length,
    missing: document.querySelectorAll(".missing").length}));
})();
</script>"""


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium to check the page "
                                                   "in a real browser")
def test_the_page_renders_in_a_real_browser(built, tmp_path):
    from PIL import Image

    page = built["out"] / "report.html"
    shot = tmp_path / "report.png"
    result = chromium(page, tmp_path, f"--screenshot={shot}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console(result) == []                                # no error, no warning, nothing at all
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2200)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 200      # text, bars and heatmaps, not a blank page

    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    result = chromium(probe, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    (line,) = [m for m in console(result) if m.startswith('"PROBE ')]
    found = json.loads(line[len('"PROBE '):line.rindex('"')].replace('\\"', '"'))
    # 7 figures; the 3 heatmaps each embed their cells and their colour bar as images.
    assert found == {"figures": 7, "drawn": 7, "images": 6, "decoded": 6, "tables": 10, "missing": 0}
    assert [m for m in console(result) if not m.startswith('"PROBE ')] == []

    # The same check fails on a page that does have problems.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
    assert any("undefinedFunction" in m for m in console(chromium(bad, tmp_path, "--dump-dom")))
