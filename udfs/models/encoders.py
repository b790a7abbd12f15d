"""Models inside Spark tasks: loaded once per Python worker, on the GPU the task was given.

Lifecycle (after NeMo Curator's stages): the first batch a Python worker sees loads the model, every
later batch and task of that worker reuses it (``spark.python.worker.reuse``, on by default), through
``lib.worker.load_once`` keyed by (what, model, device, options), so two stages or two GPUs never
share an entry; ``lib.worker.held()`` lists what a worker holds and ``lib.worker.release()`` drops it.

Device: ``TaskContext.get().resources()['gpu']`` names the GPU Spark's scheduler assigned to the task
(``spark.task.resource.gpu.amount`` in conf/gpu.yaml); the model goes to ``cuda:<address>``. Without
a GPU resource, or without CUDA, it runs on CPU in float32.

Inputs go to the model in batches (``batch_size`` texts per forward pass) sorted by length, so
padding stays small; results come back in input order. Texts longer than the model's maximum length
are truncated by the tokenizer, and reported per text so the job can count them.

Tasks: the rows a stage encodes are first cut into evenly sized partitions (:func:`even_partitions`,
about ``rows_per_task`` rows each, at least one per core), whatever their origin or language, so
that no task holds a large origin's or language's whole share while the other cores or GPUs idle.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from lib.models.tokens import token_bound_rule
from lib.worker import load_once


class ModelLoadError(RuntimeError):
    """A configured model could not be loaded; the message names the configuration key."""


def looks_like_local_path(name: str) -> bool:
    """A value meant as a folder on disk rather than a Hugging Face hub id (``org/name``)."""
    name = str(name)
    return (name.startswith(("/", "./", "../", "~", "file:")) or os.path.isabs(name)
            or name.count("/") > 1 or os.path.exists(os.path.expanduser(name)))


WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.h5", "*.msgpack", "*.onnx")
_LFS_POINTER = b"version https://git-lfs"


def check_local_model(name: str, conf_key: str) -> None:
    """Raise FileNotFoundError naming ``conf_key`` when a local model folder is not a model:
    missing, without config.json/modules.json, with one of them unreadable as JSON, or without
    weight files (Git LFS pointers, left by a clone without Git LFS, do not count)."""
    if name is None or not str(name).strip():
        raise FileNotFoundError(f"{conf_key} is empty: set it to a model name or folder")
    if not looks_like_local_path(name):
        return  # a hub id: checked when it is loaded
    path = Path(os.path.expanduser(str(name).removeprefix("file:")))
    if not path.is_dir():
        raise FileNotFoundError(f"{conf_key}: model folder {name!r} does not exist")
    configs = [path / f for f in ("config.json", "modules.json") if (path / f).is_file()]
    if not configs:
        raise FileNotFoundError(f"{conf_key}: {name!r} holds no model (no config.json or modules.json)")
    for config in configs:
        try:
            json.loads(config.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise FileNotFoundError(f"{conf_key}: {config} is not valid JSON ({exc})") from exc
    weights = [p for pattern in WEIGHT_PATTERNS for p in path.rglob(pattern) if p.is_file()]
    real = []
    for weight in weights:
        with open(weight, "rb") as fh:
            if not fh.read(len(_LFS_POINTER)) == _LFS_POINTER:
                real.append(weight)
    if not real:
        found = ", ".join(sorted(p.name for p in weights))
        why = f"Git LFS pointers instead of weights: {found} (run git lfs pull)" if weights else \
            "no " + " or ".join(WEIGHT_PATTERNS) + " file"
        raise FileNotFoundError(f"{conf_key}: {name!r} holds no model weights: {why}")


def token_count_bound(tokenizer):
    """A function ``text -> int`` that is at least the number of tokens ``tokenizer`` makes of the
    text (special tokens included), from the text's length alone (``lib.models.tokens``); None for
    a tokenizer that has no such bound (a slow tokenizer; a model, normaliser or pre-tokenizer of
    another kind): then every text is counted."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    try:
        rule = token_bound_rule(json.loads(backend.to_str()))
    except (ValueError, TypeError):  # pragma: no cover - a backend that does not serialise
        return None
    if rule is None:
        return None
    specials = int(tokenizer.num_special_tokens_to_add(pair=False))
    return lambda text: rule.tokens(len(text), specials)


def task_device() -> str:
    """``cuda:<n>`` for the GPU Spark assigned to this task, else ``cpu``.

    Outside a Spark task (driver, tests, bench) the first CUDA device is used when there is one.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of sentence-transformers
        return "cpu"
    if not torch.cuda.is_available():
        return "cpu"
    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
    except ImportError:  # pragma: no cover
        ctx = None
    if ctx is not None:
        gpus = ctx.resources().get("gpu")
        if gpus is not None and gpus.addresses:
            return f"cuda:{gpus.addresses[0]}"
    return "cuda:0"


def load_model(key: tuple, load):
    """``load()`` once per worker under ``key`` (``lib.worker.load_once``), tokenizers kept to one
    thread (Spark runs one task per core already)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return load_once(key, load)


class Encoder:
    """A sentence-transformers model: ``encode(texts, task) -> (embeddings, truncated mask)``.

    Task names (Jina-v3's ``retrieval.query`` / ``retrieval.passage``) are used as the model
    allows: as a ``task`` argument when the model's modules take one (Jina-v3's LoRA adapters), as a
    ``prompt_name`` when the model has a prompt of that name; else the text goes in as it is.
    """

    def __init__(self, name: str, conf_key: str, device: str = "cpu", max_seq_length: int | None = None,
                 trust_remote_code: bool = False, fp16_on_gpu: bool = True):
        from sentence_transformers import SentenceTransformer

        self.name, self.conf_key, self.device = name, conf_key, device
        try:
            self.model = SentenceTransformer(str(name), device=device, trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001 - report which conf key points at what
            raise ModelLoadError(f"{conf_key}: cannot load sentence-transformers model {name!r} "
                                 f"on {device}: {type(exc).__name__}: {exc}") from exc
        if max_seq_length:
            self.model.max_seq_length = int(max_seq_length)
        if fp16_on_gpu and device.startswith("cuda"):  # pragma: no cover - GPU only
            self.model.half()
        self.model.eval()
        # extra encode() arguments the modules take (Jina-v3: task); sentence-transformers >= 5 lists them
        self.model_kwargs = set(getattr(self.model, "get_model_kwargs", lambda: [])() or ())
        self.prompts = dict(getattr(self.model, "prompts", {}) or {})
        self.token_bound = token_count_bound(self.model.tokenizer)

    @property
    def max_length(self) -> int:
        return int(self.model.max_seq_length or 512)

    def task_arguments(self, task: str | None) -> dict:
        if not task:
            return {}
        args = {}
        if "task" in self.model_kwargs:
            args["task"] = task
        if task in self.prompts:
            args["prompt_name"] = task
        return args

    def truncated(self, texts: Sequence[str], task: str | None = None) -> np.ndarray:
        """Which texts (with their prompt) are longer than the model's maximum length in tokens.

        Only the texts whose bound (:func:`token_count_bound`) is over the limit are tokenized to
        count: the model's encode tokenizes every text again, and on a GPU this pass on the CPU is
        time the GPU waits."""
        flags = np.zeros(len(texts), dtype=bool)
        if not texts:
            return flags
        prompt = self.prompts.get(task, "") if task else ""
        full = [prompt + t for t in texts]
        limit, bound = self.max_length, self.token_bound
        count = range(len(full)) if bound is None else [i for i, t in enumerate(full) if bound(t) > limit]
        if count:
            enc = self.model.tokenizer([full[i] for i in count], add_special_tokens=True, truncation=False,
                                       verbose=False)
            flags[list(count)] = [len(ids) > limit for ids in enc["input_ids"]]
        return flags

    def encode(self, texts: Sequence[str], task: str | None = None, batch_size: int = 32,
               normalize: bool = False, truncate_dim: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        texts = [t if isinstance(t, str) else "" for t in texts]
        truncated = self.truncated(texts, task)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), truncated
        emb = self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False,
                                normalize_embeddings=normalize, truncate_dim=truncate_dim,
                                **self.task_arguments(task))
        return np.asarray(emb, dtype=np.float32), truncated


class Classifier:
    """A Hugging Face sequence classifier: ``classify(texts) -> (label ids, scores, truncated mask)``."""

    def __init__(self, name: str, conf_key: str, device: str = "cpu", max_length: int = 512,
                 trust_remote_code: bool = False, fp16_on_gpu: bool = True):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.name, self.conf_key, self.device = name, conf_key, device
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(name), trust_remote_code=trust_remote_code)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                str(name), trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001
            raise ModelLoadError(f"{conf_key}: cannot load classifier {name!r} on {device}: "
                                 f"{type(exc).__name__}: {exc}") from exc
        self.model.to(device)
        if fp16_on_gpu and device.startswith("cuda"):  # pragma: no cover - GPU only
            self.model.half()
        self.model.eval()
        self.torch = torch
        limits = [int(max_length)]
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions:
            # XLM-R reserves two positions (padding offset).
            limits.append(int(positions) - 2 if getattr(self.model.config, "model_type", "") in
                          ("xlm-roberta", "roberta", "xlm-roberta-xl") else int(positions))
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        if tok_max and tok_max < 1_000_000:
            limits.append(int(tok_max))
        self.max_length = min(limits)
        self.num_labels = int(self.model.config.num_labels)
        self.id2label = dict(self.model.config.id2label or {})

    def _encodings(self, texts: list[str]):
        """One tokenization of ``texts``: for each text its encoding cut at the limit (what a
        per-batch call with ``truncation=True`` gives), and its length in tokens before the cut.
        Returns ``(columns, lengths)``, or None from a tokenizer that does not report what it cut
        (a slow tokenizer)."""
        enc = self.tokenizer(texts, add_special_tokens=True, truncation=True, max_length=self.max_length,
                             return_overflowing_tokens=True, verbose=False)
        if "overflow_to_sample_mapping" not in enc:
            return None
        # A text over the limit comes back as several windows (stride 0: its tokens in order, each
        # window with the special tokens again); the first is the text cut at the limit.
        specials = int(self.tokenizer.num_special_tokens_to_add(pair=False))
        first, lengths = [-1] * len(texts), [specials] * len(texts)
        for row, i in enumerate(enc["overflow_to_sample_mapping"]):
            if first[i] < 0:
                first[i] = row
            lengths[i] += len(enc["input_ids"][row]) - specials
        columns = {key: [enc[key][row] for row in first] for key in enc.keys()
                   if key in ("input_ids", "attention_mask", "token_type_ids")}
        return columns, lengths

    def classify(self, texts: Sequence[str], batch_size: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Label ids, their probabilities and which texts were cut at the limit. Texts are
        tokenized once (a GPU task's one CPU core feeds the GPU), sorted by length and padded
        per batch."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        n = len(texts)
        labels = np.zeros(n, dtype=np.int64)
        scores = np.zeros(n, dtype=np.float32)
        if n == 0:
            return labels, scores, np.zeros(0, dtype=bool)
        encoded = self._encodings(texts)
        if encoded is None:
            columns = None
            lengths = [len(ids) for ids in self.tokenizer(texts, add_special_tokens=True, truncation=False,
                                                              verbose=False)["input_ids"]]
        else:
            columns, lengths = encoded
        truncated = np.array([length > self.max_length for length in lengths], dtype=bool)
        order = np.argsort(lengths, kind="stable")
        torch = self.torch
        with torch.inference_mode():
            for start in range(0, n, max(1, batch_size)):
                idx = order[start:start + batch_size]
                if columns is None:
                    enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                         max_length=self.max_length, return_tensors="pt")
                else:
                    enc = self.tokenizer.pad({key: [values[i] for i in idx] for key, values in columns.items()},
                                             padding=True, return_tensors="pt")
                logits = self.model(**enc.to(self.device)).logits.float()
                probs = torch.softmax(logits, dim=-1)
                best = probs.max(dim=-1)
                labels[idx] = best.indices.cpu().numpy()
                scores[idx] = best.values.cpu().numpy()
        return labels, scores, truncated


def get_encoder(name: str, conf_key: str, device: str | None = None, **options) -> Encoder:
    """This worker's encoder for ``name`` on ``device`` (the task's GPU, else CPU), loaded on first use."""
    device = device or task_device()
    key = ("encoder", str(name), device, tuple(sorted(options.items())))
    return load_model(key, lambda: Encoder(name, conf_key, device, **options))


def get_classifier(name: str, conf_key: str, device: str | None = None, **options) -> Classifier:
    """This worker's classifier for ``name`` on ``device``, loaded on first use."""
    device = device or task_device()
    key = ("classifier", str(name), device, tuple(sorted(options.items())))
    return load_model(key, lambda: Classifier(name, conf_key, device, **options))


def encoding_tasks(rows: int, rows_per_task: int, parallelism: int) -> int:
    """How many encoding tasks for ``rows`` rows: about ``rows_per_task`` each, and at least one per
    core (``parallelism``) while there are rows for them."""
    wanted = -(-rows // max(1, rows_per_task))
    return max(1, min(max(wanted, parallelism), rows))


def even_partitions(df, rows: int, rows_per_task: int, key: str = "id"):
    """``df`` (``rows`` rows) in evenly sized partitions for encoding (:func:`encoding_tasks`): a
    range partitioning on ``key``, whose values are uniform hashes (the md5 ids of QA pairs), gives
    every task about the same number of rows whatever the origins or languages, and the same split
    on a retry."""
    parallelism = df.sparkSession.sparkContext.defaultParallelism
    return df.repartitionByRange(encoding_tasks(rows, rows_per_task, parallelism), key)
