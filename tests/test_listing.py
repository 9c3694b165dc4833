"""A list the question asks for is read on from the sentence that announces it (issue 10): the
items may be lettered headings pages apart, or a table's numbered rows in the next chunk."""
from __future__ import annotations

from assistant.answers import Hit
from assistant.extractive import ExtractiveAnswerer
from assistant.listing import announced_count, items_after

LEAD_IN = "This appendix describes 6 core components (A to F) associated with an effective service."
COMPONENTS = ["Population health management", "Modern general practice", "Standardising community health services",
              "Neighbourhood multidisciplinary teams (MDTs)", "Integrated intermediate care", "Urgent neighbourhood services"]


def chunk(text: str, n: int, start: int) -> Hit:
    return Hit(chunk_id=f"c{n}", source="/docs/guidelines.md", title="Neighbourhood health guidelines", page=None,
               text=text, score=1.0, similarity=0.6, start=start, end=start + len(text))


def appendix() -> list[Hit]:
    """The lead-in, then each component as a lettered heading with a paragraph under it, one chunk each."""
    chunks, start = [chunk(f"Appendix 1\n\n{LEAD_IN}\n\nSystems will consider each component.", 0, 0)], 200
    for n, (letter, name) in enumerate(zip("ABCDEF", COMPONENTS), start=1):
        text = f"{letter}. {name}\n\nSystems should build this component with local partners over the year."
        chunks.append(chunk(text, n, start))
        start += len(text) + 2
    return chunks


def test_a_sentence_announcing_as_many_items_as_the_question_asks_about_counts():
    assert announced_count("What are the six core building blocks listed in the appendix?", LEAD_IN) == 6
    assert announced_count("What are the core components of neighbourhood health?", LEAD_IN) == 6


def test_a_list_asked_for_after_a_sentence_of_context_counts():
    question = "I keep hearing about the 'six components' of neighbourhood health. What are they?"
    assert announced_count(question, LEAD_IN) == 6


def test_a_lettered_range_typed_as_keywords_asks_for_that_many_items():
    assert announced_count("neighbourhood health guidelines core components A to F", LEAD_IN) == 6
    assert announced_count("neighbourhood health guidelines core components A to D", LEAD_IN) is None


def test_a_question_for_one_fact_or_another_number_is_no_list_question():
    assert announced_count("Who developed the core components?", LEAD_IN) is None
    assert announced_count("What are the five core components?", LEAD_IN) is None


def test_the_lettered_headings_that_follow_are_the_items_in_order():
    first, *rest = appendix()
    end = first.text.index(LEAD_IN) + len(LEAD_IN)
    items = items_after(first, end, 6, lambda hit: rest)
    assert [item.text for item in items] == [f"{l}. {n}" for l, n in zip("ABCDEF", COMPONENTS)]
    assert [item.hit.chunk_id for item in items] == [f"c{n}" for n in range(1, 7)]


def test_a_list_cut_short_gives_no_items():
    first, *rest = appendix()
    assert items_after(first, len(first.text), 6, lambda hit: rest[:4]) == []


def test_a_numbered_sentence_is_no_item_name():
    text = "The process follows 3 steps:\n\n1. each metric is scored on a scale of 1 to 4.\n\n2. Scores are averaged"
    assert items_after(chunk(text, 0, 0), text.index(":") + 1, 3, None) == []


def test_the_answer_quotes_the_announcing_sentence_then_each_item_cited_where_it_stands():
    hits = appendix()
    answerer = ExtractiveAnswerer(lambda term: 1.0, None, read_on=lambda hit: hits[hits.index(hit) + 1:])
    text, citations = answerer.answer("What are the six core components of an effective service?", hits[:1])
    assert citations[0].quote == LEAD_IN
    assert [c.quote for c in citations[1:]] == [f"{l}. {n}" for l, n in zip("ABCDEF", COMPONENTS)]
    assert all(c.quote in hits[int(c.chunk_id[1:])].text for c in citations)
    assert text.splitlines()[1] == "• A. Population health management [2]"


def test_what_a_list_question_asks_for():
    from assistant.listing import listed_thing

    assert listed_thing("Which five domains will NHS England publish domain scores for?") == "domain"
    assert listed_thing("What are the six core components of neighbourhood health?") == "compon"
    assert listed_thing("Who chairs the panel?") is None


def test_a_lead_in_to_a_list_of_what_was_asked_is_quoted_with_its_list_over_a_sentence_naming_a_body():
    text = ("NHS England will assess each provider in the Model Health System.\n\n"
            "We will provide domain scores for:\n\naccess to services, patient safety, finance and productivity")
    answerer = ExtractiveAnswerer(lambda term: 1.0, None)
    ranked = answerer.ranked("Which domains will NHS England publish domain scores for?", [chunk(text, 0, 0)])
    assert ranked[0].text.startswith("We will provide domain scores for:") and "patient safety" in ranked[0].text


def test_a_list_read_in_full_is_the_whole_answer():
    """Sentences that only restate the subject ("the six core components ... should be brought
    together") no longer trail after the six items, where they read as part of the last one."""
    hits = appendix()
    hits[0] = chunk(f"Appendix 1\n\n{LEAD_IN}\n\nEvery effective service should bring its six core components "
                    "together with local partners.", 0, 0)
    answerer = ExtractiveAnswerer(lambda term: 1.0, None, read_on=lambda hit: hits[hits.index(hit) + 1:])
    text, citations = answerer.answer("What are the six core components of an effective service?", hits[:1])
    assert [c.quote for c in citations] == [LEAD_IN] + [f"{l}. {n}" for l, n in zip("ABCDEF", COMPONENTS)]
    assert text.rstrip().endswith("• F. Urgent neighbourhood services [7]")


def test_a_list_is_quoted_after_its_lead_in_sentence_alone():
    """"The six core components shown below." is followed by a table's caption and column headings
    before the first item: the lead-in is quoted without them."""
    hits = appendix()
    lead_in = "This appendix describes the 6 core components of an effective service shown below."
    hits[0] = chunk(f"Appendix 1\n\n{lead_in}\n\nTable 1: Components\n\nComponent\n\nDescription", 0, 0)
    answerer = ExtractiveAnswerer(lambda term: 1.0, None, read_on=lambda hit: hits[hits.index(hit) + 1:])
    text, citations = answerer.answer("What are the six core components of an effective service?", hits[:1])
    assert citations[0].quote == lead_in
    assert [c.quote for c in citations[1:]] == [f"{l}. {n}" for l, n in zip("ABCDEF", COMPONENTS)]
