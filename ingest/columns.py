"""Two-column PDF pages in reading order.

pypdf's default extraction follows the page's drawing order. A page drawn row by row across two
columns comes out interleaved ("The plan will invest up to £120 million It will at least double the
number of people"), which is what the conversions of the 10 Year Health Plan summary and of the
systematic review in corpus/ show. pypdf's layout mode places each line where it stands on the
page, so the columns come out side by side with a gutter of spaces between them; cut at the gutter,
left column then right, the page reads in order.

Layout mode costs about as much again as the default pass, so it runs only on pages whose text
starts at two places across the page (measured in the same default pass), and its result is kept
only when both sides of the gutter read as prose: a form's labels and values, or a table, are not
two columns of text and keep the default reading.
"""
from __future__ import annotations

import statistics
from collections import Counter

# A column of prose: its lines are this long at the middle (a form's labels are shorter).
MIN_COLUMN_CHARS = 25
# Two places where lines start: each holds at least this share of the page's line starts.
MIN_START_SHARE = 0.25


def starts_two_columns(line_starts: list[float], page_width: float) -> bool:
    """Whether text runs start at one place in the left half and one in the right half of the
    page, each often enough (x positions of the text runs the default pass drew)."""
    if len(line_starts) < 10 or page_width <= 0:
        return False
    left = [x for x in line_starts if x < page_width * 0.45]
    right = [x for x in line_starts if page_width * 0.45 <= x < page_width * 0.8]
    if min(len(left), len(right)) < MIN_START_SHARE * len(line_starts):
        return False
    # Each column's lines start at (nearly) the same x: its margin.
    return all(Counter(round(x / 6) for x in side).most_common(1)[0][1] >= 0.5 * len(side) for side in (left, right))


def in_reading_order(layout_text: str) -> str | None:
    """The layout-mode text of a two-column page, left column then right; None when it has no
    single gutter with prose on both sides."""
    lines = [line.rstrip() for line in layout_text.splitlines()]
    gutter = _gutter(lines)
    if gutter is None:
        return None
    crosses = [_crosses(line, gutter) for line in lines]
    two_sided = [i for i, line in enumerate(lines) if line[:gutter].strip() and line[gutter:].strip()]
    # A title set across both columns above them is read first; text across the gutter further
    # down means this is no two-column page (a table, a figure with labels).
    first = min((i for i in two_sided if not crosses[i]), default=len(lines))
    if sum(crosses[first:]) > 2:
        return None
    header = [line.strip() for line in lines[:first]]
    body = [line if not cross else "" for line, cross in zip(lines[first:], crosses[first:])]
    left = [line[:gutter].strip() for line in body]
    right = [line[gutter:].strip() for line in body]
    if min(_typical_length(left), _typical_length(right)) < MIN_COLUMN_CHARS:
        return None
    return "\n".join(_paragraphs(header + left)) + "\n\n" + "\n".join(_paragraphs(right))


def _crosses(line: str, gutter: int) -> bool:
    """The line's text runs through the gutter (a word stands on it)."""
    return len(line) > gutter and line[gutter] != " " and line[gutter - 1] != " "


def _gutter(lines: list[str]) -> int | None:
    """The character position, in the middle of the page, that is blank (with blanks beside it)
    in most lines that have text on both sides of it."""
    wide = [line for line in lines if len(line.strip()) > 40]
    if len(wide) < 6:
        return None
    width = max(len(line) for line in wide)
    best, best_count = None, 0
    for x in range(int(width * 0.3), int(width * 0.7)):
        count = sum(1 for line in wide if line[x - 2:x + 2] == "    " and line[:x].strip() and line[x:].strip())
        if count > best_count:
            best, best_count = x, count
    if best is None or best_count < 0.6 * len(wide):
        return None
    return best


def _typical_length(column: list[str]) -> float:
    filled = [len(line) for line in column if line]
    return statistics.median(filled) if filled else 0.0


def _paragraphs(column: list[str]) -> list[str]:
    """A column's lines; a blank line of the column stays a paragraph break, runs of them one."""
    out: list[str] = []
    for line in column:
        if line or (out and out[-1]):
            out.append(line)
    return out
