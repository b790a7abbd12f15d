"""The dataset cards (README.md) of the three exports: the QA pairs, the retrieval benchmark and
the hard negatives. Each names its configs in the YAML header (lib/exports/hf.py), describes every
field, gives the row counts, shows how to load it and carries the licence note.
"""
from __future__ import annotations

from typing import Sequence

from lib.exports import hf
from lib.exports.hf import Config, Field

QA_FIELDS = [
    Field("id", "string", "md5 of the cleaned question + \" \" + answer (hex): the pair's key"),
    Field("origin", "string", "scheme and host of the page (`https://example.com`): the site the pair comes from"),
    Field("url", "string", "the page the pair was found on"),
    Field("question", "string", "the question, cleaned (markup, numbering, `Q:` prefixes, quotes and emoji removed)"),
    Field("answer", "string", "the accepted answer, cleaned the same way"),
    Field("semantic_similarity_score", "float32",
          "cosine of the question and answer embeddings (Jina-v3, 512 dims); null where not annotated"),
    Field("topic", "string", "one of 8 topics (XLM-R classifier); null where not annotated or unsupported"),
    Field("question_type", "string", "one of 8 NFQA question types (XLM-R classifier); null where not annotated"),
]

CORPUS_FIELDS = [Field("_id", "string", "`d` + the QA pair id"), Field("title", "string", "empty"),
                 Field("text", "string", "the answer")]
QUERY_FIELDS = [Field("_id", "string", "`q` + the QA pair id"), Field("text", "string", "the question")]
QREL_FIELDS = [Field("query-id", "string", "a query `_id`"), Field("corpus-id", "string", "a corpus `_id`"),
               Field("score", "float", "relevance (1.0: the query's own answer)")]


def qa_card(configs: Sequence[Config], *, license: str, pretty_name: str, annotated: bool) -> str:
    total = sum(sum(c.rows.values()) for c in configs)
    languages = [c.name for c in configs]
    first = languages[0] if languages else "eng"
    parts = [
        hf.front_matter(configs, license=license, languages=languages, pretty_name=pretty_name,
                        task_categories=["question-answering", "sentence-similarity"],
                        tags=["faq", "multilingual", "webfaq"]),
        f"# {pretty_name}\n\n",
        f"{total:,} question-answer pairs in {len(configs)} languages from FAQ pages "
        "(schema.org `FAQPage` markup) in Common Crawl, cleaned, filtered and language-tagged as "
        "WebFAQ 2.0 does. One config per language (ISO 639-3), its pairs in parquet shards "
        "under `data/<language>/`.\n\n",
        "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
        f'pairs = load_dataset("path/or/hub-id", "{first}", split="train")\n```\n\n',
        "## Fields\n\n", hf.fields_table(QA_FIELDS), "\n",
        "" if annotated else "The annotation stage had not run when this export was made: "
                             "`semantic_similarity_score`, `topic` and `question_type` are null.\n\n",
        "## Configs\n\n", hf.markdown_table(
            ["config", "language", "pairs"],
            ([f"`{c.name}`", hf.language_name(c.name), c.rows.get(hf.SPLIT, 0)] for c in configs)), "\n",
        hf.licence_section(license), "\n", hf.citation_section(),
    ]
    return "".join(parts)


def retrieval_configs(language: str, rows: dict[str, int]) -> list[Config]:
    """The three configs of a language's collection (files of lib/retrieval/beir.py)."""
    qrels = {split: f"{language}/qrels/{split}.jsonl" for split in ("train", "test") if rows.get(f"qrels_{split}")}
    return [
        Config(f"{language}-corpus", {"corpus": f"{language}/corpus.jsonl"}, {"corpus": rows.get("corpus", 0)}),
        Config(f"{language}-queries", {"queries": f"{language}/queries.jsonl"}, {"queries": rows.get("queries", 0)}),
        Config(f"{language}-qrels", qrels, {s: rows.get(f"qrels_{s}", 0) for s in qrels}),
    ]


def retrieval_card(configs: Sequence[Config], *, license: str, pretty_name: str) -> str:
    languages = sorted({c.name.rsplit("-", 1)[0] for c in configs})
    first = languages[0] if languages else "eng"
    parts = [
        hf.front_matter(configs, license=license, languages=languages, pretty_name=pretty_name,
                        task_categories=["text-retrieval"], tags=["mteb", "beir", "faq", "webfaq"]),
        f"# {pretty_name}\n\n",
        f"Retrieval collections in {len(languages)} languages: the questions of FAQ pages are the "
        "queries, every answer of the language is the corpus, each query's own answer is its one "
        "relevant document. The test split holds one QA pair per site (origin); no site of the "
        "test split is in train.\n\n"
        "Each language is a BEIR folder (`<language>/corpus.jsonl`, `queries.jsonl`, "
        "`qrels/<split>.tsv`) and three configs, `<language>-corpus`, `<language>-queries` and "
        "`<language>-qrels` (JSON lines, float scores), the layout MTEB reads. A language without "
        "training queries has no train split (and no `qrels/train.*` file).\n\n",
        "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
        f'qrels = load_dataset("path/or/hub-id", "{first}-qrels", split="test")\n'
        f'corpus = load_dataset("path/or/hub-id", "{first}-corpus", split="corpus")\n\n'
        "from beir.datasets.data_loader import GenericDataLoader\n\n"
        f'corpus, queries, qrels = GenericDataLoader("path/{first}").load(split="test")\n\n'
        "import mteb\n\n"
        f'task = mteb.get_task("WebFAQRetrieval", languages=["{first}"])\n'
        'task.metadata.dataset = {"path": "path/or/hub-id", "revision": "main"}\n'
        "mteb.evaluate(model, task)\n```\n\n",
        "## Fields\n\n### corpus\n\n", hf.fields_table(CORPUS_FIELDS),
        "\n### queries\n\n", hf.fields_table(QUERY_FIELDS),
        "\n### qrels\n\n", hf.fields_table(QREL_FIELDS), "\n",
        "## Configs\n\n", hf.counts_table(configs), "\n",
        hf.licence_section(license), "\n", hf.citation_section(),
    ]
    return "".join(parts)


def negatives_card(configs: Sequence[Config], formats: Sequence[str], strategies: dict[str, str], *,
                   license: str, pretty_name: str, flagembedding: bool = False) -> str:
    """The card of the sentence-transformers layouts (configs ``<format>-<strategy>-<language>``)
    or, with ``formats == ["flagembedding"]``, of FlagEmbedding's (``<strategy>-<language>``).

    ``strategies``: name -> one line saying what it keeps (with its parameters); ``flagembedding``:
    whether the export also holds FlagEmbedding's folder (mentioned in the first card).
    """
    formats = list(formats)
    flag_only = formats == ["flagembedding"]
    languages = sorted({c.name.rsplit("-", 1)[1] for c in configs})
    first = configs[0].name if configs else ""
    layout = {
        "n-tuple": "`query, positive, negative_1 .. negative_n, scores` (sentence-transformers: "
                   "MultipleNegativesRankingLoss on the texts, MarginMSELoss on `scores` = "
                   "[positive score, negative scores])",
        "triplet": "`query, positive, negative, scores`, one row per negative (sentence-transformers; "
                   "`scores` = [positive score, negative score])",
        "flagembedding": "`{query, pos, neg, pos_scores, neg_scores}` JSON lines (FlagEmbedding)",
    }
    if flag_only:
        intro = ("FlagEmbedding's JSON-lines layout, one config per strategy and language "
                 "(`<strategy>-<language>`, files under `<strategy>/<language>/`). Every record also "
                 "holds `language` and `query_id`, which FlagEmbedding ignores.\n\n")
        usage = ("```bash\ntorchrun --nproc_per_node 1 -m FlagEmbedding.finetune.embedder.encoder_only.base \\\n"
                 "    --train_data <this folder>/<strategy>/<language> --knowledge_distillation True ...\n```\n\n"
                 "```python\nfrom datasets import load_dataset\n\n"
                 f'train = load_dataset("<this folder>", "{first}", split="train")\n```\n\n')
    else:
        intro = ("One config per format, strategy and language: `<format>-<strategy>-<language>`, files "
                 "under `<format>/<strategy>/<language>/`. Every file also holds `language` and `query_id`; "
                 "the configs leave them out of what `load_dataset` returns, so a config goes to a trainer "
                 "as it is (a `DatasetDict` of several languages trains them together).\n\n")
        if flagembedding:
            intro += ("FlagEmbedding's JSON lines are a dataset of their own in `flagembedding/` (`datasets` "
                      "reads one file format per dataset); FlagEmbedding takes "
                      "`--train_data <this folder>/flagembedding/<strategy>/<language>`.\n\n")
        usage = ("```python\nfrom datasets import load_dataset\nfrom sentence_transformers import "
                 "SentenceTransformerTrainer, losses\n\n"
                 f'train = load_dataset("path/or/hub-id", "{first}", split="train")\n'
                 "trainer = SentenceTransformerTrainer(model=model, train_dataset=train,\n"
                 "                                     loss=losses.MultipleNegativesRankingLoss(model))\n```\n\n")
    parts = [
        hf.front_matter(configs, license=license, languages=languages, pretty_name=pretty_name,
                        task_categories=["sentence-similarity"], tags=["hard-negatives", "faq", "webfaq"]),
        f"# {pretty_name}\n\n",
        "Hard negatives for training dense retrievers: for each training query, its BM25 top "
        "candidates (Pyserini) rescored by BGE-m3, then chosen by a strategy.\n\n", intro,
        "## Formats\n\n", "".join(f"- `{f}`: {layout[f]}\n" for f in formats), "\n",
        "## Strategies\n\n", "".join(f"- `{name}`: {text}\n" for name, text in strategies.items()), "\n",
        "## Loading\n\n", usage,
        "## Configs\n\n", hf.counts_table(configs), "\n",
        hf.licence_section(license), "\n", hf.citation_section(),
    ]
    return "".join(parts)
