"""Plant known bugs one at a time in a scratch copy of the project and report which the tests catch.

Each mutant below breaks one promise of README.md or docs/reliability.md in the smallest way: one
or two exact text replacements. For each, the tests that guard the promise are run against the
mutated copy; the mutant is *caught* when they fail. Every mutant must be caught: one that survives
names a promise no test checks. The list grows with each new promise (issue 18).

    python bench/mutate.py                 # all mutants, report to stdout and bench/results/mutate.json
    python bench/mutate.py --only hyphen   # mutants whose name matches a regular expression
    python bench/mutate.py --list          # names and promises, no runs

The scratch copy holds the tracked files only, beside a link to ../shared, so the project itself is
never touched. Exit status: 0 when every mutant was caught, 1 when one survived, 2 when a mutant no
longer applies (its text is gone from the code: update the list) or the unmutated tests fail.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Mutant:
    name: str
    promise: str
    edits: list[tuple[str, str, str]]  # (file, exact text, replacement); the text must occur once
    tests: list[str]  # pytest node ids or files (tests/test_mutate_list.py checks each exists)
    caught_by: list[str] = field(default_factory=list)


MUTANTS = [
    Mutant("citations-checked-against-retrieval-copy",
           "a citation is verified against the chunk the store holds now, not the copy retrieval handed over",
           [("assistant/assistant.py", "verify(citations, self._stored_texts(citations), claims)",
             "verify(citations, {h.chunk_id: h.text for h in hits}, claims)")],
           ["tests/test_assistant.py"]),
    Mutant("claim-support-check-off",
           "a generated sentence must be supported by the passage it cites, not only quote it",
           [("assistant/citations.py", "if ok and claims and citation.n in claims:", "if False:")],
           ["tests/test_llm.py", "tests/test_assistant.py"]),
    Mutant("unsupported-llm-sentences-kept",
           "a generated sentence no passage supports is dropped, and an answer left with none is refused",
           [("assistant/assistant.py", "text, citations = keep_supported(citations, claims)", "pass")],
           ["tests/test_llm.py"]),
    Mutant("llm-invented-figure-accepted",
           "a generated sentence whose figure (with currency and scale) the passage does not state is unsupported",
           [("assistant/citations.py", " or not _numbers(claim) <= _numbers(passage):", ":")],
           ["tests/test_llm.py"]),
    Mutant("llm-obeyed-instruction-kept",
           "a generated sentence that is an instruction about how to answer is never an answer",
           [("assistant/llm.py", "if not claim or not supported or INSTRUCTION.search(claim):",
             "if not claim or not supported:")],
           ["tests/test_llm.py"]),
    Mutant("llm-rewrite-not-checked",
           "an LLM rewrite of a follow-up must be made of the question's and the conversation's words",
           [("assistant/followup.py", " or not _drawn_from(candidate, question, lines):", ":")],
           ["tests/test_llm.py"]),
    Mutant("llm-path-gate",
           "the LLM path keeps every citation verified and lets no obeyed instruction through (dev set)",
           [("assistant/assistant.py", "text, citations = keep_supported(citations, claims)",
             "text, citations = text, citations")],
           ["tests/test_llm_gate.py"]),
    Mutant("similarity-refusal-removed",
           "a question no passage is close to is refused",
           [("assistant/assistant.py",
             "if not hits or max(h.similarity for h in hits) < self.settings.refusal_min_similarity:",
             "if not hits:")],
           ["tests/test_refusal_rules.py"]),
    Mutant("sentence-score-refusal-removed",
           "a question no sentence of the passages answers is refused",
           [("assistant/assistant.py", "if not ranked or ranked[0].score < self.settings.refusal_min_score:",
             "if not ranked:")],
           ["tests/test_refusal_rules.py"]),
    Mutant("unknown-name-refusal-removed",
           "a question naming something no passage mentions is refused by that name",
           [("assistant/assistant.py", "unknown = self.searcher.unknown_names(without_self_description(", "unknown = [] and self.searcher.unknown_names(without_self_description(")],
           ["tests/test_refusal_rules.py"]),
    Mutant("staff-topic-refusal-removed",
           "a question about a staff matter (parking, pay) the passages do not mention is refused as off topic",
           [("assistant/assistant.py", "if topic and not any(mentions(topic, c.text) for c in ranked):", "if False:")],
           ["tests/test_refusal_rules.py"]),
    Mutant("near-miss-refusal-removed",
           "a question asking for a figure, date or penalty the passages do not state is refused",
           [("assistant/assistant.py", "if asked and not self._states(ranked):\n            return not_stated",
             "if False and not self._states(ranked):\n            return not_stated")],
           ["tests/test_refusal_rules.py"]),
    Mutant("filter-gap-refusal-removed",
           "under a filter, loosely related passages are not an answer when the library answers elsewhere",
           [("assistant/assistant.py", "if refusal is None and filtered:", "if False:")],
           ["tests/test_refusal_rules.py"]),
    Mutant("superseded-version-not-demoted",
           "by default the current version answers and a superseded one repeating it is not quoted",
           [("assistant/assistant.py", "            hits = prefer_current(hits, self.catalogue)", "            hits = hits")],
           ["tests/test_versions.py"]),
    Mutant("as-of-ignored",
           "an answer as of a date comes from the versions in force on that date",
           [("assistant/assistant.py", "        if as_of:\n            in_force = self.catalogue.in_force(",
             "        if False:\n            in_force = self.catalogue.in_force(")],
           ["tests/test_versions.py"]),
    Mutant("citation-standing-missing",
           "a citation of a superseded, withdrawn or past-review document says so",
           [("assistant/assistant.py", "        annotate(citations, self.catalogue, readable)\n", "")],
           ["tests/test_versions.py"]),
    Mutant("versions-not-linked-by-text",
           "a near-identical document under the same title is the next version of the earlier one",
           [("index/facts.py", "if resemblance(a.fingerprint, b.fingerprint) >= SAME_TEXT and",
             "if resemblance(a.fingerprint, b.fingerprint) > 1 and")],
           ["tests/test_versions.py"]),
    Mutant("keyword-index-keeps-replaced-entries",
           "the keyword index kept up by the change log holds exactly what a fresh build holds",
           [("index/keywords.py", "            writer.delete_documents_by_term(\"source\", source)\n", "            pass\n")],
           ["tests/test_keyword_index.py"]),
    Mutant("change-log-not-written",
           "replicas replay the store's change log (only the changed files), not a rebuild",
           [("ingest/pipeline.py", "    store.begin_change(sources)\n", "")],
           ["tests/test_keyword_index.py"]),
    Mutant("removed-chunk-kept-by-keyword-search",
           "a search never returns a chunk the store no longer holds",
           [("assistant/search.py", "if lost and view.snapshot is not None and self.store.generation() == view.snapshot.generation:",
             "if lost:")],
           ["tests/test_keyword_index.py"]),
    Mutant("changed-file-old-chunks-kept",
           "a changed file's old chunks leave the index in the same run",
           [("ingest/pipeline.py", "    store.delete_sources(sources)\n", "")],
           ["tests/test_ingest.py"]),
    Mutant("failing-file-loses-its-entry",
           "a previously indexed file that now fails keeps its index entry (a failure changes nothing)",
           [("ingest/pipeline.py", "            except IngestError as exc:\n                _fail(report, key, str(exc))",
             "            except IngestError as exc:\n                manifest.get(key) and store.forget_file(key)\n"
             "                _fail(report, key, str(exc))")],
           ["tests/test_ingest.py", "tests/test_bad_input.py"]),
    Mutant("pdf-running-lines-kept",
           "PDF running headers and footers are removed",
           [("ingest/clean.py", "        drop_running_lines(doc)\n", "        pass\n")],
           ["tests/test_ingest.py"]),
    Mutant("ocr-letterhead-misreads-kept",
           "a scanned letterhead read a little differently on each page is removed as a running line",
           [("ingest/clean.py", "    misread = _misread_running_lines(doc, needed)\n", "    misread = set()\n")],
           ["tests/test_ingest.py", "tests/test_ocr.py::test_a_scanned_letterhead_is_not_indexed"]),
    Mutant("text-pages-near-repeats-dropped",
           "near-repeated lines are dropped only from OCR'd pages, not from a text layer",
           [("ingest/clean.py", "        if not page.ocr:\n            continue\n", "")],
           ["tests/test_ingest.py"]),
    Mutant("pdf-hyphen-join-off",
           "a word split by a hyphen at a PDF line end is joined",
           [("ingest/clean.py", 'text = re.sub(r"(\\w*[A-Za-z])-\\n\\s*([a-z]\\w*)", _line_end_hyphen, text)', "pass")],
           ["tests/test_ingest.py"]),
    Mutant("pdf-compound-hyphen-dropped",
           "a hyphen at a PDF line end between two words stays ('side-effects', not 'sideeffects')",
           [("ingest/clean.py", '        return f"{left}-{right}"', "        return left + right")],
           ["tests/test_ingest.py"]),
    Mutant("echoed-question-unescaped",
           "the question is shown as text in the chat, never as Markdown",
           [("ui/views.py", "        st.markdown(escape_markdown(text))\n", "        st.markdown(text)\n")],
           ["tests/test_ui.py"]),
    Mutant("answer-text-unescaped",
           "the answer is shown as text in the chat, never as Markdown",
           [("ui/views.py", "    st.markdown(escape_markdown(answer.answer))", "    st.markdown(answer.answer)")],
           ["tests/test_ui.py"]),
    Mutant("chat-sends-no-history",
           "the chat page sends the conversation so far with each question (follow-ups)",
           [("ui/chat_page.py", 'helper.stream(asked["question"], history,', 'helper.stream(asked["question"], [],')],
           ["tests/test_ui.py"]),
    Mutant("question-length-cut-removed",
           "a question is cut to POLICY_ASSISTANT_MAX_QUESTION_CHARS (2,000) before it is used",
           [("assistant/assistant.py", "clean = normalise_question(question)[: self.settings.max_question_chars]",
             "clean = normalise_question(question)")],
           ["tests/test_bad_input.py::test_a_very_long_question_is_answered_from_its_start"]),
    Mutant("questions-wait-for-an-ingest",
           "questions are answered while an ingest runs; they never wait for it",
           [("ingest/pipeline.py", "    with _store_lock(settings, lock_timeout, on_wait):\n        if reindex:",
             "    with _store_lock(settings, lock_timeout, on_wait), WRITING:\n        if reindex:"),
            ("ingest/pipeline.py", "def _fail(report: IngestReport, path: str, reason: str) -> None:",
             "import threading\nWRITING = threading.Lock()\n\n\ndef _fail(report: IngestReport, path: str, reason: str) -> None:"),
            ("assistant/assistant.py", "        kind = answerer or self.answerer_name\n",
             "        kind = answerer or self.answerer_name\n        from ingest.pipeline import WRITING\n"
             "        with WRITING:\n            pass\n")],
           ["tests/test_concurrency.py::test_questions_keep_being_answered_while_an_ingest_runs"]),
    Mutant("prune-off",
           "--prune drops every indexed file that no longer exists anywhere",
           [("ingest/pipeline.py", "if prune_all or any(_is_under(path, folder) for folder in folders):",
             "if any(_is_under(path, folder) for folder in folders):")],
           ["tests/test_ingest.py"]),
    Mutant("docx-tables-dropped",
           "DOCX tables are read in document order, each row keeping its header beside each value",
           [("ingest/loaders.py", '        elif tag == "tbl":', '        elif False:')],
           ["tests/test_ingest.py"]),
    Mutant("ocr-on-text-pages",
           "OCR runs only on pages without a text layer: a text PDF never pays for it",
           [("ingest/loaders.py", "if needs_ocr(text) and _has_images(pdf_page):", "if _has_images(pdf_page):")],
           ["tests/test_ocr.py::test_a_text_pdf_is_never_sent_to_ocr"]),
    Mutant("ocr-citation-unmarked",
           "a citation quoted from a page read by OCR says so (JSON, chat, export)",
           [("assistant/answers.py", "        if self.ocr:\n            out[\"ocr\"] = True", "        if False:\n            out[\"ocr\"] = True")],
           ["tests/test_ocr.py::test_a_question_about_a_scanned_page_is_answered_and_the_citation_says_ocr"]),
    Mutant("pdf-tables-skipped",
           "PDF table rows are read with their header beside each value",
           [("ingest/loaders.py", "            tables += _add_table_rows(pages[-1], drawing)\n",
             "            pass\n")],
           ["tests/test_ingest.py::test_a_pdf_table_row_keeps_its_header"]),
    Mutant("table-check-ignores-page-matrix",
           "a PDF page whose ruled table is drawn under a scaling matrix is still read as a table",
           [("ingest/ruled.py", "    return a * x + c * y + e, b * x + d * y + f\n", "    return x, y\n")],
           ["tests/test_ruled.py"]),
    Mutant("table-check-skips-drawn-lines",
           "a table ruled with line segments (not rectangles) is still read as a table",
           [("ingest/ruled.py", "            self._segment_to(_place(numbers[0], numbers[1], cm))\n",
             "            self._point = _place(numbers[0], numbers[1], cm)\n")],
           ["tests/test_ruled.py"]),
    Mutant("grid-check-wants-four-rules",
           "the quick check before pdfplumber's geometry lets through the smallest grid: three rules each way",
           [("ingest/ruled.py", "    return len(rows) >= 3 and len(columns) >= 3\n",
             "    return len(rows) >= 4 and len(columns) >= 4\n")],
           ["tests/test_ruled.py"]),
    Mutant("fine-scan-read-as-scanned",
           "a 300-dpi scan is read at 200 dpi (Tesseract read its contents lists as letter soup)",
           [("ingest/ocr.py", "    if dpi <= READ_DPI * 1.4:\n", "    if True:\n")],
           ["tests/test_ocr.py"]),
    Mutant("table-cells-from-clipping-paths",
           "a PDF table's cells come from painted lines only: a clipping grid draws no table",
           [("ingest/ruled.py", "        if operator == b\"n\":\n            self._path.clear()\n            return\n", "")],
           ["tests/test_ruled.py"]),
    Mutant("table-text-placed-by-baseline",
           "a PDF table cell's text is placed by a point inside its glyphs, not by a baseline on the rule",
           [("ingest/ruled.py", "BASELINE_LIFT = 0.3\n", "BASELINE_LIFT = 0.0\n")],
           ["tests/test_ruled.py"]),
    Mutant("table-cell-pieces-spaced",
           "a word pypdf read in two pieces stays whole in its table cell",
           [("ingest/ruled.py", '        return " ".join("".join(inside).translate(', '        return " ".join(" ".join(inside).translate(')],
           ["tests/test_ruled.py"]),
    Mutant("zip-bomb-check-off",
           "a zip-based file that would expand past the limit is refused before any part is read",
           [("ingest/loaders.py", "        check_zip(path, kind.upper(), max_unzipped_mb)\n", "        pass\n")],
           ["tests/test_hostile_files.py"]),
    Mutant("planted-instruction-quoted",
           "a sentence addressed to the reader or an assistant about how to answer is never quoted",
           [("assistant/extractive.py", "if INSTRUCTION.search(sentence):", "if False:")],
           ["tests/test_assistant.py"]),
    Mutant("non-regular-files-read",
           "only regular files are read: a FIFO is refused, never waited on",
           [("ingest/pipeline.py", "if not path.is_file():  # a FIFO", "if False:  # a FIFO"),
            ("ingest/loaders.py", "    if not stat.S_ISREG(status.st_mode):", "    if False:")],
           ["tests/test_hostile_files.py"]),
    # --- issue 17: access, conversations, audit -------------------------------------------------------
    Mutant("access-filter-removed",
           "a search is made only inside the documents the user may read",
           [("assistant/assistant.py", "        allowed = self.readable(user)\n        if as_of:",
             "        allowed = None\n        if as_of:")],
           ["tests/test_access.py"]),
    Mutant("unknown-names-count-hidden-passages",
           "the 'documents do not mention X' refusal counts only passages the user may read",
           [("assistant/assistant.py", "                                              Filters(allowed=readable) if readable is not None else None)\n        if unknown:",
             "                                              None)\n        if unknown:")],
           ["tests/test_access.py::test_a_question_answered_from_another_library_is_refused_as_if_the_document_did_not_exist"]),
    Mutant("document-list-unfiltered",
           "the document list shows only documents the user may read",
           [("assistant/assistant.py", "        return sorted((r for r in records if readable is None or r.source in readable), key=lambda r: r.title.lower())",
             "        return sorted(records, key=lambda r: r.title.lower())")],
           ["tests/test_access.py::test_the_document_list_and_name_lookups_show_only_readable_documents"]),
    Mutant("library-rules-fail-open",
           "a library no rule names is read by maintainers only",
           [("access/policy.py", "        return bool(allowed) and (EVERYONE in allowed or bool(allowed & user.groups))",
             "        return not allowed or (EVERYONE in allowed or bool(allowed & user.groups))")],
           ["tests/test_access.py::test_a_library_no_rule_names_is_read_by_maintainers_only"]),
    Mutant("shared-link-sources-unchecked",
           "a shared conversation opens only for people who may read every document it quotes",
           [("access/records.py", "found.shared and may_read is not None and all(may_read(s) for s in found.sources))",
             "found.shared and may_read is not None)")],
           ["tests/test_access.py::test_a_shared_conversation_opens_only_for_readers_of_all_its_sources"]),
    Mutant("audit-log-editable",
           "the audit log is append-only",
           [("access/records.py", "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;", "BEGIN SELECT 1; END;")],
           ["tests/test_access.py::test_the_audit_log_is_append_only_and_purged_after_the_retention_period"]),
    Mutant("api-reads-as-anyone",
           "an API key reads only the libraries of its groups",
           [("api/app.py", "        return User(id=f\"api:{identity.name}\", name=identity.name, groups=frozenset(identity.groups),\n"
             "                    maintainer=identity.role == \"maintainer\")",
             "        return User(id=f\"api:{identity.name}\", name=identity.name, groups=frozenset(identity.groups),\n"
             "                    maintainer=True)")],
           ["tests/test_access.py::test_the_http_api_serves_each_key_only_its_groups_libraries_and_audits_it"]),
    Mutant("scan-dot-leaders-kept",
           "a scanned contents list reads as titles and page numbers, not letter soup",
           [("ingest/scan_cleanup.py", "    if rows:\n        _pull_leaders(", "    if False:\n        _pull_leaders(")],
           ["tests/test_ocr.py::test_a_scanned_contents_list_reads_as_titles_and_page_numbers"]),
    Mutant("stale-sign-in-accepted",
           "a sign-in older than POLICY_ASSISTANT_SIGN_IN_MAX_HOURS is asked again",
           [("ui/state.py", "    expired = st.user.is_logged_in and sign_in_expired(st.user.to_dict(), config.sign_in_max_hours)",
             "    expired = False")],
           ["tests/test_signin_browser.py"]),
    Mutant("announced-list-not-read-on",
           "a list question is answered with the numbered or lettered items after the sentence announcing them",
           [("assistant/extractive.py", "items = items_after(cand.hit, cand.sentence_end or cand.end, count, self.read_on) if count else []",
             "items = []")],
           ["tests/test_listing.py"]),
    Mutant("count-of-another-thing-states",
           "a count of another thing of the same kind ('community diagnostic centres') does not state the one asked",
           [("assistant/asked.py", "        if self.about_something_else(sentence) or self.about_another_name(sentence, question) \\\n",
             "        if self.about_another_name(sentence, question) \\\n")],
           ["tests/test_asked.py"]),
    Mutant("figure-about-another-name-states",
           "a figure in a sentence naming another place or body ('in York') does not answer about the question's (Bradford)",
           [("assistant/asked.py", "        if self.about_something_else(sentence) or self.about_another_name(sentence, question) \\\n",
             "        if self.about_something_else(sentence) \\\n")],
           ["tests/test_asked.py"]),
    Mutant("figure-for-another-group-states",
           "a figure in a sentence about another group, time limit or year (7% for 2-4%, 15 minutes for 30) answers nothing",
           [("assistant/asked.py", "                or self.about_another_figure(sentence) or self.about_the_opposite(sentence) \\\n",
             "                or self.about_the_opposite(sentence) \\\n")],
           ["tests/test_asked.py"]),
    Mutant("urgent-answers-non-urgent",
           "a figure for the urgent does not answer a question about the non-urgent",
           [("assistant/asked.py", "                or self.about_another_figure(sentence) or self.about_the_opposite(sentence) \\\n",
             "                or self.about_another_figure(sentence) \\\n")],
           ["tests/test_asked.py"]),
    Mutant("another-category-answers",
           "a figure for Category 2 (or segment 3) answers nothing of Category 1 (or segment 4)",
           [("assistant/asked.py", "                or self.about_another_label(sentence):\n", "                or False:\n")],
           ["tests/test_asked.py"]),
    Mutant("personal-questions-answered-weakly",
           "a question about the asker's own circumstances needs a sentence scoring refusal_personal_score",
           [("assistant/assistant.py", "if personal(query) and ranked[0].score < self.settings.refusal_personal_score:",
             "if False:")],
           ["tests/test_refusal_rules.py"]),
    Mutant("context-sentence-makes-personal",
           "a first-person sentence of context before the question does not make the question personal",
           [("assistant/asked.py", "    return \" \".join([s for s in sentences if \"?\" in s] or sentences[-1:])\n",
             "    return \" \".join(sentences)\n")],
           ["tests/test_asked.py"]),
    Mutant("unnamed-label-answered",
           "a numbered part no retrieved passage names ('section 75') is refused by that label",
           [("assistant/assistant.py", "        if hits and missing:\n", "        if False:\n")],
           ["tests/test_refusal_rules.py"]),
    Mutant("label-in-title-ignored",
           "a numbered part in a document's title places all of its passages",
           [("assistant/assistant.py", "missing = labels_not_found(query, [f\"{h.title or ''}\\n{Path(h.source).stem.replace('-', ' ')}\\n{h.text}\" for h in hits])",
             "missing = labels_not_found(query, [h.text for h in hits])")],
           ["tests/test_refusal_rules.py"]),
    Mutant("particulars-one-sentence-on-unread",
           "a stating sentence going on from a better one ('The schemes - in East Sussex ...') ranks right after it",
           [("assistant/extractive.py", "        _read_on_to_what_states(candidates)\n", "        pass\n")],
           ["tests/test_sentence_choice.py"]),
    Mutant("sentence-start-capital-a-name",
           "a capital that starts a sentence inside a question is no name the documents must mention",
           [("assistant/english.py", "if (word[0].isupper() and not sentence_start)", "if (word[0].isupper() and match.start() > 0)")],
           ["tests/test_search_units.py::test_a_capital_that_starts_a_sentence_names_nothing"]),
    Mutant("comparison-with-anything",
           "'how does X compare with Y' is answered only by a sentence naming Y",
           [("assistant/asked.py", "        if self.compared_with and not _names_enough(self.compared_with, set(tokens(sentence))):\n",
             "        if False:\n")],
           ["tests/test_asked.py"]),
    Mutant("per-pcn-total-answers",
           "'how many per PCN' is not answered by a total",
           [("assistant/asked.py", "        if self.per_unit and not _for_each(sentence, self.per_unit):\n", "        if False:\n")],
           ["tests/test_asked.py"]),
    Mutant("target-answers-what-it-is-now",
           "a figure aimed at ('to 65% by March 2026') does not say what the figure is now",
           [("assistant/asked.py", "            sentence = _AIMED_FIGURE.sub(\" \", sentence)\n", "            pass\n")],
           ["tests/test_asked.py"]),
    Mutant("criteria-ask-for-nothing",
           "a question for criteria or indicators is answered only by a sentence that speaks of them",
           [("assistant/asked.py", "(?:criteria|criterion|indicators|metrics|thresholds)\\b\", re.I),", "(?!)\", re.I),")],
           ["tests/test_asked.py"]),
    Mutant("running-head-glued-kept",
           "a running head glued to each page's first line is cut from it",
           [("ingest/clean.py", "    text = _strip_running_head(text)\n", "")],
           ["tests/test_converted_documents.py"]),
    Mutant("statement-before-broken-link-lost",
           "a statement before a link broken into shards stays; an address is kept once",
           [("ingest/clean.py", "    text = _BROKEN_LINK.sub(\"\\n\", _MAILTO.sub(\"\", text))\n", "")],
           ["tests/test_converted_documents.py"]),
    Mutant("where-asks-for-nothing",
           "'where will the office be based' asks for a place; 'in each NHS region' names none",
           [("assistant/asked.py", '     Asked("place", "a place", _PLACE)),', '     Asked("place", "a place", _COUNT)),')],
           ["tests/test_asked.py"]),
    Mutant("each-states-a-frequency",
           "'how often' is answered by a frequency, not by 'each' or any number",
           [("assistant/asked.py", '     Asked("frequency", "a frequency", _FREQUENCY)),',
             '     Asked("frequency", "a frequency", _QUANTITY)),')],
           ["tests/test_asked.py"]),
    Mutant("cut-of-unnamed-thing-states",
           "a figure answers 'by how much ... cut X' only from a sentence that names X",
           [("assistant/asked.py", "        if self.subject_named and not any(term in words for term in self.subject):\n",
             "        if False:\n")],
           ["tests/test_asked.py"]),
    Mutant("days-asked-as-a-count",
           "'how many days' asks for a length of time: 'each of the 5 segments' is no answer",
           [("assistant/asked.py", '     Asked("duration", "a length of time", _DURATION)),',
             '     Asked("duration", "a length of time", _COUNT)),')],
           ["tests/test_asked.py"]),
    Mutant("labels-and-times-counted",
           "a numbered step or segment and a time of day ('the 8am scramble') are no figures",
           [("assistant/asked.py", '        if self.kind != "hours":\n            sentence, question = _TIME_OF_DAY',
             '        if False:\n            sentence, question = _TIME_OF_DAY'),
            ("assistant/asked.py", 'annex \\w\\b|" + _LABEL', 'annex \\w\\b"')],
           ["tests/test_asked.py"]),
    Mutant("count-of-unnamed-other-thing-states",
           "'170 community diagnostic centres' does not count the learning and evidence sites asked for",
           [("assistant/asked.py", "            return any(counted != head for counted in _counted(sentence))",
             "            return False")],
           ["tests/test_asked.py"]),
    Mutant("role-named-by-any-sentence",
           "'who will lead X' is answered only by a sentence saying who leads it",
           [("assistant/asked.py", "    role = _asked_for_role(question)\n    if role:\n        return replace(role, names=names, figures=figures, negated=negated, labels=labels)\n", "")],
           ["tests/test_asked.py"]),
    Mutant("how-long-answered-by-each",
           "'how long' is answered by a length of time or an end, not by 'each quarter'",
           [("assistant/asked.py", '(re.compile(r"\\bhow long\\b", re.I), Asked("duration", "a length of time", _DURATION_OR_END)),',
             '(re.compile(r"\\bhow long\\b", re.I), Asked("duration", "a length of time", _QUANTITY)),')],
           ["tests/test_asked.py"]),
    Mutant("list-answer-padded",
           "a list read in full is the whole answer: no restating sentence trails after its last item",
           [("assistant/extractive.py", "            chosen = [listing]\n", "            pass\n")],
           ["tests/test_listing.py"]),
    Mutant("list-lead-in-with-headings",
           "a list read in full is quoted after its lead-in sentence alone, not the caption and headings after it",
           [("assistant/extractive.py", "            quote = cand.sentence if cand is listing else cand.text\n",
             "            quote = cand.text\n")],
           ["tests/test_listing.py"]),
    Mutant("table-shards-kept",
           "a converted table flattened into word ends is dropped from the text",
           [("ingest/clean.py", "    return _shard_share(line) >= 0.4 or", "    return False or")],
           ["tests/test_converted_documents.py"]),
    Mutant("title-quoted-as-answer",
           "a document's own title is never quoted as an answer",
           [("assistant/extractive.py", "                if key in title_key and not sentence.rstrip().endswith((\".\", \"?\", \"!\")):\n",
             "                if False:\n")],
           ["tests/test_sentence_choice.py"]),
    Mutant("flattened-table-runs-kept",
           "a table flattened a cell to a paragraph is dropped from converted text",
           [("ingest/clean.py", "        if len(run) >= 5 and _is_shards(", "        if len(run) >= 10**9 and _is_shards(")],
           ["tests/test_converted_documents.py"]),
    Mutant("long-word-fragments-kept",
           "lines of long word fragments ('communit', 'ganisations') are dropped from converted text",
           [("ingest/clean.py", "    return _shard_share(line) >= 0.4 or _unknown_share(line) >= 0.3\n",
             "    return _shard_share(line) >= 0.4\n")],
           ["tests/test_converted_documents.py"]),
    Mutant("two-columns-interleaved",
           "a two-column PDF page is read left column then right",
           [("ingest/loaders.py", "    if columns.starts_two_columns(starts, width):", "    if False:")],
           ["tests/test_columns.py"]),
    Mutant("yes-or-no-answered-by-the-object-alone",
           "a yes-or-no question is answered only by a sentence with its verb and who must act, not its object alone",
           [("assistant/asked.py", "            return bool(self.stated.search(sentence)) and _names_enough(self.subject, set(tokens(sentence)))\n",
             "            return _names_enough(self.subject, set(tokens(sentence)))\n")],
           ["tests/test_asked.py"]),
    Mutant("yes-or-no-answered-by-its-verb-alone",
           "a yes-or-no question is answered only by a sentence that names enough of what is required",
           [("assistant/asked.py", "            return bool(self.stated.search(sentence)) and _names_enough(self.subject, set(tokens(sentence)))\n",
             "            return bool(self.stated.search(sentence))\n")],
           ["tests/test_asked.py"]),
    Mutant("required-object-read-past-its-phrase",
           "the object of a requirement is its first phrase: 'a community pharmacy', not '... on site'",
           [("assistant/asked.py", "        what = _PREPOSITION.split(_ASK_ENDS.split((required or there).group(\"what\"), maxsplit=1)[0], maxsplit=1)[0]\n",
             "        what = _ASK_ENDS.split((required or there).group(\"what\"), maxsplit=1)[0]\n")],
           ["tests/test_asked.py"]),
    Mutant("who-is-required-not-needed",
           "'require Healthwatch to sign off' is answered only by a sentence naming Healthwatch",
           [("assistant/asked.py", "        needed = [word for word in [verb, *whom, *of[-1:]] if word and word not in _LIGHT_VERBS]\n",
             "        needed = [word for word in [verb, *of[-1:]] if word and word not in _LIGHT_VERBS]\n")],
           ["tests/test_asked.py"]),
    Mutant("requirement-of-anything",
           "'does every neighbourhood health centre have to have X' is answered only by a sentence about centres",
           [("assistant/asked.py", "        needed = [word for word in [verb, *whom, *of[-1:]] if word and word not in _LIGHT_VERBS]\n",
             "        needed = [word for word in [verb, *whom] if word and word not in _LIGHT_VERBS]\n")],
           ["tests/test_asked.py"]),
    Mutant("yes-or-no-refusal-says-a-figure",
           "a yes-or-no near miss says the documents do not say whether it is so, not that they state no figure",
           [("assistant/assistant.py", '    if asked.kind == "whether":  # a yes or no they neither give nor imply\n',
             '    if False:\n')],
           ["tests/test_refusal_rules.py"]),
    Mutant("extra-things-are-other-things",
           "'how many extra appointments' is answered by 'an additional 700,000 appointments'",
           [("assistant/asked.py", "        if _INCREMENT.intersection(words):\n", "        if False:\n")],
           ["tests/test_asked.py"]),
    Mutant("increment-words-qualify-strongly",
           "'how many additional medical school places' is not answered by '1,000 new specialty training posts'",
           [("assistant/asked.py", "        qualifiers = [q for q in qualifiers if q not in _INCREMENT] or qualifiers\n", "        pass\n")],
           ["tests/test_asked.py"]),
    Mutant("hosting-asks-for-no-host",
           "'which ICB is hosting' is answered only by a sentence saying who hosts",
           [("assistant/asked.py", '    for form in (role, role + "s", role + ("d" if role.endswith("e") else "ed"), role.rstrip("e") + "ing")}\n',
             '    for form in (role, role + "s", role + ("d" if role.endswith("e") else "ed"))}\n')],
           ["tests/test_asked.py"]),
    Mutant("context-before-a-dash-asks",
           "'I saw a figure in a paper - what was it?' asks what follows the dash and is no personal matter",
           [("assistant/asked.py", "        sentences = [part for s in sentences for part in _DASH.split(s)]\n", "        pass\n")],
           ["tests/test_asked.py"]),
    Mutant("share-of-an-article",
           "a share 'of a provider's payment' is of the payment",
           [("assistant/asked.py", '(?:of|in)\\s+(?:(?:the|a|an|each|every)\\s+)?(.*)", question, re.I)',
             '(?:of|in)\\s+(?:the\\s+)?(.*)", question, re.I)')],
           ["tests/test_asked.py"]),
    Mutant("unpublished-file-returned",
           "a reader of every published library never receives a file an ingest has written but not published",
           [("assistant/search.py", '                    if c.metadata is None or c.metadata.get("source") in view.published]',
             '                    ]')],
           ["tests/test_access.py::test_a_file_an_ingest_has_written_but_not_published_is_never_returned"]),
    Mutant("measured-thing-not-needed",
           "'what is the X' is answered only by a sentence that names X ('what is the maximum caseload')",
           [("assistant/asked.py", "                changed = _measured(question, names)\n", "                pass\n")],
           ["tests/test_asked.py"]),
    Mutant("decimal-is-a-count",
           "'how many metrics' is not answered by 'a raw score of 1.53'",
           [("assistant/asked.py", "            sentence = _DECIMAL.sub(\" \", _MEASURE_VALUE.sub(\" \", sentence))\n",
             "            sentence = _MEASURE_VALUE.sub(\" \", sentence)\n")],
           ["tests/test_asked.py"]),
    Mutant("payment-received-asks-nothing",
           "'will GP practices get an extra payment' is a yes or no answered only by a sentence about a payment",
           [("assistant/asked.py", "        there = _THERE_IS.search(sentence) or _RECEIVES.search(sentence)\n",
             "        there = _THERE_IS.search(sentence)\n")],
           ["tests/test_asked.py"]),
    Mutant("self-description-is-a-topic",
           "'I'm a journalist ...' does not make 'journalist' an unknown name that refuses the question",
           [("assistant/asked.py", "    return _SELF_DESCRIPTION.sub(\" \", question)\n", "    return question\n")],
           ["tests/test_asked.py"]),
    Mutant("counted-other-things-count-it",
           "'how many participants' is not answered by '29 articles included'",
           [("assistant/asked.py", '        if (not qualifiers or set(qualifiers) <= _INCREMENT) and self.kind == "count" and head not in _ANYONE:\n',
             '        if False:\n')],
           ["tests/test_asked.py"]),
    Mutant("articles-are-not-studies",
           "'how many studies' is answered by '29 articles included'",
           [("assistant/asked.py", "            counted = {_COUNTED_AS.get(term, term) for term in _counted(sentence)}\n",
             "            counted = set(_counted(sentence))\n")],
           ["tests/test_asked.py"]),
    Mutant("named-anywhere",
           "a name answers 'which X' only in a sentence that says of it what the question says of X",
           [("assistant/asked.py", "            if not _holds_predicate(sentence, question):\n", "            if False:\n")],
           ["tests/test_asked.py"]),
    Mutant("abbreviation-never-spelled-out",
           "'CDCs - how many were open by March 2025' finds the community diagnostic centres",
           [("assistant/abbreviations.py", "        if known(short) or long.lower() in question.lower():\n",
             "        if True:\n")],
           ["tests/test_abbreviations.py"]),
    Mutant("how-much-of-a-whole-is-money",
           "'how much of hospital spend' is answered by a share ('46% of hospital costs')",
           [("assistant/asked.py", '     Asked("quantity", "a figure", _MONEY_OR_SHARE)),\n', '     Asked("amount", "an amount", _MONEY)),\n')],
           ["tests/test_asked.py"]),
    Mutant("exact-deadline-any-date",
           "'the exact December deadline' asks for a day, not the years plans cover",
           [("assistant/asked.py", "(?:(?:{_MONTHS})\\s+)?(?:date|deadline|day)\\b\", re.I), Asked(\"date\", \"a date\", _DAY)),",
             "(?:(?:{_MONTHS})\\s+)?(?:date|deadline|day)\\b\", re.I), Asked(\"date\", \"a date\", _DATE)),")],
           ["tests/test_asked.py"]),
    Mutant("dated-thing-not-needed",
           "'when will the templates be issued' is dated only by a sentence naming the templates",
           [("assistant/asked.py", "                changed = _dated(question)\n", "                changed = ()\n")],
           ["tests/test_asked.py"]),
    Mutant("which-icb-any-name",
           "'which ICB' is answered by an ICB's name, not by any other name",
           [("assistant/asked.py", "    return next((name for asks, name in _BODIES if asks.search(question)), None)",
             "    return None")],
           ["tests/test_asked.py"]),
    Mutant("capital-raised-is-a-rise",
           "'how much capital is it expected to raise' asks for a sum, not a percentage rise",
           [("assistant/asked.py", r'investment)\b.*\brais\w*", re.I),', r'investment)\b.*\braisXX\w*", re.I),')],
           ["tests/test_asked.py"]),
    Mutant("example-figure-is-current",
           "a worked example's figure is no figure as things stand",
           [("assistant/asked.py", "if _EXAMPLE.search(sentence) or (", "if (")],
           ["tests/test_asked.py"]),
    Mutant("future-figure-is-current",
           "what will be done ('will be scored 1') is no figure as things stand",
           [("assistant/asked.py", " or (_FUTURE.search(sentence) and not _CURRENT.search(sentence)):", ":")],
           ["tests/test_asked.py"]),
    Mutant("set-percentage-cut-of-anything",
           "'a set percentage that ICBs have to cut their running costs by' is answered only by a cut of running costs",
           [("assistant/asked.py", r"|how much|(?:a|the)\s+(?:[\w-]+\s+)?(?:percentage|proportion|share))\b.*?\b", r"|how much)\b.*?\b")],
           ["tests/test_asked.py"]),
    Mutant("split-word-after-mended-word-left",
           "a split word right after a mended 'wil' is mended too ('wil automatical y')",
           [("ingest/clean.py", "            done = start + len(match.group(1)) + 1 + len(match.group(2))\n",
             "            done = len(text)\n")],
           ["tests/test_converted_documents.py"]),
    Mutant("fact-match-ignores-mended-ligatures",
           "a key fact copied from a conversion that lost its 'll' ligatures matches the mended answer",
           [("evaluation/metrics.py", '    text = repair_ligatures(text.translate(_TYPOGRAPHY).replace("-\\n", ""))',
             '    text = text.translate(_TYPOGRAPHY).replace("-\\n", "")')],
           ["tests/test_evaluation.py"]),
    Mutant("drug-name-not-specific",
           "a medicine's generic name the library never holds ('apixaban') is said not to be mentioned",
           [("assistant/english.py", "                or _DRUG_NAME.search(lowered):", "                or False:")],
           ["tests/test_search_units.py::test_a_medicines_generic_name_is_specific_however_short"]),
    Mutant("business-rates-not-staff",
           "business rates are a staff matter the documents do not cover",
           [("assistant/asked.py", "personal allowance|business rates|mileage|", "personal allowance|mileage|")],
           ["tests/test_asked.py"]),
    Mutant("open-on-sundays-any-sentence",
           "'will the centres be open on Sundays' is answered only by a sentence that says which days",
           [("assistant/asked.py", r'(?:sundays?|saturdays?|weekends?|bank holidays?|evenings?|nights?|christmas)\b|"', r'(?:xx)\b|"')],
           ["tests/test_asked.py"]),
    Mutant("keyword-query-no-subject",
           "a keyword query's figure ('MHIS growth percentage') is of the words before the word that asks for it",
           [("assistant/asked.py", "                changed = _keyword_subject(question, asking.start())\n", "                changed = ()\n")],
           ["tests/test_asked.py"]),
    Mutant("what-percentage-are-anyone",
           "'what percentage are children' is answered only by a share said of children",
           [("assistant/asked.py", "                changed = _share_who(question)\n", "                changed = ()\n")],
           ["tests/test_asked.py"]),
    Mutant("additional-things-any-count",
           "'how many additional GPs' is not answered by '2 new contracts'",
           [("assistant/asked.py", "if (not qualifiers or set(qualifiers) <= _INCREMENT) and self.kind", "if not qualifiers and self.kind")],
           ["tests/test_asked.py"]),
    Mutant("from-which-year-any-thing",
           "'from which year will ICBs be given a segment' is dated only by a sentence naming ICBs",
           [("assistant/asked.py", r'(?:when|(?:from|in|by)\s+(?:which|what)\s+(?:year|date|month))\s+', r'(?:when)\s+')],
           ["tests/test_asked.py"]),
]


def scratch_copy(into: Path) -> Path:
    """The tracked files of the project, and ../shared linked beside them as the tests expect."""
    project = into / ROOT.name
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = project / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (into / "shared").symlink_to((ROOT.parent / "shared").resolve())
    return project


def run_tests(project: Path, tests: list[str], timeout: float) -> tuple[int, list[str], float]:
    started = time.perf_counter()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider",
                               "--basetemp", str(project.parent / "pytest-tmp"), *tests],
                              cwd=project, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, ["(timed out: counted as caught only if the unmutated run is fast)"], time.perf_counter() - started
    failed = re.findall(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", done.stdout, re.M)
    return done.returncode, failed, time.perf_counter() - started


DEFAULT_OUT = ROOT / "bench" / "results" / "mutate.json"


def apply(project: Path, mutant: Mutant) -> dict[str, str]:
    """Apply the edits; return the original texts so they can be put back."""
    originals = {}
    for file, old, new in mutant.edits:
        path = project / file
        text = originals.get(file) or path.read_text(encoding="utf-8")
        originals.setdefault(file, text)
        current = path.read_text(encoding="utf-8")
        if current.count(old) != 1:
            raise LookupError(f"{mutant.name}: the text to replace occurs {current.count(old)} times in {file}")
        path.write_text(current.replace(old, new), encoding="utf-8")
    return originals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="run only mutants whose name matches this regular expression")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per test run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if re.search(args.only, m.name)]
    if args.list:
        for m in mutants:
            print(f"{m.name}: {m.promise}  [{' '.join(m.tests)}]")
        return 0
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        project = scratch_copy(Path(tmp))
        where = subprocess.run([sys.executable, "-c", "import assistant, ingest; print(assistant.__file__)"],
                               cwd=project, capture_output=True, text=True).stdout.strip()
        if not where.startswith(str(project)):
            print(f"the scratch copy imports the project from {where}, not from itself", file=sys.stderr)
            return 2
        every_test = sorted({t for m in mutants for t in m.tests})
        code, failed, seconds = run_tests(project, every_test, args.timeout)
        print(f"unmutated: {' '.join(every_test)} -> exit {code} in {seconds:.0f} s", flush=True)
        if code != 0:
            print(f"the tests fail without any mutant: {failed}", file=sys.stderr)
            return 2
        rows = []
        for mutant in mutants:
            try:
                originals = apply(project, mutant)
            except LookupError as exc:
                print(exc, file=sys.stderr)
                return 2
            try:
                code, failed, seconds = run_tests(project, mutant.tests, args.timeout)
            finally:
                for file, text in originals.items():
                    (project / file).write_text(text, encoding="utf-8")
            caught = code != 0
            rows.append({"mutant": mutant.name, "promise": mutant.promise, "caught": caught,
                         "caught_by": failed, "seconds": round(seconds, 1), "tests": mutant.tests})
            print(f"{'caught  ' if caught else 'SURVIVED'} {mutant.name} ({seconds:.0f} s): "
                  f"{', '.join(failed) or '-'}", flush=True)
    if not args.only or args.out != DEFAULT_OUT:  # a partial run leaves the last full report in place
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    survived = [r["mutant"] for r in rows if not r["caught"]]
    print(f"\n{len(rows) - len(survived)} of {len(rows)} mutants caught" +
          (f"; survived: {', '.join(survived)}" if survived else ""))
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
