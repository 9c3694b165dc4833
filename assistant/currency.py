"""Which documents are in force, and preferring them: the answering side of index/facts.py.

By default every document can answer, but a passage of a superseded version gives way to the same
passage in a newer version (it is dropped, so the same sentence is never quoted twice from two
versions, nor an old figure beside its replacement) and otherwise ranks a little lower. "As of" a
date, only the versions in force on that date are searched.
"""
from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from index.facts import DocumentFacts
from index.store import ChromaStore, GenerationWatch

from .answers import Citation, Hit
from .english import sentence_spans, tokens

SUPERSEDED_WEIGHT = 0.9  # a superseded version's passage scores this share (ties go to the current one)
SAME_PASSAGE = 0.7  # word overlap from which two versions' passages say the same thing


class Catalogue:
    """The documents' facts, read from the store's manifest and kept for one store generation: all
    of them for lists and "as of" dates, or only those of the documents a search returned (reading
    every file's facts took 1.2 s at 25,000 files, a cost the first question after each change paid)."""

    def __init__(self, store: ChromaStore):
        self.store = store
        self._generation: int | None = None
        self._facts: dict[str, DocumentFacts] = {}
        self._complete = False
        self._libraries: set[str] | None = None
        self._in_libraries: dict[frozenset[str], frozenset[str]] = {}
        self._lock = threading.Lock()
        self._watch = GenerationWatch(store)

    def _current(self) -> None:
        generation = self._watch.look()
        if generation is not None and generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    self._facts, self._complete, self._generation = {}, False, generation
                    self._libraries, self._in_libraries = None, {}

    def facts(self) -> dict[str, DocumentFacts]:
        """Every document's facts."""
        self._current()
        if not self._complete:
            with self._lock:
                self._facts = self.store.file_facts()
                self._complete = True
        return self._facts

    def facts_of(self, sources) -> dict[str, DocumentFacts]:
        """The facts of these documents (those in the index)."""
        self._current()
        missing = [s for s in dict.fromkeys(sources) if s not in self._facts]
        if missing and not self._complete:
            found = self.store.file_facts(missing)
            with self._lock:
                self._facts.update(found)
        return {s: self._facts[s] for s in sources if s in self._facts}

    def fact(self, source: str) -> DocumentFacts | None:
        """One document's facts (None when it is not in the index)."""
        return self.facts_of([source]).get(source) if source else None

    def libraries(self) -> set[str]:
        """The libraries that hold documents (recorded by each ingest: no reading of every file's facts)."""
        self._current()
        if self._libraries is None:
            recorded = self.store.libraries()
            self._libraries = recorded if recorded is not None else {f.library for f in self.facts().values()}
        return self._libraries

    def sources_in(self, libraries: frozenset[str]) -> frozenset[str]:
        """The documents of these libraries (read once a store generation for each set of libraries)."""
        self._current()
        found = self._in_libraries.get(libraries)
        if found is None:
            found = frozenset(s for s, f in self.facts().items() if f.library in libraries)
            self._in_libraries[libraries] = found
        return found

    def in_force(self, day: str) -> frozenset[str]:
        return frozenset(source for source, facts in self.facts().items() if facts.in_force_on(day))

    def versions(self, source: str) -> list[str]:
        """The sources of every version of this document, oldest first."""
        first, seen = source, {source}
        while (standing := self.fact(first)) and standing.previous and standing.previous not in seen:
            first = standing.previous
            seen.add(first)
        chain, current = [], first
        while current and current not in chain:
            chain.append(current)
            standing = self.fact(current)
            current = standing.superseded_by if standing else ""
        return chain


def prefer_current(hits: list[Hit], catalogue: Catalogue) -> list[Hit]:
    facts = catalogue.facts_of([h.source for h in hits])
    kept = []
    for hit in hits:
        standing = facts.get(hit.source)
        if standing and standing.status == "superseded":
            chain = catalogue.versions(hit.source)
            newer = set(chain[chain.index(hit.source) + 1:]) if hit.source in chain else set()
            if any(other.source in newer and same_passage(hit.text, other.text) for other in hits):
                continue
            hit = replace(hit, score=hit.score * SUPERSEDED_WEIGHT)
        kept.append(hit)
    return sorted(kept, key=lambda h: -h.score)


def same_passage(a: str, b: str) -> bool:
    wa, wb = set(tokens(a)), set(tokens(b))
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= SAME_PASSAGE


def annotate(citations: list[Citation], catalogue: Catalogue, readable: frozenset[str] | None = None) -> None:
    """Each citation says where its document stands (fields, and Citation.standing() in words); the
    version that replaced it is named only to a reader who may read it (``readable``; None: all)."""
    today = date.today().isoformat()
    for citation in citations:
        standing = catalogue.fact(citation.source)
        if not standing:
            continue
        citation.status = standing.status
        citation.version = standing.version
        citation.published = standing.published
        citation.review_by = standing.review_by
        citation.past_review = standing.past_review(today)
        if standing.superseded_by and (readable is None or standing.superseded_by in readable):
            citation.superseded_by = describe(standing.superseded_by, catalogue.fact(standing.superseded_by))


def describe(source: str, facts: DocumentFacts | None) -> str:
    """A version named for a reader: its title, version and date ("Framework, version 2.0 of 2025-04-01")."""
    if facts is None:
        return Path(source).name
    name = facts.title or Path(source).name
    version = f"version {facts.version}" if facts.version else ""
    when = f"of {facts.effective}" if facts.effective else ""
    detail = " ".join(x for x in (version, when) if x)
    return f"{name}, {detail}" if detail else name


# --- what changed between two versions -------------------------------------------------------------

@dataclass
class Change:
    kind: str  # "added", "removed" or "changed"
    before: str  # the passage in the earlier version ("" when added)
    after: str  # ... in the later one ("" when removed)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "before": self.before, "after": self.after}


def changes(before_text: str, after_text: str, topic: str = "") -> list[Change]:
    """Sentences added, removed and changed from one version to the next (a changed sentence is a
    removed one replaced where it stood by one that says nearly the same); with a topic, only the
    changes that mention its words."""
    old, new = _sentences(before_text), _sentences(after_text)
    matcher = difflib.SequenceMatcher(a=[_key(s) for s in old], b=[_key(s) for s in new], autojunk=False)
    found: list[Change] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        gone, came = old[a1:a2], new[b1:b2]
        while gone and came and _similar(gone[0], came[0]):
            found.append(Change("changed", gone.pop(0), came.pop(0)))
        found.extend(Change("removed", s, "") for s in gone)
        found.extend(Change("added", "", s) for s in came)
    if topic:
        wanted = set(tokens(topic))
        found = [c for c in found if wanted & set(tokens(c.before + " " + c.after))]
    return found


def _sentences(text: str) -> list[str]:
    out = []
    for start, end in sentence_spans(text):
        sentence = " ".join(text[start:end].split())
        if sentence and (not out or out[-1] != sentence):
            out.append(sentence)
    return out


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).ratio() >= 0.6
