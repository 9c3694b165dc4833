"""Loaders for what organisations hold beside PDFs and Word files (issue 15): slides (PPTX), sheets
(XLSX, ODS), LibreOffice text (ODT) and e-mail (EML). Each reads with a real library, gives one
clear reason for a file it cannot read, and keeps where a passage comes from: a slide's number,
or a sheet's position, as its page.

Sheets become one line per row that keeps its header with each value ("Service: Reablement |
Budget 2025/26: £3.2m"), so a question about a figure retrieves and quotes the row it sits in.
"""
from __future__ import annotations

import email
import email.policy
import tempfile
from pathlib import Path

from .documents import Document, IngestError, Page, short_reason

MAX_ROWS = 20_000  # a sheet is read up to this many rows; a bigger one is a database export, not policy


# --- PPTX ------------------------------------------------------------------------------------

def load_pptx(path: Path) -> Document:
    try:
        from pptx import Presentation

        deck = Presentation(str(path))
    except Exception as exc:  # python-pptx raises many types on a damaged file
        raise IngestError(f"not a readable PPTX ({short_reason(exc)})") from exc
    pages = []
    for number, slide in enumerate(deck.slides, start=1):
        parts = []
        for shape in slide.shapes:
            if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
                parts.append(shape.text_frame.text.strip())
            elif getattr(shape, "has_table", False):
                parts.extend(table_lines([[cell.text for cell in row.cells] for row in shape.table.rows]))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip():
            parts.append("Speaker notes: " + slide.notes_slide.notes_text_frame.text.strip())
        if parts:
            pages.append(Page(source=str(path), page=number, text="\n\n".join(parts)))
    if not pages:
        raise IngestError("PPTX has no text on any slide")
    props = deck.core_properties
    doc = Document(source=str(path), title="", date=None, doc_type="pptx", pages=pages)
    doc.extra = {"meta_title": (props.title or "").strip(),
                 "meta_date": props.created.date().isoformat() if props.created else ""}
    return doc


# --- XLSX / ODS --------------------------------------------------------------------------------

def load_sheets(path: Path, kind: str) -> Document:
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, nrows=MAX_ROWS,
                               engine="openpyxl" if kind == "xlsx" else "odf")
    except Exception as exc:
        raise IngestError(f"not a readable {kind.upper()} ({short_reason(exc)})") from exc
    pages = []
    for number, (name, frame) in enumerate(sheets.items(), start=1):
        rows = [[("" if value is None or str(value) == "nan" else str(value)).strip() for value in row]
                for row in frame.itertuples(index=False, name=None)]
        lines = table_lines(rows)
        if lines:
            pages.append(Page(source=str(path), page=number, text=f"Sheet: {name}\n\n" + "\n".join(lines)))
    if not pages:
        raise IngestError(f"{kind.upper()} has no cells with text")
    doc = Document(source=str(path), title="", date=None, doc_type=kind, pages=pages)
    # A workbook has no title line of its own: its file name says more than its first sheet's name.
    doc.extra = {"meta_title": path.stem.replace("_", " ").replace("-", " ").strip(), "meta_date": ""}
    return doc


def table_lines(rows: list[list[str]]) -> list[str]:
    """Rows as lines; the first row with two or more cells is the header, and every later row keeps
    it beside each value ("Service: Reablement | Budget 2025/26: £3.2m")."""
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = rows[0] if sum(1 for cell in rows[0] if cell.strip()) >= 2 else None
    lines = [" | ".join(cell for cell in rows[0] if cell.strip())]
    for row in rows[1:]:
        if header:
            pairs = [f"{name.strip()}: {cell.strip()}" if name.strip() else cell.strip()
                     for name, cell in zip(header, row) if cell.strip()]
        else:
            pairs = [cell.strip() for cell in row if cell.strip()]
        lines.append(" | ".join(pairs))
    return lines


# --- ODT -------------------------------------------------------------------------------------

def load_odt(path: Path) -> Document:
    try:
        from odf import opendocument, teletype
        from odf.namespaces import TABLENS, TEXTNS
        from odf.table import TableCell, TableRow

        document = opendocument.load(str(path))
    except Exception as exc:
        raise IngestError(f"not a readable ODT ({short_reason(exc)})") from exc
    blocks: list[str] = []

    def walk(node) -> None:
        for child in node.childNodes:
            qname = getattr(child, "qname", None)
            if qname in ((TEXTNS, "h"), (TEXTNS, "p")):
                text = teletype.extractText(child).strip()
                if text:
                    blocks.append(text)
            elif qname == (TABLENS, "table"):
                rows = [[teletype.extractText(cell).strip() for cell in row.getElementsByType(TableCell)]
                        for row in child.getElementsByType(TableRow)]
                blocks.extend(table_lines(rows))
            elif getattr(child, "childNodes", None):
                walk(child)

    walk(document.text)
    if not blocks:
        raise IngestError("ODT contains no text")
    doc = Document(source=str(path), title="", date=None, doc_type="odt",
                   pages=[Page(source=str(path), page=None, text="\n\n".join(blocks))])
    doc.extra = {"meta_title": "", "meta_date": ""}
    return doc


# --- EML -------------------------------------------------------------------------------------

def load_eml(path: Path, load_attachment) -> Document:
    """The message's subject, sender, date and body, then each attachment in a supported format,
    read by its own loader; an attachment that cannot be read is named in the text, not fatal."""
    from .markup import html_to_text

    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise IngestError("not an e-mail message (binary data)")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not (message["from"] or message["subject"] or message["date"]):
        raise IngestError("not an e-mail message (no From, Subject or Date header)")
    head = "\n".join(f"{name}: {message[name]}" for name in ("Subject", "From", "Date") if message[name])
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        try:
            body = body_part.get_content()
        except (LookupError, ValueError):
            body = ""
        if body_part.get_content_type() == "text/html":
            body = html_to_text(body)
    pages = [Page(source=str(path), page=None, text=f"{head}\n\n{body}".strip())]
    notes = []
    with tempfile.TemporaryDirectory(prefix="eml-") as folder:
        for part in message.iter_attachments():
            name = Path(part.get_filename() or "").name
            if not name:
                continue
            target = Path(folder) / name
            try:
                content = part.get_content()
                target.write_bytes(content if isinstance(content, bytes) else str(content).encode("utf-8"))
                attached = load_attachment(target)
            except IngestError as exc:
                notes.append(f"Attachment {name} was not read: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - one attachment never fails the message
                notes.append(f"Attachment {name} was not read: {short_reason(exc)}")
                continue
            for page in attached.pages:
                where = f", page {page.page}" if page.page else ""
                pages.append(Page(source=str(path), page=None, text=f"Attachment {name}{where}:\n\n{page.text}",
                                  ocr=page.ocr))
    if notes:
        pages[0].text += "\n\n" + "\n".join(notes)
    if not any(p.text.strip() for p in pages):
        raise IngestError("e-mail message has no text")
    doc = Document(source=str(path), title="", date=None, doc_type="eml", pages=pages)
    doc.extra = {"meta_title": str(message["subject"] or "").strip(), "meta_date": ""}
    if message["date"]:
        try:
            doc.extra["meta_date"] = message["date"].datetime.date().isoformat()
        except (AttributeError, TypeError, ValueError):
            pass
    return doc
