"""Verify citations before an answer leaves the assistant: the quote must be in the chunk's stored
text, and (for generated answers) the cited sentence must be supported by the passage."""
from __future__ import annotations

import re

from .text import sentences, tokens
from .types import Citation

SUPPORT_THRESHOLD = 0.5
MIN_CLAIM_TERMS = 3  # "PWNED" or "Yes." is not a claim a passage can support


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def quote_in_text(quote: str, text: str) -> bool:
    return bool(quote.strip()) and _squash(quote) in _squash(text)


def support(claim: str, passage: str) -> float:
    """Share of the claim's content words that the passage contains (0..1)."""
    claim_terms = set(tokens(re.sub(r"\[\d+\]", " ", claim)))
    if len(claim_terms) < MIN_CLAIM_TERMS:
        return 0.0
    passage_terms = set(tokens(passage))
    return len(claim_terms & passage_terms) / len(claim_terms)


def best_quote(claim: str, passage: str) -> str:
    """The passage sentence that best supports the claim: what a reader should check."""
    candidates = sentences(passage) or [passage]
    return max(candidates, key=lambda s: (support(claim, s), -len(s)))


def verify(citations: list[Citation], stored_text: dict[str, str], claims: dict[int, str] | None = None) -> None:
    """Set ``verified`` on each citation in place. ``stored_text`` maps chunk id -> text in the store;
    ``claims`` maps citation number -> the answer sentence that cites it (generated answers)."""
    for citation in citations:
        text = stored_text.get(citation.chunk_id)
        ok = text is not None and quote_in_text(citation.quote, text)
        if ok and claims and citation.n in claims:
            ok = support(claims[citation.n], text) >= SUPPORT_THRESHOLD
        citation.verified = ok
