"""Markdown that shows document text literally: escaping, quote highlighting, conversation export.

Document text and answers are data. Rendered as Markdown unescaped, a policy page could turn
into headings, links, LaTeX or (in renderers that allow it) HTML. Everything that reaches the
page goes through ``escape_markdown`` first, so ``<script>`` shows as the characters
``<script>``, ``**`` as two asterisks, ``$5`` as a price.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from assistant.answers import Answer, Citation

# Inline characters with a meaning in CommonMark, GitHub Markdown or Streamlit's Markdown
# ($ for LaTeX, ~ strike-through, | tables, & entities, < > HTML and autolinks, : for Streamlit's
# directives such as :red[...] and :material/icon:).
_INLINE = re.compile(r"([\\`*_\[\]{}<>#|~$&:])")
# Characters that only mean something at the start of a line: lists, quotes, setext headings.
_LINE_START = re.compile(r"^([-+=>])")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders to exactly its characters. Paragraphs (blank lines)
    are kept; single line breaks stay line breaks; indentation is dropped (it would make a
    code block)."""
    paragraphs = re.split(r"\n\s*\n", str(text).replace("\r\n", "\n").replace("\r", "\n").strip())
    out = []
    for paragraph in paragraphs:
        lines = [_escape_line(line) for line in paragraph.split("\n") if line.strip()]
        if lines:
            out.append("  \n".join(lines))
    return "\n\n".join(out)


# Web and mail addresses. Streamlit turns "www.…", "https://…" and "name@host" into live links
# after parsing, escaped or not ("visit www.nhs-budget-refund.example to claim" in an uploaded
# document became one); inside a code span they stay text, and copy exactly.
_ADDRESS = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\x00]*[^\s<>\x00.,;:!?)\]}'\"’”]"
                      r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _escape_line(line: str) -> str:
    line = line.strip()
    out, at = [], 0
    for match in _ADDRESS.finditer(line):
        out.append(_escape_text(line[at:match.start()]))
        out.append(_code_span(match.group(0)))
        at = match.end()
    out.append(_escape_text(line[at:]))
    line = "".join(out)
    line = _ORDERED.sub(r"\1\\\2", line)
    return _LINE_START.sub(r"\\\1", line)


def _escape_text(text: str) -> str:
    return _INLINE.sub(r"\\\1", text)


def _code_span(text: str) -> str:
    """``text`` shown literally: fenced by more backticks than any run inside it."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def find_quote(context: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` sits in ``context``: exactly, or with any run of whitespace matching any other."""
    quote = quote.strip()
    if not quote or not context:
        return None
    at = context.find(quote)
    if at >= 0:
        return at, at + len(quote)
    words = quote.split()
    match = re.search(r"\s+".join(re.escape(w) for w in words), context)
    return (match.start(), match.end()) if match else None


def highlight_markdown(context: str, quote: str) -> tuple[str, bool]:
    """The passage around a citation as escaped Markdown with the quote in bold on a highlight.
    Returns (markdown, found); when the quote is not in the context the passage is returned plain."""
    span = find_quote(context, quote)
    if span is None:
        return escape_markdown(context), False
    start, end = span
    marker = "\x00MARK\x00"
    # The quote may cross a line break: mark each of its lines separately (a highlight cannot
    # span paragraphs). The markers survive escaping because they hold no special characters.
    marked_quote = "\n".join(f"{marker}{part.strip()}{marker}" if part.strip() else part
                             for part in context[start:end].split("\n"))
    escaped = escape_markdown(context[:start] + marked_quote + context[end:])
    highlighted = re.sub(f"{marker}(.*?){marker}", r":orange-background[**\1**]", escaped)
    return highlighted, True


def citation_label(citation: Citation) -> str:
    """"[2] Title · file.pdf, page 4" as plain text (escape it before rendering as Markdown)."""
    where = f", page {citation.page}" if citation.page else ""
    return f"[{citation.n}] {citation.title or Path(citation.source).name} · {Path(citation.source).name}{where}"


def document_label(citations: list[Citation]) -> str:
    """"[1] [3] Title · file.pdf, pages 4, 7" for the citations of one document, as plain text."""
    first = citations[0]
    pages = sorted({c.page for c in citations if c.page})
    where = (f", page {pages[0]}" if len(pages) == 1 else
             f", pages {', '.join(str(p) for p in pages)}" if pages else "")
    numbers = " ".join(f"[{c.n}]" for c in citations)
    scanned = " · read by OCR" if any(c.ocr for c in citations) else ""
    return f"{numbers} {first.title or Path(first.source).name} · {Path(first.source).name}{where}{scanned}"


_BADGE_COLOURS = {"superseded": "orange", "withdrawn": "red", "draft": "violet"}


def standing_badge(citation: Citation) -> str:
    """A Streamlit badge for a quoted document that is not simply current ("" when it is)."""
    badges = []
    if citation.status in _BADGE_COLOURS:
        badges.append(f":{_BADGE_COLOURS[citation.status]}-badge[{citation.status.capitalize()}]")
    if citation.past_review:
        badges.append(":gray-badge[Past review date]")
    return " ".join(badges)


def standing_note(citation: Citation) -> str:
    """The same in a sentence, as plain text: "" for a current document."""
    if citation.status == "superseded":
        newer = f" by “{citation.superseded_by}”" if citation.superseded_by else ""
        note = f"This document has been superseded{newer}: check the current version before relying on it."
    elif citation.status == "withdrawn":
        note = "This document has been withdrawn: it is no longer guidance."
    elif citation.status == "draft":
        note = "This document is a draft, not published guidance."
    else:
        note = ""
    if citation.past_review:
        note = f"{note} Its review date ({readable_date(citation.review_by)}) has passed.".strip()
    return note


def by_document(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by the document they quote, in the order the documents are first cited."""
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.source, []).append(citation)
    return list(groups.values())


def readable_date(iso: str | None) -> str:
    """"2018-02-22" -> "22 Feb 2018"; no date -> "undated"."""
    if not iso:
        return "undated"
    try:
        return datetime.strptime(str(iso)[:10], "%Y-%m-%d").strftime("%-d %b %Y")
    except ValueError:
        return str(iso)


def documents_markdown(records, limit: int = 300, facts: dict | None = None) -> str:
    """The index as a compact list: title in bold, then type, pages, date, version, status and
    passage count (``facts``: source -> DocumentFacts)."""
    lines = []
    for record in list(records)[:limit]:
        standing = (facts or {}).get(record.source)
        pages = f"{record.pages} page{'s' if record.pages != 1 else ''}" if record.pages else ""
        when = readable_date(record.date)
        if not record.date and record.date_note:
            when = f"undated (the text says {record.date_note}, with no year)"
        version = f"version {standing.version}" if standing and standing.version else ""
        details = " · ".join(x for x in (record.doc_type.upper(), pages, when, version,
                                           f"{record.n_chunks} passage{'s' if record.n_chunks != 1 else ''}")
                            if x)
        status = ""
        if standing and standing.status != "current":
            status = f" :{_BADGE_COLOURS.get(standing.status, 'gray')}-badge[{standing.status.capitalize()}]"
        lines.append(f"**{escape_markdown(record.title or Path(record.source).name)}**{status}  \n"
                     f":gray[{escape_markdown(details)}]")
    if len(records) > limit:
        lines.append(f"… and {len(records) - limit} more.")
    return "\n\n".join(lines)


# For a file read as text as often as it is rendered: escape only what would change the rendering
# ("\\[1\\]", "000\\_1ba…" and "said\\:" made the export hard to read). A lone "[1]" is no link,
# an underscore inside a word is no emphasis, ":" means nothing outside Streamlit.
_EXPORT_INLINE = re.compile(r"([\\`*<>|~])|(?<!\w)(_)|(_)(?!\w)|(\[)(?=[^\]]*\]\()")
_EXPORT_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d{1,9}[.)])")


def export_text(text: str) -> str:
    """``text`` for the exported conversation: only characters that would render are escaped."""
    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _EXPORT_INLINE.sub(lambda m: "\\" + next(g for g in m.groups() if g), line.strip())
        lines.append(_EXPORT_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line))
    return "  \n".join(line for line in lines if line)


def conversation_markdown(answers: list[Answer], exported_at: datetime | None = None,
                          scopes: list[str] | None = None) -> str:
    """A conversation as a Markdown document: each question, the search filters in force, its
    answer and its cited quotes."""
    when = (exported_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Conversation with the policy assistant", "", f"Exported {when}.", ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {export_text(answer.question)}", ""]
        scope = scopes[number - 1] if scopes and number <= len(scopes) else ""
        lines += [f"*Searched only {export_text(scope)}.*" if scope else "*Searched all documents.*", ""]
        lines += [export_text(answer.answer), ""]
        if answer.citations:
            lines += ["Sources:", ""]
            for c in answer.citations:
                check = "" if c.verified else " (this quote could not be matched to the stored text)"
                check += " (read by OCR from a scan: check the original)" if c.ocr else ""
                check += f" ({standing_note(c)})" if standing_note(c) else ""
                lines.append(f"- {export_text(citation_label(c))}{check}")
                lines.append(f"  > {export_text(' '.join(c.quote.split()))}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
