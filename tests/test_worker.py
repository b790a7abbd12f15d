"""lib.worker: one load per worker process, and the list and release of what a worker holds."""
from __future__ import annotations

import pytest

from lib.worker import held, load_once, release


class Index:
    """Something a worker opens once and closes when released (as a Lucene searcher is)."""

    def __init__(self, name: str):
        self.name, self.closed = name, False

    def close(self) -> None:
        self.closed = True


def test_a_thing_is_loaded_once_per_key_and_released():
    loads = []

    def loader(name):
        def load():
            loads.append(name)
            return Index(name)
        return load

    first = load_once(("test_index", "deu"), loader("deu"))
    assert load_once(("test_index", "deu"), loader("deu")) is first
    other = load_once(("test_index", "eng"), loader("eng"))
    assert other is not first and loads == ["deu", "eng"]
    assert sorted(held("test_index")) == [("test_index", "deu"), ("test_index", "eng")]
    assert ("test_index", "deu") in held()

    assert release("test_index") == 2
    assert first.closed and other.closed and held("test_index") == []
    assert load_once(("test_index", "deu"), loader("deu")) is not first  # loaded again after release
    assert loads == ["deu", "eng", "deu"]
    release("test_index")


def test_a_failed_load_leaves_nothing_behind():
    def broken():
        raise FileNotFoundError("no model at /nowhere")

    with pytest.raises(FileNotFoundError):
        load_once(("test_model", "/nowhere"), broken)
    assert held("test_model") == []
    assert load_once(("test_model", "/nowhere"), lambda: "loaded") == "loaded"
    assert release("test_model") == 1


def test_a_loader_may_load_what_it_builds_on():
    def identifier():
        model = load_once(("test_model", "lid"), lambda: "fastText model")
        return ("identifier", model)

    assert load_once(("test_identifier", "lid"), identifier) == ("identifier", "fastText model")
    assert held("test_model", "test_identifier") == [("test_model", "lid"), ("test_identifier", "lid")]
    assert release("test_model", "test_identifier") == 2
