"""Data that flows through ingestion: files -> documents of pages (chunks: index/chunks.py)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Page:
    source: str  # absolute path of the file
    page: int | None  # 1-based page number for paged formats (PDF), None otherwise
    text: str  # cleaned text
    ocr: bool = False  # read from the page's images by OCR (it had no text layer)


@dataclass
class Document:
    source: str
    title: str
    date: str | None  # ISO yyyy-mm-dd when the document states one
    doc_type: str  # pdf, docx, html, md, txt
    pages: list[Page] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


class IngestError(Exception):
    """A file that cannot be ingested; the message is shown to the user as-is."""


def short_reason(exc: Exception) -> str:
    """An exception as the one-line reason a failed file is reported with."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return message[:160]
