"""bench/gpu_bench.py, the prepared GPU check of the model stages, on CPU with tiny model shapes.

A machine with a GPU is lent to some sessions only, for minutes; this keeps the script that
measures the stages there (FLOP/s against the peak, GPU busy share) running against the stages'
current code, so that it works the first time it meets a GPU. Real COVID-QA texts; the models are
random-weight tiny XLM-R and BGE-m3 shapes built by the script (tests/tiny_models.py).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import gpu_bench  # noqa: E402


@pytest.mark.parametrize("name,tflops", [
    ("NVIDIA H200", 989.4), ("NVIDIA H100 80GB HBM3", 989.4), ("NVIDIA H100 PCIe", 756.0),
    ("NVIDIA A100-SXM4-80GB", 312.0), ("NVIDIA L40S", 362.1), ("NVIDIA L4", 121.0), ("NVIDIA GH200 480GB", 989.4),
    ("NVIDIA A10G", None), ("Tesla T4", 65.0), ("NVIDIA GeForce RTX 4090", None),
])
def test_peak_table_matches_whole_names(name, tflops):
    assert gpu_bench.peak_for_name(name) == tflops


def test_every_stage_runs_and_counts_its_flops(tmp_path, shared_data):
    out = tmp_path / "gpu.json"
    pairs, candidates, batch, steps = 24, 3, 8, 2
    rc = gpu_bench.main(["--device", "cpu", "--shape", "tiny", "--pairs", str(pairs), "--candidates", str(candidates),
                         "--train-steps", str(steps), "--conf", f"train.batch_size={batch}",
                         "--shared", str(shared_data), "--models", str(tmp_path / "models"), "--json", str(out)])
    assert rc == 0
    report = json.loads(out.read_text())
    assert report["shape"] == "tiny" and report["pairs"] == pairs and report["peak_flops_per_s"] is None
    assert report["matmul_flops_per_s"] > 0
    rows = {(r["stage"], r["step"]): r for r in report["results"]}
    assert not [r for r in report["results"] if "skipped" in r or "failed" in r]
    assert {stage for stage, _ in rows} == set(gpu_bench.STAGES)
    items = {
        ("annotate", "similarity encoder (q + a)"): 2 * pairs,
        ("annotate", "topic classifier"): pairs,
        ("annotate", "question-type classifier"): pairs,
        ("bitexts", "mining encoder (q + ' ' + a)"): pairs,
        ("mine", "BGE-m3 compute_score (pairs)"): pairs * (1 + candidates),
        ("train", "MNR training (rows)"): batch * steps,
    }
    for key, n in items.items():
        assert rows[key]["items"] == n, key
        assert rows[key]["flops"] > 0, key          # the counter saw the model's products
        assert rows[key]["busy"] is None and rows[key]["share_of_peak"] is None
    # The search is numpy/faiss, not torch: no FLOPs counted, its time still in the stage's.
    search = next(r for (stage, step), r in rows.items() if stage == "bitexts" and step.startswith("mutual"))
    assert search["flops"] == 0
    for stage in gpu_bench.STAGES:
        total = rows[(stage, "stage")]
        parts = [r for (s, step), r in rows.items() if s == stage and step != "stage"]
        assert total["flops"] == sum(r["flops"] for r in parts)
        assert total["seconds"] == pytest.approx(sum(r["seconds"] for r in parts))
    # Topic inputs (q ### a) are longer than the questions the question-type classifier reads.
    assert rows[("annotate", "topic classifier")]["flops"] > rows[("annotate", "question-type classifier")]["flops"]
