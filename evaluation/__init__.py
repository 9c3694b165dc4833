"""Evaluation of the assistant on question sets: questions (read a set), metrics (score one answer,
total a run), run (ask every question), thresholds (the CI gate's minimums), report (report.md and
its chart), from_feedback (readers' ratings -> question rows) and cli (``policy-assistant eval``).
Depends on ``assistant``; nothing in ``assistant`` depends on it except the command line's wiring."""
from .from_feedback import FeedbackConversion, questions_from_feedback, rating_of
from .metrics import (ANSWERS, CITATIONS, DESCRIPTIONS, JUDGED, K_RANKING, K_RECALL, METRICS, RETRIEVAL, STAGES,
                      StoredPassage, citation_scores, fact_hit, hit_at, judge_faithfulness, markup_in, normalise,
                      percentile, question_score, recall_at, reciprocal_rank, refusal_accuracy, refusal_scores,
                      score_question, source_matches, statements, summarise, worst)
from .questions import UNANSWERABLE_KINDS, Question, load_questions
from .run import evaluate, ragas_rows, stored_passages
from .thresholds import failed_thresholds, load_thresholds, parse_thresholds

__all__ = ["FeedbackConversion", "questions_from_feedback", "rating_of", "ANSWERS", "CITATIONS", "DESCRIPTIONS",
           "JUDGED", "K_RANKING", "K_RECALL", "METRICS", "RETRIEVAL", "STAGES", "StoredPassage", "citation_scores",
           "fact_hit", "hit_at", "judge_faithfulness", "markup_in", "normalise", "percentile", "question_score",
           "recall_at", "reciprocal_rank", "refusal_accuracy", "refusal_scores", "score_question", "source_matches",
           "statements", "summarise", "worst", "UNANSWERABLE_KINDS", "Question", "load_questions", "evaluate",
           "ragas_rows", "stored_passages", "failed_thresholds", "load_thresholds", "parse_thresholds"]
