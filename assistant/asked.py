"""What a question asks for when it asks for something specific (an amount, a number, a date, a
penalty, a rate), and whether a sentence states one.

A near-miss question ("How much capital funding will each new neighbourhood health centre
receive?") retrieves passages about its subject that never state the thing asked for. Related in
topic is not an answer: when no sentence about the subject states an amount, the answer is a
refusal that says what the documents leave out.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import lru_cache

from .abbreviations import long_forms_only
from .english import STOPWORDS, entities, sentence_spans, stem, tokens

# Number words and their values; in a pattern, also the words that count without a value.
_NUMBER_VALUES = {word: float(n) for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())} | {
    "fifteen": 15.0, "twenty": 20.0, "thirty": 30.0, "forty": 40.0, "fifty": 50.0}
_NUMBER_WORDS = "|".join(word for word in _NUMBER_VALUES if word != "zero") + "|hundred|thousand|dozen|half|quarter|third|double|twice"
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")

# Each kind: the question pattern that asks for it, and the pattern of a sentence that states one.
# Money: a percentage is no answer to "how much funding will each centre receive".
_MONEY = re.compile(r"£\s?\d|\$\s?\d|\d\s?(?:bn|billion|million|m|k)\b|\bpounds?\b", re.I)
# ... but it is to "how much must spending on agency staff be cut".
_MONEY_OR_SHARE = re.compile(_MONEY.pattern + r"|\d(?:\.\d+)?\s?%|\bper cent\b", re.I)
_SHARE = re.compile(r"\d(?:\.\d+)?\s?%|\bper ?cent\b|\b(?:\d+|one|two|three|four|five) (?:in|out of) \d+\b|"
                    r"\b(?:half|third|fifth|tenth|two-thirds|three-quarters|majority|minority)\b|"
                    # "a quarter of patients"; "each quarter", "quarter 1 data", "the first quarter of 2025/26" are times
                    r"\bquarter of\b(?!\s+(?:the\s+)?(?:year|financial year|19\d\d|20\d\d)\b)", re.I)
_PERIOD = re.compile(r"\b(?:19|20)\d\d(?:\s*/\s*\d\d)?\b")
_COUNT = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
# A size is a number, and "2% to 4% of the population" is a share of one, not its size.
_SIZE = re.compile(rf"\d[\d,.]*(?![\d,.]*\s*(?:%|per ?cent))|\b(?:{_NUMBER_WORDS})\b(?!\s*(?:%|per ?cent))", re.I)
# A date answers "when"; a bare period ("in 2025/26") does not say by when.
_DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|"
                   r"\b(?:by|before|until|from|after|since|starting|no later than|end of|beginning of)\s+"
                   r"(?:the\s+)?(?:end\s+of\s+)?(?:(?:19|20)\d\d\b|next\b|this\b)|"
                   r"\b(?:next|this|last|coming)\s+(?:year|month|quarter|spring|summer|autumn|winter)\b|"
                   r"\b(?:spring|summer|autumn|winter)\b|\bwithin \w+ (?:days|weeks|months|years)\b",
                   re.I)
_DAY = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b|"
                  r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.I)
# A figure aimed at: "to 4%", "a target of 65%", "below 3 per cent".
_AIMED_AT = re.compile(r"\b(?:to|target of|aim of|ambition of|goal of|below|under|at least|no more than|less than|"
                       r"(?:a\s+)?(?:minimum|maximum)(?:\s+of)?)\s+"
                       r"(?:(?:around|about|approximately|just|a maximum of|a minimum of)\s+)?\d+(?:\.\d+)?\s?(?:%|per ?cent)", re.I)
# An Act by its name: "the Health and Care Act 2022", "the Care Act".
_ACT = re.compile(r"\b(?:[A-Z][\w']+\s+(?:(?:and|of|for)\s+)?)+Act\b(?:\s+(?:19|20)\d\d)?")
# A place by its name after "in" or "at": "in Bradford", "at Leeds General Infirmary". Months,
# days and whole nations name no particular place.
_PLACE = re.compile(rf"\b(?:in|at|across)\s+(?!(?:{_MONTHS}|England|the|The|NHS|Wales|Scotland|UK)\b)"
                    r"(?-i:[A-Z][a-z]+)", re.I)
_PENALTY = re.compile(r"\b(?:penalt\w*|fines?|fined|sanction\w*|withh[eo]ld\w*|clawback|claw back|"
                      r"deduct\w*|intervention|enforcement|downrat\w*)\b", re.I)
_QUANTITY = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b|\b(?:annual\w*|quarterly|monthly|weekly|daily|yearly|"
                       r"every|each)\b", re.I)

# How often: a frequency, not any number or "each" ("each provider will be scored" says nothing
# of how often it is done).
_UNIT = r"(?:minutes?|mins?|hours?|days?|weeks?|months?|quarters?|years?|annum|fortnights?)"
_UNITS = r"(?:minutes|hours|days|weeks|months|quarters|years)"  # as a question counts them
_FREQUENCY = re.compile(
    r"\b(?:quarterly|monthly|annually|yearly|weekly|daily|fortnightly|hourly|biannual\w*|biennial\w*)\b|"
    rf"\b(?:every|each|per|a|an)\s+(?:(?:\d+|other|two|three|four|six|twelve)\s+)?{_UNIT}\b|"
    rf"\b(?:once|twice|thrice|(?:\d+|{_NUMBER_WORDS})\s+times)\b|"
    rf"\b\d+(?:\s*(?:to|-|–)\s*\d+)?[\s-]*(?:{_UNIT}|monthly|weekly|yearly)\b", re.I)
_HOURS = re.compile(r"\b\d+\s*(?:hours?|hrs?)\b|\b\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm)\b|\b24/7\b|\bround the clock\b", re.I)
# A length of time: "within 28 days", "20 working days", "three months".
_DURATION = re.compile(rf"\b(?:\d+|{_NUMBER_WORDS})[\s-]+(?:(?:working|calendar|consecutive|successive|full|clear)\s+)?{_UNIT}\b", re.I)
_DURATION_OR_END = re.compile(_DURATION.pattern + rf"|\b(?:until|till|up to|no later than)\s+(?:the\s+)?(?:end\s+of\s+)?"
                              rf"(?:\d{{1,2}}\s+)?(?:{_MONTHS}|(?:19|20)\d\d)\b|\b(?:a|one|two|three) (?:full )?terms?\b", re.I)


@dataclass(frozen=True)
class Asked:
    kind: str  # "act", "amount", "comparison", "count", "date", "duration", "frequency", "hours", "list",
    #            "method", "named", "penalty", "period", "place", "quantity", "ranking", "recourse", "role", "contact",
    #            "share", "whether"
    label: str  # how the refusal names it: "an amount", "a date"
    stated: re.Pattern
    # What is counted or measured, as stems, when the question names it: "how many neighbourhood
    # health centres" -> ("neighbourhood", "health", "centr"); "what kappa score" -> ("kappa", "score").
    subject: tuple[str, ...] = ()
    # The group a share is of, as stems, when the question asks for a share of one: "what percentage
    # of patients with hypertension" -> ("patient", "hypertens"); None when it asks for no share.
    share_of: tuple[str, ...] | None = None
    # The sentence must name the subject itself, not the thing in other words: a measure ("kappa
    # score") or what a change is of ("cut delayed transfers": "£2bn of funding" is no such cut).
    subject_named: bool = False
    # The particular names the question asks about, each as its stems: "for the Bradford Inequalities
    # Research Unit's work" -> (("bradford", "inequ", "research", "unit"),). A figure about another
    # named thing ("in York, a social return of £4") answers nothing about it.
    names: tuple[tuple[str, ...], ...] = ()
    # The figures the question places its ask by, as (unit, values): "the 2% to 4% of the
    # population" -> (("%", (2.0, 4.0)),), "within 30 minutes" -> (("minute", (30.0,)),). Years
    # are under "year", a financial year as both its years ("2025/26" -> 2025.0, 2026.0).
    figures: tuple[tuple[str, tuple[float, ...]], ...] = ()
    # The words the question asks about in the negative: "routine (non-urgent)" -> ("urgent",).
    negated: tuple[str, ...] = ()
    # The numbered parts or kinds the question is about, as (label, numbers): "category 1 ambulance
    # response time" -> (("category", ("1",)),). A figure for Category 2 says nothing of Category 1.
    labels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # What the question compares its subject with, as stems of the words only that side names: "how
    # does the NHS's sickness rate compare with the rate in adult social care" -> ("adult", "social").
    compared_with: tuple[str, ...] = ()
    # The question asks for a figure per person ("in pounds per head"): a total is no answer.
    per_head: bool = False
    # The thing the question asks a figure for each of, as a stem ("per PCN" -> "pcn"), when it is
    # no person: "30 care coordinators across the ICB" is no figure per PCN.
    per_unit: str = ""
    # The question asks for a figure as it stands now ("what is the current rate"): a figure
    # aimed at ("to 65% by March 2026", "will fall to 150 days") is not one.
    current: bool = False
    # The question asks for a target for a named year ("the 4 hour A&E target for March 2027"): a
    # target is set for a date, so a figure in a sentence that names no year is no answer.
    target_year: bool = False

    def stated_in(self, sentence: str, question: str) -> bool:
        """The sentence states one that the question did not already give ("segment 5" in the
        question does not make "placed in segment 5" a number answering "how many"), about the
        question's subject. A year or a name with a number ("2025/26", "10 Year Health Plan") is
        no amount or count."""
        if self.about_something_else(sentence) or self.about_another_name(sentence, question) \
                or self.about_another_figure(sentence) or self.about_the_opposite(sentence) \
                or self.about_another_label(sentence):
            return False
        if self.compared_with and not _names_enough(self.compared_with, set(tokens(sentence))):
            return False  # "far higher than the private sector" compares with something else
        if self.per_head and not _PER_HEAD.search(sentence):
            return False
        if self.per_unit and not _for_each(sentence, self.per_unit):
            return False
        if self.current:
            # A worked example, or what will be done ("will be scored 1"), is not how things stand.
            if _EXAMPLE.search(sentence) or (_FUTURE.search(sentence) and not _CURRENT.search(sentence)):
                return False
            sentence = _AIMED_FIGURE.sub(" ", sentence)
        if self.kind in ("role", "list", "method", "ranking", "comparison", "recourse", "contact", "opening", "reason"):  # the sentence must speak of it
            return bool(self.stated.search(sentence))
        if self.kind == "whether":  # what is required, or said to exist, is in the sentence: its verb and enough of its object
            return bool(self.stated.search(sentence)) and _names_enough(self.subject, set(tokens(sentence)))
        if self.kind == "named":  # a name the question does not already hold ("Model Health System")
            asked = _words(question)
            if not _holds_predicate(sentence, question):
                return False
            body = _asked_body(question)
            return any(not asked.issuperset(stems) and (body is None or body.search(name))
                       for name in entities(sentence) for stems in _particular_names(name, classes=False))
        if self.kind not in ("date", "period"):
            sentence, question = _NOT_A_FIGURE.sub(" ", sentence), _NOT_A_FIGURE.sub(" ", question)
        if self.kind != "hours":
            sentence, question = _TIME_OF_DAY.sub(" ", sentence), _TIME_OF_DAY.sub(" ", question)
        if self.kind == "count":  # "a score of 0" is a measure's value, not a number of things, nor is "1.53"
            sentence = _DECIMAL.sub(" ", _MEASURE_VALUE.sub(" ", sentence))
        if self.kind in ("quantity", "count") and "year" not in self.subject:
            # "Five-year strategic commissioning plans" are plans of a kind, not a figure of anything
            # but years.
            sentence = _YEARS_LONG.sub(" ", sentence)
        given = {m.group(0).lower() for m in self.stated.finditer(question)}
        return any(m.group(0).lower() not in given for m in self.stated.finditer(sentence))

    def about_another_name(self, sentence: str, question: str) -> bool:
        """The sentence names another particular name in place of one of the question's: "in York, a
        social return of £4" says nothing of Bradford's. A sentence that names nothing particular is
        given the benefit: a question's name often only places it ("in the Iqbal et al. review", "for the
        C&P ICB") and the sentence that answers need not repeat it. Where the answer is itself a name
        (who, which Act, where) other names are what it states."""
        if not self.names or self.kind in ("role", "act", "place", "named"):
            return False
        words = set(tokens(sentence))
        if all(words.intersection(name) for name in self.names):
            return False
        asked = _words(question)  # "includ-Studies" in a broken line names nothing new
        # A table row's cells and a label's text start with a capital as a sentence does ("Service:
        # Reablement | Lead partner: Council"): each piece is read as a sentence of its own.
        return any(not asked.intersection(name) for piece in _PIECES.split(sentence)
                   for name in _particular_names(piece, classes=False))

    def about_another_figure(self, sentence: str) -> bool:
        """The sentence gives figures in a unit the question places its ask by, and none of the
        question's: "around 7% of the population ... 46% of hospital costs" says nothing of "the 2%
        to 4%"; "within 15 minutes ... no longer than 45 minutes" nothing of 30 minutes; "by March
        2025" nothing of March 2027. A sentence without that unit is given the benefit. A year
        is the answer where the question asks for a date or a period, not a place for it."""
        if not self.figures:
            return False
        stated = dict(_figures(sentence))
        for unit, values in self.figures:
            if unit == "year" and self.kind in ("date", "period"):
                continue
            if unit in stated and not set(values).intersection(stated[unit]):
                return True
            if unit == "year" and self.target_year and unit not in stated:
                return True
        return False

    def about_another_label(self, sentence: str) -> bool:
        """The sentence speaks of another numbered part or kind, and not of the question's: "Category 2
        response times should average 30 minutes" says nothing of Category 1, nor "segment 3" of
        segment 4. A sentence naming no such part is given the benefit."""
        if not self.labels:
            return False
        stated = dict(_labels(sentence))
        return any(label in stated and not set(numbers).intersection(stated[label]) for label, numbers in self.labels)

    def about_the_opposite(self, sentence: str) -> bool:
        """The question asks about the "non-urgent" and the sentence speaks of the urgent only:
        "additional urgent appointments" says nothing of routine (non-urgent) ones."""
        for word in self.negated:
            word = re.escape(word)
            if re.search(rf"\bnon[- ]?{word}\b", sentence, re.I):
                continue
            if re.search(rf"\b{word}\b", sentence, re.I):
                return True
        return False

    def about_something_else(self, sentence: str) -> bool:
        """A figure about another thing of the same kind: "170 community diagnostic centres" does
        not answer "how many neighbourhood health centres", and a count of studies is no "kappa
        score". A measure ("score", "rate") must be named by the sentence, and so must what a change
        is of ("cut delayed transfers"); a counted or changed thing named with other qualifiers and
        none of the question's ("their cost base" for "running costs") is another thing. A sentence that names
        the thing in other words ("276 results" for "how many records") is given the benefit."""
        if self.share_of is None and not self.subject or self.kind == "whether":
            return False
        words = tokens(sentence)
        if self.share_of is not None:  # a share of a named group: the sentence must name that group
            named = tuple(term for term in self.share_of if term not in _GENERIC_GROUPS)
            # "contract value": a contract is not its value, so both words are needed
            return bool(named) and not _names_enough(named, words)
        *qualifiers, head = self.subject
        # "Extra", "additional", "new" qualify weakly: with another qualifier ("additional medical school
        # places") that one decides; alone, any of them answers for the others ("an additional 700,000").
        qualifiers = [q for q in qualifiers if q not in _INCREMENT] or qualifiers
        if _INCREMENT.intersection(words):
            words = [*words, *_INCREMENT]
        if head in _MEASURES:  # named by what it measures ("kappa", "hourly") where the question says
            return not any(term in words for term in qualifiers or [head])
        if self.subject_named and not any(term in words for term in self.subject):
            return True
        if (not qualifiers or set(qualifiers) <= _INCREMENT) and self.kind == "count" and head not in _ANYONE:
            # One word counted ("how many participants", "how many metrics"): a sentence whose figures
            # count only other things ("4 sequential steps") does not count it. Words for the same
            # things count them ("29 articles" are studies); anyone is people ("50 council CEOs").
            counted = {_COUNTED_AS.get(term, term) for term in _counted(sentence)}
            return bool(counted) and _COUNTED_AS.get(head, head) not in counted
        if not qualifiers or any(q in words for q in qualifiers):
            return False
        if head not in words:  # "170 community diagnostic centres" for "how many learning sites"
            return any(counted != head for counted in _counted(sentence))
        return any(word == head and index > 0 and words[index - 1] not in qualifiers
                   for index, word in enumerate(words))


_NON = re.compile(r"\bnon-([a-z]{3,})\b", re.I)


_FIGURE_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + "|".join(_NUMBER_VALUES)
# A figure with its unit, or a range of them: "2% to 4%", "2-4%", "30 minutes", "18-week", "two hours".
_UNIT_FIGURE = re.compile(rf"(?<![\w.£$,])({_FIGURE_NUMBER})(?:\s*%?\s*(?:-|–|to)\s*({_FIGURE_NUMBER}))?"
                          r"[\s-]*(%|per ?cent\b|minutes?\b|hours?\b|days?\b|weeks?\b|months?\b)", re.I)
_YEAR_FIGURE = re.compile(r"(?<![\w/£$.,])((?:19|20)\d\d)(?:\s*(?:/|-|–)\s*(\d\d))?(?![\w%.,]\d|\s?%)")


# A numbered part or kind: "segment 4", "Category 2", "cat 1", "tiers 1 and 2".
_NUMBERED_LABEL = re.compile(r"\b(segment|category|cat|tier|step|phase|stage|wave|cohort|band|level|type|section|annex|"
                             r"appendix|schedule|chapter|table|figure|paragraph|recommendation|principle|domain|"
                             r"objective|standard)s?\.?[\s-]+(\d+(?:\s*(?:,|and|or|to|-|–)\s*\d+)*)\b"
                             r"(?![\s-]*(?:year|month|week|day|point)s?\b)", re.I)  # "figure 10 Year Health Plan": a plan's name
_LABEL_NAMES = {"cat": "category"}


def _labels(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The text's numbered parts or kinds, by label: "Category 2 and segment 3 or 4" ->
    (("category", ("2",)), ("segment", ("3", "4")))."""
    found: dict[str, set[str]] = {}
    for match in _NUMBERED_LABEL.finditer(text):
        label = match.group(1).lower()
        found.setdefault(_LABEL_NAMES.get(label, label), set()).update(re.findall(r"\d+", match.group(2)))
    return tuple((label, tuple(sorted(numbers))) for label, numbers in found.items())


def labels_not_found(question: str, texts: list[str]) -> list[str]:
    """The numbered parts or kinds the question names ("section 75", "Category 1") that none of the
    texts names with that number: a question about section 75 agreements is not answered by
    passages that never speak of section 75, however close their other words."""
    stated: dict[str, set[str]] = {}
    for text in texts:
        for label, numbers in _labels(text):
            stated.setdefault(label, set()).update(numbers)
    return [f"{label} {number}" for label, numbers in _labels(question) for number in numbers
            if number not in stated.get(label, ())]


def _figures(text: str) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """The text's figures with a unit, by unit: "%", "minute", "hour", "day", "week", "month" and
    "year". Years are read without a unit ("March 2027", "2025/26")."""
    found: dict[str, set[float]] = {}
    for match in _UNIT_FIGURE.finditer(text):
        unit = match.group(3).lower()
        unit = "%" if unit.startswith(("%", "per")) else unit.rstrip("s")
        for number in filter(None, match.group(1, 2)):
            value = _NUMBER_VALUES.get(number.lower())  # "zero-hours" is 0.0, which is no word to parse
            found.setdefault(unit, set()).add(float(number.replace(",", "")) if value is None else value)
    for match in _YEAR_FIGURE.finditer(text):
        first = float(match.group(1))
        found.setdefault("year", set()).update({first, first + 1} if match.group(2) else {first})
    return tuple((unit, tuple(sorted(values))) for unit, values in found.items())


# A figure aimed at, not as it stands: "to 65% nationally", "will fall to 150 days", "a minimum
# 5% point improvement", "a target of £2bn".
_AIMED_FIGURE = re.compile(r"\b(?:to|target(?: of)?|aim of|ambition of|goal of|at least|no more than|"
                           r"(?:a )?(?:minimum|maximum)(?: of)?)\s+(?:(?:around|about|approximately|just|a|an)\s+)?"
                           r"£?\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|per ?cent|bn|billion|million|m|k)\b|%|"
                           r"\s+(?:minutes|hours|days|weeks|months|years)\b)?", re.I)
_PER_HEAD = re.compile(r"\bper\s+(?:head|person|capita|patient|resident|registered patient|weighted (?:head|population))\b|"
                       r"\b(?:for |of )?each (?:patient|person|resident)\b", re.I)
# "How many care coordinators per PCN?": a figure for each of them, not a total.
_PER_UNIT = re.compile(r"\bper\s+(?!cent\b)([A-Za-z]{2,})\b")
# "How does X compare with Y?": a sentence that compares, and names Y.
_COMPARE = re.compile(r"\bhow\s+(?:does|do|did|will|would|is|are)\b(.{3,120}?)\bcompare[sd]?\s+(?:with|to|against)\s+(.+)", re.I)
_COMPARING = re.compile(r"\b(?:than|compared|comparison|comparable|higher|lower|more|less|fewer|greater|smaller|"
                        r"similar|same as|whereas|versus|vs|relative to|above|below)\b", re.I)


def _compared_with(question: str) -> tuple[str, ...]:
    """The stems only the compared-with side of "how does X compare with Y" names; () for none."""
    match = _COMPARE.search(question)
    if not match:
        return ()
    one_side = set(tokens(match.group(1)))
    return tuple(dict.fromkeys(t for t in tokens(match.group(2)) if t not in one_side and not t.isdigit()
                               and t not in _GENERIC_GROUPS))


def _names_enough(terms: tuple[str, ...], words: Collection[str]) -> bool:
    """One or two particular words are all needed; of more, at least two and at least half."""
    needed = min(len(terms), max(2, (len(terms) + 1) // 2))
    return sum(term in words for term in terms) >= needed


def _for_each(sentence: str, unit: str) -> bool:
    """The sentence gives a figure for each ``unit`` (a stem): "per PCN", "each PCN", "a PCN"."""
    words = re.findall(r"[A-Za-z]+", sentence)
    return any(stem(word.lower()) == unit and index and words[index - 1].lower() in ("per", "each", "every", "a", "an", "one")
               for index, word in enumerate(words))


def _per_unit(question: str) -> str:
    """The stem of what the question asks a figure for each of ("per PCN" -> "pcn"); "" for a person
    (Asked.per_head reads those) or none."""
    if _PER_HEAD.search(question):
        return ""
    match = _PER_UNIT.search(question)
    word = match.group(1).lower() if match else ""
    return stem(word) if word and word not in STOPWORDS and word not in ("year", "annum", "week", "month", "day") else ""


_CURRENT = re.compile(r"\b(?:current(?:ly)?|at present|presently|to date|today(?:'s)?|so far|thus far|up to now|until now)\b", re.I)
# A worked example's figure ("the example trust's raw score of 1.53") is no figure as things stand.
_FUTURE = re.compile(r"\b(?:will|shall|going to)\b", re.I)
_EXAMPLE = re.compile(r"\b(?:example|for instance|il ?l ?ustrat\w*|hypothetical)\b", re.I)  # "ill ustrative": a ligature lost


# A figure and the plural noun it counts, up to two words on: "170 community diagnostic centres".
_COUNTED = re.compile(rf"(?<![\w.,£$])(?:\d[\d,]*|{_NUMBER_WORDS})\s+((?:[a-z-]+\s+){{0,2}}?[a-z-]{{3,}}s)\b", re.I)


def _counted(sentence: str) -> list[str]:
    """The stems of the things a sentence's figures count."""
    return [stems[-1] for match in _COUNTED.finditer(sentence) if (stems := tokens(match.group(1).split()[-1]))]


# Words that count the same things, and the word each stands for: a review's studies are its articles.
_COUNTED_AS = {stem(w): "study" for w in "study studies article articles paper papers publication publications report reports record records result results".split()}
# People of any kind: "how many people were interviewed" is answered by "50 council CEOs".
_ANYONE = frozenset(stem(w) for w in "people persons individuals".split())


# The measure words a question names ("what kappa score", "what vacancy rate"): the figure answers
# only when the sentence names the measure too.
_MEASURES = frozenset(stem(w) for w in ("score", "rate", "ratio", "rating", "index", "kappa", "agreement", "coefficient", "size"))


# Verbs that follow "how many X" ("how many people need to be in the room", "how many studies
# ended up being included"): the subject ends before them.
_VERBS = frozenset("""need needs make makes made get gets got take takes took sit sits sat go goes went
come comes came work works receive receives remain remains end ends met meet meets must may might
shall""".split())


# "By what percentage must ICBs cut their running costs?": what changes is measured, and "reduce
# their cost base by at least 1%" is no cut in running costs.
_CHANGED = re.compile(r"\b(?:by what (?:share|proportion|percentage)|how much|(?:a|the)\s+(?:[\w-]+\s+)?(?:percentage|proportion|share))\b.*?\b"
                      r"(?:cut|reduc|lower|increas|rais|grow|shrink)\w*\s+(?:(?:their|its|the|our)\s+)?(.*)", re.I)


def _subject(question: str) -> tuple[str, ...]:
    """The stems of what "how many X" (or "the number of X") counts or "what X score" measures:
    the words after the question words, up to the first stopword or verb (at most four)."""
    match = re.search(r"\b(?:how many|number of)\s+(?:(?:exactly|precisely|roughly|approximately|in total|altogether)\b\W*)?(.*)|"
                      r"\bwhat\s+(?:(?:is|are|was|were|will be)\s+)?(?:the\s+)?"
                      r"((?:[(\w-]+\s+){0,3}\(?(?:score|rate|ratio|rating|index|kappa|agreement|coefficient|effect size))\b(.*)",
                      question, re.I)
    if not match:
        return ()
    # After "how many", a word in -ed is a verb: "how many studies ended up being included".
    counted = _leading_terms(match.group(1), stop_at_ed=True) if match.group(1) is not None \
        else _leading_terms(match.group(2), stop_at_ed=False)  # "what pooled effect size"
    if not counted and match.group(1) is not None:
        # "... will train thousands more GPs - how many exactly?": what the question said there are more of
        more = re.search(r"\b(?:more|extra|new|additional)\s+([A-Za-z-]+s)\b", question)
        counted = tuple(tokens(more.group(1))) if more else ()
    return counted


# "How many extra appointments": "an additional 700,000 appointments" counts them. The words for more
# of a thing name one qualifier (Asked.about_something_else); "40 hospitals" still counts no new ones.
_INCREMENT = frozenset(stem(w) for w in "extra additional further new".split())


_WORKED_OUT = re.compile(r"\bhow (?:is|are|was|were|will)\s+(?:the\s+|an?\s+|each\s+)?([\w' -]{3,60}?)\s+(?:be\s+)?"
                         r"(?:worked out|calculated|computed|derived|determined|weighted|scored)\b", re.I)


def _worked_out(question: str) -> tuple[str, ...]:
    """The stems of what "how is X worked out" asks the working of ("capabl", "rate")."""
    match = _WORKED_OUT.search(question)
    return _leading_terms(match.group(1), stop_at_ed=False) if match else ()


# "When will the redesigned plan return templates be issued?": the thing dated, whose last word a
# sentence giving its date names ("the templates"); the spring of 2025 for the 10 Year Health Plan
# dates something else.
_DATED = re.compile(r"^\s*(?:and\s+|so\s+)?(?:when|(?:from|in|by)\s+(?:which|what)\s+(?:year|date|month))\s+(?:(?:exactly|roughly|precisely)\s+)?(?:will|is|are|should|does|do)\s+"
                    r"(?:the\s+|an?\s+|their\s+|its\s+)?(?P<what>(?:[\w'-]+\s+){0,5}?[\w'-]+?)\s+(?:be\s+|get\s+)?"
                    r"(?:published|publish(?:es|ing)?|launch(?:ed|es|ing)?|introduc(?:ed|ing)|releas(?:ed|ing)|issu(?:ed|ing)|"
                    r"announc(?:ed|ing)|come into|take effect|expire|kick in|go live|come in|coming|come out|be out|"
                    r"be available|start|starts|begin|begins|roll out|given|assigned|allocated|segmented|required)\b", re.I)


_DUE = frozenset(stem(w) for w in "due expected going set likely scheduled planned meant supposed about".split())


def _dated(question: str) -> tuple[str, ...]:
    """The stem of the thing "when will X be published" dates: X's last word ("templat"); () for none."""
    match = _DATED.search(question)
    if not match:
        return ()
    words = [t for t in tokens(match.group("what")) if not t.isdigit()]
    while words and words[-1] in _DUE:  # "the review due to be published": the review
        words.pop()
    return tuple(words[-1:])


def _changed(question: str) -> tuple[str, ...]:
    """The stems of what "by how much ... cut X" changes ("delayed transfers", "running costs")."""
    match = _CHANGED.search(question)
    return _leading_terms(match.group(1), stop_at_ed=False) if match else ()


# "What is the maximum caseload for ...", "what's the MHIS growth percentage", "what did the York
# programme cost to run": the thing measured, which a sentence stating the figure must name. A
# figure of another thing in the same passage ("a return of £4 for every £1", "12" after "the
# MHIS and work with providers to:") answers nothing about it. Words that name only the kind of
# figure, or only place it, are not the thing.
_WHAT_MEASURE = re.compile(r"^\s*what(?:'s|\s+(?:is|are|was|were|will\s+be|would\s+be|should\s+be))\s+"
                           r"(?:the\s+|an?\s+|their\s+|its\s+)?(?P<what>.*)|"
                           r"^\s*(?:what|how much)\s+(?:did|does|do|will|would)\s+.{3,80}?\s+(?P<verb>cost|spend|save|earn)\b", re.I)
_FIGURE_WORDS = frozenset(stem(w) for w in """figure number amount sum level percentage proportion share total value
maximum minimum max min exact precise typical average expected agreed set current overall actual planned annual
yearly monthly weekly target limit cap threshold ceiling per cent rate""".split())


# "What population size is recommended?": the size of a population, which the sentence must name.
_WHAT_SIZE = re.compile(r"\bwhat\s+(?P<what>(?:[\w-]+\s+){1,2}?)sizes?\b", re.I)


def _measured(question: str, names: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """The stems of the thing "what is the X" measures, less figure words and the question's names."""
    sized = _WHAT_SIZE.search(question)
    if sized:
        return tuple(tokens(sized.group("what")))
    match = _WHAT_MEASURE.search(question)
    if not match:
        return ()
    if match.group("verb"):
        return tuple(tokens(match.group("verb")))
    named = {term for name in names for term in name}
    return tuple(t for t in _leading_terms(match.group("what"), stop_at_ed=False)
                 if t not in _FIGURE_WORDS and t not in named and t not in _INCREMENT and not t.isdigit())


# A query typed as keywords ("MHIS growth percentage 2025/26", "NOF technical annex publication
# date"): no question word, no question mark.
_QUESTION_START = re.compile(r"^\W*(?:what|how|who|whom|whose|when|which|where|why|is|are|was|were|do|does|did|can|could|"
                             r"will|would|should|shall|must|may|has|have|had|tell|give|list|explain|describe|please)\b", re.I)


# "Of the 7% with complex needs, what percentage are children?": the share is of the cohort, and the
# sentence that gives it names who it is of: children, however general a group that is.
_SHARE_ARE = re.compile(r"(?<!\bby )\bwhat\s+(?:percentage|proportion|share)\s+(?:of\s+(?:them|these|those)\s+)?"
                        r"(?:are|is|were|will be)\s+(.*)", re.I)


def _share_who(question: str) -> tuple[str, ...]:
    """The stems of who "what percentage are X" asks the share of ("children"); () for other asks."""
    match = _SHARE_ARE.search(question)
    return _leading_terms(match.group(1), stop_at_ed=False) if match else ()


_QUESTION_WORD = re.compile(r"\b(?:what|how|which|when|who|where|why)\b", re.I)


def _keyword_subject(question: str, asks_at: int) -> tuple[str, ...]:
    """In a keyword query, the stems of what the figure is of: the words before the word that asks
    for it (at ``asks_at``: "MHIS growth" of "MHIS growth percentage"), at most the last four; () for
    a question put as a question, whose subject its own words say (or do not)."""
    if "?" in question or _QUESTION_START.search(question) or _QUESTION_WORD.search(question):
        return ()
    terms = [t for t in tokens(question[:asks_at]) if t not in _FIGURE_WORDS and not t.isdigit()]
    return tuple(terms[-4:])


def _leading_terms(text: str, stop_at_ed: bool) -> tuple[str, ...]:
    """The stems of the words up to the first stopword or verb: at most four words, or six when an
    "and" joins two that name one thing ("learning and evidence sites")."""
    found = re.findall(r"[\w'-]+", text)[:6]
    limit = 6 if any(word.lower() == "and" for word in found[1:4]) else 4
    words = []
    for index, word in enumerate(found[:limit]):
        lowered = word.lower()
        # "learning and evidence sites": one thing named in two words joined by "and"
        if lowered == "and" and words and index + 1 < len(found) and found[index + 1].lower() not in STOPWORDS:
            continue
        participle = stop_at_ed and lowered.endswith("ed") and len(lowered) > 4
        if participle and index == 0 and len(found) > 1 and found[1].lower() not in STOPWORDS | _VERBS \
                and not found[1].lower().endswith("ed"):
            continue  # "the number of scored metrics": "scored" describes what is counted
        if lowered in STOPWORDS or lowered in _VERBS or participle:
            break
        words.extend(tokens(word))
    return tuple(words)


# Who a share is usually of: these name no particular group ("patients" waiting 18 weeks and
# "patients" with hypertension differ in what follows).
_GENERIC_GROUPS = frozenset(stem(w) for w in """patients people population staff nhs adults children persons
residents organisations providers trusts systems services""".split())


def _share_of(question: str) -> tuple[str, ...] | None:
    """What a share is of: "patients with hypertension", "average length of stay", "NHS staff
    recruited internationally" - the words up to the first stopword other than a joining "of",
    "with" or "in" (at most five); None when the question asks for no share of anything. Enough of
    its particular words must be in a sentence that states it."""
    share = re.search(r"\b(?:percentage|proportion|share)\s+(?:(?:reduction|increase|cut|rise|fall)\s+)?"
                      r"(?:of|in)\s+(?:(?:the|a|an|each|every)\s+)?(.*)", question, re.I)
    if not share:
        return None
    words: list[str] = []
    for word in re.findall(r"[\w'&-]+", share.group(1))[:5]:
        lowered = word.lower()
        if lowered in ("of", "with", "in"):
            continue
        if lowered in STOPWORDS or lowered in _VERBS:
            break
        words.extend(token for token in tokens(word) if not token.isdigit())  # a year names no group
    return tuple(words)


# A numbered part of a document or scheme names it and counts nothing: "segments 1 and 2",
# "Step 4", "case study 7", "Table 3", "every Type 1 ED".
_LABEL = (r"\b(?:segment|step|table|figure|fig|case study|section|chapter|appendix|phase|stage|box|"
          r"annex|question|recommendation|type|tier|wave|cohort)s?\.?\s+\d+(?:\s*(?:,|and|or|to|-|–)\s*\d+)*\b")
_NOT_A_FIGURE = re.compile(r"\b(?:19|20)\d\d(?:\s*(?:/|-|–|to)\s*(?:19|20)?\d\d)?\b(?!\s?%)|"
                           r"\bsegments?\s+of\s+\d(?:\s*(?:,|and|or|to|-|–)\s*\d)*\b|"  # "a segment of 1 or 2"
                           r"\b(?:downrated|downgraded|upgraded|moved|placed|allocated|capped)\s+(?:to|in|at)\s+(?:segment\s+)?\d\b|"
                           r"\b\d+[- ]year (?:health )?plan\b|\bannex \w\b|" + _LABEL, re.I)
# For a count or a quantity, "five-year strategic commissioning plans" are plans of a kind; for a
# number of years they are the answer, so this is not in _NOT_A_FIGURE.
_YEARS_LONG = re.compile(rf"\b(?:\d+|{_NUMBER_WORDS})-year\b", re.I)
# A number with decimals is a measure ("a raw score of 1.53"), unless it is of millions ("1.2 million").
_DECIMAL = re.compile(r"(?<![\w.,])\d+\.\d+(?!\s*(?:million|billion|thousand|bn|m|k)\b)(?![\d.])", re.I)
_MEASURE_VALUE = re.compile(r"\b(?:score|rating|rate|ratio|index|grade)\s+of\s+\d+(?:\.\d+)?\b", re.I)
# A time of day says when in the day, not how many or how much ("end the 8am scramble").
_TIME_OF_DAY = re.compile(r"\b\d{1,2}(?:[:.]\d\d)?\s?(?:am|pm)\b", re.I)


_KINDS: list[tuple[re.Pattern, Asked]] = [
    (re.compile(r"\b(?:penalt\w*|fines?|fined|sanctions?)\b", re.I), Asked("penalty", "a penalty", _PENALTY)),
    # "What criteria must a system meet?", "which indicators will the evaluation use?": a sentence
    # that speaks of such a list ("the IFR criteria", "the following metrics"); one that only
    # repeats the phrase asked about ("in mature, highly performing systems") lists none.
    (re.compile(r"\b(?:what|which)\s+(?:[\w-]+\s+){0,2}(?:criteria|criterion|indicators|metrics|thresholds)\b", re.I),
     Asked("list", "the criteria", re.compile(r"\b(?:criteri(?:a|on)|indicators?|metrics?|measures|thresholds?|"
                                              r"conditions)\b", re.I))),
    # "Which tool did the review use?", "through which system can staff see it?": a tool or system by
    # its name ("the Mixed Methods Appraisal Tool (MMAT)"), not "validated tools".
    (re.compile(r"\b(?:which|what)\s+(?:(?!of\b)[\w-]+\s+){0,4}(?:tools?|software|platforms?|apps?|products?|system|compan(?:y|ies)|firms?|suppliers?|vendors?|contractors?)(?![\w-])", re.I),
     Asked("named", "a name", re.compile(r"(?!)"))),  # stated by the sentence's names (Asked.stated_in)
    # "What are the two new GP contracts called?": particular names, not "2 new contracts".
    (re.compile(r"\bwhat\s+(?:is|are|was|were|will)\b.{0,80}\bcalled\b|\bwhat\s+(?:is|are)\s+the\s+names?\s+of\b", re.I),
     Asked("named", "a name", re.compile(r"(?!)"))),
    # "Under which Act?": a named Act ("the Health and Care Act 2022"), not "new legislation".
    (re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(?:act|acts|legislation|statute|law)\b", re.I),
     Asked("act", "the name of an Act", _ACT)),
    # "In which towns will the first centres open?", "where will the office be based?": a place's name.
    (re.compile(r"\b(?:in|at)\s+(?:which|what)\s+(?:towns?|cit(?:y|ies)|places?|locations?|areas?|sites?|regions?|counties|county)\b|"
                r"\bwhich\s+(?:[\w-]+\s+)?(?:places|towns|cities|localities)\b|"
                r"\bwhere\s+(?:will|would|is|are|should|must)\b.{0,80}\b(?:based|located|built|opened|open|sited|situated|housed)\b", re.I),
     Asked("place", "a place", _PLACE)),
    # "What sickness rate is the NHS aiming to get down to?": a rate aimed at ("to 4%", "a target of
    # 4%"), not the rate today ("a sickness rate of 5.1%").
    (re.compile(r"\bwhat\b.{0,50}\b(?:rate|percentage|proportion|share|level)\b.{0,60}"
                r"\b(?:aim(?:s|ing|ed)?|ambition|goal|target|(?:get|bring|brought|got)\s+(?:it\s+|them\s+)?(?:down|up)\s+to)\b", re.I),
     Asked("quantity", "a target", _AIMED_AT)),
    # "By how much must costs fall?" is answered by a percentage as well as by a sum.
    # A share of spending is a percentage too.
    # A share is stated as one: "each provider" or "annual" states no percentage.
    (re.compile(r"\b(?:what|which)\s+(?:(?:is|are|was|were)\s+the\s+)?(?:\w+\s+){0,2}(?:share|proportion|percentage)\b|"
                r"\bby what (?:share|proportion|percentage)\b", re.I),
     Asked("share", "a figure", _SHARE)),
    # "By how much (in %) must MHIS spend grow?": a percentage, not the footnote "12" after the MHIS.
    (re.compile(r"\bby how much\b(?=.*\b(?:percentage|per cent)\b)", re.I), Asked("quantity", "a figure", _SHARE)),
    (re.compile(r"\bby how much\b", re.I), Asked("quantity", "a figure", _QUANTITY)),
    # "MHIS growth percentage ICBs must hit": a percentage, not the footnote "12" after the MHIS.
    # "... deliver their share of" is a part of a total, not a percentage.
    (re.compile(r"(?<!their )(?<!our )(?<!its )(?<!your )(?<!fair )\b(?:share|proportion|percentage|per cent)\b", re.I),
     Asked("quantity", "a figure", _SHARE)),
    # "What agency spend reduction are we expected to hit?", "what productivity improvement": a change
    # is asked for by its size, and "reduce agency expenditure as far as possible" gives none.
    (re.compile(r"\bwhat(?:'s|\s+is|\s+are|\s+was)?\s+(?:the\s+)?(?:[\w-]+\s+){0,4}?"
                r"(?:reduction|cut|increase|improvement|uplift|rise|growth)s?\b"
                r"(?!\s+(?:plans?|programmes?|schemes?|approach|strateg\w*|measures?|actions?)\b)", re.I),
     Asked("quantity", "a figure", _QUANTITY)),
    # "How much capital is the partnership expected to raise?": money raised is a sum, not a rise.
    (re.compile(r"\bhow much\b.*\b(?:capital|money|funds|funding|finance|investment)\b.*\brais\w*", re.I),
     Asked("amount", "an amount", _MONEY)),
    (re.compile(r"\bhow much\b.*\b(?:cut|reduc|lower|increas|rais|grow)\w*", re.I),
     Asked("amount", "an amount", _MONEY_OR_SHARE)),
    # "How much of hospital spend do they account for?", "how much of our budget": a part of a whole,
    # said as a share ("46% of hospital costs") as often as a sum.
    (re.compile(r"\bhow much of\s+(?:the\s+|our\s+|their\s+|its\s+|an?\s+)?(?:[\w-]+\s+){0,3}?(?:spend\w*|costs?|budgets?|"
                r"funding|money|income|allocations?|resources?)\b", re.I),
     Asked("quantity", "a figure", _MONEY_OR_SHARE)),
    (re.compile(r"\bhow (?:much|large|big)\b.*\b(?:fund\w*|capital|cost\w*|budget|money|pay|paid|spend\w*|"
                r"sav\w*|invest\w*|receive|allocat\w*|bonus|worth|grant)\b|"
                r"\b(?:what|which)\b.{0,40}\b(?:budget|cost|price|salary|remuneration|fee|sum|value|(?:social |financial )?return)\b|"
                r"^\s*what\s+(?:(?:extra|additional|new|capital|ring-?fenced)\s+)?(?:funding|money|grant|allocation)\b", re.I),
     Asked("amount", "an amount", _MONEY)),
    (re.compile(r"\bhow (?:often|frequently)\b|\bwhat frequency\b|\bhow many times\b", re.I),
     Asked("frequency", "a frequency", _FREQUENCY)),
    # "Will the centres be open on Sundays?": a sentence that speaks of such days or times; "6 days a
    # week" does not say which.
    (re.compile(r"\bopen\s+(?:on|at|over|during|in the)\s+(?:sundays?|saturdays?|weekends?|bank holidays?|evenings?|nights?|christmas)\b|"
                r"\bopen\s+(?:overnight|24/7|round the clock|out of hours)\b", re.I),
     Asked("opening", "when they open", re.compile(r"\b(?:sundays?|saturdays?|weekends?|bank holidays?|evenings?|nights?|overnight|"
                                                   r"christmas|7 days|seven days|every day|24/7|round the clock|out of hours)\b", re.I))),
    # Opening hours are stated by hours or times of day ("12 hours a day", "8am to 8pm").
    (re.compile(r"\bopening (?:hours|times)\b|\bwhat hours\b|\bhours of (?:opening|operation|service)\b", re.I),
     Asked("hours", "opening hours", _HOURS)),
    # A time limit is a length of time: "within 28 days", "three months", not a date or a count.
    (re.compile(r"\btime ?limits?\b|\btime ?frames?\b|\btimescales?\b", re.I),
     Asked("duration", "a time limit", _DURATION)),
    # "Which financial years should the plans cover?": a year or a span of them answers.
    # "Over what period" asks as often for days ("a sensor lasts 10 days") as for years: not a period.
    (re.compile(r"\b(?:what|which)\s+(?:[\w-]+\s+)?years\b", re.I), Asked("period", "a period", _PERIOD)),
    # "How is the capability rating worked out?": a sentence that says how ("calculated as", "weighted",
    # "based on"), not one that only says the rating is used.
    (_WORKED_OUT, Asked("method", "how it is worked out", re.compile(
         r"\b(?:calculat\w*|comput\w*|derived|formula|weight\w*|based on|(?:sum|average|mean) of|combin\w*|"
         r"aggregat\w*|determined by|worked out|scored (?:by|on|against|using)|multipl\w*|divid\w*|ratio of)\b", re.I))),
    # "Which of the seven domains had the biggest effect?": a sentence that compares them, not one
    # that lists them.
    (re.compile(r"\bwhich\b.{0,80}\b(?:had|has|have|was|were|is|are|made|makes|gave|gives|showed|shows)\s+(?:the\s+)?"
                r"(?:biggest|largest|greatest|strongest|highest|best|worst|lowest|smallest|most|least)\b", re.I),
     Asked("ranking", "which came first", re.compile(
         r"\b(?:biggest|largest|greatest|strongest|highest|best|worst|lowest|smallest|most|least|more|less|fewer|"
         r"compared|than|ranked|top)\b", re.I))),
    # "How does the NHS's sickness rate compare with the rate in adult social care?": a sentence that
    # compares, with what the question names (Asked.compared_with).
    (_COMPARE, Asked("comparison", "a comparison", _COMPARING)),
    # "What is the Category 2 ambulance response time?": a length of time ("30 minutes"), not a share
    # of calls or a count of ambulances.
    (re.compile(r"\bwhat(?:'s|\s+is|\s+are|\s+should)?\b.{0,60}\b(?:response|waiting|wait|turnaround|handover)\s+times?\b", re.I),
     Asked("duration", "a time", _DURATION)),
    # "How long must a provider stay?": a length of time ("45 minutes", "three years") or an end
    # ("until March 2026"); "each quarter" is neither.
    (re.compile(r"\bhow long\b", re.I), Asked("duration", "a length of time", _DURATION_OR_END)),
    # "How many days does a trust have to appeal?", "within how many hours": a length of time,
    # and so is "what length of stay, in days"; "each of the 5 segments" is no answer.
    (re.compile(rf"\bhow many\s+(?:[\w-]+\s+)?{_UNITS}\b|\bin (?:days|weeks|months)\b", re.I),
     Asked("duration", "a length of time", _DURATION)),
    (re.compile(r"\bhow many\b|\b(?:what|which)\s+(?:is\s+the\s+)?(?:\w+\s+)?number\b|"
                r"\b(?:below|above|under|over) what\b", re.I), Asked("count", "a number", _COUNT)),
    # "Which ICBs are clustering?", "which areas have been chosen?": particular names, after a count
    # ("how many sites will there be, and which ICBs host them?" asks first for the number).
    (re.compile(r"\bwhich\s+(?:[\w-]+\s+)?(?:icbs?|trusts?|councils?|local authorit(?:y|ies))\b|"
                r"\bwhich\s+(?:[\w-]+\s+)?(?:areas|sites|systems|organisations|providers)\s+(?:have|has|were|was|are|will)\s+"
                r"(?:been\s+|be\s+)?(?:chosen|selected|picked|named|identified|announced|designated|approved)\b", re.I),
     Asked("named", "a name", re.compile(r"(?!)"))),
    # "The exact date", "the exact December deadline": a day of a month, not a month or a year.
    (re.compile(rf"\b(?:exact|precise|specific)\s+(?:(?:{_MONTHS})\s+)?(?:date|deadline|day)\b", re.I), Asked("date", "a date", _DAY)),
    # A date: "by when", "deadline", "what date". A bare "when" asks as often for circumstances
    # ("When can safety needles be prescribed?") as for a date, so it asks for no kind ...
    (re.compile(r"^(?:and\s+|so\s+)?by\s+when\b|\bdeadline\b|\b(?:publication|release|launch|go-live|start)\s+date\b|"
                r"\b(?:what|which|by what|on what|in what)\s+(?:date|year|month|day)\b", re.I),
     Asked("date", "a date", _DATE)),
    # ... but "when will the annex be published?", "when does the failure regime kick in?" do.
    (re.compile(r"(?:^\s*|\b(?:know|ask|asking|wondering|tell me|find out|idea|sure)\s+)when (?:(?:exactly|roughly|precisely) )?(?:[\w'-]+\s+){0,3}?(?:will|is|are|should|does|do)\b.{0,100}\b(?:published|publish(?:es|ing)?|launch(?:ed|es|ing)?|"
                r"introduc(?:ed|ing)|releas(?:ed|ing)|issu(?:ed|ing)|announc(?:ed|ing)|come into (?:force|effect)|take effect|"
                r"expire|kick in|go live|come in|coming (?:out|in)|come out|be out|be available|"
                r"start|starts|begin|begins|roll out)\b", re.I),
     Asked("date", "a date", _DATE)),
    # "When was the review registered on PROSPERO?": a thing done once, on a date. ("When was the ICB
    # established?" is left open: the sentence that dates it ranks well below those naming the ICB.)
    (re.compile(r"^\s*when (?:exactly )?(?:was|were|did)\b.{0,100}\b(?:registered|register|signed|sign|conducted|conduct|"
                r"carried out|carry out|searched|search)\b", re.I),
     Asked("date", "a date", _DATE)),
    # A maximum or a target is a figure: "assign a care coordinator to every person" states none.
    (re.compile(r"(?<!as a )(?<!at a )\b(?:maximum|minimum)\b|\bwhat(?:'s|\s+is)?\s+(?:the\s+)?(?:(?!of\b)[\w&/-]+\s+){0,4}?target\b(?!s)|"
                r"\bis there (?:a|an|any) (?:[\w-]+\s+){0,2}(?:target|limit|cap|threshold|ceiling)\b", re.I),
     Asked("quantity", "a figure", _COUNT)),
    # "What caseload is a care coordinator expected to carry?": a number of people.
    # "What population size is recommended for a neighbourhood?": a number, and "2% to 4% of the
    # population" is a share of one, not its size.
    (re.compile(r"\bwhat\s+(?:(?:is|are)\s+the\s+)?(?:[\w-]+\s+){0,2}sizes?\b", re.I),
     Asked("quantity", "a figure", _SIZE)),
    (re.compile(r"\bwhat\s+(?:(?:is|are)\s+the\s+)?(?:[\w-]+\s+){0,2}(?:caseload|headcount)s?\b", re.I),
     Asked("quantity", "a figure", _COUNT)),
    (re.compile(r"\bhow (?:much|often|long|old)\b|"
                r"\bwhat(?:'s|\s+(?:is|was|are|were))\s+(?:the\s+)?(?:[\w&/-]+\s+){0,5}?(?:rate|score|average)\b"
                r"(?!\s+(?:used|for|based|method\w*|calculat\w*|mean\w*|measur\w*|worked|made|about)\b)|"
                r"\bwhat (?:rate|percentage|proportion|ratio)\b|\bwhat (?:[(\w-]+\s+){0,3}\(?(?:score|rating|kappa|agreement|coefficient|"
                r"effect size|odds ratio|hazard ratio|relative risk|confidence interval)\b", re.I),
     Asked("quantity", "a figure", _QUANTITY)),
    # "Is there an email address for sharing examples?", "what's the phone number": an address or a
    # number to use ("share with england.ops-planning@nhs.net"), which need not say "email address".
    (re.compile(r"\b(?:is there|are there|what(?:'s|\s+is|\s+are)|which)\s+(?:[\w-]+\s+){0,3}?(?:e-?mail(?: address)?|contact details|"
                r"(?:tele)?phone number|web ?(?:site|page|address)|mailbox|url)\b", re.I),
     Asked("contact", "a contact", re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|\bwww\.|\b0\d{3,4}\s?\d{3}\s?\d{3,4}\b"))),
    # "Why does the NHS have 19% more staff?": a sentence that gives a reason ("As the rates cannot be
    # combined ...", "to ensure", "because"), not one that only states the fact again.
    (re.compile(r"^\W*(?:(?:so|and|but)\s+)?why\b|\bwhat (?:is|was|are|were) the reasons?\b|\bfor what reasons?\b|"
                r"\bwhat (?:caused|causes|explains|explained|drove|drives)\b", re.I),
     Asked("reason", "a reason", re.compile(r"\b(?:because|due to|owing to|as a result|result(?:s|ed)? (?:of|from)|so that|"
                                          r"in order to|to ensure|to allow|to enable|to avoid|to make sure|given that|"
                                          r"reasons?|why|driven by|caused by|reflect\w*|explain\w*|lead(?:s|ing)? to|led to)\b|"
                                          rf"\bsince\s+(?!\d|the\b|then\b|(?:{_MONTHS})\b)|"  # "since 2021/22" says when
                                          r"(?:^|[.;:,]\s*)as\s+(?!part\b|a minimum\b|well\b|set out\b|soon\b|shown\b|described\b|"
                                          r"above\b|below\b|such\b|follows\b|outlined\b|noted\b|of\b|at\b|from\b|with\b|in\b)", re.I))),
    # "Can a trust appeal its segment?", "will patients be able to opt out?": a sentence that speaks of
    # an appeal or an opt-out, not one that only describes how segments are given.
    (re.compile(r"^\s*(?:can|could|may|will|would|do|does|is|are)\b.{0,80}?\b(?:appeal\w*|opt(?:[- ]?out| out)|challenge|"
                r"contest|dispute|complain\w*|object to)\b", re.I),
     Asked("recourse", "a way to appeal or opt out", re.compile(
         r"\b(?:appeal\w*|opt(?:s|ed|ing)?[- ]?out|challeng\w*|contest\w*|disput\w*|complain\w*|objection\w*|"
         r"request (?:a )?review|review of the decision|right to)\b", re.I))),
]


# "Do we have to run X through the Provider Selection Regime?", "does the framework require Healthwatch
# to sign off the plans?", "are ICBs going to be segmented?", "is there a dedicated funding stream for
# X?": a yes or no about a requirement or a thing's existence. A sentence answers only when it speaks
# of what is required or said to exist: the verb, and enough of the words after it. "The ICB will
# comply with the Provider Selection Regime when commissioning" says nothing of running intermediate
# care through it.
_REQUIRED = re.compile(r"^\s*(?:do|does|did|will|would|is|are|can|could|should|must|shall)\b(?P<who>.{0,80}?)\b"
                       r"(?:(?:have|has|need|needs|ought|going) to|(?:required|obliged|expected|allowed|permitted|able) to|"
                       r"require[sd]?\s+(?P<whom>(?:[\w'-]+\s+){1,5}?)to)\s+(?:be\s+)?(?P<verb>[a-z]+)\b(?P<what>[^?]*)", re.I)
# "Will GP practices get an extra payment for ...?": whether a thing is received, said by the thing.
_RECEIVES = re.compile(r"^\s*(?:will|would|do|does|can|could)\b.{0,80}?\b(?:get|receive|be (?:given|paid|offered))\s+"
                       r"(?P<what>(?:an?|any|some|extra|additional)\b[^?]*)", re.I)
_THERE_IS = re.compile(r"^\s*(?:so\s+|and\s+)?(?:is|are)\s+there\s+(?:a|an|any)\s+(?P<what>[^?]*)", re.I)
# Verbs that say little of their own ("have a pharmacy on site", "set up a pooled budget"): the
# object says what is asked.
_LIGHT_VERBS = frozenset(stem(w) for w in "have has be get make do take put set keep give go".split())
_PREPOSITION = re.compile(r"\s+(?:at|on|for|through|to|with|in|by|from|under|within|into|about|across|via|as|when|where|which|that|who)\s+", re.I)
_FILLER = frozenset(stem(w) for w in "onwards still actually really ever also currently now already every".split())
# "Does the planning framework say ICBs have to ...": the requirement is of what follows the saying.
# "Is there a kidney function level at which it has to be stopped?": the requirement is of "it", the
# relative clause's subject, not of the level.
_SUBJECT_FOLLOWS = re.compile(r"\b(?:say|says|said|state|states|mention|mentions|suggest|suggests|expect|expects)\s+(?:that\s+)?|"
                              r"\b(?:which|that|who|whom|where|when)\b", re.I)
# Where the object of the ask ends: a second question ("and if so how much", "and how would we apply").
_ASK_ENDS = re.compile(r",|\s+-\s+|\s+and\s+(?:if|how|what|who|when|where|which|why|is|are|can|does|do)\b", re.I)


def _asked_whether(question: str) -> Asked | None:
    """The yes-or-no question's verb and object as an Asked of kind "whether" (``stated``: the verb and
    who must do it; ``subject``: the object's stems); None for other questions."""
    for sentence in (question[start:end] for start, end in sentence_spans(question) if "?" in question[start:end]):
        required = _REQUIRED.search(sentence)
        there = _THERE_IS.search(sentence) or _RECEIVES.search(sentence)
        if not (required or there):
            continue
        # The object's first phrase says what is asked about: "a community pharmacy" of "a community
        # pharmacy on site", "a dedicated funding stream" of "... for voluntary sector organisations".
        what = _PREPOSITION.split(_ASK_ENDS.split((required or there).group("what"), maxsplit=1)[0], maxsplit=1)[0]
        verb = stem(required.group("verb").lower()) if required else ""
        # Who is required to do it ("require Healthwatch to sign off") must be named, with the verb, and
        # so must the head of what the requirement is of ("every neighbourhood health centre" -> "centr"):
        # "ICBs should connect people with community pharmacy" says nothing of what centres must have.
        whom = [t for t in tokens(required.group("whom") or "") if t not in _COMMON_NAME_WORDS] if required else []
        of = [t for t in tokens(_SUBJECT_FOLLOWS.split(required.group("who"))[-1]) if t not in _COMMON_NAME_WORDS
              and t not in _GENERIC_GROUPS and t not in _FILLER] if required else []
        needed = [word for word in [verb, *whom, *of[-1:]] if word and word not in _LIGHT_VERBS]
        # Years place the ask ("from 2026/27 onwards"); the sentence need not repeat them.
        # "Extra" and "additional" say the same (_INCREMENT): the thing is what must be named.
        stems = tuple(dict.fromkeys(t for t in tokens(_PERIOD.sub(" ", what))
                                    if t not in _COMMON_NAME_WORDS and t not in _FILLER and t not in _INCREMENT))
        if not stems and not needed:
            continue
        stated = re.compile("".join(rf"(?=.*\b{re.escape(word)})" for word in needed), re.I | re.S)
        return Asked("whether", "whether it is so", stated, subject=stems)
    return None


# Names every document of this library carries or that name the documents themselves: the sentence
# that answers need not repeat them ("How much will the 10 Year Health Plan invest ...?"). Roles and
# parts of a document written with a capital ("the Chair", "Appendix") name nothing particular.
_COMMON_NAME_WORDS = frozenset(stem(w) for w in f"""nhs england english uk britain british government
department health care social plan plans year years framework guidance planning operational priorities
oversight methodology manual neighbourhood guidelines executive summary national local united kingdom
secretary state dhsc nhse {_MONTHS.replace('|', ' ')} monday tuesday wednesday thursday friday
chair chairs board boards member members constitution council committee panel minister director officer
chief appendix section table figure annex part chapter schedule clause""".split())


# "Which areas have been picked as learning and evidence sites?": the name that answers is said of
# what the question says of it. "Melbourne: Veritas Health ... evidence from a systems evaluation"
# names a place but not as a learning site; "a very small number of learning and evidence sites"
# speaks of them but names none.
_WHICH_CLASS = re.compile(r"\bwhich\s+(?:[\w-]+\s+){0,2}?([\w-]+)(?=\s+(?:have|has|had|are|is|were|was|will|would|did|do|does|"
                          r"can|could|must|should|may|might)\b)", re.I)
_QUESTION_WORDS = frozenset(stem(w) for w in "which what who whom whose where when how going currently".split())


# "Which ICB has adopted the framework?", "which trusts are in segment 5?": a body of that kind by its
# name ("North Central London ICB", "Leeds Teaching Hospitals NHS Trust", "Peterborough City Council");
# "the PIP" or "Integrated Neighbourhoods" names none.
_BODIES = [(re.compile(r"\bwhich\s+(?:[\w-]+\s+)?icbs?\b|\bwhich\s+(?:[\w-]+\s+)?integrated care (?:boards?|systems?)\b", re.I),
            re.compile(r"\b(?:ICBs?|ICSs?|Integrated Care (?:Boards?|Systems?))\b")),
           (re.compile(r"\bwhich\s+(?:[\w-]+\s+)?(?:trusts?|hospitals?)\b", re.I),
            re.compile(r"\b(?:Trusts?|Hospitals?|Foundation|Infirmary)\b")),
           (re.compile(r"\bwhich\s+(?:[\w-]+\s+)?(?:councils?|local authorit(?:y|ies))\b", re.I),
            re.compile(r"\b(?:Councils?|Authorit(?:y|ies)|Borough|County|City)\b"))]


def _asked_body(question: str) -> re.Pattern | None:
    """The pattern a name of the body "which ICB / trust / council" asks for holds; None for other asks."""
    return next((name for asks, name in _BODIES if asks.search(question)), None)


@lru_cache(maxsize=256)
def _predicate(question: str) -> tuple[str, ...]:
    """The stems of what a "which X" question says of X: the words that qualify X and those after it to
    the end of that ask ("... use to judge study quality, and what approach ...": use, judge, study, quality), less the
    question words, the names and the words every document of the library shares."""
    match = _WHICH_CLASS.search(question)
    if not match:
        return ()
    modifiers = question[match.start():match.start(1)].split(None, 1)[1:]  # "which risk stratification tool"
    left = tokens(" ".join(modifiers) + " " + _ASK_ENDS.split(question[match.end(1):].split("?")[0], maxsplit=1)[0])
    names = {t for name in _particular_names(question) for t in name}
    return tuple(dict.fromkeys(t for t in left if t not in _QUESTION_WORDS and t not in _COMMON_NAME_WORDS
                               and t not in names and not t.isdigit()))


def _holds_predicate(sentence: str, question: str) -> bool:
    """At least a third of what the question says of the thing it asks to be named is in the sentence
    ("risk of bias ... using" of "use to assess study quality and risk of bias": 3 of 7)."""
    predicate = _predicate(question)
    if not predicate:
        return True
    words = set(tokens(sentence))
    return 3 * sum(term in words for term in predicate) >= len(predicate)


@lru_cache(maxsize=512)
def _words(question: str) -> frozenset[str]:
    """The question's stems, read once a question rather than once for each sentence weighed."""
    return frozenset(tokens(question))


_PIECES = re.compile(r"\s*[|:;•]\s*")


def _particular_names(text: str, classes: bool = True) -> tuple[tuple[str, ...], ...]:
    """The names in a question or sentence (capitalised runs, acronyms) that are not common to the
    whole library, each as its particular stems. Without ``classes``, a plural acronym ("CEOs",
    "GPs") is left out: in a sentence it names a kind of people or bodies, not a particular one."""
    found = []
    for name in entities(text):
        if not classes and re.fullmatch(r"[A-Z]{2,}s", name):
            continue
        stems = tuple(dict.fromkeys(t for t in tokens(name) if not t.isdigit() and len(t) > 1
                                    and t not in _COMMON_NAME_WORDS and t not in STOPWORDS))
        if stems:
            found.append(stems)
    return tuple(found)


# "When the headquarters are merged, how much will it save?": the opening clause sets a scene;
# the question is what follows the comma.
_SCENE = re.compile(r"^\s*(?:when|if|once|after)\b[^,?]{3,120},\s*(?=(?:how|what|which|who|where|why)\b)", re.I)


# "Who will lead the investigation?", "who has been appointed to chair it?", "which organisation will
# host the office?": a name, stated only by a sentence saying who does that ("chaired by the
# Secretary of State"); a sentence that names the body without the role ("establish a new
# College") states no one.
_WHO_ROLE = re.compile(r"\b(?:who|which (?:organisation|organization|body|person|team|trust|icb|department))\s+"
                       r"(?:(?:will|should|is to|is going to|would|shall|must|is expected to|is due to)\s+)?"
                       r"(?:(?:has|have|had)\s+)?(?:be(?:en)?\s+)?(?:(?:was|were|is|are)\s+)?"
                       r"(?:(?:appointed|chosen|named|selected|asked|commissioned)\s+(?:as\s+|to\s+)?)?"
                       r"(lead|leads|led|leading|chair|chairs|chaired|chairing|head|heads|headed|heading|host|hosts|hosted|hosting|"
                       r"approve|approves|approved|signs? off|signed off)\b", re.I)
_ROLE_OF = {"led": "lead", "sign off": "approve", "signs off": "approve", "signed off": "approve",
            "approves": "approve", "approved": "approve"} | {
    form: role for role in ("lead", "chair", "head", "host", "approve")
    for form in (role, role + "s", role + ("d" if role.endswith("e") else "ed"), role.rstrip("e") + "ing")}
_ROLE_FORMS = {"approve": r"approv\w*|sign(?:s|ed|ing)?[- ]off|agreed by|sign-off|authoris\w*|authoriz\w*",
               "lead": r"lead|leads|leading|led", "chair": r"chair|chairs|chaired|chairing|chairman|chairwoman|chairperson",
               "head": r"head|heads|headed|heading", "host": r"host|hosts|hosted|hosting"}


# "Which organisation will the government partner with to run the scheme?": a partner by name
# ("in partnership with the Wellcome Trust"), not "partnerships with industry".
_WHO_PARTNER = re.compile(r"\b(?:who|whom|which (?:organisations?|compan(?:y|ies)|bod(?:y|ies)|partners?|charit(?:y|ies)|"
                          r"firms?|suppliers?))\b.{0,60}\bpartner(?:s|ed|ing)?\s+with\b|"
                          r"\bin partnership with (?:whom|which)\b", re.I)
_PARTNER_NAMED = re.compile(r"\bpartner(?:ship|ships|s|ed|ing)?\s+with\s+(?:the\s+)?(?-i:[A-Z])", re.I)


# "Who carries the clinical accountability?", "who is responsible for signing it off?": a sentence
# that says who is accountable or responsible, not one listing the members of a team.
_WHO_ACCOUNTABLE = re.compile(r"\bwho(?:'s)?\s+(?:(?:is|are|will be|would be|carries|holds|has|bears|takes)\s+)?(?:the\s+)?"
                              r"(?:(?:overall|ultimate|ultimately|clinical|legal|final|statutory)\s+)?"
                              r"(?:accountab\w*|responsib\w*|liab\w*)", re.I)
_ACCOUNTABLE = re.compile(r"\b(?:accountab\w*|responsib\w*|liab\w*)", re.I)


def _asked_for_role(question: str) -> Asked | None:
    if _WHO_PARTNER.search(question):
        return Asked("role", "a name", _PARTNER_NAMED)
    if _WHO_ACCOUNTABLE.search(question):
        return Asked("role", "a name", _ACCOUNTABLE)
    match = _WHO_ROLE.search(question)
    if not match:
        return None
    role = _ROLE_OF[match.group(1).lower()]
    return Asked("role", "a name", re.compile(rf"\b(?:{_ROLE_FORMS[role]})\b", re.I))


# A target set for a year: "the target for March 2027", "the 2027 target"; not "the 2025/26 guidance's target".
_TARGET_YEAR = re.compile(rf"\btargets?\s+(?:for|by|in)\s+(?:the\s+)?(?:end\s+of\s+)?(?:(?:{_MONTHS})\s+)?(?:19|20)\d\d\b|"
                          r"\b(?:19|20)\d\d(?:/\d\d)?\s+targets?\b", re.I)


# Typed in a hurry: "whats the target", "MHIS growth % ICBs must hit".
_WHATS = re.compile(r"\bwhats\b", re.I)
_PERCENT_WORD = re.compile(r"(?<![\d.])\s*%")


@lru_cache(maxsize=512)
def asked_for(question: str) -> Asked | None:
    """The specific kind of thing the question asks for, or None for an open question. Cached: the
    assistant, its refusal check and the extractive answerer each ask it of the same question, and
    an ``Asked`` is frozen."""
    question = _PERCENT_WORD.sub(" percentage ", _WHATS.sub("what's", question))
    negated = tuple(match.group(1) for match in _NON.finditer(question))  # a scene's too, as stated_in read it
    question = _SCENE.sub("", question)
    # The names that place the ask are the asking sentence's: "Our PCN might host a hub so I'm reading
    # up." sets a scene, and a sentence need not name the PCN to answer what follows.
    # An abbreviation the question spells out ("CDCs (community diagnostic centre)") is named by its long form.
    names, figures, labels = _particular_names(_asking(long_forms_only(question))), _figures(question), _labels(question)
    role = _asked_for_role(question)
    if role:
        return replace(role, names=names, figures=figures, negated=negated, labels=labels)
    for pattern, asked in _KINDS:
        asking = pattern.search(question)
        if asking:
            placed = replace(asked, names=names, figures=figures, negated=negated, labels=labels,
                             per_head=bool(_PER_HEAD.search(question)), per_unit=_per_unit(question),
                             compared_with=_compared_with(question),
                             current=asked.kind in ("share", "quantity", "amount", "count") and bool(_CURRENT.search(question)),
                             target_year=bool(_TARGET_YEAR.search(question)))
            share_of = _share_of(question)
            if share_of is not None:
                return replace(placed, share_of=share_of)
            counted, changed = _subject(question), _changed(question)
            if placed.kind == "method":  # "how is the capability rating worked out": said of that rating
                counted, changed = (), _worked_out(question)
            elif placed.kind in ("quantity", "amount") and not (counted or changed):
                changed = _measured(question, names)
            elif placed.kind == "date" and not counted:
                changed = _dated(question)
            elif placed.kind == "share" and not (counted or changed):
                changed = _share_who(question)
            if not (counted or changed) and placed.kind in ("quantity", "share", "amount", "count", "date"):
                changed = _keyword_subject(question, asking.start())
            return replace(placed, subject=counted or changed, subject_named=bool(changed) and not counted)
    whether = _asked_whether(question)
    return replace(whether, names=names, figures=figures, negated=negated, labels=labels) if whether else None


# Staff matters that policy documents do not cover, however close a passage's words come:
# "income" is no answer to income tax, "email accreditation" none to a password reset.
_STAFF_TOPICS = re.compile(
    r"\b(?:passwords?|log ?in|locked out|payslips?|salary|salaries|wages?|pay (?:band|scale|rise|award)s?|"
    r"band \d\b|annual leave|holidays? (?:allowance|entitlement)|carry over|parking|car park|"
    r"income tax|tax code|personal allowance|business rates|remuneration|mileage|expenses? claims?|claim (?:\w+ )?expenses|sick pay|"
    r"overtime|maternity pay|pension contributions?|(?:nhs )?pension scheme|contribution rates?|laptop|printer|wi-?fi|it helpdesk|"
    r"report(?:ing)? (?:my |a )?(?:sickness|sick|absence)|call(?:ing)? in sick|sick note|fit note|shift swaps?|swap(?:ping)? (?:a )?shifts?|"
    r"(?:statutory and )?mandatory training|statutory training|information governance training|e-?learning modules?|"
    r"dbs checks?|occupational health|uniforms?|annual appraisal|payroll|"
    r"book (?:a |the )?(?:meeting )?rooms?|meeting rooms?|out[- ]of[- ]office|"
    r"(?:staff )?canteen|staff restaurant|cafeteria|(?:carer'?s|compassionate|bereavement|parental|paternity|"
    r"special|study|unpaid) leave|salary sacrifice|car lease|lease car|id badges?|staff discounts?)\b", re.I)


# The asker speaking of themselves: "how do I reset my password", "can I carry over leave". No
# answerable question of the tuning sets is put this way, and 58 of their off-topic ones are.
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|I'll|[Mm]e|[Mm]y|[Mm]ine|[Mm]yself)\b")
# "Part I", "Type I", "Annex I" number a part or a kind; nobody is speaking.
_ROMAN_ONE = re.compile(r"\b(?:part|type|annex|schedule|phase|tier|section|chapter|appendix|volume|stage|"
                        r"level|class|category|wave|article)\s+I\b", re.I)


# "My patient takes gliclazide ...", "what must my ICB publish": a professional asking about the
# people or the body they work for, which policy documents do speak to.
_MY_WORK = re.compile(r"\b[Mm]y\s+(?:[\w-]+\s+)?(?:patients?|clients?|service users?|residents?|caseload|population|"
                      r"icb|trust|council|local authority|system|area|practice|pcn|organisation|organization)\b", re.I)


_DASH = re.compile(r"\s+[-–—]\s+")
_MY = re.compile(r"\b[Mm]y\b")


def _asking(question: str, dash: bool = True) -> str:
    """The sentences of a question that ask (those with a question mark, else the last), without the
    sentences of context before them, nor (with ``dash``) the context before a dash in the same sentence."""
    sentences = [question[start:end] for start, end in sentence_spans(question)] or [question]
    if dash:  # "I saw a figure for a York scheme quoted in a paper - what was it?": the ask follows the dash.
        sentences = [part for s in sentences for part in _DASH.split(s)]
    return " ".join([s for s in sentences if "?" in s] or sentences[-1:])


def personal(question: str) -> bool:
    """The question is about the asker's own circumstances: the question itself is put in the first
    person singular, or it asks about something of theirs named just before a dash ("My tax code looks
    wrong - who can fix it?"). A sentence of context before it ("Our PCN might host a hub so I'm reading
    up."), or a source the asker saw ("I saw a figure in a paper - what was it?"), does not make it personal."""
    def plain(text: str) -> str:
        return _MY_WORK.sub(" ", _ROMAN_ONE.sub(" ", text))
    return bool(_FIRST_PERSON.search(plain(_asking(question))) or _MY.search(plain(_asking(question, dash=False))))


# "I'm a journalist writing about ...", "As a GP partner, ...", "Healthwatch volunteer here -": who is
# asking, not what about. A word there that no document holds ("journalist") is no topic they miss.
_SELF_DESCRIPTION = re.compile(r"\b(?:I'm|I am|I work as)\s+(?:an?|the)\s+[^,.:;?!]{1,80}?(?=[,.:;?!]|\s[-–—]\s|$)|"
                               r"(?:^|(?<=[.!?]\s))\s*(?:as|speaking as)\s+(?:an?|the)\s+[^,.:;?!]{1,80}?(?=[,.:;?!]|\s[-–—]\s|\sI\s)|"
                               r"^[^,.:;?!]{1,60}?\s+here(?=\s*[,.:;!]|\s[-–—]\s)", re.I)


def without_self_description(question: str) -> str:
    """The question less the asker's description of themselves (for the check of unknown names)."""
    return _SELF_DESCRIPTION.sub(" ", question)


def staff_topic(question: str) -> str | None:
    """The staff matter (pay, leave, parking, tax, IT) a question is about, or None."""
    match = _STAFF_TOPICS.search(question)
    return match.group(0) if match else None


def mentions(topic: str, sentence: str) -> bool:
    return bool(re.search(rf"\b{re.escape(topic)}\b", sentence, re.I))
