"""ingest.run(paths, settings): files -> pages -> chunks -> vectors -> store, incrementally.

Crash safety comes from the order of writes for each file (each step done for a batch of files at
once): forget its manifest record, delete its old chunks, add the new ones, then record it. A run
killed anywhere leaves at worst a file with no manifest record, which the next run re-ingests;
chunks whose file has no record are swept at start.
"""
from __future__ import annotations

import hashlib
from collections import Counter
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout

from index.chunks import Chunk, embedding_text
from index.embedding import Embedder
from index.settings import Settings
from index.store import ChromaStore, FileRecord, StoreError

from .chunking import chunk_document
from .clean import clean_document
from .documents import Document, IngestError
from .facts import document_facts, read_sidecar, sidecar_path
from .loaders import NOT_A_REGULAR_FILE, doc_type_of, load
from .ocr import OcrLimits

_FLUSH_CHUNKS = 256  # embed across small files together: per-call overhead dominates tiny batches


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict] = field(default_factory=list)
    chunks: int = 0  # chunks embedded in this run
    total_chunks: int = 0
    seconds: float = 0.0
    files: list[dict] = field(default_factory=list)  # per-file outcome, for the UI
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, with_files: bool = False) -> dict:
        out = {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
               "removed": self.removed, "failed": self.failed, "chunks": self.chunks,
               "total_chunks": self.total_chunks, "seconds": round(self.seconds, 3)}
        if self.warnings:
            out["warnings"] = self.warnings
        if with_files:
            out["files"] = self.files
        return out


class IngestBusy(StoreError):
    """Another ingest holds the store's lock."""


def run(paths: list[str | Path], settings: Settings, *, prune: bool = False, reindex: bool = False,
        embedder: Embedder | None = None, store: ChromaStore | None = None,
        progress: Callable[[int, int, str], None] | None = None, lock_timeout: float = 600.0,
        on_wait: Callable[[str], None] | None = None, library: str | None = None,
        by_folder: bool = False) -> IngestReport:
    """Ingest files and folders (recursively). Folders are authoritative: files that were ingested
    from a folder and are gone from it leave the index. ``prune`` also drops every indexed file that
    no longer exists anywhere. Each file joins ``library`` (who may read it); with ``by_folder``, a
    file in a sub-folder of a given folder joins the library named like that sub-folder; otherwise
    ``settings.default_library``."""
    started = time.perf_counter()
    report = IngestReport()
    files, missing, libraries = _expand(paths, library or settings.default_library, by_folder, settings)
    unnamed = sorted({lib for lib in libraries.values() if lib not in settings.libraries})
    if unnamed:
        report.warnings.append(f"no rule in POLICY_ASSISTANT_LIBRARIES names the librar{'ies' if len(unnamed) > 1 else 'y'} "
                               f"{', '.join(unnamed)}: only maintainers can read {'them' if len(unnamed) > 1 else 'it'}")
    for path in missing:
        report.failed.append({"path": str(path), "error": "no such file or folder"})
    embedder = embedder or Embedder.from_settings(settings)
    store = store or ChromaStore(settings)
    store.check_existing()  # a damaged index is refused before its folder gains an ingest.lock
    with _store_lock(settings, lock_timeout, on_wait):
        if reindex:
            store.reset()
        store.ensure_model(embedder.name)
        manifest = store.manifest(chunk_ids=False)
        _sweep_orphans(store, manifest)
        pending: list[tuple[Document, str, list[Chunk], bool]] = []
        changed = False
        for index, path in enumerate(files, start=1):
            if progress:
                progress(index, len(files), path.name)
            key = str(path)
            try:
                if not path.is_file():  # a FIFO would block the read (and the lock) for ever
                    raise IngestError(NOT_A_REGULAR_FILE)
                digest = _hash(path)
                old = manifest.get(key)
                if old and old.hash == digest and old.library == libraries[path]:
                    report.unchanged += 1
                    report.files.append({"path": key, "status": "unchanged", "chunks": old.n_chunks})
                    continue
                ocr = OcrLimits(settings.ocr, settings.ocr_max_pages, settings.ocr_time_limit_s)
                limit = settings.file_timeout_s + (settings.ocr_time_limit_s if doc_type_of(path) == "pdf" else 0)
                sidecar = read_sidecar(path)
                doc = _read_within(limit, lambda: clean_document(
                    load(path, settings.max_file_mb, settings.max_unzipped_mb, ocr)))
                _add_facts(doc, sidecar)
                chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
                if not chunks:
                    raise IngestError("no text to index")
            except IngestError as exc:
                _fail(report, key, str(exc))
                continue
            except (OSError, MemoryError) as exc:
                _fail(report, key, f"cannot read file ({type(exc).__name__}: {exc})")
                continue
            doc.extra["library"] = libraries[path]
            pending.append((doc, digest, chunks, old is not None))
            if sum(len(p[2]) for p in pending) >= _FLUSH_CHUNKS:
                _flush(pending, embedder, store, report)
                changed = True
        if pending:
            _flush(pending, embedder, store, report)
            changed = True
        removed = _prune(store, manifest, paths, prune)
        report.removed = len(removed)
        if changed or removed:
            _link_versions(store, manifest, {doc["path"] for doc in report.files if doc["status"] in ("added", "updated")},
                           set(removed))
        for source in removed:
            report.files.append({"path": source, "status": "removed", "chunks": 0})
        if changed or removed:
            libraries = {s: r.library for s, r in manifest.items() if s not in removed}
            libraries |= {f["path"]: f["library"] for f in report.files if f["status"] in ("added", "updated")}
            store.bump_generation(Counter(libraries.values()))
        report.total_chunks = store.count()
    _follow_keywords(settings, store)
    report.seconds = time.perf_counter() - started
    return report


def remove(sources: list[str], settings: Settings, store: ChromaStore | None = None,
           lock_timeout: float = 600.0) -> int:
    """Take documents out of the index (the files themselves are left alone)."""
    store = store or ChromaStore(settings)
    with _store_lock(settings, lock_timeout, None):
        manifest = store.manifest(chunk_ids=False)
        store.begin_change([s for s in sources if s in manifest])
        gone = 0
        for source in sources:
            if source in manifest:
                store.forget_file(source)
                store.delete_source(source)
                gone += 1
        if gone:
            # A removed version's neighbours are linked again (the one before it may be current now).
            _link_versions(store, manifest, set(), set(sources))
            store.bump_generation(Counter(r.library for s, r in manifest.items() if s not in set(sources)))
    _follow_keywords(settings, store)
    return gone


def _follow_keywords(settings: Settings, store: ChromaStore) -> None:
    """Bring the embedded store's keyword index level now, so that the app's next question finds it
    done. A Chroma server's replicas each follow the change log themselves."""
    if settings.chroma_url:
        return
    from index.keywords import KeywordIndex, catch_up

    catch_up(KeywordIndex(settings.keyword_path), store, wait=5.0)


# --- steps ---------------------------------------------------------------------------------------

def _flush(pending: list, embedder: Embedder, store: ChromaStore, report: IngestReport) -> None:
    all_chunks = [c for _, _, chunks, _ in pending for c in chunks]
    vectors = embedder.encode([embedding_text(c.title, c.text) for c in all_chunks])
    # The crash-safe order of writes, each step done for the whole batch in one store call
    # (a Chroma write costs ~50 ms whatever its size; four per file made small files slow).
    sources = [doc.source for doc, _, _, _ in pending]
    store.begin_change(sources)
    store.forget_files(sources)
    store.delete_sources(sources)
    store.add_chunks(all_chunks, vectors)
    store.record_files([FileRecord(source=doc.source, hash=digest, chunk_ids=[c.id for c in chunks],
                                   title=doc.title, date=doc.date, doc_type=doc.doc_type,
                                   pages=max((p.page or 1) for p in doc.pages),
                                   date_note=doc.extra.get("date_note", ""), facts=doc.extra.get("facts", ""),
                                   fingerprint=doc.extra.get("fingerprint", ""), library=doc.extra["library"])
                        for doc, digest, chunks, _ in pending])
    for doc, digest, chunks, existed in pending:
        report.chunks += len(chunks)
        if existed:
            report.updated += 1
        else:
            report.added += 1
        report.files.append({"path": doc.source, "status": "updated" if existed else "added",
                             "chunks": len(chunks), "title": doc.title, "pages": len(doc.pages),
                             "library": doc.extra["library"],
                             "ocr_pages": sum(1 for p in doc.pages if p.ocr),
                             "tables": int(doc.extra.get("tables", 0) or 0)})
    pending.clear()


def _add_facts(doc: Document, sidecar: dict) -> None:
    """The document's facts (its own statements, the maintainer's sidecar over them) and its text's
    fingerprint; a sidecar title and publication date also become the chunks' title and date."""
    import json

    from index.facts import fingerprint

    if sidecar.get("title"):
        doc.title = sidecar["title"]
    if sidecar.get("published"):
        doc.date = sidecar["published"]
    doc.extra["facts"] = document_facts(doc, sidecar).to_json()
    doc.extra["fingerprint"] = json.dumps(fingerprint(" ".join(p.text for p in doc.pages)))


def _link_versions(store: ChromaStore, before: dict[str, FileRecord], changed: set[str], removed: set[str]) -> None:
    """Re-link versions across the library after a change, and record the facts that moved. The
    manifest read at the start of the run serves for the files this run did not touch; the changed
    ones are read again (reading a 25,000-file manifest twice cost a second a one-file ingest)."""
    import json

    from index.facts import DocumentFacts, Versioned, link_versions

    manifest = {s: r for s, r in before.items() if s not in removed and s not in changed}
    manifest |= {r.source: r for r in store.file_records(sorted(changed))}
    # Versions are linked within a library only: a document's note "superseded by ..." must never
    # name a document its readers may not read (access/policy.py).
    by_library: dict[str, list] = {}
    for r in manifest.values():
        by_library.setdefault(r.library, []).append(
            Versioned(r.source, DocumentFacts.from_json(r.facts), json.loads(r.fingerprint or "[]"), r.ingested_at))
    updated = {}
    for entries in by_library.values():
        updated |= link_versions(entries, changed)
    if updated:
        records = store.file_records(list(updated))  # with their chunk ids: they are written back whole
        for record in records:
            record.facts = updated[record.source].to_json()
        store.record_files(records)


def _sweep_orphans(store: ChromaStore, manifest: dict[str, FileRecord]) -> None:
    """Delete chunks no manifest record owns (left by a run that was killed mid-file). The counts
    tell whether there are any; only then are the records' chunk ids read."""
    if store.count() == sum(record.n_chunks for record in manifest.values()):
        return
    owned = {cid for record in store.manifest().values() for cid in record.chunk_ids}
    orphans = [c.id for c in store.all_chunks(include_text=False) if c.id not in owned]
    store.delete_ids(orphans)


def _prune(store: ChromaStore, manifest: dict[str, FileRecord], paths, prune_all: bool) -> list[str]:
    folders = [Path(p).resolve() for p in paths if Path(p).is_dir()]
    removed = []
    for source in manifest:
        path = Path(source)
        if path.exists():
            continue
        if prune_all or any(_is_under(path, folder) for folder in folders):
            store.begin_change([source])
            store.forget_file(source)
            store.delete_source(source)
            removed.append(source)
    return removed


def _expand(paths, library: str, by_folder: bool, settings: Settings | None = None
            ) -> tuple[list[Path], list[Path], dict[Path, str]]:
    """The files to read, the paths that do not exist, and each file's library: ``library``, or with
    ``by_folder`` the sub-folder of the given folder it lies in. Uploads keep the library of the
    sub-folder they were saved in, whatever the run's library."""
    from .uploads import library_of_upload, uploads_folder

    uploads = uploads_folder(settings).resolve() if settings is not None else None

    def library_of(candidate: Path, folder: Path | None) -> str:
        if uploads in (candidate.parent, candidate.parent.parent):
            return library_of_upload(candidate, settings) or library
        inner = candidate.relative_to(folder).parts if folder is not None else ()
        return inner[0] if by_folder and len(inner) > 1 else library

    files: dict[Path, str] = {}
    missing: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    candidate = Path(root) / name
                    if not name.startswith(".") and doc_type_of(candidate):
                        files.setdefault(candidate, library_of(candidate, path))
        elif path.exists():  # a file, or a pipe or device that is then refused by name
            files.setdefault(path, library_of(path, None))
        else:
            missing.append(path)
    return list(files), missing, files


def _read_within(seconds: float, read: Callable[[], Document]) -> Document:
    """Run one file's read and parse on a daemon thread and wait at most ``seconds``. A reader that
    does not return (a parser stuck on a hostile file) is left behind; the ingest goes on."""
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["doc"] = read()
        except BaseException as exc:  # handed to the ingest thread, which reports it
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="ingest-read", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise IngestError(f"reading and parsing took longer than {seconds:g} s "
                          "(POLICY_ASSISTANT_FILE_TIMEOUT_S): not indexed")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["doc"]


def _hash(path: Path) -> str:
    """The file's content hash; with a facts sidecar beside it, of both (editing the facts
    re-ingests the file, and an unchanged pair is skipped with its facts kept)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    side = sidecar_path(path)
    if side.is_file():
        digest.update(b"\x00facts\x00" + side.read_bytes())
    return digest.hexdigest()


def _is_under(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _fail(report: IngestReport, path: str, reason: str) -> None:
    report.failed.append({"path": path, "error": reason})
    report.files.append({"path": path, "status": "failed", "error": reason, "chunks": 0})


class _store_lock:
    """One writer per store: a second ingest waits (and says so), then gives up with a clear error."""

    def __init__(self, settings: Settings, timeout: float, on_wait):
        settings.store.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(settings.lock_path))
        self.timeout = timeout
        self.on_wait = on_wait
        self.where = settings.chroma_url or str(settings.store)

    def __enter__(self):
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            if self.on_wait:
                self.on_wait(f"another ingest is writing to {self.where}; waiting for it to finish")
            try:
                self.lock.acquire(timeout=self.timeout)
            except Timeout:
                raise IngestBusy(f"another ingest is still writing to {self.where} after "
                                 f"{self.timeout:.0f} s; try again when it has finished") from None
        return self

    def __exit__(self, *exc):
        self.lock.release()
        return False
