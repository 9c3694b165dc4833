"""The chat: ask, read the answer and its sources, narrow the search, export the conversation."""
from __future__ import annotations

import uuid
from datetime import date

import streamlit as st

from ui.markdown import conversation_markdown, documents_markdown, escape_markdown
from ui import state
from ui.views import ASSISTANT_AVATAR, FULL_TURNS, Turn, earlier_markdown, show_question, show_turn, stream_answer

EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)

config = state.settings()
helper = state.assistant_or_stop()
turns: list[Turn] = st.session_state.setdefault("turns", [])

# --- sidebar: conversation, filters, documents ------------------------------------------------
with st.sidebar:
    if st.button("New conversation", icon=":material/add_comment:", width="stretch"):
        turns.clear()
        st.session_state.pop("feedback_sent", None)
    # Filled at the end of the run, so that it includes the answer given in this run.
    export_slot = st.empty()

    documents = []
    with state.plain_errors("listing the documents"):
        documents = helper.documents()
    titles = {d.source: d.title or d.source.rsplit("/", 1)[-1] for d in documents}

    st.subheader("Search in")
    chosen = st.multiselect("Only these documents", options=list(titles), format_func=titles.get,
                            placeholder="All documents", key="filter_sources")
    if chosen:
        # The narrow sidebar cuts long titles in the list and in the chips: the full titles of what is
        # chosen are spelled out below it.
        st.caption("Searching only: " + "; ".join(f"“{escape_markdown(titles[s])}”" for s in chosen))
    # Any plausible publication date: Streamlit's default range is only today ± 10 years, which
    # turned 01/01/2016 red and left a 2012 mandate outside every "from" date.
    date_from = st.date_input("Published on or after", value=None, key="filter_from", format="DD/MM/YYYY",
                              min_value=EARLIEST_DATE, max_value=LATEST_DATE)
    date_to = st.date_input("Published on or before", value=None, key="filter_to", format="DD/MM/YYYY",
                            min_value=EARLIEST_DATE, max_value=LATEST_DATE)
    if date_from or date_to:
        st.caption("Documents with no publication date are left out while a date is set.")
    as_of = st.date_input("Answer as of", value=None, key="filter_as_of", format="DD/MM/YYYY",
                          min_value=EARLIEST_DATE, max_value=LATEST_DATE,
                          help="Answer from the versions of each document in force on this date. "
                               "Empty: today's versions are preferred.")
    kinds = state.answerer_choices(config)
    answerer = "extractive"
    if len(kinds) > 1:
        answerer = st.radio("Answers written by", kinds, format_func=state.ANSWERER_LABELS.get,
                            index=kinds.index(config.answerer) if config.answerer in kinds else 0)

    st.subheader(f"Documents in the index ({len(documents)})")
    if documents:
        facts = {}
        with state.plain_errors("reading the documents' dates and versions"):
            facts = helper.library.facts()
        order = st.selectbox("Sort by", ["title", "published", "version", "status"], key="documents_sort",
                             format_func=lambda key: "date" if key == "published" else key)
        position = {row["source"]: i for i, row in enumerate(helper.document_rows(sort=order))}
        documents = sorted(documents, key=lambda d: position.get(d.source, len(position)))
        # In the sidebar's own scroll, not a scroll area inside it (two nested scrolls confused readers).
        st.markdown(documents_markdown(documents, limit=300, facts=facts))
    else:
        st.caption("The index is empty. A maintainer can add documents on the maintainer page.")


def scope_in_words(sources: list[str], start: date | None, end: date | None, on: date | None = None) -> str:
    parts = []
    if on:
        parts.append(f"the versions in force on {on:%d %B %Y}")
    if sources:
        parts.append(f"“{titles[sources[0]]}”" if len(sources) == 1 else f"{len(sources)} chosen documents")
    if start and end:
        parts.append(f"dated {start:%d %B %Y} to {end:%d %B %Y}")
    elif start:
        parts.append(f"dated on or after {start:%d %B %Y}")
    elif end:
        parts.append(f"dated on or before {end:%d %B %Y}")
    return ", ".join(parts)


# --- the conversation --------------------------------------------------------------------------
st.title("Policy assistant")
st.caption("Ask about health and social care integration policy. Answers are taken from the documents "
           "in the index, and every sentence is numbered [1], [2] … to the passage it quotes.")

hint = st.empty()
if not turns:
    hint.info("Try: *What are ICBs and local authorities asked to do about neighbourhood health in 2025/26?* "
              "or *How often will NHS England run the segmentation process for providers?*",
              icon=":material/lightbulb:")

# Every run of the page draws the conversation again: the latest turns in full (sources, feedback),
# the earlier ones as one block of text, so that the hundredth answer costs what the tenth did.
earlier, recent = turns[:-FULL_TURNS], turns[-FULL_TURNS:]
if earlier:
    with st.expander(f"Earlier in this conversation ({len(earlier)} questions)", icon=":material/history:"):
        st.markdown(earlier_markdown(earlier))
for turn in recent:
    show_turn(turn, config.feedback_path)

# Questions wait in a queue that only an answer empties (30 sent in 8 s left 2 before). While one is
# answered the box is closed: Streamlit merges two sends that reach the server within one run into the
# later one, so a question typed during an answer could vanish; closed, it waits in the box instead.
pending: list[dict] = st.session_state.setdefault("pending_questions", [])
question = st.chat_input("Ask a question about the policy documents", key="question_box", disabled=bool(pending))
if question:
    pending.append({"question": question, "sources": chosen or None,
                    "date_from": date_from.isoformat() if date_from else None,
                    "date_to": date_to.isoformat() if date_to else None,
                    "as_of": as_of.isoformat() if as_of else None,
                    "answerer": answerer, "scope": scope_in_words(chosen, date_from, date_to, as_of)})
    if len(pending) == 1:
        st.rerun()  # draw the box closed before the answer is worked out
if pending:
    hint.empty()
    asked = pending[0]
    for waiting in pending:
        show_question(waiting["question"])
    history = [message for t in turns for message in (
        {"role": "user", "content": t.question}, {"role": "assistant", "content": t.answer.answer})]
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        answer = None
        with state.plain_errors("answering"):
            with st.spinner("Searching the documents…"):
                pieces = helper.stream(asked["question"], history, sources=asked["sources"],
                                       date_from=asked["date_from"], date_to=asked["date_to"],
                                       answerer=asked["answerer"], as_of=asked.get("as_of"))
                answer = stream_answer(pieces)
        if answer is not None:
            turns.append(Turn(id=uuid.uuid4().hex, question=asked["question"], answer=answer, history=history,
                              scope=asked["scope"]))
        pending.pop(0)  # answered, or failed with the reason on the page: not asked again
        if answer is not None:
            # Draw it again through the history loop: widgets and open/closed sources then keep
            # the same identity on every later run (a new question would otherwise fold them).
            st.rerun()

export_slot.download_button(
    "Download conversation", data=lambda: conversation_markdown([t.answer for t in turns],
                                                                 scopes=[t.scope for t in turns]),
    file_name="policy-assistant-conversation.md", mime="text/markdown", disabled=not turns,
    icon=":material/download:", width="stretch", on_click="ignore",
    help="The questions, answers and quoted sources as a Markdown file")
