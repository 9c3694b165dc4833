"""Feedback lines and conversation export: what the UI writes is what the evaluation command reads."""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timezone

import pytest

from assistant import Answer, Citation
from evaluation import questions_from_feedback
from assistant.feedback import read_feedback, record_feedback
from ui.markdown import conversation_markdown, escape_markdown, highlight_markdown


def cited_answer() -> Answer:
    quote = "There should be a “substantial reduction” in the use of hospital care."
    return Answer(question="What did the mandate say about hospital care?", answer=f"{quote} [1]", refused=False,
                  citations=[Citation(1, "/docs/000_mandate.txt", "NHS mandate stresses joined-up care", None,
                                      "c1", quote, True, context=f"Intro.\n\n{quote} More.")])


def refused_answer() -> Answer:
    return Answer(question="What is the capital of France?", answer="The documents do not cover this.",
                  refused=True)


def test_feedback_lines_carry_what_evaluation_needs(tmp_path):
    path = tmp_path / "store" / "feedback.jsonl"
    history = [{"role": "user", "content": "Earlier question"}, {"role": "assistant", "content": "Earlier answer"}]
    record_feedback(path, cited_answer(), "up", "  clear and sourced  ", history=history, answer_id="a1")
    record_feedback(path, refused_answer(), "down", answer_id="a2")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["question"] == "What did the mandate say about hospital care?"
    assert first["rating"] == "up" and first["comment"] == "clear and sourced"
    assert first["citations"][0]["source"] == "/docs/000_mandate.txt"
    assert first["citations"][0]["quote"].startswith("There should be")
    assert first["history"] == history
    assert datetime.fromisoformat(first["timestamp"]).tzinfo is not None

    converted = questions_from_feedback(lines)
    assert converted.skipped == 0
    liked, disliked = converted.questions
    assert liked["expected_sources"] == ["000_mandate.txt"] and liked["answerable"] is True
    assert disliked["needs_review"] is True


def test_read_feedback_skips_damaged_lines(tmp_path):
    path = tmp_path / "feedback.jsonl"
    record_feedback(path, cited_answer(), "down", "missing the date")
    with path.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n\n" + json.dumps({"rating": "meh", "question": "x"}) + "\n")
    record_feedback(path, refused_answer(), "up")
    rows = read_feedback(path)
    assert [r["rating"] for r in rows] == ["down", "up"]
    assert read_feedback(tmp_path / "missing.jsonl") == []


def test_bad_rating_is_refused(tmp_path):
    with pytest.raises(ValueError, match="rating"):
        record_feedback(tmp_path / "f.jsonl", cited_answer(), "5 stars")
    assert not (tmp_path / "f.jsonl").exists()


def test_concurrent_appends_stay_whole_lines(tmp_path):
    path = tmp_path / "feedback.jsonl"
    long_comment = "x" * 1500

    def write(n):
        for _ in range(20):
            record_feedback(path, cited_answer(), "up" if n % 2 else "down", long_comment)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(read_feedback(path)) == 80


def test_conversation_export_holds_questions_answers_and_quotes():
    answers = [cited_answer(), refused_answer()]
    text = conversation_markdown(answers, exported_at=datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc))
    assert text.startswith("# Conversation with the policy assistant")
    assert "Exported 2025-01-02 03:04 UTC." in text
    assert "## 1. What did the mandate say about hospital care?" in text
    assert "[1] NHS mandate stresses joined-up care · 000_mandate.txt" in text  # no needless escapes
    assert "  > There should be a “substantial reduction” in the use of hospital care." in text
    assert "## 2. What is the capital of France?" in text


def test_the_export_names_the_filters_and_escapes_only_what_would_render():
    from ui.markdown import export_text

    text = conversation_markdown([cited_answer(), refused_answer()], scopes=["dated on or after 01 January 2017", ""])
    assert "*Searched only dated on or after 01 January 2017.*" in text and "*Searched all documents.*" in text
    assert export_text("It said: [1] 000_1ba.txt") == "It said: [1] 000_1ba.txt"
    assert export_text("# not a heading **x** [l](javascript:x) _y_ <b>") == \
        "\\# not a heading \\*\\*x\\*\\* \\[l](javascript:x) \\_y\\_ \\<b\\>"


def test_escaping_shows_markup_literally():
    raw = "# Not a heading\n1. <script>alert(1)</script> costs $5 **x** [l](javascript:x) :red[y] a_b_c"
    escaped = escape_markdown(raw)
    # Every character with a Markdown meaning is preceded by a backslash.
    assert re.search(r"(?<!\\)[<>$*\[\]:_#]", escaped) is None, escaped
    assert escaped.startswith("\\# Not a heading")
    # Removing the backslash escapes gives back exactly the original characters.
    assert re.sub(r"\\(.)", r"\1", escaped).replace("  \n", "\n") == raw


def test_highlight_finds_the_quote_across_line_breaks():
    context = "Before.\nThe quote runs\nover two lines. After."
    marked, found = highlight_markdown(context, "The quote runs over two lines.")
    assert found
    assert ":orange-background[**The quote runs**]" in marked
    assert ":orange-background[**over two lines.**]" in marked
    plain, found = highlight_markdown(context, "not in there")
    assert not found and "orange-background" not in plain


def test_addresses_are_shown_as_code_spans_that_no_renderer_links():
    from ui.markdown import escape_markdown

    shown = escape_markdown("Visit www.nhs-budget-refund.example to claim, write to a.b@refund.example, "
                            "or see https://refund.example/claim?x=1. Then **stop**.")
    assert "`www.nhs-budget-refund.example`" in shown and "`a.b@refund.example`" in shown
    assert "`https://refund.example/claim?x=1`." in shown  # the full stop stays outside
    assert "\\*\\*stop\\*\\*" in shown


def test_an_address_holding_backticks_keeps_its_code_span_closed():
    from ui.markdown import escape_markdown

    assert escape_markdown("see www.x.example/`a`") == "see `` www.x.example/`a` ``"


def test_citations_of_one_document_share_one_label_with_their_numbers_and_pages():
    from ui.markdown import by_document, document_label
    from assistant.answers import Citation

    def cite(n, source, page):
        return Citation(n=n, source=source, title="IFR policy", page=page, chunk_id=f"c{n}", quote="q", verified=True)

    citations = [cite(1, "/d/ifr.pdf", 4), cite(2, "/d/other.pdf", None), cite(3, "/d/ifr.pdf", 7), cite(4, "/d/ifr.pdf", 4)]
    groups = by_document(citations)
    assert [[c.n for c in g] for g in groups] == [[1, 3, 4], [2]]
    assert document_label(groups[0]) == "[1] [3] [4] IFR policy · ifr.pdf, pages 4, 7"
    assert document_label(groups[1]) == "[2] IFR policy · other.pdf"
