"""Hybrid retrieval: dense search in Chroma plus BM25 over the same chunks, fused by score.

The keyword index is built from the chunk texts kept in the store and rebuilt when the store's
generation counter moves, so an ingest in this process (or another one, via a Chroma server) is
picked up without a restart.
"""
from __future__ import annotations

import calendar
import difflib
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from index.chunks import embedding_text
from index.embedding import Embedder
from index.store import ChromaStore, StoredChunk, StoreError

from .answers import Hit
from .english import specific_words, tokens
from .errors import UsageError
from .scoring import DEFAULT_SCORING, Scoring

Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["score", "rrf"]



def date_bound(value, last: bool = False) -> str | None:
    """A filter date as YYYY-MM-DD: "2016" means its first day as a "from" date and its last as a
    "to" date, "2016-05" likewise (both were read as the number 2016, so "from 2016" filtered
    nothing and "to 2016" dropped every dated document)."""
    if value is None or value == "":
        return None
    text = str(value).strip()[:10]
    try:
        if re.fullmatch(r"\d{4}", text):
            return f"{text}-12-31" if last else f"{text}-01-01"
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            end = calendar.monthrange(year, month)[1]  # raises on month 13
            return f"{text}-{end:02d}" if last else f"{text}-01"
        return date.fromisoformat(text).isoformat()
    except (ValueError, calendar.IllegalMonthError):
        raise UsageError(f"'{value}' is not a date: give YYYY, YYYY-MM or YYYY-MM-DD") from None


@dataclass
class Filters:
    sources: list[str] | None = None  # full paths or file-name substrings
    date_from: str | None = None  # inclusive; YYYY, YYYY-MM or YYYY-MM-DD (kept as YYYY-MM-DD)
    date_to: str | None = None

    def __post_init__(self):
        self.date_from = date_bound(self.date_from)
        self.date_to = date_bound(self.date_to, last=True)

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

    def __init__(self, store: ChromaStore, embedder: Embedder, candidates: int = 30,
                 fusion: Fusion = "score", rrf_k: int = 60, scoring: Scoring = DEFAULT_SCORING):
        self.store = store
        self.embedder = embedder
        self.scoring = scoring
        self.candidates = candidates
        self.fusion = fusion
        self.rrf_k = rrf_k
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._checked_at = 0.0
        self._local_writes = 0
        self._bm25 = None
        self._chunks: list[StoredChunk] = []
        self._index_of: dict[str, int] = {}
        self._vectors: np.ndarray | None = None
        self._sources: list[str] = []
        self._vocabulary: list[str] = []  # the keyword index's terms, for near spellings
        self._idf_cache: dict[str, float] = {}

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

        if not self.store.follow_other_writers(generation) and self._bm25 is not None:
            return  # another process is still writing: answer from the index as it was, look again soon
        chunks = self.store.all_chunks()
        _check_model(self.store, self.embedder, bool(chunks))
        corpus = [tokens(_indexed_text(c)) or ["\x00empty"] for c in chunks]
        bm25 = bm25s.BM25()
        if corpus:
            bm25.index(corpus, show_progress=False)
        vectors = (self.store.all_vectors([c.id for c in chunks]) if chunks
                   else np.zeros((0, self.embedder.dimension), np.float32))
        self._chunks, self._bm25, self._vectors = chunks, bm25, vectors
        self._index_of = {c.id: i for i, c in enumerate(chunks)}
        self._sources = sorted({c.metadata.get("source", "") for c in chunks})
        self._generation = generation
        self._vocabulary = list(getattr(bm25, "vocab_dict", None) or {})
        self._idf_cache: dict[str, float] = {}

    def idf(self, term: str) -> float:
        """Inverse document frequency of a (stemmed) term over the indexed chunks."""
        if self._bm25 is None:
            self._refresh()  # before the first search there is no keyword index yet
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

    def unknown_names(self, question: str) -> list[str]:
        """Specific words of the question that no indexed passage contains, nor a near spelling
        of them (a typo of a known word is not a new topic)."""
        self._refresh()
        vocabulary = getattr(self._bm25, "vocab_dict", None) or {}
        if not vocabulary:
            return []
        unknown = []
        for word, stemmed in specific_words(question):
            if stemmed in vocabulary or word in unknown:
                continue
            if not difflib.get_close_matches(stemmed, self._vocabulary, n=1, cutoff=self.scoring.near_spelling_cutoff):
                unknown.append(word)
        return unknown

    # --- search ------------------------------------------------------------------------------
    def search(self, query: str, k: int, filters: Filters | None = None, mode: Mode = "hybrid",
               query_vector: np.ndarray | None = None) -> list[Hit]:
        self._refresh()
        if not self._chunks:
            return []
        filters = filters or Filters()
        if query_vector is None:
            query_vector = self.embedder.encode_query(query)
        dense = self._dense(query_vector, filters) if mode != "bm25" else []
        terms = tokens(query)
        keyword_scores = self._keyword_scores(terms, filters) if mode != "dense" else None
        keyword = _top(keyword_scores, self.candidates) if keyword_scores is not None else []
        candidates = list(dict.fromkeys(dense + keyword))
        cosine = dict(zip(candidates, (self._vectors[candidates] @ query_vector).tolist())) if candidates else {}
        if mode == "dense":
            ranked = [(i, cosine[i]) for i in dense]
        elif mode == "bm25":
            ranked = [(i, float(keyword_scores[i])) for i in keyword]
        elif self.fusion == "rrf":
            ranked = _rrf([dense, keyword], self.rrf_k)
        else:
            share = self._keyword_share(terms, keyword) if keyword else 0.0
            ranked = _score_fusion(candidates, cosine, keyword_scores, share)
        return [self._hit(i, score, cosine[i]) for i, score in ranked[:k]]

    def _dense(self, vector: np.ndarray, filters: Filters) -> list[int]:
        where = filters.chroma_where(self._sources) if filters.active() else None
        found = self.store.query(vector, self.candidates, where)
        return [self._index_of[c.id] for c in found if c.id in self._index_of]

    def _keyword_scores(self, terms: list[str], filters: Filters) -> np.ndarray:
        if not terms:
            return np.zeros(len(self._chunks), dtype=np.float32)
        scores = self._bm25.get_scores(terms)
        if filters.active():
            chosen = set(filters.matching(self._sources)) if filters.sources else None
            mask = np.array([filters.accepts(c.metadata, chosen) for c in self._chunks])
            scores = np.where(mask, scores, 0.0)
        return scores

    def _keyword_share(self, terms: list[str], keyword: list[int]) -> float:
        """Weight of the keyword half: grows with the share of the question's IDF-weighted terms
        that the best keyword match contains."""
        low, high = self.scoring.keyword_share
        weights = {t: self.idf(t) for t in set(terms)}
        total = sum(weights.values())
        if not total:
            return low
        held = set(tokens(_indexed_text(self._chunks[keyword[0]])))
        return low + (high - low) * sum(w for t, w in weights.items() if t in held) / total

    def _hit(self, index: int, score: float, similarity: float) -> Hit:
        chunk = self._chunks[index]
        meta = chunk.metadata
        return Hit(chunk_id=chunk.id, source=meta.get("source", ""), title=meta.get("title", ""),
                   page=meta.get("page") or None, text=chunk.text, score=score, similarity=similarity,
                   date=meta.get("date"), start=meta.get("start", 0), end=meta.get("end", 0),
                   ocr=bool(meta.get("ocr")))


def _check_model(store: ChromaStore, embedder: Embedder, has_chunks: bool) -> None:
    """Query vectors from another model (or backend) than the index's would rank nonsense."""
    recorded = store.embedding_model()
    if has_chunks and recorded and recorded != embedder.name:
        raise StoreError(f"the index at {store.location} was built with the embedding model "
                         f"'{recorded}', but '{embedder.name}' is configured for queries. Set the "
                         "same model and backend back, or re-index with "
                         "`policy-assistant ingest --reindex PATH...`.")


def _top(scores: np.ndarray, n: int) -> list[int]:
    """Indexes of the n best positive scores, best first."""
    n = min(n, len(scores))
    if n == 0:
        return []
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [int(i) for i in top if scores[i] > 0]


def _score_fusion(candidates: list[int], cosine: dict[int, float], keyword_scores: np.ndarray,
                  share: float) -> list[tuple[int, float]]:
    """share x BM25 / best BM25 + (1 - share) x cosine / best cosine, over both candidate lists."""
    if not candidates:
        return []
    dense = np.clip(np.array([cosine[i] for i in candidates]), 0.0, None)
    bm25 = keyword_scores[candidates]
    fused = (share * bm25 / max(float(bm25.max()), 1e-9)
             + (1 - share) * dense / max(float(dense.max()), 1e-9))
    order = np.argsort(-fused, kind="stable")
    return [(candidates[i], float(fused[i])) for i in order]


def _rrf(rankings: list[list[int]], k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, index in enumerate(ranking):
            scores[index] = scores.get(index, 0.0) + 1 / (k + rank + 1)
    return sorted(scores.items(), key=lambda item: -item[1])


def _indexed_text(chunk: StoredChunk) -> str:
    return embedding_text(chunk.metadata.get("title", ""), chunk.text)
