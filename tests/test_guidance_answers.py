"""Answers on the integration guidance in the default corpus: near misses and staff matters are
refused with a reason, and answers quote the sentence that states what was asked."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.shared


@pytest.mark.parametrize("question", [
    "How much capital funding will each new neighbourhood health centre receive?",
    "How much capital is available in 2025/26 to increase the number of co-located urgent treatment centres?",
    "By what date must Health and Wellbeing Boards submit their neighbourhood health plans to DHSC?",
])
def test_a_near_miss_is_refused_saying_what_the_documents_leave_out(library_assistant, question):
    answer = library_assistant.ask(question)
    assert answer.refused and not answer.citations
    assert "do not state" in answer.answer
    assert "“" in answer.answer  # names the documents that discuss the subject


@pytest.mark.parametrize("question", [
    "How many days of annual leave do Agenda for Change staff get?",
    "How do I reset my NHSmail password?",
    "What is the income tax personal allowance for the 2025/26 tax year?",
])
def test_a_staff_matter_is_refused_as_outside_the_documents(library_assistant, question):
    answer = library_assistant.ask(question)
    assert answer.refused and not answer.citations
    assert "HR, payroll or IT" in answer.answer


def test_a_question_for_a_frequency_quotes_the_sentence_that_states_it(library_assistant):
    answer = library_assistant.ask("How often will NHS England run the segmentation process for providers?")
    assert not answer.refused
    assert "quarterly" in answer.citations[0].quote
    assert answer.citations[0].source.endswith("nhse-2025-oversight-framework-methodology-manual.md")


def test_a_list_question_is_answered_with_the_items_the_guidance_announces(library_assistant):
    answer = library_assistant.ask("What are the initial 6 core components of a neighbourhood health service?")
    items = [c.quote for c in answer.citations if c.quote[:2] in {f"{letter}." for letter in "ABCDEF"}]
    assert items[0] == "A. Population health management" and items[-1] == "F. Urgent neighbourhood services"
    assert len(items) == 6 and all(c.verified for c in answer.citations)


def test_a_tables_numbered_rows_answer_for_its_principles(library_assistant):
    answer = library_assistant.ask("What are the five core principles for effective, integrated planning?")
    for principle in ("1. Outcome-focused", "3. Evidence-based", "5. Credible and deliverable"):
        assert f"{principle} [" in answer.answer


def test_a_figure_cut_off_by_a_two_column_conversion_is_read_on(library_assistant):
    answer = library_assistant.ask("How much will the plan invest in more dedicated mental health emergency departments?")
    assert "£120 million" in answer.citations[0].quote


def test_a_count_about_a_neighbouring_thing_is_a_near_miss(library_assistant):
    answer = library_assistant.ask("How many neighbourhood health centres does the government expect to have open by 2030?")
    assert answer.refused and "do not state a number" in answer.answer


def test_a_question_with_its_figure_stated_is_answered_not_refused(library_assistant):
    answer = library_assistant.ask("By how much do providers need to reduce their cost base in 2025/26?")
    assert not answer.refused and "%" in answer.answer


def test_quotes_from_the_guidance_carry_no_conversion_debris(library_assistant):
    answer = library_assistant.ask("What does the neighbourhood health guidance say about Lord Darzi's investigation?")
    assert not answer.refused
    for citation in answer.citations:
        assert "\\" not in citation.quote and "http" not in citation.quote and "**" not in citation.quote
        assert " wil " not in f" {citation.quote} "


# --- what may stand as a quoted sentence (unit) ---------------------------------------------------

def _hit(text: str):
    from assistant.answers import Hit

    return Hit(chunk_id="c1", source="/docs/guide.md", title="Guide", page=None, text=text,
               similarity=0.6, score=1.0)


def test_a_heading_is_never_quoted_on_its_own():
    from assistant.extractive import ExtractiveAnswerer

    answerer = ExtractiveAnswerer(idf=lambda term: 1.0)
    text = ("Principles for effective integrated planning\n\n"
            "Planning should be anchored in delivering measurable improvements in outcomes for patients.")
    quotes = [c.text for c in answerer.ranked("What are the principles for effective integrated planning?", [_hit(text)])]
    assert quotes and "Principles for effective integrated planning" not in quotes


def test_a_paragraph_number_is_no_part_of_the_quote():
    from assistant.english import sentences

    assert sentences("46. Information submitted to the IFR Team is kept securely.") == \
        ["Information submitted to the IFR Team is kept securely."]


def test_a_refused_turn_does_not_feed_the_follow_up_rewrite():
    from assistant.followup import answered_questions, rewrite

    history = [{"role": "user", "content": "What did Sarah Pickup say about the NHS mandate?"},
               {"role": "assistant", "content": "She said ... [1]"},
               {"role": "user", "content": "What is the parking policy at Leeds General Infirmary?"},
               {"role": "assistant", "content": "The documents in the index do not mention “Leeds”, so ..."}]
    assert answered_questions(history) == ["What did Sarah Pickup say about the NHS mandate?"]
    assert "Leeds" not in rewrite("What did she say about councils?", history)
    assert "Sarah Pickup" in rewrite("What did she say about councils?", history)
    assert answered_questions([{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "x", "refused": True}]) == []


def test_a_heading_is_not_joined_to_a_numbered_paragraph_nor_form_text_taken_for_one():
    from assistant.extractive import ExtractiveAnswerer

    answerer = ExtractiveAnswerer(idf=lambda term: 1.0)
    text = ("Information submitted to the NHS\nEngland IFR Team\n46. All applications must be accompanied by "
            "written support from the clinician treating the patient.\nyes, please\nprovide details\n"
            "7f) Do you plan to submit a future policy proposal for this treatment instead?")
    quotes = [c.text for c in answerer.ranked("How must applications to the IFR Team be supported?", [_hit(text)])]
    assert "All applications must be accompanied by written support from the clinician treating the patient." in quotes
    assert not any("Information submitted" in q or "46." in q or "yes, please" in q or "7f)" in q for q in quotes)
