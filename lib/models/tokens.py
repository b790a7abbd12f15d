"""An upper bound on a text's token count, from the description of a tokenizer (its tokenizer.json).

The model stages report which texts were longer than the model's limit. Counting a text's tokens
means tokenizing it, and the model's own call tokenizes it once more right after. On a GPU that
second pass on the CPU is time the GPU waits. A bound from the text's length alone sorts out the
texts that cannot be over the limit; only the others are counted.

Why the bound holds, for the tokenizers it accepts (:func:`token_bound_rule` returns None for any
other, and the caller counts every text):

* normalisers map each character to a few: at most :data:`EXPANSION` characters a character for
  each kind (the largest over all of Unicode, checked code point by code point in the tests; NFC
  is given NFD's, since composition only shortens what decomposition wrote), the product for a
  chain, and for sentencepiece's precompiled maps (XLM-R, Jina-v3, BGE-m3) the longest string the
  map writes;
* pre-tokenizers split the text. ``WhitespaceSplit`` drops the spaces between pieces; the other
  splitters (punctuation, digits, patterns, BERT's) may keep every character. Two put a character
  in front of each piece: ``Metaspace`` (its ``▁``) and ``ByteLevel`` (``add_prefix_space``).
  First in the chain, or after ``WhitespaceSplit`` (each piece after the first lost a space for
  its prefix), that adds one character in all; after another splitter it may add one to each
  piece, which at most doubles the length;
* every token of a WordPiece, WordLevel, Unigram or BPE model covers at least one character of the
  text its pre-tokenizers hand over (an unknown word or character is one unknown token). A model
  that falls back to bytes (``byte_fallback``, or a ``ByteLevel`` pre-tokenizer) covers at least
  one byte, so at most 4 tokens a character;
* the special tokens the post-processor adds are counted apart (``num_special_tokens_to_add``).

So the bound needs only the length of the raw text: nothing is normalised or tokenized to find
the texts that cannot be over a limit.
"""
from __future__ import annotations

import base64
from typing import NamedTuple

#: Characters a normaliser of each kind may write for one character.
EXPANSION = {"NFC": 4, "NFD": 4, "NFKC": 18, "NFKD": 18, "Lowercase": 2, "BertNormalizer": 3,
             "StripAccents": 1, "Strip": 1}

#: Pre-tokenizers that only split the text (whitespace splitters drop the whitespace).
SPLITTERS = frozenset({"BertPreTokenizer", "Whitespace", "WhitespaceSplit", "Punctuation", "Digits", "Split",
                       "CharDelimiterSplit", "UnicodeScripts"})
#: Models whose every token covers at least one character (one byte with byte fallback).
MODELS = frozenset({"WordPiece", "WordLevel", "Unigram", "BPE"})


class TokenBound(NamedTuple):
    """tokens <= per_char * (stretch * expansion * len(text) + added) + special tokens."""

    per_char: int   #: tokens a character may become (4 where the model falls back to bytes)
    stretch: int    #: 2 where a prefix may be added to every piece, else 1
    added: int      #: characters a pre-tokenizer puts in front of the text
    expansion: int = 1  #: characters the normaliser may write for one character

    def tokens(self, length: int, special_tokens: int) -> int:
        """The bound for a text of ``length`` characters."""
        return self.per_char * (self.stretch * self.expansion * length + self.added) + special_tokens


def _charsmap_expansion(charsmap: str | None) -> int | None:
    """The longest string (in characters) a sentencepiece precompiled map writes: the map is a
    4-byte trie size, the trie, then the replacement strings, each ended by a NUL byte."""
    if not charsmap:
        return None
    try:
        blob = base64.b64decode(charsmap)
    except ValueError:
        return None
    if len(blob) < 4:
        return None
    strings = blob[4 + int.from_bytes(blob[:4], "little"):].split(b"\0")
    return max([1] + [len(s.decode("utf-8", "replace")) for s in strings])


def normalizer_expansion(spec: dict | None) -> int | None:
    """Characters the normaliser described by ``spec`` may write for one character (1 without a
    normaliser); None for a kind this module does not know."""
    if not spec:
        return 1
    kind = spec.get("type")
    if kind == "Sequence":
        product = 1
        for part in spec.get("normalizers") or []:
            factor = normalizer_expansion(part)
            if factor is None:
                return None
            product *= factor
        return product
    if kind == "Precompiled":
        return _charsmap_expansion(spec.get("precompiled_charsmap"))
    return EXPANSION.get(kind)


def _pre_tokenizers(spec: dict | None) -> list[dict]:
    if not spec:
        return []
    if spec.get("type") == "Sequence":
        return [p for part in spec.get("pretokenizers", []) for p in _pre_tokenizers(part)]
    return [spec]


def token_bound_rule(spec: dict) -> TokenBound | None:
    """The :class:`TokenBound` of the tokenizer described by ``spec`` (tokenizer.json as a dict),
    or None when its model, normaliser or a pre-tokenizer is of a kind this module does not know."""
    model = spec.get("model") or {}
    expansion = normalizer_expansion(spec.get("normalizer"))
    if model.get("type") not in MODELS or expansion is None:
        return None
    per_char = 4 if model.get("byte_fallback") else 1
    stretch, added = 1, 0
    kept_splits = False      # a splitter before that leaves every character in place
    for pre in _pre_tokenizers(spec.get("pre_tokenizer")):
        kind = pre.get("type")
        if added and kind in ("Metaspace", "ByteLevel"):
            return None  # two that put characters in: not worth a bound
        if kind in SPLITTERS:
            kept_splits = kept_splits or kind != "WhitespaceSplit"
            continue
        if kind == "Metaspace":
            scheme = pre.get("prepend_scheme") or ("always" if pre.get("add_prefix_space", True) else "never")
            prepends = scheme != "never"
        elif kind == "ByteLevel":
            per_char = 4
            prepends = bool(pre.get("add_prefix_space"))
        else:
            return None
        if prepends:
            added += 1
            if kept_splits:  # one prefix a piece, and no dropped space pays for it
                stretch = 2
    return TokenBound(per_char, stretch, added, expansion)
