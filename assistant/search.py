"""Hybrid retrieval: dense search in Chroma plus BM25 in an on-disk Tantivy index of the same
chunks, fused by score.

The keyword index follows the store's change log when the store's generation counter moves, so an
ingest in this process (or another one, via a Chroma server) is picked up without a restart and
without rebuilding anything but the changed files' entries (index/keywords.py).
"""
from __future__ import annotations

import calendar
import difflib
import logging
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date
from typing import Literal

import numpy as np

from index.embedding import Embedder
from index.keywords import KeywordFilter, KeywordIndex, Snapshot, catch_up
from index.store import ChromaStore, GenerationWatch, StoredChunk, StoreError

from .answers import Hit
from .english import specific_words, tokens
from .errors import UsageError
from .scoring import DEFAULT_SCORING, Scoring

Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["score", "rrf"]
log = logging.getLogger(__name__)
# How long a question waits for the keyword index to take in a change before it is answered from
# the snapshot it has (a one-file change takes a few tens of milliseconds).
_FOLLOW_WAIT_S = 0.5
# Most neighbours asked of Chroma for a broad filter (HNSW cost grows with them: 30 ms for 300, 161 ms
# for 1,000 at 100k chunks), and how many must pass before its own (slow) metadata filter is used.
_OVERFETCH_MAX = 300
_ENOUGH_NEIGHBOURS = 10
# A filter that leaves at least this share of the chunks is searched among Chroma's neighbours even
# when it is small enough to search exactly: 300 neighbours then hold about 15 that pass, and
# reading its rows costs more (half of 100k chunks, every other file: 65 ms a search exactly).
_OVERFETCH_SHARE = 0.05



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
    allowed: frozenset[str] | None = None  # full paths: the versions in force on an "as of" date

    def __post_init__(self):
        self.date_from = date_bound(self.date_from)
        self.date_to = date_bound(self.date_to, last=True)

    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.allowed is not None)

    @property
    def by_source(self) -> bool:
        return bool(self.sources) or self.allowed is not None

    def chroma_where(self, known_sources: list[str]) -> dict | None:
        clauses = []
        if self.by_source:
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
        if wanted:
            # Full paths by lookup, name fragments by search: 250 paths against 25,000 sources, all
            # compared as fragments, took 780 ms a query.
            known, exact = set(known_sources), set(wanted)
            fragments = [w for w in wanted if w not in known]
            chosen = [s for s in known_sources if s in exact or any(f in s for f in fragments)]
        else:
            chosen = list(known_sources)
        return [s for s in chosen if s in self.allowed] if self.allowed is not None else chosen


def _date_int(iso: str) -> int:
    return int(str(iso)[:10].replace("-", ""))


@dataclass(frozen=True)
class _View:
    """What one search reads, swapped in by one assignment: one committed snapshot of the local
    index (Tantivy searcher and vector rows), the indexed sources, and IDF values cached for it."""
    snapshot: Snapshot | None
    sources: list[str]
    size: int
    idf: dict
    filters: dict = field(default_factory=dict)  # search filter -> KeywordFilter, for this view

    @cached_property
    def published(self) -> frozenset[str]:
        return frozenset(self.sources)


class HybridSearcher:
    """Cheap to construct; ``warm_up()`` loads the model and opens (or first builds) the keyword
    index. The process holds no copy of the chunks: texts and vectors come from the store by id,
    keyword matches from the on-disk index."""

    def __init__(self, store: ChromaStore, embedder: Embedder, candidates: int = 30,
                 fusion: Fusion = "score", rrf_k: int = 60, scoring: Scoring = DEFAULT_SCORING,
                 keywords: KeywordIndex | None = None, filter_ids_max: int | None = None):
        self.store = store
        self.embedder = embedder
        self.scoring = scoring
        self.candidates = candidates
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.keywords = keywords or KeywordIndex(store.settings.keyword_path)
        self.filter_ids_max = filter_ids_max or store.settings.filter_ids_max
        self.progress = None  # (done, total) while a first keyword index is built
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._watch = GenerationWatch(store)
        self._view: _View | None = None
        self._follower: threading.Thread | None = None
        self._view_lock = threading.Lock()

    def warm_up(self) -> None:
        self.embedder.warm_up()
        if self.progress is None and self.keywords.generation is None:
            self.progress = _ProgressBar()  # a new replica (or an index from before issue 13) builds it once
        self._refresh(force=True, wait=True)

    def size(self) -> int:
        self._refresh()
        return self._view.size if self._view else 0

    # --- following the store -------------------------------------------------------------------
    def _refresh(self, force: bool = False, wait: bool = False) -> None:
        generation = self._watch.look(force=force or self._view is None)
        if generation is None or (generation == self._generation and self._view is not None):
            return
        if not self.store.follow_other_writers(generation) and self._view is not None:
            return  # another process is still writing: answer from the index as it was, look again soon
        self._follow(generation, wait or self._view is None)

    def _follow(self, generation: int, wait: bool) -> None:
        """Bring the keyword index level with the store on a background thread; wait for it at
        most a moment (a one-file change is visible to this question), or to the end when there
        is nothing to answer from yet. Meanwhile searches read the snapshot they have."""
        if self.keywords.generation != generation:
            with self._lock:
                if self._follower is None or not self._follower.is_alive():
                    self._follower = threading.Thread(target=self._catch_up, name="keyword-follower", daemon=True)
                    self._follower.start()
                follower = self._follower
            follower.join(None if wait else _FOLLOW_WAIT_S)
        self._install_view(generation)

    def _install_view(self, generation: int) -> None:
        """Swap in the index's latest snapshot (never an older one than the view has); when it is
        at the store's ``generation``, this searcher is level with the store."""
        with self._view_lock:
            snapshot = self.keywords.searcher()
            current = self._view.snapshot.generation if self._view and self._view.snapshot else -1
            if snapshot is not None and snapshot.generation < current:
                return
            if snapshot is not None and snapshot.generation == generation:
                _check_model(self.store, self.embedder, snapshot.num_docs > 0)
                self._generation = generation
            self._view = _View(snapshot, self.keywords.sources(snapshot),
                               snapshot.num_docs if snapshot is not None else 0, {})

    def _catch_up(self) -> None:
        try:
            catch_up(self.keywords, self.store, self.progress, wait=1.0)
        except Exception:  # noqa: BLE001 - a failed catch-up is retried at the next refresh
            log.exception("the keyword index could not follow the store")
            self._generation = None
            return
        # Searches that gave up waiting answer from the new snapshot as soon as it is there.
        self._install_view(self.store.generation())

    # --- keyword statistics --------------------------------------------------------------------
    def idf(self, term: str) -> float:
        """Inverse document frequency of a (stemmed) term over the indexed chunks."""
        if self._view is None:
            self._refresh()  # before the first search there is no keyword index yet
        view = self._view
        cached = view.idf.get(term)
        if cached is None:
            df = self.keywords.doc_freq(view.snapshot, term)
            n_docs = max(view.size, 1)
            cached = float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))
            view.idf[term] = cached
        return cached

    def unknown_names(self, question: str, filters: Filters | None = None) -> list[str]:
        """Specific words of the question that no indexed passage contains (only passages that pass
        ``filters`` count: a word only a document the user may not read holds is unknown to them),
        nor a near spelling of them (a typo of a known word is not a new topic). Near spellings are
        looked for among the indexed words with the same first letter: the whole vocabulary of a
        large library is too long to compare with."""
        self._refresh()
        view = self._view
        if view is None or not view.size:
            return []
        where = self._keyword_filter(filters, view) if filters is not None and filters.active() else None
        unknown = []
        for word, stemmed in specific_words(question):
            if word in unknown or self.keywords.doc_freq(view.snapshot, stemmed, where):
                continue
            near = self.keywords.near_terms(view.snapshot, stemmed[:1])
            close = difflib.get_close_matches(stemmed, near, n=3 if where else 1, cutoff=self.scoring.near_spelling_cutoff)
            if not any(where is None or self.keywords.doc_freq(view.snapshot, term, where) for term in close):
                unknown.append(word)
        return unknown

    def holds(self, word: str, filters: Filters | None = None) -> bool:
        """Whether an indexed passage (one that passes ``filters``) holds the word."""
        self._refresh()
        view = self._view
        if view is None or not view.size:
            return False
        where = self._keyword_filter(filters, view) if filters is not None and filters.active() else None
        return any(self.keywords.doc_freq(view.snapshot, term, where) for term in tokens(word))

    # --- search ------------------------------------------------------------------------------
    def search(self, query: str, k: int, filters: Filters | None = None, mode: Mode = "hybrid",
               query_vector: np.ndarray | None = None) -> list[Hit]:
        self._refresh()
        view = self._view
        if view is None or not view.size:
            return []
        filters = filters or Filters()
        where = self._keyword_filter(filters, view) if filters.active() else None
        if query_vector is None:
            query_vector = self.embedder.encode_query(query)
        dense = self._dense(query_vector, filters, where, view) if mode != "bm25" else []
        terms = tokens(query)
        keyword = []
        if mode != "dense":
            keyword = [hit for hit in self.keywords.search(view.snapshot, terms, self.candidates, where) if hit[1] > 0]
        chunks = {chunk.id: chunk for _, _, chunk in dense if chunk is not None}
        cosine = {chunk_id: similarity for chunk_id, similarity, _ in dense}
        only_keyword = [(chunk_id, row) for chunk_id, _, row in keyword if chunk_id not in cosine]
        if only_keyword:
            rows = [row for _, row in only_keyword]
            similarities = self.keywords.similarities(view.snapshot, rows, query_vector)
            cosine.update(zip([chunk_id for chunk_id, _ in only_keyword], map(float, similarities)))
        bm25 = {chunk_id: score for chunk_id, score, _ in keyword}
        dense_ids = [chunk_id for chunk_id, _, _ in dense]
        keyword_ids = [chunk_id for chunk_id, _, _ in keyword]
        if mode == "hybrid" and self.fusion == "score":
            bm25 |= self.keywords.scores_of(view.snapshot, terms, [i for i in dense_ids if i not in bm25])
        if mode == "dense":
            ranked = [(i, cosine[i]) for i in dense_ids]
        elif mode == "bm25":
            ranked = [(i, bm25[i]) for i in keyword_ids]
        elif self.fusion == "rrf":
            ranked = _rrf([dense_ids, keyword_ids], self.rrf_k)
        else:
            share = self._keyword_share(terms, keyword_ids[0], view) if keyword_ids else 0.0
            ranked = _score_fusion(list(dict.fromkeys(dense_ids + keyword_ids)), cosine, bm25, share)
        return self._hits(ranked, k, chunks, cosine, view)

    def _hits(self, ranked: list[tuple[str, float]], k: int, chunks: dict[str, StoredChunk],
              cosine: dict[str, float], view: _View) -> list[Hit]:
        """The first k of ranked, with their texts: fetched only for the chunks returned. A chunk
        the store no longer holds is either part-way through a change another process has not
        published yet (the store's generation is still this snapshot's: it is answered from the
        snapshot, the index as it was) or removed by a published change (passed over, so a removed
        document is never returned)."""
        hits: list[Hit] = []
        for start in range(0, len(ranked), k):
            window = ranked[start:start + k]
            wanted = [i for i, _ in window if i not in chunks]
            for chunk in self.store.get_chunks(wanted):
                chunks[chunk.id] = chunk
            lost = [i for i in wanted if i not in chunks]
            if lost and view.snapshot is not None and self.store.generation() == view.snapshot.generation:
                chunks |= self.keywords.stored_chunks(view.snapshot, lost)
            hits.extend(hit_from_chunk(chunks[i], score, cosine[i]) for i, score in window if i in chunks)
            if len(hits) >= k:
                break
        return hits[:k]

    def _keyword_filter(self, filters: Filters, view: _View) -> KeywordFilter:
        """The filter in the index's terms, kept for the view: a user's libraries are the same filter
        for all their searches (matching 25,000 paths took 3 ms a search)."""
        key = (tuple(filters.sources or ()), filters.date_from, filters.date_to, filters.allowed)
        found = view.filters.get(key)
        if found is None:
            found = KeywordFilter(
                sources=frozenset(filters.matching(view.sources)) if filters.by_source else None,
                date_from=_date_int(filters.date_from) if filters.date_from else None,
                date_to=_date_int(filters.date_to) if filters.date_to else None)
            if len(view.filters) > 64:
                view.filters.clear()
            view.filters[key] = found
        return found

    def _dense(self, vector: np.ndarray, filters: Filters, where: KeywordFilter | None,
               view: _View) -> list[tuple[str, float, StoredChunk | None]]:
        """(chunk id, cosine, the chunk when the store handed it over) of the nearest chunks."""
        if where is None:
            # Only the published documents: an ingest writes a file's chunks before it publishes
            # the change, and a reader who may read every library the store has published may not
            # read the library a new file joins (nor may anyone, if the run is killed).
            return [(c.id, 1.0 - float(c.distance), c if c.metadata is not None else None)
                    for c in self.store.query(vector, self.candidates)
                    if c.metadata is None or c.metadata.get("source") in view.published]
        # A narrow filter is resolved to its chunks' rows in the local index and searched exactly
        # there (milliseconds); Chroma's own metadata filter scans its table (372 ms at 1M chunks).
        share = self.keywords.count(view.snapshot, where) / max(view.size, 1)
        if share < _OVERFETCH_SHARE:
            nearest = self.keywords.nearest(view.snapshot, vector, where, self.candidates, self.filter_ids_max)
            if nearest is not None:
                return [(chunk_id, similarity, None) for chunk_id, similarity in nearest]
        # Broad, so a good share passes: ask Chroma for the neighbours in which twice
        # _ENOUGH_NEIGHBOURS should pass (at most _OVERFETCH_MAX) and keep those that do; Chroma's
        # own filter only when too few do (the filter's chunks are far from the question).
        wanted = min(int(2 * _ENOUGH_NEIGHBOURS / max(share, 1e-9)), _OVERFETCH_MAX, view.size)
        found = [c for c in self.store.query(vector, wanted) if c.metadata is not None and where.passes(c.metadata)]
        if len(found) < min(self.candidates, _ENOUGH_NEIGHBOURS) and wanted < view.size:
            found = self.store.query(vector, self.candidates, filters.chroma_where(view.sources))
        return [(c.id, 1.0 - float(c.distance), c if c.metadata is not None else None) for c in found[:self.candidates]]

    def _keyword_share(self, terms: list[str], best: str, view: _View) -> float:
        """Weight of the keyword half: grows with the share of the question's IDF-weighted terms
        that the best keyword match contains."""
        low, high = self.scoring.keyword_share
        weights = {t: self.idf(t) for t in set(terms)}
        total = sum(weights.values())
        if not total:
            return low
        held = self.keywords.held(view.snapshot, list(weights), best)
        return low + (high - low) * sum(w for t, w in weights.items() if t in held) / total


def hit_from_chunk(chunk: StoredChunk, score: float = 0.0, similarity: float = 0.0) -> Hit:
    """A stored chunk as answering reads it."""
    meta = chunk.metadata
    return Hit(chunk_id=chunk.id, source=meta.get("source", ""), title=meta.get("title", ""),
               page=meta.get("page") or None, text=chunk.text, score=score, similarity=similarity,
               date=meta.get("date"), start=meta.get("start", 0), end=meta.get("end", 0),
               ocr=bool(meta.get("ocr")))


class _ProgressBar:
    """(done, total) -> a tqdm bar on stderr while a keyword index is first built."""

    def __init__(self):
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=total, unit="chunk", desc="building the keyword index")
        self._bar.update(done - self._bar.n)
        if done >= total:
            self._bar.close()


def _check_model(store: ChromaStore, embedder: Embedder, has_chunks: bool) -> None:
    """Query vectors from another model (or backend) than the index's would rank nonsense."""
    recorded = store.embedding_model()
    if has_chunks and recorded and recorded != embedder.name:
        raise StoreError(f"the index at {store.location} was built with the embedding model "
                         f"'{recorded}', but '{embedder.name}' is configured for queries. Set the "
                         "same model and backend back, or re-index with "
                         "`policy-assistant ingest --reindex PATH...`.")


def _score_fusion(candidates: list[str], cosine: dict[str, float], keyword_scores: dict[str, float],
                  share: float) -> list[tuple[str, float]]:
    """share x BM25 / best BM25 + (1 - share) x cosine / best cosine, over both candidate lists."""
    if not candidates:
        return []
    dense = np.clip(np.array([cosine[i] for i in candidates]), 0.0, None)
    bm25 = np.array([keyword_scores.get(i, 0.0) for i in candidates])
    fused = (share * bm25 / max(float(bm25.max()), 1e-9)
             + (1 - share) * dense / max(float(dense.max()), 1e-9))
    order = np.argsort(-fused, kind="stable")
    return [(candidates[i], float(fused[i])) for i in order]


def _rrf(rankings: list[list[str]], k: int) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, index in enumerate(ranking):
            scores[index] = scores.get(index, 0.0) + 1 / (k + rank + 1)
    return sorted(scores.items(), key=lambda item: -item[1])

