"""Abbreviations the documents spell out are searched for with their long form; those the documents
use themselves are left alone."""
from __future__ import annotations

import pytest

from assistant.abbreviations import expand, long_forms_only


def never_indexed(word: str) -> bool:
    return False


def test_an_abbreviation_no_passage_holds_gains_its_long_form():
    assert expand("CDCs - how many were open?", never_indexed) == "CDCs (community diagnostic centre) - how many were open?"


def test_an_abbreviation_the_documents_use_is_left_alone():
    assert expand("What does each ICB publish?", lambda word: word == "ICB") == "What does each ICB publish?"


def test_a_long_form_the_question_already_holds_is_not_added_again():
    question = "Do MDTs (multidisciplinary teams) meet weekly?"
    assert expand(question, never_indexed) == question


@pytest.mark.parametrize("question", ["Is INTERNAL audit involved?", "What is a PCNX?", "Ask the EDitor"])
def test_only_whole_abbreviations_are_read(question):
    assert expand(question, never_indexed) == question


def test_the_names_check_reads_the_long_form_without_the_abbreviation():
    expanded = expand("Which PHM tool must we use?", never_indexed)
    assert "PHM" not in long_forms_only(expanded) and "population health management" in long_forms_only(expanded)
    assert long_forms_only("Which PHM tool must we use?") == "Which PHM tool must we use?"


@pytest.mark.shared
def test_a_question_in_abbreviations_is_answered_from_the_spelled_out_passage(library_assistant):
    answer = library_assistant.ask("CDCs - how many were meant to be up and running by March 2025?")
    assert "community diagnostic centre" in answer.search_query
    assert not answer.refused and "170" in answer.answer
