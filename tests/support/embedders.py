"""Small deterministic embedders implementing paperroute's Embedder protocol, for tests where
the real model is not the point: texts sharing words get close vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from paperroute.search.query import split_words


class HashEmbedder:
    """Bag of words hashed into ``dimension`` signed buckets, L2-normalised."""

    def __init__(self, dimension: int = 256, name: str = "test-hash", version: str = "1") -> None:
        self.name = name
        self.version = version
        self.dimension = dimension
        self.calls = 0
        self.texts = 0

    def _bucket(self, word: str) -> tuple[int, float]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dimension, 1.0 if (value >> 32) & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in split_words(text):
                bucket, sign = self._bucket(word)
                out[row, bucket] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out


class FailingEmbedder(HashEmbedder):
    """Raises KeyboardInterrupt on the ``fail_at``-th call (an interrupted `embed`)."""

    def __init__(self, fail_at: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.fail_at = fail_at

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if self.calls + 1 == self.fail_at:
            self.calls += 1
            raise KeyboardInterrupt
        return super().embed(texts)
