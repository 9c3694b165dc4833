"""The hybrid search as a LangChain retriever: ``Assistant.ask`` retrieves through it, and any LCEL
chain can use it (``assistant.as_retriever(k=5) | format_docs``) to put its own LLM step after it."""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .answers import Hit
from .search import Filters, Mode


class HybridRetriever(BaseRetriever):
    """Documents carry the passage text and, in ``metadata``, where it comes from (source, title,
    page, chunk_id, offsets) and its scores, so a citation can be checked."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any  # assistant.search.HybridSearcher
    k: int = 5
    filters: Filters | None = None
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(hit) for hit in self.searcher.search(query, self.k, self.filters, self.mode)]


def to_document(hit: Hit) -> Document:
    return Document(id=hit.chunk_id, page_content=hit.text,
                    metadata={"source": hit.source, "title": hit.title, "page": hit.page,
                              "chunk_id": hit.chunk_id, "score": hit.score, "similarity": hit.similarity,
                              "date": hit.date, "start": hit.start, "end": hit.end, "ocr": hit.ocr})


def to_hit(document: Document) -> Hit:
    meta = document.metadata
    return Hit(chunk_id=meta["chunk_id"], source=meta["source"], title=meta["title"], page=meta["page"],
               text=document.page_content, score=meta["score"], similarity=meta["similarity"],
               date=meta["date"], start=meta["start"], end=meta["end"], ocr=meta.get("ocr", False))
