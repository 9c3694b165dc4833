"""The chunk schema shared by ingestion (which writes chunks) and answering (which reads them):
what a chunk holds, its metadata in the store, and the text that is embedded and keyword-indexed."""
from __future__ import annotations

from dataclasses import dataclass


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
    ocr: bool = False  # its page was read by OCR

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
        if self.ocr:
            meta["ocr"] = True
        return meta


def embedding_text(title: str, text: str) -> str:
    """What is embedded and keyword-indexed: a chunk's text with its document title as context."""
    return f"{title}\n{text}" if title else text
