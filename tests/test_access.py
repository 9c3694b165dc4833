"""Document libraries with access: a passage a user may not read is never retrieved, cited, counted as
"the documents mention X", listed, compared, exported, shared or echoed in an error - through the
Python API, the command line and the HTTP API. Real model, real Chroma, real ingest of real files."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

import ingest
from access.policy import ANONYMOUS, Access, User, user_from_claims
from access.records import NotAllowed, Records
from assistant import Assistant
from tests.conftest import ROOT, SEEDS, make_settings

pytestmark = pytest.mark.shared

LIBRARIES = {"general": ["*"], "hr": ["hr-team"], "finance": ["finance-team"]}
HR_DOC = """# Grievance casework policy

Staff grievances are heard by the Zephyrine appeals panel, which meets within 14 days of an appeal
being lodged.

An employee on sickness absence is referred to occupational health after 28 days of absence.
"""
FINANCE_DOC = """# Draft board paper: capital programme

The 2026/27 capital allocation for the Quillmarsh neighbourhood health centre is £4.2 million,
approved by the finance committee in March.

The finance committee reviews the capital programme every quarter.
"""
SECRET_DOC = """# Unassigned note

The Brackenfold review found that the Brackenfold ward needs new beds.
"""
HR_USER = User(id="hr@example.org", groups=frozenset({"hr-team"}))
FINANCE_USER = User(id="fin@example.org", groups=frozenset({"finance-team"}))
FINANCE_QUESTION = "What is the capital allocation for the Quillmarsh neighbourhood health centre?"
HR_QUESTION = "Who hears staff grievance appeals?"


@pytest.fixture(scope="module")
def libraries(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("libraries")
    docs = root / "docs"
    for name in ("general", "hr", "finance", "secret"):
        (docs / name).mkdir(parents=True)
    for path in sorted(SEEDS.iterdir())[:2]:
        shutil.copy2(path, docs / "general" / path.name)
    (docs / "hr" / "grievance-casework.md").write_text(HR_DOC, encoding="utf-8")
    (docs / "finance" / "capital-board-paper.md").write_text(FINANCE_DOC, encoding="utf-8")
    (docs / "secret" / "brackenfold-note.md").write_text(SECRET_DOC, encoding="utf-8")
    settings = make_settings(root / "store", libraries=LIBRARIES)
    report = ingest.run([docs], settings, embedder=embedder, by_folder=True)
    assert report.added == 5 and not report.failed
    assert any("secret" in w and "only maintainers" in w for w in report.warnings)
    return docs, settings, Assistant(settings=settings, embedder=embedder)


def library_of(assistant: Assistant, source: str) -> str:
    return assistant.catalogue.facts()[source].library


def test_each_document_joins_the_library_of_its_sub_folder(libraries):
    _, _, assistant = libraries
    by_library = {}
    for source, facts in assistant.catalogue.facts().items():
        by_library.setdefault(facts.library, []).append(source.rsplit("/", 1)[-1])
    assert sorted(by_library) == ["finance", "general", "hr", "secret"]
    assert by_library["hr"] == ["grievance-casework.md"]
    assert assistant.catalogue.libraries() == {"finance", "general", "hr", "secret"}


def test_search_returns_only_passages_of_the_users_libraries(libraries):
    _, _, assistant = libraries
    for user, allowed in ((HR_USER, {"general", "hr"}), (FINANCE_USER, {"general", "finance"}),
                          (ANONYMOUS, {"general"})):
        for query in (FINANCE_QUESTION, HR_QUESTION, "Brackenfold ward beds", "capital programme quarter"):
            hits = assistant.search(query, k=10, user=user)
            assert {library_of(assistant, h.source) for h in hits} <= allowed, (user.id, query)


def test_a_question_answered_from_another_library_is_refused_as_if_the_document_did_not_exist(libraries):
    _, _, assistant = libraries
    allowed = assistant.ask(FINANCE_QUESTION, user=FINANCE_USER)
    assert not allowed.refused and "4.2 million" in allowed.answer
    denied = assistant.ask(FINANCE_QUESTION, user=HR_USER)
    assert denied.refused and not denied.citations
    # The unknown-name refusal counts only what the user may read: it names the word as unknown,
    # exactly as it would if the board paper were not in the index at all.
    assert denied.answer.startswith("The documents in the index do not mention") and "“Quillmarsh”" in denied.answer
    assert not any(h.source.endswith("capital-board-paper.md") for h in denied.hits)


def test_citations_and_hits_of_every_answer_are_readable(libraries):
    _, _, assistant = libraries
    for user in (HR_USER, FINANCE_USER, ANONYMOUS):
        readable = assistant.readable(user)
        for question in (FINANCE_QUESTION, HR_QUESTION, "What does the Brackenfold review say about beds?"):
            answer = assistant.ask(question, user=user)
            assert {c.source for c in answer.citations} | {h.source for h in answer.hits} <= readable


def test_a_library_no_rule_names_is_read_by_maintainers_only(libraries):
    _, _, assistant = libraries
    question = "What did the Brackenfold review find about the ward?"
    for user in (HR_USER, FINANCE_USER, ANONYMOUS):
        assert assistant.ask(question, user=user).refused
    maintainer = User(id="admin", maintainer=True)
    answer = assistant.ask(question, user=maintainer)
    assert not answer.refused and answer.citations[0].source.endswith("brackenfold-note.md")


def test_the_document_list_and_name_lookups_show_only_readable_documents(libraries):
    _, _, assistant = libraries
    names = lambda user: sorted(r.source.rsplit("/", 1)[-1] for r in assistant.documents(user))  # noqa: E731
    assert "capital-board-paper.md" not in names(HR_USER) and "grievance-casework.md" in names(HR_USER)
    assert len(names(ANONYMOUS)) == 2
    assert {r["library"] for r in assistant.document_rows(user=FINANCE_USER)} == {"general", "finance"}
    assert assistant.find_document("capital-board", user=FINANCE_USER).endswith("capital-board-paper.md")
    with pytest.raises(Exception) as hidden:
        assistant.find_document("capital-board", user=HR_USER)
    # The same words as for a name nothing matches: no count of documents the user may not see.
    assert str(hidden.value) == "no indexed document is called 'capital-board'"


def test_a_hidden_document_cannot_be_compared_or_read_whole(libraries):
    _, _, assistant = libraries
    source = assistant.find_document("capital-board", user=FINANCE_USER)
    with pytest.raises(Exception, match="not in the index"):
        assistant.changes(source, user=HR_USER)
    with pytest.raises(Exception, match="not in the index"):
        assistant.document_text(source, user=HR_USER)
    assert "Quillmarsh" in assistant.document_text(source, user=FINANCE_USER)


def test_under_a_filter_the_better_answer_elsewhere_is_named_only_if_readable(libraries):
    _, _, assistant = libraries
    general = [r.source for r in assistant.documents(ANONYMOUS)]
    reply = assistant.ask(FINANCE_QUESTION, user=HR_USER, sources=general)
    assert reply.refused and "board paper" not in reply.answer.lower()


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=st.fixed_dictionaries({name: st.lists(st.sampled_from(["*", "a", "b", "c"]), max_size=2, unique=True)
                                    for name in ("general", "hr", "finance", "secret")}),
       groups=st.sets(st.sampled_from(["a", "b", "c", "hr-team"]), max_size=3),
       query=st.sampled_from([FINANCE_QUESTION, HR_QUESTION, "Brackenfold beds", "integrated care boards",
                              "capital programme", "occupational health referral"]))
def test_a_user_never_receives_a_chunk_outside_their_libraries(libraries, rules, groups, query):
    _, settings, assistant = libraries
    access = Access(settings.model_copy(update={"libraries": rules}))
    user = User(id="someone", groups=frozenset(groups))
    assistant.access, original = access, assistant.access
    try:
        allowed = {lib for lib in ("general", "hr", "finance", "secret") if access.may_read(user, lib)}
        hits = assistant.search(query, k=10, user=user)
        answer = assistant.ask(query, user=user)
        listed = assistant.documents(user)
    finally:
        assistant.access = original
    seen = [h.source for h in hits] + [h.source for h in answer.hits] + [c.source for c in answer.citations]
    assert {library_of(assistant, s) for s in seen} <= allowed
    assert {library_of(assistant, r.source) for r in listed} <= allowed


def test_versions_are_linked_only_within_one_library(tmp_path, embedder):
    docs = tmp_path / "docs"
    body = ("# Discharge funding framework\n\nThe Discharge Fund is paid to local areas to speed up discharge from "
            "hospital into care homes.\n\nEach area must agree a joint plan signed off by its board.\n")
    for library in ("general", "hr"):
        (docs / library).mkdir(parents=True)
    (docs / "general" / "framework.md").write_text(body, encoding="utf-8")
    (docs / "hr" / "framework-v2.md").write_text(body + "\nVersion 2.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "store", libraries=LIBRARIES)
    ingest.run([docs], settings, embedder=embedder, by_folder=True)
    facts = Assistant(settings=settings, embedder=embedder).catalogue.facts()
    assert all(not f.superseded_by and not f.previous for f in facts.values())


def test_whether_an_abbreviation_is_spelled_out_tells_nothing_of_documents_the_user_may_not_read(tmp_path, embedder):
    """An abbreviation the documents do not use is searched for with its long form. Whether they use
    it is judged on the user's documents only: the search query shown with every answer must not
    tell an HR reader that a finance paper says "PPP"."""
    docs = tmp_path / "docs"
    for library in ("general", "finance"):
        (docs / library).mkdir(parents=True)
    shutil.copy2(sorted(SEEDS.iterdir())[0], docs / "general")
    (docs / "finance" / "capital-board-paper.md").write_text(
        FINANCE_DOC + "\nThe Quillmarsh centre is funded through a PPP agreed in May.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "store", libraries=LIBRARIES)
    ingest.run([docs], settings, embedder=embedder, by_folder=True)
    assistant = Assistant(settings=settings, embedder=embedder)
    question = "Who agreed the PPP?"
    assert assistant.ask(question, user=FINANCE_USER).search_query == question
    assert assistant.ask(question, user=HR_USER).search_query == "Who agreed the PPP (public private partnership)?"


def test_a_file_an_ingest_has_written_but_not_published_is_never_returned(tmp_path, embedder, monkeypatch):
    """A reader of every library the store has published needs no filter, so the search asks Chroma
    for its nearest chunks unfiltered. An ingest writes a new file's chunks before it publishes the
    change: killed there (or still running), the finance board paper must not reach that reader."""
    from index.store import ChromaStore

    docs = tmp_path / "docs"
    (docs / "general").mkdir(parents=True)
    shutil.copy2(sorted(SEEDS.iterdir())[0], docs / "general")
    settings = make_settings(tmp_path / "store", libraries=LIBRARIES)
    ingest.run([docs], settings, embedder=embedder, by_folder=True)
    (docs / "finance").mkdir()
    (docs / "finance" / "capital-board-paper.md").write_text(FINANCE_DOC, encoding="utf-8")

    def killed(*_, **__):
        raise RuntimeError("killed before publishing")

    monkeypatch.setattr(ChromaStore, "bump_generation", killed)
    with pytest.raises(RuntimeError):
        ingest.run([docs], settings, embedder=embedder, by_folder=True)
    assistant = Assistant(settings=settings, embedder=embedder)
    assert assistant.readable(ANONYMOUS) is None  # every published library is theirs: no filter
    for mode in ("hybrid", "dense"):
        hits = assistant.search(FINANCE_QUESTION, k=10, mode=mode, user=ANONYMOUS)
        assert hits and not any(h.source.endswith("capital-board-paper.md") for h in hits), mode
    answer = assistant.ask(FINANCE_QUESTION, user=ANONYMOUS)
    assert answer.refused and "4.2 million" not in answer.answer
    assert not any(h.source.endswith("capital-board-paper.md") for h in answer.hits)


def test_the_command_line_answers_as_the_user_it_names(libraries):
    _, settings, _ = libraries
    env = {"POLICY_ASSISTANT_LIBRARIES": json.dumps(LIBRARIES), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}

    def run(*args):
        done = subprocess.run([sys.executable, "-m", "assistant.cli", *args, "--store", str(settings.store), "--json"],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    as_hr = json.loads(run("ask", FINANCE_QUESTION, "--user", "hr@example.org", "--groups", "hr-team"))
    as_finance = json.loads(run("ask", FINANCE_QUESTION, "--user", "fin@example.org", "--groups", "finance-team"))
    assert as_hr["refused"] and not as_hr["citations"]
    assert not as_finance["refused"] and "4.2 million" in as_finance["answer"]
    listed = json.loads(run("documents", "--groups", "hr-team"))
    assert {row["library"] for row in listed} == {"general", "hr"}


# --- the user from the identity provider's claims ------------------------------------------------

def test_the_groups_claim_and_the_maintainers_group_make_the_user(settings):
    config = settings.model_copy(update={"maintainers_group": "pa-admins", "groups_claim": "roles"})
    user = user_from_claims({"email": "a@x.org", "name": "A", "roles": ["hr-team", "pa-admins"]}, config)
    assert user.id == "a@x.org" and user.groups == {"hr-team", "pa-admins"} and user.maintainer
    single = user_from_claims({"sub": "123", "roles": "hr-team"}, config)
    assert single.groups == {"hr-team"} and not single.maintainer
    with pytest.raises(ValueError):
        user_from_claims({"roles": []}, config)


def test_a_sign_in_older_than_the_limit_is_asked_again():
    from access.policy import sign_in_expired

    now = 1_800_000_000.0
    assert not sign_in_expired({"auth_time": now - 11 * 3600}, 12, now)
    assert sign_in_expired({"auth_time": now - 13 * 3600}, 12, now)
    assert sign_in_expired({"iat": now - 13 * 3600}, 12, now)
    assert sign_in_expired({}, 12, now)  # no time: not trusted


# --- saved conversations and shared links ----------------------------------------------------------

def test_a_shared_conversation_opens_only_for_readers_of_all_its_sources(libraries, tmp_path):
    _, _, assistant = libraries
    records = Records(tmp_path / "records.sqlite3")
    answer = assistant.ask(FINANCE_QUESTION, user=FINANCE_USER)
    conversation = records.start(FINANCE_USER, FINANCE_QUESTION)
    records.add_turn(conversation, FINANCE_USER, {"question": FINANCE_QUESTION, "answer": answer.to_record()},
                     [c.source for c in answer.citations])
    colleague = User(id="fin2@example.org", groups=frozenset({"finance-team"}))
    with pytest.raises(NotAllowed):  # not shared yet
        records.open(conversation, colleague, lambda s: assistant.may_read(s, colleague))
    records.share(conversation, FINANCE_USER)
    opened = records.open(conversation, colleague, lambda s: assistant.may_read(s, colleague))
    assert "4.2 million" in opened.turns[0]["answer"]["answer"]
    with pytest.raises(NotAllowed):  # shared, but HR may not read the board paper it quotes
        records.open(conversation, HR_USER, lambda s: assistant.may_read(s, HR_USER))
    with pytest.raises(NotAllowed):  # only the owner renames or deletes
        records.delete(conversation, colleague)


def test_a_conversation_is_resumed_renamed_and_deleted_by_its_owner(tmp_path):
    records = Records(tmp_path / "records.sqlite3")
    first = records.start(HR_USER, "Grievance appeals")
    second = records.start(HR_USER, "Sickness absence")
    records.add_turn(first, HR_USER, {"question": "q1"}, ["a.md"])
    records.add_turn(first, HR_USER, {"question": "q2"}, ["b.md"])
    assert [c.id for c in records.conversations(HR_USER)] == [first, second]  # last used first
    assert [t["question"] for t in records.open(first, HR_USER).turns] == ["q1", "q2"]
    records.rename(first, HR_USER, "Appeals")
    assert records.conversations(HR_USER)[0].title == "Appeals"
    records.delete(second, HR_USER)
    assert [c.id for c in records.conversations(HR_USER)] == [first]
    assert records.conversations(FINANCE_USER) == []


# --- the audit log ------------------------------------------------------------------------------------

def test_the_audit_log_is_append_only_and_purged_after_the_retention_period(tmp_path):
    import sqlite3
    import time

    records = Records(tmp_path / "records.sqlite3", retention_days=30)
    records.log(HR_USER, "ask", "Who hears appeals?", ["c1", "c2"], ["c1"])
    db = sqlite3.connect(tmp_path / "records.sqlite3")
    for statement in ("UPDATE audit SET user = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError):
            db.execute(statement)
        db.rollback()
    db.close()
    assert records.purge(now=time.time() + 29 * 86400) == 0
    assert records.purge(now=time.time() + 31 * 86400) == 1
    assert records.audit() == []


def test_the_audit_log_filters_and_exports_csv(tmp_path):
    records = Records(tmp_path / "records.sqlite3")
    records.log(HR_USER, "ask", "Who hears appeals?", ["c1"], ["c1"])
    records.log(FINANCE_USER, "ask", "=HYPERLINK(\"x\") capital?", ["c2"], [])
    records.log(FINANCE_USER, "upload", saved=["a.pdf"])
    assert [r["action"] for r in records.audit(user=FINANCE_USER.id)] == ["upload", "ask"]
    assert [r["user"] for r in records.audit(text="appeals")] == [HR_USER.id]
    csv_text = records.to_csv(records.audit())
    assert csv_text.splitlines()[0].startswith("id,at,user,groups,action,question")
    assert "'=HYPERLINK" in csv_text  # a formula is written as text


def test_no_audit_record_is_lost_under_8_concurrent_writers(tmp_path):
    records = Records(tmp_path / "records.sqlite3")
    errors = []

    def user_session(n: int) -> None:
        try:
            for i in range(25):
                records.log(User(id=f"user{n}"), "ask", f"question {i}", [f"c{i}"], [])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=user_session, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(records.audit()) == 200


# --- the HTTP API ---------------------------------------------------------------------------------------

def test_the_http_api_serves_each_key_only_its_groups_libraries_and_audits_it(libraries, monkeypatch):
    import httpx

    from api.app import document_id
    from api.keys import KeyStore
    from tests.test_api import Server

    _, settings, assistant = libraries
    keys = KeyStore(settings.store)
    hr_key = keys.create("hr-bot", "reader", ["hr-team"])
    finance_key = keys.create("finance-bot", "reader", ["finance-team"])
    monkeypatch.setenv("POLICY_ASSISTANT_LIBRARIES", json.dumps(LIBRARIES))
    server = Server(settings.store)
    try:
        def call(method, path, key, **body):
            return httpx.request(method, f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"},
                                 timeout=120, **({"json": body} if body else {}))

        board = assistant.find_document("capital-board", user=FINANCE_USER)
        hidden = document_id(board)
        asked = call("POST", "/v1/ask", hr_key, question=FINANCE_QUESTION).json()
        assert asked["refused"] and not asked["citations"]
        assert "4.2 million" in call("POST", "/v1/ask", finance_key, question=FINANCE_QUESTION).json()["answer"]
        found = call("POST", "/v1/search", hr_key, query=FINANCE_QUESTION, k=20).json()["hits"]
        assert found and board not in {h["source"] for h in found}
        assert hidden not in {d["id"] for d in call("GET", "/v1/documents", hr_key).json()["documents"]}
        for path in (f"/v1/documents/{hidden}", f"/v1/documents/{hidden}/file", f"/v1/documents/{hidden}/changes"):
            refused = call("GET", path, hr_key)
            assert refused.status_code == 404 and "capital" not in refused.text.lower()
        assert call("GET", f"/v1/documents/{hidden}", finance_key).status_code == 200
        chat = call("POST", "/v1/chat/completions", hr_key, messages=[{"role": "user", "content": FINANCE_QUESTION}])
        assert chat.json()["refused"] and "4.2" not in chat.text
    finally:
        server.stop()
    audit = Records(settings.records_path).audit(action="ask")
    assert {(r["user"], r["question"]) for r in audit} >= {("api:hr-bot", FINANCE_QUESTION),
                                                           ("api:finance-bot", FINANCE_QUESTION)}
    finance_row = next(r for r in audit if r["user"] == "api:finance-bot")
    assert json.loads(finance_row["cited"]) and set(json.loads(finance_row["cited"])) <= set(json.loads(finance_row["retrieved"]))


# --- the chat page, for the anonymous user of a deployment without sign-in ------------------------------

def test_the_chat_page_lists_answers_and_exports_only_the_open_library(libraries, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.markdown import conversation_markdown

    _, settings, _ = libraries
    for name in ("POLICY_ASSISTANT_CHROMA_URL", "POLICY_ASSISTANT_ADMIN_TOKEN", "POLICY_ASSISTANT_OIDC_METADATA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POLICY_ASSISTANT_STORE", str(settings.store))
    monkeypatch.setenv("POLICY_ASSISTANT_LIBRARIES", json.dumps(LIBRARIES))
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    sidebar = "\n".join(str(m.value) for m in at.sidebar.markdown) + "\n".join(s.value for s in at.sidebar.subheader)
    assert "Documents in the index (2)" in sidebar
    assert "capital" not in sidebar.lower() and "grievance" not in sidebar.lower()
    assert not any("board-paper" in option for option in at.sidebar.multiselect[0].options)
    at.chat_input[0].set_value(FINANCE_QUESTION).run()
    turn = at.session_state["turns"][-1]
    assert turn.answer.refused and "4.2" not in turn.answer.answer
    exported = conversation_markdown([t.answer for t in at.session_state["turns"]])
    assert "Quillmarsh" in exported and "4.2 million" not in exported  # the question, not the passage
    # Without sign-in nothing is saved, and the question is audited under the anonymous user.
    assert Records(settings.records_path).conversations(ANONYMOUS) == []
    assert any(r["user"] == "anonymous" and r["question"] == FINANCE_QUESTION
               for r in Records(settings.records_path).audit(action="ask"))
