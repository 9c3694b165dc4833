"""Per-question scores and their totals.

Metrics (all in 0..1; ``None`` where a set gives nothing to measure, never a made-up 0 or 1):
- retrieval: hit@1, hit@5, MRR@10, recall@5 of the expected sources, over the top 10 passages
  of the same hybrid search the answer used (for the rewritten question, on follow-ups);
- answers: key-fact recall (answerable questions whose answer contains one of the expected facts);
  refusal precision and recall, with "the question is unanswerable" as the positive class;
- citations, after ALCE (Gao et al., 2023), with word overlap standing in for ALCE's NLI model:
  a citation is *precise* when its quote occurs in the text the store holds for the cited chunk
  (and that chunk belongs to the cited document) and the passage supports the statement citing it
  (alone, or as a necessary part of the statement's cited passages); citation precision is the
  share of (statement, citation) pairs that are precise. Citation recall is the share of answer
  statements whose cited, verified passages together support them;
- optional, off by default: faithfulness judged by an LLM (share of answer statements the judge
  says the retrieved passages support). Labelled as LLM-judged wherever it is shown.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from assistant.citations import SUPPORT_THRESHOLD, quote_in_text, support
from assistant.english import sentence_spans
from ingest.clean import repair_ligatures
from .questions import Question


K_RECALL = 5


K_RANKING = 10


RETRIEVAL = ["hit@1", "hit@5", "mrr@10", f"recall@{K_RECALL}"]


ANSWERS = ["fact_recall", "refusal_precision", "refusal_recall", "refusal_accuracy", "near_miss_refusal",
           "off_topic_refusal", "clean_quotes"]


# Per-question figures that are averaged as they are (the refusal ones are set-level).
PER_QUESTION = ["fact_recall", "near_miss_refusal", "off_topic_refusal", "clean_quotes"]


CITATIONS = ["citation_precision", "citation_recall"]


JUDGED = ["faithfulness_llm_judged"]


METRICS = RETRIEVAL + ANSWERS + CITATIONS + JUDGED


STAGES = ["retrieve", "answer", "total"]


DESCRIPTIONS = {
    "hit@1": "an expected source is the first passage",
    "hit@5": "an expected source is among the first 5 passages",
    "mrr@10": "1 / rank of the first expected source in the first 10 (0 if none)",
    f"recall@{K_RECALL}": f"share of the expected sources found in the first {K_RECALL} passages",
    "fact_recall": "answerable questions whose answer contains an expected fact (a refusal scores 0)",
    "refusal_precision": "refusals that were for unanswerable questions",
    "refusal_recall": "unanswerable questions that were refused",
    "refusal_accuracy": "questions whose refuse-or-answer decision was right",
    "near_miss_refusal": "near-miss questions (on topic, asking for something the documents do not state) refused",
    "off_topic_refusal": "off-topic questions (pay, leave, parking, trivia) refused",
    "clean_quotes": "answers whose quotes carry no markup, escape or reference marker",
    "citation_precision": "citations whose quote is in the stored chunk and supports its statement",
    "citation_recall": "answer statements supported by their verified citations",
    "faithfulness_llm_judged": "statements an LLM judge says the retrieved passages support (LLM-judged)",
}


def source_matches(source: str, expected: str) -> bool:
    """An expected source is a file name or any part of the path (case-insensitive)."""
    return bool(expected) and expected.lower() in source.lower()


def hit_at(sources: list[str], expected: list[str], k: int) -> float:
    return float(any(source_matches(s, e) for s in sources[:k] for e in expected))


def reciprocal_rank(sources: list[str], expected: list[str], k: int = K_RANKING) -> float:
    for rank, source in enumerate(sources[:k], start=1):
        if any(source_matches(source, e) for e in expected):
            return 1.0 / rank
    return 0.0


def recall_at(sources: list[str], expected: list[str], k: int) -> float:
    """Share of the expected sources that appear in the first k passages."""
    wanted = [e for e in dict.fromkeys(expected) if e]
    if not wanted:
        raise ValueError("recall needs at least one expected source")
    found = [e for e in wanted if any(source_matches(s, e) for s in sources[:k])]
    return len(found) / len(wanted)


_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """Case, whitespace, curly quotes and dashes do not decide whether a fact was stated, nor a word
    split where a PDF lost its "ll" ligature: "Wel being" copied from a broken conversion is the
    "Well being" that ingest mends it to (ingest/clean.py, repair_ligatures)."""
    text = repair_ligatures(text.translate(_TYPOGRAPHY).replace("-\n", ""))
    return re.sub(r"\s+", " ", text).strip().lower()


def fact_hit(answer: str, facts: list[str]) -> float:
    text = normalise(answer)
    return float(any(normalise(f) and normalise(f) in text for f in facts))


_MARKER = re.compile(r"\[(\d+)\]")


# What must never reach a quote: Markdown emphasis, escapes and link syntax, HTML tags and
# entities, and a paper's reference markers (which would read as the answer's own [n]).
_MARKUP = re.compile(r"\*\*|__|\\[^\sA-Za-z0-9]|\]\(|<[a-z/!][^>]{0,80}>|&[a-z]+;|&#\d+;"
                     r"|\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]|(?:^|\s)#{1,6}\s|(?<![\w*])\*\w[^*\n]{0,80}\w\*(?![\w*])", re.I)


def markup_in(quote: str) -> list[str]:
    """The markup left in a quoted passage (empty when it reads as plain text)."""
    return [m.group(0) for m in _MARKUP.finditer(quote)]


def statements(answer: str, known: set[int] | None = None) -> list[tuple[str, list[int]]]:
    """Split an answer into statements, each with the citation numbers that close it. A statement
    is the text from the previous run of markers up to the next one ("... lives. [1]" or
    "... lives [1][2]."), so a quoted list stays one statement; text after the last run is split
    into sentences, each uncited. With ``known``, bracketed numbers that are not citation numbers
    ("[2015]" quoted from a NICE guideline) are text, not markers."""
    runs: list[tuple[int, int, list[int]]] = []  # (start, end, numbers) of adjacent markers
    for match in _MARKER.finditer(answer):
        number = int(match.group(1))
        if known is not None and number not in known:
            continue
        if runs and not answer[runs[-1][1]:match.start()].strip():
            start, _, numbers = runs[-1]
            runs[-1] = (start, match.end(), numbers + [number])
        else:
            runs.append((match.start(), match.end(), [number]))
    out: list[tuple[str, list[int]]] = []
    cursor = 0
    for start, end, numbers in runs:
        out.append((answer[cursor:start].strip(), numbers))
        cursor = end + (1 if answer[end:end + 1] in (".", ";", ",") and end < len(answer) else 0)
    tail = answer[cursor:]
    out.extend((tail[a:b], []) for a, b in sentence_spans(tail))
    return [(text, numbers) for text, numbers in out if re.search(r"\w{3}", text)]


class StoredPassage(NamedTuple):
    source: str
    text: str


def citation_scores(answer: str, citations: list[dict],
                    stored: dict[str, StoredPassage]) -> tuple[float | None, float | None]:
    """(precision, recall) of an answer's citations against the store's own chunk texts.
    ``citations``: dicts with n, source, chunk_id, quote. ``stored``: chunk id -> StoredPassage.
    Either is None when there is nothing to measure (no citations / no statements)."""
    by_number = {c["n"]: c for c in citations}
    found = statements(answer, set(by_number))

    def verified_text(c: dict) -> str | None:
        passage = stored.get(c.get("chunk_id", ""))
        if passage is None or passage.source != c.get("source"):
            return None
        return passage.text if quote_in_text(c.get("quote", ""), passage.text) else None

    def supports(claim: str, texts: list[str]) -> bool:
        return bool(texts) and support(claim, "\n".join(texts)) >= SUPPORT_THRESHOLD

    precise = pairs = supported = 0
    cited_numbers: set[int] = set()
    for claim, numbers in found:
        cited_numbers.update(numbers)
        texts = {n: verified_text(by_number[n]) for n in dict.fromkeys(numbers)}
        valid = {n: t for n, t in texts.items() if t is not None}
        jointly = supports(claim, list(valid.values()))
        supported += jointly
        for n, text in texts.items():
            pairs += 1
            if text is None:
                continue
            others = [t for m, t in valid.items() if m != n]
            # ALCE: precise if it supports alone, or if the joint support fails without it.
            if supports(claim, [text]) or (jointly and not supports(claim, others)):
                precise += 1
    pairs += sum(1 for n in by_number if n not in cited_numbers)  # listed but cited by no statement
    precision = precise / pairs if pairs else None
    recall = supported / len(found) if found else None
    return precision, recall


def refusal_scores(refused: list[bool], unanswerable: list[bool]) -> tuple[float | None, float | None]:
    """(precision, recall) of refusals, positive class "unanswerable". None when undefined:
    precision when nothing was refused, recall when no question was unanswerable."""
    true_pos = sum(r and u for r, u in zip(refused, unanswerable))
    precision = true_pos / sum(refused) if any(refused) else None
    recall = true_pos / sum(unanswerable) if any(unanswerable) else None
    return precision, recall


def refusal_accuracy(refused: list[bool], unanswerable: list[bool]) -> float | None:
    """Share of questions refused exactly when unanswerable (None for no questions)."""
    return sum(r == u for r, u in zip(refused, unanswerable)) / len(refused) if refused else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every figure is one that was measured)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


JUDGE_PROMPT = (
    "You check answers against source passages. Reply with one word: YES if the statement is fully "
    "supported by the passages, NO otherwise.\n\nPassages:\n{passages}\n\nStatement: {statement}\n"
    "Supported (YES or NO):")


def judge_faithfulness(chat_model, answer: str, passages: list[str], known: set[int] | None = None) -> float | None:
    """Share of answer statements the model says the passages support. A reply that is neither
    yes nor no counts as not supported: an unclear judge must not flatter the answer."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate

    found = statements(answer, known)
    if not found or not passages:
        return None
    chain = PromptTemplate.from_template(JUDGE_PROMPT) | chat_model | StrOutputParser()
    joined = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, start=1))
    yes = 0
    for claim, _ in found:
        reply = chain.invoke({"passages": joined, "statement": claim}).strip().lower()
        yes += bool(re.match(r"\W*yes\b", reply))
    return yes / len(found)


def score_question(q: Question, sources: list[str], answer: dict,
                   stored: dict[str, StoredPassage]) -> dict:
    """Per-question figures. ``sources``: ranked source paths of the retrieval run;
    ``answer``: Answer.to_dict() (plus optional "contexts"); ``stored``: the store's chunk texts."""
    refused = bool(answer["refused"])
    row = {"id": q.id, "question": q.question, "answerable": q.answerable, "refused": refused,
           "refusal_correct": float(refused != q.answerable), "answer": answer["answer"],
           "expected_sources": q.expected_sources, "sources": sources[:K_RANKING],
           "citations": answer["citations"], "timings_ms": answer.get("timings_ms", {})}
    if q.answerable and q.expected_sources:
        row |= {"hit@1": hit_at(sources, q.expected_sources, 1),
                "hit@5": hit_at(sources, q.expected_sources, 5),
                "mrr@10": reciprocal_rank(sources, q.expected_sources, K_RANKING),
                f"recall@{K_RECALL}": recall_at(sources, q.expected_sources, K_RECALL)}
    if q.answerable and q.expected_facts:
        row["fact_recall"] = 0.0 if refused else fact_hit(answer["answer"], q.expected_facts)
    if q.unanswerable_kind:
        row["unanswerable_kind"] = q.unanswerable_kind
        row[q.unanswerable_kind.replace("-", "_") + "_refusal"] = float(refused)
    if not refused:
        row["clean_quotes"] = float(not any(markup_in(c.get("quote", "")) for c in answer["citations"]))
        precision, recall = citation_scores(answer["answer"], answer["citations"], stored)
        if precision is not None:
            row["citation_precision"] = precision
        if recall is not None:
            row["citation_recall"] = recall
    return row


def question_score(row: dict) -> float:
    """One number per question for ranking the worst: the mean of its own figures,
    with "refused when it should have (not)" counted like a metric. An unanswerable question
    scores its refusal decision alone: well-cited text is no merit in an answer that should not exist."""
    if not row["answerable"]:
        return row["refusal_correct"]
    values = [row[m] for m in RETRIEVAL + ["fact_recall"] + CITATIONS + JUDGED if row.get(m) is not None]
    values.append(row["refusal_correct"])
    return sum(values) / len(values)


def summarise(rows: list[dict]) -> dict:
    metrics: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for metric in RETRIEVAL + PER_QUESTION + CITATIONS + JUDGED:
        values = [r[metric] for r in rows if r.get(metric) is not None]
        counts[metric] = len(values)
        metrics[metric] = sum(values) / len(values) if values else None
    refused = [r["refused"] for r in rows]
    unanswerable = [not r["answerable"] for r in rows]
    metrics["refusal_precision"], metrics["refusal_recall"] = refusal_scores(refused, unanswerable)
    metrics["refusal_accuracy"] = refusal_accuracy(refused, unanswerable)
    counts["refusal_precision"], counts["refusal_recall"] = sum(refused), sum(unanswerable)
    counts["refusal_accuracy"] = len(rows)
    latency = {}
    for stage in STAGES:
        values = [r["timings_ms"][stage] for r in rows if stage in r.get("timings_ms", {})]
        latency[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
    confusion = {"refused_unanswerable": sum(r and u for r, u in zip(refused, unanswerable)),
                 "refused_answerable": sum(r and not u for r, u in zip(refused, unanswerable)),
                 "answered_unanswerable": sum(u and not r for r, u in zip(refused, unanswerable)),
                 "answered_answerable": sum(not r and not u for r, u in zip(refused, unanswerable))}
    return {"questions": len(rows), "metrics": {m: metrics.get(m) for m in METRICS},
            "measured_on": {m: counts[m] for m in METRICS}, "refusals": confusion, "latency_ms": latency}


def worst(rows: list[dict], n: int = 10) -> list[dict]:
    return sorted(rows, key=lambda r: (question_score(r), r["id"]))[:n]
