"""The refusal rules, one by one (issue 18). Each test hands `Assistant._refusal` passages and scored
sentences that every other rule lets through, so only the rule under test can refuse: switch it off
and its test fails (bench/mutate.py plants exactly that). The end-to-end refusal gates live in
test_eval_gate.py; these say which rule does what."""
from __future__ import annotations

import pytest

from assistant.assistant import NOT_IN_CHOSEN, OFF_TOPIC, PERSONAL, REFUSAL
from assistant.extractive import Candidate
from assistant.answers import Hit

pytestmark = pytest.mark.shared

# A question every rule lets through when the passage is close and its sentence scores well:
# all its words are in the index, it names no staff matter and asks for no figure or date.
PLAIN_QUESTION = "What did the NHS mandate say about councils?"
MANDATE_SENTENCE = ("The mandate also introduces a duty on the NHSCB to make sure local clinical commissioning "
                    "groups work closely with councils.")


def passage(text: str = MANDATE_SENTENCE, similarity: float = 0.8) -> Hit:
    return Hit(chunk_id="c1", source="/docs/mandate.txt", title="NHS mandate stresses joined-up care", page=None,
               text=text, score=1.0, similarity=similarity)


def scored(hit: Hit, score: float = 0.9, states: bool = False) -> Candidate:
    return Candidate(hit_rank=0, hit=hit, start=0, end=len(hit.text), score=score, states=states)


def test_the_plain_question_passes_every_rule(assistant):
    """The baseline the tests below start from: a close passage and a well-scored sentence."""
    hit = passage()
    assert assistant._refusal(PLAIN_QUESTION, [hit], [scored(hit)]) is None


def test_a_name_no_passage_mentions_is_refused_by_that_name(assistant):
    question = "What did the Quixotic Trust say about councils?"
    hit = passage()
    refusal = assistant._refusal(question, [hit], [scored(hit)])
    assert refusal is not None and "do not mention “Quixotic”" in refusal


def test_no_passage_close_to_the_question_is_a_refusal(assistant):
    hit = passage(similarity=assistant.settings.refusal_min_similarity - 0.05)
    assert assistant._refusal(PLAIN_QUESTION, [hit], [scored(hit)]) == REFUSAL


def test_no_sentence_that_scores_as_an_answer_is_a_refusal(assistant):
    hit = passage()
    low = scored(hit, score=assistant.settings.refusal_min_score - 0.05)
    assert assistant._refusal(PLAIN_QUESTION, [hit], [low]) == REFUSAL
    assert assistant._refusal(PLAIN_QUESTION, [hit], []) == REFUSAL


def test_under_a_filter_the_refusal_says_the_chosen_documents_do_not_answer(assistant):
    hit = passage(similarity=0.05)
    assert assistant._refusal(PLAIN_QUESTION, [hit], [scored(hit)], filtered=True) == NOT_IN_CHOSEN


def test_a_staff_matter_the_passages_do_not_mention_is_off_topic(assistant):
    question = "What did the NHS mandate say about overtime for councils?"
    assert not assistant.searcher.unknown_names(question), "the test needs a question with known words only"
    hit = passage()
    assert assistant._refusal(question, [hit], [scored(hit)]) == OFF_TOPIC.format(topic="overtime")
    # The same question is answered when a passage does mention the matter.
    mentioned = passage(MANDATE_SENTENCE + " Overtime for council staff is paid at the usual rate.")
    assert assistant._refusal(question, [mentioned], [scored(mentioned)]) is None


def test_a_question_about_the_askers_own_circumstances_needs_a_strong_answer(assistant):
    """ "What did the NHS mandate tell me about councils?" passes the general floor with a sentence
    scoring under `refusal_personal_score`, and is refused as a personal matter; the same sentence
    scoring above it answers."""
    question = "What did the NHS mandate tell me about councils?"
    hit = passage()
    bar = assistant.settings.refusal_personal_score
    assert assistant.settings.refusal_min_score < bar - 0.05
    assert assistant._refusal(question, [hit], [scored(hit, score=bar - 0.05)]) == PERSONAL
    assert assistant._refusal(question, [hit], [scored(hit, score=bar + 0.05)]) is None
    # Put impersonally, the weaker sentence answers.
    assert assistant._refusal(PLAIN_QUESTION, [hit], [scored(hit, score=bar - 0.05)]) is None


def test_a_numbered_part_no_passage_names_is_refused_by_that_label(assistant):
    question = "What did the NHS mandate say about councils in segment 4?"
    hit = passage()
    refusal = assistant._refusal(question, [hit], [scored(hit)])
    assert refusal is not None and "do not mention “segment 4”" in refusal
    named = passage(MANDATE_SENTENCE + " Councils in segment 4 get support.")
    assert assistant._refusal(question, [named], [scored(named)]) is None


def test_a_numbered_part_in_a_documents_title_places_all_its_passages(assistant):
    """ "Tirzepatide for type 2 diabetes" names type 2 in its title; its dosing passage need not."""
    question = "What did the NHS mandate say about councils in segment 4?"
    hit = Hit(chunk_id="c1", source="/docs/segment-4-mandate.txt", title="The NHS mandate for segment 4 councils",
              page=None, text=MANDATE_SENTENCE, score=1.0, similarity=0.8)
    assert assistant._refusal(question, [hit], [scored(hit)]) is None


def test_a_figure_the_passages_do_not_state_is_a_near_miss(assistant):
    question = "How much money did the NHS mandate give councils?"
    hit = passage()
    refusal = assistant._refusal(question, [hit], [scored(hit, states=False)])
    assert refusal is not None and "NHS mandate stresses joined-up care" in refusal
    assert refusal not in (REFUSAL, NOT_IN_CHOSEN)
    # A sentence that states an amount, scoring near the best, answers it.
    assert assistant._refusal(question, [hit], [scored(hit, states=True)]) is None


def test_a_yes_or_no_the_passages_do_not_speak_to_says_it_cannot_answer_yes_or_no(assistant):
    question = "Do councils have to publish the NHS mandate on their website?"
    hit = passage()
    refusal = assistant._refusal(question, [hit], [scored(hit, states=False)])
    assert refusal is not None and "do not say whether this is so" in refusal and "yes or no" in refusal
    assert assistant._refusal(question, [hit], [scored(hit, states=True)]) is None


def test_a_stated_figure_far_below_the_best_sentence_does_not_count(assistant):
    """Only a sentence within `refusal_stated_share` of the best score counts as stating the answer."""
    question = "How much money did the NHS mandate give councils?"
    hit = passage()
    share = assistant.settings.refusal_stated_share
    best, weak = scored(hit, score=0.9), scored(hit, score=0.9 * share - 0.05, states=True)
    assert assistant._refusal(question, [hit], [best, weak]) is not None
    close = scored(hit, score=0.9 * share + 0.01, states=True)
    assert assistant._refusal(question, [hit], [best, close]) is None


def test_under_a_filter_a_much_better_answer_elsewhere_is_named(assistant):
    """End to end through ask(): the chosen documents are loosely related, the library answers from
    a document outside the filter, and the reply names it instead of quoting the chosen ones."""
    question = "What did the NHS mandate say about people with learning disabilities?"
    answer = assistant.ask(question, date_from="2017-01-01")
    assert answer.refused
    assert "chosen in the search filters do not answer" in answer.answer
    assert "“NHS mandate stresses joined-up care”, outside them" in answer.answer
    # Without the filter the same question is answered from that document.
    assert not assistant.ask(question).refused
