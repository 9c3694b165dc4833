"""Ingestion: loaders, cleaning, chunk metadata, incremental re-ingest, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import index
import ingest
from ingest.chunking import chunk_document
from ingest.clean import clean_document
from ingest.loaders import load
from index.store import ChromaStore

from .conftest import BAD_INPUTS, NHS_PDFS, SEEDS, make_settings

pytestmark = pytest.mark.shared

# Real phrases from the web captures' page furniture: none may ever be indexed.
BOILERPLATE_PHRASES = [
    "Your browser is no longer supported",
    "cookies disabled",
    "consent to use cookies",
    "You must sign in to make a comment",
    "Have your say",
    "Links may be included in your comments",
    "There are no comments. Why not be the first?",
    "Add your comment",
    "public sector executive tv",
    "Peter Kyle MP",
    "events calendar",
    "mon tue wed thu fri sat sun",
    "Did you enjoy this article?",
    "AddToAny",
    "Comments are closed",
    "Latest blog posts",
    "Sutherland: remember him?",
    "Postponing the inevitable",
    "Comments Off on",
]


def all_chunks(settings):
    return ChromaStore(settings).all_chunks()


def test_pdf_chunks_carry_their_page_and_offsets(policy_store):
    chunks = [c for c in all_chunks(policy_store) if c.metadata["source"].endswith(".pdf")]
    assert len(chunks) > 300
    assert all(c.metadata["page"] >= 1 for c in chunks)
    pages_by_file = {}
    for c in chunks:
        pages_by_file.setdefault(c.metadata["source"], set()).add(c.metadata["page"])
    # The 67-page SOP is cited across its length, not all on page 1.
    sop = next(v for k, v in pages_by_file.items() if "Standard-operating-procedures" in k)
    assert max(sop) > 50


def test_chunk_offsets_point_into_the_cleaned_page_text():
    doc = clean_document(load(NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf", 25))
    pages = {p.page: p.text for p in doc.pages}
    for chunk in chunk_document(doc, 900, 150):
        assert pages[chunk.page][chunk.start:chunk.end] == chunk.text


def test_seed_article_chunks_contain_no_page_furniture(policy_store):
    seed_text = "\n".join(c.text for c in all_chunks(policy_store) if "/seeds/" in c.metadata["source"])
    assert "Winterbourne View" in seed_text  # article text is kept
    assert "Breaking Barriers" in seed_text
    for phrase in BOILERPLATE_PHRASES:
        assert phrase.lower() not in seed_text.lower(), phrase


def test_titles_and_stated_dates_are_extracted():
    doc = clean_document(load(SEEDS / "002_8975fbdea5563a37.txt", 25))
    assert doc.title.startswith("Whitehall ‘wellbeing’ department")
    assert doc.date == "2016-06-28"
    doc = clean_document(load(SEEDS / "001_143c5d2c9eee0ace.txt", 25))
    assert doc.date == "2018-02-22"


def test_a_day_stated_without_a_year_is_kept_as_a_note_not_a_date(tmp_path):
    """ "Posted on July 4th" (a byline the boilerplate strip removes) and "on 29 October" cannot be
    dated without guessing a year; the reader is told the day instead of a bare "undated"."""
    byline = clean_document(load(SEEDS / "004_be0b3913e6a3a581.txt", 25))
    assert byline.date is None and byline.extra["date_note"] == "4 July"
    in_text = clean_document(load(SEEDS / "003_d52064480066839c.txt", 25))
    assert in_text.date is None and in_text.extra["date_note"] == "29 October"
    dated = tmp_path / "dated.txt"
    dated.write_text("Pooled budgets\n\nPosted on July 4th, 2017\n\nThe council pools its budget with the NHS.\n",
                     encoding="utf-8")
    doc = clean_document(load(dated, 25))
    assert doc.date == "2017-07-04" and "date_note" not in doc.extra


def test_the_document_list_shows_a_day_without_a_year_instead_of_undated(tmp_path, embedder):
    from ui.markdown import documents_markdown

    settings = make_settings(tmp_path / "store")
    ingest.run([SEEDS / "004_be0b3913e6a3a581.txt", SEEDS / "000_1ba0c70c47b0b245.txt"], settings, embedder=embedder)
    records = sorted(ChromaStore(settings).manifest().values(), key=lambda r: r.source)
    listing = documents_markdown(records)
    assert "undated (the text says 4 July, with no year)" in listing
    assert listing.count("undated") == 2  # the capture that states no day at all stays plainly undated


def test_a_word_split_at_a_pdf_line_end_is_joined_and_a_compound_keeps_its_hyphen():
    from ingest.clean import _repair_pdf_lines

    assert _repair_pdf_lines("the commis-\nsioning board") == "the commissioning board"
    assert _repair_pdf_lines("dapagli-\nflozin") == "dapagliflozin"  # no word on either side
    assert _repair_pdf_lines("side-\neffects") == "side-effects"
    assert _repair_pdf_lines("terms-and-\nconditions") == "terms-and-conditions"
    # Every line-end hyphen in this real PDF belongs to a compound ("sideeffects" before).
    doc = clean_document(load(NHS_PDFS / "202407-Dapagliflozin-and-empagliflozin-for-heart-failure-"
                                         "Prescribing-Support-Document-v3.pdf", 25))
    text = " ".join(p.text for p in doc.pages)
    assert "beta-blockers" in text and "breast-feeding" in text


def test_pdf_running_headers_and_footers_are_removed():
    """ "4 | individual funding requests" on each of 29 pages, "Page 2 of 4" on each page."""
    import re

    ifr = clean_document(load(NHS_PDFS / "Commissioning-policy-individual-funding-requests-v3.pdf", 25))
    assert len(ifr.pages) == 29
    running = re.compile(r"^\d+\s*\|\s*individual funding requests\s*$", re.M | re.I)
    assert not any(running.search(page.text) for page in ifr.pages)
    needles = clean_document(load(NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf", 25))
    assert not any(re.search(r"Page \d+ of \d+", page.text) for page in needles.pages)
    assert "4mm" in " ".join(p.text for p in needles.pages).replace(" ", "")  # the body stays


def _scanned(*texts: str):
    from ingest.documents import Document, Page

    return Document("scan.pdf", "", None, "pdf", [Page("scan.pdf", n, text, ocr=True) for n, text in enumerate(texts, 1)])


def test_a_letterhead_ocr_reads_differently_on_each_page_is_removed_as_a_running_line():
    """Tesseract's four readings of the insulin-needles leaflet's logo (the 300-dpi scan), each on
    a line of its own as Tesseract gives them."""
    from ingest.clean import drop_running_lines

    doc = _scanned("Wcambridceanre & Peterborough Cambridgeshire &\nPrescribing of Insulin Pen Needles",
                   "Teeembridgestira & Peterborough Cambridgeshire &\nKey points\n• All needles are for single use only.",
                   "eombridgesnire & Peterborough Cambridgeshire &\nInsulin pen needles are compatible with all pens.",
                   "MCeembrdgestiie & Peterborough Cambridgeshire &\nReferences\n• FIT UK recommendations.")
    drop_running_lines(doc)
    assert [page.text for page in doc.pages] == [
        "Prescribing of Insulin Pen Needles", "Key points\n• All needles are for single use only.",
        "Insulin pen needles are compatible with all pens.", "References\n• FIT UK recommendations."]


def test_headings_that_differ_on_scanned_pages_are_kept():
    from ingest.clean import drop_running_lines

    texts = ["Chapter 1: Introduction\nBody one.", "Chapter 2: Key points\nBody two.",
             "Chapter 3: Safety needles\nBody three.", "Chapter 4: References\nBody four."]
    doc = _scanned(*texts)
    drop_running_lines(doc)
    assert [page.text for page in doc.pages] == texts


def test_lines_nearly_alike_on_text_pages_are_kept():
    """Only OCR misreads a line that repeats: a text layer's near-repeats are the document's own."""
    from ingest.clean import drop_running_lines

    doc = _scanned("Region North: 12 sites\nA.", "Region South: 12 sites\nB.", "Region East: 12 sites\nC.")
    for page in doc.pages:
        page.ocr = False
    drop_running_lines(doc)
    assert doc.pages[0].text == "Region North: 12 sites\nA."


def test_docx_tables_are_read_in_document_order(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Before the table: the pooled budget is shared as follows.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Partner", "Share"
    table.cell(1, 0).text, table.cell(1, 1).text = "Council", "60 per cent"
    document.add_paragraph("After the table: reviewed every year.")
    path = tmp_path / "pooled.docx"
    document.save(str(path))
    text = load(path, 25).pages[0].text
    assert text.index("Before the table") < text.index("Partner: Council | Share: 60 per cent") < text.index("After the table")
    assert "Partner | Share" in text  # the header row itself, then each row with it


def test_a_previously_indexed_file_that_now_fails_keeps_its_entry(tmp_path, embedder, copy_of):
    """A failure changes nothing: the file's last good version stays searchable, with its chunks."""
    docs = copy_of(SEEDS / "000_1ba0c70c47b0b245.txt", SEEDS / "003_d52064480066839c.txt")
    settings = make_settings(tmp_path / "store")
    ingest.run([docs], settings, embedder=embedder)
    store = ChromaStore(settings)
    before = store.manifest()
    broken = docs / "003_d52064480066839c.txt"
    broken.write_bytes(b"\x00\x01\x02\xff\xfe binary junk \x00" * 50)
    report = ingest.run([docs], settings, embedder=embedder)
    assert [f["path"] for f in report.failed] == [str(broken)]
    after = store.manifest()
    assert after[str(broken)].chunk_ids == before[str(broken)].chunk_ids
    assert {c.id for c in store.all_chunks(include_text=False)} >= set(before[str(broken)].chunk_ids)


def test_prune_drops_indexed_files_that_no_longer_exist_anywhere(tmp_path, embedder, copy_of):
    """A file ingested by name (not through a folder) and then deleted: a plain ingest of something
    else keeps it, --prune drops it with its chunks."""
    docs = copy_of(SEEDS / "000_1ba0c70c47b0b245.txt", SEEDS / "003_d52064480066839c.txt")
    settings = make_settings(tmp_path / "store")
    lone, other = docs / "003_d52064480066839c.txt", docs / "000_1ba0c70c47b0b245.txt"
    ingest.run([lone], settings, embedder=embedder)
    store = ChromaStore(settings)
    lone_ids = set(store.manifest()[str(lone)].chunk_ids)
    lone.unlink()
    kept = ingest.run([other], settings, embedder=embedder)
    assert kept.removed == 0 and str(lone) in store.manifest()
    pruned = ingest.run([other], settings, embedder=embedder, prune=True)
    assert pruned.removed == 1 and str(lone) not in store.manifest()
    assert not lone_ids & {c.id for c in store.all_chunks(include_text=False)}


def test_pdf_cleaning_repairs_hyphenation_and_ligatures():
    doc = clean_document(load(NHS_PDFS / "Blood-glucose-and-ketone-self-monitoring-guidance.pdf", 25))
    text = " ".join(p.text for p in doc.pages)
    assert "\ufb00" not in text and "\ufb01" not in text
    assert "offered" in text


def test_markdown_front_matter_becomes_title_and_date(tmp_path):
    note = tmp_path / "note.md"
    note.write_text('---\ntitle: "Better Care Fund guidance"\ndate: 2023-04-01\n---\n\n# Heading\n\n'
                    "The Better Care Fund pools NHS and council budgets for integrated care.\n")
    doc = clean_document(load(note, 25))
    assert doc.title == "Better Care Fund guidance"
    assert doc.date == "2023-04-01"
    assert "# Heading" not in doc.pages[0].text


def test_html_loader_keeps_visible_text_only():
    doc = clean_document(load(BAD_INPUTS / "script-tags.html", 25))
    text = doc.pages[0].text
    assert "section 75 partnership agreement" in text
    assert "alert(" not in text and "document.cookie" not in text


def test_latin1_text_is_decoded():
    doc = clean_document(load(BAD_INPUTS / "latin1.txt", 25))
    assert "\ufffd" not in doc.pages[0].text
    assert any(ch in doc.pages[0].text for ch in "éèàâçüö£")


def test_chunk_ids_are_stable_for_the_same_text():
    first = clean_document(load(SEEDS / "003_d52064480066839c.txt", 25))
    second = clean_document(load(SEEDS / "003_d52064480066839c.txt", 25))
    assert [c.id for c in chunk_document(first, 900, 150)] == [c.id for c in chunk_document(second, 900, 150)]


def test_every_bad_input_fails_alone_with_a_clear_reason(tmp_path, embedder, copy_of):
    docs = copy_of(*sorted(BAD_INPUTS.iterdir()), SEEDS / "000_1ba0c70c47b0b245.txt")
    report = ingest.run([docs], make_settings(tmp_path / "store"), embedder=embedder)
    reasons = {os.path.basename(f["path"]): f["error"] for f in report.failed}
    assert "empty" in reasons["empty.pdf"]
    assert "not a PDF" in reasons["not-really.pdf"]
    assert "encrypted" in reasons["encrypted.pdf"]
    assert "OCR found none" in reasons["no-text-layer.pdf"]
    assert "damaged" in reasons["truncated.pdf"] or "truncated" in reasons["truncated.pdf"]
    assert "binary" in reasons["binary.txt"] or "undecodable" in reasons["binary.txt"]
    assert "repeated filler" in reasons["one-huge-line.txt"]
    # The good files in the same run are indexed.
    indexed = {os.path.basename(s) for s in ChromaStore(make_settings(tmp_path / "store")).manifest()}
    assert {"000_1ba0c70c47b0b245.txt", "latin1.txt", "prompt-injection.txt", "script-tags.html"} <= indexed
    assert report.added == 4


def test_reingest_is_incremental(tmp_path, embedder, copy_of):
    docs = copy_of(SEEDS / "000_1ba0c70c47b0b245.txt", SEEDS / "003_d52064480066839c.txt",
                   NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf")
    settings = make_settings(tmp_path / "store")
    first = ingest.run([docs], settings, embedder=embedder)
    assert first.added == 3 and first.chunks > 0
    store = ChromaStore(settings)
    total = store.count()

    again = ingest.run([docs], settings, embedder=embedder)
    assert (again.chunks, again.unchanged, again.added, again.updated) == (0, 3, 0, 0)

    # Touching (changing) one file re-embeds only that file's chunks.
    changed = docs / "003_d52064480066839c.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nA new closing paragraph about joint plans.\n",
                       encoding="utf-8")
    before = store.manifest()
    third = ingest.run([docs], settings, embedder=embedder)
    after = store.manifest()
    assert third.updated == 1 and third.unchanged == 2
    assert third.chunks == len(after[str(changed)].chunk_ids)
    # The changed file's old chunks left in this run, not at the next run's clean-up.
    stored = {c.id for c in store.all_chunks(include_text=False)}
    assert stored == {cid for record in after.values() for cid in record.chunk_ids}
    assert not (set(before[str(changed)].chunk_ids) - set(after[str(changed)].chunk_ids)) & stored
    for source in after:
        if source != str(changed):
            assert after[source].chunk_ids == before[source].chunk_ids

    # Deleting one removes exactly its chunks.
    gone = docs / "Prescribing-of-Insulin-Needles.pdf"
    gone_ids = set(after[str(gone)].chunk_ids)
    gone.unlink()
    fourth = ingest.run([docs], settings, embedder=embedder)
    assert fourth.removed == 1
    remaining = {c.id for c in store.all_chunks(include_text=False)}
    assert not remaining & gone_ids
    assert len(remaining) == store.count() == sum(len(r.chunk_ids) for r in store.manifest().values())
    assert store.count() == total - len(gone_ids) + (len(after[str(changed)].chunk_ids) - len(before[str(changed)].chunk_ids))


def test_a_different_embedding_model_forces_a_clear_reindex(tmp_path, embedder, copy_of):
    docs = copy_of(SEEDS / "002_8975fbdea5563a37.txt")
    settings = make_settings(tmp_path / "store")
    ingest.run([docs], settings, embedder=embedder)
    store = ChromaStore(settings)
    store.ensure_model(embedder.name)
    with pytest.raises(index.StoreError, match="--reindex"):
        store.ensure_model("some-other-model:torch")


def test_cli_ingest_json_summary_and_exit_codes(tmp_path, copy_of):
    docs = copy_of(SEEDS / "002_8975fbdea5563a37.txt", BAD_INPUTS / "empty.pdf")
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(tmp_path / "store"))
    cli = [sys.executable, "-m", "assistant.cli"]
    done = subprocess.run(cli + ["ingest", str(docs), "--json"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 1, done.stderr  # one file failed, the rest were ingested
    summary = json.loads(done.stdout)
    assert set(summary) >= {"added", "updated", "unchanged", "removed", "failed", "chunks", "seconds"}
    assert summary["added"] == 1 and summary["failed"][0]["path"].endswith("empty.pdf")
    assert "Traceback" not in done.stderr
    usage = subprocess.run(cli + ["ingest"], capture_output=True, text=True, env=env, timeout=120)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_a_pdf_table_row_keeps_its_header():
    """pypdf reads the dapagliflozin monitoring table in column order ("Issue Concomitant Diabetes
    No / Concomitant ..."); pdfplumber's rows are added with their header beside each value."""
    doc = load(NHS_PDFS / "202310-Dapagliflozin-for-Chronic-kidney-disease-prescribing-support-document-1.pdf", 25)
    page = next(p for p in doc.pages if p.page == 5)
    assert ("Issue: Glycaemic control | Concomitant Diabetes: If using insulin with HbA1c <58mmol/mol "
            "and eGFR >45ml/min/1.73m2") in page.text


def test_a_question_about_a_table_row_is_answered_with_its_figure(assistant):
    answer = assistant.ask("By how much should the insulin dose be reduced when starting dapagliflozin for chronic "
                           "kidney disease in a patient with diabetes whose HbA1c is under 58mmol/mol?")
    assert not answer.refused
    quoting = [c for c in answer.citations if "reduce dose by 20%" in c.quote]
    # The row (with its header) and the page's own column-order text of it tie in retrieval (BM25
    # 35.7 against 36.0 in Tantivy); either is quoted with its row label, and the row is retrieved.
    assert quoting and quoting[0].verified and "Glycaemic control" in " ".join(quoting[0].quote.split())
    assert any("Issue: Glycaemic control | Concomitant Diabetes:" in h.text for h in answer.hits)
