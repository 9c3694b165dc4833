"""Follow-up questions: make "what did he say about housing?" searchable on its own."""
from __future__ import annotations

from .text import ANAPHORA, entities, tokens


def needs_context(question: str) -> bool:
    words = [w.strip("?.,!;:'\"").lower() for w in question.split()]
    return any(w in ANAPHORA - {"the", "one"} for w in words) or len(tokens(question)) <= 1


def rewrite(question: str, history: list[dict] | None) -> str:
    """Deterministic rewrite: carry the previous question's names and key terms into this one."""
    previous = [turn.get("content", "") for turn in (history or []) if turn.get("role") == "user"]
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
    # A small model can ramble; fall back to the deterministic rewrite when it does.
    if not candidate or len(candidate) > 3 * len(question) + 200:
        return rewrite(question, history)
    return candidate
