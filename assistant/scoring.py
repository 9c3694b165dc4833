"""The tuned numbers of retrieval and answering, in one place, each with what it was fitted on.

``bench/fit_scoring.py`` re-fits the main ones on the tuning sets (eval/dev.jsonl and
eval/holdout.jsonl on the seeds + NHS documents; never the test sets) and prints the figures beside
the committed values, so anyone can check that these are what the data gives. The refusal
thresholds are settings (index/settings.py: ``refusal_*``), because operators may move them;
``bench/fit_refusal_share.py`` re-fits the near-miss one. An instance is passed to the searcher
and the answerer (``Assistant(scoring=...)``); benches vary a copy instead of patching modules.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scoring:
    # --- retrieval (assistant/search.py) ---------------------------------------------------------
    # Score fusion: each retriever's scores divided by its best candidate's, mixed with a keyword
    # share between these bounds, growing with the share of the question's IDF-weighted terms the
    # best keyword match holds. Chosen on dev + holdout, checked on test (bench/README.md): plain
    # RRF and any fixed share lost to BM25 alone on one set or to dense alone on the other.
    keyword_share: tuple[float, float] = (0.3, 0.7)
    # A question word absent from the index but this close (difflib ratio, on stems) to an indexed
    # one is a typo, not an unknown name (dev: "Winterbourne" typed "Winterborne" must not refuse).
    near_spelling_cutoff: float = 0.85

    # --- the short-list (assistant/extractive.py) -------------------------------------------------
    # Sentences are first scored by words: the IDF-weighted share of the question's terms they hold
    # (terms found only in the document's title count title_term_weight), the passage's similarity,
    # a bonus for a number when the question wants one or a new name for "who"; minus a penalty per
    # passage rank and for overlong sentences. The best short_list go on to be scored by meaning.
    word_score: dict[str, float] = field(default_factory=lambda: {"words": 0.65, "passage": 0.35, "bonus": 0.1})
    title_term_weight: float = 0.5
    rank_penalty: float = 0.02
    long_sentence_chars: int = 600
    long_sentence_penalty: float = 0.1
    short_list: int = 6
    # --- the final score --------------------------------------------------------------------------
    # Calibrated with Settings.refusal_min_score on dev + holdout (187 questions): fact recall
    # 0.76 -> 0.83, refusal precision 0.53 -> 0.94. Fitted on random halves and scored on the other
    # halves, meaning beat word scores alone in 9 of 10 splits. Re-scoring every sentence (~23 a
    # question) gained nothing over a short-list of 6 at four times the model time; a sentence's
    # first embedded_chars characters carry its meaning.
    weights: dict[str, float] = field(default_factory=lambda: {"words": 0.3, "sentence": 0.5, "passage": 0.35})
    bonus: float = 0.1
    embedded_chars: int = 300
    # Sentences quoted together: those scoring at least this share of the best one.
    pick_share: float = 0.6


DEFAULT_SCORING = Scoring()
