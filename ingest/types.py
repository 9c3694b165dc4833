"""Data that flows through ingestion: files -> pages -> chunks."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    source: str  # absolute path of the file
    page: int | None  # 1-based page number for paged formats (PDF), None otherwise
    text: str  # cleaned text


@dataclass
class Document:
    source: str
    title: str
    date: str | None  # ISO yyyy-mm-dd when the document states one
    doc_type: str  # pdf, docx, html, md, txt
    pages: list[Page] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Chunk:
    id: str
    source: str
    title: str
    page: int | None
    start: int  # character offsets into the cleaned page text
    end: int
    text: str
    date: str | None = None
    doc_type: str = ""

    def metadata(self) -> dict:
        meta = {
            "source": self.source,
            "title": self.title,
            "page": self.page if self.page is not None else 0,
            "start": self.start,
            "end": self.end,
            "doc_type": self.doc_type,
        }
        if self.date:
            meta["date"] = self.date
            meta["date_int"] = int(self.date.replace("-", ""))
        return meta


class IngestError(Exception):
    """A file that cannot be ingested; the message is shown to the user as-is."""
