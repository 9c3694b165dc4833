"""Cleaning: strip web-capture boilerplate, repair PDF line breaks, normalise whitespace,
and find a title and a stated publication date."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

from .types import Document, IngestError

# Lines that are never article text: cookie and browser banners, comment widgets, share bars.
_BOILERPLATE_LINE = re.compile(
    r"""(
      cookies?\b.*\b(enable|disabled|consent|use|accept|policy|settings)
    | (enable|accept|use|disabled).*\bcookies?\b
    | browser\ is\ no\ longer\ supported | upgrade\ to\ a\ newer\ version | another\ browser
    | ^learn\ more$ | ^•?\s*comments?$ | comments?\ off\ on | ^add\ your\ comment
    | sign\ in\ to\ (make\ a\ )?comment | ^have\ your\ say$
    | html\ is\ not\ permitted | there\ are\ no\ comments | governed\ by\ our\ terms | ^comments\ are\ closed
    | ^addtoany$ | ^share\ (this|on)\b | ^top$ | ^news$ | ^advertisement$ | ^skip\ to\ (main\ )?content
    | did\ you\ enjoy\ this\ article | ^\(top\ image | ^posted\ on\ .{0,60}\ by\ 
    )""",
    re.I | re.X,
)

# Headings that open the page furniture after an article: nothing after them is the article.
_ARTICLE_END = re.compile(
    r"""^(
      have\ your\ say | comments | add\ your\ comment | comments\ are\ closed\.? | related
    | latest\ (news|blog\ posts|articles) | featured\ articles | more\ (videos|news|stories)
    | read\ more | you\ may\ also\ like | most\ (read|popular) | did\ you\ enjoy\ this\ article\??
    | related\ (articles|stories|content) | recommended | events\ calendar
    )$""",
    re.I | re.X,
)

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def clean_document(doc: Document) -> Document:
    """Return the document with cleaned page text, a title and (where stated) a date."""
    if doc.doc_type == "pdf":
        _drop_running_lines(doc)
    for page in doc.pages:
        text = _normalise_unicode(page.text)
        if doc.doc_type == "pdf":
            text = _repair_pdf_lines(text)
        elif doc.doc_type in ("txt", "html", "md"):
            text = strip_boilerplate(text)
        page.text = _normalise_whitespace(text)
    doc.pages = [p for p in doc.pages if p.text.strip()]
    if not doc.pages:
        raise IngestError("no text left after removing page furniture")
    _refuse_degenerate(doc)
    doc.title = _title(doc)
    doc.date = _stated_date(doc)
    return doc


def strip_boilerplate(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    kept: list[str] = []
    words_so_far = 0
    for line in lines:
        if not line:
            kept.append("")
            continue
        # Only after some article text: an "end" heading first thing could be the page's own title.
        if words_so_far >= 40 and _ARTICLE_END.match(line.rstrip(":")):
            break
        if _BOILERPLATE_LINE.search(line):
            continue
        kept.append(line)
        words_so_far += len(line.split())
    return "\n".join(kept)


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})


def _drop_running_lines(doc: Document) -> None:
    """Remove running headers and footers: lines repeated on most pages (page numbers masked)."""
    if len(doc.pages) < 3:
        return
    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())
    counts: dict[str, int] = {}
    for page in doc.pages:
        for k in {key(line) for line in page.text.splitlines() if line.strip()}:
            counts[k] = counts.get(k, 0) + 1
    running = {k for k, n in counts.items() if n >= max(3, len(doc.pages) // 2) and len(k) < 200}
    for page in doc.pages:
        page.text = "\n".join(line for line in page.text.splitlines() if key(line) not in running)


def _normalise_unicode(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    text = text.replace("\u00ad", "").replace("\ufeff", "").replace("\u200b", "")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def _repair_pdf_lines(text: str) -> str:
    # "commis-\nsioning" -> "commissioning" where a word was split at a line end.
    text = re.sub(r"([a-z])-\n\s*([a-z])", r"\1\2", text)
    lines = [line.strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line:
            out.append("")
        elif out and out[-1] and not _ends_block(out[-1]) and not _starts_block(line):
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
    return "\n".join(out)


def _ends_block(line: str) -> bool:
    return line.endswith((".", ":", "?", "!", ";")) or len(line) < 40


def _starts_block(line: str) -> bool:
    return bool(re.match(r"^([•\-–*▪●o]\s|\d+(\.\d+)*[.)]?\s|[A-Z][A-Z ]{3,}$)", line))


def _normalise_whitespace(text: str) -> str:
    text = re.sub(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u3000]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _refuse_degenerate(doc: Document) -> None:
    words = " ".join(p.text for p in doc.pages[:50]).split()
    if len(words) > 5000 and len(set(words)) < len(words) / 1000:
        raise IngestError(f"not a readable document: {len(words):,} words but only "
                          f"{len(set(words))} distinct (repeated filler)")


def _title(doc: Document) -> str:
    meta = (doc.extra.get("meta_title") or "").strip()
    if meta and not _looks_generic(meta):
        return meta[:200]
    for line in doc.pages[0].text.splitlines()[:12]:
        candidate = line.strip(" -–|")
        if 12 <= len(candidate) <= 200 and not _parse_date(candidate) and len(candidate.split()) >= 3:
            return candidate
    return Path(doc.source).stem.replace("-", " ").replace("_", " ")


def _looks_generic(title: str) -> bool:
    lowered = title.lower()
    return (len(title) < 6 or lowered.endswith((".doc", ".docx", ".pdf")) or lowered in
            {"untitled", "document", "microsoft word", "title", "pdf"} or lowered.startswith("microsoft word"))


def _stated_date(doc: Document) -> str | None:
    head = "\n".join(doc.pages[0].text.splitlines()[:15])
    found = _parse_date(head)
    if found:
        return found
    meta = doc.extra.get("meta_date") or None
    # A Markdown front-matter date is stated by the author; PDF/DOCX metadata dates are file dates,
    # used only when the text itself states nothing.
    return meta


def _parse_date(text: str) -> str | None:
    patterns = (
        (r"\b(\d{4})-(\d{2})-(\d{2})\b", ("y", "m", "d")),
        (r"(?:^|\s)(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})(?:\s|$)", ("d", "m", "y")),
        (r"\b(\d{1,2})(?:st|nd|rd|th)? ([A-Z][a-z]{2,8})\.? (\d{2}|\d{4})\b", ("d", "mon", "y")),
        (r"\b([A-Z][a-z]{2,8}) (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b", ("mon", "d", "y")),
    )
    for pattern, order in patterns:
        for match in re.finditer(pattern, text, re.M):
            parts = dict(zip(order, match.groups()))
            month = parts.get("m") or str(_MONTHS.get(parts.get("mon", "")[:3].lower(), ""))
            if not month:
                continue
            year = int(parts["y"])
            if year < 100:
                year += 2000 if year < 70 else 1900
            try:
                return date(year, int(month), int(parts["d"])).isoformat()
            except ValueError:
                continue
    return None
