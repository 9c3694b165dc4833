"""Scanned PDFs (issue 15): pages without a text layer are read by Tesseract OCR, only those pages,
within a page and a time limit; their chunks and citations say so. The scans in
../shared/datasets/scanned/ are the NHS PDFs rasterised at 150-300 dpi, tilted and noisy."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ingest
from index.store import ChromaStore
from ingest import ocr
from ingest.loaders import load

from .conftest import NHS_PDFS, SHARED, make_settings

SCANNED = SHARED / "datasets" / "scanned"
pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed (make install installs it)")]


@pytest.fixture(scope="module")
def scanned_store(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("scans")
    for path in sorted(SCANNED.glob("*.pdf")):
        shutil.copy2(path, folder / path.name)
    settings = make_settings(tmp_path_factory.mktemp("scan-store") / "store")
    report = ingest.run([folder], settings, embedder=embedder)
    return settings, report


def test_every_scanned_pdf_is_indexed_and_says_how_many_pages_were_read_by_ocr(scanned_store):
    settings, report = scanned_store
    assert not report.failed, report.failed
    assert report.added == 3
    counts = {Path(f["path"]).name: (f["pages"], f["ocr_pages"]) for f in report.files}
    assert counts == {"insulin-needles-scanned-300dpi.pdf": (4, 4), "ifr-policy-pages-1-5-scanned-150dpi.pdf": (5, 5),
                      "dapagliflozin-ckd-mixed-text-and-scanned.pdf": (6, 3)}


def test_only_the_pages_without_text_are_read_by_ocr(scanned_store):
    """The mixed PDF: pages 1-3 keep their text layer, pages 4-6 (images) are OCR'd."""
    settings, _ = scanned_store
    store = ChromaStore(settings)
    pages = {}
    for chunk in store.all_chunks(include_text=False):
        if chunk.metadata["source"].endswith("dapagliflozin-ckd-mixed-text-and-scanned.pdf"):
            pages.setdefault(chunk.metadata["page"], set()).add(bool(chunk.metadata.get("ocr")))
    assert pages == {1: {False}, 2: {False}, 3: {False}, 4: {True}, 5: {True}, 6: {True}}


def test_a_question_about_a_scanned_page_is_answered_and_the_citation_says_ocr(scanned_store, embedder):
    from assistant import Assistant

    settings, _ = scanned_store
    answer = Assistant(settings=settings, embedder=embedder).ask("What length of insulin pen needle is recommended?")
    assert not answer.refused and "4mm" in answer.answer.replace(" ", "")
    scanned = [c for c in answer.citations if "insulin-needles-scanned" in c.source]
    assert scanned and all(c.ocr and c.verified for c in scanned)
    assert scanned[0].to_dict()["ocr"] is True


def test_a_scanned_letterhead_is_not_indexed(scanned_store):
    """The insulin leaflet's logo is printed on every page and read a little differently each time
    ("Wcambridceanre & Peterborough", "eombridgesnire & Peterborough"): page furniture, as the
    text original's logo (an image) gives no text at all."""
    settings, _ = scanned_store
    texts = [chunk.text for chunk in ChromaStore(settings).all_chunks()
             if chunk.metadata["source"].endswith("insulin-needles-scanned-300dpi.pdf")]
    assert texts and not any("Peterborough Cambridgeshire" in text for text in texts)
    assert any("4mm" in text.replace(" ", "") for text in texts)


def test_ocr_text_matches_the_original_closely():
    """Page 2 of the 300-dpi scan against the original's text layer: over 90% the same characters."""
    import difflib

    from pypdf import PdfReader

    page = PdfReader(str(SCANNED / "insulin-needles-scanned-300dpi.pdf")).pages[1]
    scan = " ".join(ocr.PageReader(ocr.OcrLimits()).read(page, 2).split())
    original = " ".join((PdfReader(str(NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf")).pages[1].extract_text()).split())
    similarity = difflib.SequenceMatcher(None, original, scan, autojunk=False).ratio()
    assert similarity > 0.9, similarity


def test_a_text_pdf_is_never_sent_to_ocr(monkeypatch):
    def refuse(self, pdf_page, number):
        raise AssertionError(f"page {number} of a text PDF went to OCR")

    monkeypatch.setattr(ocr.PageReader, "read", refuse)
    for path in sorted(NHS_PDFS.glob("*.pdf")):
        load(path, 25)


def test_the_page_and_time_limits_are_named_when_hit(tmp_path, embedder):
    scan = SCANNED / "insulin-needles-scanned-300dpi.pdf"
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy2(scan, folder / scan.name)
    few = ingest.run([folder], make_settings(tmp_path / "a", ocr_max_pages=1), embedder=embedder)
    assert "POLICY_ASSISTANT_OCR_MAX_PAGES" in few.failed[0]["error"]
    quick = ingest.run([folder], make_settings(tmp_path / "b", ocr_time_limit_s=0.5), embedder=embedder)
    assert "POLICY_ASSISTANT_OCR_TIME_LIMIT_S" in quick.failed[0]["error"]
    off = ingest.run([folder], make_settings(tmp_path / "c", ocr=False), embedder=embedder)
    assert "POLICY_ASSISTANT_OCR" in off.failed[0]["error"]
    for settings_folder in ("a", "b", "c"):
        assert ChromaStore(make_settings(tmp_path / settings_folder)).count() == 0  # nothing half-written


def test_a_blank_image_page_still_gets_a_clear_reason(tmp_path, embedder):
    from .conftest import BAD_INPUTS

    report = ingest.run([BAD_INPUTS / "no-text-layer.pdf"], make_settings(tmp_path / "store"), embedder=embedder)
    assert report.failed and "OCR found none" in report.failed[0]["error"]


def test_bullets_read_as_letters_and_dot_leaders_are_tidied():
    from ingest.ocr import tidy

    read = ("e Pen needles are available in 4mm\n¢ 8mm needles are not advised\n"
            "Introduction ....c.csccsessesceseseesee 3\nThe policy applies to everyone.\no 2025/26 plans")
    assert tidy(read) == ("• Pen needles are available in 4mm\n• 8mm needles are not advised\n"
                          "Introduction  …  3\nThe policy applies to everyone.\n• 2025/26 plans")
    # A word that merely starts a line is left alone: only a lone letter before a capital or a figure.
    assert tidy("end of the sentence.\neach area must agree") == "end of the sentence.\neach area must agree"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Debian tesseract-ocr is not installed (make ocr)")
def test_a_scanned_contents_list_reads_as_titles_and_page_numbers():
    """The tilted 300-dpi scan's contents page: its dot leaders read as letter soup ("IGN CUCTON acct
    Greenies a ae 1") until ingest/scan_cleanup.py takes them out and sets each number by its title."""
    import pytesseract
    from pypdf import PdfReader

    from ingest.scan_cleanup import clean_page

    scan = PdfReader(str(SHARED / "datasets" / "scanned" / "insulin-needles-scanned-300dpi.pdf"))
    (page,) = [image.image for image in scan.pages[0].images if min(image.image.size) >= 50]
    lines = {" ".join(line.split()) for line in pytesseract.image_to_string(clean_page(page), lang="eng").splitlines()}
    assert {"Introduction 1", "Key points 2", "Formulary Choice of Insulin Needles 2", "References 4"} <= lines


def test_a_page_without_leaders_or_rules_is_only_turned_grey():
    from PIL import Image, ImageDraw

    from ingest.scan_cleanup import clean_page

    blank = Image.new("RGB", (400, 300), "white")
    assert list(clean_page(blank).getdata()) == list(blank.convert("L").getdata())
    words = Image.new("L", (600, 200), 235)
    ImageDraw.Draw(words).text((20, 80), "Pooled budgets are agreed each year.", fill=20)
    assert list(clean_page(words).getdata()) == list(words.getdata())


def test_a_fine_scan_is_read_at_reading_resolution_and_a_coarse_one_as_it_is():
    """300-dpi scans are read at 200 dpi: Tesseract read their contents lists as letter soup."""
    from PIL import Image

    from ingest.ocr import READ_DPI, at_reading_resolution

    fine = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi
    assert at_reading_resolution(fine, 300).size == (round(2480 * READ_DPI / 300), round(3508 * READ_DPI / 300))
    coarse = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    assert at_reading_resolution(coarse, 200) is coarse
