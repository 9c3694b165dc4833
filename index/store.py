"""The index: chunk vectors and texts in one Chroma collection, the file manifest in a second.

Both live in the same Chroma (embedded PersistentClient or a server over HttpClient), so a team
that moves to a Chroma server moves everything at once. We always pass our own vectors: Chroma's
default embedding function would try to download a model.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import urlparse

from .chunks import Chunk
from .settings import Settings


class StoreError(Exception):
    """The store cannot be used as asked; the message says what to do."""


class StoreMissing(StoreError):
    """No index where one was expected."""


class StoreDamaged(StoreError):
    """The index files are there but are not an index."""


class StoreUnavailable(StoreError):
    """The Chroma server cannot be reached."""


@dataclass
class FileRecord:
    source: str
    hash: str
    chunk_ids: list[str]
    title: str = ""
    date: str | None = None
    doc_type: str = ""
    pages: int = 0
    ingested_at: float = field(default_factory=time.time)
    date_note: str = ""  # a day the text states without a year ("29 October"), when there is no date
    facts: str = ""  # DocumentFacts as JSON (index/facts.py)
    fingerprint: str = ""  # the text's MinHash as JSON, for finding other versions
    chunk_count: int = 0  # when read without its chunk ids (manifest(chunk_ids=False))
    library: str = ""  # who may read it (settings.libraries); read back as the default library when unset

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_ids) or self.chunk_count

    def metadata(self) -> dict:
        meta = {"source": self.source, "hash": self.hash, "title": self.title,
                "doc_type": self.doc_type, "pages": self.pages, "chunks": self.n_chunks,
                "ingested_at": self.ingested_at}
        if self.date:
            meta["date"] = self.date
        if self.date_note:
            meta["date_note"] = self.date_note
        if self.facts:
            meta["facts"] = self.facts
        if self.fingerprint:
            meta["fingerprint"] = self.fingerprint
        if self.library:
            meta["library"] = self.library
        return meta


@dataclass
class StoredChunk:
    id: str
    text: str
    metadata: dict
    distance: float | None = None
    vector: object = None  # numpy row, when asked for


_MAX_BATCH = 2000
_WRITES_IN_PROCESS: dict[str, int] = {}
# This process's view of an embedded store folder. Chroma keeps one in-memory system per folder and
# process, loaded when the folder is first opened: another process's writes reach its SQLite half
# at once but not its vectors ("Error finding id"). _SEEN_GENERATION is the generation that view
# holds; _EPOCH moves when the view is dropped, and every store object then reopens its client.
_SEEN_GENERATION: dict[str, int] = {}
_EPOCH: dict[str, int] = {}
_META_ID = "__store_meta__"
# Generations of change log kept: a replica further behind rebuilds its keyword index.
_CHANGE_LOG_KEEP = 10_000


class ChromaStore:
    """Cheap to construct; connects on first use."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = None
        self._epoch = 0
        self._chunks = None
        self._files = None

    # --- connection ----------------------------------------------------------------------------
    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.store)

    def require_index(self) -> None:
        """For readers: an embedded store folder without an index is an error that names the folder,
        and nothing is created there (a mistyped --store must not become an empty index)."""
        if self.settings.chroma_url:
            return
        database = self._database
        if not database.exists():
            raise StoreMissing(f"no index at {self.settings.store}: ingest documents into it first "
                               f"(policy-assistant ingest FOLDER --store {self.settings.store}), or pass the right --store")
        self._check_database(database)

    def check_existing(self) -> None:
        """For writers: an embedded index already in the folder must be sound before anything (the
        ingest lock file included) is written beside it."""
        if not self.settings.chroma_url and self._database.is_file():
            self._check_database(self._database)

    @property
    def _database(self) -> Path:
        """The embedded index's SQLite file."""
        return Path(self.settings.store) / "chroma.sqlite3"

    def _check_database(self, database: Path) -> None:
        """A damaged index is an error, never an empty one: a zero-byte or foreign chroma.sqlite3
        would otherwise open as a new, empty database and answer nothing (or be rebuilt from corpus/)."""
        try:
            with database.open("rb") as fh:
                header = fh.read(16)
        except OSError as exc:
            raise StoreError(f"cannot read the index at {self.settings.store}: {exc.strerror or exc}") from None
        if header != b"SQLite format 3\x00":
            size = database.stat().st_size
            raise StoreDamaged(f"the index at {self.settings.store} is damaged: chroma.sqlite3 is not a database "
                               f"({size:,} bytes). Restore it from a backup, or move the folder aside and rebuild "
                               "it with policy-assistant ingest --reindex FOLDER...")

    def _connect(self):
        if self._client is not None and (self.settings.chroma_url or self._epoch == _EPOCH.get(self.location, 0)):
            return
        self._client = self._chunks = self._files = None
        self._epoch = _EPOCH.get(self.location, 0)
        import chromadb

        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        if not self.settings.chroma_url and self._database.is_file():
            self._check_database(self._database)
        try:
            if self.settings.chroma_url:
                url = urlparse(self.settings.chroma_url)
                client = self._bounded(lambda: _answering(chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https", settings=chroma_settings)))
            else:
                self.settings.store.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(self.settings.store), settings=chroma_settings)
            self._chunks, self._files = self._bounded(lambda: (
                client.get_or_create_collection(self.settings.collection, metadata={"hnsw:space": "cosine"},
                                                embedding_function=None),
                client.get_or_create_collection(f"{self.settings.collection}_files", embedding_function=None)))
        except StoreUnavailable:
            self._client = None
            raise
        except Exception as exc:
            self._client = self._chunks = self._files = None
            if self.settings.chroma_url:
                raise StoreUnavailable(
                    f"cannot reach the Chroma server at {self.settings.chroma_url}: {_reason(exc)}") from exc
            raise StoreError(f"cannot open the store at {self.settings.store}: {_reason(exc)}") from exc
        self._client = client
        if not self.settings.chroma_url and self.location not in _SEEN_GENERATION:
            _SEEN_GENERATION[self.location] = self.generation()

    def follow_other_writers(self, generation: int) -> bool:
        """Whether this process sees the store at ``generation`` (just read from it). For an embedded
        store that another process has changed since this process opened it, reopen it first; while
        that process still holds the ingest lock, say no and leave the view as it was."""
        if self.settings.chroma_url:
            return True
        if generation == _SEEN_GENERATION.get(self.location, generation):
            return True
        if _locked_elsewhere(self.settings.lock_path):
            return False
        _forget_chroma_system(str(self.settings.store))
        _EPOCH[self.location] = _EPOCH.get(self.location, 0) + 1
        _SEEN_GENERATION[self.location] = generation
        self._connect()
        return True

    def reconnect(self) -> None:
        self._client = self._chunks = self._files = None
        self._connect()

    def _call(self, fn):
        """Run fn(chunks, files); after a dropped server connection, or collections that another
        store object re-created (``--reindex``), reconnect once and retry."""
        self._connect()
        try:
            return self._bounded(lambda: fn(self._chunks, self._files))
        except StoreUnavailable:
            raise
        except Exception as exc:
            if not self.settings.chroma_url and not _stale_collection(exc):
                raise
            self.reconnect()
            try:
                return self._bounded(lambda: fn(self._chunks, self._files))
            except StoreUnavailable:
                raise
            except Exception as again:
                if not self.settings.chroma_url:
                    raise
                raise StoreUnavailable(f"the Chroma server at {self.settings.chroma_url} failed: "
                                       f"{_reason(again)}") from exc

    def _bounded(self, fn):
        """fn() for the embedded store; for a server, fn() within chroma_timeout_s or StoreUnavailable.
        Chroma's HTTP client waits forever (httpx timeout=None, fixed in chromadb 1.5), so a server
        call runs on a daemon thread, which a hung server keeps but which never holds up exit."""
        if not self.settings.chroma_url:
            return fn()
        outcome: dict = {}

        def run():
            try:
                outcome["value"] = fn()
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="chroma-server-call", daemon=True)
        worker.start()
        worker.join(self.settings.chroma_timeout_s)
        if worker.is_alive():
            raise StoreUnavailable(f"the Chroma server at {self.settings.chroma_url} did not answer within "
                                   f"{self.settings.chroma_timeout_s:g} s (POLICY_ASSISTANT_CHROMA_TIMEOUT_S)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    # --- meta ----------------------------------------------------------------------------------
    def _meta(self) -> dict:
        got = self._call(lambda chunks, files: files.get(ids=[_META_ID], include=["documents"]))
        return json.loads(got["documents"][0]) if got["ids"] else {}

    def _write_meta(self, meta: dict) -> None:
        self._call(lambda chunks, files: files.upsert(
            ids=[_META_ID], embeddings=[[0.0]], documents=[json.dumps(meta)],
            metadatas=[{"kind": "meta"}]))

    def embedding_model(self) -> str | None:
        return self._meta().get("embedding_model")

    def ensure_model(self, model_name: str) -> None:
        """Refuse to mix vectors of two models in one index."""
        meta = self._meta()
        recorded = meta.get("embedding_model")
        if recorded and recorded != model_name and self.count() > 0:
            raise StoreError(
                f"the index at {self.location} was built with the embedding model '{recorded}', "
                f"but '{model_name}' is configured. Re-index with "
                "`policy-assistant ingest --reindex PATH...` (or set the old model back).")
        if recorded != model_name:
            meta["embedding_model"] = model_name
            self._write_meta(meta)

    def generation(self) -> int:
        """Bumped by every change, so readers know when to rebuild their keyword index."""
        return int(self._meta().get("generation", 0))

    def begin_change(self, sources: list[str]) -> None:
        """Write ahead, before any chunk or manifest write: the files about to change, under the
        generation the change will be published as. Replicas read this change log to update their
        keyword indexes with only the changed files' chunks. An entry left by a run that was killed
        before it published is merged into the next run's, so its files are never missed."""
        if not sources:
            return
        entry = _change_id(self.generation() + 1)
        got = self._call(lambda chunks, files: files.get(ids=[entry], include=["documents"]))
        known = json.loads(got["documents"][0]) if got["ids"] else []
        merged = list(dict.fromkeys(known + list(sources)))
        self._call(lambda chunks, files: files.upsert(
            ids=[entry], embeddings=[[0.0]], documents=[json.dumps(merged)], metadatas=[{"kind": "change"}]))

    def changes_between(self, applied: int, generation: int) -> list[str] | None:
        """The files changed after generation ``applied`` up to ``generation``, from the change log;
        None when the log does not reach back that far (a reset, or entries pruned): rebuild."""
        if generation < applied or generation - applied > _CHANGE_LOG_KEEP:
            return None
        ids = [_change_id(g) for g in range(applied + 1, generation + 1)]
        if not ids:
            return []
        got = self._call(lambda chunks, files: files.get(ids=ids, include=["documents"]))
        if len(got["ids"]) != len(ids):
            return None
        return list(dict.fromkeys(s for doc in got["documents"] for s in json.loads(doc)))

    def bump_generation(self, libraries: dict[str, int] | None = None) -> None:
        """Publish the change begun with begin_change; ``libraries``: how many files each library
        now holds (read by ``libraries()``)."""
        meta = self._meta()
        meta["generation"] = int(meta.get("generation", 0)) + 1
        if libraries is not None:
            meta["libraries"] = {name: n for name, n in libraries.items() if n}
        self._write_meta(meta)
        stale = meta["generation"] - _CHANGE_LOG_KEEP
        if stale > 0 and stale % 100 == 0:  # prune the log now and then, in one call
            old = [_change_id(g) for g in range(max(stale - 100, 1), stale)]
            self._call(lambda chunks, files: files.delete(ids=old))
        _WRITES_IN_PROCESS[self.location] = _WRITES_IN_PROCESS.get(self.location, 0) + 1
        _SEEN_GENERATION[self.location] = meta["generation"]  # this process's own writes are in its view

    def libraries(self) -> set[str] | None:
        """The libraries that hold documents, recorded with each change (one small read: a user who
        reads all of them needs no filter); None for a store from before libraries."""
        recorded = self._meta().get("libraries")
        return set(recorded) if recorded is not None else None

    def writes_in_process(self) -> int:
        """Changes this process made to this store: readers here see them at once, without
        waiting for their next look at the shared generation counter."""
        return _WRITES_IN_PROCESS.get(self.location, 0)

    def reset(self) -> None:
        """Drop everything (used by --reindex). The generation keeps counting up, so readers
        holding the old index see a change even when the new one reaches the same count."""
        generation = self.generation()
        self._connect()
        for name in (self.settings.collection, f"{self.settings.collection}_files"):
            try:
                self._client.delete_collection(name)
            except Exception:
                pass
        self._client = None
        self._write_meta({"generation": generation + 1})
        _SEEN_GENERATION[self.location] = generation + 1

    # --- manifest ------------------------------------------------------------------------------
    def manifest(self, chunk_ids: bool = True) -> dict[str, FileRecord]:
        """Every file's record; without ``chunk_ids`` from the metadata alone (the id lists are most
        of a large library's manifest: a million ids took seconds to read for a one-file ingest)."""
        include = ["metadatas", "documents"] if chunk_ids else ["metadatas"]
        got = self._file_rows(include)
        docs = got["documents"] if chunk_ids else [None] * len(got["metadatas"])
        return {meta["source"]: _record(meta, doc, self.settings.default_library)
                for meta, doc in zip(got["metadatas"], docs)}

    def _file_rows(self, include: list[str]) -> dict[str, list]:
        """Every file record, read a page at a time: one read of 25,000 records left the embedded
        store's native memory 400 MB larger at each call (1M chunks; paged: 60 MB, once). A change
        published while the pages are read (the generation moved) means reading them again."""
        for _ in range(3):
            generation = self.generation()
            got: dict[str, list] = {key: [] for key in include}
            offset = 0
            while True:
                page = self._call(lambda chunks, files: files.get(where={"kind": "file"}, include=include,
                                                                  limit=_MAX_BATCH, offset=offset))
                for key in include:
                    got[key].extend(page[key])
                offset += _MAX_BATCH
                if len(page[include[0]]) < _MAX_BATCH:
                    break
            if self.generation() == generation:
                break
        return got

    def file_facts(self, sources: list[str] | None = None) -> dict:
        """source -> DocumentFacts of every file (or of ``sources``), from the manifest's metadata
        alone (not the chunk id lists, which are most of its size)."""
        from .facts import DocumentFacts

        if sources is not None:
            ids = [_file_id(s) for s in dict.fromkeys(sources)]
            got = self._call(lambda chunks, files: files.get(ids=ids, include=["metadatas"])) if ids else {"metadatas": []}
        else:
            got = self._file_rows(["metadatas"])
        out = {}
        for meta in got["metadatas"]:
            facts = DocumentFacts.from_json(meta.get("facts"))
            facts.title = facts.title or meta.get("title", "")
            facts.published = facts.published or meta.get("date")
            facts.library = meta.get("library") or self.settings.default_library
            out[meta["source"]] = facts
        return out

    def file_records(self, sources: list[str]) -> list[FileRecord]:
        """The manifest records of these files (those that have one)."""
        records = []
        for start in range(0, len(sources), _MAX_BATCH):
            ids = [_file_id(s) for s in sources[start:start + _MAX_BATCH]]
            got = self._call(lambda chunks, files: files.get(ids=ids, include=["metadatas", "documents"]))
            records.extend(_record(meta, doc, self.settings.default_library)
                           for meta, doc in zip(got["metadatas"], got["documents"]))
        return records

    def forget_file(self, source: str) -> None:
        self.forget_files([source])

    def forget_files(self, sources: list[str]) -> None:
        # One call for many files: each Chroma write costs ~50 ms here whatever its size.
        for start in range(0, len(sources), _MAX_BATCH):
            ids = [_file_id(s) for s in sources[start:start + _MAX_BATCH]]
            self._call(lambda chunks, files: files.delete(ids=ids))

    def record_file(self, record: FileRecord) -> None:
        self.record_files([record])

    def record_files(self, records: list[FileRecord]) -> None:
        for start in range(0, len(records), _MAX_BATCH):
            part = records[start:start + _MAX_BATCH]
            self._call(lambda chunks, files: files.upsert(
                ids=[_file_id(r.source) for r in part], embeddings=[[0.0]] * len(part),
                documents=[json.dumps(r.chunk_ids) for r in part],
                metadatas=[r.metadata() | {"kind": "file"} for r in part]))

    # --- chunks --------------------------------------------------------------------------------
    def count(self) -> int:
        return self._call(lambda chunks, files: chunks.count())

    def add_chunks(self, chunks_in: list[Chunk], vectors) -> None:
        for start in range(0, len(chunks_in), _MAX_BATCH):
            part = chunks_in[start:start + _MAX_BATCH]
            vecs = vectors[start:start + _MAX_BATCH]
            self._call(lambda chunks, files: chunks.upsert(
                ids=[c.id for c in part], embeddings=[list(map(float, v)) for v in vecs],
                documents=[c.text for c in part], metadatas=[c.metadata() for c in part]))

    def delete_source(self, source: str) -> None:
        self._call(lambda chunks, files: chunks.delete(where={"source": source}))

    def delete_sources(self, sources: list[str]) -> None:
        for start in range(0, len(sources), _MAX_BATCH):
            part = sources[start:start + _MAX_BATCH]
            self._call(lambda chunks, files: chunks.delete(where={"source": {"$in": part}}))

    def delete_ids(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), _MAX_BATCH):
            part = ids[start:start + _MAX_BATCH]
            self._call(lambda chunks, files: chunks.delete(ids=part))

    def all_chunks(self, include_text: bool = True) -> list[StoredChunk]:
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        out: list[StoredChunk] = []
        total = self.count()
        for offset in range(0, total, 5000):
            got = self._call(lambda chunks, files: chunks.get(include=include, limit=5000, offset=offset))
            docs = got["documents"] or [""] * len(got["ids"])
            out.extend(StoredChunk(i, d or "", m or {}) for i, d, m in zip(got["ids"], docs, got["metadatas"]))
        return out

    def all_vectors(self, ids: list[str]):
        """Stored vectors for ids, in that order (float32 matrix)."""
        import numpy as np

        rows: dict[str, list[float]] = {}
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            got = self._call(lambda chunks, files: chunks.get(ids=part, include=["embeddings"]))
            rows.update(zip(got["ids"], got["embeddings"]))
        return np.asarray([rows[i] for i in ids], dtype=np.float32)

    def get_chunks(self, ids: list[str], vectors: bool = False) -> list[StoredChunk]:
        """The chunks with these ids that the store holds, in that order (with their vectors when
        asked: the keyword half's candidates are scored against the question by id)."""
        ids = list(dict.fromkeys(ids))
        out: list[StoredChunk] = []
        include = ["metadatas", "documents"] + (["embeddings"] if vectors else [])
        for start in range(0, len(ids), _MAX_BATCH):
            part = ids[start:start + _MAX_BATCH]
            got = self._call(lambda chunks, files: chunks.get(ids=part, include=include))
            rows = zip(got["ids"], got["documents"], got["metadatas"],
                       got["embeddings"] if vectors else [None] * len(got["ids"]))
            by_id = {i: StoredChunk(i, d, m, vector=v) for i, d, m, v in rows if m is not None}
            out.extend(by_id[i] for i in part if i in by_id)
        return out

    def chunk_batches(self, size: int) -> Iterator[list[StoredChunk]]:
        """Every chunk a manifest record owns with its vector, a batch at a time (a keyword index is rebuilt from
        these; chunks of a file a killed run left without a record are not part of the index)."""
        ids = [cid for record in self.manifest().values() for cid in record.chunk_ids]
        for start in range(0, len(ids), size):
            yield self.get_chunks(ids[start:start + size], vectors=True)

    def query(self, vector, k: int, where: dict | None = None, ids: list[str] | None = None) -> list[StoredChunk]:
        """The k nearest chunks, among ``ids`` when given (a filter resolved by the keyword index:
        Chroma's own ``where`` filter scans its metadata table, 372 ms at 1M chunks)."""
        def run(chunks, files):
            return chunks.query(query_embeddings=[list(map(float, vector))], n_results=k, where=where,
                                ids=ids, include=["metadatas", "documents", "distances"])
        if ids is not None and not ids:
            return []
        got = self._call(run)
        # A vector whose record another process has just deleted comes back with metadata None (an
        # embedded store's view of its vectors lags behind another process's writes); the caller decides.
        return [StoredChunk(i, d, m, dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]


class GenerationWatch:
    """When a reader looks at the store's generation again: at once after a write in this process,
    otherwise at most once every ``every_s`` seconds (a look is a store call, and every question
    would make several)."""

    def __init__(self, store: ChromaStore, every_s: float = 1.0):
        self.store, self.every_s = store, every_s
        self._writes: int | None = None
        self._looked_at = 0.0

    def look(self, force: bool = False) -> int | None:
        """The store's generation when it is time to look; None until then."""
        now, writes = time.monotonic(), self.store.writes_in_process()
        if not force and writes == self._writes and now - self._looked_at < self.every_s:
            return None
        self._writes, self._looked_at = writes, now
        return self.store.generation()


def _record(meta: dict, doc: str | None, default_library: str) -> FileRecord:
    """A manifest record; one from a store made before libraries is in the default library."""
    return FileRecord(source=meta["source"], hash=meta["hash"], chunk_ids=json.loads(doc) if doc else [],
                      chunk_count=int(meta.get("chunks") or 0),
                      title=meta.get("title", ""), date=meta.get("date"), doc_type=meta.get("doc_type", ""),
                      pages=meta.get("pages", 0), ingested_at=meta.get("ingested_at", 0.0),
                      date_note=meta.get("date_note", ""), facts=meta.get("facts", ""),
                      fingerprint=meta.get("fingerprint", ""), library=meta.get("library") or default_library)


def _change_id(generation: int) -> str:
    return f"change-{generation:012d}"


def _file_id(source: str) -> str:
    import hashlib

    return "file-" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:40]


def _locked_elsewhere(lock_path) -> bool:
    """Whether an ingest elsewhere holds the store's lock (flock: another open of the file, be it in
    another process or another thread here, conflicts)."""
    from filelock import FileLock, Timeout

    if not lock_path.parent.is_dir():
        return False
    probe = FileLock(str(lock_path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


def _forget_chroma_system(folder: str) -> None:
    """Drop Chroma's in-memory system for one folder, so the next client of it loads the folder
    afresh. Chroma has no public call for one folder (clear_system_cache() drops every folder's and
    breaks the other stores of this process); clients already open keep the old system until they
    reconnect, which the epoch makes them do before their next call."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(folder, None)


def _answering(client):
    client.heartbeat()
    return client


def _stale_collection(exc: Exception) -> bool:
    """The collection this object holds was deleted (and maybe re-created) by someone else."""
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or "does not exist" in str(exc)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]

