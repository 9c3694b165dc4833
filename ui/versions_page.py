"""What changed between two versions of a document: passages added, removed and changed,
narrowed to a topic when one is typed."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import state
from ui.markdown import escape_markdown, readable_date

config = state.settings()
user = state.current_user(config)
helper = state.assistant_or_stop()
st.title("What changed")
st.caption("Documents with an earlier version in the index: compare a version with the one it replaced.")

facts = {}
with state.plain_errors("reading the documents' versions"):
    facts = helper.facts(user)
later = sorted((s for s, f in facts.items() if f.previous), key=lambda s: (facts[s].title or s).lower())
if not later:
    st.info("No document in the index has an earlier version. A new version is linked to the one it "
            "replaces when it says so (\u201cThis guidance replaces \u2026\u201d), when a facts file names it, or "
            "when its text is nearly the same under a similar title.", icon=":material/info:")
    st.stop()


def label(source: str) -> str:
    f = facts[source]
    version = f" (version {f.version})" if f.version else ""
    return f"{f.title or Path(source).name}{version}, {readable_date(f.effective)}"


chosen = st.selectbox("Document", later, format_func=label, key="changes_document")
earlier = facts[chosen].previous
st.caption(escape_markdown(f"Compared with the version it replaced: {label(earlier)}."))
topic = st.text_input("Only changes about", key="changes_topic", placeholder="e.g. discharge funding")
found = []
with state.plain_errors("comparing the versions"):
    found = helper.changes(chosen, topic=topic, user=user)
if not found:
    st.info("No passage changed" + (f" about \u201c{escape_markdown(topic)}\u201d." if topic else "."),
            icon=":material/check:")
counts = {kind: sum(1 for c in found if c.kind == kind) for kind in ("changed", "added", "removed")}
if found:
    st.caption(", ".join(f"{n} {kind}" for kind, n in counts.items() if n))
for change in found:
    with st.container(border=True):
        if change.kind == "changed":
            st.markdown(":orange-badge[Changed]")
            st.markdown(f":red[~~{escape_markdown(change.before)}~~]")
            st.markdown(f":green[{escape_markdown(change.after)}]")
        elif change.kind == "added":
            st.markdown(":green-badge[Added]  \n" + escape_markdown(change.after))
        else:
            st.markdown(":red-badge[Removed]  \n" + escape_markdown(change.before))
