"""The chat: ask, read the answer and its sources, narrow the search, export the conversation; signed-in
users' conversations are saved, listed in the sidebar, resumable, renamable, deletable and shareable."""
from __future__ import annotations

import uuid
from datetime import date

import streamlit as st

from access.records import NotAllowed
from assistant import Answer
from ui.markdown import conversation_markdown, documents_markdown, escape_markdown
from ui import state
from ui.views import ASSISTANT_AVATAR, FULL_TURNS, Turn, earlier_markdown, show_question, show_turn, stream_answer

EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)

config = state.settings()
user = state.current_user(config)
helper = state.assistant_or_stop()
records = state.records()
turns: list[Turn] = st.session_state.setdefault("turns", [])
# Signed-in users' conversations are kept (access/records.py); the anonymous user's, as before sign-in
# existed, last as long as the tab: one shared anonymous list would show everyone's questions.
saving = config.sign_in


def open_conversation(conversation_id: str) -> None:
    """Load a saved conversation: one's own to go on with, or one shared by link (read, then any
    new question starts a conversation of one's own). Only if the reader may read every source."""
    try:
        found = records.open(conversation_id, user, may_read=lambda source: helper.may_read(source, user))
    except NotAllowed as exc:
        st.session_state["conversation_error"] = str(exc)
        return
    turns[:] = [Turn(id=uuid.uuid4().hex, question=t["question"], answer=Answer.from_record(t["answer"]),
                     scope=t.get("scope", "")) for t in found.turns]
    mine = found.owner == user.id
    st.session_state["conversation_id"] = found.id if mine else None
    st.session_state["shared_by"] = None if mine else found.owner
    records.log(user, "open_conversation", conversation=found.id, owner=found.owner)


def new_conversation() -> None:
    turns.clear()
    st.session_state.pop("feedback_sent", None)
    st.session_state["conversation_id"] = None
    st.session_state["shared_by"] = None
    if "conversation" in st.query_params:
        del st.query_params["conversation"]


linked = st.query_params.get("conversation")
if linked and st.session_state.get("conversation_linked") != linked:
    st.session_state["conversation_linked"] = linked  # opened once, not again on every rerun
    open_conversation(linked)

# --- sidebar: conversation, filters, documents ------------------------------------------------
with st.sidebar:
    st.button("New conversation", icon=":material/add_comment:", width="stretch", on_click=new_conversation)
    # Filled at the end of the run, so that it includes the answer given in this run.
    export_slot = st.empty()
    if saving:
        conversations_slot = st.container()  # filled at the end of the run, with this run's answer saved

    documents = []
    with state.plain_errors("listing the documents"):
        documents = helper.documents(user)
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
            facts = helper.catalogue.facts()
        order = st.selectbox("Sort by", ["title", "published", "version", "status"], key="documents_sort",
                             format_func=lambda key: "date" if key == "published" else key)
        position = {row["source"]: i for i, row in enumerate(helper.document_rows(sort=order, user=user))}
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

if error := st.session_state.pop("conversation_error", None):
    st.error(error[:1].upper() + error[1:] + ".", icon=":material/lock:")
if shared_by := st.session_state.get("shared_by"):
    st.info(f"A conversation shared by {shared_by}. A question you ask starts a conversation of your own.",
            icon=":material/share:")

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
                                       answerer=asked["answerer"], as_of=asked.get("as_of"), user=user)
                answer = stream_answer(pieces)
        if answer is not None:
            turns.append(Turn(id=uuid.uuid4().hex, question=asked["question"], answer=answer, history=history,
                              scope=asked["scope"]))
            with state.plain_errors("saving the conversation"):
                conversation_id = st.session_state.get("conversation_id")
                if saving:
                    if not conversation_id:
                        conversation_id = records.start(user, asked["question"])
                        st.session_state["conversation_id"] = conversation_id
                        st.session_state["shared_by"] = None
                    records.add_turn(conversation_id, user, {"question": asked["question"], "scope": asked["scope"],
                                                             "answer": answer.to_record()},
                                     [h.source for h in answer.hits] + [c.source for c in answer.citations])
                records.log_answer(user, answer, via="chat", conversation=conversation_id)
        pending.pop(0)  # answered, or failed with the reason on the page: not asked again
        if answer is not None:
            # Draw it again through the history loop: widgets and open/closed sources then keep
            # the same identity on every later run (a new question would otherwise fold them).
            st.rerun()

def show_conversations() -> None:
    """The user's saved conversations: open one; rename, share or delete the open one."""
    current = st.session_state.get("conversation_id")
    saved = records.conversations(user)
    st.subheader(f"Conversations ({len(saved)})")
    for item in saved[:50]:
        st.button(item.title, key=f"conversation-{item.id}", width="stretch",
                  type="primary" if item.id == current else "secondary",
                  on_click=open_conversation, args=(item.id,),
                  icon=":material/chat:" if item.id != current else ":material/chat_bubble:")
    this = next((item for item in saved if item.id == current), None)
    if this is None:
        return
    with st.expander("This conversation", icon=":material/edit:"):
        title = st.text_input("Name", value=this.title, key=f"title-{this.id}")
        if title != this.title and st.button("Rename", key=f"rename-{this.id}"):
            records.rename(this.id, user, title)
            st.rerun()
        shared = st.toggle("Share by link", value=this.shared, key=f"share-{this.id}",
                           help="People with the link can read it if they may read every document it quotes.")
        if shared != this.shared:
            records.share(this.id, user, shared)
            records.log(user, "share" if shared else "unshare", conversation=this.id)
        if shared:
            base = str(st.context.url or "").split("?")[0]
            st.code(f"{base}?conversation={this.id}", language=None)
        if st.button("Delete", key=f"delete-{this.id}", icon=":material/delete:"):
            records.delete(this.id, user)
            records.log(user, "delete_conversation", conversation=this.id)
            new_conversation()
            st.rerun()


if saving:
    with conversations_slot, state.plain_errors("listing your conversations"):
        show_conversations()

export_slot.download_button(
    "Download conversation", data=lambda: conversation_markdown([t.answer for t in turns],
                                                                 scopes=[t.scope for t in turns]),
    file_name="policy-assistant-conversation.md", mime="text/markdown", disabled=not turns,
    icon=":material/download:", width="stretch", on_click="ignore",
    help="The questions, answers and quoted sources as a Markdown file")
