"""Ingestion: load, clean, chunk, embed, index. Entry point: ``ingest.run(paths, settings)``."""
from .pipeline import IngestBusy, IngestReport, remove, run
from .settings import Settings
from .store import ChromaStore, StoreError, StoreUnavailable
from .types import Chunk, Document, IngestError, Page

__all__ = ["run", "remove", "IngestReport", "IngestBusy", "Settings", "ChromaStore", "StoreError",
           "StoreUnavailable", "Chunk", "Document", "IngestError", "Page"]
