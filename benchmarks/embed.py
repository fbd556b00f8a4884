"""Embedding throughput: the numpy forward pass against onnxruntime, same model, same texts.

    python benchmarks/embed.py ../shared/data/corpus/arxiv-listings-200k.jsonl.gz \
        [--count 512] [--rounds 3] [--threads 2]

Uses ``paperroute.search._embedder_onnx`` (the default ``embed_backend``, "auto"): an
ONNX graph of all-MiniLM-L6-v2 built with ``onnx.helper`` from the safetensors weights (no
torch); tokenisation, length-sorted batching, mean pooling and L2 normalisation are shared with
the numpy embedder. ``--spinning`` lets idle onnxruntime threads spin (off by default). Both
get the same thread budget (``--threads`` cores: numpy as that many workers of one BLAS thread
each, onnxruntime as that many intra-op threads) and run in alternation on the same real
abstracts (title + abstract, long enough to fill 128 tokens).
Checks that every onnxruntime vector has cosine >= 0.9999 with the numpy one. The last line
is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from _common import long_abstracts, peak_rss_mb
from paperroute.search._embedder_onnx import OrtEmbedder
from paperroute.search.embedder import load_minilm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--spinning", action="store_true", help="let idle onnxruntime threads spin (default off)"
    )
    args = parser.parse_args()

    texts = long_abstracts(args.corpus, args.count)
    numpy_embedder = load_minilm(max_length=128)
    numpy_embedder.workers = args.threads
    started = time.perf_counter()
    ort_embedder = OrtEmbedder(numpy_embedder, args.threads, spinning=args.spinning)
    build_s = time.perf_counter() - started
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
        "threads": args.threads,
        "spinning": args.spinning,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
