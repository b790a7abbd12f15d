"""Tiny random-weight multilingual models built offline, for tests of the model stages.

No model hub is reachable in CI, so tests build their own models: an XLM-R configuration with 2
layers of width 64 (about 1 MB) and a Unigram tokenizer trained with ``tokenizers`` on real text,
special tokens in XLM-R order (``<s> <pad> </s> <unk> <mask>`` = ids 0..4), wrapped as
``XLMRobertaTokenizer`` and saved beside the weights. What is saved loads exactly like the real
checkpoints it stands for:

    build_tiny_xlmr(path, kind="encoder")         SentenceTransformer(path)  (LaBSE / Jina stand-in)
    build_tiny_xlmr(path, kind="classifier", labels=[...])
                                                  AutoModelForSequenceClassification (topic, NFQA)
    build_tiny_xlmr(path, kind="cross-encoder")   CrossEncoder(path), num_labels=1
    build_tiny_bge_m3(path)                       BGEM3FlagModel / FlagReranker (colbert + sparse heads)

Weights are random (seeded), so outputs are repeatable but meaningless: tests check that the real
loading and inference code runs, shapes, truncation and bookkeeping, never model quality.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
SHARED_DATA = Path(os.environ.get("WEBFAQ_SHARED_DATA",
                                  Path(__file__).resolve().parent.parent.parent / "shared" / "data"))

# Prompts a tiny encoder saves so that ``encode(prompt_name=...)`` works like Jina-v3's task names.
JINA_TASK_PROMPTS = {"retrieval.query": "query: ", "retrieval.passage": "passage: "}


def default_texts(limit_per_language: int = 100) -> list[str]:
    """Real multilingual text to train a tokenizer on: COVID-QA pairs and XQuAD questions."""
    import csv

    texts: list[str] = []
    tsv = SHARED_DATA / "faq-covidqa-deepset" / "faq_200327.tsv"
    if tsv.is_file():
        with open(tsv, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                texts += [row.get("question") or "", (row.get("answer") or "")[:300]]
    xquad = SHARED_DATA / "xquad"
    for path in sorted(xquad.glob("xquad.*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        n = 0
        for article in data["data"]:
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    texts.append(qa["question"])
                    n += 1
                if n >= limit_per_language:
                    break
            if n >= limit_per_language:
                break
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise FileNotFoundError(f"no training text found under {SHARED_DATA}; pass texts=")
    return texts


_TRAINED: dict[tuple, str] = {}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2000, model_max_length: int = 512):
    """A Unigram tokenizer in XLM-R layout, as a transformers ``XLMRobertaTokenizer``.

    Training takes seconds on 2 cores, so the result is kept per process for the same texts.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    texts = list(texts)
    key = (hash(tuple(texts)), vocab_size)
    if key in _TRAINED:
        tok = Tokenizer.from_str(_TRAINED[key])
        return _wrap(tok, model_max_length)
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token="<unk>"))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    _TRAINED[key] = tok.to_str()
    return _wrap(tok, model_max_length)


def _wrap(tok, model_max_length: int):
    from transformers import XLMRobertaTokenizerFast

    return XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                               sep_token="</s>", cls_token="<s>", pad_token="<pad>", mask_token="<mask>",
                               model_max_length=model_max_length)


def _config(vocab_size: int, hidden: int, layers: int, max_positions: int, heads: int = 2,
            ffn: int | None = None, **extra):
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                            num_attention_heads=heads, intermediate_size=ffn or 2 * hidden,
                            max_position_embeddings=max_positions + 2, pad_token_id=1, bos_token_id=0,
                            eos_token_id=2, **extra)


def build_tiny_xlmr(path: str | Path, kind: str = "encoder", texts: Sequence[str] | None = None, *,
                    num_labels: int | None = None, labels: Sequence[str] | None = None,
                    hidden: int = 64, layers: int = 2, heads: int = 2, ffn: int | None = None,
                    seed: int = 0, max_seq_length: int = 128, max_positions: int = 512, vocab_size: int = 2000,
                    prompts: dict[str, str] | None = None, normalize: bool = False) -> Path:
    """Build and save a tiny random-weight XLM-R model at ``path``; returns the path.

    kind: ``encoder`` (a sentence-transformers folder: transformer + mean pooling, optional
    ``prompts`` and a Normalize module), ``classifier`` (``XLMRobertaForSequenceClassification``
    with ``labels`` as id2label, or ``num_labels`` generic ``LABEL_i``), ``cross-encoder``
    (a classifier with one label, as ``CrossEncoder`` expects). ``max_seq_length`` is the
    sentence-transformers truncation length; ``max_positions`` the model's own limit. ``hidden``,
    ``layers``, ``heads`` and ``ffn`` (default 2 x hidden) give the shape: the defaults a tiny
    model, XLM-R base's (768, 12, 12, 3072) or large's (1024, 24, 16, 4096) a random-weight
    stand-in of a real model's cost, for benchmarks.
    """
    import torch
    from transformers import XLMRobertaForSequenceClassification, XLMRobertaModel

    if kind not in ("encoder", "classifier", "cross-encoder"):
        raise ValueError(f"kind must be encoder, classifier or cross-encoder, not {kind!r}")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts if texts is not None else default_texts(), vocab_size, max_positions)
    torch.manual_seed(seed)
    if kind == "encoder":
        from sentence_transformers import SentenceTransformer, models as st_models

        tokenizer.save_pretrained(path / "hf")
        XLMRobertaModel(_config(len(tokenizer), hidden, layers, max_positions, heads, ffn)).save_pretrained(path / "hf")
        transformer = st_models.Transformer(str(path / "hf"), max_seq_length=max_seq_length)
        modules = [transformer, st_models.Pooling(hidden, pooling_mode="mean")]
        if normalize:
            modules.append(st_models.Normalize())
        model = SentenceTransformer(modules=modules, prompts=dict(prompts or {}), device="cpu")
        model.save(str(path))
        return path
    if kind == "cross-encoder":
        labels = None
        num_labels = 1
    if labels is not None:
        num_labels = len(labels)
    if not num_labels:
        raise ValueError("a classifier needs labels=[...] or num_labels=N")
    extra = {"num_labels": num_labels}
    if labels is not None:
        extra["id2label"] = {i: name for i, name in enumerate(labels)}
        extra["label2id"] = {name: i for i, name in enumerate(labels)}
    tokenizer.save_pretrained(path)
    XLMRobertaForSequenceClassification(_config(len(tokenizer), hidden, layers, max_positions, heads, ffn,
                                                **extra)).save_pretrained(path)
    return path


def build_tiny_bge_m3(path: str | Path, texts: Sequence[str] | None = None, *, hidden: int = 64,
                      layers: int = 2, heads: int = 2, ffn: int | None = None, vocab_size: int = 2000,
                      model_vocab_size: int | None = None, max_positions: int = 512, seed: int = 0) -> Path:
    """A BGE-M3 look-alike: XLM-R encoder + ``colbert_linear.pt`` and ``sparse_linear.pt`` heads.

    ``BGEM3FlagModel`` draws random heads when these files are missing; saving them makes its dense,
    sparse and ColBERT scores repeatable across loads. The defaults give a tiny model; BGE-m3's own
    shape (24 layers, hidden 1024, 16 heads, ffn 4096, 250,002 embeddings, 8,192 positions) gives
    a random-weight stand-in of its real cost, for benchmarks.
    """
    import torch
    from transformers import XLMRobertaModel

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts if texts is not None else default_texts(), vocab_size, max_positions)
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    XLMRobertaModel(_config(max(model_vocab_size or 0, len(tokenizer)), hidden, layers, max_positions,
                            heads, ffn)).save_pretrained(path)
    torch.save(torch.nn.Linear(hidden, hidden).state_dict(), path / "colbert_linear.pt")
    torch.save(torch.nn.Linear(hidden, 1).state_dict(), path / "sparse_linear.pt")
    return path
