"""The maintainer page: add documents, re-ingest the corpus, remove a document, read the audit log.

With sign-in and POLICY_ASSISTANT_MAINTAINERS_GROUP set: for that group's members. Otherwise off
unless POLICY_ASSISTANT_ADMIN_TOKEN is set; then only for whoever types that token."""
from __future__ import annotations

import hashlib
import hmac
import math
import time
from pathlib import Path

import streamlit as st

from access.policy import User

from ui.markdown import escape_markdown
from datetime import date

from index.facts import STATUSES
from ingest.facts import write_sidecar
from ingest.loaders import SUPPORTED
from ingest.uploads import remove_document, save_uploads, unindexed_uploads, uploads_folder
from ui import state
from ingest.background import IndexRun, indexer

_EARLIEST, _LATEST = date(1900, 1, 1), date(2100, 12, 31)


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(iso) if iso else None


STATUS_WORDS = {"added": "Added", "updated": "Updated", "unchanged": "Unchanged", "removed": "Removed",
                "failed": "Not indexed", "rejected": "Not uploaded"}

st.title("Maintain the index")
config = state.settings()
reader = state.current_user(config)
by_group = config.sign_in and bool(config.maintainers_group)


def require_token(token: str) -> None:
    """The page goes on only for whoever types the maintainer token (or stops with the reason)."""
    if not token:
        st.info("The maintainer page is off. To turn it on, start the server with "
                "POLICY_ASSISTANT_ADMIN_TOKEN set to a token of your choice.", icon=":material/lock:")
        st.stop()
    entered = st.text_input("Maintainer token", type="password", key="maintainer_token")
    if not entered:
        st.caption("Enter the maintainer token to add, re-index or remove documents.")
        st.stop()
    if (wait := state.token_attempts.wait_s()) > 0:
        st.error(f"Too many wrong tokens. Try again in {math.ceil(wait)} s.", icon=":material/lock:")
        st.stop()
    if not hmac.compare_digest(entered.encode("utf-8"), token.encode("utf-8")):
        # A wrong token counts once, not again on every rerun of the page while it stays in the box.
        digest = hashlib.sha256(entered.encode("utf-8")).hexdigest()
        if st.session_state.get("last_wrong_token") != digest:
            st.session_state["last_wrong_token"] = digest
            state.token_attempts.add()
        st.error("That token is not right.", icon=":material/lock:")
        st.stop()
    st.button("Lock this page", icon=":material/lock:", help="Forget the token in this browser tab",
              on_click=lambda: st.session_state.update(maintainer_token=""))


if by_group:
    if not reader.maintainer:
        st.info(f"The maintainer page is for members of the {config.maintainers_group} group.", icon=":material/lock:")
        st.stop()
else:
    require_token(config.admin_token.get_secret_value())

# Who the audit log names: the signed-in maintainer, or "token" beside the reader's name.
maintainer = User(id=reader.id if by_group else f"{reader.id} (maintainer token)", name=reader.name,
                  groups=reader.groups, maintainer=True)
records = state.records()
helper = state.assistant_or_stop()
folder = uploads_folder(config)


def start_indexing(label: str, rejected: list[dict] | None = None, replaced: list[str] | None = None) -> None:
    """Corpus folder plus uploads folder, indexed on a server thread (ingest/background.py): it goes on
    when this tab closes, and the page shows its progress or outcome to whoever opens it next."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in (config.corpus, folder) if Path(p).exists()]
    records.log(maintainer, "reindex" if label == "Reading" else "index", paths=[str(p) for p in paths], via="maintainer page")
    if indexer.start(label, paths, helper, rejected, replaced) is None:
        st.session_state["indexing_busy"] = True
    st.session_state.pop("ingest_summary", None)


def outcome_rows(run: IndexRun) -> list[dict]:
    """Failures first, with their whole reason; then everything else."""
    rows = [{"File": r["name"], "Result": STATUS_WORDS["rejected"], "Passages": 0, "Problem": r["error"]}
            for r in run.rejected]
    rows += [{"File": Path(f["path"]).name, "Result": STATUS_WORDS.get(f["status"], f["status"]),
              "Passages": f.get("chunks", 0), "Pages read": f.get("pages"), "Pages read by OCR": f.get("ocr_pages"),
              "Tables": f.get("tables"), "Problem": f.get("error", "")} for f in run.report.files]
    return sorted(rows, key=lambda row: not row["Problem"])


def show_run(run: IndexRun) -> None:
    if run.running:
        share = run.done / run.total if run.total else 0.0
        st.progress(share, text=escape_markdown(f"{run.label} {run.done} of {run.total or '…'}: {run.current}"))
        st.caption("Indexing goes on if you close this page; come back to see the outcome.")
        return
    when = time.strftime("%H:%M:%S", time.localtime(run.finished))
    if run.error:
        st.error(escape_markdown(f"Indexing stopped at {when}: {run.error}"), icon=":material/error:")
        return
    report = run.report
    not_uploaded = f"{len(run.rejected)} not uploaded, " if run.rejected else ""
    replacing = f" Replaced earlier uploads of the same name: {', '.join(run.replaced)}." if run.replaced else ""
    summary = (f"Finished at {when}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
               f"{report.removed} removed, {not_uploaded}{len(report.failed)} not indexed; "
               f"{report.total_chunks} passages in the index ({report.seconds:.1f} s).{replacing}")
    if report.failed or run.rejected:
        st.warning(escape_markdown(summary), icon=":material/warning:")
    else:
        st.success(escape_markdown(summary), icon=":material/task_alt:")
    st.dataframe(outcome_rows(run), hide_index=True, width="stretch",
                 column_config={"Problem": st.column_config.TextColumn(width="large")})


@st.fragment(run_every=1.0)
def follow_run() -> None:
    """Redrawn every second while a run goes on; the whole page once when it has finished."""
    run = indexer.last
    if run is not None and not run.running:
        st.rerun(scope="app")
    if run is not None:
        show_run(run)


documents = []
with state.plain_errors("reading the index"):
    documents = helper.documents(maintainer)
left, right = st.columns(2)
left.metric("Documents", len(documents))
right.metric("Passages", sum(d.n_chunks for d in documents))

# The latest indexing run, where the maintainer is looking: its progress, or its outcome.
if st.session_state.pop("indexing_busy", False):
    st.warning("Indexing is already running. Your files are saved; re-index when it has finished to "
               "include them.", icon=":material/hourglass_top:")
if indexer.last is not None and indexer.last.running:
    follow_run()
elif indexer.last is not None:
    show_run(indexer.last)

# --- add ---------------------------------------------------------------------------------------
st.subheader("Add documents")
st.caption(f"PDF (scanned pages are read by OCR), Word (.docx), PowerPoint (.pptx), Excel (.xlsx), "
           f"LibreOffice (.odt, .ods), e-mail (.eml), HTML, Markdown or plain text, up to {config.max_upload_mb:g} MB each. "
           "A file with the same name as an earlier upload replaces it.")
generation = st.session_state.setdefault("uploader_generation", 0)
files = st.file_uploader("Files to add", type=sorted(SUPPORTED),
                         accept_multiple_files=True, key=f"uploads-{generation}",
                         max_upload_size=max(1, math.ceil(config.max_upload_mb)))
library = st.selectbox("Library (who may read them)", sorted(config.libraries), key="upload_library",
                       index=sorted(config.libraries).index(config.default_library) if config.default_library in config.libraries else 0,
                       format_func=lambda name: f"{name}: " + (", ".join(config.libraries[name]).replace("*", "everyone")))
if st.button("Add and index", type="primary", disabled=not files, icon=":material/upload_file:"):
    with state.plain_errors("adding the files"):
        saved = save_uploads([(f.name, f.getvalue()) for f in files], config, library)
        records.log(maintainer, "upload", saved=[str(p) for p in saved.saved], rejected=saved.rejected,
                    library=library, via="maintainer page")
        start_indexing("Indexing", saved.rejected, [p.name for p in saved.replaced])
        st.session_state["uploader_generation"] = generation + 1
        st.rerun()

# --- re-ingest ---------------------------------------------------------------------------------
st.subheader("Re-index the corpus")
st.caption(escape_markdown(
    f"Reads {config.corpus} and the uploaded files again. Changed files are re-indexed, unchanged ones "
    "are skipped, and files deleted from those folders leave the index."))
if st.button("Re-index now", icon=":material/sync:"):
    with state.plain_errors("re-indexing"):
        start_indexing("Reading")
        st.rerun()

if summary := st.session_state.get("ingest_summary"):  # a removal, done in this session
    st.success(escape_markdown(summary), icon=":material/task_alt:")

# --- facts -------------------------------------------------------------------------------------
st.subheader("Correct a document's date, version or status")
st.caption("What you save here is written beside the document as NAME.facts.yaml and overrides what the "
           "document says about itself; the document is then indexed again.")
if documents:
    facts_of = helper.catalogue.facts()
    names = {d.source: f"{d.title} ({Path(d.source).name})" for d in documents}
    chosen = st.selectbox("Document", options=list(names), format_func=names.get, index=None,
                          placeholder="Choose a document", key="facts_document")
    if chosen:
        current = facts_of.get(chosen)
        with st.form("facts_form"):
            title = st.text_input("Title", value=current.title if current else "")
            publisher = st.text_input("Publisher", value=current.publisher if current else "")
            published = st.date_input("Published", value=_day(current.published if current else None),
                                      format="DD/MM/YYYY", min_value=_EARLIEST, max_value=_LATEST)
            version = st.text_input("Version", value=current.version if current else "")
            status = st.selectbox("Status", STATUSES, index=STATUSES.index(current.status) if current else 0)
            review_by = st.date_input("Review by", value=_day(current.review_by if current else None),
                                      format="DD/MM/YYYY", min_value=_EARLIEST, max_value=_LATEST)
            supersedes = st.text_input("Replaces (a title or file name)", value=current.supersedes if current else "")
            if st.form_submit_button("Save and re-index", icon=":material/save:"):
                with state.plain_errors("saving the facts"):
                    records.log(maintainer, "facts", source=chosen, via="maintainer page")
                    write_sidecar(Path(chosen), {"title": title, "publisher": publisher, "published": published,
                                                 "version": version, "status": status, "review_by": review_by,
                                                 "supersedes": supersedes})
                    if indexer.start("Saving facts", [Path(chosen)], helper) is None:
                        st.session_state["indexing_busy"] = True
                    st.rerun()

# --- remove ------------------------------------------------------------------------------------
st.subheader("Remove a document")
# Uploads whose indexing failed are listed too: they would fail again at every re-index.
stuck = unindexed_uploads(config, {d.source for d in documents})
if documents or stuck:
    labels = {d.source: f"{d.title} ({Path(d.source).name})" for d in documents}
    labels |= {str(p): f"{p.name} (uploaded, not indexed)" for p in stuck}
    target = st.selectbox("Document", options=list(labels), format_func=labels.get, index=None,
                          placeholder="Choose a document", key="remove_document")
    st.caption("An uploaded file is deleted as well. A file in the corpus folder stays there and comes "
               "back at the next re-index unless you delete it from the folder.")
    if st.button("Remove from the index", disabled=target is None, icon=":material/delete:"):
        with state.plain_errors("removing the document"):
            records.log(maintainer, "remove", source=target, via="maintainer page")
            if remove_document(target, config, store=helper.store):
                helper.warm_up()  # as after an ingest: the next question must not see the document
                st.session_state["ingest_summary"] = f"Removed {labels[target]} from the index."
            st.rerun()
else:
    st.caption("The index is empty.")

# --- audit log ---------------------------------------------------------------------------------
st.subheader("Audit log")
st.caption(f"Who asked what and when, the passages retrieved and quoted, feedback, uploads, re-indexing and "
           f"removals. Records older than {config.audit_retention_days} days are deleted "
           "(POLICY_ASSISTANT_AUDIT_RETENTION_DAYS).")
with st.form("audit_filter"):
    left, middle, right = st.columns(3)
    who = left.text_input("User", key="audit_user")
    action = middle.selectbox("Action", ["", "ask", "search", "feedback", "upload", "index", "reindex", "remove",
                                         "facts", "share", "unshare", "open_conversation", "delete_conversation"],
                              key="audit_action", format_func=lambda a: a or "any")
    words = right.text_input("Question contains", key="audit_text")
    since = left.date_input("From", value=None, key="audit_from", format="DD/MM/YYYY")
    until = middle.date_input("To", value=None, key="audit_to", format="DD/MM/YYYY")
    st.form_submit_button("Filter", icon=":material/filter_list:")
with state.plain_errors("reading the audit log"):
    from datetime import datetime, timedelta, timezone

    def _epoch(day, next_day=False):
        if day is None:
            return None
        moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1 if next_day else 0)
        return moment.timestamp()

    rows = records.audit(user=who.strip() or None, action=action or None, text=words.strip() or None,
                         since=_epoch(since), until=_epoch(until, next_day=True))
    st.caption(f"{len(rows)} records")
    st.dataframe([{"When": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["at"])), "User": r["user"],
                   "Action": r["action"], "Question": r["question"], "Cited": r["cited"], "Detail": r["detail"]}
                  for r in rows[:500]], hide_index=True, width="stretch")
    st.download_button("Download as CSV", data=records.to_csv(rows), file_name="policy-assistant-audit.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore")
