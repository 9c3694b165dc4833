"""Ingestion: load, clean, chunk, embed, write the index (index/). Entry point: ``ingest.run(paths, settings)``."""
from .documents import Document, IngestError, Page
from .pipeline import IngestBusy, IngestReport, remove, run

__all__ = ["run", "remove", "IngestReport", "IngestBusy", "Document", "IngestError", "Page"]
