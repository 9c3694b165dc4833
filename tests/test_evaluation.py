"""Every metric on hand-made cases with known answers: each one at 1, strictly between, and at 0.
No model, no store: these run in milliseconds."""
from __future__ import annotations

import json

import pytest

import evaluation as ev
from evaluation import StoredPassage

A = "/docs/nhs/Prescribing-of-Insulin-Needles.pdf"
B = "/docs/nhs/Commissioning-policy-individual-funding-requests-v3.pdf"
C = "/docs/seeds/000_1ba0c70c47b0b245.txt"
D = "/docs/nhs/type-2-diabetes-in-adults-management.pdf"


# --- retrieval ------------------------------------------------------------------------------------

def test_hit_at_k_one_between_and_zero():
    ranked = [B, A, C]
    assert ev.hit_at(ranked, ["Insulin-Needles"], 1) == 0.0
    assert ev.hit_at(ranked, ["Insulin-Needles"], 2) == 1.0
    assert ev.hit_at(ranked, ["individual-funding"], 1) == 1.0
    assert ev.hit_at(ranked, ["not-there"], 5) == 0.0
    assert ev.hit_at([], ["Insulin-Needles"], 5) == 0.0


def test_expected_sources_match_case_insensitively_by_name_or_path_part():
    assert ev.source_matches(A, "insulin-needles")
    assert ev.source_matches(A, "/docs/nhs/")
    assert not ev.source_matches(A, "")
    assert not ev.source_matches(A, "Needles-of-Insulin")


def test_reciprocal_rank_takes_the_first_expected_source_within_k():
    ranked = [C, B, A, D]
    assert ev.reciprocal_rank(ranked, ["000_1ba0"]) == 1.0
    assert ev.reciprocal_rank(ranked, ["Insulin-Needles"]) == pytest.approx(1 / 3)
    assert ev.reciprocal_rank(ranked, ["Insulin-Needles", "individual-funding"]) == 0.5
    assert ev.reciprocal_rank(ranked, ["Insulin-Needles"], k=2) == 0.0
    assert ev.reciprocal_rank(ranked, ["nowhere"]) == 0.0


def test_recall_at_k_counts_each_expected_source_once():
    ranked = [A, A, B, C, D]
    assert ev.recall_at(ranked, ["Insulin-Needles", "individual-funding"], 5) == 1.0
    assert ev.recall_at(ranked, ["Insulin-Needles", "type-2-diabetes"], 3) == 0.5
    assert ev.recall_at(ranked, ["Insulin-Needles", "Insulin-Needles", "nowhere"], 5) == 0.5
    assert ev.recall_at(ranked, ["nowhere", "neither"], 5) == 0.0
    with pytest.raises(ValueError):
        ev.recall_at(ranked, [], 5)


# --- facts ------------------------------------------------------------------------------------------

def test_fact_hit_ignores_case_spacing_and_typography_but_not_wording():
    answer = "The mandate called for a  Substantial\nreduction in hospital care – and “local” services."
    assert ev.fact_hit(answer, ["substantial reduction"]) == 1.0
    assert ev.fact_hit(answer, ["nothing like it", "hospital care - and \"local\""]) == 1.0
    assert ev.fact_hit(answer, ["substantial increase"]) == 0.0
    assert ev.fact_hit(answer, [""]) == 0.0  # an empty fact is not found everywhere


def test_a_fact_copied_from_a_conversion_that_lost_its_ll_ligatures_matches_the_mended_text():
    answer = "The Health and Well being Board will agree the plan."
    assert ev.fact_hit(answer, ["Health and Wel being Board"]) == 1.0
    assert ev.fact_hit(answer, ["Health and Wel being Boards"]) == 0.0


def test_fact_recall_is_zero_for_a_refused_answerable_question():
    q = ev.Question("What about needles?", expected_sources=["Insulin-Needles"], expected_facts=["4mm"])
    answer = {"answer": "We recommend 4mm needles.", "refused": True, "citations": []}
    row = ev.score_question(q, [A], answer, {})
    assert row["fact_recall"] == 0.0
    assert row["refusal_correct"] == 0.0


# --- statements -------------------------------------------------------------------------------------

def test_statements_end_at_marker_runs_and_years_in_brackets_are_text():
    answer = "Do not offer aspirin. [2015] [1] Offer statins [2][3]. Uncited closing remark here. Another one."
    assert ev.statements(answer, {1, 2, 3}) == [
        ("Do not offer aspirin. [2015]", [1]), ("Offer statins", [2, 3]),
        ("Uncited closing remark here.", []), ("Another one.", [])]


def test_a_quoted_list_is_one_statement():
    answer = "Stop treatment when:\n• eGFR falls below 15\n• the person asks [1]"
    assert ev.statements(answer, {1}) == [("Stop treatment when:\n• eGFR falls below 15\n• the person asks", [1])]


# --- citations --------------------------------------------------------------------------------------

CHUNK_1 = ("Insulin pen needles of 4mm length are recommended for all adults. "
           "Longer needles increase the risk of intramuscular injection.")
CHUNK_2 = "Individual funding requests are considered by a panel that meets monthly."
STORE = {"c1": StoredPassage(A, CHUNK_1), "c2": StoredPassage(B, CHUNK_2)}


def cite(n, chunk_id, quote, source=None):
    return {"n": n, "source": source or STORE[chunk_id].source, "chunk_id": chunk_id, "quote": quote}


def test_citations_all_precise_and_complete():
    quote = "Insulin pen needles of 4mm length are recommended for all adults."
    answer = f"{quote} [1] Individual funding requests are considered by a panel that meets monthly. [2]"
    citations = [cite(1, "c1", quote), cite(2, "c2", CHUNK_2)]
    assert ev.citation_scores(answer, citations, STORE) == (1.0, 1.0)


def test_a_quote_that_is_not_in_the_stored_chunk_is_not_precise():
    invented = "Insulin pen needles of 8mm length are recommended for all adults."
    answer = f"{invented} [1] Individual funding requests are considered by a panel that meets monthly. [2]"
    citations = [cite(1, "c1", invented), cite(2, "c2", CHUNK_2)]
    precision, recall = ev.citation_scores(answer, citations, STORE)
    assert precision == 0.5
    assert recall == 0.5


def test_a_citation_naming_another_document_or_a_missing_chunk_is_not_precise():
    quote = "Insulin pen needles of 4mm length are recommended for all adults."
    wrong_source = [cite(1, "c1", quote, source=B)]
    assert ev.citation_scores(f"{quote} [1]", wrong_source, STORE) == (0.0, 0.0)
    gone = [{"n": 1, "source": A, "chunk_id": "deleted", "quote": quote}]
    assert ev.citation_scores(f"{quote} [1]", gone, STORE) == (0.0, 0.0)


def test_a_real_quote_under_an_unsupported_statement_is_not_precise():
    quote = "Insulin pen needles of 4mm length are recommended for all adults."
    answer = "Funding panels approve bariatric surgery for every applicant within a week. [1]"
    assert ev.citation_scores(answer, [cite(1, "c1", quote)], STORE) == (0.0, 0.0)


def test_uncited_statements_lower_recall_and_unreferenced_citations_lower_precision():
    quote = "Insulin pen needles of 4mm length are recommended for all adults."
    answer = f"{quote} [1] Panels meet monthly to consider requests. Nothing else is said."
    citations = [cite(1, "c1", quote), cite(2, "c2", CHUNK_2)]  # [2] is listed but never cited
    precision, recall = ev.citation_scores(answer, citations, STORE)
    assert precision == 0.5
    assert recall == pytest.approx(1 / 3)


def test_a_citation_needed_for_joint_support_is_precise_and_a_redundant_one_is_not():
    claim = "Needles of 4mm are recommended, a panel meets monthly, and costs vary"
    both = [cite(1, "c1", "Insulin pen needles of 4mm length are recommended for all adults."),
            cite(2, "c2", CHUNK_2)]
    # Neither passage alone holds half the claim's words; together they do: both are needed.
    assert ev.citation_scores(f"{claim} [1][2].", both, STORE) == (1.0, 1.0)
    redundant = "Individual funding requests are considered by a panel that meets monthly"
    precision, recall = ev.citation_scores(f"{redundant} [1][2].", both, STORE)
    assert (precision, recall) == (0.5, 1.0)


def test_nothing_to_measure_is_none_not_a_score():
    assert ev.citation_scores("No markers here at all.", [], STORE) == (None, 0.0)
    assert ev.citation_scores("", [], STORE) == (None, None)


# --- refusals -----------------------------------------------------------------------------------------

def test_refusal_precision_and_recall():
    unanswerable = [True, True, False, False]
    assert ev.refusal_scores([True, True, False, False], unanswerable) == (1.0, 1.0)
    assert ev.refusal_scores([True, False, True, False], unanswerable) == (0.5, 0.5)
    assert ev.refusal_scores([False, False, True, True], unanswerable) == (0.0, 0.0)
    # Undefined, so not a number: nothing refused; no unanswerable question.
    assert ev.refusal_scores([False] * 4, unanswerable) == (None, 0.0)
    assert ev.refusal_scores([True, False], [False, False]) == (0.0, None)


def test_refusal_accuracy_counts_both_right_decisions():
    unanswerable = [True, True, False, False]
    assert ev.refusal_accuracy([True, True, False, False], unanswerable) == 1.0
    assert ev.refusal_accuracy([True, False, False, True], unanswerable) == 0.5
    assert ev.refusal_accuracy([False, False, True, True], unanswerable) == 0.0
    assert ev.refusal_accuracy([], []) is None


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert ev.percentile(values, 50) == 50.0
    assert ev.percentile(values, 95) == 95.0
    assert ev.percentile([7.0], 95) == 7.0
    assert ev.percentile([], 50) is None


# --- totals and thresholds -----------------------------------------------------------------------------

def _row(q, sources, answer, refused=False, citations=()):
    return ev.score_question(q, sources, {"answer": answer, "refused": refused, "citations": list(citations),
                                          "timings_ms": {"retrieve": 10.0, "answer": 2.0, "total": 12.0}},
                             STORE)


def test_summary_means_only_what_was_measured():
    quote = "Insulin pen needles of 4mm length are recommended for all adults."
    q1 = ev.Question("Which needle length?", ["Insulin-Needles"], ["4mm"], id="q1")
    q2 = ev.Question("Who decides funding requests?", ["individual-funding"], ["panel"], id="q2")
    q3 = ev.Question("Capital of Australia?", answerable=False, id="q3")
    rows = [_row(q1, [A, B], f"{quote} [1]", citations=[cite(1, "c1", quote)]),
            _row(q2, [A, C], "", refused=True),
            _row(q3, [C], "", refused=True)]
    summary = ev.summarise(rows)
    m = summary["metrics"]
    assert (m["hit@1"], m["hit@5"], m["mrr@10"], m["fact_recall"]) == (0.5, 0.5, 0.5, 0.5)
    assert (m["refusal_precision"], m["refusal_recall"]) == (0.5, 1.0)
    assert m["refusal_accuracy"] == 2 / 3
    assert (m["citation_precision"], m["citation_recall"]) == (1.0, 1.0)
    assert summary["measured_on"]["citation_precision"] == 1  # refused answers are not cited
    assert m["faithfulness_llm_judged"] is None
    assert summary["latency_ms"]["total"] == {"p50": 12.0, "p95": 12.0, "n": 3}
    assert summary["refusals"] == {"refused_unanswerable": 1, "refused_answerable": 1,
                                   "answered_unanswerable": 0, "answered_answerable": 1}
    assert [r["id"] for r in ev.worst(rows, 3)] == ["q2", "q1", "q3"]


def test_thresholds_fail_below_the_minimum_and_when_not_measured():
    summary = {"metrics": {"hit@5": 0.9, "fact_recall": None}}
    assert ev.failed_thresholds(summary, {"hit@5": 0.9}) == {}
    assert ev.failed_thresholds(summary, {"hit@5": 0.91}) == {"hit@5": {"value": 0.9, "minimum": 0.91}}
    assert "fact_recall" in ev.failed_thresholds(summary, {"fact_recall": 0.0})


def test_threshold_parsing_names_the_problem(tmp_path):
    assert ev.parse_thresholds(["hit@5=0.9", "mrr@10=1"]) == {"hit@5": 0.9, "mrr@10": 1.0}
    for bad in (["hit@7=0.9"], ["hit@5"], ["hit@5=high"], ["hit@5=nan"]):
        with pytest.raises(ValueError):
            ev.parse_thresholds(bad)
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"_comment": "why", "hit@1": 0.5}))
    assert ev.load_thresholds(path) == {"hit@1": 0.5}
    path.write_text(json.dumps({"hit@one": 0.5}))
    with pytest.raises(ValueError, match="unknown metric"):
        ev.load_thresholds(path)


def test_shipped_thresholds_gate_every_metric_their_set_measures():
    """A set without near-miss or off-topic questions cannot gate those two; every other
    unjudged metric is gated on every shipped set."""
    from tests.conftest import ROOT

    kinds = {"near_miss_refusal": "near-miss", "off_topic_refusal": "off-topic"}
    for set_name, name in (("dev", "thresholds"), ("holdout", "holdout-thresholds"),
                           ("integration-dev", "integration-dev-thresholds"),
                           ("integration-holdout", "integration-holdout-thresholds")):
        questions = ev.load_questions(ROOT / "eval" / f"{set_name}.jsonl")
        measured = {m for m in set(ev.METRICS) - set(ev.JUDGED)
                    if m not in kinds or any(q.unanswerable_kind == kinds[m] for q in questions)}
        assert set(ev.load_thresholds(ROOT / "eval" / f"{name}.json")) == measured, name


# --- question sets ---------------------------------------------------------------------------------------

def test_load_questions_reads_every_field(tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [{"id": "a", "question": "Who?", "history": [{"role": "user", "content": "Hi"}],
             "expected_sources": ["x.pdf"], "expected_facts": ["y"], "answerable": True,
             "reference_answer": "Z"},
            {"question": "Capital of Australia?", "answerable": False}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    first, second = ev.load_questions(path)
    assert (first.id, first.history, first.expected_sources, first.reference_answer) == \
        ("a", [{"role": "user", "content": "Hi"}], ["x.pdf"], "Z")
    assert (second.id, second.answerable, second.expected_facts) == ("line-2", False, [])


@pytest.mark.parametrize("line, message", [
    ('{"question": "x", "answerable": "false"}', "answerable"),
    ('{"question": ""}', "question"),
    ('{"question": "x", "expected_sources": "a.pdf"}', "expected_sources"),
    ('{"question": "x", "history": ["hi"]}', "history"),
    ('[1, 2]', "JSON object"),
    ('{"question": "x",', "not JSON"),
])
def test_load_questions_rejects_bad_rows_with_the_line(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "fine"}\n' + line + "\n")
    with pytest.raises(ValueError, match=message) as info:
        ev.load_questions(path)
    assert ":2" in str(info.value) or "line 2" in str(info.value)


def test_load_questions_on_a_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        ev.load_questions(tmp_path / "none.jsonl")


def test_the_dev_set_is_well_formed_and_covers_every_document():
    from tests.conftest import DEV_SET, NHS_PDFS, SEEDS

    questions = ev.load_questions(DEV_SET)
    assert len({q.id for q in questions}) == len(questions)
    assert any(q.history for q in questions) and any(not q.answerable for q in questions)
    for q in questions:
        assert q.answerable == bool(q.expected_sources), q.id
        assert not q.answerable or q.expected_facts, q.id
    if SEEDS.exists():
        documents = [p.name for p in list(SEEDS.iterdir()) + list(NHS_PDFS.iterdir())]
        uncovered = [d for d in documents if not any(ev.source_matches(d, e)
                                                     for q in questions for e in q.expected_sources)]
        assert not uncovered


# --- feedback and exports --------------------------------------------------------------------------------

def test_feedback_becomes_a_question_set():
    lines = [json.dumps({"question": "Needle length?", "answer": "4mm [1]", "rating": "up", "comment": "",
                         "citations": [{"source": A, "page": 2}, {"source": A, "page": 3}],
                         "timestamp": "2025-01-01T10:00:00"}),
             json.dumps({"question": "Who pays?", "answer": "A panel [1]", "rating": 0, "comment": "wrong doc",
                         "citations": [{"source": B}]}),
             json.dumps({"question": "Capital of Australia?", "answer": "Not covered", "rating": 1,
                         "citations": []}),
             json.dumps({"question": "Odd rating", "rating": "meh"}),
             "not json", ""]
    converted = ev.questions_from_feedback(lines)
    assert converted.skipped == 2
    up, down, refusal = converted.questions
    assert up["expected_sources"] == ["Prescribing-of-Insulin-Needles.pdf"] and up["answerable"]
    assert up["reference_answer"] == "4mm [1]" and not up.get("needs_review")
    assert down["needs_review"] and down["answerable"] and down["expected_facts"] == []
    assert down["comment"] == "wrong doc"
    assert refusal["answerable"] is False
    # What it writes is a question set that loads, and evaluation skips the rows to review.
    loaded = [ev.Question.from_dict(row, i) for i, row in enumerate(converted.questions, 1)]
    assert [q.needs_review for q in loaded] == [False, True, False]


def test_feedback_written_by_the_ui_module_converts(tmp_path):
    from assistant import feedback
    from assistant.answers import Answer, Citation

    path = tmp_path / "feedback.jsonl"
    cited = Answer(question="Which needle length?", answer="4mm needles. [1]", refused=False,
                   citations=[Citation(1, A, "Needles", 2, "c1", "4mm", True)])
    refusal = Answer(question="Capital of Australia?", answer="Not covered.", refused=True)
    feedback.record_feedback(path, cited, "up", history=[{"role": "user", "content": "Hello"}])
    feedback.record_feedback(path, refusal, "up")
    feedback.record_feedback(path, cited, "down", comment="wrong page")
    up, liked_refusal, down = ev.questions_from_feedback(path.read_text(encoding="utf-8").splitlines()).questions
    assert (up["expected_sources"], up["answerable"], up["history"]) == \
        (["Prescribing-of-Insulin-Needles.pdf"], True, [{"role": "user", "content": "Hello"}])
    assert liked_refusal["answerable"] is False and not liked_refusal.get("needs_review")
    assert down["needs_review"] and down["comment"] == "wrong page" and down["expected_sources"] == []


def test_ragas_rows_carry_question_answer_contexts_and_ground_truth():
    rows = [{"question": "Q", "answer": "A [1]", "contexts": ["passage one"], "reference_answer": "R"}]
    assert ev.ragas_rows(rows) == [{"question": "Q", "answer": "A [1]", "contexts": ["passage one"],
                                    "ground_truth": "R"}]


def test_llm_judge_counts_yes_and_treats_unclear_replies_as_unsupported():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    answer = "Needles of 4mm are recommended. [1] Panels meet monthly. [2] Funding is automatic. [3]"
    judge = FakeListChatModel(responses=["YES", "Yes, it is.", "I am not sure"])
    assert ev.judge_faithfulness(judge, answer, [CHUNK_1, CHUNK_2], {1, 2, 3}) == pytest.approx(2 / 3)
    judge = FakeListChatModel(responses=["NO", "no"])
    assert ev.judge_faithfulness(judge, "One statement here. [1] Two statements here. [2]",
                                 [CHUNK_1], {1, 2}) == 0.0
    assert ev.judge_faithfulness(judge, "Anything. [1]", [], {1}) is None


# --- the command line: usage errors are one line and exit 2, before any model loads ----------------------

def _eval(capsys, *argv):
    from assistant.cli import main

    code = main(["eval", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, message", [
    (["{dev}", "--min", "hit@7=0.9"], "unknown metric 'hit@7'"),
    (["{dev}", "--min", "hit@5=lots"], "must be a number"),
    (["{tmp}/missing.jsonl"], "cannot read question set"),
    (["{dev}", "--thresholds", "{tmp}/missing.json"], "cannot read thresholds"),
    (["{dev}", "--judge"], "--judge needs an LLM answerer"),
    (["{dev}", "--export-ragas", "{tmp}/no/such/folder/out.jsonl"], "folder does not exist"),
    ([], "needs a question set"),
])
def test_bad_usage_exits_2_with_one_line(capsys, tmp_path, argv, message):
    from tests.conftest import DEV_SET

    argv = [a.format(dev=DEV_SET, tmp=tmp_path) for a in argv]
    code, out, err = _eval(capsys, *argv, "--store", tmp_path / "store")
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_missing_store_exits_3_without_creating_one(capsys, tmp_path):
    from tests.conftest import DEV_SET

    code, _, err = _eval(capsys, DEV_SET, "--store", tmp_path / "nowhere")
    assert code == 3 and "ingest" in err
    assert not (tmp_path / "nowhere").exists()


def test_from_feedback_reads_the_stores_feedback_file(capsys, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "feedback.jsonl").write_text(
        json.dumps({"question": "Needle length?", "answer": "4mm [1]", "rating": "up",
                    "citations": [{"source": A}]}) + "\n"
        + json.dumps({"question": "Who pays?", "answer": "x", "rating": "down", "citations": []}) + "\n",
        encoding="utf-8")
    code, out, err = _eval(capsys, "--from-feedback", "--store", store)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows] == ["Needle length?", "Who pays?"]
    assert "1 flagged needs_review" in err
    code, out, _ = _eval(capsys, "--from-feedback", store / "feedback.jsonl", "--out", tmp_path / "set.jsonl")
    assert code == 0 and out == ""
    assert [q.question for q in ev.load_questions(tmp_path / "set.jsonl")] == ["Needle length?", "Who pays?"]
    code, _, err = _eval(capsys, "--from-feedback", tmp_path / "none.jsonl")
    assert code == 2 and "cannot read feedback" in err


@pytest.mark.parametrize("ci,code", [("true", 4), ("", 0)])
def test_a_missing_shared_folder_fails_ci_and_skips_elsewhere(tmp_path, ci, code):
    """In CI a checkout without ../shared is an error (it skipped 171 tests silently); on a
    developer's machine the tests that need it are skipped."""
    import shutil
    import subprocess
    import sys

    from .conftest import ROOT

    tests = tmp_path / "project" / "tests"
    tests.mkdir(parents=True)
    shutil.copy2(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    (tests / "__init__.py").write_text("")
    (tests / "test_needs_shared.py").write_text(
        "import pytest\n\npytestmark = pytest.mark.shared\n\n\ndef test_reads_shared():\n    assert True\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "CI"}
    if ci:
        env["CI"] = ci
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "shared",
                           str(tests)], cwd=tmp_path / "project", capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == code, done.stdout + done.stderr
    if ci:
        assert "shared is missing" in done.stdout + done.stderr
    else:
        assert "1 skipped" in done.stdout
