"""Retrieval and answering. ``from assistant import Assistant``; ``Assistant(store=...).ask(q, history)``."""
from index.settings import Settings

from .answers import Answer, Citation, Hit
from .assistant import REFUSAL, Assistant

__all__ = ["Assistant", "Answer", "Citation", "Hit", "Settings", "REFUSAL"]
