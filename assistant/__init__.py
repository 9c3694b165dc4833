"""Retrieval and answering. ``from assistant import Assistant``; ``Assistant(store=...).ask(q, history)``."""
from index.settings import Settings

from .core import REFUSAL, Assistant
from .types import Answer, Citation, Hit

__all__ = ["Assistant", "Answer", "Citation", "Hit", "Settings", "REFUSAL"]
