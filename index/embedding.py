"""Sentence embeddings from the locally shipped MiniLM model. Loads once, on first use."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# A query is a few dozen tokens: one OpenMP thread does it in ~20 ms. With two threads every op
# ends at a barrier, and when other work holds the second core (concurrent users, an ingest, other
# processes) each barrier waits for a time slice: 500-800 ms a query measured on a busy 2-core box.
_FEW_TEXTS = 8
_KEPT_QUERIES = 256


@contextmanager
def _one_thread_if(condition: bool):
    """torch.set_num_threads(1) for the calling thread only (OpenMP's thread count is per thread)."""
    if not condition:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Embedder:
    """Normalised sentence vectors. ``backend`` is "onnx" (int8, the default) or "torch" (fp32)."""

    def __init__(self, model_path: str, backend: str = "onnx", batch_size: int = 8,
                 onnx_cache: str | Path | None = None):
        self.model_path = model_path
        self.backend = backend
        self.onnx_cache = onnx_cache
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()

    @property
    def name(self) -> str:
        """Recorded in the store: vectors from different models or backends must not mix. An int8
        model quantised without ONNX Runtime's fusions (its fallback) is a variant of its own."""
        backend = self.backend
        if backend == "onnx":
            self.warm_up()
            if getattr(self._model, "variant", "fused") != "fused":
                backend = f"onnx-{self._model.variant}"
        return f"{Path(self.model_path).name or self.model_path}:{backend}"

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if not Path(self.model_path).is_dir():
            raise FileNotFoundError(f"embedding model folder not found: {self.model_path}")
        if self.backend == "onnx":
            from .onnx_embedding import OnnxMiniLM

            return OnnxMiniLM(self.model_path, cache_dir=self.onnx_cache)
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.model_path, device="cpu", local_files_only=True)

    @classmethod
    def from_settings(cls, settings) -> "Embedder":
        """The embedder the settings describe (model, backend, batch size, ONNX cache)."""
        return cls(settings.embedding_model, settings.embedding_backend, settings.embed_batch_size,
                   settings.onnx_cache)

    @property
    def dimension(self) -> int:
        """Length of the model's vectors (read from the model, never assumed)."""
        self.warm_up()
        getter = getattr(self._model, "get_sentence_embedding_dimension", None)
        return int(getter()) if getter else int(self._model.dimension)

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # The int8 model embeds one text at a time (see OnnxMiniLM.encode); batches are for torch.
        batch = 1 if self.backend == "onnx" else batch_size or self.batch_size
        with _one_thread_if(self.backend == "torch" and len(texts) <= _FEW_TEXTS):
            vectors = self._model.encode(list(texts), batch_size=batch, normalize_embeddings=True,
                                         show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def forget_queries(self) -> None:
        """Drop the kept question vectors (benchmarks time each stage as for a new question)."""
        with self._queries_lock:
            self._queries.clear()

    def encode_query(self, text: str) -> np.ndarray:
        """The question's vector; the last few are kept, because retrieval and answering both
        need the vector of the same question."""
        with self._queries_lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
        vector = self.encode([text])[0]
        vector.setflags(write=False)
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > _KEPT_QUERIES:
                self._queries.popitem(last=False)
        return vector
