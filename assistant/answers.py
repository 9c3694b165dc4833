"""Data that flows through answering: question -> hits -> answer with citations."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, NamedTuple, Protocol


@dataclass
class Hit:
    chunk_id: str
    source: str
    title: str
    page: int | None
    text: str
    score: float  # fused score (higher is better)
    similarity: float = 0.0  # cosine similarity of the question to the chunk (dense half)
    date: str | None = None
    start: int = 0
    end: int = 0
    ocr: bool = False  # the passage's page was read by OCR: a reader should check the original

    @property
    def file_name(self) -> str:
        return Path(self.source).name

    def to_dict(self) -> dict:
        return {"source": self.source, "title": self.title, "page": self.page,
                "chunk_id": self.chunk_id, "score": round(self.score, 6), "text": self.text}


@dataclass
class Citation:
    n: int
    source: str
    title: str
    page: int | None
    chunk_id: str
    quote: str
    verified: bool
    context: str = ""  # the whole chunk text, so a reader sees the quote in its surroundings
    ocr: bool = False  # quoted from a page read by OCR
    # The quoted document's standing (index/facts.py): current, superseded, withdrawn or draft.
    status: str = "current"
    version: str = ""
    published: str | None = None
    superseded_by: str = ""  # the title of the version that replaced it
    review_by: str | None = None
    past_review: bool = False  # its review date has passed

    def to_dict(self) -> dict:
        out = {"n": self.n, "source": self.source, "title": self.title, "page": self.page,
               "chunk_id": self.chunk_id, "quote": self.quote, "verified": self.verified,
               "status": self.status}
        if self.ocr:
            out["ocr"] = True  # only when it is: the shape of every other citation is unchanged
        for name in ("version", "published", "superseded_by", "review_by"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.past_review:
            out["past_review"] = True
        return out

    def standing(self) -> str:
        """What a reader must know about the quoted document, in words ("" when it is current)."""
        notes = []
        if self.status == "superseded":
            notes.append(f"superseded by {self.superseded_by}" if self.superseded_by else "superseded")
        elif self.status in ("withdrawn", "draft"):
            notes.append(self.status)
        if self.past_review:
            notes.append(f"past its review date ({self.review_by})")
        return "; ".join(notes)


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    search_query: str = ""  # the question as rewritten for retrieval (follow-ups)
    hits: list[Hit] = field(default_factory=list)
    answerer: str = "extractive"
    as_of: str | None = None  # answered from the versions in force on this date

    def to_dict(self) -> dict:
        out = {"question": self.question, "answer": self.answer, "refused": self.refused,
               "citations": [c.to_dict() for c in self.citations],
               "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()}}
        if self.as_of:
            out["as_of"] = self.as_of
        return out

    def to_record(self) -> dict:
        """Everything a saved conversation needs to show this answer again (to_dict and each
        citation's surrounding passage and OCR note)."""
        out = self.to_dict()
        for cited, citation in zip(out["citations"], self.citations):
            cited["context"] = citation.context
        out["answerer"] = self.answerer
        return out

    @classmethod
    def from_record(cls, data: dict) -> "Answer":
        fields = Citation.__dataclass_fields__
        citations = [Citation(**{k: v for k, v in c.items() if k in fields}) for c in data.get("citations", [])]
        return cls(question=data.get("question", ""), answer=data.get("answer", ""), refused=bool(data.get("refused")),
                   citations=citations, timings_ms=data.get("timings_ms", {}), answerer=data.get("answerer", "extractive"),
                   as_of=data.get("as_of"))

    def sources_text(self) -> str:
        """One line a citation: '[1] Title (file.pdf, page 4): "the quote"'."""
        lines = []
        for c in self.citations:
            where = f", page {c.page}" if c.page else ""
            standing = f" [{c.standing()}]" if c.standing() else ""
            lines.append(f"[{c.n}] {c.title} ({Path(c.source).name}{where}){standing}: \"{c.quote}\"")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        return "\n\n".join(part for part in (self.answer, self.sources_text()) if part).strip()


class Draft(NamedTuple):
    """An answer as its answerer wrote it, before its citations are checked against the store."""
    text: str
    citations: list[Citation]
    claims: dict[int, str] | None  # generated answers: the sentence citing each [n], checked for support


class Answerer(Protocol):
    """What writes the answer. The registry of kinds is index/answerers.py; Assistant builds one
    per kind and treats them alike: the extractive answerer quotes sentences, an LLM writes its own."""
    name: str

    def search_query(self, question: str, history: list[dict] | None) -> str:
        """The question made self-contained (follow-ups), as it is searched."""

    def write(self, question: str, search_query: str, hits: list[Hit], ranked: list) -> Iterator[str | Draft]:
        """Yield text as it is written (nothing, for an answerer that writes all at once), then one Draft."""

