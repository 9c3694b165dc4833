"""Assistant.ask(question, history): rewrite follow-ups, retrieve, answer, verify citations."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from access.policy import ANONYMOUS, Access, User
from index.embedding import Embedder
from index.facts import STATUSES, DocumentFacts, version_numbers
from index.settings import Settings
from index.store import ChromaStore, FileRecord

from .answers import Answer, Answerer, Draft, Hit
from .abbreviations import expand as expand_abbreviations, long_forms_only
from .asked import asked_for, labels_not_found, mentions, personal, staff_topic, without_self_description
from .citations import verify
from .currency import Change, Catalogue, annotate, changes, prefer_current
from .english import normalise_question, tokens
from .extractive import ExtractiveAnswerer, SentenceVectors
from .langchain_retriever import HybridRetriever, to_hit
from .scoring import DEFAULT_SCORING, Scoring
from .errors import UsageError
from .search import Filters, HybridSearcher, Mode, date_bound, hit_from_chunk

REFUSAL = ("The documents in the index do not cover this question, so I cannot answer it from them. "
           "Try rephrasing it with the names, programmes or documents you have in mind.")


def not_stated(asked, hits: list[Hit]) -> str:
    """A near miss: the documents are about the subject but state no amount, date or number."""
    titles = list(dict.fromkeys(h.title or Path(h.source).name for h in hits))[:2]
    where = " and ".join(f"“{t}”" for t in titles)
    if asked.kind == "whether":  # a yes or no they neither give nor imply
        return (f"The documents in the index do not say whether this is so, so I cannot answer yes or no. "
                f"The closest passages, in {where}, discuss the subject without saying it.")
    them = "them" if asked.kind == "list" else "one"
    return (f"The documents in the index do not state {asked.label} for this, so I cannot give {them}. "
            f"The closest passages, in {where}, discuss the subject without stating it.")


OFF_TOPIC = ("The documents in the index are health and social care policy and guidance; none of them covers "
             "{topic}, so I cannot answer this from them. Staff matters such as pay, leave, parking, tax and IT "
             "are for your organisation's HR, payroll or IT service.")
PERSONAL = ("The documents in the index are health and social care policy and guidance; none of them answers "
            "this question about your own circumstances, so I cannot answer it from them. Staff matters such as "
            "pay, leave, parking, tax and IT are for your organisation's HR, payroll or IT service.")
NOT_IN_CHOSEN = ("The documents chosen in the search filters do not answer this question. Clear the filters "
                 "to search every document.")
NOT_IN_CHOSEN_ELSEWHERE = ("The documents chosen in the search filters do not answer this question; {where}, outside "
                           "them, comes much closer. Clear the filters to search every document.")


EMPTY_QUESTION = "Please type a question in words, for example: What does the NHS mandate say about councils?"
OTHER_SCRIPT = ("The documents in the index are in English, and this question has no words in the Latin "
                "alphabet to search them with. Please ask in English, for example: What does the NHS "
                "mandate say about councils?")


class Assistant:
    """Cheap to construct; the embedding model and keyword index load on first use (or ``warm_up()``).

    ``store`` is a folder for the embedded Chroma store or an http(s) URL of a Chroma server.
    ``chat_model`` overrides the LLM chosen by settings (tests pass a fake one here); ``scoring``
    the tuned numbers of retrieval and answering (assistant/scoring.py; benches pass variants)."""

    def __init__(self, store: str | Path | None = None, settings: Settings | None = None,
                 answerer: str | None = None, chat_model=None, embedder: Embedder | None = None,
                 scoring: Scoring = DEFAULT_SCORING):
        settings = settings or Settings()
        if store is not None:
            store = str(store)
            update = {"chroma_url": store} if store.startswith(("http://", "https://")) else {"store": Path(store)}
            settings = settings.model_copy(update=update)
        self.settings = settings
        self.answerer_name = answerer or settings.answerer
        self.store = ChromaStore(settings)
        self.embedder = embedder or Embedder.from_settings(settings)
        self.scoring = scoring
        self.searcher = HybridSearcher(self.store, self.embedder, settings.candidates, settings.fusion,
                                       settings.rrf_k, scoring)
        self._chat_model = chat_model
        self._answerers: dict[str, object] = {}
        self.catalogue = Catalogue(self.store)
        self.access = Access(settings)

    def warm_up(self) -> None:
        self.searcher.warm_up()

    # --- who reads what ----------------------------------------------------------------------
    def readable(self, user: User | None = None) -> frozenset[str] | None:
        """The documents ``user`` (None: the anonymous user) may read; None when that is every
        document, so that searches need no filter. Every method that hands out passages or names
        documents searches inside this set (access/policy.py)."""
        present = self.catalogue.libraries()
        libraries = self.access.libraries(user or ANONYMOUS, present)
        return None if libraries == present else self.catalogue.sources_in(libraries)

    def facts(self, user: User | None = None) -> dict[str, DocumentFacts]:
        """The facts of every document ``user`` may read (assistant/currency.py), by source."""
        readable = self.readable(user)
        every = self.catalogue.facts()
        return every if readable is None else {s: f for s, f in every.items() if s in readable}

    def may_read(self, source: str, user: User | None = None) -> bool:
        readable = self.readable(user)
        return readable is None or source in readable

    # --- documents ---------------------------------------------------------------------------
    def documents(self, user: User | None = None) -> list[FileRecord]:
        readable = self.readable(user)
        records = self.store.manifest(chunk_ids=False).values()
        return sorted((r for r in records if readable is None or r.source in readable), key=lambda r: r.title.lower())

    # --- search ------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, sources: list[str] | None = None,
               date_from: str | None = None, date_to: str | None = None, mode: Mode = "hybrid",
               as_of: str | None = None, user: User | None = None) -> list[Hit]:
        """The passages that match; with ``as_of`` (YYYY-MM-DD), only from the versions in force on
        that date, otherwise preferring current versions to superseded ones (assistant/currency.py)."""
        query = normalise_question(query)[: self.settings.max_question_chars]
        if not tokens(query, keep_stopwords=True):
            return []
        query = self._spelled_out(query, self.readable(user))
        hits = self.searcher.search(query, k or self.settings.top_k,
                                    self._filters(sources, date_from, date_to, as_of, user), mode)
        return hits if as_of else prefer_current(hits, self.catalogue)

    def as_retriever(self, k: int | None = None, sources: list[str] | None = None, date_from: str | None = None,
                     date_to: str | None = None, mode: Mode = "hybrid", as_of: str | None = None,
                     user: User | None = None) -> HybridRetriever:
        """The same search as a LangChain retriever (Documents with source, page and chunk_id)."""
        return HybridRetriever(searcher=self.searcher, k=k or self.settings.top_k,
                               filters=self._filters(sources, date_from, date_to, as_of, user), mode=mode)

    def _filters(self, sources, date_from, date_to, as_of: str | None, user: User | None) -> Filters:
        """The search filter: the chosen documents and dates, inside what ``user`` may read and,
        "as of" a date, what was in force on it."""
        allowed = self.readable(user)
        if as_of:
            in_force = self.catalogue.in_force(date_bound(as_of, last=True))
            allowed = in_force if allowed is None else allowed & in_force
        return Filters(sources, date_from, date_to, allowed)

    def document_rows(self, sort: str = "title", user: User | None = None) -> list[dict]:
        """Every document ``user`` may read, with its facts, for lists (sorted by ``sort``; dates newest first)."""
        rows = [{"source": source, "library": facts.library, "title": facts.title or Path(source).name, "publisher": facts.publisher,
                 "published": facts.published, "updated": facts.updated, "version": facts.version,
                 "status": facts.status, "review_by": facts.review_by, "superseded_by": facts.superseded_by,
                 "previous": facts.previous, "past_review": facts.past_review()}
                for source, facts in self.facts(user).items()]
        title = lambda r: r["title"].lower()  # noqa: E731
        if sort == "version":
            return sorted(rows, key=lambda r: (version_numbers(r["version"]), title(r)), reverse=True)
        if sort in ("published", "updated", "review_by"):
            return sorted(rows, key=lambda r: (r[sort] or "", title(r)), reverse=sort != "review_by")
        if sort == "status":  # drafts, withdrawn and superseded documents first: what needs looking at
            rank = {status: i for i, status in enumerate(reversed(STATUSES))}
            return sorted(rows, key=lambda r: (rank.get(r["status"], 0), title(r)))
        return sorted(rows, key=title)

    def find_document(self, name: str, user: User | None = None) -> str:
        """The source of the one document ``user`` may read whose path is, or whose file name contains,
        name (the error counts only those: it never tells of a document they may not read)."""
        known = list(self.facts(user))
        if name in known:
            return name
        matches = [s for s in known if name.lower() in Path(s).name.lower()]
        if len(matches) != 1:
            raise UsageError(f"'{name}' matches {len(matches)} indexed documents; give more of its name"
                             if matches else f"no indexed document is called '{name}'")
        return matches[0]

    # --- versions ----------------------------------------------------------------------------
    def changes(self, source: str, topic: str = "", since: str | None = None,
                user: User | None = None) -> list[Change]:
        """What changed in a document since its previous version (or since ``since``, another
        version's source): sentences added, removed and changed, those about ``topic`` only when given."""
        for wanted in (source, since):
            if wanted and not self.may_read(wanted, user):
                raise UsageError(f"{Path(wanted).name} is not in the index")  # the same words as for a missing one
        chain = self.catalogue.versions(source)
        if since is None:
            position = chain.index(source) if source in chain else 0
            if position == 0:
                raise UsageError(f"no earlier version of {Path(source).name} is indexed")
            since = chain[position - 1]
        return changes(self.document_text(since), self.document_text(source), topic)

    def document_text(self, source: str, user: User | None = None) -> str:
        """A document's cleaned text as the index holds it, rebuilt from its chunks' page offsets."""
        record = self.store.file_records([source]) if self.may_read(source, user) else []
        if not record:
            raise UsageError(f"{source} is not in the index")
        pages: dict[int, list] = {}
        for chunk in self.store.get_chunks(record[0].chunk_ids):
            pages.setdefault(int(chunk.metadata.get("page") or 0), []).append(chunk)
        parts = []
        for page in sorted(pages):
            covered, text = 0, ""
            for chunk in sorted(pages[page], key=lambda c: c.metadata.get("start", 0)):
                start = int(chunk.metadata.get("start", 0))
                text += chunk.text[max(0, covered - start):] if start < covered else ("\n" if text else "") + chunk.text
                covered = max(covered, int(chunk.metadata.get("end", start + len(chunk.text))))
            parts.append(text)
        return "\n\n".join(parts)

    # --- answers -----------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None, **options) -> Answer:
        answer = None
        for item in self.stream(question, history, **options):
            if isinstance(item, Answer):
                answer = item
        return answer

    def stream(self, question: str, history: list[dict] | None = None, *, k: int | None = None,
               sources: list[str] | None = None, date_from: str | None = None, date_to: str | None = None,
               answerer: str | None = None, as_of: str | None = None,
               user: User | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the finished Answer (always last)."""
        kind = answerer or self.answerer_name
        clean = normalise_question(question)[: self.settings.max_question_chars]
        if not tokens(clean):
            message = OTHER_SCRIPT if any(ch.isalpha() for ch in clean) else EMPTY_QUESTION
            yield message
            yield Answer(question=question, answer=message, refused=True, answerer=kind)
            return
        engine = self._answerer(kind)
        started = time.perf_counter()
        readable = self.readable(user)
        search_query = self._spelled_out(engine.search_query(clean, history), readable)
        retriever = self.as_retriever(k, sources, date_from, date_to, as_of=as_of, user=user)
        hits = [to_hit(document) for document in retriever.invoke(search_query)]
        if not as_of:
            hits = prefer_current(hits, self.catalogue)
        query_vector = self.embedder.encode_query(search_query)  # kept by the retrieval just made
        timings = {"retrieve": (time.perf_counter() - started) * 1000}
        started = time.perf_counter()
        ranked = self._answerer("extractive").ranked(search_query, hits, query_vector) if hits else []
        asked = asked_for(search_query)
        if asked and hits and not self._states(ranked):
            # A second look before "not stated": in a long document the passage that states the
            # figure may rank just below the ones that share the question's words.
            deeper = [to_hit(d) for d in self.as_retriever((k or self.settings.top_k) * 2, sources, date_from,
                                                           date_to, as_of=as_of, user=user).invoke(search_query)]
            deeper = deeper if as_of else prefer_current(deeper, self.catalogue)
            deeper_ranked = self._answerer("extractive").ranked(search_query, deeper, query_vector)
            if self._states(deeper_ranked):
                hits, ranked = deeper, deeper_ranked
        filtered = Filters(sources, date_from, date_to).active()
        refusal = self._refusal(search_query, hits, ranked, filtered=filtered, readable=readable)
        if refusal is None and filtered:
            refusal = self._better_outside(search_query, hits, ranked, k, query_vector,
                                           self._filters(None, None, None, as_of, user))
        text, citations, claims, streamed = "", [], None, False
        if refusal is None:
            for piece in engine.write(clean, search_query, hits, ranked):
                if isinstance(piece, Draft):
                    text, citations, claims = piece
                else:
                    streamed = True
                    yield piece
        if citations:
            verify(citations, self._stored_texts(citations), claims)
            if claims is not None:
                # A generated sentence whose citations no passage supports is dropped ("PWNED [1]"
                # came back as an answer with one unverified citation); nothing left is a refusal.
                from .llm import keep_supported

                text, citations = keep_supported(citations, claims)
        if not citations:
            text = refusal or REFUSAL
        if not streamed:
            yield text
        timings["answer"] = (time.perf_counter() - started) * 1000
        annotate(citations, self.catalogue, readable)
        yield Answer(question=question, answer=text, refused=not citations, citations=citations,
                     timings_ms=timings, search_query=search_query, hits=hits, answerer=kind,
                     as_of=date_bound(as_of, last=True) if as_of else None)

    def _spelled_out(self, question: str, readable: frozenset[str] | None) -> str:
        """The question with the long form after each abbreviation the documents ``readable`` (None:
        all) never use ("CDCs" -> "CDCs (community diagnostic centre)"): they spell it out."""
        filters = Filters(allowed=readable) if readable is not None else None
        return expand_abbreviations(question, lambda word: self.searcher.holds(word, filters))

    def _stored_texts(self, citations) -> dict[str, str]:
        """Chunk texts as the store holds them now: a citation is checked against the index,
        not against the copy retrieval handed to the answerer."""
        chunks = self.store.get_chunks(list(dict.fromkeys(c.chunk_id for c in citations)))
        return {c.id: c.text for c in chunks}

    def _refusal(self, query: str, hits: list[Hit], ranked, filtered: bool = False,
                 readable: frozenset[str] | None = None) -> str | None:
        """Why the documents cannot answer, or None. They cannot when the question names something
        no indexed passage mentions, when no passage is close to the question, or when no sentence
        of the passages scores as an answer: related in topic is not the same as answering it.
        The sentence score is the extractive answerer's, whichever answerer writes the reply."""
        unknown = self.searcher.unknown_names(without_self_description(long_forms_only(query)),
                                              Filters(allowed=readable) if readable is not None else None)
        if unknown:
            names = " or ".join(f"“{word}”" for word in unknown)
            return (f"The documents in the index do not mention {names}, so they do not cover this question. "
                    "Check the spelling, or rephrase it with the names, programmes or documents you have in mind.")
        # A label in a document's title or file name places all of its passages ("Tirzepatide for type 2 diabetes").
        missing = labels_not_found(query, [f"{h.title or ''}\n{Path(h.source).stem.replace('-', ' ')}\n{h.text}" for h in hits])
        if hits and missing:
            names = " or ".join(f"“{label}”" for label in missing)
            return (f"The passages closest to this question do not mention {names}, so the documents do not answer "
                    "it. Check the number, or ask without it to see what they say on the subject.")
        if not hits or max(h.similarity for h in hits) < self.settings.refusal_min_similarity:
            return NOT_IN_CHOSEN if filtered else REFUSAL
        if not ranked or ranked[0].score < self.settings.refusal_min_score:
            return NOT_IN_CHOSEN if filtered else REFUSAL
        topic = staff_topic(query)
        if topic and not any(mentions(topic, c.text) for c in ranked):
            return OFF_TOPIC.format(topic=topic)
        if personal(query) and ranked[0].score < self.settings.refusal_personal_score:
            return PERSONAL
        asked = asked_for(query)
        if asked and not self._states(ranked):
            return not_stated(asked, hits)
        return None

    def _states(self, ranked) -> bool:
        """A sentence close enough to the best one states the specific thing asked for."""
        return any(c.states and c.score >= self.settings.refusal_stated_share * ranked[0].score for c in ranked)

    def _better_outside(self, query: str, hits: list[Hit], ranked, k: int | None, query_vector,
                        everything: Filters) -> str | None:
        """Under a filter the passages come from the chosen documents whatever they say. When the
        whole library (all the user may read) answers much better (its best sentence scores ``refusal_filter_gap`` more)
        from a document outside the filter, the chosen documents are only loosely related: say so,
        and where the answer is, rather than quote them as if they answered."""
        everywhere = self.searcher.search(query, k or self.settings.top_k, everything, "hybrid", query_vector)
        best = self._answerer("extractive").ranked(query, everywhere, query_vector)
        inside = {h.source for h in hits}
        if not best or best[0].hit.source in inside or best[0].score - ranked[0].score < self.settings.refusal_filter_gap:
            return None
        return NOT_IN_CHOSEN_ELSEWHERE.format(where=f"“{best[0].hit.title or Path(best[0].hit.source).name}”")

    def _chunks_after(self, hit: Hit, limit: int = 60) -> list[Hit]:
        """The chunks of the hit's document that come after it, in reading order (at most ``limit``)."""
        record = self.store.file_records([hit.source])
        if not record:
            return []
        chunks = self.store.get_chunks(record[0].chunk_ids)
        place = lambda c: (int(c.metadata.get("page") or 0), int(c.metadata.get("start", 0)))  # noqa: E731
        here = (hit.page or 0, hit.start)
        after = sorted((c for c in chunks if place(c) > here), key=place)[:limit]
        return [hit_from_chunk(c) for c in after]

    def _answerer(self, kind: str) -> Answerer:
        if kind not in self._answerers:
            if kind == "extractive":
                vectors = SentenceVectors(self.embedder.encode)
                self._answerers[kind] = ExtractiveAnswerer(self.searcher.idf, vectors,
                                                           self.settings.max_answer_sentences, self.scoring,
                                                           read_on=self._chunks_after)
            else:
                from .llm import LLMAnswerer, make_chat_model

                model = self._chat_model or make_chat_model(self.settings, kind)
                self._answerers[kind] = LLMAnswerer(model, name=kind)
        return self._answerers[kind]

