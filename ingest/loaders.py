"""Load one file into a Document of raw pages. Every failure is an IngestError with a plain reason."""
from __future__ import annotations

import re
import stat
from datetime import date
from pathlib import Path

from . import columns, office, ruled
from .documents import Document, IngestError, Page, short_reason
from .markup import markdown_to_text
from .ocr import OcrLimits, PageReader, needs_ocr

SUPPORTED = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".md": "md",
             ".markdown": "md", ".txt": "txt", ".text": "txt", ".pptx": "pptx", ".xlsx": "xlsx",
             ".ods": "ods", ".odt": "odt", ".eml": "eml"}


def doc_type_of(path: Path) -> str | None:
    return SUPPORTED.get(path.suffix.lower())


NOT_A_REGULAR_FILE = "not a regular file (a pipe, device or socket): not read"

# Zip-based formats (DOCX today; PPTX, XLSX, ODT alike) are checked before any part is read: a
# 2 MB DOCX holding a 2 GiB part of zeros took the server from 0.5 to 4.6 GB.
ZIP_FORMATS = {"docx", "pptx", "xlsx", "ods", "odt"}
MAX_PART_RATIO = 100  # a part over 1 MB that is more than 100 times its compressed size is a bomb


def load(path: Path, max_file_mb: float, max_unzipped_mb: float = 100.0, ocr: OcrLimits | None = None) -> Document:
    """One file as a Document of pages. ``ocr``: how pages without text are read (on, within
    limits, by default)."""
    kind = doc_type_of(path)
    if kind is None:
        raise IngestError(f"unsupported file type '{path.suffix or '(none)'}' "
                          f"(supported: {', '.join(sorted(set(SUPPORTED)))})")
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        raise IngestError(NOT_A_REGULAR_FILE)
    size = status.st_size
    if size == 0:
        raise IngestError("empty file")
    if size > max_file_mb * 1024 * 1024:
        raise IngestError(f"file is {size / 1048576:.3g} MB, over the {max_file_mb:g} MB limit "
                          "(POLICY_ASSISTANT_MAX_FILE_MB)")
    if kind in ZIP_FORMATS:
        check_zip(path, kind.upper(), max_unzipped_mb)
    if kind == "pdf":
        return _load_pdf(path, ocr)
    if kind in ("xlsx", "ods"):
        return office.load_sheets(path, kind)
    if kind == "eml":
        return office.load_eml(path, lambda attached: load(attached, max_file_mb, max_unzipped_mb, ocr))
    loader = {"docx": _load_docx, "html": _load_html, "md": _load_markdown, "txt": _load_text,
              "pptx": office.load_pptx, "odt": office.load_odt}[kind]
    return loader(path)


# --- PDF -------------------------------------------------------------------------------------

def _load_pdf(path: Path, ocr_limits: OcrLimits | None = None) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PdfStreamError

    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF" not in head:
        raise IngestError("not a PDF (the file has a .pdf name but no PDF header)")
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            # Many "encrypted" PDFs only restrict printing and open with an empty password.
            if not reader.decrypt(""):
                raise IngestError("encrypted PDF: it needs a password to open")
        n_pages = len(reader.pages)
        pages = []
        tables = 0
        ocr = PageReader(ocr_limits or OcrLimits())
        for number, pdf_page in enumerate(reader.pages, start=1):
            drawing = ruled.PageDrawing(_page_height(pdf_page))
            text = _page_text(pdf_page, drawing)
            if needs_ocr(text) and _has_images(pdf_page):  # a scan: its images are read, and the page says so
                read = ocr.read(pdf_page, number)
                if read.strip():
                    pages.append(Page(source=str(path), page=number, text=read, ocr=True))
                    continue
            pages.append(Page(source=str(path), page=number, text=text))
            tables += _add_table_rows(pages[-1], drawing)
        meta_title = _pdf_meta(reader, "/Title")
        meta_date = _pdf_date(_pdf_meta(reader, "/CreationDate"))
        meta_author = _pdf_meta(reader, "/Author") or ""
    except IngestError:
        raise
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, AssertionError,
            OSError, RecursionError) as exc:
        raise IngestError(f"damaged or truncated PDF ({short_reason(exc)})") from exc
    except Exception as exc:  # pypdf raises many types on broken files; all mean "unreadable"
        if "decrypt" in str(exc).lower() or "crypt" in type(exc).__name__.lower():
            raise IngestError("encrypted PDF: it needs a password to open") from exc
        raise IngestError(f"damaged PDF ({short_reason(exc)})") from exc
    if n_pages == 0:
        raise IngestError("PDF has no pages")
    if not any(p.text.strip() for p in pages):
        raise IngestError("no text: the pages have no text layer and OCR found none on them")
    doc = Document(source=str(path), title="", date=None, doc_type="pdf", pages=pages)
    doc.extra = {"meta_title": meta_title or "", "meta_date": meta_date or "", "tables": str(tables),
                 "meta_author": meta_author}
    return doc


def _page_text(pdf_page, drawing: ruled.PageDrawing | None = None) -> str:
    """The page's text in reading order: pypdf's default pass, or for a page set in two columns
    its layout-mode text cut at the gutter (ingest/columns.py). The same pass gives ``drawing``
    the lines the page draws and where each piece of text starts, for its tables (ingest/ruled.py)."""
    starts: list[float] = []
    drawing = drawing or ruled.PageDrawing()

    def visit(operator, arguments, cm, tm) -> None:
        if operator in (b"Tm", b"Td", b"TD"):  # text placed: where along the page it starts
            starts.append(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])
        else:
            drawing.visit(operator, arguments, cm)

    text = pdf_page.extract_text(visitor_operand_after=visit, visitor_text=drawing.visit_text) or ""
    try:
        width = float(pdf_page.mediabox.width)
    except Exception:  # no usable page box: read as drawn
        return text
    if columns.starts_two_columns(starts, width):
        ordered = columns.in_reading_order(pdf_page.extract_text(extraction_mode="layout") or "")
        if ordered:
            return ordered
    return text


def _add_table_rows(page: Page, drawing: ruled.PageDrawing) -> int:
    """pypdf reads a table as a stream of words in column order, so "eGFR >45" and the row it
    belongs to drift apart. Each table's rows (ingest/ruled.py) are added to the page as lines that
    keep the header beside each value ("Issue: Glycaemic control | Concomitant Diabetes: If using
    insulin ..."), one paragraph a row. Tables are an extra: a page whose drawing cannot be read
    as tables keeps its text as it is, and so does the file. Returns the number of tables added."""
    try:
        tables = drawing.tables()
    except Exception:  # noqa: BLE001 - an odd drawing (say, a coordinate that is not finite): the text stands
        return 0
    for rows in tables:
        page.text += "\n\n" + "\n\n".join(office.table_lines(rows))
    return len(tables)


def _page_height(pdf_page) -> float:
    try:
        return float(pdf_page.mediabox.height)
    except Exception:  # noqa: BLE001 - no usable page box: tables read bottom to top
        return 0.0


def _has_images(pdf_page) -> bool:
    try:
        return len(pdf_page.images) > 0
    except Exception:  # an image table pypdf cannot list: nothing OCR could read either
        return False


def _pdf_meta(reader, key: str) -> str | None:
    try:
        meta = reader.metadata
        value = meta.get(key) if meta else None
        return str(value).strip() if value else None
    except Exception:
        return None


def _pdf_date(raw: str | None) -> str | None:
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})", raw or "")
    if not match:
        return None
    return _iso(*map(int, match.groups()))


# --- zip containers --------------------------------------------------------------------------

def check_zip(path: Path, label: str, max_unzipped_mb: float) -> None:
    """Refuse a zip whose parts expand past the limit, or any one part far beyond its compressed
    size, from the sizes its directory declares; a part that lies about its size stops at the
    declared size when read (zipfile), so the declared sizes bound what is inflated."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(f"not a readable {label} ({short_reason(exc)})") from exc
    total = sum(part.file_size for part in parts)
    if total > max_unzipped_mb * 1048576:
        raise IngestError(f"{label} expands to {total / 1048576:,.0f} MB, over the {max_unzipped_mb:g} MB limit "
                          "for unzipped content (POLICY_ASSISTANT_MAX_UNZIPPED_MB): a zip bomb or an oversized document")
    for part in parts:
        if part.file_size > 1048576 and part.file_size > MAX_PART_RATIO * max(part.compress_size, 1):
            raise IngestError(f"{label} part '{part.filename[:80]}' expands {part.file_size // max(part.compress_size, 1):,} "
                              f"times ({part.file_size / 1048576:,.0f} MB): a zip bomb, not read")


# --- DOCX ------------------------------------------------------------------------------------

def _load_docx(path: Path) -> Document:
    import zipfile

    try:
        import docx
    except ImportError as exc:  # pragma: no cover - core dependency
        raise IngestError("python-docx is not installed") from exc
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise IngestError(f"not a readable DOCX ({short_reason(exc)})") from exc
    except Exception as exc:
        raise IngestError(f"not a readable DOCX ({short_reason(exc)})") from exc
    blocks: list[str] = []
    body = document.element.body
    # Walk paragraphs and tables in document order so table text lands where it was written.
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(node.text or "" for node in child.iter() if node.tag.endswith("}t"))
            if text.strip():
                blocks.append(text)
        elif tag == "tbl":
            rows = [[" ".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t")).strip()
                     for cell in row.iter() if cell.tag.endswith("}tc")]
                    for row in child.iter() if row.tag.endswith("}tr")]
            # Each row keeps its header beside each value ("Role: Chair | Appointed by: the Board").
            blocks.extend(line for line in office.table_lines(rows) if line)
    text = "\n\n".join(blocks)
    if not text.strip():
        raise IngestError("DOCX contains no text")
    props = document.core_properties
    doc = Document(source=str(path), title="", date=None, doc_type="docx",
                   pages=[Page(source=str(path), page=None, text=text)])
    doc.extra = {"meta_title": (props.title or "").strip(),
                 "meta_date": props.created.date().isoformat() if props.created else "",
                 "meta_author": (props.author or "").strip()[:200]}
    return doc


# --- HTML ------------------------------------------------------------------------------------

def _load_html(path: Path) -> Document:
    from bs4 import BeautifulSoup

    raw = _decode(path.read_bytes())
    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    # Only what a reader sees: no scripts, styles, navigation chrome or forms.
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "footer", "form",
                     "iframe", "svg", "button"]):
        tag.decompose()
    blocks = [el.get_text(" ", strip=True) for el in soup.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "blockquote", "pre"])]
    text = "\n\n".join(b for b in blocks if b)
    if not text.strip():
        text = soup.get_text("\n", strip=True)
    if not text.strip():
        raise IngestError("HTML page has no visible text")
    doc = Document(source=str(path), title="", date=None, doc_type="html",
                   pages=[Page(source=str(path), page=None, text=text)])
    doc.extra = {"meta_title": title}
    return doc


# --- Markdown ----------------------------------------------------------------------------------

def _load_markdown(path: Path) -> Document:
    import yaml

    raw = _decode(path.read_bytes())
    front: dict = {}
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", raw, re.S)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
            front = loaded if isinstance(loaded, dict) else {}
        except yaml.YAMLError:
            front = {}
        raw = raw[match.end():]
    text = markdown_to_text(raw)
    if not text.strip():
        raise IngestError("Markdown file has no text")
    doc = Document(source=str(path), title="", date=None, doc_type="md",
                   pages=[Page(source=str(path), page=None, text=text)])
    date_value = front.get("date") or front.get("published") or front.get("updated")
    doc.extra = {"meta_title": str(front.get("title") or "").strip() or _markdown_title(raw),
                 "meta_date": coerce_date(date_value) or ""}
    for key, value in front.items():
        if isinstance(value, date):  # YAML reads 2025-03-31 as a date
            value = value.isoformat()[:10]
        if isinstance(value, (str, int, float)) and key not in ("title", "date"):
            doc.extra[f"fm_{key}"] = str(value)[:200]
    return doc


def _markdown_title(raw: str) -> str:
    """The first heading, or the first run of bold lines ("**2025/26 priorities and **" /
    "**operational planning **" / "**guidance **" is one title split over three lines)."""
    heading = re.search(r"^\s{0,3}#\s+(?!Document Outline\s*$)(.+?)\s*#*\s*$", raw, re.M | re.I)
    if heading and len(heading.group(1).split()) >= 2:
        return markdown_to_text(heading.group(1)).strip()
    run: list[str] = []
    for line in raw.splitlines()[:60]:
        stripped = line.strip()
        if not stripped:
            continue
        bold = re.fullmatch(r"(?:\*\*([^*]*)\*\*\s*)+", stripped)
        text = markdown_to_text(stripped).strip() if bold else ""
        if bold and text and not re.fullmatch(r"(?i)(systematic review|research( article)?|open access|"
                                              r"review|article|contents?|classification.*)", text):
            run.append(text)
        elif run:
            break
    title = " ".join(run)
    if title.isupper():
        title = title.capitalize()
    return title if len(title.split()) >= 2 else ""


# --- plain text --------------------------------------------------------------------------------

def _load_text(path: Path) -> Document:
    text = _decode(path.read_bytes())
    if not text.strip():
        raise IngestError("text file contains only whitespace")
    return Document(source=str(path), title="", date=None, doc_type="txt",
                    pages=[Page(source=str(path), page=None, text=text)])


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError("binary data, not text (undecodable)")
    for encoding in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise IngestError("undecodable text: no known character encoding fits")
    text = data.decode(best.encoding, errors="replace")
    if _control_ratio(text) > 0.05:
        raise IngestError("binary data, not text (undecodable)")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:20_000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad / len(sample)


# --- helpers -----------------------------------------------------------------------------------

def coerce_date(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", str(value))
    return _iso(*map(int, match.groups())) if match else None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
