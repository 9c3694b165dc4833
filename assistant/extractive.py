"""The offline answerer: pick the sentences of the retrieved passages that answer the question,
quote them verbatim, and cite each one. Deterministic; the only model calls are the question's
vector and, for sentences not seen before, their vectors (cached)."""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .answers import Citation, Draft, Hit
from .asked import asked_for
from .citations import MIN_CLAIM_TERMS
from .english import INSTRUCTION, NUMBERING, entities, sentence_spans, tokens
from .followup import rewrite
from .listing import announced_count, items_after, listed_thing
from .scoring import DEFAULT_SCORING, Scoring


@dataclass
class Candidate:
    hit_rank: int
    hit: Hit
    start: int
    end: int
    score: float
    coverage: float = 0.0  # share of the question's IDF-weighted terms in the sentence
    bonuses: int = 0  # a number for a "how many" question, a name for a "who" question
    penalty: float = 0.0  # passage rank, an overlong sentence
    states: bool = False  # states the specific thing the question asks for (assistant/asked.py)
    # Where the sentence itself ends, when ``end`` reaches on over the lines of a list it introduces
    sentence_end: int | None = None

    @property
    def text(self) -> str:
        return self.hit.text[self.start:self.end]

    @property
    def sentence(self) -> str:
        """The sentence alone, without the lines of a list it introduces."""
        return self.hit.text[self.start:self.sentence_end or self.end]


# Questions whose answer is a number, a dose, a date or a duration.
_WANTS_NUMBER = re.compile(
    r"\b(how (many|much|long|often|old|soon)|when|dose|dosage|doses|percentage|proportion|amount|"
    r"threshold|range|level|target|length|term|age|timescale|deadline|frequency|within|cost)\b", re.I)
_HAS_NUMBER = re.compile(r"\d")
# Questions whose answer names people, bodies or places.
_WANTS_NAME = re.compile(r"\b(who|whom|whose|which|where|name|named)\b", re.I)
# "Who ...?" is answered by a role as often as by a name: "assign a care coordinator to every person".
_ROLES = re.compile(r"\b(?:\w+ )?(?:coordinator|co-ordinator|manager|lead|leader|officer|director|chair|"
                    r"chief executive|commissioner|clinician|practitioner|nurse|pharmacist|consultant|"
                    r"secretary|registrar|panel|committee|board|governor|navigator|worker|champion)s?\b", re.I)



class SentenceVectors:
    """Vectors of passage sentences, computed on first use and kept (LRU): a passage that answers
    one question tends to come back for the next, and its sentences then cost no model call."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], capacity: int = 20_000):
        self.encode = encode
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, candidates: list[Candidate], chars: int) -> np.ndarray:
        """The vectors of the candidates' first ``chars`` characters (Scoring.embedded_chars), cached."""
        keys = [(c.hit.chunk_id, c.start, c.end, chars) for c in candidates]
        with self._lock:
            found = {key: self._cache[key] for key in keys if key in self._cache}
            for key in found:
                self._cache.move_to_end(key)
        missing = [c for c, key in zip(candidates, keys) if key not in found]
        if missing:
            for cand, vector in zip(missing, self.encode([c.text[:chars] for c in missing])):
                found[(cand.hit.chunk_id, cand.start, cand.end, chars)] = vector
            with self._lock:
                for key in keys:
                    self._cache[key] = found[key]
                while len(self._cache) > self.capacity:
                    self._cache.popitem(last=False)
        return np.stack([found[key] for key in keys])


class ExtractiveAnswerer:
    """Scores every sentence of the passages by the question's words (IDF-weighted), then
    re-scores a short-list by meaning (cosine of sentence and question vectors)."""

    name = "extractive"

    def __init__(self, idf: Callable[[str], float], sentence_vectors: SentenceVectors | None = None,
                 max_sentences: int = 4, scoring: Scoring = DEFAULT_SCORING,
                 read_on: Callable[[Hit], list[Hit]] | None = None):
        self.idf = idf
        self.sentence_vectors = sentence_vectors
        self.max_sentences = max_sentences
        self.scoring = scoring
        # The document's chunks after a hit, in order: a list announced in one passage may stand
        # in the next ones (assistant/listing.py). None: only the hit's own text is read on.
        self.read_on = read_on

    def ranked(self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None) -> list[Candidate]:
        """The short-listed sentences, best answer first; ``[0].score`` is what refusal reads."""
        p = self.scoring
        every = sorted(self._candidates(question, hits), key=lambda c: -c.score)
        # The best sentences by words, and the best two that state what the question asks for (a
        # frequency, an amount): those may share few of its words ("rerun" / "run ... quarterly").
        candidates = every[:p.short_list] + [c for c in every[p.short_list:] if c.states][:2]
        if candidates and query_vector is not None and self.sentence_vectors is not None:
            meaning = self.sentence_vectors.of(candidates, p.embedded_chars) @ query_vector
            for cand, cosine in zip(candidates, meaning):
                cand.score = (p.weights["words"] * cand.coverage + p.weights["sentence"] * float(cosine)
                              + p.weights["passage"] * max(cand.hit.similarity, 0.0)
                              + p.bonus * cand.bonuses + cand.penalty)
            candidates.sort(key=lambda c: -c.score)
        _read_on_to_what_states(candidates)
        return candidates

    def search_query(self, question: str, history: list[dict] | None) -> str:
        return rewrite(question, history)

    def write(self, question: str, search_query: str, hits: list[Hit], ranked: list[Candidate]) -> Iterator[Draft]:
        text, citations = self.answer(search_query, hits, ranked=ranked)
        yield Draft(text, citations, None)  # quoted sentences: nothing generated to check for support

    def answer(self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None,
               ranked: list[Candidate] | None = None) -> tuple[str, list[Citation]]:
        chosen = self._choose(ranked if ranked is not None else self.ranked(question, hits, query_vector))
        listing, items = self._listing(question, chosen)
        if listing is not None:
            # "What are the six core components?": the sentence announcing them and the six, read in
            # full, are the answer; the other near-best sentences only restate the subject.
            chosen = [listing]
        parts, citations = [], []
        for cand in chosen:
            # A list read in full is quoted item by item, after the sentence announcing it alone
            # (not the table caption and column headings between them).
            quote = cand.sentence if cand is listing else cand.text
            parts.append(f"{_as_sentence(quote)} [{self._cite(citations, cand.hit, quote)}]")
            if cand is listing:
                parts.append("\n" + "\n".join(f"• {item.text} [{self._cite(citations, item.hit, item.text)}]"
                                                for item in items) + "\n")
        text = ""
        for part in parts:  # sentences run on; a list stands on its own lines
            text += part if part.startswith("\n") or not text or text.endswith("\n") else " " + part
        return text.strip(), citations

    def _listing(self, question: str, chosen: list[Candidate]) -> tuple[Candidate | None, list]:
        """The first chosen sentence that announces the items the question asks for, with all of
        them found after it ("6 core components (A to F)" and A to F); (None, []) when there is none."""
        for cand in chosen:
            count = announced_count(question, cand.text)
            items = items_after(cand.hit, cand.sentence_end or cand.end, count, self.read_on) if count else []
            if items:
                return cand, items
        return None, []

    @staticmethod
    def _cite(citations: list[Citation], hit: Hit, quote: str) -> int:
        n = len(citations) + 1
        citations.append(Citation(n=n, source=hit.source, title=hit.title, page=hit.page, chunk_id=hit.chunk_id,
                                  quote=quote, verified=False, context=hit.text, ocr=hit.ocr))
        return n

    def _choose(self, ranked: list[Candidate]) -> list[Candidate]:
        if not ranked:
            return []
        best = ranked[0].score
        picked: list[Candidate] = []
        # A question for a specific thing (a frequency, an amount) is answered by the sentences that
        # state one, whatever their rank among the near-best; sentences on the subject that state
        # none only fill the answer out.
        stating = [c for c in ranked if c.states and c.score >= self.scoring.pick_share * best][:2]
        for cand in stating + ranked:
            if cand in picked:
                continue
            if cand.score < self.scoring.pick_share * best or len(picked) == self.max_sentences:
                break
            if not any(_overlaps(cand, other) for other in picked):
                picked.append(cand)
        # Read in document order: passages by rank, sentences by position within a passage.
        return sorted(picked, key=lambda c: (c.hit_rank, c.start))

    def _candidates(self, question: str, hits: list[Hit]) -> list[Candidate]:
        p = self.scoring
        absent = self.idf("\x00no such term")  # the IDF of a word no passage holds
        terms = {self._known_form(t, absent) for t in tokens(question)}
        weights = {t: self.idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        wants_number = bool(_WANTS_NUMBER.search(question))
        wants_name = bool(_WANTS_NAME.search(question))
        asked_names = {e.lower() for e in entities(question)}
        asked_roles = {r.lower() for r in _ROLES.findall(question)}
        listed = listed_thing(question)
        asked = asked_for(question)
        candidates: list[Candidate] = []
        seen: set[str] = set()
        for rank, hit in enumerate(hits):
            title_terms = set(tokens(hit.title))
            title_key = re.sub(r"\W+", " ", (hit.title or "").lower()).strip()
            for start, end in _with_run_ons(hit.text, _with_headings(hit.text, sentence_spans(hit.text))):
                plain_end, end = end, _with_list(hit.text, start, end)
                introduces_list = end > plain_end
                sentence = hit.text[start:end]
                key = re.sub(r"\W+", " ", sentence.lower()).strip()
                if key in seen or len(sentence.split()) < 5:
                    continue
                seen.add(key)
                if INSTRUCTION.search(sentence):
                    continue
                words = set(tokens(sentence))
                if len(words) < MIN_CLAIM_TERMS:
                    continue  # "Funding is conditional on this." cannot stand as an answer on its own
                # Terms found only in the document's title count half: they place the sentence
                # in the right document without saying it answers.
                coverage = sum(w if t in words else p.title_term_weight * w if t in title_terms else 0.0
                               for t, w in weights.items()) / total
                states = bool(asked and asked.stated_in(sentence, question))
                # "How often": a frequency earns the bonus, not any number.
                bonuses = int(wants_number and (states if asked and asked.kind == "frequency"
                                                else bool(_HAS_NUMBER.search(sentence))))
                bonuses += int(wants_name and (any(e.lower() not in asked_names for e in entities(sentence))
                                               or bool({r.lower() for r in _ROLES.findall(sentence)} - asked_roles)))
                # "Which domains": the lead-in to a list of them ("We will provide domain scores for:"),
                # above any sentence that only names a body.
                bonuses += 2 * int(bool(listed) and introduces_list and listed in tokens(hit.text[start:plain_end]))
                penalty = -p.rank_penalty * rank
                if not sentence.rstrip().endswith((".", "?", "!", ":", "”", '"', ")")) and len(sentence.split()) < 10:
                    continue  # a heading is never an answer on its own
                if key in title_key and not sentence.rstrip().endswith((".", "?", "!")):
                    # nor is the document's title printed at its head, however long (a title taken
                    # from a document's first sentence is a sentence, and may answer)
                    continue
                if len(sentence) > p.long_sentence_chars:
                    penalty -= p.long_sentence_penalty
                # The short-list score: words, and passage relevance for sentences that answer in
                # other words than the question's.
                score = (p.word_score["words"] * coverage + p.word_score["passage"] * max(hit.similarity, 0.0)
                         + p.word_score["bonus"] * bonuses + penalty)
                candidates.append(Candidate(rank, hit, start, end, score, coverage, bonuses, penalty, states,
                                            sentence_end=plain_end))
        return candidates


    def _known_form(self, term: str, absent: float) -> str:
        """A question word no passage holds (its IDF is ``absent``), read without its prefix when
        that is a word they hold: "rerun" asks about what the documents call "run"; unread, it
        outweighs every other word."""
        if self.idf(term) < absent - 1e-9:
            return term
        for prefix in ("re", "pre", "un", "co", "non", "sub"):
            rest = term[len(prefix):]
            if term.startswith(prefix) and len(rest) >= 3 and self.idf(rest) < absent - 1e-9:
                return rest
        return term


# A sentence that goes on about the one before it: "The schemes - which include initiatives in East
# Sussex, ..." after "NHS England has also highlighted five schemes".
_GOES_ON = re.compile(r"^\W*(?:(?:The|These|Those|Such)\s+([\w-]+)|They|It|This|Each|All of them)\b")


def _read_on_to_what_states(candidates: list[Candidate]) -> None:
    """A sentence that states what the question asks for, going on from a better one just before it
    in the same passage, answers as well as that one: the question's words are in the sentence that
    announces the thing ("five schemes"), its particulars in the next. It is ranked right after it.
    ``candidates`` are sorted best first, and stay so."""
    lifted = False
    for cand in candidates:
        goes_on = _GOES_ON.match(cand.sentence) if cand.states else None
        if not goes_on:
            continue
        for before in candidates:
            if before.score <= cand.score or before.hit.chunk_id != cand.hit.chunk_id or before.end > cand.start:
                continue
            between = cand.hit.text[before.end:cand.start]
            if goes_on.group(1):
                # "The schemes" goes on from a sentence about schemes, one sentence back at most
                if len(sentence_spans(between.strip())) > 1 \
                        or not set(tokens(goes_on.group(1))).intersection(tokens(before.sentence)):
                    continue
            elif between.strip():
                continue  # "They", "It": the sentence just before
            cand.score, lifted = before.score - 1e-3, True
            break
    if lifted:
        candidates.sort(key=lambda c: -c.score)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    if a.hit.chunk_id == b.hit.chunk_id and a.start < b.end and b.start < a.end:
        return True
    return a.text in b.text or b.text in a.text  # the same sentence from overlapping chunks


_NUMBERED = re.compile(r"(?:^|\n)\s*" + NUMBERING + r"\s")


def _with_headings(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a heading line to the sentence under it: "Dosage and Administration / 10mg once
    daily." answers a dose question; either half alone does not."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out:
            prev_start, prev_end = out[-1]
            heading = text[prev_start:prev_end]
            # A heading starts with a capital ("yes, please / provide details" is a form's text), and
            # a numbered paragraph ("46. All applications ...") stands on its own without one.
            if (len(heading.split()) <= 8 and not heading.rstrip().endswith((".", "?", "!", ";", ",", "”", '"'))
                    and heading[:1].isupper() and not _NUMBERED.search(text[prev_end:start + 6])
                    and text[prev_end:start].count("\n") == 1):  # a blank line ends a heading's reach
                out[-1] = (prev_start, end)
                continue
        out.append((start, end))
    return out


# A line that stops on one of these words was cut, not finished: "• invest up to £120 million to
# develop more" goes on in the next line of the conversion.
_DANGLING = re.compile(r"\b(?:to|more|less|the|a|an|of|and|or|for|with|in|by|on|at|from|into|than|as|per|"
                       r"whose|which|that|their|its|our|up|new|will|be|is|are|under|over|between)\s*$", re.I)

_ITEM_JOINER = re.compile(r"[,;]\s*(?:and|or)\s*$", re.I)


def _with_run_ons(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a line cut off mid-phrase to the line that follows it: a bullet split by a two-column
    conversion keeps its figure and its subject together only when read on."""
    out: list[tuple[int, int]] = []
    joined = False
    for start, end in spans:
        previous = text[out[-1][0]:out[-1][1]] if out else ""
        # "..., and" / "...; or" ends an item of a list of conditions; the next item stands apart.
        if previous and not joined and _DANGLING.search(previous) and not _ITEM_JOINER.search(previous):
            out[-1] = (out[-1][0], end)
            joined = True  # one join: a run of cut lines is a table, not a sentence
            continue
        out.append((start, end))
        joined = False
    return out


# "... in the following situations:" / "... the five core principles shown below."
_LEAD_IN = re.compile(r"(?::|\b(?:below|following|as follows)\.)\s*$")


def _with_list(text: str, start: int, end: int, limit: int = 450) -> int:
    """A sentence that introduces a list ("stopped in the following situations:") is only an
    answer together with the list: extend it over the following lines, up to a limit."""
    if not _LEAD_IN.search(text[start:end]):
        return end
    stop = end
    for line in re.finditer(r"\n([^\n]+)", text[end:]):
        candidate = end + line.end()
        if candidate - start > limit:
            break
        stop = candidate
    return stop


def _as_sentence(quote: str) -> str:
    return quote.strip()
