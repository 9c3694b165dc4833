"""The policy assistant in the browser: `policy-assistant serve` (or `make run`) starts it.

Thin on purpose: the pages call `assistant` and `ingest`; settings come from POLICY_ASSISTANT_*."""
from pathlib import Path

import streamlit as st

# The tab icon is a file served by this app: a ":material/...:" icon is fetched from an external font
# host by every visitor, which an offline deployment cannot reach and should not call.
st.set_page_config(page_title="Policy assistant", page_icon=str(Path(__file__).with_name("icon.png")), layout="centered",
                   # "auto": open beside the chat on a desktop, folded away on a phone (it opened over the chat)
                   initial_sidebar_state="auto")
# Readers see plain messages; tracebacks go to the server log only.
st.set_option("client.showErrorDetails", "none")
st.set_option("client.toolbarMode", "minimal")

# With an identity provider configured, nothing but the sign-in page is drawn until the reader signs in.
from ui import state  # noqa: E402

reader = state.current_user(state.settings())
with st.sidebar:
    state.sign_out_button(reader)  # on every page

page = st.navigation([
    st.Page("chat_page.py", title="Ask", icon=":material/forum:", default=True),
    st.Page("versions_page.py", title="What changed", icon=":material/difference:"),
    st.Page("maintain_page.py", title="Maintainers", icon=":material/admin_panel_settings:"),
])
page.run()
