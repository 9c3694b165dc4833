"""How the extractive answerer chooses sentences, on its own (issue 12: only the end-to-end gates
covered it): the sentence holding the question's rarest words wins, a number wins a "how many"
question, near-best sentences are quoted together in document order, weak ones are not, a heading
is never quoted alone, and a lead-in sentence is quoted with its list."""
from __future__ import annotations

from dataclasses import replace

from assistant.answers import Hit
from assistant.extractive import ExtractiveAnswerer
from assistant.scoring import DEFAULT_SCORING

RARE = {"telecare": 3.0, "alarm": 2.5, "lend": 2.0, "week": 1.5}


def idf(term: str) -> float:
    return RARE.get(term, 0.5)


def hit(text: str, rank_similarity: float = 0.6, chunk: str = "c1") -> Hit:
    return Hit(chunk_id=chunk, source=f"/docs/{chunk}.txt", title="Council care notes", page=None, text=text,
               score=1.0, similarity=rank_similarity)


def answerer(**changes) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(idf, None, max_sentences=4, scoring=replace(DEFAULT_SCORING, **changes))


def test_the_sentence_with_the_questions_rare_words_is_chosen():
    text = ("The council publishes an annual report on adult social care services. "
            "The telecare scheme lends alarms to residents for twelve weeks at no charge. "
            "Residents may also ask for a home visit from the occupational therapy team.")
    answer, citations = answerer().answer("How long does the telecare scheme lend alarms?", [hit(text)])
    assert citations[0].quote == "The telecare scheme lends alarms to residents for twelve weeks at no charge."


def test_a_how_many_question_prefers_the_sentence_with_a_number():
    text = ("The telecare scheme lends alarms to residents who live alone in the borough. "
            "The telecare scheme lends 450 alarms to residents who live alone each year.")
    ranked = answerer().ranked("How many alarms does the telecare scheme lend?", [hit(text)])
    assert "450" in ranked[0].text and ranked[0].bonuses == 1


def test_sentences_near_the_best_are_quoted_together_in_document_order():
    text = ("Telecare alarms are lent for twelve weeks by the council scheme. "
            "A weekly visit checks the telecare alarms lent under the scheme. "
            "Parking permits for carers are issued by the highways team each spring.")
    answer, citations = answerer().answer("How long are telecare alarms lent for, and are they checked weekly?",
                                          [hit(text)])
    quotes = [c.quote for c in citations]
    assert quotes[:2] == ["Telecare alarms are lent for twelve weeks by the council scheme.",
                          "A weekly visit checks the telecare alarms lent under the scheme."]
    assert not any("Parking" in q for q in quotes)

def test_only_sentences_within_the_pick_share_of_the_best_are_quoted():
    text = ("The telecare scheme lends alarms to residents for twelve weeks at no charge. "
            "Alarms and pendants are fitted by the council's own technician team. "
            "Residents may also ask for a home visit from the occupational therapy team.")
    question = "How long does the telecare scheme lend alarms?"
    for share in (0.3, 0.6, 0.9):
        chooser = answerer(pick_share=share)
        ranked = chooser.ranked(question, [hit(text)])
        expected = {c.text for c in ranked if c.score >= share * ranked[0].score}
        _, citations = chooser.answer(question, [hit(text)])
        assert {c.quote for c in citations} == expected


def test_a_heading_is_never_quoted_alone_and_a_lead_in_comes_with_its_list():
    text = ("Telecare alarm loans\n"
            "Alarms are lent in the following situations:\n"
            "a resident lives alone after a fall\n"
            "a carer is away for more than a week\n\n"
            "The scheme is reviewed by the council every year.")
    ranked = answerer().ranked("When are telecare alarms lent?", [hit(text)])
    assert all(c.text.strip() != "Telecare alarm loans" for c in ranked)
    best = ranked[0].text
    assert "following situations" in best and "lives alone after a fall" in best and "away for more than a week" in best


def test_the_documents_own_title_is_never_quoted_as_an_answer():
    """A long title printed at the head of a document shares every word of a question about the
    document ("How many alarms did the review of the telecare scheme count?") and answers none."""
    title = "Telecare alarms for people who live alone: a review of the council scheme and its outcomes"
    text = f"{title}\n\nThe review counted 450 alarms lent in its first year."
    ranked = answerer().ranked("How many alarms did the review of the telecare scheme count?",
                               [replace(hit(text), title=title)])
    assert [c.text for c in ranked] == ["The review counted 450 alarms lent in its first year."]


def test_a_title_taken_from_the_first_sentence_may_still_answer():
    """A plain note has no title line; its title is its first sentence, which may be the answer."""
    sentence = "The telecare equipment loan scheme lends alarms to residents for twelve weeks."
    ranked = answerer().ranked("How long does the telecare scheme lend alarms?", [replace(hit(sentence), title=sentence)])
    assert ranked and ranked[0].text == sentence


def test_a_later_passage_pays_its_rank_penalty():
    same = "The telecare scheme lends alarms to residents for twelve weeks at no charge."
    ranked = answerer().ranked("How long does the telecare scheme lend alarms?",
                               [hit("Unrelated opening text about the annual report of the council.", chunk="a"),
                                hit(same, chunk="b")])
    first, = [c for c in ranked if c.hit.chunk_id == "b"]
    assert first.penalty == -DEFAULT_SCORING.rank_penalty * 1


def test_a_line_cut_off_mid_phrase_is_read_on_with_the_next_line():
    text = ("• invest up to £120 million to develop more\n\n"
            "• dedicated mental health emergency departments, to ensure patients get fast access.\n\n"
            "• expand mental health support teams to reach full coverage of schools.")
    answer, citations = answerer().answer("How much money will develop dedicated mental health emergency departments?",
                                          [hit(text)])
    assert "£120 million" in citations[0].quote and "emergency departments" in citations[0].quote


def test_an_item_ending_with_comma_and_is_not_joined_to_the_next_item():
    from assistant.extractive import _with_run_ons

    text = "• the first condition is met, and\n• they have a BMI of 35 kg/m2 or more."
    spans = [(2, text.index("\n")), (text.index("they"), len(text))]
    assert _with_run_ons(text, spans) == spans


def test_a_sentence_stating_the_frequency_asked_for_is_quoted_though_others_outrank_it():
    text = ("The telecare alarm register lists every alarm lent to residents of the borough. "
            "The telecare alarm register is kept by the council's alarm team for residents. "
            "The telecare alarm register names the resident and the alarm lent to them. "
            "The telecare alarm register is open to residents who ask to see their alarm entry. "
            "The team reviews the telecare register quarterly with the resident.")
    answer, citations = answerer().answer("How often is the telecare alarm register reviewed for residents?",
                                          [hit(text)])
    assert any("quarterly" in c.quote for c in citations)


def test_a_question_word_no_passage_holds_is_read_without_its_prefix():
    held = {"run": 1.0, "segment": 2.0}
    reader = ExtractiveAnswerer(lambda term: held.get(term, 9.0), None)
    assert reader._known_form("rerun", 9.0) == "run"
    assert reader._known_form("segment", 9.0) == "segment"
    assert reader._known_form("rezzyq", 9.0) == "rezzyq"  # nothing held either way: left as asked


def test_a_question_opening_with_and_continues_the_last_one():
    from assistant.followup import rewrite

    history = [{"role": "user", "content": "How many studies made it into the Iqbal et al. review?"},
               {"role": "assistant", "content": "29 studies."}]
    assert "Iqbal" in rewrite("And how many records did the literature search bring back?", history)
    assert rewrite("How many records did the search bring back?", history) == \
        "How many records did the search bring back?"


def test_a_who_question_is_answered_by_a_role_as_well_as_by_a_name():
    text = ("Case study 6 from Connecting Care for Children describes a neighbourhood team in Westminster. "
            "It is best practice to assign a care coordinator to every person in the neighbourhood team's cohort.")
    ranked = answerer().ranked("Who should be the point of contact for each person a neighbourhood team supports?",
                               [hit(text)])
    assert "care coordinator" in ranked[0].text and ranked[0].bonuses == 1


def test_a_sentence_going_on_with_the_particulars_ranks_with_the_one_it_goes_on_from():
    """ "NHS England highlighted five telecare schemes." holds the question's words; "The schemes - in
    Bradford and Hull - ..." one sentence on holds the places asked for, and ranks right after it."""
    text = ("NHS England highlighted five telecare alarm schemes run by councils. "
            "This is the result of interviews with more than fifty council officers. "
            "The schemes, which include initiatives in Bradford and Hull, showed that trust is crucial.")
    ranked = answerer().ranked("In which places are the telecare alarm schemes NHS England highlighted?", [hit(text)])
    assert ranked[0].text.startswith("NHS England highlighted")
    assert ranked[1].text.startswith("The schemes, which include") and ranked[1].states
    assert ranked[1].score > ranked[0].score - 0.01


def test_a_sentence_about_another_thing_does_not_go_on_from_the_best():
    text = ("NHS England highlighted five telecare alarm schemes run by councils. "
            "The officers, who work in Bradford and Hull, were interviewed.")
    ranked = answerer().ranked("In which places are the telecare alarm schemes NHS England highlighted?", [hit(text)])
    officers = next(c for c in ranked if c.text.startswith("The officers"))
    assert officers.score < 0.9 * ranked[0].score
