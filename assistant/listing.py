"""A list the question asks for, read on from the sentence that announces it.

"What are the six core components of a neighbourhood health service?" is answered in guidance by
"This appendix describes 6 core components (A to F)" and then six lettered headings spread over
the next pages, or by "the five core principles shown below" and a table whose rows are numbered.
The announcing sentence alone names none of them. When a quoted sentence announces as many items
as the question asks about, the answer goes on to quote the numbered or lettered items that
follow it in the document, each cited where it stands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .answers import Hit
from .english import stem, tokens

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12}
_COUNT = r"(?:\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
# "6 core components", "five core principles", "4 sequential steps": a count, up to three
# qualifiers, and a plural noun.
_ANNOUNCED = re.compile(rf"\b({_COUNT})\s+((?:[\w-]+\s+){{0,3}}?[a-z][\w-]*s)\b", re.I)
# Questions that ask for the items themselves, not for one fact about them.
# The asking sentence may follow one of context: "... the 'six components'. What are they?"
_ASKS_FOR_LIST = re.compile(r"(?:^|[.?!:]\s+|\s[-–]\s)\s*(?:and\s+)?(?:what|which)\s+(?:are|were)\b|\b(?:list|name)\s+(?:the|all|each)\b|"
                            rf"\bwhat\s+{_COUNT}\b", re.I)
# A numbered or lettered item that names one thing: "A. Population health management",
# "1. Outcome-focused". A sentence ("1. each metric is scored on a scale ...") is no item name.
# "components A to F" asks for six lettered items, in a question or typed as keywords.
_LETTER_RANGE = re.compile(r"\b([A-H])\s*(?:to|-|–)\s*([A-H])\b")
_ITEM = re.compile(r"^[ \t]*(?:•[ \t]*)?(?P<mark>\d{1,2}|[A-Z])[.)][ \t]+(?P<name>[^\n]{2,90}?)[ \t]*$", re.M)
_MAX_ITEM_WORDS = 12
# How far past the announcing sentence the items may lie: an appendix of six components with a
# page of text under each is about 20,000 characters.
READ_ON_CHARS = 40_000


@dataclass(frozen=True)
class Item:
    hit: Hit
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.hit.text[self.start:self.end]


# "Which five domains", "For which domains": which, a count or up to two words, and a plural noun.
_WHICH_PLURAL = re.compile(rf"\bwhich\s+(?:{_COUNT}\s+)?(?:[\w-]+\s+)?([a-z][\w-]*[^s']s)\b", re.I)
_WHAT_ARE_PLURAL = re.compile(rf"\bwhat\s+(?:are|were)\s+(?:the\s+)?(?:{_COUNT}\s+)?(?:[\w-]+\s+){{0,2}}?"
                              r"([a-z][\w-]*[^s']s)\b", re.I)


def listed_thing(question: str) -> str | None:
    """The stem of what a list question asks for: "domain" in "Which five domains ...?"."""
    match = _WHICH_PLURAL.search(question) or _WHAT_ARE_PLURAL.search(question)
    return stem(match.group(1).lower()) if match else None


def announced_count(question: str, sentence: str) -> int | None:
    """How many items the sentence announces, when they are what the question asks for: the
    question names the same things ("principles") or the same number ("six" / "6")."""
    lettered = [ord(m.group(2)) - ord(m.group(1)) + 1 for m in _LETTER_RANGE.finditer(question)
                if m.group(2) > m.group(1)]
    if not (_ASKS_FOR_LIST.search(question) or lettered):
        return None
    asked_terms = set(tokens(question))
    asked_counts = ({_number(m.group(0)) for m in re.finditer(_COUNT, question, re.I)} | set(lettered)) - {None}
    for match in _ANNOUNCED.finditer(sentence):
        count = _number(match.group(1))
        if count is None or count < 2:
            continue
        noun = stem(match.group(2).split()[-1].lower())
        if count in asked_counts or (noun in asked_terms and not asked_counts):
            return count
    return None


def _number(text: str) -> int | None:
    text = text.lower()
    if text.isdigit():
        return int(text)
    return _NUMBER_WORDS.get(text)


def _marks(first: str, count: int) -> list[str]:
    if first.isdigit():
        return [str(int(first) + i) for i in range(count)]
    return [chr(ord(first) + i) for i in range(count)]


def items_after(hit: Hit, end: int, count: int, read_on: Callable[[Hit], list[Hit]] | None) -> list[Item]:
    """The ``count`` items, marked 1, 2, ... or A, B, ..., that follow position ``end`` of the hit,
    in its own text and then in the document's next chunks; [] unless all of them are found in order."""
    sequence: list[str] = []  # the marks expected, set by the first item: 1, 2, 3 ... or A, B, C ...
    found: list[Item] = []
    # Chunks overlap: an item is taken once, by its place in the page.
    last_place = (hit.page or 0, hit.start + end)
    read = 0
    for chunk, offset in _onward(hit, end, read_on):
        for match in _ITEM.finditer(chunk.text, offset):
            place = (chunk.page or 0, chunk.start + match.start())
            mark = match.group("mark")
            if place <= last_place or not _names_a_thing(match.group("name")):
                continue
            if mark in ("1", "A") and (not found or mark == sequence[0]):
                sequence, found = _marks(mark, count), []  # a list starts (again: the last was cut short)
            if not sequence or mark != sequence[len(found)]:
                continue
            found.append(Item(chunk, match.start("mark"), match.end("name")))
            last_place = place
            if len(found) == count:
                return found
        read += len(chunk.text) - offset
        if read > READ_ON_CHARS:
            break
    return []


def _onward(hit: Hit, end: int, read_on: Callable[[Hit], list[Hit]] | None):
    yield hit, end
    if read_on is not None:
        for chunk in read_on(hit):
            yield chunk, 0


def _names_a_thing(name: str) -> bool:
    """An item's name is short and no sentence: "Population health management", not "each metric
    is scored on a scale of 1 to 4 (some with discrete scores and others ...)."""
    name = name.strip()
    return (len(name.split()) <= _MAX_ITEM_WORDS and name[:1].isupper() and not name.endswith((".", ":", ";", ","))
            and len(tokens(name)) >= 1)
