"""The ONNX int8 embedding backend (the default) against the real torch fp32 model, on real sentences."""
from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import DEV_SET, SEEDS, make_settings

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def onnx_embedder(embedder):
    """The session's embedder: the default backend, exported and quantised on first use (~40 s)."""
    assert embedder.backend == "onnx"
    return embedder


@pytest.fixture(scope="module")
def torch_embedder():
    from index.embedding import Embedder
    from index.settings import default_model_path

    model = Embedder(default_model_path(), backend="torch")
    model.warm_up()
    return model


def _dev_questions() -> list[str]:
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["question"] for row in rows]


def _seed_passages() -> list[str]:
    """Real chunks of the seed articles, cleaned and chunked as ingest does it."""
    from index.chunks import embedding_text
    from ingest.chunking import chunk_document
    from ingest.clean import clean_document
    from ingest.loaders import load

    passages = []
    for path in sorted(SEEDS.iterdir())[:3]:
        chunks = chunk_document(clean_document(load(path, 25.0)), 900, 150)
        passages.extend(embedding_text(c.title, c.text) for c in chunks[:8])
    return passages


def test_onnx_vectors_point_where_the_torch_vectors_do(onnx_embedder, torch_embedder):
    texts = _dev_questions()[:40] + _seed_passages()
    assert len(texts) > 50
    onnx_vectors = onnx_embedder.encode(texts)
    torch_vectors = torch_embedder.encode(texts)
    cosines = np.sum(onnx_vectors * torch_vectors, axis=1)
    assert cosines.min() > 0.98, [(round(float(c), 4), t[:60]) for c, t in zip(cosines, texts) if c <= 0.98]


def test_onnx_vectors_are_normalised_and_keep_the_order_of_the_texts(onnx_embedder):
    texts = _dev_questions()[:12]
    vectors = onnx_embedder.encode(texts)
    assert vectors.shape == (12, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batches are sorted by length inside encode: each vector must still belong to its own text.
    one_by_one = np.stack([onnx_embedder.encode_query(t) for t in texts])
    assert np.all(np.sum(vectors * one_by_one, axis=1) > 0.99)
    assert np.argmax(vectors @ one_by_one.T, axis=1).tolist() == list(range(12))


def test_the_backend_is_part_of_the_model_name(onnx_embedder, torch_embedder):
    assert onnx_embedder.name.endswith(":onnx") and torch_embedder.name.endswith(":torch")
    assert onnx_embedder.name != torch_embedder.name


def test_int8_is_the_default_backend():
    from index.settings import Settings

    assert Settings().embedding_backend == "onnx"


def test_an_index_built_with_torch_refuses_onnx_vectors(tmp_path, torch_embedder, onnx_embedder, copy_of):
    import ingest
    from assistant import Assistant
    from index.store import StoreError

    settings = make_settings(tmp_path / "store")
    report = ingest.run([copy_of(sorted(SEEDS.iterdir())[0])], settings, embedder=torch_embedder)
    assert report.chunks > 0

    with pytest.raises(StoreError, match="re-index|--reindex"):
        Assistant(settings=settings, embedder=onnx_embedder).search("NHS mandate", k=3)
    with pytest.raises(StoreError, match="--reindex"):
        ingest.run([SEEDS], settings, embedder=onnx_embedder)
    # The torch embedder the index was built with still searches it.
    assert Assistant(settings=settings, embedder=torch_embedder).search("NHS mandate", k=3)


def test_an_int8_vector_depends_on_its_text_alone(onnx_embedder):
    """Dynamic int8 quantisation scales a run's activations together: texts batched with others
    would get vectors that depend on their neighbours. One text a run keeps them equal."""
    texts = _dev_questions()[:10]
    together = onnx_embedder.encode(texts)
    alone = np.stack([onnx_embedder.encode([t])[0] for t in texts])
    other_company = onnx_embedder.encode(list(reversed(texts)) + _seed_passages()[:6])[:10][::-1]
    assert np.array_equal(together, alone)
    assert np.array_equal(other_company, alone)


def test_an_export_without_fusions_is_named_as_its_own_variant(tmp_path, onnx_embedder):
    """When this onnxruntime cannot fuse the graph, the plain export is quantised instead: its vectors
    differ a little, so the cache records the variant and the index's model name says it (it fell
    back silently, cached and named like the fused model)."""
    from types import SimpleNamespace

    from index.embedding import Embedder
    from index.onnx_embedding import VARIANT_FILE, export_variant

    assert export_variant(tmp_path) == "fused"  # caches made before the marker existed were fused
    (tmp_path / VARIANT_FILE).write_text("unfused", encoding="utf-8")
    assert export_variant(tmp_path) == "unfused"
    assert onnx_embedder.name.endswith(":onnx")
    fallback = Embedder(onnx_embedder.model_path, backend="onnx")
    fallback._model = SimpleNamespace(variant="unfused")
    assert fallback.name.endswith(":onnx-unfused") and fallback.name != onnx_embedder.name


def test_the_vector_length_is_read_from_the_model(onnx_embedder):
    assert onnx_embedder.dimension == len(onnx_embedder.encode(["pooled budgets"])[0]) == 384
    assert onnx_embedder.encode([]).shape == (0, 384)
