"""The quality gate: the shipped dev question set and the paraphrased holdout set, evaluated on the
real store of the seeds and the NHS documents, and the integration dev, holdout and tune sets, evaluated
on the default corpus plus the NHS documents, must stay at or above their minimums
(eval/*thresholds.json: about one question under the figures measured when the minimums were set).
A regression in retrieval, answers, refusals or citations turns this red. Every quoted answer of
every set, the test sets included, reads as plain text. The command line is exercised once end to
end in a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evaluation import evaluate, failed_thresholds, load_questions, load_thresholds, markup_in

from .conftest import DEV_SET, ROOT

pytestmark = pytest.mark.shared

THRESHOLDS = ROOT / "eval" / "thresholds.json"
HOLDOUT_SET = ROOT / "eval" / "holdout.jsonl"
HOLDOUT_THRESHOLDS = ROOT / "eval" / "holdout-thresholds.json"
EVAL = ROOT / "eval"
# (question set, its minimums, scored on the library store rather than the seeds + NHS store)
SETS = [(DEV_SET, THRESHOLDS, False), (HOLDOUT_SET, HOLDOUT_THRESHOLDS, False),
        (EVAL / "integration-dev.jsonl", EVAL / "integration-dev-thresholds.json", True),
        (EVAL / "integration-holdout.jsonl", EVAL / "integration-holdout-thresholds.json", True),
        (EVAL / "integration-tune.jsonl", EVAL / "integration-tune-thresholds.json", True),
        # blind until stop 24's measurement; read and tuned on since (integration-test2 is blind now)
        (EVAL / "integration-test.jsonl", EVAL / "integration-test-thresholds.json", True),
        # written blind at stop 26 as a tuning set for near misses (30 of its 56 questions)
        (EVAL / "integration-nearmiss.jsonl", EVAL / "integration-nearmiss-thresholds.json", True),
        # written blind at stop 26 as a tuning set for refusals: who leads, when published, staff matters
        (EVAL / "integration-refusals.jsonl", EVAL / "integration-refusals-thresholds.json", True),
        # written blind at stop 27 as a tuning set for refusals of every form: names, places, Acts, partners
        (EVAL / "integration-refusals2.jsonl", EVAL / "integration-refusals2-thresholds.json", True),
        # written blind at stop 28 as a tuning set weighted to near misses: another group, year or time
        # limit, a target for today's figure, criteria, the holder of a role
        (EVAL / "integration-refusals3.jsonl", EVAL / "integration-refusals3-thresholds.json", True),
        # written blind at stop 29 as tuning sets in staff's own words: what a thing is called, how it
        # is worked out, comparisons, numbered parts, personal matters; -refusals5 measured once before tuning
        (EVAL / "integration-refusals4.jsonl", EVAL / "integration-refusals4-thresholds.json", True),
        (EVAL / "integration-refusals5.jsonl", EVAL / "integration-refusals5-thresholds.json", True),
        # written blind at stop 30, a third of its near misses yes-or-no; measured once before tuning
        (EVAL / "integration-refusals6.jsonl", EVAL / "integration-refusals6-thresholds.json", True),
        # written blind at stop 31 in eight kinds of users' words; measured once before tuning
        (EVAL / "integration-refusals7.jsonl", EVAL / "integration-refusals7-thresholds.json", True),
        # written blind at stop 32 in sixteen more kinds of users' words; each measured once before tuning
        (EVAL / "integration-refusals8.jsonl", EVAL / "integration-refusals8-thresholds.json", True),
        (EVAL / "integration-refusals9.jsonl", EVAL / "integration-refusals9-thresholds.json", True),
        (EVAL / "integration-refusals10.jsonl", EVAL / "integration-refusals10-thresholds.json", True),
        # written blind at stop 33 in ten kinds of users' words; measured once before tuning, two rules since
        (EVAL / "integration-refusals11.jsonl", EVAL / "integration-refusals11-thresholds.json", True)]
# Measured once when a stop closes, never tuned on; here only every quote is checked for markup.
TEST_SETS = [(EVAL / "test.jsonl", False), (EVAL / "integration-test2.jsonl", True),
             (EVAL / "integration-test3.jsonl", True), (EVAL / "integration-test4.jsonl", True),
             (EVAL / "integration-test5.jsonl", True), (EVAL / "integration-test6.jsonl", True)]
GATES = [(path, thresholds, metric) for path, thresholds, _ in SETS for metric in sorted(load_thresholds(thresholds))]


@pytest.fixture(scope="module")
def results(assistant, library_assistant):
    return {path: evaluate(library_assistant if library else assistant, load_questions(path))
            for path, _, library in SETS}


@pytest.fixture(scope="module")
def test_set_results(assistant, library_assistant):
    return {path: evaluate(library_assistant if library else assistant, load_questions(path))
            for path, library in TEST_SETS}


@pytest.fixture(scope="module")
def dev_result(results):
    return results[DEV_SET]


def _figures(summary: dict) -> str:
    return ", ".join(f"{name} {'n/a' if value is None else f'{value:.3f}'}"
                     for name, value in summary["metrics"].items())


@pytest.mark.parametrize("question_set,thresholds,metric", GATES,
                         ids=[f"{path.stem}-{metric}" for path, _, metric in GATES])
def test_question_set_meets_its_minimum(results, question_set, thresholds, metric):
    minimum = load_thresholds(thresholds)[metric]
    summary = results[question_set]["summary"]
    failed = failed_thresholds(summary, {metric: minimum})
    assert not failed, (f"{question_set.name}: {metric} fell below {minimum}: "
                        f"today's figures are {_figures(summary)}")


def test_no_quoted_answer_of_any_set_carries_markup(results, test_set_results):
    """Markdown emphasis, escapes, link syntax, HTML and reference markers never reach a quote."""
    offenders = [(path.name, row["id"], found)
                 for path, result in {**results, **test_set_results}.items() for row in result["questions"]
                 for citation in ([] if row["refused"] else row["citations"])
                 for found in [markup_in(citation["quote"])] if found]
    answered = sum(not row["refused"] for result in {**results, **test_set_results}.values()
                   for row in result["questions"])
    assert answered > 300  # the check ran over real answers
    assert not offenders, offenders


def test_every_dev_question_was_scored(dev_result):
    summary = dev_result["summary"]
    questions = load_questions(DEV_SET)
    assert summary["questions"] == len(questions)
    assert summary["measured_on"]["hit@1"] == sum(1 for q in questions if q.answerable)
    assert summary["measured_on"]["refusal_recall"] == sum(1 for q in questions if not q.answerable)
    assert all(summary["latency_ms"][stage]["n"] == len(questions) for stage in ("retrieve", "answer", "total"))


def test_the_report_renders_for_the_dev_set(dev_result, tmp_path):
    from evaluation.report import write_report

    paths = write_report(dev_result, tmp_path / "report", load_thresholds(THRESHOLDS))
    text = paths["report"].read_text(encoding="utf-8")
    for heading in ("## Retrieval", "## Answers", "## Refusals", "## Citations", "## Latency", "## The 10 worst"):
        assert heading in text
    assert text.count("**Question:**") == 10
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths["chart"].stat().st_size > 20_000  # a drawn chart, not an empty canvas
    rows = [json.loads(line) for line in paths["questions"].read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(dev_result["questions"])


def test_cli_end_to_end_fails_an_unmet_minimum(policy_store, tmp_path):
    """One real `policy-assistant eval` process on a slice of the dev set: JSON out, report and
    RAGAS rows written, and exit 1 because hit@5 can never reach 1.01."""
    lines = DEV_SET.read_text(encoding="utf-8").splitlines()
    chosen = [json.loads(line) for line in lines]
    chosen = [q for q in chosen if q.get("history")][:1] + [q for q in chosen if not q["answerable"]][:1] + \
        [q for q in chosen if q["answerable"] and not q.get("history")][:3]
    questions = tmp_path / "slice.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in chosen), encoding="utf-8")
    command = [sys.executable, "-m", "assistant.cli", "eval", str(questions), "--store", str(policy_store.store),
               "--json", "--min", "hit@5=1.01", "--report", str(tmp_path / "report"),
               "--export-ragas", str(tmp_path / "ragas.jsonl")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["questions"] == len(chosen)
    assert summary["failed_thresholds"]["hit@5"]["minimum"] == 1.01
    assert "threshold failed: hit@5" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "report" / "report.md").exists() and (tmp_path / "report" / "metrics.png").exists()
    ragas = [json.loads(line) for line in (tmp_path / "ragas.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in ragas] == [q["question"] for q in chosen]
    answered = [r for r, q in zip(ragas, chosen) if q["answerable"]]
    assert all(r["contexts"] and all(isinstance(c, str) and c for c in r["contexts"]) for r in answered)
    assert [r["ground_truth"] for r in ragas] == [q.get("reference_answer", "") for q in chosen]
