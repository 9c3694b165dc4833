"""The keyword half of retrieval: a Tantivy index on disk, beside (or, with a Chroma server, per
replica) the store, following the store's change log.

Why Tantivy: on the same synthetic library SQLite FTS5 scored every matching row (its ``bm25()``
has no top-k pruning), 397 ms a query at 100k chunks against Tantivy's 1.3 ms
(bench/bench_keyword_engines.py, bench/README.md).

The index is derived data: everything in it can be rebuilt from the store. ``state.json`` says
which store generation it holds; ``catch_up`` applies the store's change log from there (the
files touched at each generation: their keyword documents are replaced by the store's current
chunks), or rebuilds into a new folder and swaps it in when the log does not reach back. Writes are
Tantivy commits (atomic), then state.json (atomic rename): a process killed anywhere leaves an
index that the next catch-up brings level, because replaying a generation is idempotent.

Beside the Tantivy files lies ``vectors.f16``, a half-precision copy of each indexed chunk's vector
(row number in a fast field), read by row with ``pread`` (a memory map counted every page it touched
in the serving process's RSS): a document or date filter is resolved to
its rows in the index and searched exactly over them in milliseconds (Chroma's own ``where`` filter
scans its metadata, 372 ms at 1M chunks), and a keyword match is scored against the question
without a store call. The file is appended to before the commit that refers to its rows, so a
committed entry never points past its end; rows of replaced entries are left until a rebuild.

Readers never wait for a writer: a search uses one Tantivy searcher (one committed snapshot) from
start to end, and the writer takes a file lock without waiting - a process that finds it held
serves the snapshot it has and looks again at its next refresh.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from filelock import FileLock, Timeout

from .chunks import embedding_text
from .store import ChromaStore, StoredChunk

Progress = Callable[[int, int], None]
_BATCH = 5000  # chunks fetched from the store per call while rebuilding
_VECTORS = "vectors.f16"
_MERGE_AT_SEGMENTS = 12
WORN_SLACK = 100_000  # replaced vector rows (77 MB) tolerated before a follower rebuilds compact
_SCHEMA = 3  # bumped when the fields change: an index of another schema is rebuilt


@dataclass(frozen=True)
class KeywordFilter:
    """Which chunks a search may return: sources (full paths) and an inclusive date range as
    YYYYMMDD numbers; undated chunks never pass a date bound."""
    sources: frozenset[str] | tuple[str, ...] | None = None
    date_from: int | None = None
    date_to: int | None = None

    def passes(self, meta: dict) -> bool:
        """Whether a chunk with this store metadata passes (for neighbours Chroma hands over)."""
        if self.sources is not None and meta.get("source") not in self.sources:
            return False
        date = meta.get("date_int")
        if self.date_from is not None and (date is None or date < self.date_from):
            return False
        return self.date_to is None or (date is not None and date <= self.date_to)


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the index: a Tantivy searcher and the vector rows it refers to."""
    searcher: object
    vectors: Path | None  # vectors.f16: rows of ``dim`` float16 values
    generation: int = -1  # the store generation this snapshot holds
    dim: int = 0

    @property
    def num_docs(self) -> int:
        return int(self.searcher.num_docs)

    def rows(self, rows) -> np.ndarray:
        """The vectors at these rows (float32, in the order asked). A file's chunks were appended
        together, so a filter's rows come in long runs: one read a run."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.dim), dtype=np.float32)
        if self.vectors is None or not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        runs = np.split(ordered, np.flatnonzero(np.diff(ordered) != 1) + 1)
        size = 2 * self.dim
        read = np.empty((len(rows), self.dim), dtype=np.float16)
        with open(self.vectors, "rb") as fh:
            at = 0
            for run in runs:
                data = os.pread(fh.fileno(), len(run) * size, int(run[0]) * size)
                read[at:at + len(run)] = np.frombuffer(data, dtype=np.float16).reshape(len(run), self.dim)
                at += len(run)
        out[order] = read
        return out


def chunk_words(title: str, text: str) -> list[str]:
    """What a chunk is found by: the project's tokens of its title and text."""
    from assistant.english import tokens  # the one tokenizer of questions and chunks

    return tokens(embedding_text(title, text))


class KeywordIndex:
    """Cheap to construct; opens the folder on first use."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._index = None
        self._schema_built = None
        self._opened_build: str | None = None
        self._state: dict = {}
        self._lock = threading.Lock()  # one writer per process; the file lock covers other processes
        self._lock_open = threading.Lock()
        # Filter queries and counts, kept for the filters in use (a user's libraries are the same
        # filter for every one of their searches: 25,000 paths took 2.5 ms to build as a query and
        # 15 ms to count at 1M chunks, each search).
        self._filter_queries: dict[KeywordFilter, object] = {}
        self._counts: dict[tuple[int, KeywordFilter], int] = {}

    # --- state ---------------------------------------------------------------------------------
    @property
    def _live(self) -> Path:
        return self.folder / "live"

    @property
    def _state_path(self) -> Path:
        return self.folder / "state.json"

    def state(self) -> dict:
        """What state.json says; empty when the index is missing or of another schema."""
        try:
            state = json.loads(self._state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if state.get("schema") == _SCHEMA else {}

    @property
    def generation(self) -> int | None:
        """The store generation the index holds (None: never built)."""
        value = self.state().get("generation")
        return int(value) if value is not None else None

    def _write_state(self, state: dict) -> None:
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self._state_path)

    # --- reading ---------------------------------------------------------------------------------
    def worn(self) -> bool:
        """Whether vectors.f16 holds as many replaced rows as live ones (a changed file's old rows
        stay until a rebuild), past a slack of WORN_SLACK rows."""
        snapshot = self.searcher()
        if snapshot is None or snapshot.vectors is None:
            return False
        rows = snapshot.vectors.stat().st_size // (2 * snapshot.dim)
        return rows - snapshot.num_docs >= snapshot.num_docs + WORN_SLACK

    @property
    def _schema(self):
        """The fields (built once: queries need it before any index is opened)."""
        if self._schema_built is None:
            self._schema_built = self._schema_of()
        return self._schema_built

    @staticmethod
    def _schema_of():
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("source", tokenizer_name="raw")
        builder.add_integer_field("date", indexed=True, fast=True)
        builder.add_integer_field("row", fast=True)  # the chunk's row in vectors.f16
        # Pre-tokenized words (stemmed, stopwords out): term frequencies for BM25, no positions.
        builder.add_text_field("words", tokenizer_name="whitespace", index_option="freq")
        # What was indexed for the chunk, as a short digest: an index kept up incrementally can be
        # compared with a fresh build, entry by entry (contents()).
        builder.add_text_field("digest", stored=True, tokenizer_name="raw", index_option="basic")
        # The chunk as the store held it at this generation (text and metadata, JSON): a search
        # answers from this snapshot while another process is part-way through changing the store.
        builder.add_bytes_field("chunk", stored=True)
        return builder.build()

    def searcher(self) -> Snapshot | None:
        """The current committed snapshot (reopened when state.json names a newer one)."""
        import tantivy

        state = self.state()
        if not state or not self._live.is_dir():
            return None
        with self._lock_open:
            if self._index is None or self._opened_build != state.get("build"):
                self._index = tantivy.Index(self._schema, path=str(self._live), reuse=True)
                self._opened_build = state.get("build")
            if state != self._state:
                self._index.reload()
                self._state = state
            searcher = self._index.searcher()
            vectors = self._live / _VECTORS
            dim = int(state.get("dim") or 0)
            return Snapshot(searcher, vectors if dim and vectors.exists() else None, int(state["generation"]), dim)

    def search(self, snapshot: Snapshot | None, words: list[str], k: int,
               where: KeywordFilter | None = None) -> list[tuple[str, float, int]]:
        """(chunk id, BM25 score, vector row) of the k best chunks holding any of words, best first."""
        terms = self._terms(words)
        if snapshot is None or not terms:
            return []
        hits = snapshot.searcher.search(self._query(terms, where), k, count=False).hits
        rows = snapshot.searcher.fast_field_values("row", [a for _, a in hits]) if hits else []
        return [(chunk_id, score, row) for (chunk_id, score), row in zip(self._ids(snapshot, hits), rows)]

    def similarities(self, snapshot: Snapshot, rows: list[int], vector: np.ndarray) -> np.ndarray:
        """Cosine of the question's vector with the chunks at rows (vectors are unit length)."""
        if snapshot.vectors is None or not len(rows):
            return np.zeros(len(rows), np.float32)
        return snapshot.rows(rows) @ vector

    def nearest(self, snapshot: Snapshot | None, vector: np.ndarray, where: KeywordFilter, k: int,
                limit: int) -> list[tuple[str, float]] | None:
        """(chunk id, cosine) of the k chunks nearest the vector among those that pass the filter,
        exactly; None when more than limit chunks pass it (too many to search this way)."""
        if snapshot is None or snapshot.vectors is None:
            return []
        passing = self.count(snapshot, where)
        if passing > limit:
            return None  # counted (and kept), not collected: collecting 50,001 of them cost 25 ms
        if not passing:
            return []
        found = snapshot.searcher.search(self._filter_query(where), passing, count=False).hits
        rows = snapshot.searcher.fast_field_values("row", [a for _, a in found])
        cosine = self.similarities(snapshot, rows, vector)
        best = np.argsort(-cosine, kind="stable")[:k]
        return [(snapshot.searcher.doc(found[i][1])["chunk_id"][0], float(cosine[i])) for i in best]

    def count(self, snapshot: Snapshot | None, where: KeywordFilter) -> int:
        """Chunks that pass the filter in this snapshot (kept for the snapshot's generation)."""
        if snapshot is None:
            return 0
        key = (snapshot.generation, id(snapshot.searcher), where)
        found = self._counts.get(key)
        if found is None:
            found = int(snapshot.searcher.search(self._filter_query(where), 1, count=True).count)
            if len(self._counts) > 256:
                self._counts.clear()
            self._counts[key] = found
        return found

    def held(self, snapshot: Snapshot | None, words: list[str], chunk_id: str) -> set[str]:
        """Which of words the chunk's entry holds (one small query a word)."""
        import tantivy

        if snapshot is None:
            return set()
        Query, Occur = tantivy.Query, tantivy.Occur
        only = Query.term_query(self._schema, "chunk_id", chunk_id, index_option="basic")
        return {w for w, t in zip(dict.fromkeys(words), self._terms(words))
                if snapshot.searcher.search(Query.boolean_query([(Occur.Must, only), (Occur.Must, t)]), 1).hits}

    def scores_of(self, snapshot: Snapshot | None, words: list[str], chunk_ids: list[str]) -> dict[str, float]:
        """BM25 score of each of chunk_ids (0 where it holds none of words)."""
        import tantivy

        terms = self._terms(words)
        if snapshot is None or not terms or not chunk_ids:
            return {}
        Query, Occur = tantivy.Query, tantivy.Occur
        only = Query.const_score_query(Query.term_set_query(self._schema, "chunk_id", list(chunk_ids)), 0.0)
        query = Query.boolean_query([(Occur.Must, only)] + [(Occur.Should, t) for t in terms])
        return dict(self._ids(snapshot, snapshot.searcher.search(query, len(chunk_ids), count=False).hits))

    def doc_freq(self, snapshot: Snapshot | None, term: str, where: KeywordFilter | None = None) -> int:
        """Chunks that hold the (stemmed) term; with ``where``, only those that pass it."""
        if snapshot is None:
            return 0
        if where is None:
            return int(snapshot.searcher.doc_freq("words", term))
        import tantivy

        Query, Occur = tantivy.Query, tantivy.Occur
        query = Query.boolean_query([(Occur.Must, self._terms([term])[0]), (Occur.Must, self._filter_query(where))])
        return int(snapshot.searcher.search(query, 1, count=True).count)

    def near_terms(self, snapshot: Snapshot | None, prefix: str, limit: int = 20000) -> list[str]:
        """Indexed words that begin with prefix (the candidates for a near spelling)."""
        if snapshot is None:
            return []
        return [term for term, _ in snapshot.searcher.terms_with_prefix("words", prefix, limit=limit)]

    def sources(self, snapshot: Snapshot | None) -> list[str]:
        if snapshot is None:
            return []
        return sorted(term for term, _ in snapshot.searcher.terms_with_prefix("source", ""))

    def _terms(self, words: Iterable[str]) -> list:
        import tantivy

        return [tantivy.Query.term_query(self._schema, "words", w, index_option="freq")
                for w in dict.fromkeys(words)]

    def _query(self, terms: list, where: KeywordFilter | None):
        import tantivy

        Query, Occur = tantivy.Query, tantivy.Occur
        clauses = [(Occur.Should, t) for t in terms]
        if where is not None:
            # Must: the filter (scoring nothing); Should: the words. A chunk that only passes the
            # filter scores 0 and is dropped by the caller.
            clauses.append((Occur.Must, Query.const_score_query(self._filter_query(where), 0.0)))
        return Query.boolean_query(clauses)

    def _filter_query(self, where: KeywordFilter):
        """The filter as a Tantivy query (every chunk when it sets nothing), built once a filter."""
        query = self._filter_queries.get(where)
        if query is None:
            query = self._build_filter_query(where)
            if len(self._filter_queries) > 64:
                self._filter_queries.clear()
            self._filter_queries[where] = query
        return query

    def _build_filter_query(self, where: KeywordFilter):
        import tantivy

        Query, Occur = tantivy.Query, tantivy.Occur
        parts = []
        if where.sources is not None:
            parts.append(Query.term_set_query(self._schema, "source", list(where.sources) or ["\x00none"]))
        if where.date_from is not None or where.date_to is not None:
            parts.append(Query.range_query(self._schema, "date", tantivy.FieldType.Integer,
                                           where.date_from if where.date_from is not None else 1,
                                           where.date_to if where.date_to is not None else 99991231))
        if not parts:
            return Query.all_query()
        return parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])

    def stored_chunks(self, snapshot: Snapshot | None, chunk_ids: list[str]) -> dict[str, StoredChunk]:
        """The chunks as this snapshot holds them (for those the store no longer holds mid-change)."""
        import tantivy

        if snapshot is None or not chunk_ids:
            return {}
        query = tantivy.Query.term_set_query(self._schema, "chunk_id", list(chunk_ids))
        out = {}
        for _, address in snapshot.searcher.search(query, len(chunk_ids), count=False).hits:
            doc = snapshot.searcher.doc(address)
            stored = json.loads(bytes(doc["chunk"][0]).decode())
            out[doc["chunk_id"][0]] = StoredChunk(doc["chunk_id"][0], stored["text"], stored["meta"])
        return out

    def contents(self, snapshot: Snapshot | None) -> dict[str, str]:
        """Every live entry: chunk id -> digest of its source, date, words and vector (for checks)."""
        import tantivy

        if snapshot is None or not snapshot.num_docs:
            return {}
        searcher = snapshot.searcher
        found = searcher.search(tantivy.Query.all_query(), snapshot.num_docs, count=False).hits
        rows = searcher.fast_field_values("row", [a for _, a in found])
        out = {}
        for (_, address), row in zip(found, rows):
            doc = searcher.doc(address)
            vector = np.round(snapshot.rows([row])[0], 2).tobytes()
            out[doc["chunk_id"][0]] = doc["digest"][0] + hashlib.sha256(vector).hexdigest()[:8]
        return out

    @staticmethod
    def _ids(snapshot: Snapshot, hits) -> list[tuple[str, float]]:
        return [(snapshot.searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits]

    # --- writing ---------------------------------------------------------------------------------
    def writer_lock(self) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.folder / "write.lock"))

    def _document(self, chunk: StoredChunk, row: int):
        import tantivy

        meta = chunk.metadata
        source, date = meta.get("source", ""), int(meta.get("date_int") or 0)
        words = " ".join(chunk_words(meta.get("title", ""), chunk.text))
        digest = hashlib.sha256(f"{source}\n{date}\n{words}".encode()).hexdigest()[:16]
        stored = json.dumps({"text": chunk.text, "meta": meta}, ensure_ascii=False).encode()
        return tantivy.Document(chunk_id=chunk.id, source=source, date=date, row=row, words=words, digest=digest,
                                chunk=stored)

    @staticmethod
    def _append_vectors(path: Path, chunks: list[StoredChunk], dim: int) -> int:
        """Append the chunks' vectors to path; the row of the first. Flushed to disk before the
        commit that refers to them."""
        rows = np.asarray([c.vector for c in chunks], dtype=np.float16).reshape(len(chunks), dim)
        with path.open("ab") as fh:
            first = fh.tell() // (2 * dim)
            fh.truncate(first * 2 * dim)  # a half row left by a killed writer is cut off
            fh.seek(first * 2 * dim)
            fh.write(rows.tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        return first

    def apply(self, generation: int, sources: list[str], chunks: list[StoredChunk]) -> None:
        """Replace the keyword documents of sources with chunks (the store's chunks of those
        sources now, with their vectors), in one commit, and record generation. Caller holds the
        writer lock."""
        self.searcher()
        dim = int(self.state().get("dim") or 0) or (len(chunks[0].vector) if chunks else 0)
        first = self._append_vectors(self._live / _VECTORS, chunks, dim) if chunks else 0
        writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        for source in sources:
            writer.delete_documents_by_term("source", source)
        for offset, chunk in enumerate(chunks):
            writer.add_document(self._document(chunk, first + offset))
        writer.commit()
        if self._index.searcher().num_segments > _MERGE_AT_SEGMENTS:
            # Each small change adds a segment; waiting for Tantivy's merges after every one cost
            # seconds at a million chunks, so they are waited for once segments pile up.
            writer.wait_merging_threads()
        del writer  # releases Tantivy's writer lock now
        self._write_state(self.state() | {"generation": generation, "dim": dim})

    def rebuild(self, generation: int, chunks: Iterable[list[StoredChunk]], total: int,
                progress: Progress | None = None) -> None:
        """A whole new index from the store's chunks, built beside the live one and swapped in; the
        live one answers until then. Caller holds the writer lock."""
        import tantivy

        fresh = self.folder / "building"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        index = tantivy.Index(self._schema_of(), path=str(fresh))
        writer = index.writer(heap_size=256_000_000, num_threads=min(2, os.cpu_count() or 1))
        done, dim = 0, 0
        if progress:
            progress(0, total)
        for batch in chunks:
            if not batch:
                continue
            dim = dim or len(batch[0].vector)
            first = self._append_vectors(fresh / _VECTORS, batch, dim)
            for offset, chunk in enumerate(batch):
                writer.add_document(self._document(chunk, first + offset))
            done += len(batch)
            if progress:
                progress(done, total)
        writer.commit()
        writer.wait_merging_threads()
        build = f"{generation}-{os.getpid()}-{threading.get_ident()}-{os.urandom(3).hex()}"
        old = self.folder / f"old-{build}"
        if self._live.exists():
            os.replace(self._live, old)
        os.replace(fresh, self._live)
        self._write_state({"generation": generation, "build": build, "schema": _SCHEMA, "dim": dim})
        shutil.rmtree(old, ignore_errors=True)  # open readers keep their mapped files until they reopen
        for stale in self.folder.glob("old-*"):
            shutil.rmtree(stale, ignore_errors=True)


def catch_up(keywords: KeywordIndex, store: ChromaStore, progress: Progress | None = None,
             wait: float = 0.0) -> bool:
    """Bring the keyword index level with the store: replay the change log, or rebuild. False when
    another process or thread holds the writer lock (the caller serves what it has)."""
    generation = store.generation()
    if keywords.generation == generation and keywords.searcher() is not None:
        return True
    try:
        with keywords._lock if wait else _try(keywords._lock), keywords.writer_lock().acquire(timeout=wait):
            applied = keywords.generation
            if applied == generation and keywords.searcher() is not None:
                return True
            changed = store.changes_between(applied, generation) if applied is not None else None
            if changed is not None and keywords.worn():
                changed = None  # replaced rows outnumber the live ones: build it compact instead
            if changed is None:
                total = store.count()
                keywords.rebuild(generation, store.chunk_batches(_BATCH), total, progress)
            else:
                records = store.file_records(changed)
                ids = [cid for record in records for cid in record.chunk_ids]
                keywords.apply(generation, changed, store.get_chunks(ids, vectors=True))
            return True
    except (Timeout, _Busy):
        return False


class _Busy(Exception):
    pass


class _try:
    """``with _try(lock)``: take a threading lock without waiting, or raise _Busy."""

    def __init__(self, lock: threading.Lock):
        self.lock = lock

    def __enter__(self):
        if not self.lock.acquire(blocking=False):
            raise _Busy
        return self

    def __exit__(self, *exc):
        self.lock.release()
