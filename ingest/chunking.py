"""Split cleaned pages into chunks on paragraph and sentence boundaries, with offsets and stable ids."""
from __future__ import annotations

import hashlib

from index.chunks import Chunk

from .documents import Document

_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def chunk_document(doc: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=_SEPARATORS,
        keep_separator="end", strip_whitespace=True)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for page in doc.pages:
        cursor = 0
        for piece in splitter.split_text(page.text):
            start = page.text.find(piece, max(0, cursor - chunk_overlap - len(piece)))
            if start < 0:
                start = page.text.find(piece)
            end = start + len(piece)
            cursor = end
            chunk_id = content_id(doc.source, page.page, piece)
            # Repeated identical text in one file (running headers, boilerplate) keeps distinct ids.
            if chunk_id in seen:
                seen[chunk_id] += 1
                chunk_id = f"{chunk_id}-{seen[chunk_id]}"
            else:
                seen[chunk_id] = 0
            chunks.append(Chunk(id=chunk_id, source=doc.source, title=doc.title, page=page.page,
                                start=start, end=end, text=piece, date=doc.date,
                                doc_type=doc.doc_type, ocr=page.ocr))
    return chunks


def content_id(source: str, page: int | None, text: str) -> str:
    digest = hashlib.sha256(f"{source}\x1f{page}\x1f{text}".encode("utf-8")).hexdigest()
    return digest[:32]
