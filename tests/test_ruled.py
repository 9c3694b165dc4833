"""PDF tables from pypdf's own pass (ingest/ruled.py): a table is read only where the painted lines
form a grid, each cell holds the text pypdf placed in it, and no table pdfplumber finds is lost
(issue 15: the ingest of the NHS PDFs is no slower than it must be)."""
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


def grid_ops(x: float = 100, y: float = 700, width: float = 150, height: float = 20, baseline: float = 6) -> str:
    """A ruled table of ROWS: one stroked rectangle a cell, its text inside, ``baseline`` above
    the cell's bottom rule."""
    ops = []
    for row, cells in enumerate(ROWS):
        for column, text in enumerate(cells):
            left, bottom = x + column * width, y - row * height
            ops.append(f"{left} {bottom} {width} {height} re S")
            ops.append(f"BT /F1 9 Tf 1 0 0 1 {left + 4} {bottom + baseline} Tm ({text.replace('£', '')}) Tj ET")
    return "\n".join(ops)


def drawing_of(content: str) -> ruled.PageDrawing:
    drawing = ruled.PageDrawing(842)
    _page_text(PdfReader(io.BytesIO(one_page_pdf(content.encode("cp1252")))).pages[0], drawing)
    return drawing


def test_a_page_ruled_as_a_grid_may_hold_a_table():
    assert drawing_of(grid_ops()).holds_table()


def test_a_grid_placed_by_the_page_matrix_is_still_seen():
    """Some tools draw every cell at the origin and place it with a 'cm' (and Word scales its
    units): the check places each segment on the page, as pdfplumber does."""
    cells = [f"q 0.5 0 0 0.5 {100 + 150 * column} {700 - 20 * row} cm 0 0 300 40 re S Q"
             for row in range(3) for column in range(2)]
    assert drawing_of("\n".join(cells)).holds_table()


def test_a_grid_drawn_with_lines_not_rectangles_is_seen():
    lines = [f"100 {700 - 20 * i} m 400 {700 - 20 * i} l S" for i in range(4)]
    lines += [f"{100 + 150 * i} 700 m {100 + 150 * i} 640 l S" for i in range(3)]
    assert drawing_of("\n".join(lines)).holds_table()


def test_the_smallest_grid_three_rules_each_way_is_seen():
    """Two rows and two columns take three rules each way: the quick check before pdfplumber's
    geometry (ruled._may_hold_grid) must let exactly this through."""
    lines = [f"100 {700 - 20 * i} m 400 {700 - 20 * i} l S" for i in range(3)]
    lines += [f"{100 + 150 * i} 700 m {100 + 150 * i} 660 l S" for i in range(3)]
    assert drawing_of("\n".join(lines)).holds_table()


@pytest.mark.parametrize("content", [
    "BT /F1 10 Tf 1 0 0 1 72 700 Tm (Prose only, nothing drawn.) Tj ET",
    # two rows of one column: three rules across, two down
    "100 700 m 400 700 l S 100 680 m 400 680 l S 100 660 m 400 660 l S 100 700 m 100 660 l S 400 700 m 400 660 l S",
    "36 36 523 770 re S",                                  # a border round the page
    "72 400 m 523 400 l S 72 380 m 523 380 l S",           # two rules
    "100 700 300 20 re f 100 660 300 20 re f",             # two shaded bars, apart
    "100 700 150 20 re S 250 700 150 20 re S",             # one row of two boxes: no rows to read
    # a clipping grid paints nothing, even when a rule is stroked after it
    "100 700 150 20 re 250 700 150 20 re 100 680 150 20 re 250 680 150 20 re W n 72 400 m 523 400 l S",
])
def test_prose_boxes_and_rules_are_no_table(content):
    assert not drawing_of(content).holds_table()


def test_a_ruled_table_is_read_row_by_row_with_its_header(tmp_path):
    """End to end through the loader: the grid's rows come back, each value beside its header."""
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
def test_every_nhs_table_pdfplumber_finds_is_read_with_the_same_cells(name):
    """pdfplumber run on every page, laying out every character, finds the same tables on the same
    pages, and nearly every cell holds the same text (the rest differ where pypdf joins what
    pdfplumber splits, "side-effects" for "side- effects", or where a piece of text runs on past
    its cell)."""
    path = NHS_PDFS / name
    ours = {}
    for number, page in enumerate(PdfReader(str(path)).pages, start=1):
        drawing = ruled.PageDrawing(float(page.mediabox.height))
        _page_text(page, drawing)
        ours[number] = drawing.tables()
    with pdfplumber.open(str(path)) as pdf:
        theirs = {number: [rows for rows in ([[" ".join((cell or "").split()) for cell in row] for row in table.extract()]
                                             for table in page.find_tables())
                           if len(rows) >= 2 and max(map(len, rows)) >= 2]
                  for number, page in enumerate(pdf.pages, start=1)}
    assert {n: len(t) for n, t in ours.items() if t} == {n: len(t) for n, t in theirs.items() if t}
    pairs = [(a, b) for n in theirs for ta, tb in zip(ours[n], theirs[n]) for ra, rb in zip(ta, tb)
             for a, b in zip(ra, rb)]
    assert sum(a == b for a, b in pairs) >= 0.95 * len(pairs)


def test_text_whose_baseline_sits_on_a_rule_stays_in_its_cell(tmp_path):
    """A cell's text is placed by a point inside its glyphs, not by its baseline, which a tool may
    set on the rule below (where the next row begins)."""
    path = tmp_path / "allocations.pdf"
    path.write_bytes(one_page_pdf(grid_ops(baseline=0).encode("cp1252")))
    text = load(path, 10).pages[0].text
    assert "Allocation: Community services | 2025/26: 3.2m" in text
    assert "Allocation: Care homes | 2025/26: 1.4m" in text


def test_a_word_drawn_in_two_pieces_stays_whole_in_its_cell():
    """Some tools draw a word in pieces (a drop capital, kerning): pypdf joins them as it reads the
    page, and the cell keeps its join ("Diuretics", not "D iuretics")."""
    cells = grid_ops().replace("(Care homes) Tj ET",
                               "(D) Tj ET BT /F1 9 Tf 1 0 0 1 110.5 666 Tm (iuretics) Tj ET")
    drawing = drawing_of(cells)
    assert drawing.tables()[0][2][0] == "Diuretics"


def test_a_drawing_that_cannot_be_read_as_tables_loses_neither_text_nor_file(tmp_path, monkeypatch):
    """Tables are an extra: when the cell geometry fails on a page, the page keeps its text and the
    file still loads."""
    def fails(self):
        raise ValueError("a coordinate that is not finite")

    monkeypatch.setattr(ruled.PageDrawing, "_grids", fails)
    path = tmp_path / "allocations.pdf"
    path.write_bytes(one_page_pdf(grid_ops().encode("cp1252")))
    doc = load(path, 10)
    assert doc.extra["tables"] == "0"
    assert "Community services" in doc.pages[0].text
