"""Retrieval collections in the BEIR / MTEB layout: the test split rule, and reading/writing files.

A collection (one language) is a folder::

    corpus.jsonl       {"_id": "d<qa id>", "title": "", "text": <answer>}   one line per QA pair
    queries.jsonl      {"_id": "q<qa id>", "text": <question>}               train and test queries
    qrels/test.tsv     query-id <TAB> corpus-id <TAB> score   (header line; score 1)
    qrels/test.jsonl   {"query-id": ..., "corpus-id": ..., "score": 1.0}
    qrels/train.tsv, qrels/train.jsonl                       (only when the split has a query)

which is what ``beir.datasets.data_loader.GenericDataLoader`` reads (the TSV: BEIR reads the score
with ``int()``, so it is written as ``1``) and, with the dataset card of lib/exports/cards.py
naming the JSONL files, what ``datasets.load_dataset`` and MTEB read (float scores). A split
without a query gets no file at all: a header-only qrels file makes BEIR fail with an IndexError
instead of saying the split is missing. The writers take a local folder or any fsspec URL
(``s3://...``, ``memory://...``; lib/exports/destination.py). Query and document ids differ in
their prefix on purpose: BEIR and MTEB drop a retrieved document whose id equals the query id
(``ignore_identical_ids``), which would hide every relevant document if both were the QA id.

The test split (WebFAQ 2.0): **one QA pair per origin**, so near-duplicate pairs of one site can
never sit on both sides; up to ``max_test`` origins per language; every pair of a test origin is
kept out of train. Choices are made by SHA-256 of ``"<seed>:<value>"`` (the pair id within an
origin, the origin among origins), so they are reproducible for a seed and independent of row
order or partitioning. The Spark job computes the same keys with ``sha2``; ``split_pairs`` is the
reference it is tested against.
"""
from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

QUERY_PREFIX = "q"
DOC_PREFIX = "d"
SPLITS = ("train", "test")


def split_key(seed: int | str, value: str) -> str:
    """The ordering key of a value for a seed: hex SHA-256 of ``"<seed>:<value>"``.

    Spark computes the same string with ``sha2(concat('<seed>:', col), 256)``.
    """
    return hashlib.sha256(f"{seed}:{value}".encode("utf-8")).hexdigest()


def query_id(qa_id: str) -> str:
    return QUERY_PREFIX + qa_id


def doc_id(qa_id: str) -> str:
    return DOC_PREFIX + qa_id


def qa_id_of(beir_id: str) -> str:
    return beir_id[1:]


def split_pairs(pairs: Iterable[tuple[str, str]], seed: int, max_test: int) -> dict[str, str]:
    """``{qa id: 'train' | 'test' | 'held_out'}`` for ``(qa id, origin)`` pairs of ONE language.

    'test': the pair chosen for its origin (lowest key of its id) among the ``max_test`` origins
    with the lowest origin keys; 'held_out': the other pairs of those origins (neither split);
    'train': all pairs of the remaining origins.
    """
    by_origin: dict[str, list[str]] = {}
    for qa, origin in pairs:
        by_origin.setdefault(origin, []).append(qa)
    test_origins = sorted(by_origin, key=lambda o: split_key(seed, o))[:max_test]
    out = {qa: "train" for ids in by_origin.values() for qa in ids}
    for origin in test_origins:
        ids = by_origin[origin]
        chosen = min(ids, key=lambda i: split_key(seed, i))
        for qa in ids:
            out[qa] = "test" if qa == chosen else "held_out"
    return out


# ---- files ------------------------------------------------------------------------------------

def _open_for_writing(folder: str | os.PathLike, *parts: str):
    """A text file below a local folder or fsspec URL, its parent folders created."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(str(folder))
    path = "/".join([root.rstrip("/"), *parts])
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    return fs.open(path, "w", encoding="utf-8", newline="")


def _write_jsonl(folder: str | os.PathLike, name: str, rows: Iterable[dict]) -> int:
    n = 0
    with _open_for_writing(folder, name) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_corpus(folder: str | os.PathLike, rows: Iterable[tuple[str, str, str]]) -> int:
    """``corpus.jsonl`` from ``(_id, title, text)`` rows."""
    return _write_jsonl(folder, "corpus.jsonl", ({"_id": i, "title": t or "", "text": x} for i, t, x in rows))


def write_queries(folder: str | os.PathLike, rows: Iterable[tuple[str, str]]) -> int:
    """``queries.jsonl`` from ``(_id, text)`` rows."""
    return _write_jsonl(folder, "queries.jsonl", ({"_id": i, "text": x} for i, x in rows))


def write_qrels(folder: str | os.PathLike, split: str, rows: Iterable[tuple[str, str, float]]) -> int:
    """``qrels/<split>.tsv`` (integer scores, BEIR) and ``qrels/<split>.jsonl`` (float scores) from
    ``(query-id, corpus-id, score)`` rows; nothing at all when there is no row."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    n = 0
    with _open_for_writing(folder, "qrels", f"{split}.tsv") as tsv, \
            _open_for_writing(folder, "qrels", f"{split}.jsonl") as jsonl:
        writer = csv.writer(tsv, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for q, d, s in itertools.chain([first], rows):
            writer.writerow([q, d, int(round(float(s)))])
            jsonl.write(json.dumps({"query-id": q, "corpus-id": d, "score": float(s)}, ensure_ascii=False) + "\n")
            n += 1
    return n


@dataclass
class BeirCollection:
    corpus: dict[str, dict] = field(default_factory=dict)     # _id -> {"title", "text"}
    queries: dict[str, str] = field(default_factory=dict)     # _id -> text
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)   # query-id -> {corpus-id: score}


class BeirFormatError(ValueError):
    """A BEIR file that cannot be read: the message names the file, the line and what is wrong."""


def iter_jsonl(path: str | os.PathLike) -> Iterator[dict]:
    """The JSON objects of a BEIR ``.jsonl`` file, each with an ``_id`` (else BeirFormatError)."""
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise BeirFormatError(f"{path}:{number}: not a JSON line ({exc})") from exc
                if not isinstance(row, dict) or "_id" not in row:
                    raise BeirFormatError(f"{path}:{number}: not a JSON object with an _id")
                yield row
        except UnicodeDecodeError as exc:
            raise BeirFormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_qrels(path: str | os.PathLike) -> dict[str, dict[str, int]]:
    """``{query-id: {corpus-id: score}}`` of a qrels TSV (BeirFormatError for a bad line)."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for i, row in enumerate(reader):
            if not row or (i == 0 and row[0] == "query-id"):
                continue
            try:
                qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
            except (IndexError, ValueError) as exc:
                raise BeirFormatError(f"{path}:{i + 1}: not 'query-id<TAB>corpus-id<TAB>score'") from exc
    return qrels


def is_collection(folder: str | os.PathLike) -> bool:
    folder = Path(folder)
    return (folder / "corpus.jsonl").is_file() and (folder / "queries.jsonl").is_file()


def read_collection(folder: str | os.PathLike, split: str = "test") -> BeirCollection:
    """A BEIR folder's corpus, the queries that have qrels in ``split``, and those qrels."""
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for path in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: not a BEIR collection with a {split} split")
    qrels = read_qrels(qrels_path)
    corpus = {str(r["_id"]): {"title": r.get("title") or "", "text": r.get("text") or ""}
              for r in iter_jsonl(folder / "corpus.jsonl")}
    queries = {str(r["_id"]): r.get("text") or "" for r in iter_jsonl(folder / "queries.jsonl")
               if str(r["_id"]) in qrels}
    return BeirCollection(corpus, queries, qrels)


def doc_contents(title: str, text: str) -> str:
    """What BM25 indexes for a document: title and text, as Pyserini's BEIR indexes do."""
    return f"{title}\n{text}" if title else text
