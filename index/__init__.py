"""The index shared by ingestion and answering: settings, the Chroma store, the embedding model
and the chunk schema. ``ingest`` writes it; ``assistant`` reads it."""
from .chunks import Chunk, embedding_text
from .settings import Settings
from .store import ChromaStore, FileRecord, StoreDamaged, StoreError, StoreMissing, StoreUnavailable

__all__ = ["Chunk", "embedding_text", "Settings", "ChromaStore", "FileRecord", "StoreError", "StoreMissing",
           "StoreDamaged", "StoreUnavailable"]
