"""What a document is, beside what it says: its publisher, dates, version and status, and how it
stands to other versions of itself. Ingestion writes these facts into the file manifest; answering
reads them to prefer what is in force and to say when a quoted document is not.

Where each fact comes from, highest first (``DocumentFacts.stated`` records it per fact):
  sidecar   ``FILE.facts.yaml`` beside the document, written by a maintainer (or by the maintainer
            page): it overrides everything the document says;
  document  what the document states: Markdown front matter, a "Date published:" / "Version 2.1" /
            "Review date:" / "This guidance replaces ..." line near its start, PDF/DOCX metadata;
  library   derived at ingest from the other documents: a later version of the same document
            (named by "replaces", or near-identical text) makes this one superseded.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date

STATUSES = ("current", "superseded", "withdrawn", "draft")
FACT_NAMES = ("title", "publisher", "published", "updated", "version", "status", "review_by", "supersedes")


@dataclass
class DocumentFacts:
    title: str = ""
    publisher: str = ""
    published: str | None = None  # ISO dates
    updated: str | None = None
    version: str = ""
    status: str = "current"
    review_by: str | None = None
    supersedes: str = ""  # what the document says it replaces (a title or file name), as stated
    # Derived from the library at ingest:
    superseded_by: str = ""  # source of the next version
    previous: str = ""  # source of the version before this one
    in_force_until: str | None = None  # the next version's effective date
    stated: dict[str, str] = field(default_factory=dict)  # fact -> "sidecar" | "document" | "library"
    library: str = ""  # who may read it (access/policy.py): the file record's, set by the store on reading

    @property
    def effective(self) -> str | None:
        """From when this version is in force: its publication date (or its last update)."""
        return self.published or self.updated

    def in_force_on(self, day: str) -> bool:
        """In force on ``day`` (ISO): published by then, not yet replaced, not a draft. An undated
        document with no later version is taken to be in force (it cannot be placed in time)."""
        if self.status in ("draft",):
            return False
        if self.effective and self.effective > day:
            return False
        return not (self.in_force_until and self.in_force_until <= day)

    def past_review(self, today: str | None = None) -> bool:
        return bool(self.review_by and self.review_by < (today or date.today().isoformat()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "DocumentFacts":
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def version_numbers(version: str) -> tuple[int, ...]:
    """"2.10" -> (2, 10): versions compare by their numbers, not as text ("2.10" after "2.9")."""
    return tuple(int(n) for n in re.findall(r"\d+", version or "")[:4])


def version_key(facts: DocumentFacts, ingested_at: float = 0.0) -> tuple:
    """Order of versions: effective date, then version number, then when it was ingested."""
    return (facts.effective or "", version_numbers(facts.version), ingested_at)


# --- near-identical documents ---------------------------------------------------------------------

FINGERPRINT_SIZE = 64


def fingerprint(text: str) -> list[int]:
    """A MinHash of the text's word 4-shingles: two documents' fingerprints agree in about the
    share of positions that their shingle sets overlap (Jaccard), whatever their length."""
    import hashlib

    import numpy as np

    words = re.findall(r"[a-z0-9£%]+", text.lower())
    shingles = {" ".join(words[i:i + 4]) for i in range(max(len(words) - 3, 1))}
    if not shingles:
        return [0] * FINGERPRINT_SIZE
    hashes = np.fromiter((int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big")
                          for s in shingles), dtype=np.uint64, count=len(shingles))
    seeds = np.random.default_rng(20261201).integers(1, 2**63, FINGERPRINT_SIZE, dtype=np.uint64)
    best = np.full(FINGERPRINT_SIZE, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, len(hashes), 20_000):
            mixed = (hashes[start:start + 20_000, None] ^ seeds[None, :]) * np.uint64(0x9E3779B97F4A7C15)
            best = np.minimum(best, mixed.min(axis=0))
    return [int(v >> np.uint64(12)) for v in best]  # 52 bits: exact in JSON readers that use doubles


def resemblance(a: list[int], b: list[int]) -> float:
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b)) / len(a)


# --- versions of one document ---------------------------------------------------------------------

SAME_TEXT = 0.6  # fingerprint resemblance from which two documents are versions of one another,
# ... when their titles are the same but for numbers and version words ("Framework 2024 to 2025" and
# "Framework 2025 to 2026"). A looser title rule (half the words shared) linked 158 of the 3,150
# council duties, templated texts such as "microchipping of dogs (England)" and "(Wales)".


@dataclass
class Versioned:
    """One manifest entry as version linking sees it."""
    source: str
    facts: DocumentFacts
    fingerprint: list[int]
    ingested_at: float = 0.0


def link_versions(entries: list[Versioned], changed: set[str]) -> dict[str, DocumentFacts]:
    """Group the library's documents into versions of one another and set each one's derived facts
    (previous, superseded_by, in_force_until, and status superseded where nothing stated one).
    Links: a document that says it replaces another (by title or file name), or near-identical
    text with a similar title. Only pairs involving a changed document are compared; the links
    already recorded stand for the rest. Returns the entries whose facts changed."""
    by_source = {e.source: e for e in entries}
    parent = {e.source: e.source for e in entries}

    def root(s: str) -> str:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    def join(a: str, b: str) -> None:
        parent[root(a)] = root(b)

    for e in entries:  # links recorded before, between documents still in the library
        for other in (e.facts.previous, e.facts.superseded_by):
            if other in by_source:
                join(e.source, other)
    for e in entries:
        if e.facts.supersedes:
            named = _named(e.facts.supersedes, entries, e.source)
            if named:
                join(e.source, named)
    for a, b in _similar_pairs(entries, changed):
        if resemblance(a.fingerprint, b.fingerprint) >= SAME_TEXT and \
                _title_core(a.facts.title) == _title_core(b.facts.title) != frozenset():
            join(a.source, b.source)

    groups: dict[str, list[Versioned]] = {}
    for e in entries:
        groups.setdefault(root(e.source), []).append(e)
    updated: dict[str, DocumentFacts] = {}
    for members in groups.values():
        if len(members) == 1 and not _has_links(members[0].facts):
            continue  # a document with no other version, and none recorded before: nothing to do
        members.sort(key=lambda e: version_key(e.facts, e.ingested_at))
        for i, e in enumerate(members):
            before = e.facts.to_json()
            newer = members[i + 1] if i + 1 < len(members) else None
            e.facts.previous = members[i - 1].source if i else ""
            e.facts.superseded_by = newer.source if newer else ""
            e.facts.in_force_until = newer.facts.effective if newer else None
            if e.facts.stated.get("status") in ("sidecar", "document") and e.facts.status != "current":
                pass  # a stated withdrawn/draft/superseded stands
            elif newer:
                e.facts.status, e.facts.stated["status"] = "superseded", "library"
            elif e.facts.stated.get("status") == "library":
                e.facts.status = "current"
                del e.facts.stated["status"]
            if e.facts.to_json() != before:
                updated[e.source] = e.facts
    return updated


def _has_links(facts: DocumentFacts) -> bool:
    return bool(facts.previous or facts.superseded_by or facts.in_force_until or facts.stated.get("status") == "library")


def _similar_pairs(entries: list[Versioned], changed: set[str]):
    """Pairs (one of them changed) whose fingerprints agree on some band of 3 values: 21 bands
    find a pair of resemblance 0.6 with probability 0.994 and one of 0.2 with 0.16, so a library of
    thousands is not compared pair by pair."""
    buckets: dict[tuple, list[Versioned]] = {}
    for e in entries:
        if len(e.fingerprint) != FINGERPRINT_SIZE or not any(e.fingerprint):
            continue  # no text to compare
        for band in range(0, FINGERPRINT_SIZE - 2, 3):
            buckets.setdefault((band, *e.fingerprint[band:band + 3]), []).append(e)
    seen = set()
    for members in buckets.values():
        if len(members) < 2 or not any(m.source in changed for m in members):
            continue
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                key = (a.source, b.source) if a.source < b.source else (b.source, a.source)
                if key not in seen and (a.source in changed or b.source in changed):
                    seen.add(key)
                    yield a, b


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - {"the", "of", "and", "for", "to", "a", "in", "on"}


_VERSION_WORDS = {"version", "edition", "draft", "final", "v", "issue", "revised", "update", "updated",
                  "january", "february", "march", "april", "may", "june", "july", "august", "september",
                  "october", "november", "december"}


def _title_core(title: str) -> frozenset[str]:
    """A title's words without numbers, months and version words: what versions of one document share."""
    return frozenset(w for w in _words(title) if not w.isdigit() and not re.fullmatch(r"v?\d+[a-z]?", w)
                     and w not in _VERSION_WORDS)


def _named(text: str, entries: list[Versioned], me: str) -> str | None:
    """The document a "replaces ..." statement names: by file name, or the title sharing most words."""
    from pathlib import Path

    wanted = _words(text)
    best, score = None, 0.0
    for e in entries:
        if e.source == me:
            continue
        stem = Path(e.source).stem.lower()
        if stem and stem in text.lower():
            return e.source
        title = _words(e.facts.title)
        overlap = len(wanted & title) / len(title) if title else 0.0
        if overlap > score:
            best, score = e.source, overlap
    return best if score >= 0.75 else None
