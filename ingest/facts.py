"""Document facts read from a cleaned document and its sidecar (precedence: index/facts.py)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from index.facts import FACT_NAMES, STATUSES, DocumentFacts, version_numbers

from .documents import Document, IngestError

SIDECAR_SUFFIX = ".facts.yaml"
_HEAD_CHARS = 4000  # facts are stated at the start of a document: its first page or so

_VERSION = re.compile(r"\b(?:version|edition|issue)\s*(?:no\.?|number)?\s*[:#]?\s*v?(\d+(?:\.\d+){0,3})\b"
                      r"|\bV(\d+(?:\.\d+){1,3})\b", re.I)
_REVIEW = re.compile(r"\b(?:next\s+)?review(?:\s+(?:by|due))?(?:\s+date)?\s*[:\-]\s*(.{4,30}?)\s*(?:$|\n|\|)", re.I | re.M)
_REPLACES = re.compile(r"\b(?:this\s+(?:guidance|document|policy|framework|plan|version|edition)\s+)"
                       r"(?:replaces|supersedes)\s+(?:the\s+)?(.{5,160}?)(?:[.;:]\s|[.;]?$|\n)", re.I | re.M)
_PUBLISHED_BY = re.compile(r"\b(?:published|issued)\s+by\s*:?\s+(?:the\s+)?([A-Z][\w&,' -]{2,60}?)(?:[.,;\n]| on | in |$)", re.M)
# An issuing body, to tell a PDF or DOCX "Author" that is a publisher from one that names a person.
# (Organisations named in a document's first lines were tried as its publisher and rejected: a news
# article names the departments it reports on, not who published it.)
_ORGANISATION = re.compile(
    r"\b(Department of Health and Social Care|Department for [A-Z][a-z]+(?: [A-Z&][a-z]*)*|"
    r"National Institute for Health and Care Excellence|Local Government Association|Care Quality Commission|"
    r"NHS England|NHS Improvement|(?:NHS )?[A-Z][a-z]+(?: (?:and|&) [A-Z][a-z]+)? Integrated Care Board|"
    r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,3} (?:County |City |Borough |District )?Council)\b")
_DRAFT = re.compile(r"\bDRAFT\b|\bdraft\s+(?:for\s+consultation|guidance|policy|version)\b")
_WITHDRAWN = re.compile(r"\b(?:this\s+(?:guidance|document|policy)\s+(?:has\s+been|was|is)\s+withdrawn)\b", re.I)


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict:
    """The maintainer's facts for a document, or {}. A sidecar that is not a mapping of known facts
    is a clear error for that document (it would otherwise be silently ignored)."""
    side = sidecar_path(path)
    return read_sidecar_file(side) if side.is_file() else {}


def read_sidecar_file(side: Path) -> dict:
    name = side.name.removesuffix(".tmp")  # write_sidecar checks a draft before it replaces the file
    try:
        loaded = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise IngestError(f"its facts file {name} cannot be read ({type(exc).__name__})") from None
    if not isinstance(loaded, dict):
        raise IngestError(f"its facts file {name} is not a list of 'fact: value' lines")
    unknown = sorted(set(map(str, loaded)) - set(FACT_NAMES))
    if unknown:
        raise IngestError(f"its facts file {name} names unknown facts ({', '.join(unknown)}); "
                          f"known: {', '.join(FACT_NAMES)}")
    status = str(loaded.get("status") or "current").strip().lower()
    if status not in STATUSES:
        raise IngestError(f"its facts file {name} gives status '{status}'; one of {', '.join(STATUSES)}")
    out = {}
    for key, value in loaded.items():
        if value is None or value == "":
            continue
        if key in ("published", "updated", "review_by"):
            day = _iso(value)
            if not day:
                raise IngestError(f"its facts file {name} gives {key} '{value}', not a date (YYYY-MM-DD)")
            value = day
        out[key] = str(value).strip() if key != "status" else status
    return out


def write_sidecar(path: Path, facts: dict) -> Path:
    """Write a maintainer's facts beside the document (what the maintainer page saves); only known
    facts with a value, checked as read_sidecar checks them. Returns the sidecar's path."""
    side = sidecar_path(path)
    kept = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v).strip())
            for k, v in facts.items() if k in FACT_NAMES and v not in (None, "")}
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(yaml.safe_dump(kept, allow_unicode=True, sort_keys=True), encoding="utf-8")
    try:
        read_sidecar_file(tmp)
    except IngestError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(side)
    return side


def document_facts(doc: Document, sidecar: dict | None = None) -> DocumentFacts:
    """What the document states about itself, then the sidecar over it."""
    facts = DocumentFacts(title=doc.title, published=doc.date, updated=doc.extra.get("updated") or None)
    stated = {name: "document" for name in ("title", "published", "updated") if getattr(facts, name)}
    head = "\n".join(p.text for p in doc.pages[:2])[:_HEAD_CHARS]
    front = {k[3:]: v for k, v in doc.extra.items() if k.startswith("fm_")}

    def take(name: str, value) -> None:
        if value and not getattr(facts, name):
            setattr(facts, name, value)
            stated[name] = "document"

    take("version", front.get("version") or front.get("edition") or _latest_version(head)
         or _latest_version(doc.extra.get("meta_title", "")))
    author = doc.extra.get("meta_author", "").strip()
    take("publisher", front.get("publisher") or front.get("author") or _first_group(_PUBLISHED_BY, head)
         or (author if _ORGANISATION.search(author) else ""))
    review = front.get("review_by") or front.get("review_date") or front.get("review")
    take("review_by", _iso(review or _first_group(_REVIEW, head)) if (review or _REVIEW.search(head)) else None)
    take("supersedes", front.get("supersedes") or front.get("replaces") or _first_group(_REPLACES, head))
    status = str(front.get("status") or "").strip().lower()
    if status in STATUSES:
        facts.status, stated["status"] = status, "document"
    elif _WITHDRAWN.search(head):
        facts.status, stated["status"] = "withdrawn", "document"
    elif _DRAFT.search(head[:600]):
        facts.status, stated["status"] = "draft", "document"
    for key, value in (sidecar or {}).items():
        setattr(facts, key, value)
        stated[key] = "sidecar"
    facts.stated = stated
    return facts


def _latest_version(text: str) -> str:
    """The highest version the text states: a version-history table lists every one ("v1.0",
    "V1.1", ... "V1.6"), and the document is the latest."""
    found = [next(g for g in m.groups() if g) for m in _VERSION.finditer(text or "")]
    return max(found, key=version_numbers) if found else ""


def _first_group(pattern: re.Pattern, text: str) -> str:
    match = pattern.search(text or "")
    if not match:
        return ""
    return next((g for g in match.groups() if g), "").strip(" .,;:")


_MONTH_YEAR = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(\d{4})\b", re.I)


def _iso(value) -> str | None:
    """A date as ISO; "March 2026" (a review month) as its first day."""
    from .clean import MONTHS, parse_date
    from .loaders import coerce_date

    day = coerce_date(value) or parse_date(str(value))
    if day:
        return day
    match = _MONTH_YEAR.search(str(value))
    return f"{match.group(2)}-{MONTHS[match.group(1)[:3].lower()]:02d}-01" if match else None
