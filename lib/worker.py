"""What a worker process holds: models, indexes and tables loaded once and kept for later tasks.

Spark reuses a Python worker for task after task (``spark.python.worker.reuse``), so a model loaded
by the first task of a worker serves every later one, as NeMo Curator's stages load theirs once in
``setup``. Every such cache goes through :func:`load_once`, keyed by a tuple whose first item names
the kind of thing (``"encoder"``, ``"bm25_searcher"``, ``"fasttext"``...) and whose other items
say which one (model, device, options), so that two stages or two GPUs never share an entry.

    model = load_once(("encoder", name, device), lambda: SentenceTransformer(name, device=device))
    held("encoder")        # the keys of the encoders this worker holds
    release("encoder")     # drop them (teardown); release() drops everything

Plain Python: it runs in the driver, in Spark's Python workers and in tests alike.
"""
from __future__ import annotations

import sys
import threading
from typing import Callable, Hashable, TypeVar

__all__ = ["load_once", "held", "release"]

T = TypeVar("T")

_HELD: dict[tuple, object] = {}
_LOCK = threading.RLock()  # re-entrant: a loader may load what it builds on (a model for an identifier)


def load_once(key: tuple[Hashable, ...], loader: Callable[[], T]) -> T:
    """What this process holds under ``key``, from ``loader()`` the first time it is asked for.

    A loader that raises leaves nothing behind: the next call tries again.
    """
    try:
        return _HELD[key]  # type: ignore[return-value]
    except KeyError:
        pass
    with _LOCK:
        if key not in _HELD:
            _HELD[key] = loader()
        return _HELD[key]  # type: ignore[return-value]


def held(*kinds: str) -> list[tuple]:
    """The keys of what this process holds, of the given kinds (every kind without any)."""
    return [key for key in list(_HELD) if not kinds or key[0] in kinds]


def release(*kinds: str) -> int:
    """Drop what this process holds of the given kinds (everything without any) and return how
    many things were dropped. Things with a ``close()`` method are closed; when PyTorch is loaded,
    the GPU memory it caches is handed back too."""
    with _LOCK:
        keys = held(*kinds)
        things = [_HELD.pop(key) for key in keys]
    for thing in things:
        close = getattr(thing, "close", None)
        if callable(close):
            close()
    torch = sys.modules.get("torch")
    if things and torch is not None and torch.cuda.is_available():  # pragma: no cover - GPU only
        torch.cuda.empty_cache()
    return len(things)
