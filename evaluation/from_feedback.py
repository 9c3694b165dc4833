"""Readers' thumbs up/down (the store's feedback.jsonl) turned into question-set rows."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.feedback import RATINGS as FEEDBACK_RATINGS


# The chat writes assistant.feedback.RATINGS; hand-made or other tools' files use these too.
RATINGS = {**FEEDBACK_RATINGS, "1": True, "0": False, "+1": True, "-1": False,
           "true": True, "false": False, "thumbs_up": True, "thumbs_down": False}


def rating_of(value) -> bool | None:
    """True for thumbs up, False for thumbs down, None when the rating is not one of those."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return {1: True, 0: False, -1: False}.get(value)
    return RATINGS.get(str(value).strip().lower()) if value is not None else None


@dataclass
class FeedbackConversion:
    questions: list[dict]
    skipped: int  # unreadable lines, missing questions, unknown ratings


def questions_from_feedback(lines: list[str]) -> FeedbackConversion:
    """UI feedback (JSONL: question, answer, citations [{source, ...}], rating, comment, timestamp,
    optional history and refused; see assistant/feedback.py) -> question-set rows. Thumbs up:
    answerable, the cited files as expected sources, the liked answer as reference; thumbs up on a
    refusal: unanswerable. Thumbs down (or up without any cited file): answerable, no expected
    facts, flagged "needs_review", which evaluation skips until someone fills the row in."""
    out: list[dict] = []
    skipped = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        rating = rating_of(row.get("rating")) if isinstance(row, dict) else None
        question = row.get("question") if isinstance(row, dict) else None
        if rating is None or not isinstance(question, str) or not question.strip():
            skipped += 1
            continue
        sources = list(dict.fromkeys(Path(str(c.get("source", ""))).name
                                     for c in row.get("citations") or []
                                     if isinstance(c, dict) and c.get("source")))
        refused = row["refused"] if isinstance(row.get("refused"), bool) else not sources
        item = {"id": f"feedback-{row.get('id') or number}", "question": question.strip()}
        history = [{"role": str(t.get("role") or "user"), "content": t["content"]}
                   for t in row.get("history") or [] if isinstance(t, dict) and isinstance(t.get("content"), str)]
        if history:
            item["history"] = history
        item |= {"expected_sources": sources if rating and not refused else [], "expected_facts": []}
        if rating and refused:  # a liked refusal: the reader agrees the documents do not cover it
            item["answerable"] = False
        elif rating and sources:
            item |= {"answerable": True, "reference_answer": str(row.get("answer") or "")}
        else:  # disliked, or liked without a cited source: nothing to score until a person looks
            item |= {"answerable": True, "needs_review": True}
        if row.get("comment"):
            item["comment"] = str(row["comment"])
        if row.get("timestamp") is not None:
            item["feedback_timestamp"] = row["timestamp"]
        out.append(item)
    return FeedbackConversion(out, skipped)
