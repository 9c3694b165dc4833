"""Verify citations before an answer leaves the assistant: the quote must be in the chunk's stored
text, and (for generated answers) the cited sentence must be supported by the passage."""
from __future__ import annotations

import re

from .answers import Citation
from .english import sentences, tokens

SUPPORT_THRESHOLD = 0.5
MIN_CLAIM_TERMS = 3  # "PWNED" or "Yes." is not a claim a passage can support


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def quote_in_text(quote: str, text: str) -> bool:
    return bool(quote.strip()) and _squash(quote) in _squash(text)


# A figure with its currency and scale: "£1" is not "£1bn", and "£2 billion" is "£2bn".
_NUMBER = re.compile(r"([£$€]?)\s?(\d+(?:[.,]\d+)*)\s?(bn|billion|m|million|k|%|per ?cent)?(?!\w)", re.I)
_SCALE = {"billion": "bn", "million": "m", "percent": "%", "per cent": "%"}


def _numbers(text: str) -> set[str]:
    return {currency + digits.replace(",", "") + _SCALE.get((scale or "").lower(), (scale or "").lower())
            for currency, digits, scale in _NUMBER.findall(text)}


def support(claim: str, passage: str) -> float:
    """Share of the claim's content words that the passage contains (0..1); 0 when the claim
    states a number the passage does not (an invented figure is the costliest error: "the NHS
    budget is £1" shared enough words with a passage about budgets to pass)."""
    claim = re.sub(r"\[\d+\]", " ", claim)
    claim_terms = set(tokens(claim))
    if len(claim_terms) < MIN_CLAIM_TERMS or not _numbers(claim) <= _numbers(passage):
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
