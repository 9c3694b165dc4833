"""Evaluation: question sets (JSONL), per-question scores and totals.

Metrics (all in 0..1):
- retrieval: hit@1, hit@5, MRR@10, recall@k of expected sources;
- answers: key-fact recall (answerable questions whose answer contains one expected fact),
  refusal precision and recall (positive class: the question is unanswerable),
  citation precision (citations whose quote really occurs in the cited chunk and supports its
  sentence) and citation recall (answer sentences carrying a verified citation), after ALCE.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .citations import quote_in_text, support
from .text import sentence_spans

K_RECALL = 5


@dataclass
class Question:
    question: str
    expected_sources: list[str] = field(default_factory=list)
    expected_facts: list[str] = field(default_factory=list)
    answerable: bool = True
    history: list[dict] = field(default_factory=list)
    reference_answer: str = ""
    id: str = ""

    @classmethod
    def from_dict(cls, row: dict, line: int = 0) -> "Question":
        if not isinstance(row.get("question"), str):
            raise ValueError(f"line {line}: 'question' (a string) is required")
        return cls(question=row["question"], expected_sources=list(row.get("expected_sources") or []),
                   expected_facts=list(row.get("expected_facts") or []),
                   answerable=bool(row.get("answerable", True)), history=list(row.get("history") or []),
                   reference_answer=row.get("reference_answer") or "", id=str(row.get("id") or line))


def load_questions(path: str | Path) -> list[Question]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
            questions.append(Question.from_dict(row, number))
    return questions


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("-\n", "")).strip().lower()


def source_matches(source: str, expected: list[str]) -> bool:
    name = Path(source).name
    return any(e and (e in name or e in source) for e in expected)


# --- per-question metrics --------------------------------------------------------------------

def hit_at(sources: list[str], expected: list[str], k: int) -> float:
    return float(any(source_matches(s, expected) for s in sources[:k]))


def reciprocal_rank(sources: list[str], expected: list[str], k: int = 10) -> float:
    for rank, source in enumerate(sources[:k], start=1):
        if source_matches(source, expected):
            return 1.0 / rank
    return 0.0


def recall_at(sources: list[str], expected: list[str], k: int) -> float:
    if not expected:
        return 0.0
    found = {e for e in expected for s in sources[:k] if e in Path(s).name or e in s}
    return len(found) / len(expected)


def fact_hit(answer: str, facts: list[str]) -> float:
    text = _norm(answer)
    return float(any(_norm(f) in text for f in facts))


def citation_precision(citations: list[dict], stored: dict[str, str], claims: dict[int, str]) -> float | None:
    """Share of citations whose quote is in the cited chunk and whose sentence it supports."""
    if not citations:
        return None
    good = 0
    for c in citations:
        text = stored.get(c["chunk_id"], "")
        claim = claims.get(c["n"], c["quote"])
        if quote_in_text(c["quote"], text) and support(claim, text) >= 0.5:
            good += 1
    return good / len(citations)


def statements(answer: str) -> list[tuple[str, list[int]]]:
    """Split an answer into statements, each with the citation numbers that close it. A statement
    ends at a run of markers ("... lives. [1]" or "... lives [1][2].") or at a sentence end."""
    out: list[tuple[str, list[int]]] = []
    for match in re.finditer(r"(.*?)((?:\s*\[\d+\])+)[.;,]?|(.+?)$", answer, re.S):
        body = match.group(1) if match.group(2) else match.group(3)
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", match.group(2) or "")]
        if not body:
            continue
        if numbers:
            out.append((body.strip(), numbers))
        else:  # uncited text: every sentence of it is a statement without a citation
            out.extend((body[a:b], []) for a, b in sentence_spans(body))
    return [(text, numbers) for text, numbers in out if re.search(r"\w{3}", text)]


def citation_recall(answer: str, citations: list[dict]) -> float | None:
    """Share of answer statements that carry at least one verified citation."""
    found = statements(answer)
    if not found:
        return None
    verified = {c["n"] for c in citations if c.get("verified")}
    return sum(1 for _, numbers in found if set(numbers) & verified) / len(found)


def claims_of(answer: str, citations: list[dict]) -> dict[int, str]:
    claims: dict[int, str] = {}
    for text, numbers in statements(answer):
        for n in numbers:
            claims.setdefault(n, text)
    return claims


def refusal_scores(predicted: list[bool], unanswerable: list[bool]) -> tuple[float, float]:
    """Precision and recall of refusals, with 'the question is unanswerable' as the positive class."""
    true_pos = sum(p and u for p, u in zip(predicted, unanswerable))
    precision = true_pos / sum(predicted) if any(predicted) else (1.0 if not any(unanswerable) else 0.0)
    recall = true_pos / sum(unanswerable) if any(unanswerable) else 1.0
    return precision, recall


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[index]


# --- running a set -----------------------------------------------------------------------------

def score_question(q: Question, sources: list[str], answer: dict, stored: dict[str, str]) -> dict:
    row = {"id": q.id, "question": q.question, "answerable": q.answerable,
           "refused": answer["refused"], "answer": answer["answer"],
           "sources": [Path(s).name for s in sources[:5]],
           "citations": answer["citations"], "timings_ms": answer.get("timings_ms", {})}
    if q.answerable and q.expected_sources:
        row |= {"hit@1": hit_at(sources, q.expected_sources, 1),
                "hit@5": hit_at(sources, q.expected_sources, 5),
                "mrr@10": reciprocal_rank(sources, q.expected_sources, 10),
                f"recall@{K_RECALL}": recall_at(sources, q.expected_sources, K_RECALL)}
    if q.answerable and q.expected_facts:
        row["fact_recall"] = 0.0 if answer["refused"] else fact_hit(answer["answer"], q.expected_facts)
    if not answer["refused"]:
        claims = claims_of(answer["answer"], answer["citations"])
        precision = citation_precision(answer["citations"], stored, claims)
        recall = citation_recall(answer["answer"], answer["citations"])
        if precision is not None:
            row["citation_precision"] = precision
        if recall is not None:
            row["citation_recall"] = recall
    return row


METRICS = ["hit@1", "hit@5", "mrr@10", f"recall@{K_RECALL}", "fact_recall", "refusal_precision",
           "refusal_recall", "citation_precision", "citation_recall"]


def summarise(rows: list[dict]) -> dict:
    totals: dict[str, float] = {}
    for metric in ["hit@1", "hit@5", "mrr@10", f"recall@{K_RECALL}", "fact_recall",
                   "citation_precision", "citation_recall"]:
        values = [r[metric] for r in rows if metric in r]
        totals[metric] = sum(values) / len(values) if values else 0.0
    precision, recall = refusal_scores([r["refused"] for r in rows], [not r["answerable"] for r in rows])
    totals["refusal_precision"], totals["refusal_recall"] = precision, recall
    latency = {}
    for stage in ("retrieve", "answer"):
        values = [r["timings_ms"].get(stage, 0.0) for r in rows if r.get("timings_ms")]
        latency[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    return {"questions": len(rows), "metrics": totals, "latency_ms": latency}


def evaluate(assistant, questions: list[Question], answerer: str | None = None, k: int = 10) -> dict:
    rows = []
    for q in questions:
        answer = assistant.ask(q.question, history=q.history or None, answerer=answer_kind(answerer))
        retrieved = assistant.search(answer.search_query or q.question, k=k)
        sources = [h.source for h in retrieved]
        stored = {c.id: c.text for c in assistant.store.get_chunks([c.chunk_id for c in answer.citations])}
        rows.append(score_question(q, sources, answer.to_dict(), stored))
    return {"summary": summarise(rows), "questions": rows}


def answer_kind(name: str | None) -> str | None:
    return name or None
