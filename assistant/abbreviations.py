"""Abbreviations staff type that the documents spell out: "CDCs - how many were open by March 2025?"
is asked of "170 community diagnostic centres". An abbreviation no indexed passage holds is searched
for, and checked against the index, with its long form added after it; one the documents use
themselves ("ICB") is left as it is."""
from __future__ import annotations

import re
from collections.abc import Callable

# Health and local-government abbreviations in England, with the long form the documents use.
LONG_FORMS = {
    "10YHP": "10 Year Health Plan", "A&E": "accident and emergency", "ARRS": "additional roles reimbursement scheme",
    "ASC": "adult social care", "BCF": "Better Care Fund", "CDC": "community diagnostic centre",
    "CHC": "continuing healthcare", "CQC": "Care Quality Commission", "CYP": "children and young people",
    "DES": "directed enhanced service", "DFG": "disabled facilities grant",
    "DHSC": "Department of Health and Social Care", "ED": "emergency department", "FT": "foundation trust",
    "FTE": "full-time equivalent", "HWB": "health and wellbeing board", "ICB": "integrated care board",
    "ICP": "integrated care partnership", "ICS": "integrated care system", "IHO": "integrated health organisation",
    "INT": "integrated neighbourhood team", "JFP": "joint forward plan", "KPI": "key performance indicator",
    "LA": "local authority", "LD": "learning disability", "LTC": "long-term condition",
    "MDT": "multidisciplinary team", "MHIS": "Mental Health Investment Standard", "NED": "non-executive director",
    "NHC": "neighbourhood health centre", "NHSE": "NHS England", "NOF": "NHS Oversight Framework",
    "OOH": "out of hours", "PCN": "primary care network", "PHM": "population health management",
    "PPP": "public private partnership", "QOF": "Quality and Outcomes Framework", "RTT": "referral to treatment",
    "SDEC": "same day emergency care", "SMI": "severe mental illness", "UEC": "urgent and emergency care",
    "UTC": "urgent treatment centre", "VCSE": "voluntary, community and social enterprise",
    "WTE": "whole-time equivalent",
}
# As typed: capitals, a plural "s" ("CDCs", "NHCs"), the ampersand of "A&E"; never inside a word.
_ABBREVIATION = re.compile(r"(?<![\w&])(" + "|".join(sorted(map(re.escape, LONG_FORMS), key=len, reverse=True))
                           + r")s?(?![\w&])")


def expand(question: str, known: Callable[[str], bool]) -> str:
    """The question with the long form after each abbreviation that ``known`` (is this word in the
    index?) says the documents do not use, and whose long form the question does not already hold."""
    def long_form(match: re.Match) -> str:
        short, long = match.group(1), LONG_FORMS[match.group(1)]
        if known(short) or long.lower() in question.lower():
            return match.group(0)
        return f"{match.group(0)} ({long})"

    return _ABBREVIATION.sub(long_form, question)


def long_forms_only(question: str) -> str:
    """An expanded question with each expanded abbreviation dropped before its long form: the check
    for names no document mentions reads "population health management", not "PHM"."""
    def drop(match: re.Match) -> str:
        long = LONG_FORMS[match.group(1)]
        return "" if match.string[match.end():].startswith(f" ({long})") else match.group(0)

    return _ABBREVIATION.sub(drop, question)
