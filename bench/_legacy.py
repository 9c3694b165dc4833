"""Yesterday's design, measured in the same run as today's: the HybridSearcher of the commit before
issue 13 (every chunk text and vector read into the process, BM25 rebuilt in memory on each change),
loaded from git as a module beside the current one. It reads the same store through the current
ChromaStore (which kept ``all_chunks`` and ``all_vectors``)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from _setup import ROOT

BEFORE_ISSUE_13 = "f7b2788"
_NAME = "assistant._search_before_issue_13"


def legacy_search_module():
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    source = subprocess.run(["git", "show", f"{BEFORE_ISSUE_13}:assistant/search.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader(_NAME, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "assistant"  # its relative imports (.answers, .english ...) resolve to today's
    sys.modules[_NAME] = module
    exec(compile(source, f"{BEFORE_ISSUE_13}:assistant/search.py", "exec"), module.__dict__)
    return module


def use_legacy_searcher(assistant) -> None:
    """Give an Assistant the old searcher (same store, embedder and parameters)."""
    module = legacy_search_module()

    class OldSearcher(module.HybridSearcher):
        def search(self, query, k, filters=None, mode="hybrid", query_vector=None):
            if filters is not None:  # today's Filters lost the method the old search called
                filters = module.Filters(filters.sources, filters.date_from, filters.date_to)
            return super().search(query, k, filters, mode, query_vector)

        def unknown_names(self, question, filters=None):  # the old design had no libraries to filter by
            return super().unknown_names(question)

    current = assistant.searcher
    assistant.searcher = OldSearcher(current.store, current.embedder, current.candidates, current.fusion,
                                     current.rrf_k, current.scoring)
    assistant._answerers.clear()  # the extractive answerer holds the searcher's idf
