"""Follow-up questions: make "what did he say about housing?" searchable on its own."""
from __future__ import annotations

import re

from .english import ANAPHORA, entities, tokens


# "And how many records ...?", "What about carers?": a question that continues the last one.
_CONTINUES = re.compile(r"^\s*(?:and|also|so|then|but|what about|how about)\b", re.I)


def needs_context(question: str) -> bool:
    words = [w.strip("?.,!;:'\"").lower() for w in question.split()]
    return (any(w in ANAPHORA - {"the", "one"} for w in words) or len(tokens(question)) <= 1
            or bool(_CONTINUES.match(question)))


# Every refusal the assistant writes starts with one of these (core.py).
_REFUSAL_OPENINGS = ("The documents in the index", "Please type a question")


def answered_questions(history: list[dict] | None) -> list[str]:
    """The user's earlier questions that were answered. A refused question names what the documents
    do not hold ("parking at Leeds General Infirmary"): carried into the next question, it would
    get that one refused for the same names."""
    turns = history or []
    questions = []
    for index, turn in enumerate(turns):
        if turn.get("role") != "user":
            continue
        reply = turns[index + 1] if index + 1 < len(turns) else {}
        refused = reply.get("role") == "assistant" and (
            reply.get("refused") is True or str(reply.get("content", "")).startswith(_REFUSAL_OPENINGS))
        if not refused:
            questions.append(turn.get("content", ""))
    return questions


def rewrite(question: str, history: list[dict] | None) -> str:
    """Deterministic rewrite: carry the previous answered question's names and key terms into this one."""
    previous = answered_questions(history)
    if not previous or not needs_context(question):
        return question
    last = previous[-1]
    carried = entities(last)
    if not carried:
        own = set(tokens(question))
        carried = [t for t in dict.fromkeys(tokens(last)) if t not in own][:6]
    extra = [c for c in dict.fromkeys(carried) if c.lower() not in question.lower()]
    return f"{question} ({' '.join(extra)})" if extra else question


CONDENSE_PROMPT = (
    "Rewrite the last question so that it can be understood without the conversation: replace "
    "pronouns with the people, organisations or documents they refer to. Reply with the rewritten "
    "question only.\n\nConversation:\n{history}\n\nLast question: {question}\nRewritten question:")


def condense_with_llm(question: str, history: list[dict] | None, chat_model) -> str:
    if not history or not needs_context(question):
        return question
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate

    lines = "\n".join(f"{t.get('role', 'user')}: {t.get('content', '')[:500]}" for t in history[-6:])
    chain = PromptTemplate.from_template(CONDENSE_PROMPT) | chat_model | StrOutputParser()
    rewritten = chain.invoke({"history": lines, "question": question}).strip().splitlines()
    candidate = rewritten[0].strip() if rewritten else ""
    # A small model can ramble, and a model that obeys an instruction in a passage it saw earlier
    # can "rewrite" the question into that instruction (it then steered retrieval): a rewrite may
    # only use words of the question and the conversation, else the deterministic rewrite is used.
    if not candidate or len(candidate) > 3 * len(question) + 200 or not _drawn_from(candidate, question, lines):
        return rewrite(question, history)
    return candidate


REWRITE_OWN_WORDS = 0.8  # share of a rewrite's content words that must come from the question or conversation


def _drawn_from(candidate: str, question: str, conversation: str) -> bool:
    words = set(tokens(candidate))
    known = set(tokens(question)) | set(tokens(conversation))
    return not words or len(words & known) / len(words) >= REWRITE_OWN_WORDS
