"""Run a question set through an Assistant and score every answer."""
from __future__ import annotations

import time
from typing import Callable

from .metrics import K_RANKING, StoredPassage, judge_faithfulness, question_score, score_question, summarise
from .questions import Question


def stored_passages(store, citations: list[dict]) -> dict[str, StoredPassage]:
    """The store's own text for each cited chunk: citations are checked against the index,
    not against anything the answer carries."""
    chunks = store.get_chunks([c["chunk_id"] for c in citations])
    return {c.id: StoredPassage(c.metadata.get("source", ""), c.text) for c in chunks}


def evaluate(assistant, questions: list[Question], answerer: str | None = None, judge=None,
             progress: Callable[[int, int], None] | None = None, user=None) -> dict:
    """Ask every question, score it, total the scores. ``judge``: a LangChain chat model for
    LLM-judged faithfulness, or None (the default: not judged). Questions flagged
    ``needs_review`` are skipped and counted."""
    scored = [q for q in questions if not q.needs_review]
    rows = []
    for index, q in enumerate(scored, start=1):
        started = time.perf_counter()
        answer = assistant.ask(q.question, history=q.history or None, answerer=answerer,
                               sources=q.sources or None, date_from=q.date_from, date_to=q.date_to, user=user)
        total_ms = (time.perf_counter() - started) * 1000
        # The same hybrid search the answer used, ranked deeper, for the retrieval metrics.
        ranked = (assistant.search(answer.search_query or q.question, k=K_RANKING, sources=q.sources or None,
                                   date_from=q.date_from, date_to=q.date_to, user=user) if answer.search_query else [])
        data = answer.to_dict()
        data["timings_ms"] = dict(data["timings_ms"], total=round(total_ms, 1))
        row = score_question(q, [h.source for h in ranked], data, stored_passages(assistant.store, data["citations"]))
        row["contexts"] = [h.text for h in answer.hits]
        row["context_sources"] = [h.source for h in answer.hits]
        row["reference_answer"] = q.reference_answer
        if q.history:
            row["history"] = q.history
        if judge is not None and not answer.refused:
            row["faithfulness_llm_judged"] = judge_faithfulness(
                judge, answer.answer, row["contexts"], {c.n for c in answer.citations})
        row["score"] = question_score(row)
        rows.append(row)
        if progress:
            progress(index, len(scored))
    summary = summarise(rows)
    summary |= {"skipped_needs_review": len(questions) - len(scored), "judged": judge is not None,
                "answerer": answerer or getattr(assistant, "answerer_name", "")}
    return {"summary": summary, "questions": rows}



def ragas_rows(rows: list[dict]) -> list[dict]:
    """Rows that RAGAS (question/answer/contexts/ground_truth) and DeepEval read."""
    return [{"question": r["question"], "answer": r["answer"], "contexts": r.get("contexts", []),
             "ground_truth": r.get("reference_answer", "")} for r in rows]
