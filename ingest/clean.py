"""Cleaning: strip web-capture boilerplate, repair PDF line breaks, normalise whitespace,
and find a title and a stated publication date."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from .documents import Document, IngestError

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

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def clean_document(doc: Document) -> Document:
    """Return the document with cleaned page text, a title and (where stated) a date."""
    if doc.doc_type == "pdf":
        drop_running_lines(doc)
    stated = _take_date_header(doc)
    raw_head = _head(doc.pages[0].text) if doc.pages else ""
    for page in doc.pages:
        text = _normalise_unicode(page.text)
        if doc.doc_type == "pdf":
            text = _repair_pdf_lines(text)
        elif doc.doc_type in ("txt", "html", "md"):
            text = strip_boilerplate(text)
        if doc.doc_type == "md":
            text = repair_converted_text(text)
        page.text = _normalise_whitespace(text)
    doc.pages = [p for p in doc.pages if p.text.strip()]
    if not doc.pages:
        raise IngestError("no text left after removing page furniture")
    _refuse_degenerate(doc)
    doc.title = _title(doc)
    doc.date = stated.get("published") or _stated_date(doc)
    if not doc.date and (day := _stated_day(raw_head, doc)):
        doc.extra["date_note"] = day
    if stated.get("updated"):
        doc.extra["updated"] = stated["updated"]
    return doc


# "Date published: 29 January, 2025" / "Date last updated: 25 March, 2025" at the head of a
# page captured from a publisher's site: facts about the document, not passages to quote.
_DATE_HEADER = re.compile(r"^\s*(?:date\s+)?(published|first published|last updated|updated)\s*:\s*(.{6,40}?)\s*$",
                          re.I | re.M)


def _take_date_header(doc: Document) -> dict[str, str]:
    found: dict[str, str] = {}
    if not doc.pages:
        return found
    page = doc.pages[0]
    head_end = _offset_of_line(page.text, 20)

    def take(match: re.Match) -> str:
        when = parse_date(match.group(2).replace(",", ""))
        if not when:
            return match.group(0)
        kind = "updated" if "updated" in match.group(1).lower() else "published"
        found.setdefault(kind, when)
        return ""

    page.text = _DATE_HEADER.sub(take, page.text[:head_end]) + page.text[head_end:]
    return found


def _offset_of_line(text: str, n: int) -> int:
    at = 0
    for _ in range(n):
        nxt = text.find("\n", at)
        if nxt < 0:
            return len(text)
        at = nxt + 1
    return at


def repair_converted_text(text: str) -> str:
    """Undo what a PDF-to-Markdown conversion does to running text: every printed line its own
    paragraph ("com-" / "munity-based"), page headers repeated through the text, and lost "ll"
    ligatures ("wil", "al ocated")."""
    text = _drop_repeated_furniture(text)
    text = _BROKEN_LINK.sub("\n", _MAILTO.sub("", text))
    # Words split at a line end are joined first: "lenges to scalability and com" alone reads as shards.
    text = _SPLIT_HYPHEN.sub(r"\1\2", text)
    text = _drop_debris(text)
    text = _drop_bibliography(text)
    text = _join_soft_breaks(text)
    # Only once its lines are joined is a flattened table's run of cells long enough to tell apart.
    text = "\n".join(line for line in text.split("\n") if not _is_shards(line))
    return repair_ligatures(_drop_shard_runs(text))


# A link a conversion broke into shards, after a statement ("; available: https:// www. crd. york.
# ac. uk/ prosp ero/"), goes to a line of its own, judged (and dropped) as debris there: the statement
# before it ("Trial Registration PROSPERO ID: CRD42024597197") stays. A reference's link ("NHS
# England. Website: https:// www. engla nd.") stays on its line, which goes as a reference. An
# address written out and again as its link ("nhs.oversightandassessment@nhs.net
# (mailto:nhs.oversightandassessment@nhs.net)") stays once.
_BROKEN_LINK = re.compile(r"(?<=\S)[ \t]*;[ \t]*available(?:[ \t]+(?:at|from))?:?[ \t]*(?=https?://\s)", re.I)
_MAILTO = re.compile(r"[ \t]*\(mailto:[^)\s]+\)")
# The rest of a broken link on the next line: "php? Recor dID= 597197."
_LINK_QUERY = re.compile(r"^\s*[\w./ -]*\w\?\s*[\w ]+=\s*[\w%-]+\.?\s*$")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SPLIT_HYPHEN = re.compile(r"([a-z])[\u2011\u2010-][ \t]*\n(?:[ \t]*\n){0,3}[ \t]*([a-z])")
_SOFT_BREAK = re.compile(r"([^\s.!?:;\u2022])[ \t]*\n(?:[ \t]*\n){0,3}[ \t]*(?=[a-z,;)\u2019])")


def _join_soft_breaks(text: str) -> str:
    """Join a line that stops mid-sentence to the next when that one starts in lower case."""
    # Again after the debris and reference lines have gone: a word's halves can meet only then.
    text = _SPLIT_HYPHEN.sub(r"\1\2", text)
    text = _SOFT_BREAK.sub(r"\1 ", text)
    return re.sub(r"(?<=\w) +(?=[,;)](?:\s|$))", "", text)  # "Lord Darzi , the" once a link has gone


# Words of up to three letters that prose uses; any other short token in a block is a shard.
_SHORT_WORDS = frozenset("""a i an as at be by do eg go he ie if in is it me my no of on or so to up us we
the and for are but not you all any can had her was one our out day get has him his how man new now old see
two way who did its let put say she too use few key may own per set six ten via yet age aim far low end lead
act add ago aid ask big bed car cut due fit job law led met mix pay run saw six top try war nhs gp ae""".split())


def _drop_debris(text: str) -> str:
    """Drop what a table or figure becomes when its cells are flattened into running text:
    stray marks ("‑", "]", "0.5") and word shards ("C t, clinical d commu e, and healthcar"),
    told apart from prose by the share of its words that are words."""
    vocabulary = _vocabulary()
    kept = []
    for line in text.split("\n"):
        # A list's letter ("C. Standardising ...") is no word shard.
        # An email address is contact detail, not shards ("nhs.oversightandassessment@nhs.net").
        letters = re.findall(r"[A-Za-z]+", _LIST_MARK.sub("", _EMAIL.sub(" ", line)))
        if (line.strip() and not re.search(r"[A-Za-z]{2}", line)) or _LINK_QUERY.match(line):
            continue
        if vocabulary and len(letters) >= 4:
            known = sum(1 for w in letters if _known(w, vocabulary) or (w.isupper() and len(w) >= 2))
            if known / len(letters) < 0.7:
                continue
        kept.append(line)
    return "\n".join(kept)


# The words a shard measure reads: letters only, not a unit glued to a figure ("10mg") or a path.
_WORDS = re.compile(r"(?<![\d/.@:-])\b[A-Za-z]+\b")


def _shard_share(line: str) -> float:
    """The share of a line's words that are short fragments of words ("ws", "ts", "vie", "ojec").
    Units glued to figures ("10mg", "5 mmol/l") and acronyms do not count; in prose the share stays
    under a third, in a table flattened cell by cell it reaches a half. Lines of fewer than three
    words are not judged. Only converted Markdown is judged: a PDF's form ("Yes / No / N/A") and
    dose lines ("10 mg and 5 mg tablets") read as shards by this measure."""
    words = _WORDS.findall(line)
    if len(words) < 3:
        return 0.0
    shards = sum(1 for w in words if len(w) <= 3 and w.lower() not in _SHORT_WORDS and not (w.isupper() and len(w) >= 2))
    return shards / len(words)


def _unknown_share(line: str) -> float:
    """The share of a line's words that are fragments of words, short ("ws", "ojec") or long
    ("communit", "ganisations", "voluntar"): a lower-case word the vocabulary does not hold, in any
    spelling or with any common ending. Lines of fewer than four words are not judged (a heading
    such as "Frequency and timeliness" holds one word the vocabulary lacks), nor any line when the
    model's vocabulary is missing."""
    vocabulary = _vocabulary()
    words = _WORDS.findall(line)
    if len(words) < 4 or not vocabulary:
        return 0.0
    unknown = 0
    for word in words:
        if sum(c.isupper() for c in word) >= 2 or (len(word) == 1 and word.isupper()):  # "MDTs", a list letter
            continue
        if len(word) <= 3:
            unknown += word.lower() not in _SHORT_WORDS
        elif not _known(word, vocabulary):
            unknown += 1
    return unknown / len(words)


def _is_shards(line: str) -> bool:
    """A line of a table flattened into word ends: half its words short shards, or nearly a third
    fragments of any length. Prose of the six guidance documents stays under both; the review's
    flattened tables ("Communit ticipation can lead to ser that needs munit ness") do not."""
    line = _EMAIL.sub(" ", line)  # "Fahad M. Iqbal f.iqbal@imperial.ac.uk" is a name and an address
    return _shard_share(line) >= 0.4 or _unknown_share(line) >= 0.3


def _drop_shard_runs(text: str) -> str:
    """A table flattened a cell to a paragraph ("Bunga et" / "Edmont" / "Communit" / "Par") is
    too short a line at a time to judge: a run of at least five paragraphs of under four words is
    judged as one line, and dropped whole when it reads as shards."""
    blocks = re.split(r"(\n\s*\n)", text)  # paragraphs at even indexes, their separators between
    run: list[int] = []

    def close_run() -> None:
        if len(run) >= 5 and _is_shards(" ".join(blocks[i] for i in run)):
            for i in run:
                blocks[i] = ""
        run.clear()

    for index in range(0, len(blocks), 2):
        if len(blocks[index].split()) < 4 and blocks[index].strip():
            run.append(index)
        elif blocks[index].strip():
            close_run()
    close_run()
    kept = [block for block in blocks if block != ""]
    return re.sub(r"\n\s*\n(?:\s*\n)+", "\n\n", "".join(kept))


_LIST_MARK = re.compile(r"^\s*(?:•\s*)?[A-Za-z][.)]\s+")
# British spellings the (American) vocabulary holds in their American form.
_BRITISH = ((r"isation", "ization"), (r"isational", "izational"), (r"ise", "ize"), (r"ising", "izing"), (r"ised", "ized"), (r"ises", "izes"),
            (r"our", "or"), (r"ours", "ors"), (r"ourhood", "orhood"), (r"ourhoods", "orhoods"), (r"tre", "ter"),
            (r"tres", "ters"), (r"ogue", "og"))


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    word = word.lower()
    if len(word) < 4:
        return word in _SHORT_WORDS
    if word in vocabulary:
        return True
    if any(word.endswith(british) and word[: -len(british)] + american in vocabulary
           for british, american in _BRITISH):
        return True
    # A word made of known parts: "standard-ising", "multi-disciplinary".
    return (any(word.endswith(end) and len(word) - len(end) >= 4 and word[: -len(end)] in vocabulary
                for end in ("ising", "izing", "ised", "ized", "isation", "ization", "ing", "ed", "s"))
            or any(word.startswith(pre) and word[len(pre):] in vocabulary for pre in _PREFIXES))


_PREFIXES = ("multi", "inter", "intra", "cross", "non", "co", "sub", "re", "pre", "post", "over", "under", "self")


# Lines of a reference list or footnote: "Accessed 2 Oct 2024.", "2023;31:29–42.", "12. Messenger G.
# 'Leadership ...' 2022.", "https:// www. kings fund. org. uk/ ...". Kept apart from the passages:
# a quoted answer is never a bibliography entry.
_BIBLIOGRAPHY = re.compile(
    r"\b(?:accessed|viewed on|viewed)\s+\d{1,2}\s+[a-z]{3,9}\.?\s+\d{4}|\b(?:19|20)\d\d;\s?\d+(?:\(\d+\))?:\s?[a-z]?\d+"
    r"|^\s*\d{1,3}\.?\s+[A-Z][\w’'-]+\s+[A-Z]{1,3}[,.]\s|https?://\s|\bdoi\.org/|\bdoi:\s?10\."
    r"|\bet al\.\s+(?:The|A|An)?\s?[A-Z][^.]{5,}\.\s+[A-Z][\w ]{2,40}\.\s+(?:19|20)\d\d", re.I | re.M)


def _drop_bibliography(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not _BIBLIOGRAPHY.search(line))


def _drop_repeated_furniture(text: str) -> str:
    """Lines carrying a number that recur five or more times ("Page 2 of 28", a journal's running
    head "Iqbal et al. BMC Public Health (2025) 25:1374") are page furniture."""
    text = _strip_running_head(text)
    counts: dict[str, int] = {}
    for line in text.splitlines():
        k = _masked(line)
        if "#" in k and 8 <= len(k) <= 120:
            counts[k] = counts.get(k, 0) + 1
    furniture = {k for k, n in counts.items() if n >= 5 and not k.startswith(("•", "#."))}
    if not furniture:
        return text
    return "\n".join(line for line in text.splitlines() if _masked(line) not in furniture)


def _strip_running_head(text: str) -> str:
    """A page's running head that the conversion glued to the page's first line ("2025/26 priorities
    and operational planning guidance Foreword from the NHS Chief Executive", 20 times in the
    planning guidance) is cut from those lines, and dropped where it stands alone: a line of 3 to 12
    words that stands alone at least twice and starts at least three other lines. Quoted, it read
    as part of the sentence."""
    lines = text.split("\n")
    alone = Counter(" ".join(line.split()) for line in lines if 3 <= len(line.split()) <= 12)
    heads = {head for head, count in alone.items() if count >= 2}
    glued = Counter(head for line in lines for head in _leading_heads(line.split(), heads))
    running = {head for head in heads if glued[head] >= 3}
    if not running:
        return text
    kept = []
    for line in lines:
        words = line.split()
        head = next(_leading_heads(words, running), None)
        if head:
            line = " ".join(words[len(head.split()):])
        elif " ".join(words) in running:
            line = ""
        kept.append(line)
    return "\n".join(kept)


def _leading_heads(words: list[str], heads: set[str]):
    """The heads a line starts with and runs on past, longest first."""
    for n in range(min(12, len(words) - 1), 2, -1):
        if " ".join(words[:n]) in heads:
            yield " ".join(words[:n])


# Words whose "ll" a PDF font dropped, seen standalone: "wil be", "al parts", "ful vision".
_LOST_LL = {"wil": "will", "ful": "full", "wel": "well", "stil": "still", "smal": "small",
            "shal": "shall", "skil": "skill", "tel": "tell", "fal": "fall", "al": "all", "il": "ill"}


_SUFFIXES = {"y", "ed", "ing", "er", "ers", "s", "est", "ow", "ows"}


def repair_ligatures(text: str) -> str:
    """Restore "ll" where a document shows the lost-ligature symptom (a "wil", "ful" or "wel"
    standing alone, which English never has). Split words are joined only when the joined word is a known word
    ("al ocated" -> "allocated", "chal enged" -> "challenged"): the list is the embedding model's
    own vocabulary."""
    symptoms = len(re.findall(r"\b(?:wil|ful|wel)\b", text, re.I))
    if symptoms < 1:
        return text
    vocabulary = _vocabulary()

    def join(left: str, right: str) -> str | None:
        joined = f"{left}l{right}"
        # "crucial y" -> "crucially": a suffix after a word ending in "l" needs no word list.
        if (joined.lower() in vocabulary or joined.lower().removesuffix("s") in vocabulary
                or (right in _SUFFIXES and left.lower() in vocabulary)):
            return joined
        return None

    def ending(match: re.Match) -> str:
        # "overal score": the word's own end lost its "l"; it is no word as printed, and is one with it.
        word = match.group(0)
        lowered = word.lower()
        return word + "l" if lowered not in vocabulary and lowered + "l" in vocabulary else word

    if vocabulary:
        text = _join_split_words(text, join)
        text = re.sub(r"\b[A-Za-z]{3,}[a-z]al\b(?![.\u2019'-]\w)", ending, text)

    def standalone(match: re.Match) -> str:
        word = match.group(0)
        fixed = _LOST_LL.get(word.lower())
        if not fixed:
            return word
        return fixed.capitalize() if word[0].isupper() else fixed

    # "et al." is Latin, not a lost "all".
    return re.sub(r"(?<!\b[Ee]t )\b(?:[Ww]il|[Ff]ul|[Ww]el|[Ss]til|[Ss]mal|[Ss]hal|[Ss]kil|[Tt]el|[Ff]al|[Aa]l|[Ii]l)\b(?![.\u2019'-]\w)",
                  standalone, text)


# Every place a word ending in "l" is followed by a lower-case word: overlapping, so that "wil
# automatical y" offers "automatical y" as well as "wil automatical".
_SPLIT_AFTER_L = re.compile(r"\b(?=([A-Za-z]*[a-z]l) ([a-z]{1,12})\b)")


def _join_split_words(text: str, join) -> str:
    """Each split word ``join(left, right)`` mends (it returns None for a pair it leaves), left to
    right; a pair overlapping one already mended is left."""
    pieces, done = [], 0
    for match in _SPLIT_AFTER_L.finditer(text):
        start = match.start()
        if start < done:
            continue
        mended = join(match.group(1), match.group(2))
        if mended is not None:
            pieces += [text[done:start], mended]
            done = start + len(match.group(1)) + 1 + len(match.group(2))
    return "".join(pieces) + text[done:]


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Whole words of the embedding model's WordPiece vocabulary (about 20,000 English words)."""
    try:
        from index.settings import default_model_path

        lines = (Path(default_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except Exception:  # no model folder: split words stay split, nothing else changes
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.islower() and len(w) >= 4)


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


def drop_running_lines(doc: Document) -> None:
    """Remove running headers and footers: lines repeated on most pages (page numbers masked)."""
    if len(doc.pages) < 3:
        return
    counts: dict[str, int] = {}
    for page in doc.pages:
        for k in {_masked(line) for line in page.text.splitlines() if line.strip()}:
            counts[k] = counts.get(k, 0) + 1
    needed = max(3, len(doc.pages) // 2)
    running = {k for k, n in counts.items() if n >= needed and len(k) < 200}
    misread = _misread_running_lines(doc, needed)
    for page in doc.pages:
        page.text = "\n".join(line for line in page.text.splitlines()
                              if _masked(line) not in running and (id(page), line) not in misread)


# OCR reads the same letterhead a little differently on every page: the scanned insulin-needles
# leaflet's logo came out "Wcambridceanre & Peterborough Cambridgeshire &", "eombridgesnire &
# Peterborough Cambridgeshire &" and so on, 0.82-0.91 alike (difflib), where two different
# headings ("Chapter 1: Introduction", "Chapter 2: Key points") are under 0.7 alike.
NEAR_RUNNING_RATIO = 0.8
_EDGE_LINES = 3  # a running line sits among the first or the last lines of a page


def _misread_running_lines(doc: Document, needed: int) -> set[tuple[int, str]]:
    """(page id, line) for each line of an OCR'd page that is nearly the same as a line at the
    same edge (head or foot) of at least ``needed`` pages, itself included: a running header
    or footer read differently each time."""
    edges = [(_edge(page, head=True), _edge(page, head=False)) for page in doc.pages]
    misread = set()
    for n, page in enumerate(doc.pages):
        if not page.ocr:
            continue
        for side in (0, 1):
            for line, key in edges[n][side]:
                alike = 1
                for m in range(len(doc.pages)):
                    if m != n and any(_near(key, other) for _, other in edges[m][side]):
                        alike += 1
                        if alike >= needed:  # enough: the rest of a long document need not be read
                            misread.add((id(page), line))
                            break
    return misread


def _edge(page, head: bool) -> list[tuple[str, str]]:
    lines = [line for line in page.text.splitlines() if line.strip()]
    lines = lines[:_EDGE_LINES] if head else lines[-_EDGE_LINES:]
    return [(line, _masked(line)) for line in lines if len(line.strip()) < 200]


def _near(a: str, b: str) -> bool:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= NEAR_RUNNING_RATIO and matcher.quick_ratio() >= NEAR_RUNNING_RATIO \
        and matcher.ratio() >= NEAR_RUNNING_RATIO


def _masked(line: str) -> str:
    """A line as page furniture is compared: case and page numbers do not count."""
    return re.sub(r"\d+", "#", line.strip().lower())


def _normalise_unicode(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    text = text.replace("\u00ad", "").replace("\ufeff", "").replace("\u200b", "")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


# Short first halves of hyphenated compounds ("co-", "pre-", "non-"), below the vocabulary's
# four-letter floor, and endings that leave a vocabulary word ("blockers" -> "block").
_COMPOUND_SHORT_HALVES = frozenset({"co", "pre", "non", "re", "and", "one", "two", "up", "out", "in", "on", "off",
                                    "day", "end", "sub", "low", "top", "far", "old", "new"})
_COMPOUND_ENDINGS = ("ers", "ing", "ed", "er", "es", "s", "ly")


def _is_compound_half(word: str, vocabulary: frozenset[str]) -> bool:
    word = word.lower()
    return word in vocabulary or word in _COMPOUND_SHORT_HALVES or any(
        word.endswith(end) and word[: -len(end)] in vocabulary for end in _COMPOUND_ENDINGS)


def _line_end_hyphen(match: re.Match) -> str:
    """A hyphen at a PDF line end: "commis-/sioning" was one word split to fit the line, but
    "side-/effects", "beta-/blockers" and "terms-and-/conditions" are compounds that keep theirs
    (every line-end hyphen in the nine NHS PDFs is one: the old join made "sideeffects")."""
    left, right = match.group(1), match.group(2)
    vocabulary = _vocabulary()
    if ((left + right).lower() not in vocabulary and _is_compound_half(left, vocabulary)
            and _is_compound_half(right, vocabulary)):
        return f"{left}-{right}"
    return left + right


def _repair_pdf_lines(text: str) -> str:
    text = re.sub(r"(\w*[A-Za-z])-\n\s*([a-z]\w*)", _line_end_hyphen, text)
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
    wrapped = _wrapped_pdf_title(doc)
    if wrapped:
        return wrapped
    for line in doc.pages[0].text.splitlines()[:12]:
        candidate = line.strip(" -–|•")
        if re.match(r"(?i)(classification|publication reference|contents?)\b", candidate):
            continue
        if 12 <= len(candidate) <= 200 and not parse_date(candidate) and len(candidate.split()) >= 3:
            return candidate
    return Path(doc.source).stem.replace("-", " ").replace("_", " ")


def _wrapped_pdf_title(doc: Document) -> str | None:
    """A PDF title set over two to four short lines ("Commissioning policy:" / "individual funding
    requests") is one title, not its second line alone."""
    if doc.doc_type != "pdf":
        return None
    block = doc.pages[0].text.strip().split("\n\n", 1)[0].splitlines()
    if not 2 <= len(block) <= 4 or any(len(line) > 80 for line in block):
        return None
    title = " ".join(line.strip() for line in block)
    if 12 <= len(title) <= 200 and not title.endswith(".") and not parse_date(title):
        return title
    return None


def _looks_generic(title: str) -> bool:
    lowered = title.lower()
    return (len(title) < 6 or lowered.endswith((".doc", ".docx", ".pdf")) or lowered in
            {"untitled", "document", "microsoft word", "title", "pdf"} or lowered.startswith("microsoft word"))


def _head(text: str) -> str:
    """The opening lines, where a dateline or byline stands."""
    return "\n".join(text.splitlines()[:15])


def _stated_date(doc: Document) -> str | None:
    found = parse_date(_head(doc.pages[0].text))
    if found:
        return found
    meta = doc.extra.get("meta_date") or None
    # A Markdown front-matter date is stated by the author; PDF/DOCX metadata dates are file dates,
    # used only when the text itself states nothing.
    return meta


# "Posted on July 4th" or "in London on 29 October": a day and month with no year in the opening lines.
# Not a date anyone can filter on without guessing the year, but the reader should see it rather
# than a bare "undated" (issue 11: three seed articles state such a day).
_DAY_MONTH = re.compile(r"\b(?:(\d{1,2})(?:st|nd|rd|th)?\s+(%(m)s)|(%(m)s)\s+(\d{1,2})(?:st|nd|rd|th)?)\b(?![,.]?\s*\d)"
                        % {"m": "January|February|March|April|May|June|July|August|September|October|November|December"})


_BYLINE = re.compile(r"\b(?:posted|published|dated|updated)\s+(?:on\s+)?(?=\w)", re.I)


def _stated_day(raw_head: str, doc: Document) -> str | None:
    """"29 October" when the opening lines state a day and month but no year with it. A byline
    ("Posted on July 4th", often removed with the page furniture) wins over a day in the text."""
    byline = _BYLINE.search(raw_head)
    match = _DAY_MONTH.match(raw_head, byline.end()) if byline else None
    match = match or _DAY_MONTH.search(_head(doc.pages[0].text))
    if not match:
        return None
    day, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    return f"{int(day)} {month}" if 1 <= int(day) <= 31 else None


def parse_date(text: str) -> str | None:
    patterns = (
        (r"\b(\d{4})-(\d{2})-(\d{2})\b", ("y", "m", "d")),
        (r"(?:^|\s)(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})(?:\s|$)", ("d", "m", "y")),
        (r"\b(\d{1,2})(?:st|nd|rd|th)? ([A-Z][a-z]{2,8})\.? (\d{2}|\d{4})\b", ("d", "mon", "y")),
        (r"\b([A-Z][a-z]{2,8}) (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b", ("mon", "d", "y")),
    )
    for pattern, order in patterns:
        for match in re.finditer(pattern, text, re.M):
            parts = dict(zip(order, match.groups()))
            month = parts.get("m") or str(MONTHS.get(parts.get("mon", "")[:3].lower(), ""))
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
