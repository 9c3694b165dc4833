"""The answerers the product can be configured with: one registry that the settings, both command
lines, the chat's labels and the language-model factory read (the names were repeated in six places).
Pure data: what each answerer is called and shown as, whether it generates text, and the extra
it needs installed."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswererKind:
    label: str  # shown in the chat's "Answers written by" choice
    generative: bool  # writes its own sentences (checked against the passages) rather than quoting them
    extra: str | None = None  # pip extra it needs: pip install 'policy-assistant[EXTRA]'


ANSWERERS: dict[str, AnswererKind] = {
    "extractive": AnswererKind("Quoted sentences from the documents", generative=False),
    "gguf": AnswererKind("Local language model (GGUF)", generative=True),
    "ollama": AnswererKind("Language model via Ollama", generative=True, extra="ollama"),
    "openai": AnswererKind("Language model via an OpenAI-compatible server", generative=True, extra="openai"),
}
ANSWERER_NAMES = tuple(ANSWERERS)
GENERATIVE = tuple(name for name, kind in ANSWERERS.items() if kind.generative)
