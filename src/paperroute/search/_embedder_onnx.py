"""The onnxruntime backend of the MiniLM embedder (``embed_backend`` "auto" or "onnxruntime").

Builds an ONNX graph (opset 17) of the BERT encoder with ``onnx.helper`` straight from the
safetensors weights (no torch): embeddings, the encoder layers (attention with the additive
padding mask, exact erf GELU, LayerNorm). Tokenisation, length-sorted batching, padding, mean
pooling and L2 normalisation are the numpy embedder's (:mod:`.embedder`). Needs onnxruntime
and onnx (dependencies of paperroute; "auto" falls back to numpy without them); measured
~1.8x the numpy forward pass on 2 cores (docs/search.md).
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ConfigError
from .embedder import MiniLMEmbedder, attention_bias, mean_pool, pad_ids

__all__ = ["ORT_THREADS", "OrtEmbedder", "build_onnx", "onnxruntime_missing", "require_onnxruntime"]

F32 = npt.NDArray[np.float32]

# Intra-op threads of the session: the 2 cores the numpy path also uses by default.
ORT_THREADS = 2


def onnxruntime_missing() -> list[str]:
    """The modules this backend needs that cannot be imported (none: it can run)."""
    return [m for m in ("onnxruntime", "onnx") if importlib.util.find_spec(m) is None]


def require_onnxruntime() -> None:
    """Raise ConfigError unless onnxruntime and onnx are importable."""
    missing = onnxruntime_missing()
    if missing:
        raise ConfigError(
            f"embed_backend 'onnxruntime' needs {' and '.join(missing)}; install with: "
            f'pip install {" ".join(missing)} (or set embed_backend = "numpy")'
        )


def build_onnx(model_dir: Path, heads: int = 12) -> bytes:
    """The BERT encoder as ONNX (opset 17): inputs ``input_ids`` (b, n) int64,
    ``position_ids`` (n,) int64, ``mask_bias`` (b, 1, 1, n) float32; output ``hidden``."""
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    w = {
        k.removeprefix("bert."): np.asarray(v, np.float32)
        for k, v in load_file(str(model_dir / "model.safetensors")).items()
    }
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    d = hidden // heads
    # Initializers and nodes go straight into the model's graph: building a graph of them
    # and then a model of the graph copies every weight twice more (protobuf copies a
    # message it is given), a peak near 0.5 GB for MiniLM's 90 MB on every server start.
    model = helper.make_model(
        helper.make_graph([], "minilm", [], []), opset_imports=[helper.make_opsetid("", 17)]
    )
    graph = model.graph

    def const(name: str, value: npt.NDArray[Any]) -> str:
        graph.initializer.add().CopyFrom(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        graph.node.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def linear(x: str, prefix: str, out: str) -> str:
        # (Each weight leaves ``w`` once it is in the graph: one copy of the model at a time.)
        weight = const(prefix + ".wT", w.pop(prefix + ".weight").T)
        mm = node("MatMul", [x, weight], out + "_mm")
        return node("Add", [mm, const(prefix + ".b", w.pop(prefix + ".bias"))], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node(
            "LayerNormalization",
            [
                x,
                const(prefix + ".g", w[prefix + ".weight"]),
                const(prefix + ".bb", w[prefix + ".bias"]),
            ],
            out,
            axis=-1,
            epsilon=1e-12,
        )

    heads_shape = const("heads_shape", np.array([0, 0, heads, d], np.int64))
    merged_shape = const("merged_shape", np.array([0, 0, hidden], np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(d), np.float32))
    inv_sqrt2 = const("inv_sqrt2", np.array(1.0 / math.sqrt(2.0), np.float32))
    one = const("one", np.array(1.0, np.float32))
    half = const("half", np.array(0.5, np.float32))
    pos_table = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    word = node(
        "Gather", [const("word", w["embeddings.word_embeddings.weight"]), "input_ids"], "e_word"
    )
    pos = node("Gather", [const("pos", pos_table), "position_ids"], "e_pos")
    x = layer_norm(node("Add", [word, pos], "e_sum"), "embeddings.LayerNorm", "x0")
    for i in range(len({k.split(".")[2] for k in w if k.startswith("encoder.layer.")})):
        p = f"encoder.layer.{i}."
        q, k, v = (
            node(
                "Reshape",
                [linear(x, p + f"attention.self.{n}", f"l{i}{n}"), heads_shape],
                f"l{i}{n}h",
            )
            for n in ("query", "key", "value")
        )
        qt = node("Transpose", [q], f"l{i}qt", perm=[0, 2, 1, 3])
        kt = node("Transpose", [k], f"l{i}kt", perm=[0, 2, 3, 1])
        vt = node("Transpose", [v], f"l{i}vt", perm=[0, 2, 1, 3])
        scores = node("MatMul", [node("Mul", [qt, scale], f"l{i}qs"), kt], f"l{i}s")
        scores = node("Add", [scores, "mask_bias"], f"l{i}sm")
        probs = node("Softmax", [scores], f"l{i}p", axis=-1)
        ctx = node(
            "Transpose", [node("MatMul", [probs, vt], f"l{i}c")], f"l{i}ct", perm=[0, 2, 1, 3]
        )
        ctx = node("Reshape", [ctx, merged_shape], f"l{i}cm")
        attn = node("Add", [linear(ctx, p + "attention.output.dense", f"l{i}ao"), x], f"l{i}ar")
        x = layer_norm(attn, p + "attention.output.LayerNorm", f"l{i}x1")
        inter = linear(x, p + "intermediate.dense", f"l{i}in")
        erf = node("Erf", [node("Mul", [inter, inv_sqrt2], f"l{i}g0")], f"l{i}g1")
        phi = node("Mul", [node("Add", [erf, one], f"l{i}g2"), half], f"l{i}g3")
        gelu = node("Mul", [inter, phi], f"l{i}g")
        out = node("Add", [linear(gelu, p + "output.dense", f"l{i}o"), x], f"l{i}or")
        x = layer_norm(out, p + "output.LayerNorm", f"l{i}x2")
    graph.node.append(helper.make_node("Identity", [x], ["hidden"]))
    graph.input.extend(
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "n"]),
            helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["n"]),
            helper.make_tensor_value_info("mask_bias", TensorProto.FLOAT, ["b", 1, 1, "n"]),
        ]
    )
    graph.output.extend(
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["b", "n", hidden])]
    )
    # (Checked by tests/unit/test_embedder_onnx.py: onnx's checker serialises the model
    # once more, 90 MB of MiniLM for a moment on every server start.)
    return bytes(model.SerializeToString())


class OrtEmbedder:
    """The numpy embedder's tokenisation, batching and pooling around an onnxruntime session.
    Same name, version and vectors (cosine >= 0.9999) as ``base``; implements Embedder."""

    def __init__(
        self, base: MiniLMEmbedder, threads: int = ORT_THREADS, *, spinning: bool = False
    ) -> None:
        require_onnxruntime()
        import onnxruntime as ort  # type: ignore[import-untyped]

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: the cores are shared with the web server.
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if spinning else "0"
        )
        # From a file, not bytes: onnxruntime keeps the bytes of a session made from bytes
        # (90 MB for MiniLM) for as long as the session lives.
        with tempfile.TemporaryDirectory(prefix="paperroute-onnx-") as folder:
            path = Path(folder) / "model.onnx"
            path.write_bytes(build_onnx(base.model_dir, heads=base.heads))
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        self._base = base
        self.name = base.name
        self.version = base.version
        self.dimension = base.dimension

    def embed(self, texts: Sequence[str]) -> F32:
        """Embed ``texts``; returns ``(len(texts), dimension)`` float32 unit-length rows."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of strings, not a single string")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ids, batches = self._base.token_batches(texts)
        for idx in batches:
            tokens, mask = pad_ids([ids[i] for i in idx])
            (hidden,) = self._session.run(
                ["hidden"],
                {
                    "input_ids": tokens,
                    "position_ids": np.arange(tokens.shape[1], dtype=np.int64),
                    "mask_bias": attention_bias(mask),
                },
            )
            out[idx] = mean_pool(np.asarray(hidden, dtype=np.float32), mask)
        return out
