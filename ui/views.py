"""Pieces of the chat page: one answer with its sources and feedback. Everything from documents or
readers is shown through ``escape_markdown``: text, never HTML."""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import streamlit as st

from assistant import Answer, Citation
from assistant.feedback import record_feedback
from ui.markdown import (by_document, citation_label, document_label, escape_markdown, highlight_markdown,
                         standing_badge, standing_note)


ASSISTANT_AVATAR = ":material/policy:"
# Turns drawn in full (sources, downloads, feedback); earlier ones are drawn as one block of text.
FULL_TURNS = 10
USER_AVATAR = ":material/person:"


@dataclass
class Turn:
    """One question and its answer in this browser session."""
    id: str
    question: str
    answer: Answer
    history: list[dict] = field(default_factory=list)  # the conversation before the question
    scope: str = ""  # the filters in force, in words ("" = all documents)


def show_question(text: str) -> None:
    with st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(escape_markdown(text))


def stream_answer(pieces: Iterator[str | Answer]) -> Answer:
    """Show text as it arrives (escaped, with a cursor), return the final Answer."""
    box = st.empty()
    text, answer = "", None
    for piece in pieces:
        if isinstance(piece, Answer):
            answer = piece
        else:
            text += piece
            box.markdown(escape_markdown(text) + " ▌")
    box.empty()
    return answer


def show_answer(answer: Answer, scope: str = "") -> None:
    if answer.refused:
        st.info(escape_markdown(answer.answer), icon=":material/search_off:")
        if scope:
            st.caption(escape_markdown(f"Searched only {scope}. Clear the filters in the sidebar to "
                                       "search every document."))
        return
    st.markdown(escape_markdown(answer.answer))
    if scope:
        st.caption(escape_markdown(f"Searched only {scope}."))


def show_sources(answer: Answer, turn_id: str) -> None:
    """One fold per document (three quotes from one article were three identical folds), listing
    its citation numbers and pages; inside, each quote highlighted in its passage."""
    if not answer.citations:
        return
    st.caption("Sources: open one to read the quoted passages in their context.")
    for group in by_document(answer.citations):
        badge = standing_badge(group[0])
        label = escape_markdown(document_label(group)) + (f" {badge}" if badge else "")
        with st.expander(label, icon=":material/description:"):
            if standing_note(group[0]):
                st.warning(escape_markdown(standing_note(group[0])), icon=":material/history:")
            for citation in group:
                if len(group) > 1:
                    where = f", page {citation.page}" if citation.page else ""
                    st.caption(f"\\[{citation.n}\\]{escape_markdown(where)}")
                show_citation(citation)
            show_download(group[0], f"{turn_id}-{group[0].n}")


def show_citation(citation: Citation) -> None:
    passage, found = highlight_markdown(citation.context or citation.quote, citation.quote)
    if not found:  # the quote is not in the stored passage text: show both, plainly
        st.markdown(f"> {escape_markdown(' '.join(citation.quote.split()))}")
        st.caption("The passage this quote comes from:")
    st.markdown(passage)
    if citation.ocr:
        st.caption("This page was read by OCR from a scan: words and figures may be misread. "
                   "Check the original before relying on it.")
    if not citation.verified:
        st.warning("This quote could not be matched word for word to the stored document. "
                   "Read the document before relying on it.", icon=":material/warning:")


def show_download(citation: Citation, key: str) -> None:
    path = Path(citation.source)
    if path.is_file():
        # A file name is text: "![img](…)" or "**bold**" in a name must not render (button labels are Markdown).
        st.download_button(f"Download {escape_markdown(path.name)}", data=lambda: path.read_bytes(), file_name=path.name,
                           mime=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                           key=f"download-{key}", on_click="ignore", icon=":material/download:")
    else:
        st.caption(escape_markdown(f"The file {path.name} is no longer at its indexed location."))


def show_feedback(turn: Turn, feedback_path: Path) -> None:
    """Thumbs up/down, an optional comment, one JSONL line when sent."""
    sent = st.session_state.setdefault("feedback_sent", set())
    if error := st.session_state.pop(f"feedback-error-{turn.id}", None):
        st.error(error, icon=":material/error:")
    if turn.id in sent:
        st.caption("Thank you: your feedback was saved.")
        return
    rating = st.feedback("thumbs", key=f"rating-{turn.id}")
    if rating is None:
        return
    st.text_input("Anything to add? (optional)", key=f"comment-{turn.id}", max_chars=2000,
                  placeholder="What was missing, wrong or especially useful?")
    st.button("Send feedback", key=f"send-{turn.id}", on_click=_send_feedback, args=(turn, feedback_path))


def _send_feedback(turn: Turn, feedback_path: Path) -> None:
    rating = st.session_state.get(f"rating-{turn.id}")
    if rating is None:
        return
    comment = st.session_state.get(f"comment-{turn.id}", "")
    try:
        record_feedback(feedback_path, turn.answer, "up" if rating == 1 else "down", comment,
                        history=turn.history, answer_id=turn.id)
        from ui import state

        state.records().log(state.current_user(state.settings()), "feedback", turn.answer.question,
                            cited=[c.chunk_id for c in turn.answer.citations],
                            rating="up" if rating == 1 else "down", comment=comment, via="chat")
    except OSError as exc:
        st.session_state[f"feedback-error-{turn.id}"] = f"Your feedback could not be saved ({exc.strerror or exc})."
        return
    st.session_state.setdefault("feedback_sent", set()).add(turn.id)


def show_turn(turn: Turn, feedback_path: Path) -> None:
    show_question(turn.question)
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        show_answer(turn.answer, turn.scope)
        show_sources(turn.answer, turn.id)
        show_feedback(turn, feedback_path)


def earlier_markdown(turns: list[Turn]) -> str:
    """Earlier questions and answers as one escaped Markdown block, sources named, no widgets."""
    blocks = []
    for turn in turns:
        sources = "; ".join(dict.fromkeys(citation_label(c).split("] ", 1)[-1] for c in turn.answer.citations))
        blocks.append(f"**{escape_markdown(turn.question)}**\n\n{escape_markdown(turn.answer.answer)}"
                      + (f"\n\n*Sources: {escape_markdown(sources)}*" if sources else ""))
    return "\n\n---\n\n".join(blocks)

