"""Ingestion: load, clean, chunk, embed, write the index (index/). Entry point: ``ingest.run(paths, settings)``."""
from .pipeline import IngestBusy, IngestReport, remove, run
from .types import Document, IngestError, Page

__all__ = ["run", "remove", "IngestReport", "IngestBusy", "Document", "IngestError", "Page"]
