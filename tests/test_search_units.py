"""The retrieval pieces on their own (issue 12): filter dates, score fusion, reciprocal rank fusion,
and the keyword statistics, which the end-to-end gates cover only through their totals."""
from __future__ import annotations

import pytest

from assistant.errors import UsageError
from assistant.search import Filters, _rrf, _score_fusion, date_bound

from .conftest import make_settings


@pytest.mark.parametrize("value,first,last", [
    ("2016", "2016-01-01", "2016-12-31"),
    ("2016-02", "2016-02-01", "2016-02-29"),
    ("2023-02", "2023-02-01", "2023-02-28"),
    ("2016-06-28", "2016-06-28", "2016-06-28"),
    (None, None, None), ("", None, None)])
def test_a_year_or_a_month_means_its_first_or_last_day(value, first, last):
    assert date_bound(value) == first and date_bound(value, last=True) == last


@pytest.mark.parametrize("value", ["notadate", "2016-13", "2016-13-45", "16"])
def test_anything_else_is_a_usage_error(value):
    with pytest.raises(UsageError, match="is not a date"):
        date_bound(value)


def test_filters_keep_dates_as_full_days():
    filters = Filters(date_from="2016", date_to="2016")
    assert (filters.date_from, filters.date_to) == ("2016-01-01", "2016-12-31")
    assert filters.chroma_where([]) == {"$and": [{"date_int": {"$gte": 20160101}}, {"date_int": {"$lte": 20161231}}]}


def test_source_filters_match_full_paths_or_name_fragments():
    known = ["/docs/a/insulin-needles.pdf", "/docs/b/ifr-policy.pdf"]
    assert Filters(sources=["insulin"]).matching(known) == ["/docs/a/insulin-needles.pdf"]
    assert Filters(sources=["/docs/b/ifr-policy.pdf"]).matching(known) == ["/docs/b/ifr-policy.pdf"]
    assert Filters(sources=["nothing"]).chroma_where(known) == {"source": {"$in": ["\x00none"]}}


def test_score_fusion_mixes_each_half_divided_by_its_best():
    cosine = {0: 0.8, 1: 0.4, 2: 0.2}
    keyword = {1: 10.0, 2: 5.0}  # chunk 0 holds none of the words
    ranked = _score_fusion([0, 1, 2], cosine, keyword, share=0.5)
    scores = dict(ranked)
    assert scores[0] == pytest.approx(0.5 * 0 + 0.5 * 1.0)
    assert scores[1] == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    assert scores[2] == pytest.approx(0.5 * 0.5 + 0.5 * 0.25)
    assert [i for i, _ in ranked] == [1, 0, 2]
    # All keyword weight: the BM25 order; none: the cosine order.
    assert [i for i, _ in _score_fusion([0, 1, 2], cosine, keyword, share=1.0)] == [1, 2, 0]
    assert [i for i, _ in _score_fusion([0, 1, 2], cosine, keyword, share=0.0)] == [0, 1, 2]
    assert _score_fusion([], cosine, keyword, 0.5) == []


def test_negative_cosines_count_as_zero_in_the_fusion():
    ranked = dict(_score_fusion([0, 1], {0: -0.5, 1: 0.5}, {}, share=0.3))
    assert ranked[0] == 0.0 and ranked[1] == pytest.approx(0.7)


def test_reciprocal_rank_fusion_sums_one_over_k_plus_rank():
    ranked = _rrf([[3, 1], [1, 2]], k=60)
    scores = dict(ranked)
    assert scores[1] == pytest.approx(1 / 62 + 1 / 61)
    assert scores[3] == pytest.approx(1 / 61) and scores[2] == pytest.approx(1 / 62)
    assert ranked[0][0] == 1


@pytest.mark.shared
def test_idf_can_be_asked_before_the_first_search(tmp_path, embedder):
    """It raised AttributeError: the cache was made by the first keyword-index build."""
    import ingest
    from assistant.search import HybridSearcher
    from index.store import ChromaStore

    from .conftest import SEEDS

    settings = make_settings(tmp_path / "store")
    ingest.run([SEEDS / "000_1ba0c70c47b0b245.txt"], settings, embedder=embedder)
    searcher = HybridSearcher(ChromaStore(settings), embedder)
    rare, common, absent = searcher.idf("winterbourn"), searcher.idf("mandat"), searcher.idf("zzzz")
    assert absent > rare > common > 0  # Winterbourne View is named once, the mandate throughout


@pytest.mark.shared
def test_a_year_filter_through_the_assistant_keeps_that_years_documents(assistant):
    """ "to 2016" kept nothing dated before; now it keeps the June 2016 article."""
    hits = assistant.search("Whitehall wellbeing department", date_from="2016", date_to="2016")
    assert hits and all(h.date and h.date.startswith("2016") for h in hits)
    assert any(h.source.endswith("002_8975fbdea5563a37.txt") for h in hits)


def test_a_capital_that_starts_a_sentence_names_nothing():
    """ "... a cohort with complex needs. Roughly what share ...?" was refused: "the documents do not
    mention “Roughly”". A capital after a sentence's end is the sentence's; mid-sentence it is a name's."""
    from assistant.english import specific_words

    words = [word for word, _ in specific_words("The guidance mentions a cohort. Roughly what share is that?")]
    assert "Roughly" not in words and "The" not in words
    assert [word for word, _ in specific_words("What did the Quixotic Trust say?")] == ["Quixotic", "Trust"]


def test_a_single_capitalised_word_that_starts_a_sentence_is_no_entity():
    from assistant.english import entities

    assert entities("The guidelines mention a cohort. Roughly what share is that?") == []
    assert entities("What did Sir Merrick Cockell say? Roughly what share?") == ["Sir Merrick Cockell"]


def test_a_medicines_generic_name_is_specific_however_short():
    """"What's the recommended apixaban dose ...?" was answered from a dapagliflozin document: a
    generic name is as specific as a capitalised one, so a library that never names it is said not to."""
    from assistant.english import specific_words

    words = [word for word, _ in specific_words("What's the recommended apixaban dose, and is ramipril safe?")]
    assert "apixaban" in words and "ramipril" in words
    assert not [word for word, _ in specific_words("what dose and what control of capital?")]
