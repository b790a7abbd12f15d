"""lib/report/tables.py and lib/report/figures.py on small hand-checked inputs (no Spark)."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from lib.report import figures as figs
from lib.report import page
from lib.report import tables as tbl


def test_origin_size_bins_by_hand():
    counts = pd.DataFrame({"pairs_per_origin": [1, 2, 3, 4, 7, 8, 131], "origins": [5, 2, 1, 1, 1, 3, 1]})
    out = tbl.origin_sizes(counts, base=2)
    assert out["bin"].tolist() == ["1", "2-3", "4-7", "8-15", "128-255"]
    assert out.origins.tolist() == [5, 3, 2, 3, 1]
    assert out.pairs.tolist() == [5, 2 * 2 + 3, 4 + 7, 24, 131]
    assert out.share_of_origins_pct.tolist() == [35.71, 21.43, 14.29, 21.43, 7.14]
    assert tbl.origin_sizes(pd.DataFrame({"pairs_per_origin": [9, 10, 99, 100], "origins": [1] * 4}), base=10)[
        "bin"].tolist() == ["1-9", "10-99", "100-999"]


def test_label_shares_overall_and_per_language():
    counts = pd.DataFrame({"language": ["deu", "deu", "eng", "eng", "eng"],
                           "topic": ["B", "A", "A", "C", "B"], "pairs": [3, 1, 2, 2, 4]})
    overall, per = tbl.labels(counts, "topic", order=["A", "B"])
    assert overall.topic.tolist() == ["A", "B", "C"]             # the model's order, then others
    assert overall.pairs.tolist() == [3, 7, 2] and overall.share_pct.tolist() == [25.0, 58.33, 16.67]
    assert per[per.language == "deu"].share_pct.tolist() == [25.0, 75.0]
    assert per[per.language == "eng"].topic.tolist() == ["A", "B", "C"]


def test_latest_evaluation_per_language():
    runs = [tbl.EvaluationRun("old", datetime(2026, 1, 1), {"ndcg_at_10_x10000_deu": 3000, "queries_deu": 4,
                                                            "ndcg_at_10_x10000_ita": 1234, "queries_ita": 1,
                                                            "milliseconds": 10}),
            tbl.EvaluationRun("new", datetime(2026, 2, 1), {"queries_deu": 5},
                              {"bm25/deu/ndcg_at_10": 0.31, "bm25/deu/map": 0.25, "dense/deu/ndcg_at_10": 0.42})]
    out = tbl.evaluation(runs).set_index(["system", "language"])
    assert out.loc[("bm25", "deu"), "ndcg_at_10"] == 0.31 and out.loc[("bm25", "deu"), "map"] == 0.25
    assert out.loc[("bm25", "deu"), "run_id"] == "new" and out.loc[("bm25", "deu"), "queries"] == 5
    assert out.loc[("dense", "deu"), "ndcg_at_10"] == 0.42
    assert out.loc[("bm25", "ita"), "ndcg_at_10"] == 0.1234 and out.loc[("bm25", "ita"), "run_id"] == "old"
    assert tbl.evaluation([]).empty


def test_markdown_and_html_tables():
    df = pd.DataFrame({"language": ["deu", "a|b"], "pairs": [1234, 5], "share_pct": [99.6, 0.4]})
    assert tbl.to_markdown(df).splitlines()[:3] == [
        "| language | pairs | share_pct |", "|---|---:|---:|", "| deu | 1,234 | 99.6 |"]
    assert "a\\|b" in tbl.to_markdown(df)
    assert '<td class="n">1,234</td>' in page.html_table(df)


def test_figures_plot_their_tables():
    lang = tbl.languages(pd.DataFrame({"language": ["eng", "deu", "ita"], "pairs": [10, 1000, 3], "origins": [2, 5, 1],
                                       "mean_question_chars": [50.0, 60.0, 70.0], "mean_answer_chars": [1.0, 2.0, 3.0]}))
    ax = figs.languages(lang, top=2).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["deu", "eng"]
    assert [p.get_width() for p in ax.patches] == [1000, 10] and ax.get_xscale() == "log"
    bit = tbl.bitexts(pd.DataFrame({"language1": ["deu", "eng"], "language2": ["eng", "swe"], "bitexts": [7, 30],
                                    "origins": [1, 2]}))
    image = figs.bitext_matrix(bit, top=10).axes[0].images[0].get_array()
    assert image[0, 1] == image[1, 0] == 7 and image[1, 2] == 30 and np.ma.is_masked(image[0, 2])
    svg = figs.to_svg(figs.bitext_matrix(bit, top=10))
    assert svg.startswith("<svg") and svg == figs.to_svg(figs.bitext_matrix(bit, top=10))      # repeatable bytes
