"""What every page shares: Settings, the one Assistant per process, plain error messages."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from access.policy import ANONYMOUS, User, sign_in_expired, user_from_claims
from access.records import Records
from assistant import Assistant
from assistant.limits import SlidingWindow
from index.answerers import ANSWERERS
from index.embedding import Embedder
from index.settings import Settings
from index.store import StoreError

log = logging.getLogger("policy_assistant.ui")

ANSWERER_LABELS = {name: kind.label for name, kind in ANSWERERS.items()}


def settings() -> Settings:
    """Read from POLICY_ASSISTANT_* on every run: cheap, and `serve` sets them before starting."""
    return Settings()


@st.cache_resource(show_spinner="Loading the search model…")
def _embedder(model: str, backend: str, batch_size: int, onnx_cache: str | None) -> Embedder:
    embedder = Embedder(model, backend, batch_size, onnx_cache)
    embedder.warm_up()
    return embedder


@st.cache_resource(show_spinner="Opening the document index…")
def _assistant(store: str, chroma_url: str | None, model: str, backend: str) -> Assistant:
    # The arguments only key the cache (one Assistant per store); the values come from Settings.
    config = settings()
    cache = str(config.onnx_cache) if config.onnx_cache else None
    helper = Assistant(settings=config, embedder=_embedder(model, backend, config.embed_batch_size, cache))
    helper.warm_up()
    return helper


def assistant() -> Assistant:
    """The process-wide Assistant for the configured store (model and keyword index load once)."""
    config = settings()
    return _assistant(str(config.store), config.chroma_url, config.embedding_model, config.embedding_backend)


@st.cache_resource
def _records(path: str, retention_days: int) -> Records:
    return Records(Path(path), retention_days)


def records() -> Records:
    """The saved conversations and the audit log (access/records.py), one object per process."""
    config = settings()
    return _records(str(config.records_path), config.audit_retention_days)


def current_user(config: Settings) -> User:
    """Who is reading. Without an identity provider configured: the one anonymous user, as before
    sign-in existed. With one: the signed-in user (from the ID token's claims), or the sign-in page
    and the end of this run. A forged or expired cookie reads as not signed in (Streamlit checks
    its signature), so it gets the sign-in page too."""
    if not config.sign_in:
        return ANONYMOUS
    expired = st.user.is_logged_in and sign_in_expired(st.user.to_dict(), config.sign_in_max_hours)
    if not st.user.is_logged_in or expired:
        st.title("Policy assistant")
        if expired:
            st.info(f"Your sign-in is more than {config.sign_in_max_hours:g} hours old: please sign in again.",
                    icon=":material/schedule:")
        st.write("Sign in with your organisation account to ask about the policy documents.")
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
        st.stop()
    try:
        return user_from_claims(st.user.to_dict(), config)
    except ValueError as exc:
        st.error(f"Your sign-in could not be used: {exc}.", icon=":material/error:")
        st.button("Sign out", on_click=st.logout)
        st.stop()


def sign_out_button(user: User) -> None:
    if user is not ANONYMOUS and st.user.is_logged_in:
        st.caption(f"Signed in as {user.label}")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out", width="stretch")


def answerer_choices(config: Settings) -> list[str]:
    """The extractive answerer always; language models only when the server is configured for one."""
    kinds = ["extractive"]
    if config.answerer != "extractive":
        kinds.append(config.answerer)
    if config.gguf_path:
        kinds.append("gguf")
    if config.llm_model or config.llm_base_url:
        kinds.append("openai" if config.llm_api_key.get_secret_value() else "ollama")
    return list(dict.fromkeys(kinds))


@contextmanager
def plain_errors(doing: str):
    """Show a failure as one calm sentence, never a traceback (that goes to the server log)."""
    try:
        yield
    except StoreError:
        # The reason names the server's folders: it goes to the log, the reader gets a sentence.
        log.exception("store failure while %s", doing)
        st.error("The document index cannot be used right now. Please try again in a moment, "
                 "or ask the maintainer to check the store (the details are in the server log).",
                 icon=":material/error:")
    except ImportError as exc:
        st.error(f"This option is not installed on the server: {exc}.", icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - the page must stay usable whatever failed
        log.exception("UI failure while %s", doing)
        st.error(f"Something went wrong while {doing}: {type(exc).__name__}. The details are in the "
                 "server log.", icon=":material/error:")


def assistant_or_stop() -> Assistant:
    """The Assistant, or a plain error on the page and the end of this run."""
    with plain_errors("opening the document index"):
        return assistant()
    st.stop()


# Wrong maintainer tokens, counted for the whole server: at most 5 in 60 seconds, then no token is
# checked until the oldest falls out of the window (40 guesses took 22 seconds before). Server-wide
# because a new browser session costs an attacker nothing.
token_attempts = SlidingWindow(limit=5, window_s=60.0)
