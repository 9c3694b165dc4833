"""bench/mutate.py's planted bugs still apply to the code as it is: each replaced text occurs
exactly once, so the mutation check cannot quietly stop planting one when the code moves."""
from __future__ import annotations

import importlib.util
import sys

from .conftest import ROOT


def _mutants():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "bench" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.MUTANTS


def test_every_planted_bug_still_applies_once():
    for mutant in _mutants():
        texts: dict[str, str] = {}
        for file, old, new in mutant.edits:
            text = texts.get(file) or (ROOT / file).read_text(encoding="utf-8")
            assert text.count(old) == 1, f"{mutant.name}: {old!r} occurs {text.count(old)} times in {file}"
            texts[file] = text.replace(old, new)
        for file, text in texts.items():
            compile(text, file, "exec")  # a mutant is a bug, not a syntax error


def test_every_planted_bug_names_tests_that_exist():
    for mutant in _mutants():
        assert mutant.tests, mutant.name
        for target in mutant.tests:
            assert (ROOT / target.split("::")[0]).is_file(), f"{mutant.name}: {target}"
