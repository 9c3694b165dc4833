"""Re-fit Settings.refusal_personal_score: how well a question put in the first person singular
("how do I reset my password", "can I carry over my leave") must be answered to be answered at all.

    python bench/fit_personal_score.py [--store DIR] [--small-store DIR] [--quantile 0.1]

Policy documents rarely speak to the asker's own circumstances, and a personal question shares
enough words with them ("NHS", "leave", "pension", "plan") to pass the general refusal floor. No
answerable question of the tuning sets is put in the first person; many off-topic ones are. So a
personal question is answered only when its best sentence scores as well as all but the weakest
answers do: the threshold is the ``--quantile`` of the best-sentence scores of the answerable
tuning questions answered with their key fact. The script prints it beside the best score of
every first-person question, which should fall below it. Fitted on the tuning sets of
fit_refusal_share.py only; the test sets are never read here.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from _setup import ROOT, SHARED  # noqa: E402  (offline, quiet, project on sys.path)
from fit_refusal_share import TUNING, store_for


def best_scores(helper, questions) -> list[tuple[object, float, float | None]]:
    """(question, its best sentence's score, key fact found or None) for each question."""
    from evaluation.metrics import fact_hit

    engine = helper._answerer("extractive")
    out = []
    for q in questions:
        answer = helper.ask(q.question)
        ranked = engine.ranked(answer.search_query, answer.hits, helper.embedder.encode_query(answer.search_query)) \
            if answer.hits else []
        fact = fact_hit(answer.answer, q.expected_facts) if q.expected_facts and not answer.refused else None
        out.append((q, ranked[0].score if ranked else 0.0, fact))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="/tmp/policy-assistant-bench/library")
    parser.add_argument("--small-store", default="/tmp/policy-assistant-bench/small-fit")
    parser.add_argument("--quantile", type=float, default=0.1)
    args = parser.parse_args()

    from assistant import Assistant
    from assistant.asked import personal
    from evaluation import load_questions

    nhs = SHARED / "datasets" / "nhs-policy-pdfs"
    folders = {"small": (args.small_store, [SHARED / "seeds", nhs]), "library": (args.store, [ROOT / "corpus", nhs])}
    answered, personal_scores = [], []
    for name, files in TUNING.items():
        folder, paths = folders[name]
        settings = store_for(Path(folder), paths).model_copy(update={"refusal_personal_score": 0.0})
        helper = Assistant(settings=settings)
        helper.warm_up()
        for file in files:
            for q, score, fact in best_scores(helper, load_questions(ROOT / "eval" / file)):
                if personal(q.question):
                    personal_scores.append((score, q.answerable, q.question))
                elif q.answerable and fact:
                    answered.append(score)
    threshold = float(np.quantile(answered, args.quantile))
    print(f"{len(answered)} answerable questions answered with their key fact: best-sentence score "
          f"quantiles 0.05 {np.quantile(answered, 0.05):.3f}, 0.10 {np.quantile(answered, 0.1):.3f}, "
          f"0.25 {np.quantile(answered, 0.25):.3f}")
    print(f"{len(personal_scores)} first-person questions "
          f"({sum(a for _, a, _ in personal_scores)} answerable); best scores:")
    for score, answerable, question in sorted(personal_scores, reverse=True)[:10]:
        print(f"  {score:.3f} {'answerable' if answerable else 'unanswerable'}: {question[:90]}")
    print(f"threshold: {threshold:.2f} (Settings.refusal_personal_score)")


if __name__ == "__main__":
    main()
