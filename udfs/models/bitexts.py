"""The per-origin mining UDF (``groupBy('origin').applyInPandas``): QA pairs in, bitexts out.

One call sees every deduplicated QA pair of one origin in all its languages: the pairs are encoded
together with LaBSE (``models.labse``; any sentence-transformers folder works), L2-normalised, then
``lib.models.bitexts.mine_origin`` aligns each language pair. The encoder is loaded once per Python worker
on the task's GPU (``udfs.models.encoders``). Besides the bitext rows, each call emits one ``stats`` row with
its counters (candidates, thresholds, identical texts, hreflang-linked bitexts, truncated inputs).
"""
from __future__ import annotations

from dataclasses import dataclass

from lib.models import bitexts as rules
from lib.schemas import BITEXT_MINED, columns


@dataclass(frozen=True)
class BitextSettings:
    model: str                                  # models.labse in conf/
    mining: rules.MiningSettings = rules.MiningSettings()
    batch_size: int = 64
    max_seq_length: int | None = None
    trust_remote_code: bool = False
    fp16_on_gpu: bool = True
    run_id: str = ""


def encode_for_mining(texts, settings: BitextSettings, device: str | None = None):
    """L2-normalised embeddings of mining texts and which were truncated."""
    from udfs.models.encoders import get_encoder

    enc = get_encoder(settings.model, "models.labse", device, max_seq_length=settings.max_seq_length,
                      trust_remote_code=settings.trust_remote_code, fp16_on_gpu=settings.fp16_on_gpu)
    emb, truncated = enc.encode(list(texts), None, settings.batch_size, normalize=True)
    return rules.l2_normalise(emb), truncated


def mine_frame(pdf, settings: BitextSettings):
    """Bitexts of one origin's QA pairs (``lib.schemas.BITEXT_INPUT`` columns) as BITEXT_MINED rows."""
    import pandas as pd

    out_columns = columns(BITEXT_MINED)
    rows = pdf.to_dict("records")
    linked = rules.hreflang_link_set((r["url"], list(r["alternates"]) if r["alternates"] is not None else [])
                                     for r in rows)
    embeddings, truncated = encode_for_mining(
        [rules.mining_text(r["question"], r["answer"]) for r in rows], settings)
    bitexts, counters = rules.mine_origin(rows, embeddings, settings.mining, linked)
    counters["origins_mined"] = 1
    counters["pairs_encoded"] = len(rows)
    counters["truncated_mining_text"] = int(truncated.sum())
    counters["hreflang_linked_page_pairs"] = len(linked)
    for row in bitexts:
        row["run_id"] = settings.run_id
        row["kind"] = "bitext"
        row["counters"] = None
    stats = {c: None for c in out_columns}
    stats.update({"origin": rows[0]["origin"] if rows else None, "kind": "stats", "run_id": settings.run_id,
                  "counters": {k: int(v) for k, v in counters.items()}})
    return pd.DataFrame(bitexts + [stats], columns=out_columns)


def mine_groups(settings: BitextSettings):
    """An ``applyInPandas`` function over origins."""

    def run(pdf):
        return mine_frame(pdf, settings)

    return run
