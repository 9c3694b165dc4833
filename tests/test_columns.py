"""Two-column PDF pages read in order (issue 10: "try pypdf's layout mode where two-column pages
interleave"). The pages are written here, byte by byte, the way some publishing tools draw them:
row by row across both columns, which pypdf's default pass reads as one interleaved line."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from ingest import columns
from ingest.loaders import _page_text, load

from .pdfbytes import one_page_pdf

LEFT = ["The plan will invest up to £120 million to", "develop more dedicated mental health",
        "emergency departments, so that patients get", "fast, same-day access to specialist support",
        "in an appropriate setting near their home."]
RIGHT = ["It will at least double the number of people", "offered a Personal Health Budget by 2028 to",
         "2029, and offer one million people a Personal", "Health Budget by 2030, a universal offer for",
         "all who would benefit from one by 2035."]


def pdf_page(left: list[str], right: list[str], by_rows: bool = True, title: str = "") -> bytes:
    """A one-page PDF with two columns of Helvetica text at x=56 and x=316, drawn row by row
    (left line, right line, next row) or column by column."""
    def show(x: int, y: int, text: str) -> str:
        return f"1 0 0 1 {x} {y} Tm ({text.replace('(', '[').replace(')', ']')}) Tj"

    ops = ["BT /F1 10 Tf"] + ([show(56, 790, title)] if title else [])
    rows = [(show(56, 760 - 14 * i, l) if l else "", show(316, 760 - 14 * i, r) if r else "")
            for i, (l, r) in enumerate(zip(left, right))]
    ops += [op for row in rows for op in row] if by_rows else [l for l, _ in rows] + [r for _, r in rows]
    return one_page_pdf("\n".join(op for op in ops + ["ET"] if op).encode("cp1252"))


def page_of(data: bytes):
    return PdfReader(io.BytesIO(data)).pages[0]


def test_the_default_pass_interleaves_a_page_drawn_row_by_row():
    """The failure this module exists for, shown on the fixture itself."""
    assert "£120 million to It will at least double" in page_of(pdf_page(LEFT * 2, RIGHT * 2)).extract_text()


@pytest.mark.parametrize("by_rows", [True, False])
def test_a_two_column_page_reads_left_column_then_right(by_rows):
    text = _page_text(page_of(pdf_page(LEFT * 2, RIGHT * 2, by_rows=by_rows)))
    assert "invest up to £120 million to\ndevelop more dedicated mental health\nemergency departments" in text
    assert text.index("near their home.") < text.index("It will at least double")


def test_a_title_across_both_columns_is_read_first():
    text = _page_text(page_of(pdf_page(LEFT * 2, RIGHT * 2, title="Fit for the Future: the 10 Year Health "
                                                                  "Plan for England, executive summary")))
    assert text.startswith("Fit for the Future") and "million to\ndevelop more" in text


def test_a_form_of_labels_and_values_keeps_its_rows():
    labels = ["Name:", "Date of birth:", "NHS number:", "Postcode:", "GP practice:"] * 2
    values = ["Jane Example", "1 April 1960", "999 999 9999", "AB1 2CD", "The Surgery"] * 2
    assert columns.in_reading_order(page_of(pdf_page(labels, values)).extract_text(extraction_mode="layout")) is None
    assert "Name: Jane Example" in _page_text(page_of(pdf_page(labels, values)))


def test_one_column_of_text_is_read_as_drawn():
    page = page_of(pdf_page(LEFT * 2, [""] * 10))
    assert _page_text(page) == page.extract_text()


def test_a_two_column_pdf_is_ingested_in_reading_order(tmp_path):
    path = tmp_path / "ten-year-plan-summary.pdf"
    path.write_bytes(pdf_page(LEFT * 2, RIGHT * 2))
    text = load(path, 25).pages[0].text
    assert "£120 million to\ndevelop more dedicated mental health" in text
