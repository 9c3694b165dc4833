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

from filelock import FileLock, Timeout

from .chunks import embedding_text
from .store import ChromaStore, StoredChunk

Progress = Callable[[int, int], None]
_BATCH = 5000  # chunks fetched from the store per call while rebuilding
_SCHEMA = 1  # bumped when the fields change: an index of another schema is rebuilt


@dataclass(frozen=True)
class KeywordFilter:
    """Which chunks a search may return: sources (full paths) and an inclusive date range as
    YYYYMMDD numbers; undated chunks never pass a date bound."""
    sources: tuple[str, ...] | None = None
    date_from: int | None = None
    date_to: int | None = None


def chunk_words(title: str, text: str) -> list[str]:
    """What a chunk is found by: the project's tokens of its title and text."""
    from assistant.english import tokens  # the one tokenizer of questions and chunks

    return tokens(embedding_text(title, text))


class KeywordIndex:
    """Cheap to construct; opens the folder on first use."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._index = None
        self._schema = None
        self._opened_build: str | None = None
        self._state: dict = {}
        self._lock = threading.Lock()  # one writer per process; the file lock covers other processes

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
    def _schema_of(self):
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("source", tokenizer_name="raw")
        builder.add_integer_field("date", indexed=True, fast=True)
        # Pre-tokenized words (stemmed, stopwords out): term frequencies for BM25, no positions.
        builder.add_text_field("words", tokenizer_name="whitespace", index_option="freq")
        # What was indexed for the chunk, as a short digest: an index kept up incrementally can be
        # compared with a fresh build, entry by entry (contents()).
        builder.add_text_field("digest", stored=True, tokenizer_name="raw", index_option="basic")
        return builder.build()

    def searcher(self):
        """The current committed snapshot (reopened when state.json names a newer one)."""
        import tantivy

        state = self.state()
        if not state or not self._live.is_dir():
            return None
        if self._index is None or self._opened_build != state.get("build"):
            self._schema = self._schema_of()
            self._index = tantivy.Index(self._schema, path=str(self._live), reuse=True)
            self._opened_build = state.get("build")
        if state != self._state:
            self._index.reload()
            self._state = state
        return self._index.searcher()

    def search(self, searcher, words: list[str], k: int, where: KeywordFilter | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the k best chunks holding any of words, best first."""
        terms = self._terms(words)
        if searcher is None or not terms:
            return []
        query = self._query(terms, where)
        return self._ids(searcher, searcher.search(query, k, count=False).hits)

    def scores_of(self, searcher, words: list[str], chunk_ids: list[str]) -> dict[str, float]:
        """BM25 score of each of chunk_ids (0 where it holds none of words)."""
        import tantivy

        terms = self._terms(words)
        if searcher is None or not terms or not chunk_ids:
            return {}
        Query, Occur = tantivy.Query, tantivy.Occur
        only = Query.const_score_query(Query.term_set_query(self._schema, "chunk_id", list(chunk_ids)), 0.0)
        query = Query.boolean_query([(Occur.Must, only)] + [(Occur.Should, t) for t in terms])
        return dict(self._ids(searcher, searcher.search(query, len(chunk_ids), count=False).hits))

    def matching_ids(self, searcher, where: KeywordFilter, limit: int) -> list[str] | None:
        """The ids of the chunks that pass the filter, or None when more than limit do."""
        import tantivy

        if searcher is None:
            return []
        query = self._filter_query(where) or tantivy.Query.all_query()
        found = searcher.search(query, limit + 1, count=False).hits
        if len(found) > limit:
            return None
        return [chunk_id for chunk_id, _ in self._ids(searcher, found)]

    def doc_freq(self, searcher, term: str) -> int:
        return int(searcher.doc_freq("words", term)) if searcher is not None else 0

    def near_terms(self, searcher, prefix: str, limit: int = 20000) -> list[str]:
        """Indexed words that begin with prefix (the candidates for a near spelling)."""
        if searcher is None:
            return []
        return [term for term, _ in searcher.terms_with_prefix("words", prefix, limit=limit)]

    def sources(self, searcher) -> list[str]:
        if searcher is None:
            return []
        return sorted(term for term, _ in searcher.terms_with_prefix("source", ""))

    def _terms(self, words: Iterable[str]) -> list:
        import tantivy

        if self._schema is None:
            self._schema = self._schema_of()
        return [tantivy.Query.term_query(self._schema, "words", w, index_option="freq")
                for w in dict.fromkeys(words)]

    def _query(self, terms: list, where: KeywordFilter | None):
        import tantivy

        Query, Occur = tantivy.Query, tantivy.Occur
        clauses = [(Occur.Should, t) for t in terms]
        limit = self._filter_query(where) if where else None
        if limit is not None:
            # Must: the filter (scoring nothing); Should: the words. A chunk that only passes the
            # filter scores 0 and is dropped by the caller.
            clauses.append((Occur.Must, Query.const_score_query(limit, 0.0)))
            return Query.boolean_query(clauses)
        return Query.boolean_query(clauses)

    def _filter_query(self, where: KeywordFilter):
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
            return None
        return parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])

    def contents(self, searcher) -> dict[str, str]:
        """Every live entry: chunk id -> digest of its source, date and words (for checks)."""
        import tantivy

        if searcher is None or not searcher.num_docs:
            return {}
        found = searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False).hits
        return {doc["chunk_id"][0]: doc["digest"][0] for doc in (searcher.doc(a) for _, a in found)}

    @staticmethod
    def _ids(searcher, hits) -> list[tuple[str, float]]:
        return [(searcher.doc(address)["chunk_id"][0], float(score)) for score, address in hits]

    # --- writing ---------------------------------------------------------------------------------
    def writer_lock(self) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.folder / "write.lock"))

    def _document(self, chunk: StoredChunk):
        import tantivy

        meta = chunk.metadata
        source, date = meta.get("source", ""), int(meta.get("date_int") or 0)
        words = " ".join(chunk_words(meta.get("title", ""), chunk.text))
        digest = hashlib.sha256(f"{source}\n{date}\n{words}".encode()).hexdigest()[:16]
        return tantivy.Document(chunk_id=chunk.id, source=source, date=date, words=words, digest=digest)

    def apply(self, generation: int, sources: list[str], chunks: list[StoredChunk]) -> None:
        """Replace the keyword documents of sources with chunks (the store's chunks of those
        sources now), in one commit, and record generation. Caller holds the writer lock."""
        self.searcher()
        writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        for source in sources:
            writer.delete_documents_by_term("source", source)
        for chunk in chunks:
            writer.add_document(self._document(chunk))
        writer.commit()
        writer.wait_merging_threads()
        self._write_state(self.state() | {"generation": generation})

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
        done = 0
        if progress:
            progress(0, total)
        for batch in chunks:
            for chunk in batch:
                writer.add_document(self._document(chunk))
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
        self._write_state({"generation": generation, "build": build, "schema": _SCHEMA})
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
            if changed is None:
                total = store.count()
                keywords.rebuild(generation, store.chunk_batches(_BATCH), total, progress)
            else:
                records = store.file_records(changed)
                ids = [cid for record in records for cid in record.chunk_ids]
                keywords.apply(generation, changed, store.get_chunks(ids))
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
