"""Hybrid retrieval: dense search in Chroma plus BM25 over the same chunks, fused by reciprocal rank.

The keyword index is built from the chunk texts kept in the store and rebuilt when the store's
generation counter moves, so an ingest in this process (or another one, via a Chroma server) is
picked up without a restart.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ingest.chunking import embedding_text
from ingest.embedding import Embedder
from ingest.store import ChromaStore, StoreError, StoredChunk
from ingest.types import Chunk

from .text import tokens
from .types import Hit

Mode = Literal["hybrid", "dense", "bm25"]

# Weight of a BM25 rank against a dense rank in the fusion. Measured on eval/dev.jsonl
# (bench/bench_query.py, bench/README.md): plain RRF (k=60, weight 1) ranks sources a little below
# BM25 alone; k=5 with BM25 x3 beats both retrievers on sources, but moves passages the extractive
# answer quotes (one known answer and one refusal lost), so plain RRF stays the default for now.
KEYWORD_WEIGHT = 1.0


@dataclass
class Filters:
    sources: list[str] | None = None  # full paths or file-name substrings
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None

    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to)

    def chroma_where(self, known_sources: list[str]) -> dict | None:
        clauses = []
        if self.sources:
            chosen = self.matching(known_sources)
            clauses.append({"source": {"$in": chosen or ["\x00none"]}})
        if self.date_from:
            clauses.append({"date_int": {"$gte": _date_int(self.date_from)}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": _date_int(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matching(self, known_sources: list[str]) -> list[str]:
        wanted = self.sources or []
        return [s for s in known_sources if any(w == s or w in s for w in wanted)]

    def accepts(self, meta: dict, chosen: set[str] | None) -> bool:
        if chosen is not None and meta.get("source") not in chosen:
            return False
        date_int = meta.get("date_int")
        if self.date_from and (date_int is None or date_int < _date_int(self.date_from)):
            return False
        if self.date_to and (date_int is None or date_int > _date_int(self.date_to)):
            return False
        return True


def _date_int(iso: str) -> int:
    return int(str(iso)[:10].replace("-", ""))


class HybridSearcher:
    """Cheap to construct; ``warm_up()`` loads the model and builds the keyword index."""

    def __init__(self, store: ChromaStore, embedder: Embedder, candidates: int = 30, rrf_k: int = 60,
                 keyword_weight: float = KEYWORD_WEIGHT):
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._checked_at = 0.0
        self._local_writes = 0
        self._bm25 = None
        self._chunks: list[StoredChunk] = []
        self._index_of: dict[str, int] = {}
        self._vectors: np.ndarray | None = None
        self._sources: list[str] = []

    def warm_up(self) -> None:
        self.embedder.warm_up()
        self._refresh(force=True)

    # --- keyword index ---------------------------------------------------------------------------
    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        local = self.store.writes_in_process()
        if not force and local == self._local_writes and now - self._checked_at < 1.0 and self._bm25 is not None:
            return
        self._local_writes = local
        generation = self.store.generation()
        self._checked_at = now
        if generation == self._generation and self._bm25 is not None:
            return
        with self._lock:
            if generation == self._generation and self._bm25 is not None:
                return
            self._rebuild(generation)

    def _rebuild(self, generation: int) -> None:
        import bm25s

        chunks = self.store.all_chunks()
        _check_model(self.store, self.embedder, bool(chunks))
        corpus = [tokens(_indexed_text(c)) or ["\x00empty"] for c in chunks]
        bm25 = bm25s.BM25()
        if corpus:
            bm25.index(corpus, show_progress=False)
        vectors = self.store.all_vectors([c.id for c in chunks]) if chunks else np.zeros((0, 384), np.float32)
        self._chunks, self._bm25, self._vectors = chunks, bm25, vectors
        self._index_of = {c.id: i for i, c in enumerate(chunks)}
        self._sources = sorted({c.metadata.get("source", "") for c in chunks})
        self._generation = generation
        self._idf_cache: dict[str, float] = {}

    def idf(self, term: str) -> float:
        """Inverse document frequency of a (stemmed) term over the indexed chunks."""
        cached = self._idf_cache.get(term)
        if cached is None:
            vocab = getattr(self._bm25, "vocab_dict", {}) or {}
            n_docs = max(len(self._chunks), 1)
            df = 0
            token_id = vocab.get(term)
            if token_id is not None:
                scores = self._bm25.scores
                indptr = scores["indptr"]
                df = int(indptr[token_id + 1] - indptr[token_id])
            cached = float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))
            self._idf_cache[term] = cached
        return cached

    # --- search ------------------------------------------------------------------------------
    def search(self, query: str, k: int, filters: Filters | None = None, mode: Mode = "hybrid",
               query_vector: np.ndarray | None = None) -> list[Hit]:
        self._refresh()
        if not self._chunks:
            return []
        filters = filters or Filters()
        if query_vector is None:
            query_vector = self.embedder.encode_query(query)
        ranked: list[tuple[list[int], float]] = []
        if mode in ("hybrid", "dense"):
            ranked.append((self._dense(query_vector, filters), 1.0))
        if mode in ("hybrid", "bm25"):
            ranked.append((self._keyword(query, filters), self.keyword_weight))
        fused = _rrf(ranked, self.rrf_k)[:k]
        similarities = self._vectors[[i for i, _ in fused]] @ query_vector if fused else []
        return [self._hit(i, score, float(sim)) for (i, score), sim in zip(fused, similarities)]

    def _dense(self, vector: np.ndarray, filters: Filters) -> list[int]:
        where = filters.chroma_where(self._sources) if filters.active() else None
        found = self.store.query(vector, self.candidates, where)
        return [self._index_of[c.id] for c in found if c.id in self._index_of]

    def _keyword(self, query: str, filters: Filters) -> list[int]:
        terms = tokens(query)
        if not terms:
            return []
        scores = self._bm25.get_scores(terms)
        if filters.active():
            chosen = set(filters.matching(self._sources)) if filters.sources else None
            mask = np.array([filters.accepts(c.metadata, chosen) for c in self._chunks])
            scores = np.where(mask, scores, 0.0)
        n = min(self.candidates, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [int(i) for i in top if scores[i] > 0]

    def _hit(self, index: int, score: float, similarity: float) -> Hit:
        chunk = self._chunks[index]
        meta = chunk.metadata
        return Hit(chunk_id=chunk.id, source=meta.get("source", ""), title=meta.get("title", ""),
                   page=meta.get("page") or None, text=chunk.text, score=score, similarity=similarity,
                   date=meta.get("date"), start=meta.get("start", 0), end=meta.get("end", 0))


def _check_model(store: ChromaStore, embedder: Embedder, has_chunks: bool) -> None:
    """Query vectors from another model (or backend) than the index's would rank nonsense."""
    recorded = store.embedding_model()
    if has_chunks and recorded and recorded != embedder.name:
        raise StoreError(f"the index at {store.location} was built with the embedding model "
                         f"'{recorded}', but '{embedder.name}' is configured for queries. Set the "
                         "same model and backend back, or re-index with "
                         "`policy-assistant ingest --reindex PATH...`.")


def _rrf(rankings: list[tuple[list[int], float]], k: int) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the (ranking, weight) pairs."""
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, index in enumerate(ranking):
            scores[index] = scores.get(index, 0.0) + weight / (k + rank + 1)
    return sorted(scores.items(), key=lambda item: -item[1])


def _indexed_text(chunk: StoredChunk) -> str:
    meta = chunk.metadata
    return embedding_text(Chunk(id=chunk.id, source=meta.get("source", ""), title=meta.get("title", ""),
                                page=None, start=0, end=0, text=chunk.text))
