"""Which PDF pages go to pdfplumber's table pass (ingest/ruled.py): only pages whose drawn lines
form a grid, so that pages of prose stop paying for a layout of every character (issue 15: the
ingest of the NHS PDFs is no slower than it must be), and no table is lost."""
from __future__ import annotations

import io

import pdfplumber
import pytest
from pypdf import PdfReader

from ingest import ruled
from ingest.loaders import _page_text, load

from .conftest import NHS_PDFS
from .pdfbytes import one_page_pdf

ROWS = [("Allocation", "2025/26"), ("Community services", "£3.2m"), ("Care homes", "£1.4m")]


def grid_ops(x: float = 100, y: float = 700, width: float = 150, height: float = 20) -> str:
    """A ruled table of ROWS: one stroked rectangle a cell, its text inside."""
    ops = []
    for row, cells in enumerate(ROWS):
        for column, text in enumerate(cells):
            left, bottom = x + column * width, y - row * height
            ops.append(f"{left} {bottom} {width} {height} re S")
            ops.append(f"BT /F1 9 Tf 1 0 0 1 {left + 4} {bottom + 6} Tm ({text.replace('£', '')}) Tj ET")
    return "\n".join(ops)


def drawing_of(content: str) -> ruled.PageDrawing:
    drawing = ruled.PageDrawing()
    _page_text(PdfReader(io.BytesIO(one_page_pdf(content.encode("cp1252")))).pages[0], drawing)
    return drawing


def test_a_page_ruled_as_a_grid_may_hold_a_table():
    assert drawing_of(grid_ops()).may_hold_table()


def test_a_grid_placed_by_the_page_matrix_is_still_seen():
    """Some tools draw every cell at the origin and place it with a 'cm' (and Word scales its
    units): the check places each segment on the page, as pdfplumber does."""
    cells = [f"q 0.5 0 0 0.5 {100 + 150 * column} {700 - 20 * row} cm 0 0 300 40 re S Q"
             for row in range(3) for column in range(2)]
    assert drawing_of("\n".join(cells)).may_hold_table()


def test_a_grid_drawn_with_lines_not_rectangles_is_seen():
    lines = [f"100 {700 - 20 * i} m 400 {700 - 20 * i} l S" for i in range(4)]
    lines += [f"{100 + 150 * i} 700 m {100 + 150 * i} 640 l S" for i in range(3)]
    assert drawing_of("\n".join(lines)).may_hold_table()


@pytest.mark.parametrize("content", [
    "BT /F1 10 Tf 1 0 0 1 72 700 Tm (Prose only, nothing drawn.) Tj ET",
    "36 36 523 770 re S",                                  # a border round the page
    "72 400 m 523 400 l S 72 380 m 523 380 l S",           # two rules
    "100 700 300 20 re f 100 660 300 20 re f",             # two shaded bars, apart
    "100 700 150 20 re S 250 700 150 20 re S",             # one row of two boxes: no rows to read
])
def test_prose_boxes_and_rules_are_no_table(content):
    assert not drawing_of(content).may_hold_table()


def test_a_ruled_table_is_read_row_by_row_with_its_header(tmp_path):
    """End to end through the loader: the grid goes to pdfplumber and its rows come back."""
    path = tmp_path / "allocations.pdf"
    path.write_bytes(one_page_pdf(grid_ops().encode("cp1252")))
    doc = load(path, 10)
    assert doc.extra["tables"] == "1"
    assert "Allocation: Community services | 2025/26: 3.2m" in doc.pages[0].text


@pytest.mark.parametrize("name", [
    "202310-Dapagliflozin-for-Chronic-kidney-disease-prescribing-support-document-1.pdf",
    "202407-Dapagliflozin-and-empagliflozin-for-heart-failure-Prescribing-Support-Document-v3.pdf",
    "27062024-Tirzepatide-for-type-2-diabetes-prescribing-support-document-002.pdf",
    "Blood-glucose-and-ketone-self-monitoring-guidance.pdf",
    "Prescribing-of-Insulin-Needles.pdf",
    "Prescribing-Update-Nov-2022-Diabetes-Monitoring-Technology-.pdf",
])
def test_every_nhs_page_with_a_table_is_checked_and_few_others(name):
    """pdfplumber run on every page keeps a table (two rows, two columns) only on pages the check
    sends it: none is lost. At most one page a file is sent for nothing (the kidney document's
    cover draws a grid of boxes that hold no two-column rows)."""
    path = NHS_PDFS / name
    flagged = set()
    for number, page in enumerate(PdfReader(str(path)).pages, start=1):
        drawing = ruled.PageDrawing()
        _page_text(page, drawing)
        if drawing.may_hold_table():
            flagged.add(number)
    with pdfplumber.open(str(path)) as pdf:
        with_tables = {number for number, page in enumerate(pdf.pages, start=1)
                       if any(len(rows) >= 2 and max(map(len, rows)) >= 2
                              for rows in (table.extract() for table in page.find_tables()))}
    assert with_tables <= flagged
    assert len(flagged - with_tables) <= 1
