"""Readers' thumbs up/down on answers, one JSON object a line in the store (settings.feedback_path).

Each line holds what the evaluation command needs to turn it into a question
(``policy-assistant eval --from-feedback``): the question, the conversation before it, the answer,
its citations, the rating ("up" or "down"), an optional comment and a UTC timestamp.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock

from .answers import Answer

RATINGS = {"up": True, "down": False}  # what the chat writes, and what each rating means
MAX_COMMENT_CHARS = 2000


def feedback_record(answer: Answer, rating: str, comment: str = "", history: list[dict] | None = None,
                    answer_id: str | None = None) -> dict:
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    return {
        "id": answer_id or uuid.uuid4().hex,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": (comment or "").strip()[:MAX_COMMENT_CHARS],
        "question": answer.question,
        "history": [{"role": t["role"], "content": t["content"]} for t in history or []],
        "answer": answer.answer,
        "refused": answer.refused,
        "answerer": answer.answerer,
        "citations": [c.to_dict() for c in answer.citations],
    }


def record_feedback(path: Path, answer: Answer, rating: str, comment: str = "",
                    history: list[dict] | None = None, answer_id: str | None = None) -> dict:
    """Append one feedback line to ``path`` (created with its folder if missing); returns it."""
    record = feedback_record(answer, rating, comment, history, answer_id)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    # Several browser sessions (threads) or servers may append at once: one writer at a time.
    with FileLock(str(path) + ".lock", timeout=10):
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
    return record


def read_feedback(path: Path) -> list[dict]:
    """All readable feedback lines, oldest first; a damaged line is skipped, not fatal."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("rating") in RATINGS:
            records.append(row)
    return records
