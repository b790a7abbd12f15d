"""Model FLOP/s against the accelerator's peak, and how busy the GPU is, per model stage.

    .venv/bin/python bench/gpu_bench.py [--stages annotate,bitexts,mine,train] [--shape full|tiny]
                                        [--pairs N] [--candidates 7] [--train-steps 8] [--device cuda:0|cpu]
                                        [--peak-tflops T] [--profile local,gpu] [--conf KEY=VALUE ...]
                                        [--json FILE] [--shared DIR] [--models DIR]

What runs is each stage's own per-task model code, outside Spark, on the real COVID-QA pairs
(``../shared/data/faq-covidqa-deepset``, repeated up to ``--pairs``), with the batch sizes of
``conf/gpu.yaml`` (``--profile local,gpu``):

- **annotate**: ``udfs.models.annotate.annotate_frame`` on frames of ``maxRecordsPerBatch`` rows, as
  a Spark task hands them over: the similarity encoder on the questions (query task) and on the
  answers (passage task), the topic classifier on ``q ### a`` inputs, the question-type classifier
  on the questions;
- **bitexts**: the mining encoder (``Encoder.encode``, L2-normalised) on ``question + " " + answer``
  in frames of ``bitexts.rows_per_task`` texts, then ``lib.models.bitexts.mutual_best_matches`` between
  the two halves (the search conf/gpu.yaml names);
- **mine**: ``udfs.retrieval.rerank.rescore_batch`` on records of a question, its answer and
  ``--candidates`` other answers, ``mine.rerank.queries_per_batch`` records a call (BGE-m3's
  dense + sparse + ColBERT score through FlagEmbedding);
- **train**: ``udfs.retrieval.train.train_process`` (sentence-transformers' trainer, MNR loss, rows of
  a question, its answer and 4 other answers), ``--train-steps`` steps of ``train.batch_size`` rows,
  mixed precision on a GPU; timed from the trainer's start to its end (model load and save left out).

No model hub is reachable, so each model has the real model's shape with random weights (the
compute of a forward pass does not depend on the weights) and a Unigram tokenizer trained here on
the benchmark texts (vocabulary 8,000, so embedding tables are small; a lookup costs no FLOPs):

==========  =========================================================  ===========================
role        stands for                                                 shape (layers x width, FFN)
==========  =========================================================  ===========================
similarity  Jina-v3 (XLM-R large body)                                 24 x 1024, 4096
classifier  the XLM-R base topic and question-type classifiers         12 x 768, 3072
labse       LaBSE (BERT base body, 256-token limit)                    12 x 768, 3072
bge_m3      BGE-m3 (XLM-R large body, ColBERT and sparse heads)        24 x 1024, 4096
retriever   the XLM-R base retriever train fine-tunes                  12 x 768, 3072
==========  =========================================================  ===========================

``--shape tiny`` (the default on a CPU) gives every role 2 layers of width 64: a check that the
script and the stages' code run, not a figure of the real models.

Per step, and per stage (summed):

- **FLOPs**: counted by ``torch.utils.flop_counter.FlopCounterMode`` over a first run of the step
  (matrix products and attention; for train, forward and backward);
- **achieved FLOP/s**: those FLOPs over the wall time of a second, timed run of the same inputs,
  as a share of the device's dense fp16/bf16 peak (the vendor's figure for the GPU's name, or
  ``--peak-tflops``) and of the rate one large matrix product reaches on the same device
  (8192^3 in fp16 on a GPU, 2048^3 in float32 on a CPU);
- **GPU busy**: NVML's ``utilization.gpu`` (the share of time in which a kernel ran), sampled
  every 50 ms during the timed run (``nvidia-ml-py``, else ``nvidia-smi``); none on a CPU.

Spark's own work around a task (Arrow batches between the JVM and the Python worker, the Delta
commits) is not in these figures: the script needs neither Java nor pyspark, so that it runs on a
GPU machine that has only Python.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

STAGES = ("annotate", "bitexts", "mine", "train")

# Dense (no sparsity) fp16/bf16 tensor-core peak, TFLOP/s, from the vendors' data sheets (SXM
# boards where a GPU comes in several); the first key found in torch.cuda.get_device_name() as a
# whole word wins, so the longer names come first.
PEAK_TFLOPS = (("GH200", 989.4), ("H200", 989.4), ("H100 PCIe", 756.0), ("H100 NVL", 835.5), ("H100", 989.4),
               ("A100", 312.0), ("L40S", 362.1), ("L4", 121.0), ("A10", 125.0), ("V100", 125.0), ("T4", 65.0))


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    ffn: int
    max_seq_length: int


FULL = {
    "similarity": Shape(24, 1024, 16, 4096, 8192),
    "classifier": Shape(12, 768, 12, 3072, 512),
    "labse": Shape(12, 768, 12, 3072, 256),
    "bge_m3": Shape(24, 1024, 16, 4096, 8192),
    "retriever": Shape(12, 768, 12, 3072, 512),
}
TINY = {role: Shape(2, 64, 2, 128, 512 if role in ("similarity", "bge_m3") else s.max_seq_length)
        for role, s in FULL.items()}


# --------------------------------------------------------------------------------------------
# Device figures


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def peak_for_name(name: str) -> float | None:
    """The dense fp16/bf16 peak (TFLOP/s) of the GPU called ``name``; None when not in the table.
    A key matches a whole word: ``A10`` is not ``A10G``, ``L4`` not ``L40S``."""
    for key, tflops in PEAK_TFLOPS:
        if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", name):
            return tflops
    return None


def spec_peak(device: str, override: float | None) -> tuple[float | None, str]:
    """(peak FLOP/s, where the figure comes from); None when unknown (a CPU, an unlisted GPU)."""
    if override:
        return override * 1e12, "--peak-tflops"
    if not device.startswith("cuda"):
        return None, "none for a CPU"
    import torch

    name = torch.cuda.get_device_name(device)
    tflops = peak_for_name(name)
    if tflops is None:
        return None, f"{name}: not in the table (pass --peak-tflops)"
    return tflops * 1e12, f"{name}: {tflops} TFLOP/s dense fp16/bf16 (data sheet)"


def matmul_ceiling(device: str, repeats: int = 10) -> float:
    """FLOP/s of one large matrix product on ``device`` (fp16 on a GPU, float32 on a CPU)."""
    import torch

    gpu = device.startswith("cuda")
    n, dtype = (8192, torch.float16) if gpu else (2048, torch.float32)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize(device)
    return 2 * n ** 3 * repeats / (time.perf_counter() - start)


class BusySampler:
    """GPU busy share over a ``with`` block: the mean of NVML's ``utilization.gpu`` (percent of
    the last sample period in which a kernel ran) read every ``period`` seconds; no samples on a
    CPU or where neither nvidia-ml-py nor nvidia-smi answers."""

    def __init__(self, device: str, period: float = 0.05):
        self.index = int(device.split(":", 1)[1]) if device.startswith("cuda:") else 0
        self.gpu = device.startswith("cuda")
        self.period = period
        self.samples: list[tuple[float, float]] = []   # (perf_counter, percent busy)
        self._stop = threading.Event()
        self._thread = None
        self._proc = None

    def __enter__(self):
        if not self.gpu:
            return self
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)

            def poll():
                while not self._stop.is_set():
                    self.samples.append((time.perf_counter(), pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
                    self._stop.wait(self.period)
            self._thread = threading.Thread(target=poll, daemon=True)
            self._thread.start()
        except Exception:  # noqa: BLE001 - no nvidia-ml-py, or NVML refuses: try nvidia-smi
            try:
                self._proc = subprocess.Popen(
                    ["nvidia-smi", f"--id={self.index}", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                     f"-lms={int(self.period * 1000)}"], stdout=subprocess.PIPE, text=True)
                self._thread = threading.Thread(target=self._read_smi, daemon=True)
                self._thread.start()
            except OSError:
                self._proc = None
        return self

    def _read_smi(self) -> None:
        for line in self._proc.stdout:
            if line.strip().isdigit():
                self.samples.append((time.perf_counter(), float(line)))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._proc is not None:
            self._proc.terminate()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def between(self, start: float, end: float) -> float | None:
        """Mean busy share of the samples read between ``start`` and ``end`` (perf_counter)."""
        values = [v for t, v in self.samples if start <= t <= end]
        return sum(values) / len(values) / 100 if values else None


# --------------------------------------------------------------------------------------------
# Models and texts


def covidqa_pairs(shared: Path, n: int) -> list[tuple[str, str]]:
    import pandas as pd

    raw = pd.read_csv(shared / "faq-covidqa-deepset" / "faq_200327.tsv", sep="\t").dropna(subset=["question", "answer"])
    pairs = list(zip(raw.question, raw.answer))
    return [pairs[i % len(pairs)] for i in range(n)]


def build_models(folder: Path, shapes: dict[str, Shape], texts: list[str]) -> dict[str, str]:
    """Random-weight models of the given shapes (built once into ``folder``, then reused)."""
    from lib.models import annotate as A
    from tests.tiny_models import build_tiny_bge_m3, build_tiny_xlmr

    paths = {}
    for role, s in shapes.items():
        path = folder / f"{role}-{s.layers}x{s.hidden}"
        paths[role] = str(path)
        if (path / "config.json").is_file():
            continue
        started = time.perf_counter()
        common = dict(hidden=s.hidden, layers=s.layers, heads=s.heads, ffn=s.ffn, vocab_size=8000)
        if role == "bge_m3":
            build_tiny_bge_m3(path, texts, max_positions=s.max_seq_length, **common)
        elif role == "classifier":
            build_tiny_xlmr(path, "classifier", texts, labels=list(A.TOPICS), max_positions=s.max_seq_length, **common)
        else:
            build_tiny_xlmr(path, "encoder", texts, max_seq_length=s.max_seq_length,
                            max_positions=max(512, s.max_seq_length), normalize=role == "labse", **common)
        print(f"  built {role} model {s.layers}x{s.hidden} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return paths


# --------------------------------------------------------------------------------------------
# Stage steps: each (name, items, run[, window]): run() does the step's work once; window, when
# given, is filled with the start and end of the part to time


def annotate_steps(conf: dict, models: dict, pairs):
    import pandas as pd

    from udfs.models.annotate import AnnotateSettings, annotate_frame

    section = conf["annotate"]
    rows = int(conf["spark"]["conf"].get("spark.sql.execution.arrow.maxRecordsPerBatch", 1024))
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(len(pairs))], "language": "eng",
                          "question": [q for q, _ in pairs], "answer": [a for _, a in pairs],
                          "title": None, "description": None})
    frames = [frame.iloc[i:i + rows] for i in range(0, len(frame), rows)]
    base = dict(similarity_model=models["similarity"], topic_model=models["classifier"],
                question_type_model=models["classifier"], batch_size=int(section["batch_size"]),
                truncate_dim=section["truncate_dim"], classifier_max_length=int(section["classifier_max_length"]),
                trust_remote_code=False, fp16_on_gpu=bool(section["fp16_on_gpu"]))
    steps = []
    for task, label in (("similarity", "similarity encoder (q + a)"), ("topic", "topic classifier"),
                        ("question_type", "question-type classifier")):
        settings = AnnotateSettings(tasks=(task,), **base)
        items = 2 * len(pairs) if task == "similarity" else len(pairs)
        steps.append((label, items, lambda s=settings: [annotate_frame(f, s) for f in frames]))
    return f"batch {base['batch_size']}, frames of {rows} rows", steps


def bitexts_steps(conf: dict, models: dict, pairs):
    from lib.models import bitexts as B
    from udfs.models.encoders import get_encoder

    section = conf["bitexts"]
    batch, rows, search = int(section["batch_size"]), int(section["rows_per_task"]), section.get("search", "numpy")
    if search == "faiss":
        try:
            import faiss  # noqa: F401
        except ImportError:  # a machine without faiss-cpu: the stage's other search
            search = "numpy"
    texts = [B.mining_text(q, a) for q, a in pairs]
    state = {}

    def encode():
        # What udfs.models.bitexts.encode_for_mining does, which cannot be imported here: that
        # module imports pyspark, which the GPU machines do not have.
        enc = get_encoder(models["labse"], "models.labse", max_seq_length=None, fp16_on_gpu=bool(section["fp16_on_gpu"]))
        parts = [enc.encode(texts[i:i + rows], None, batch, normalize=True)[0] for i in range(0, len(texts), rows)]
        import numpy as np

        state["emb"] = B.l2_normalise(np.concatenate(parts))

    def mine():
        emb = state["emb"]
        half = len(emb) // 2
        B.mutual_best_matches(emb[:half], emb[half:], 0.0, search)

    return f"batch {batch}, search {search}", [("mining encoder (q + ' ' + a)", len(texts), encode),
                                                (f"mutual best matches ({search})", len(texts), mine)]


def mine_steps(conf: dict, models: dict, pairs, candidates: int):
    from udfs.retrieval.rerank import RerankSettings, rescore_batch

    section = dict(conf["mine"]["rerank"])
    per_call = int(section.pop("queries_per_batch", 4))
    settings = RerankSettings.from_conf(models["bge_m3"], {**section, "model": models["bge_m3"], "scorer": "bge_m3"})
    answers = [a for _, a in pairs]
    records = [{"query": q, "positive": a, "negatives": [answers[(i + 7 * (k + 1)) % len(answers)]
                                                         for k in range(candidates)]}
               for i, (q, a) in enumerate(pairs)]
    n_pairs = len(records) * (candidates + 1)

    def run():
        for i in range(0, len(records), per_call):
            rescore_batch([dict(r) for r in records[i:i + per_call]], settings)

    return (f"batch {settings.batch_size}, {per_call} queries a call, 1 + {candidates} candidates each",
            [("BGE-m3 compute_score (pairs)", n_pairs, run)])


def train_steps(conf: dict, models: dict, pairs, steps: int, device: str, shared: Path):
    import sentence_transformers

    from train_bench import examples, spec_for
    from udfs.retrieval.train import train_process

    section = conf["train"]
    batch = int(section["batch_size"])
    args = SimpleNamespace(batch_size=batch, max_seq_length=section.get("max_seq_length"), steps=steps)
    window = {}

    def run():
        # Time the trainer alone: train_process also loads the base model and saves the result.
        trainer_cls = sentence_transformers.SentenceTransformerTrainer
        original = trainer_cls.train

        def timed_train(self, *a, **kw):
            window["start"] = time.perf_counter()
            try:
                return original(self, *a, **kw)
            finally:
                synchronize(device)
                window["end"] = time.perf_counter()
        trainer_cls.train = timed_train
        try:
            with tempfile.TemporaryDirectory(prefix="gpu-bench-train-") as tmp:
                work = Path(tmp)
                (work / "examples" / "language=eng").mkdir(parents=True)
                examples(shared, 4, False, batch * steps).to_parquet(work / "examples" / "language=eng" / "p.parquet")
                spec = spec_for(work, models["retriever"], "rn", args, device.startswith("cuda"))
                spec.update(learning_rate=float(section["learning_rate"]), fp16_on_gpu=bool(section["fp16_on_gpu"]))
                train_process(spec)
        finally:
            trainer_cls.train = original

    return (f"batch {batch} rows of 6 texts, {steps} steps, {'fp16 mixed precision' if device.startswith('cuda') else 'float32'}",
            [("MNR training (rows)", batch * steps, run, window)])


# --------------------------------------------------------------------------------------------


def measure(name: str, items: int, run, device: str, window: dict | None = None) -> dict:
    """Count the FLOPs of ``run()``, then time a second run (the span ``window`` records inside it
    when given) with the GPU's busy share sampled."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        run()
    flops = counter.get_total_flops()
    synchronize(device)
    with BusySampler(device) as busy:
        start = time.perf_counter()
        run()
        synchronize(device)
        end = time.perf_counter()
    if window:
        start, end = window["start"], window["end"]
    return {"step": name, "items": items, "seconds": end - start, "flops": flops,
            "busy": busy.between(start, end)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of {', '.join(STAGES)}")
    parser.add_argument("--shape", choices=("full", "tiny"), default=None,
                        help="the real models' shapes (default on a GPU) or 2 x 64 (default on a CPU)")
    parser.add_argument("--pairs", type=int, default=None, help="QA pairs per step (default 4096 on a GPU, 128 on a CPU)")
    parser.add_argument("--candidates", type=int, default=7, help="mine: candidates per query besides its answer")
    parser.add_argument("--train-steps", type=int, default=8, help="train: trainer steps of train.batch_size rows")
    parser.add_argument("--device", default=None, help="cpu or cuda:N (default: cuda:0 if available)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's dense fp16/bf16 peak, "
                        "where the GPU's name is not in the script's table")
    parser.add_argument("--profile", default="local,gpu", help="conf profiles whose batch sizes are used")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a conf override, as the jobs take it (e.g. train.batch_size=16); repeatable")
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WEBFAQ_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--models", type=Path, default=ROOT / "build" / "bench" / "gpu",
                        help="where the random-weight models are built (kept for later runs)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")

    import torch

    from lib.conf import load_conf

    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    gpu = device.startswith("cuda")
    shape = args.shape or ("full" if gpu else "tiny")
    n = args.pairs or (4096 if gpu else 128)
    conf = load_conf(args.profile, args.conf)
    pairs = covidqa_pairs(args.shared, n)
    texts = sorted({t for pair in pairs for t in pair})
    models = build_models(args.models / shape, FULL if shape == "full" else TINY, texts)

    peak, peak_from = spec_peak(device, args.peak_tflops)
    ceiling = matmul_ceiling(device)
    name = torch.cuda.get_device_name(device) if gpu else f"CPU, {torch.get_num_threads()} torch threads"
    print(f"device {device} ({name}); torch {torch.__version__}; {shape} model shapes; {n} COVID-QA pairs")
    print(f"peak: {peak_from}; one {'8192^3 fp16' if gpu else '2048^3 float32'} matrix product: "
          f"{ceiling / 1e12:.2f} TFLOP/s" + (f" = {ceiling / peak:.0%} of peak" if peak else ""))

    results = []
    for stage in stages:
        try:
            if stage == "annotate":
                note, steps = annotate_steps(conf, models, pairs)
            elif stage == "bitexts":
                note, steps = bitexts_steps(conf, models, pairs)
            elif stage == "mine":
                note, steps = mine_steps(conf, models, pairs, args.candidates)
            else:
                note, steps = train_steps(conf, models, pairs, args.train_steps, device, args.shared)
            rows = [measure(*step[:3], device, *step[3:]) for step in steps]
        except ImportError as exc:  # a library the stage needs is missing on this machine
            print(f"\n{stage}: skipped, {type(exc).__name__}: {exc}")
            results.append({"stage": stage, "skipped": str(exc)})
            continue
        except Exception as exc:  # noqa: BLE001 - measure the other stages, then exit 1
            traceback.print_exc()
            print(f"\n{stage}: failed, {type(exc).__name__}: {exc}")
            results.append({"stage": stage, "failed": f"{type(exc).__name__}: {exc}"})
            continue
        print(f"\n{stage} ({note})")
        print(f"  {'step':<34} {'items':>7} {'seconds':>8} {'items/s':>9} {'TFLOP':>8} {'TFLOP/s':>8} "
              f"{'x peak':>7} {'x matmul':>8} {'GPU busy':>8}")
        total = {"step": "stage", "items": None, "seconds": sum(r["seconds"] for r in rows),
                 "flops": sum(r["flops"] for r in rows)}
        busy = [(r["busy"], r["seconds"]) for r in rows if r["busy"] is not None]
        total["busy"] = sum(b * s for b, s in busy) / sum(s for _, s in busy) if busy else None
        for r in rows + [total]:
            rate = r["flops"] / r["seconds"] if r["seconds"] else 0.0
            r.update(stage=stage, flops_per_s=rate, share_of_peak=rate / peak if peak else None,
                     share_of_matmul=rate / ceiling)
            items = "" if r["items"] is None else r["items"]
            per_s = "" if r["items"] is None else f"{r['items'] / r['seconds']:.1f}"
            print(f"  {r['step']:<34} {items:>7} {r['seconds']:8.2f} {per_s:>9} {r['flops'] / 1e12:8.3f} "
                  f"{rate / 1e12:8.3f} {_pct(r['share_of_peak']):>7} {_pct(r['share_of_matmul']):>8} "
                  f"{_pct(r['busy']):>8}")
        results.extend(rows + [total])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"device": device, "name": name, "shape": shape, "pairs": n,
                                         "peak_flops_per_s": peak, "matmul_flops_per_s": ceiling,
                                         "results": results}, indent=1))
    return 1 if any("failed" in r for r in results) else 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


if __name__ == "__main__":
    sys.exit(main())
