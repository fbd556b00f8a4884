"""Readers' ranking models kept between digest runs (``ranking.ReaderModel``): building one
(clustering the seeds, summing their term masses) costs more than ranking a day's papers
with it, and it changes only when the reader's signals do."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from .ranking import F32, ReaderModel


def signature(seed_pks: list[int], vectors: F32, weights: F32, negatives: list[int]) -> bytes:
    """What a model is built from, as a digest: the seeds (pks, vectors, weights) and the
    "not interested" papers. A seed re-embedded after its abstract changed gives another
    signature, so a stale model is never used."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (
        np.asarray(seed_pks, dtype=np.int64),
        np.ascontiguousarray(vectors, dtype=np.float32),
        np.ascontiguousarray(weights, dtype=np.float32),
        np.asarray(sorted(negatives), dtype=np.int64),
    ):
        digest.update(part.tobytes())
        digest.update(b"|")
    return digest.digest()


class ModelCache:
    """Models by signature, the least recently used dropped once they pass ``max_bytes``.
    Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._lock = threading.Lock()
        self._models: OrderedDict[bytes, ReaderModel] = OrderedDict()
        self._bytes = 0

    def get(self, key: bytes) -> ReaderModel | None:
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
            return model

    def put(self, key: bytes, model: ReaderModel) -> None:
        with self._lock:
            held = self._models.pop(key, None)
            if held is not None:
                self._bytes -= held.nbytes
            self._models[key] = model
            self._bytes += model.nbytes
            while self._bytes > self._max and self._models:
                _, dropped = self._models.popitem(last=False)
                self._bytes -= dropped.nbytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)
