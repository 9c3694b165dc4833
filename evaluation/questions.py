"""Question sets: one JSON object a line (see README, Evaluation), read into ``Question``s."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import UsageError


UNANSWERABLE_KINDS = ("near-miss", "off-topic")


@dataclass
class Question:
    question: str
    expected_sources: list[str] = field(default_factory=list)
    expected_facts: list[str] = field(default_factory=list)
    answerable: bool = True
    history: list[dict] = field(default_factory=list)
    reference_answer: str = ""
    id: str = ""
    needs_review: bool = False  # rows made from thumbs-down feedback: not scored until reviewed
    unanswerable_kind: str = ""  # "near-miss" or "off-topic", for unanswerable questions
    sources: list[str] = field(default_factory=list)  # search filters in force, as in the chat's sidebar
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def from_dict(cls, row: dict, line: int = 0) -> "Question":
        where = f"line {line}"
        if not isinstance(row, dict):
            raise UsageError(f"{where}: each line must be a JSON object")
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            raise UsageError(f"{where}: 'question' (a non-empty string) is required")
        for name in ("expected_sources", "expected_facts"):
            value = row.get(name) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{where}: '{name}' must be a list of strings")
        answerable = row.get("answerable", True)
        if not isinstance(answerable, bool):  # "false" as a string would silently count as true
            raise UsageError(f"{where}: 'answerable' must be true or false")
        kind = row.get("unanswerable_kind") or ""
        if kind and (answerable or kind not in UNANSWERABLE_KINDS):
            raise UsageError(f"{where}: 'unanswerable_kind' is one of {', '.join(UNANSWERABLE_KINDS)}, "
                             "on unanswerable questions only")
        sources = row.get("sources") or []
        if not isinstance(sources, list) or not all(isinstance(v, str) for v in sources):
            raise UsageError(f"{where}: 'sources' must be a list of strings")
        dates = {}
        for name in ("date_from", "date_to"):
            value = row.get(name)
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                raise UsageError(f"{where}: '{name}' must be a date as YYYY-MM-DD")
            dates[name] = value
        history = row.get("history") or []
        if not isinstance(history, list) or not all(isinstance(t, dict) and isinstance(t.get("content"), str)
                                                    for t in history):
            raise UsageError(f"{where}: 'history' must be a list of {{\"role\", \"content\"}} objects")
        return cls(question=row["question"], expected_sources=list(row.get("expected_sources") or []),
                   expected_facts=list(row.get("expected_facts") or []), answerable=answerable,
                   history=history, reference_answer=str(row.get("reference_answer") or ""),
                   id=str(row.get("id") or f"line-{line}"), needs_review=bool(row.get("needs_review")),
                   unanswerable_kind=kind, sources=sources, **dates)


def load_questions(path: str | Path) -> list[Question]:
    """Read a JSONL question set; a bad file or row raises ValueError naming the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read question set {path}: {getattr(exc, 'strerror', None) or exc}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not JSON ({exc.msg})") from None
        try:
            questions.append(Question.from_dict(row, number))
        except ValueError as exc:
            raise UsageError(f"{path}: {exc}") from None
    if not questions:
        raise UsageError(f"{path}: no questions in the file")
    return questions
