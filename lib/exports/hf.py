"""The Hugging Face dataset layout: shard names, ``configs:`` and the dataset card (README.md).

A dataset is a folder of data files and a ``README.md`` whose YAML header lists the configs, each
with its files per split::

    ---
    configs:
    - config_name: deu
      data_files:
      - split: train
        path: data/deu/*.parquet
    ---

``datasets.load_dataset(folder, "deu")`` reads exactly those files, on a laptop or after the
folder is uploaded to the Hub (``huggingface-cli upload``); ``load_dataset(folder)`` without a
config name stops with the list of configs. A config may also name the ``columns`` it loads
(parquet only): the files keep every column, the config hands a trainer only the ones it takes.
Shards are named as ``datasets``/``push_to_hub`` name them: ``train-00000-of-00004.parquet``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import yaml

SPLIT = "train"


def shard_count(rows: int, rows_per_shard: int) -> int:
    """``ceil(rows / rows_per_shard)`` shards (at least one); rows go to them by a hash of their id, so a
    shard holds about ``rows_per_shard`` rows."""
    if rows_per_shard < 1:
        raise ValueError("rows_per_shard must be at least 1")
    return max(1, math.ceil(rows / rows_per_shard))


def shard_name(split: str, index: int, total: int, ext: str) -> str:
    return f"{split}-{index:05d}-of-{total:05d}.{ext}"


@dataclass
class Config:
    """One config of a dataset: its files per split, and what the card says about it."""

    name: str
    files: dict[str, str]                       # split -> path or glob, relative to the folder
    rows: dict[str, int] = field(default_factory=dict)   # split -> rows (for the card's table)
    columns: list[str] | None = None            # columns the config loads (parquet); None = all

    def yaml_entry(self) -> dict:
        entry = {"config_name": self.name,
                 "data_files": [{"split": split, "path": path} for split, path in self.files.items()]}
        if self.columns:
            entry["columns"] = list(self.columns)
        return entry


@dataclass
class Field:
    name: str
    dtype: str
    description: str


def hub_language_tag(code: str) -> str:
    """The tag the Hub's ``language:`` list takes: ISO 639-1 where the language has one, else 639-3."""
    try:
        import iso639

        part1 = iso639.Language.from_part3(code).part1
        return part1 or code
    except Exception:  # noqa: BLE001 - an unknown code stays as it is
        return code


def language_name(code: str) -> str:
    try:
        import iso639

        return iso639.Language.from_part3(code).name
    except Exception:  # noqa: BLE001
        return code


def front_matter(configs: Iterable[Config], *, license: str, languages: Iterable[str] = (),
                 pretty_name: str | None = None, task_categories: Iterable[str] = (),
                 tags: Iterable[str] = ()) -> str:
    """The YAML header of a dataset card, between ``---`` lines."""
    meta: dict = {}
    if pretty_name:
        meta["pretty_name"] = pretty_name
    meta["license"] = license
    tags_of_languages = sorted({hub_language_tag(code) for code in languages})
    if tags_of_languages:
        meta["language"] = tags_of_languages
    if task_categories:
        meta["task_categories"] = list(task_categories)
    if tags:
        meta["tags"] = list(tags)
    meta["configs"] = [c.yaml_entry() for c in configs]
    body = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return f"---\n{body}---\n"


def markdown_table(header: list[str], rows: Iterable[Iterable]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.4f}".rstrip("0").rstrip(".") if value == value else ""
        if isinstance(value, int):
            return f"{value:,}"
        return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fields_table(fields: Iterable[Field]) -> str:
    return markdown_table(["field", "type", "description"], ([f"`{f.name}`", f.dtype, f.description] for f in fields))


def counts_table(configs: Iterable[Config]) -> str:
    configs = list(configs)
    splits = sorted({s for c in configs for s in c.files}, key=lambda s: (s not in ("train", "test"), s))
    return markdown_table(["config", *splits],
                          ([f"`{c.name}`", *[c.rows.get(s, "") if s in c.files else "" for s in splits]]
                           for c in configs))


def licence_section(license: str) -> str:
    return (
        "## Licence\n\n"
        f"The collection is released under `{license}` (the licence of the published WebFAQ datasets). "
        "The questions and answers themselves were published by the websites named in `origin`/`url` "
        "and remain theirs; they were found in Common Crawl's archive, whose terms of use "
        "(https://commoncrawl.org/terms-of-use) apply. Remove a site's pairs on its owner's request.\n"
    )


def citation_section() -> str:
    return (
        "## Citation\n\n"
        "Built with webfaq-spark, which re-implements the WebFAQ 2.0 pipeline (Dinzinger et al., "
        "arXiv:2602.17327; WebFAQ v1: arXiv:2502.20936).\n"
    )
