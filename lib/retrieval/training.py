"""Training examples for dense retrievers, the model card section and the loss curve. No Spark.

The four strategies of WebFAQ 2.0 (Table 5), each turned into the rows sentence-transformers'
trainer reads (a ``datasets.Dataset`` whose columns are the inputs in order, plus ``label``):

- ``rn``: MultipleNegativesRankingLoss, the positive and ``num_negatives`` (4) *random* answers of
  the same language's training queries (never the positive nor a text equal to it), drawn with the
  query's own seeded generator (:func:`lib.retrieval.negatives.query_rng`).
- ``top4``: MNR, the 4 best-scored mined candidates (``negatives.select('top4')``).
- ``denoised``: MNR, RocketQA's denoising: candidates scored above 0.9 or below 0.1 dropped, 4
  of the rest sampled (``negatives.select('denoised')``).
- ``margin-mse``: MarginMSELoss on the 10 best-scored candidates (``negatives.select('top10-scores')``),
  the label being ``[pos_score, neg_score_1, ..., neg_score_10]``: sentence-transformers turns it
  into the margins ``pos_score - neg_score_i`` the student must reproduce.

MNR rows are ``anchor, positive, negative_1..negative_n`` (the in-batch negatives of the other
rows come on top of the explicit ones); M-MSE rows ``query, positive, negative_1..negative_n,
label``. A query with fewer candidates than a strategy needs is skipped and counted (every row of
a dataset must have the same columns).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from lib.retrieval import negatives as neg

STRATEGIES = ("rn", "top4", "denoised", "margin-mse")
# The export strategy of lib/retrieval/negatives.py each training strategy takes its negatives from.
MINED_STRATEGY = {"top4": "top4", "denoised": "denoised", "margin-mse": "top10-scores"}
LOSSES = {"rn": "MultipleNegativesRankingLoss", "top4": "MultipleNegativesRankingLoss",
          "denoised": "MultipleNegativesRankingLoss", "margin-mse": "MarginMSELoss"}
# Why a query gives no training row.
SKIP_NO_CANDIDATES = "no_candidates"
SKIP_TOO_FEW = "too_few_negatives"


def loss_name(strategy: str) -> str:
    if strategy not in LOSSES:
        raise ValueError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    return LOSSES[strategy]


def negatives_needed(strategy: str, params: neg.StrategyParams) -> int:
    """How many negatives a row of ``strategy`` has (4 for the MNR strategies, 10 for M-MSE)."""
    return params.scores_num_negatives if strategy == "margin-mse" else params.num_negatives


def input_columns(strategy: str, params: neg.StrategyParams) -> list[str]:
    """The model inputs of a row, in the order the loss reads them."""
    first = "query" if strategy == "margin-mse" else "anchor"
    return [first, "positive"] + [f"negative_{i}" for i in range(1, negatives_needed(strategy, params) + 1)]


def example_columns(strategy: str, params: neg.StrategyParams) -> list[str]:
    """Every column of a stored example: language and query id, the inputs, and M-MSE's label."""
    cols = ["language", "query_id"] + input_columns(strategy, params)
    return cols + (["label"] if strategy == "margin-mse" else [])


@dataclass
class Example:
    row: dict | None            # None when skipped
    skipped: str | None = None  # SKIP_* reason


def _row(strategy: str, params: neg.StrategyParams, language: str, query_id: str, query: str, positive: str,
         negatives: Sequence[str], label: list[float] | None = None) -> dict:
    cols = input_columns(strategy, params)
    row = {"language": language, "query_id": query_id, cols[0]: query, "positive": positive}
    row.update({c: t for c, t in zip(cols[2:], negatives)})
    if label is not None:
        row["label"] = label
    return row


def mined_example(strategy: str, record: dict, seed: int | str, params: neg.StrategyParams = neg.StrategyParams()) -> Example:
    """The training row of one ``hard_negatives`` record for ``top4``, ``denoised`` or ``margin-mse``.

    ``record`` needs language, query_id, query, positive, pos_score, negatives, neg_scores.
    """
    if strategy not in MINED_STRATEGY:
        raise ValueError(f"{strategy!r} does not train on mined negatives (one of {', '.join(MINED_STRATEGY)})")
    texts = [] if record["negatives"] is None else list(record["negatives"])
    scores = [] if record["neg_scores"] is None else [float(s) for s in record["neg_scores"]]
    if not texts:
        return Example(None, SKIP_NO_CANDIDATES)
    sel = neg.select(MINED_STRATEGY[strategy], float(record["pos_score"]), scores, seed, record["query_id"], params)
    need = negatives_needed(strategy, params)
    if len(sel.indices) < need:
        return Example(None, SKIP_TOO_FEW)
    picked = sel.indices[:need]
    label = [float(record["pos_score"])] + [scores[i] for i in picked] if strategy == "margin-mse" else None
    return Example(_row(strategy, params, record["language"], record["query_id"], record["query"],
                        record["positive"], [texts[i] for i in picked], label))


class RandomNegativePool:
    """The answers random negatives are drawn from: the positives of one language's training queries."""

    def __init__(self, texts: Iterable[str]):
        self.texts = list(texts)
        self.norms = [neg.normalize_text(t) for t in self.texts]
        self.counts: dict[str, int] = {}
        for n in self.norms:
            self.counts[n] = self.counts.get(n, 0) + 1

    def __len__(self) -> int:
        return len(self.texts)

    def sample(self, query_id: str, positive: str, n: int, seed: int | str) -> list[int]:
        """``n`` distinct pool positions for one query, none equal to the positive's text.

        Seeded per query (the same seed gives the same draw on any partitioning). Fewer than ``n``
        when the pool has fewer valid answers.
        """
        pos = neg.normalize_text(positive)
        valid = len(self.texts) - self.counts.get(pos, 0)
        if valid <= n:
            return [i for i, t in enumerate(self.norms) if t != pos]
        rng = neg.query_rng(seed, query_id)
        picked: list[int] = []
        seen: set[int] = set()
        while len(picked) < n:
            i = rng.randrange(len(self.texts))
            if i in seen or self.norms[i] == pos:
                continue
            seen.add(i)
            picked.append(i)
        return picked


def random_example(pool: RandomNegativePool, language: str, query_id: str, query: str, positive: str,
                   seed: int | str, params: neg.StrategyParams = neg.StrategyParams()) -> Example:
    """The ``rn`` training row of one training query."""
    picked = pool.sample(query_id, positive, params.num_negatives, seed)
    if len(picked) < params.num_negatives:
        return Example(None, SKIP_TOO_FEW)
    return Example(_row("rn", params, language, query_id, query, positive, [pool.texts[i] for i in picked]))


# ---- after training ------------------------------------------------------------------------------

def loss_points(log_history: Iterable[dict]) -> list[tuple[int, float]]:
    """``(step, loss)`` of every logged training step (the trainer's ``state.log_history``)."""
    return [(int(h["step"]), float(h["loss"])) for h in log_history
            if "loss" in h and "step" in h and isinstance(h["loss"], (int, float)) and math.isfinite(h["loss"])]


def loss_summary(points: Sequence[tuple[int, float]], steps_per_epoch: int | None = None) -> dict[str, float]:
    """First and final logged loss, and the mean loss of the first and last ``steps_per_epoch`` steps."""
    if not points:
        return {}
    losses = [loss for _, loss in points]
    window = max(1, min(steps_per_epoch or max(1, len(losses) // 4), len(losses)))
    return {"first_loss": losses[0], "final_loss": losses[-1],
            "mean_loss_first": sum(losses[:window]) / window, "mean_loss_last": sum(losses[-window:]) / window}


def plot_loss_curve(points: Sequence[tuple[int, float]], path: str, title: str) -> None:
    """A PNG of the training loss per logged step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    if points:
        ax.plot([s for s, _ in points], [v for _, v in points], marker="." if len(points) < 50 else None, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def card_section(*, base_model: str, strategy: str, samples: dict[str, int], skipped: dict[str, int],
                 hyperparameters: dict, summary: dict[str, float], steps: int, seconds: float,
                 processes: int, loss_plot: str | None) -> str:
    """The Markdown section the model card gets about this WebFAQ training run."""
    lines = ["## WebFAQ training", "",
             f"Fine-tuned from `{base_model}` on WebFAQ retrieval training pairs with the **{strategy}** strategy "
             f"({loss_name(strategy)}; {STRATEGY_NOTES[strategy]}), by webfaq-spark's `train` stage.", "",
             "| language | training samples | skipped queries |", "|---|---:|---:|"]
    for language in sorted(set(samples) | set(skipped)):
        lines.append(f"| {language} | {samples.get(language, 0):,} | {skipped.get(language, 0):,} |")
    lines.append(f"| **all** | **{sum(samples.values()):,}** | **{sum(skipped.values()):,}** |")
    lines += ["", "| hyperparameter | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in hyperparameters.items()]
    lines += ["", f"{steps} optimisation steps on {processes} process{'es' if processes != 1 else ''} "
                  f"in {seconds:.0f} s."]
    if summary:
        lines.append(f"Loss: first logged step {summary['first_loss']:.4f}, final {summary['final_loss']:.4f}.")
    if loss_plot:
        lines += ["", f"![training loss]({loss_plot})"]
    return "\n".join(lines) + "\n"


STRATEGY_NOTES = {
    "rn": "4 random answers of the language as negatives, plus in-batch negatives",
    "top4": "the 4 best-scored mined negatives, plus in-batch negatives",
    "denoised": "4 mined negatives sampled among those scored between 0.1 and 0.9 (RocketQA), plus in-batch negatives",
    "margin-mse": "the 10 best-scored mined negatives, the rescorer's scores as soft targets",
}


def insert_card_section(card: str, section: str) -> str:
    """``card`` (sentence-transformers' README.md) with ``section`` before its Training Details."""
    marker = "\n## Training Details"
    if marker in card:
        at = card.index(marker) + 1
        return card[:at] + section + "\n" + card[at:]
    return card.rstrip("\n") + "\n\n" + section
