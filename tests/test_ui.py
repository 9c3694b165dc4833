"""The Streamlit app through streamlit.testing (AppTest): real store, real model, real answers."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

import index

from ui.markdown import escape_markdown

from .conftest import BAD_INPUTS, ROOT, SEEDS, make_settings

pytestmark = pytest.mark.shared

APP = str(ROOT / "ui" / "app.py")
LD_QUESTION = "What did the NHS mandate say about people with learning disabilities?"
MARKUP_NOTE = """Pooled budget rules

The pooled budget for community equipment costs $5 million over two years, **not** more.
# A hash line with <b>bold tags</b> and <img src=x onerror=alert(1)> typed into the document.
"""


def plain(markdown: str) -> str:
    """Markdown as the reader sees it: highlight and bold markers off, backslash escapes resolved."""
    text = re.sub(r":orange-background\[\*\*(.*?)\*\*\]", r"\1", markdown)
    return re.sub(r"\\(.)", r"\1", text).replace("  \n", "\n")


def open_app(monkeypatch, settings, token: str | None = None, corpus: Path | None = None):
    at = open_app_raw(monkeypatch, settings, token, corpus).run()
    assert not at.exception, at.exception
    return at


def open_app_raw(monkeypatch, settings, token: str | None = None, corpus: Path | None = None):
    """The app pointed at ``settings.store`` through the environment, as `serve` does; not run yet."""
    from streamlit.testing.v1 import AppTest

    for name in ("POLICY_ASSISTANT_CHROMA_URL", "POLICY_ASSISTANT_ANSWERER", "POLICY_ASSISTANT_ADMIN_TOKEN",
                 "POLICY_ASSISTANT_LLM_MODEL", "POLICY_ASSISTANT_LLM_BASE_URL", "POLICY_ASSISTANT_GGUF_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POLICY_ASSISTANT_STORE", str(settings.store))
    if token is not None:
        monkeypatch.setenv("POLICY_ASSISTANT_ADMIN_TOKEN", token)
    if corpus is not None:
        monkeypatch.setenv("POLICY_ASSISTANT_CORPUS", str(corpus))
    return AppTest.from_file(APP, default_timeout=120)


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at.session_state["turns"][-1]


def last_assistant_message(at):
    return [m for m in at.chat_message if m.name == "assistant"][-1]


def all_text(at) -> str:
    """Everything the page shows as text (markdown, captions, alerts, labels)."""
    parts = [e.value for kind in ("markdown", "caption", "info", "error", "warning", "success", "title",
                                  "subheader") for e in getattr(at, kind)]
    parts += [e.label for e in at.expander] + [e.label for e in at.text_input]
    parts += [e.value for e in at.sidebar.markdown]
    return "\n".join(str(p) for p in parts)


def assert_no_html(at) -> None:
    assert not at.get("html")
    assert all(not m.allow_html for m in at.markdown), "document text must never be rendered as HTML"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory, embedder):
    """Two seed articles, the HTML page with script tags, and a note full of Markdown and HTML markup."""
    import ingest

    folder = tmp_path_factory.mktemp("small-docs")
    (folder / "markup-note.txt").write_text(MARKUP_NOTE, encoding="utf-8")
    settings = make_settings(tmp_path_factory.mktemp("small-store"))
    seeds = sorted(SEEDS.glob("*.txt"))[:2]
    report = ingest.run([folder, BAD_INPUTS / "script-tags.html", *seeds], settings, embedder=embedder)
    assert not report.failed, report.failed
    return settings


# --- chat --------------------------------------------------------------------------------------

def test_answer_has_markers_and_sources_with_their_quotes(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    assert at.title[0].value == "Policy assistant"
    turn = ask(at, LD_QUESTION)
    answer = turn.answer
    assert not answer.refused and answer.citations

    message = last_assistant_message(at)
    shown = plain(message.markdown[0].value)
    assert "[1]" in shown and "learning disabilities" in shown
    assert shown == answer.answer  # the text on the page is the answer, character for character
    assert message.markdown[0].value == escape_markdown(answer.answer)  # and it is sent as text, escaped

    # One fold per document, named by its citation numbers; inside, each quote in its passage.
    documents = list(dict.fromkeys(c.source for c in answer.citations))
    assert len(message.expander) == len(documents)
    for source, expander in zip(documents, message.expander):
        cited = [c for c in answer.citations if c.source == source]
        numbers = " ".join(f"[{c.n}]" for c in cited)
        assert plain(expander.label).startswith(f"{numbers} {cited[0].title}")
        passages = [m.value for m in expander.markdown]
        for citation, passage in zip(cited, passages):
            # The quote is highlighted inside the passage it comes from, and the passage is the stored chunk.
            assert ":orange-background[**" in passage
            assert " ".join(citation.quote.split()) in " ".join(plain(passage).split())
            assert " ".join(plain(passage).split()) == " ".join(citation.context.split())
            assert citation.verified
    assert len(at.download_button) >= len(documents)  # one per source document, plus the export
    assert_no_html(at)


def test_refusal_says_so_and_shows_no_sources(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    turn = ask(at, "What is the boiling point of mercury in Fahrenheit?")
    assert turn.answer.refused and not turn.answer.citations
    message = last_assistant_message(at)
    refusal = plain(message.info[0].value)
    assert "do not cover" in refusal and "rephras" in refusal.lower()
    assert not message.expander


def test_follow_up_question_uses_the_conversation(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    first = ask(at, "What did Sarah Pickup say about the NHS mandate?")
    assert not first.answer.refused
    follow = ask(at, "What did she say about engagement with councils?")
    assert follow.history == [{"role": "user", "content": first.question},
                              {"role": "assistant", "content": first.answer.answer}]
    assert "Sarah Pickup" in follow.answer.search_query  # the assistant itself was given the history
    assert not follow.answer.refused
    assert "engagement with councils" in follow.answer.answer
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]

    # New conversation empties the page and the history.
    at.sidebar.button[0].click().run()
    assert not at.chat_message and at.session_state["turns"] == []


def test_restricting_to_one_document_changes_the_cited_source(monkeypatch, policy_store):
    question = "What did health leaders say about joining up health and social care?"
    at = open_app(monkeypatch, policy_store)
    unfiltered = ask(at, question).answer
    cited = {c.source for c in unfiltered.citations}
    # A seed article (all five discuss joining up care) that the unfiltered answer did not cite.
    record = next(d for d in sorted(_documents(policy_store), key=lambda d: d.title)
                  if Path(d.source).parent == SEEDS.resolve() and d.source not in cited)
    source = record.source

    at.multiselect(key="filter_sources").set_value([source]).run()
    filtered = ask(at, question)
    assert not filtered.answer.refused
    assert {c.source for c in filtered.answer.citations} == {source}
    assert record.title in filtered.scope
    assert "Searched only" in plain(last_assistant_message(at).caption[0].value)


def test_date_filter_keeps_older_documents_out(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    dates = {d.source: d.date for d in _documents(policy_store)}
    at.date_input(key="filter_from").set_value(date(2018, 1, 1)).run()
    turn = ask(at, "What did health leaders say about joining up health and social care?")
    assert turn.answer.citations
    assert all(dates[c.source] and dates[c.source] >= "2018-01-01" for c in turn.answer.citations)
    assert {h.source for h in turn.answer.hits} <= {s for s, d in dates.items() if d and d >= "2018-01-01"}


def test_sidebar_lists_the_documents_in_the_index(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    documents = _documents(policy_store)
    assert any(s.value == f"Documents in the index ({len(documents)})" for s in at.sidebar.subheader)
    listing = plain("\n".join(m.value for m in at.sidebar.markdown))
    for record in documents:
        assert record.title in listing
    assert "22 Feb 2018" in listing  # dates in words; the seed article of 22.02.18
    # Extractive answers only: no answerer choice without a configured language model.
    assert not at.sidebar.radio


def _documents(settings):
    from index.store import ChromaStore

    return list(ChromaStore(settings).manifest().values())


# --- text, never HTML ----------------------------------------------------------------------------

def test_the_question_is_shown_as_text_not_markdown(monkeypatch, small_store):
    question = "What does **the note** say about [the budget](https://example.org) and <b>costs</b>?"
    at = open_app(monkeypatch, small_store)
    ask(at, question)
    echoed = at.chat_message[0]
    assert echoed.name == "user"
    assert echoed.markdown[0].value == escape_markdown(question)
    assert "\\*\\*the note\\*\\*" in echoed.markdown[0].value


def test_document_markup_is_shown_as_text(monkeypatch, small_store):
    at = open_app(monkeypatch, small_store)
    turn = ask(at, "How much does the pooled budget for community equipment cost?")
    assert any(Path(c.source).name == "markup-note.txt" for c in turn.answer.citations)
    message = last_assistant_message(at)
    passage = next(e.markdown[0].value for e in message.expander if "markup-note.txt" in plain(e.label))
    assert "<img src=x onerror=alert(1)> typed into the document." in plain(passage)
    assert "<b>bold tags</b>" in plain(passage) and "$5 million" in plain(passage)
    assert re.search(r"(?<!\\)[<>$]", passage) is None  # nothing left for a renderer to interpret

    turn = ask(at, "What did the council and the clinical commissioning group agree about community equipment?")
    assert any(c.source.endswith("script-tags.html") for c in turn.answer.citations)
    assert "alert(" not in all_text(at).replace("alert(1)", "")  # the page's scripts never reach the text
    assert_no_html(at)


def test_feedback_is_appended_with_question_answer_and_citations(monkeypatch, small_store):
    at = open_app(monkeypatch, small_store)
    turn = ask(at, "How much does the pooled budget for community equipment cost?")
    at.feedback(key=f"rating-{turn.id}").set_value(0).run()
    at.text_input(key=f"comment-{turn.id}").input("Needs the year of the budget").run()
    at.button(key=f"send-{turn.id}").click().run()
    assert any("feedback was saved" in c.value for c in at.caption)
    rows = [json.loads(line) for line in small_store.feedback_path.read_text(encoding="utf-8").splitlines()]
    row = next(r for r in rows if r["id"] == turn.id)
    assert row["rating"] == "down" and row["comment"] == "Needs the year of the budget"
    assert row["question"] == turn.question and row["answer"] == turn.answer.answer
    assert [c["quote"] for c in row["citations"]] == [c.quote for c in turn.answer.citations]


# --- maintainer page -----------------------------------------------------------------------------

def test_maintainer_page_is_off_without_a_token(monkeypatch, small_store):
    at = open_app(monkeypatch, small_store)
    at.switch_page("maintain_page.py").run()
    assert "maintainer page is off" in at.info[0].value
    assert not at.text_input and not at.file_uploader


def test_wrong_token_is_refused_and_never_echoed(monkeypatch, small_store):
    token = "correct-horse-battery-staple"
    at = open_app(monkeypatch, small_store, token=token)
    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input("correct-horse").run()
    assert "not right" in at.error[0].value
    assert not at.file_uploader and not at.button
    at.text_input(key="maintainer_token").input(token).run()
    assert at.file_uploader and not at.error
    assert token not in all_text(at)


def test_wrong_tokens_are_rate_limited_across_sessions(monkeypatch, small_store):
    from ui.state import token_attempts

    token = "correct-horse-battery-staple"
    token_attempts.clear()
    try:
        for attempt in range(5):  # each from a fresh session, as a script would
            at = open_app(monkeypatch, small_store, token=token)
            at.switch_page("maintain_page.py").run()
            at.text_input(key="maintainer_token").input(f"guess-{attempt}").run()
            assert "not right" in at.error[0].value
            at.run()  # the same wrong token left in the box counts once
        at = open_app(monkeypatch, small_store, token=token)
        at.switch_page("maintain_page.py").run()
        at.text_input(key="maintainer_token").input(token).run()
        assert "Too many wrong tokens" in at.error[0].value
        assert not at.file_uploader  # not even the right token is checked until the window passes
    finally:
        token_attempts.clear()


MAINTAINER_TOKEN = "maintainer-test-token"


def maintainer_app(monkeypatch, tmp_path, embedder, files: dict[str, bytes]):
    """A corpus of ``files``, ingested, and the app on its maintainer page with the token typed in."""
    import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    settings = make_settings(tmp_path / "store", corpus=corpus)
    ingest.run([corpus], settings, embedder=embedder)
    at = open_app(monkeypatch, settings, token=MAINTAINER_TOKEN, corpus=corpus)
    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input(MAINTAINER_TOKEN).run()
    return at, settings, corpus


def test_maintainer_uploads_indexes_and_removes_a_document(monkeypatch, tmp_path, embedder):
    first = sorted(SEEDS.glob("*.txt"))[0]
    at, settings, corpus = maintainer_app(monkeypatch, tmp_path, embedder, {first.name: first.read_bytes()})
    assert at.metric[0].value == "1"

    note = (b"---\ntitle: Telecare equipment loan scheme\ndate: 2024-03-01\n---\n\n"
            b"The telecare equipment loan scheme lends alarms to residents for twelve weeks free of charge.\n")
    at.file_uploader[0].set_value([("../../outside/telecare-note.md", note, "text/markdown"),
                                   ("installer.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 40, "text/plain")]).run()
    next(b for b in at.button if b.label == "Add and index").click().run()
    assert not at.exception, at.exception
    from ingest.background import indexer

    assert indexer.wait(120)  # indexing runs on a server thread, not in this session's script run
    at.run()
    summary = at.warning[0].value  # a file failed: a warning, not a green box
    assert "1 added" in summary and "1 unchanged" in summary and "1 not indexed" in summary
    rows = at.dataframe[0].value
    assert rows["File"][0] == "installer.txt"  # failures first, with the whole reason
    assert rows["Problem"][0] == "binary data, not text (undecodable)"
    results = dict(zip(rows["File"], rows["Result"]))
    assert results["telecare-note.md"] == "Added"
    read = dict(zip(rows["File"], rows["Pages read"]))
    assert read["telecare-note.md"] == 1 and "Pages read by OCR" in rows and "Tables" in rows
    saved = settings.store / "uploads" / "telecare-note.md"
    assert saved.exists() and not (tmp_path / "outside").exists()
    assert at.metric[0].value == "2"

    # The chat sees the new document at once (the keyword index follows the store's generation).
    at.switch_page("chat_page.py").run()
    turn = ask(at, "How long does the telecare equipment loan scheme lend alarms for?")
    assert any(c.source == str(saved.resolve()) or c.source == str(saved) for c in turn.answer.citations), (turn.answer.answer, [h.source for h in turn.answer.hits], str(saved))

    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input(MAINTAINER_TOKEN).run()
    removal = at.selectbox(key="remove_document")
    assert any("Telecare" in label for label in removal.options)
    source = next(s for s in index.ChromaStore(settings).manifest() if s.endswith("telecare-note.md"))
    removal.set_value(source).run()
    next(b for b in at.button if b.label == "Remove from the index").click().run()
    assert "Removed" in at.success[0].value
    assert at.metric[0].value == "1"
    assert not saved.exists()
    assert source not in index.ChromaStore(settings).manifest()
    at.switch_page("chat_page.py").run()
    turn = ask(at, "How long does the telecare equipment loan scheme lend alarms for?")
    assert all("telecare" not in h.source for h in turn.answer.hits)

    # Every admin action and question above is in the audit log, and the maintainer page shows it.
    from access.records import Records

    actions = [r["action"] for r in reversed(Records(settings.records_path).audit())]
    assert actions == ["upload", "index", "ask", "remove", "ask"], actions
    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input(MAINTAINER_TOKEN).run()
    assert "5 records" in [c.value for c in at.caption]
    assert "telecare-note.md" in at.dataframe[-1].value["Detail"][1]  # the removal, newest first


def test_unreachable_store_shows_a_plain_error(monkeypatch, tmp_path):
    port_holder = __import__("socket").socket()
    port_holder.bind(("127.0.0.1", 0))
    port = port_holder.getsockname()[1]
    port_holder.close()  # nothing listens there now
    at = open_app_raw(monkeypatch, make_settings(tmp_path / "store"))
    monkeypatch.setenv("POLICY_ASSISTANT_CHROMA_URL", f"http://127.0.0.1:{port}")
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "cannot be used right now" in message
    assert f"127.0.0.1:{port}" not in all_text(at)  # the detail goes to the server log, not to readers
    assert "Traceback" not in all_text(at) and not at.chat_message


def test_a_damaged_store_shows_a_plain_sentence_without_its_path(monkeypatch, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"")  # a zero-byte index once opened as an empty one
    at = open_app_raw(monkeypatch, make_settings(store))
    at.run()
    assert not at.exception
    assert "cannot be used right now" in at.error[0].value
    assert str(store) not in all_text(at) and "Traceback" not in all_text(at)
    assert (store / "chroma.sqlite3").stat().st_size == 0  # nothing was written over it


def test_answerer_choice_appears_only_when_a_language_model_is_configured(monkeypatch, small_store):
    at = open_app(monkeypatch, small_store)
    assert not at.sidebar.radio
    monkeypatch.setenv("POLICY_ASSISTANT_ANSWERER", "gguf")
    at.run()
    (choice,) = at.sidebar.radio
    assert choice.options == ["Quoted sentences from the documents", "Local language model (GGUF)"]
    assert choice.value == "gguf"  # the configured answerer is the default


def test_a_file_name_in_a_download_label_is_text_not_markdown(monkeypatch, tmp_path, embedder):
    """A corpus file named like Markdown ("**bold**", "![img](x)") keeps its characters on the button."""
    import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    name = "pooled budget **bold** ![img](x).txt"
    (folder / name).write_text("Pooled budget rules\n\nThe pooled budget for community equipment is reviewed "
                               "every year by the health and wellbeing board.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "store")
    ingest.run([folder], settings, embedder=embedder)
    at = open_app(monkeypatch, settings)
    turn = ask(at, "How often is the pooled budget for community equipment reviewed?")
    assert turn.answer.citations
    (label,) = [b.label for b in at.download_button if "pooled budget" in b.label]
    assert label == "Download pooled budget \\*\\*bold\\*\\* !\\[img\\](x).txt"
    assert plain(label) == f"Download {name}"


def test_questions_waiting_in_the_queue_are_all_answered_in_order(monkeypatch, policy_store):
    """A question sent while another is answered interrupts that run; both wait in the queue."""
    at = open_app(monkeypatch, policy_store)
    questions = ["What did the NHS mandate say about people with learning disabilities?",
                 "What is the boiling point of mercury in Fahrenheit?",
                 "What did Sarah Pickup say about the NHS mandate?"]
    at.session_state["pending_questions"] = [
        {"question": q, "sources": None, "date_from": None, "date_to": None, "answerer": "extractive", "scope": ""}
        for q in questions]
    for _ in range(len(questions) + 1):
        at.run()
    assert [t.question for t in at.session_state["turns"]] == questions
    assert at.session_state["pending_questions"] == []


def test_a_long_conversation_draws_only_the_latest_turns_in_full(monkeypatch, policy_store):
    from ui.views import FULL_TURNS

    at = open_app(monkeypatch, policy_store)
    for n in range(FULL_TURNS + 3):
        ask(at, "What did the NHS mandate say about people with learning disabilities?" if n % 2 else
            "What did Sarah Pickup say about the NHS mandate?")
    earlier = [e for e in at.expander if e.label.startswith("Earlier in this conversation")]
    assert len(earlier) == 1 and "(3 questions)" in earlier[0].label
    assert "Sarah Pickup" in plain(earlier[0].markdown[0].value)
    assert len(at.chat_message) == 2 * FULL_TURNS


def test_indexing_goes_on_when_the_session_that_started_it_is_gone(monkeypatch, tmp_path, embedder):
    """A maintainer starts indexing and leaves; the next maintainer session sees the outcome."""
    import ingest
    from ingest.background import indexer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(40):
        (corpus / f"note-{n:02}.txt").write_text(f"Note {n} on pooled budgets.\n\nThe pooled budget note "
                                                  f"number {n} sets out council duties for care.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "store", corpus=corpus)
    ingest.run([corpus / "note-00.txt"], settings, embedder=embedder)
    token = "maintainer-test-token"
    first = open_app(monkeypatch, settings, token=token, corpus=corpus)
    first.switch_page("maintain_page.py").run()
    first.text_input(key="maintainer_token").input(token).run()
    next(b for b in first.button if b.label == "Re-index now").click().run()
    del first  # the tab is closed
    assert indexer.wait(180)
    second = open_app(monkeypatch, settings, token=token, corpus=corpus)
    second.switch_page("maintain_page.py").run()
    second.text_input(key="maintainer_token").input(token).run()
    assert "39 added" in second.success[0].value and "1 unchanged" in second.success[0].value
    assert len(index.ChromaStore(settings).manifest()) == 40


def test_a_date_before_ten_years_ago_can_be_chosen_and_is_applied(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    at.sidebar.date_input(key="filter_from").set_value(date(2016, 1, 1)).run()  # > 10 years before today
    assert not at.exception
    turn = ask(at, "What new department did the review recommend to join up health and social care?")
    assert not turn.answer.refused  # the June 2016 article is inside a 2016 "from" date
    assert all(c.source.endswith("002_8975fbdea5563a37.txt") for c in turn.answer.citations)
    assert "dated on or after 01 January 2016" in turn.scope


def test_under_a_filter_loosely_related_passages_are_not_an_answer(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    at.sidebar.date_input(key="filter_from").set_value(date(2017, 1, 1)).run()
    turn = ask(at, "What did the NHS mandate say about people with learning disabilities?")
    assert turn.answer.refused and "chosen in the search filters do not answer" in turn.answer.answer
    assert "“NHS mandate stresses joined-up care”, outside them" in turn.answer.answer
    shown = all_text(at)
    assert "Searched only" in shown and "Clear the filters" in shown


def test_a_follow_up_after_a_refused_question_is_not_refused_for_its_names(monkeypatch, policy_store):
    at = open_app(monkeypatch, policy_store)
    first = ask(at, "What is the parking policy at Leeds General Infirmary?")
    assert first.answer.refused
    follow = ask(at, "What does it say about hospital care for people with learning disabilities?")
    assert not follow.answer.refused, follow.answer.answer
    assert "Leeds" not in follow.answer.search_query
    assert any(c.source.endswith("000_1ba0c70c47b0b245.txt") for c in follow.answer.citations)


def test_a_failed_upload_is_listed_for_removal_and_removed(monkeypatch, tmp_path, embedder):
    from ingest.background import indexer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = make_settings(tmp_path / "store", corpus=corpus)
    token = "maintainer-test-token"
    at = open_app(monkeypatch, settings, token=token, corpus=corpus)
    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input(token).run()
    at.file_uploader[0].set_value([("broken.pdf", b"this is not a PDF", "application/pdf")]).run()
    next(b for b in at.button if b.label == "Add and index").click().run()
    assert indexer.wait(120)
    at.run()
    assert "1 not indexed" in at.warning[0].value
    stuck = settings.store / "uploads" / "broken.pdf"
    assert stuck.exists()
    (label,) = [o for o in at.selectbox(key="remove_document").options if "broken.pdf" in o]
    assert "not indexed" in label
    at.selectbox(key="remove_document").select(str(stuck)).run()
    next(b for b in at.button if b.label == "Remove from the index").click().run()
    assert not stuck.exists()
    assert "Removed broken.pdf" in at.success[0].value


def test_the_maintainer_page_can_be_locked_again(monkeypatch, small_store):
    token = "correct-horse-battery-staple"
    at = open_app(monkeypatch, small_store, token=token)
    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input(token).run()
    assert at.file_uploader
    next(b for b in at.button if b.label == "Lock this page").click().run()
    assert not at.file_uploader and at.text_input(key="maintainer_token").value == ""


def test_the_uploader_accepts_exactly_the_supported_extensions(monkeypatch, small_store):
    """Each format by its extension. A bare "text" was Streamlit's shortcut for every text/* MIME type
    (CSV, XML, scripts) and showed as "text, DOCX, …" in the drop area."""
    from ingest.loaders import SUPPORTED

    token = "correct-horse-battery-staple"
    at = open_app(monkeypatch, small_store, token=token)
    at.switch_page("maintain_page.py").run()
    at.text_input(key="maintainer_token").input(token).run()
    accepted = list(at.file_uploader[0].proto.type)
    assert sorted(accepted) == sorted(SUPPORTED)
    assert not any("/" in kind for kind in accepted), "no MIME wildcard may widen the list"


def test_the_full_titles_of_the_chosen_documents_are_shown_under_the_filter(monkeypatch, policy_store):
    """The sidebar's list and chips cut long titles short; what is chosen is spelled out in full."""
    at = open_app(monkeypatch, policy_store)
    record = max(_documents(policy_store), key=lambda d: len(d.title or ""))
    assert len(record.title) > 60
    at.multiselect(key="filter_sources").set_value([record.source]).run()
    shown = "\n".join(plain(c.value) for c in at.sidebar.caption)
    assert f"Searching only: “{record.title}”" in shown


# --- versions (issue 14) ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def versions_store(tmp_path_factory, embedder):
    import ingest

    from .test_versions import BODY, FRONT

    docs = tmp_path_factory.mktemp("ui-versions") / "docs"
    docs.mkdir()
    for year, version, amount in (("2024", "1.0", "£500 million"), ("2025", "2.0", "£600 million")):
        (docs / f"bcf-framework-{year}.md").write_text(
            FRONT.format(date=f"{year}-04-01", version=version) + BODY.format(amount=amount), encoding="utf-8")
    settings = make_settings(docs.parent / "store")
    assert ingest.run([docs], settings, embedder=embedder).added == 2
    return settings


def test_an_answer_as_of_a_past_date_shows_the_superseded_badge_and_note(monkeypatch, versions_store):
    at = open_app(monkeypatch, versions_store)
    turn = ask(at, "How much is the Discharge Fund?")
    assert "£600 million" in turn.answer.answer
    assert not any("badge[Superseded]" in e.label for e in at.expander)  # today's version: no badge
    at.sidebar.date_input(key="filter_as_of").set_value(date(2024, 6, 1)).run()
    turn = ask(at, "How much is the Discharge Fund?")
    assert "£500 million" in turn.answer.answer and turn.answer.as_of == "2024-06-01"
    message = at.chat_message[-1]
    label = next(e.label for e in message.expander if "bcf-framework-2024.md" in plain(e.label))
    assert label.endswith(":orange-badge[Superseded]")
    assert any("has been superseded by “Better Care Fund policy framework, version 2.0 of 2025-04-01”"
               in plain(w.value) for w in message.warning)
    assert any("the versions in force on 01 June 2024" in plain(c.value) for c in message.caption)
    exported = at.session_state["turns"][-1].answer
    from ui.markdown import conversation_markdown

    text = conversation_markdown([exported], scopes=[at.session_state["turns"][-1].scope])
    assert "(This document has been superseded by “Better Care Fund policy framework, version 2.0 of 2025-04-01”" in text
    assert "the versions in force on 01 June 2024" in text


def test_the_sidebar_lists_version_and_status_and_sorts_by_status(monkeypatch, versions_store):
    at = open_app(monkeypatch, versions_store)
    at.sidebar.selectbox(key="documents_sort").set_value("status").run()
    listing = next(m.value for m in at.sidebar.markdown if "Better Care Fund" in m.value)
    first, second = listing.split("\n\n")[:2]
    assert ":orange-badge[Superseded]" in first and "version 1.0" in first
    assert "Superseded" not in second and "version 2.0" in second


def test_the_what_changed_page_lists_the_changed_passage(monkeypatch, versions_store):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("POLICY_ASSISTANT_STORE", str(versions_store.store))
    at = AppTest.from_file(str(ROOT / "ui" / "versions_page.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    texts = [plain(m.value) for m in at.markdown]
    assert any("£500 million" in t for t in texts) and any("£600 million" in t for t in texts)
    assert [c.value for c in at.caption][-1] == "1 changed"
    at.text_input(key="changes_topic").set_value("parking permits").run()
    assert any("No passage changed" in plain(i.value) for i in at.info)


def test_a_maintainer_corrects_a_documents_status_and_the_answer_says_so(monkeypatch, tmp_path, embedder):
    """The maintainer page writes the facts file beside the document and indexes it again; the
    chat's citation then carries the status the maintainer set."""
    from ingest.background import indexer

    at, settings, corpus = maintainer_app(monkeypatch, tmp_path, embedder, {"telecare-note.md": (
        b"---\ntitle: Telecare equipment loan scheme\ndate: 2024-03-01\n---\n\n"
        b"The telecare equipment loan scheme lends alarms to residents for twelve weeks free of charge.\n")})
    note = corpus / "telecare-note.md"
    at.selectbox(key="facts_document").set_value(str(note.resolve())).run()
    assert not at.exception, at.exception
    form_status = next(s for s in at.selectbox if s.label == "Status")
    assert form_status.value == "current"
    form_status.set_value("withdrawn")
    next(t for t in at.text_input if t.label == "Version").input("2.1")
    next(b for b in at.button if b.label == "Save and re-index").click().run()
    assert not at.exception, at.exception
    assert indexer.wait(120)
    side = corpus / "telecare-note.md.facts.yaml"
    assert "status: withdrawn" in side.read_text() and "version: '2.1'" in side.read_text()
    at.switch_page("chat_page.py").run()
    turn = ask(at, "How long does the telecare equipment loan scheme lend alarms for?")
    assert turn.answer.citations and turn.answer.citations[0].status == "withdrawn"
    assert any(e.label.endswith(":red-badge[Withdrawn]") for e in at.chat_message[-1].expander)
