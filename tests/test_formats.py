"""Slides, sheets, LibreOffice text and e-mail (issue 15): each fixture is built with its own
library, indexed, and a question about it is answered from it with a verified citation."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

import ingest
from ingest.loaders import load

from .conftest import make_settings

pytestmark = pytest.mark.shared


def make_pptx(path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Board paper: intermediate care"
    first.placeholders[1].text = "The board agreed to fund twelve more reablement workers from April."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "Pooled budget"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "Service", "Budget 2025/26"
    table.cell(1, 0).text, table.cell(1, 1).text = "Telecare", "£1.4m"
    second.notes_slide.notes_text_frame.text = "The telecare budget rises by 10 per cent next year."
    deck.save(str(path))


def make_xlsx(path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Better Care Fund"
    sheet.append(["Service", "Lead partner", "Budget 2025/26"])
    sheet.append(["Reablement", "Council", "£3.2m"])
    sheet.append(["Hospital discharge", "ICB", "£5.9m"])
    book.save(str(path))


def make_rota(path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Weekend rota"
    book.active.append(["Day", "Social workers on duty"])
    book.active.append(["Saturday", "three"])
    book.save(str(path))


def make_ods(path):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Carers")
    for row in (["Scheme", "Carers supported"], ["Carers breaks", "840"]):
        table_row = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            table_row.addElement(cell)
        table.addElement(table_row)
    document.spreadsheet.addElement(table)
    document.save(str(path))


def make_odt(path):
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Home adaptations policy"))
    document.text.addElement(P(text="Minor adaptations under £1,000 are installed within seven working days."))
    document.save(str(path))


def make_eml(path, attachment):
    message = EmailMessage()
    message["From"] = "commissioning@council.example"
    message["To"] = "team@council.example"
    message["Subject"] = "Discharge to assess: new hours"
    message["Date"] = "Mon, 03 Mar 2025 09:00:00 +0000"
    message.set_content("From 1 April the discharge to assess team works weekends from 8am to 6pm.")
    message.add_attachment(attachment.read_bytes(), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=attachment.name)
    path.write_bytes(bytes(message))


@pytest.fixture(scope="module")
def office_library(tmp_path_factory, embedder):
    from assistant import Assistant

    folder = tmp_path_factory.mktemp("office")
    make_pptx(folder / "board-paper.pptx")
    make_xlsx(folder / "bcf-plan.xlsx")
    make_ods(folder / "carers.ods")
    make_odt(folder / "adaptations.odt")
    attachment_folder = tmp_path_factory.mktemp("attachment")
    make_rota(attachment_folder / "weekend-rota.xlsx")
    make_eml(folder / "discharge-hours.eml", attachment_folder / "weekend-rota.xlsx")
    settings = make_settings(tmp_path_factory.mktemp("office-store") / "store")
    report = ingest.run([folder], settings, embedder=embedder)
    assert not report.failed, report.failed
    return Assistant(settings=settings, embedder=embedder)


@pytest.mark.parametrize("question,file,fact", [
    ("How many more reablement workers did the board agree to fund?", "board-paper.pptx", "twelve"),
    ("By how much does the telecare budget rise next year?", "board-paper.pptx", "10 per cent"),
    ("What is the 2025/26 budget for reablement in the Better Care Fund?", "bcf-plan.xlsx", "£3.2m"),
    ("How many carers did the carers breaks scheme support?", "carers.ods", "840"),
    ("How quickly are minor home adaptations installed?", "adaptations.odt", "seven working days"),
    ("When does the discharge to assess team work at weekends?", "discharge-hours.eml", "8am to 6pm"),
    ("How many social workers are on duty on Saturday in the weekend rota?", "discharge-hours.eml", "three"),
])
def test_each_format_answers_a_question_from_its_own_file(office_library, question, file, fact):
    answer = office_library.ask(question)
    assert not answer.refused, answer.answer
    cited = [c for c in answer.citations if c.source.endswith(file)]
    assert cited and all(c.verified for c in cited), [c.source for c in answer.citations]
    assert any(fact in c.quote for c in cited), [c.quote for c in cited]


def test_a_sheet_row_keeps_its_header_beside_each_value(tmp_path):
    make_xlsx(tmp_path / "plan.xlsx")
    page = load(tmp_path / "plan.xlsx", 25).pages[0]
    assert page.page == 1 and page.text.startswith("Sheet: Better Care Fund")
    assert "Service: Reablement | Lead partner: Council | Budget 2025/26: £3.2m" in page.text


def test_slides_are_pages_and_notes_are_read(tmp_path):
    make_pptx(tmp_path / "deck.pptx")
    pages = load(tmp_path / "deck.pptx", 25).pages
    assert [p.page for p in pages] == [1, 2]
    assert "Service: Telecare | Budget 2025/26: £1.4m" in pages[1].text
    assert "Speaker notes: The telecare budget rises" in pages[1].text


def test_an_email_attachment_is_read_and_a_bad_one_is_named(tmp_path):
    make_xlsx(tmp_path / "annex.xlsx")
    make_eml(tmp_path / "good.eml", tmp_path / "annex.xlsx")
    doc = load(tmp_path / "good.eml", 25)
    assert doc.extra["meta_title"] == "Discharge to assess: new hours" and doc.extra["meta_date"] == "2025-03-03"
    assert any("Attachment annex.xlsx, page 1" in p.text and "£5.9m" in p.text for p in doc.pages)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    make_eml(tmp_path / "bad.eml", broken)
    doc = load(tmp_path / "bad.eml", 25)
    assert "Attachment broken.xlsx was not read:" in doc.pages[0].text
    assert "weekends from 8am to 6pm" in doc.pages[0].text
