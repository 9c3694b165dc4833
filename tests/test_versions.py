"""Documents that know their date, version and status (issue 14): two versions of one guidance
document that differ in one figure; the current one answers by default, an "as of" date before the
change answers from the old one, whose citation says it is superseded; "what changed" lists the
one changed passage; a maintainer's facts file overrides what a document says."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ingest
from assistant import Assistant
from index.facts import DocumentFacts
from index.store import ChromaStore

from .conftest import ROOT, SEEDS, make_settings

pytestmark = pytest.mark.shared

BODY = """# Better Care Fund policy framework

The Better Care Fund brings together health and social care funding so that councils and integrated
care boards plan services together.

The Discharge Fund is {amount}, paid to local areas to speed up discharge from hospital into care
homes and home care.

Each area must agree a joint plan, signed off by its Health and Wellbeing Board, before the funding
is released.

Areas report their spending every quarter to the national Better Care Fund team, which publishes a
summary of each area's plan.
"""
FRONT = "---\ntitle: Better Care Fund policy framework\npublisher: Department of Health and Social Care\n" \
        "date: {date}\nversion: \"{version}\"\n---\n\n"
QUESTION = "How much is the Discharge Fund?"


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    docs = tmp_path_factory.mktemp("versions") / "docs"
    docs.mkdir()
    (docs / "bcf-framework-2024.md").write_text(
        FRONT.format(date="2024-04-01", version="1.0") + BODY.format(amount="£500 million"), encoding="utf-8")
    (docs / "bcf-framework-2025.md").write_text(
        FRONT.format(date="2025-04-01", version="2.0") + BODY.format(amount="£600 million"), encoding="utf-8")
    for path in sorted(SEEDS.iterdir())[:3]:
        shutil.copy2(path, docs / path.name)
    settings = make_settings(docs.parent / "store")
    report = ingest.run([docs], settings, embedder=embedder)
    assert report.added == 5 and not report.failed
    return docs, settings, Assistant(settings=settings, embedder=embedder)


def test_the_later_version_is_linked_and_the_earlier_one_superseded(library):
    docs, settings, assistant = library
    facts = assistant.catalogue.facts()
    old, new = facts[str(docs / "bcf-framework-2024.md")], facts[str(docs / "bcf-framework-2025.md")]
    assert (old.status, old.version, old.published, old.superseded_by, old.in_force_until) == (
        "superseded", "1.0", "2024-04-01", str(docs / "bcf-framework-2025.md"), "2025-04-01")
    assert (new.status, new.version, new.previous) == ("current", "2.0", str(docs / "bcf-framework-2024.md"))
    assert old.stated["status"] == "library" and new.stated["version"] == "document"
    assert new.publisher == "Department of Health and Social Care"


def test_the_current_version_answers_by_default_and_the_old_one_is_not_quoted(library):
    docs, _, assistant = library
    answer = assistant.ask(QUESTION)
    assert not answer.refused and "£600 million" in answer.answer and "£500 million" not in answer.answer
    assert {Path(c.source).name for c in answer.citations} == {"bcf-framework-2025.md"}
    assert all(c.status == "current" and c.to_dict()["status"] == "current" for c in answer.citations)
    # The old version's passage is dropped, not only ranked lower, wherever the newer one says the same.
    assert not any(h.source.endswith("bcf-framework-2024.md") and "Health and Wellbeing Board" in h.text
                   for h in assistant.search("Who signs off the joint plan before funding is released?", k=10))


def test_as_of_a_date_before_the_change_answers_from_the_old_version_marked_superseded(library):
    docs, _, assistant = library
    answer = assistant.ask(QUESTION, as_of="2024-06-01")
    assert not answer.refused and "£500 million" in answer.answer and "£600 million" not in answer.answer
    cited = answer.citations[0]
    assert Path(cited.source).name == "bcf-framework-2024.md"
    assert cited.to_dict() | {"chunk_id": None, "quote": None} == {
        "n": 1, "source": str(docs / "bcf-framework-2024.md"), "title": "Better Care Fund policy framework",
        "page": None, "chunk_id": None, "quote": None, "verified": True, "status": "superseded",
        "version": "1.0", "published": "2024-04-01",
        "superseded_by": "Better Care Fund policy framework, version 2.0 of 2025-04-01"}
    assert answer.to_dict()["as_of"] == "2024-06-01"
    assert "[superseded by Better Care Fund policy framework, version 2.0 of 2025-04-01]" in answer.to_markdown()
    # Before either version: neither was in force, so nothing from them.
    before = assistant.search("Discharge Fund amount", k=10, as_of="2023-01-01")
    assert not any("bcf-framework" in h.source for h in before)


def test_what_changed_lists_exactly_the_changed_passage(library):
    docs, _, assistant = library
    found = assistant.changes(str(docs / "bcf-framework-2025.md"))
    assert [c.to_dict() for c in found] == [{
        "kind": "changed",
        "before": "The Discharge Fund is £500 million, paid to local areas to speed up discharge from hospital "
                  "into care homes and home care.",
        "after": "The Discharge Fund is £600 million, paid to local areas to speed up discharge from hospital "
                 "into care homes and home care."}]
    assert assistant.changes(str(docs / "bcf-framework-2025.md"), topic="discharge funding") == found
    assert assistant.changes(str(docs / "bcf-framework-2025.md"), topic="parking permits") == []


def test_the_documents_list_has_date_version_and_status_and_sorts_by_them(library):
    _, _, assistant = library
    rows = assistant.document_rows(sort="version")
    assert [(r["version"], r["status"]) for r in rows[:2]] == [("2.0", "current"), ("1.0", "superseded")]
    by_date = [r["published"] for r in assistant.document_rows(sort="published") if r["published"]]
    assert by_date == sorted(by_date, reverse=True)


def test_the_cli_answers_as_of_a_date_and_lists_what_changed(library):
    docs, settings, _ = library
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(settings.store))

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    answer = json.loads(cli("ask", QUESTION, "--as-of", "2024-06-01", "--json"))
    assert answer["citations"][0]["status"] == "superseded" and "£500 million" in answer["answer"]
    changes = json.loads(cli("changes", "bcf-framework-2025", "--json"))["changes"]
    assert [c["kind"] for c in changes] == ["changed"] and "£600 million" in changes[0]["after"]
    listing = cli("documents", "--sort", "status")
    assert "superseded" in listing.splitlines()[1]  # not-current documents come first


def test_a_facts_file_overrides_the_document_and_survives_reingest(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    guidance = docs / "hospital-discharge.md"
    guidance.write_text("---\ntitle: Hospital discharge guidance\ndate: 2022-07-01\n---\n\n"
                        "Patients should be discharged home on the day they are medically ready.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "store")
    ingest.run([docs], settings, embedder=embedder)
    (docs / "hospital-discharge.md.facts.yaml").write_text(
        "status: withdrawn\nreview_by: 2023-07-01\npublisher: NHS England\n", encoding="utf-8")
    report = ingest.run([docs], settings, embedder=embedder)
    assert report.updated == 1 and report.added == 0  # the facts file is not a document
    assistant = Assistant(settings=settings, embedder=embedder)
    facts = assistant.catalogue.facts()[str(guidance)]
    assert (facts.status, facts.review_by, facts.publisher, facts.published) == (
        "withdrawn", "2023-07-01", "NHS England", "2022-07-01")
    assert facts.stated["status"] == facts.stated["publisher"] == "sidecar"
    cited = assistant.ask("When should patients be discharged home?").citations[0]
    assert cited.status == "withdrawn" and cited.past_review
    assert "withdrawn; past its review date (2023-07-01)" in assistant.ask(
        "When should patients be discharged home?").to_markdown()
    again = ingest.run([docs], settings, embedder=embedder)
    assert again.unchanged == 1
    assert ChromaStore(settings).file_facts()[str(guidance)].status == "withdrawn"


def test_a_broken_facts_file_is_a_clear_error_and_the_document_keeps_its_entry(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "note.md"
    note.write_text("# Note\n\nCare homes report vacancies every week to the council.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "store")
    ingest.run([docs], settings, embedder=embedder)
    (docs / "note.md.facts.yaml").write_text("status: retired\n", encoding="utf-8")
    report = ingest.run([docs], settings, embedder=embedder)
    assert report.failed == [{"path": str(note), "error": "its facts file note.md.facts.yaml gives status "
                              "'retired'; one of current, superseded, withdrawn, draft"}]
    assert str(note) in ChromaStore(settings).manifest()  # a failure changes nothing
    (docs / "note.md.facts.yaml").write_text("reviewed: soon\n", encoding="utf-8")
    assert "names unknown facts (reviewed)" in ingest.run([docs], settings, embedder=embedder).failed[0]["error"]


def test_an_undated_document_with_no_other_version_is_in_force_on_any_date():
    facts = DocumentFacts()
    assert facts.in_force_on("1999-01-01") and facts.in_force_on("2099-01-01")
    assert not DocumentFacts(status="draft").in_force_on("2099-01-01")
    dated = DocumentFacts(published="2024-04-01", in_force_until="2025-04-01")
    assert [dated.in_force_on(d) for d in ("2024-03-31", "2024-04-01", "2025-03-31", "2025-04-01")] == [
        False, True, True, False]


# --- facts read from the shared documents (each checked against what the document says) -------------

from .conftest import LA_DUTIES, NHS_PDFS  # noqa: E402

INTEGRATION = NHS_PDFS.parent / "integration-policy"


@pytest.mark.parametrize("path,expected", [
    # "Date published: 29 January, 2025" / "Date last updated: 25 March, 2025" at the head
    (INTEGRATION / "nhse-2025-neighbourhood-health-guidelines-2025-26.md",
     {"published": "2025-01-29", "updated": "2025-03-25"}),
    # the seeds' datelines: "22.02.18", "28 Jun 16"
    (SEEDS / "001_143c5d2c9eee0ace.txt", {"published": "2018-02-22"}),
    (SEEDS / "002_8975fbdea5563a37.txt", {"published": "2016-06-28"}),
    # "Version 3, 8 February 2023" on the cover; a version table whose last row is V1.6
    (NHS_PDFS / "Commissioning-policy-individual-funding-requests-v3.pdf", {"version": "3"}),
    (NHS_PDFS / "NHS-Cambridgeshire-and-Peterborough-constitution-V1.6---Approved-NHS-England-October-2025.docx",
     {"version": "1.6"}),
    # PDF metadata: an organisation as Author is the publisher (a person's name is not)
    (NHS_PDFS / "type-2-diabetes-in-adults-management-pdf-1837338615493.pdf",
     {"publisher": "National Institute for Health and Care Excellence (NICE)"}),
    (NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf", {"publisher": ""}),
    # la-duties front matter
    (LA_DUTIES / "abandoned-vehicles-removal.md", {"title": "Abandoned vehicles - removal", "status": "current"}),
], ids=lambda value: value.name if isinstance(value, Path) else "")
def test_facts_are_read_from_what_the_document_states(path, expected):
    from ingest.clean import clean_document
    from ingest.facts import document_facts
    from ingest.loaders import load

    if not path.exists():  # the NHS file names are long: find by prefix
        path = next(path.parent.glob(path.name[:30] + "*"))
    facts = document_facts(clean_document(load(path, 25)))
    assert {name: getattr(facts, name) for name in expected} == expected


def test_among_the_council_duties_only_true_versions_are_linked():
    """3,150 short, templated council duties: near-identical texts abound ("microchipping of dogs
    (England)" and "(Wales)"), but only a reworded title or a new year of the same duty is a version."""
    from ingest.clean import clean_document
    from ingest.facts import document_facts
    from ingest.loaders import load
    from index.facts import Versioned, fingerprint, link_versions

    entries = []
    for path in sorted(LA_DUTIES.glob("*.md")):
        doc = clean_document(load(path, 25))
        entries.append(Versioned(path.name, document_facts(doc), fingerprint(" ".join(p.text for p in doc.pages))))
    linked = link_versions(entries, {e.source for e in entries})
    assert {(old, facts.superseded_by) for old, facts in linked.items() if facts.superseded_by} == {
        ("child-welfare-funding-of-local-safeguarding-children-board.md",
         "child-welfare-local-safeguarding-children-board-funding.md"),
        ("fostering-private-fosterers-registration.md", "fostering-registration-of-private-fosterers.md"),
        ("non-domestic-rating-disregarded-income-2013.md", "non-domestic-rating-disregarded-income-2014.md")}


def test_the_http_api_answers_as_of_a_date_and_serves_what_changed(library):
    import httpx

    from api.app import document_id

    from .test_api import Server

    docs, settings, _ = library
    server = Server(settings.store)
    try:
        answer = httpx.post(f"{server.url}/v1/ask", json={"question": QUESTION, "as_of": "2024-06-01"}, timeout=120).json()
        assert "£500 million" in answer["answer"] and answer["citations"][0]["status"] == "superseded"
        assert answer["as_of"] == "2024-06-01"
        listed = {d["file"]: d for d in httpx.get(f"{server.url}/v1/documents", timeout=60).json()["documents"]}
        new, old = listed["bcf-framework-2025.md"], listed["bcf-framework-2024.md"]
        assert (new["status"], new["version"], new["previous"]) == ("current", "2.0", old["id"])
        assert (old["status"], old["superseded_by"]) == ("superseded", new["id"])
        changed = httpx.get(f"{server.url}/v1/documents/{new['id']}/changes", params={"topic": "discharge"},
                            timeout=60).json()["changes"]
        assert [c["kind"] for c in changed] == ["changed"] and "£600 million" in changed[0]["after"]
        assert httpx.get(f"{server.url}/v1/documents/{old['id']}/changes", timeout=60).status_code == 404
        bad = httpx.post(f"{server.url}/v1/ask", json={"question": QUESTION, "as_of": "last spring"}, timeout=60)
        assert bad.status_code == 400 and "is not a date" in bad.text
        assert document_id(str(docs / "bcf-framework-2025.md")) == new["id"]
    finally:
        server.stop()


def test_removing_the_current_version_makes_the_earlier_one_current_again(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for year, version, amount in (("2024", "1.0", "£500 million"), ("2025", "2.0", "£600 million")):
        (docs / f"bcf-framework-{year}.md").write_text(
            FRONT.format(date=f"{year}-04-01", version=version) + BODY.format(amount=amount), encoding="utf-8")
    settings = make_settings(tmp_path / "store")
    ingest.run([docs], settings, embedder=embedder)
    old = str(docs / "bcf-framework-2024.md")
    assert ChromaStore(settings).file_facts([old])[old].status == "superseded"
    ingest.remove([str(docs / "bcf-framework-2025.md")], settings)
    facts = ChromaStore(settings).file_facts([old])[old]
    assert (facts.status, facts.superseded_by, facts.in_force_until) == ("current", "", None)
    answer = Assistant(settings=settings, embedder=embedder).ask(QUESTION)
    assert "£500 million" in answer.answer and answer.citations[0].status == "current"
