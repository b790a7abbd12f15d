"""The annotation UDF: QA pairs in, one ``qa_annotations`` row per pair out (``mapInPandas``).

Each Arrow batch (``spark.sql.execution.arrow.maxRecordsPerBatch`` rows) goes through the three
models in ``batch_size`` chunks: the similarity encoder twice (questions with the query task,
answers with the passage task), the topic classifier and the question-type classifier on the pairs
whose language is in the label list. Models come from ``udfs.models.encoders`` (once per worker, on the
task's GPU). Rules live in ``lib.models.annotate``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from lib.models import annotate as rules

TASKS = ("similarity", "topic", "question_type")


@dataclass(frozen=True)
class AnnotateSettings:
    # model names or folders: models.jina, models.topic, models.question_type in conf/
    similarity_model: str
    topic_model: str
    question_type_model: str
    tasks: tuple[str, ...] = TASKS
    label_languages: tuple[str, ...] | None = None      # None = every language
    batch_size: int = 32
    truncate_dim: int | None = 512
    max_seq_length: int | None = None                    # None = the encoder's own
    classifier_max_length: int = 512
    trust_remote_code: bool = True
    fp16_on_gpu: bool = True
    topic_labels: tuple[str, ...] = rules.TOPICS
    question_type_labels: tuple[str, ...] = rules.QUESTION_TYPES
    run_id: str = ""

    def models_note(self) -> str:
        parts = []
        if "similarity" in self.tasks:
            parts.append(f"similarity={self.similarity_model}")
        if "topic" in self.tasks:
            parts.append(f"topic={self.topic_model}")
        if "question_type" in self.tasks:
            parts.append(f"question_type={self.question_type_model}")
        return ";".join(parts)


def _encoder(settings: AnnotateSettings):
    from udfs.models.encoders import get_encoder

    return get_encoder(settings.similarity_model, "models.jina", max_seq_length=settings.max_seq_length,
                       trust_remote_code=settings.trust_remote_code, fp16_on_gpu=settings.fp16_on_gpu)


def _classifier(settings: AnnotateSettings, which: str):
    from udfs.models.encoders import get_classifier

    name = settings.topic_model if which == "topic" else settings.question_type_model
    key = "models.topic" if which == "topic" else "models.question_type"
    return get_classifier(name, key, max_length=settings.classifier_max_length,
                          trust_remote_code=settings.trust_remote_code, fp16_on_gpu=settings.fp16_on_gpu)


def annotate_frame(pdf, settings: AnnotateSettings):
    """Annotate one pandas batch of QA pairs (``id, language, question, answer, title, description``)."""
    import pandas as pd

    n = len(pdf)
    questions = pdf["question"].tolist()
    answers = pdf["answer"].tolist()
    languages = pdf["language"].tolist()
    titles = pdf["title"].tolist() if "title" in pdf else [None] * n
    descriptions = pdf["description"].tolist() if "description" in pdf else [None] * n
    label_langs = settings.label_languages
    status = [rules.label_status(lang, q, a, label_langs) for lang, q, a in zip(languages, questions, answers)]
    truncated: list[list[str]] = [[] for _ in range(n)]
    similarity = [None] * n
    topic, topic_score = [None] * n, [None] * n
    qtype, qtype_score = [None] * n, [None] * n

    non_empty = [i for i in range(n) if status[i] != rules.STATUS_EMPTY]
    if "similarity" in settings.tasks and non_empty:
        enc = _encoder(settings)
        q_emb, q_cut = enc.encode([questions[i] for i in non_empty], rules.QUERY_TASK, settings.batch_size)
        a_emb, a_cut = enc.encode([answers[i] for i in non_empty], rules.PASSAGE_TASK, settings.batch_size)
        cos = rules.pair_cosines(q_emb, a_emb, settings.truncate_dim)
        for k, i in enumerate(non_empty):
            similarity[i] = float(cos[k])
            if q_cut[k]:
                truncated[i].append("similarity_question")
            if a_cut[k]:
                truncated[i].append("similarity_answer")

    to_label = [i for i in range(n) if status[i] == rules.STATUS_OK]
    for which in ("topic", "question_type"):
        if which not in settings.tasks or not to_label:
            continue
        clf = _classifier(settings, which)
        conf_labels = settings.topic_labels if which == "topic" else settings.question_type_labels
        names = rules.resolve_labels(clf.id2label, clf.num_labels, conf_labels, f"annotate.{which}_labels")
        if which == "topic":
            texts = [rules.topic_input(questions[i], answers[i], titles[i], descriptions[i]) for i in to_label]
        else:
            texts = [questions[i] for i in to_label]
        ids, scores, cut = clf.classify(texts, settings.batch_size)
        target, target_score = (topic, topic_score) if which == "topic" else (qtype, qtype_score)
        for k, i in enumerate(to_label):
            target[i] = names[int(ids[k])]
            target_score[i] = float(scores[k])
            if cut[k]:
                truncated[i].append(which)

    return pd.DataFrame({
        "id": pdf["id"].tolist(),
        "language": languages,
        "semantic_similarity_score": pd.array(similarity, dtype="Float32"),
        "topic": topic,
        "topic_score": pd.array(topic_score, dtype="Float32"),
        "question_type": qtype,
        "question_type_score": pd.array(qtype_score, dtype="Float32"),
        "label_status": status,
        "truncated": truncated,
        "models": settings.models_note(),
        "run_id": settings.run_id,
    })


def annotate_partitions(settings: AnnotateSettings):
    """A ``mapInPandas`` function: QA-pair batches -> ``qa_annotations`` rows."""

    def run(batches: Iterator) -> Iterator:
        for pdf in batches:
            if len(pdf):
                yield annotate_frame(pdf, settings)

    return run

