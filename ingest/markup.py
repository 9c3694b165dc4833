"""Markdown and HTML markup to the plain text a reader sees.

Real guidance arrives as third-party conversions: HTML blocks inside Markdown, backslash-escaped
punctuation ("\\(ICBs\\)"), link targets in brackets, bold runs split across lines, numeric reference
markers ("[3-6]") and a PDF's bookmark list pasted at the end. None of it may reach a quoted answer,
and a reference marker would read as one of the answer's own citation numbers.
"""
from __future__ import annotations

import html
import re

_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~&$%\"'/=:;,?@^])")
# Private-use characters stand in for escaped punctuation while emphasis markers are removed,
# so an escaped "\*" survives as a literal asterisk.
_HOLD = 0xE000

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_DROP = re.compile(r"<(script|style|template|noscript)\b.*?</\1\s*>", re.S | re.I)
_HTML_BLOCK = re.compile(r"</?(p|div|h[1-6]|li|ul|ol|table|tr|br|hr|section|article|header|footer|"
                         r"blockquote|pre|dl|dt|dd)\b[^>]*>", re.I)
_HTML_CELL = re.compile(r"</?(td|th)\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*/?>", re.I)

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$", re.M)
# A link target left in brackets by the conversion: " (https://...)", " (/publication)".
# A long address may be broken over lines, or split by a lost ligature ("fol owing"), by the conversion.
_BARE_TARGET = re.compile(r"\s?\((?:https?://|www\.)[^()]{0,400}?\)|\s?\(/[^\s()]*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
# Numeric reference markers of a paper: [1], [3-6], [1, 2], [12,14-16].
_REFERENCE = re.compile(r"\s?\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)[ \t]*#*[ \t]*$", re.M)
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d+\))[ \t]+", re.M)
# A table's numbered row label that the conversion left in bold at the end of the row's text:
# "... and improved **1. ** **Outcome-focused**". It is the row's name: it goes on its own line.
_INLINE_ROW_LABEL = re.compile(r"^(?P<text>[^\n]*[^\s*])[ \t]+\*\*(?P<mark>\d{1,2}|[A-Z])\.[ \t]*(?:\*\*[ \t]*\*\*)?"
                               r"(?P<label>[^*\n]{2,80}?)[ \t]*\*\*[ \t]*$", re.M)
_OUTLINE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*Document Outline[ \t]*$", re.M | re.I)


def html_to_text(text: str) -> str:
    """HTML blocks read as text: comments and scripts dropped, block tags as line breaks."""
    if "<" not in text:
        return html.unescape(text) if "&" in text else text
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_DROP.sub("", text)
    text = _HTML_BLOCK.sub("\n\n", text)
    text = _HTML_CELL.sub(" | ", text)
    text = _HTML_TAG.sub("", text)
    return html.unescape(text)


def markdown_to_text(text: str) -> str:
    """Plain text of a Markdown document; line structure is kept for the cleaner."""
    text = _drop_outline(text)
    text = text.replace("\\\n", "\n")  # a hard line break
    text = _ESCAPED.sub(lambda m: chr(_HOLD + ord(m.group(1))), text)
    text = html_to_text(text)
    text = _LINK_DEFINITION.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HEADING.sub(r"\1", text)
    text = _BULLET.sub("• ", text)
    text = _INLINE_ROW_LABEL.sub(r"\g<mark>. \g<label>\n\n\g<text>", text)
    text = _strip_emphasis(text)
    text = re.sub("[\ue000-\ue0ff]", lambda m: chr(ord(m.group(0)) - _HOLD), text)
    # After unescaping: "\(https://...\)" became a bracketed link target, "\[1, 2\]" a marker.
    text = _BARE_TARGET.sub("", text)
    return _REFERENCE.sub("", text)


def _strip_emphasis(text: str) -> str:
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])|(?<=\s)\*(?=\s)", "", text)
    text = re.sub(r"(?<!\w)_(?=\S)([^_\n]*?\S)_(?!\w)", r"\1", text)
    return text


def _drop_outline(text: str) -> str:
    """A PDF's bookmark list pasted after the text repeats every heading with no content."""
    match = _OUTLINE.search(text)
    if match and match.start() > len(text) // 2:
        return text[:match.start()]
    return text
