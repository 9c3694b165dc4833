"""Bad input: whatever a shared drive holds, and whatever a person types.

Every file gives a clear per-file error or a safe result, never a traceback, and a file that fails
leaves the index exactly as it was (manifest, chunk ids and generation compared before and after).
Every question gives an Answer: refused, or answered with citations checked against the store.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import ingest
from assistant.answers import Answer
from index.store import ChromaStore

from .conftest import BAD_INPUTS, NHS_PDFS, SEEDS, make_settings

pytestmark = pytest.mark.shared


def examples(n: int):
    """Few, fixed examples (derandomised, no example database): fast and the same in every run."""
    return hsettings(max_examples=n, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


FAST = examples(30)

# What each shared bad input must give: "failed" (with this word in the reason) or "added".
SHARED_BAD_INPUTS = {
    "empty.pdf": ("failed", "empty"),
    "not-really.pdf": ("failed", "not a PDF"),
    "encrypted.pdf": ("failed", "encrypted"),
    "no-text-layer.pdf": ("failed", "OCR"),
    "truncated.pdf": ("failed", "PDF"),
    "binary.txt": ("failed", "binary"),
    "one-huge-line.txt": ("failed", "filler"),
    "latin1.txt": ("added", None),
    "prompt-injection.txt": ("added", None),
    "script-tags.html": ("added", None),
}

_names = itertools.count()


# --- helpers -------------------------------------------------------------------------------------

class Index:
    """A small real store (two seed articles) that generated files are ingested into, one at a time."""

    def __init__(self, root: Path, embedder):
        self.root = root
        self.settings = make_settings(root / "store")
        self.embedder = embedder
        self.store = ChromaStore(self.settings)
        report = ingest.run([SEEDS / "000_1ba0c70c47b0b245.txt", SEEDS / "003_d52064480066839c.txt"],
                            self.settings, embedder=embedder, store=self.store)
        assert report.added == 2 and not report.failed

    def snapshot(self) -> dict:
        manifest = {s: (r.hash, tuple(r.chunk_ids)) for s, r in self.store.manifest().items()}
        return {"manifest": manifest,
                "chunk_ids": sorted(c.id for c in self.store.all_chunks(include_text=False)),
                "generation": self.store.generation()}

    def write(self, suffix: str, data: bytes) -> Path:
        path = self.root / "files" / f"case-{next(_names)}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def ingest_one(self, path: Path, **overrides) -> dict:
        """Ingest one file; check the promise for its outcome; leave the index as it was found."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        before = self.snapshot()
        report = ingest.run([path], settings, embedder=self.embedder, store=self.store)  # must not raise
        (outcome,) = [f for f in report.files if f["path"] == str(path)]
        if outcome["status"] == "failed":
            assert_clear_reason(outcome["error"])
            assert self.snapshot() == before, "a failed file changed the index"
        else:
            assert outcome["status"] == "added", outcome
            record = self.store.manifest()[str(path)]
            stored = {c.id for c in self.store.get_chunks(record.chunk_ids)}
            assert record.chunk_ids and stored == set(record.chunk_ids)
            assert ingest.remove([str(path)], self.settings, store=self.store) == 1
            after = self.snapshot()
            assert (after["manifest"], after["chunk_ids"]) == (before["manifest"], before["chunk_ids"])
        return outcome


def assert_clear_reason(reason: str) -> None:
    assert isinstance(reason, str) and reason.strip(), "empty error message"
    assert "Traceback" not in reason and "\n" not in reason, reason
    assert len(reason) <= 300, reason


def assert_safe_answer(answer, store: ChromaStore) -> None:
    assert isinstance(answer, Answer)
    assert isinstance(answer.answer, str) and answer.answer.strip()
    assert "Traceback" not in answer.answer
    if answer.refused:
        assert not answer.citations
        return
    assert answer.citations
    stored = {c.id: c.text for c in store.get_chunks([c.chunk_id for c in answer.citations])}
    for citation in answer.citations:
        assert citation.verified, citation
        assert citation.chunk_id in stored


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    return Index(tmp_path_factory.mktemp("bad-input"), embedder)


# --- the shared bad inputs -------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SHARED_BAD_INPUTS))
def test_each_shared_bad_input_fails_clearly_or_is_indexed_safely(index, name):
    assert (BAD_INPUTS / name).exists()
    path = index.write(Path(name).suffix, (BAD_INPUTS / name).read_bytes())
    outcome = index.ingest_one(path)
    status, word = SHARED_BAD_INPUTS[name]
    assert outcome["status"] == status, outcome
    if word:
        assert word.lower() in outcome["error"].lower(), outcome["error"]


def test_the_shared_bad_input_list_covers_the_folder():
    assert {p.name for p in BAD_INPUTS.iterdir()} == set(SHARED_BAD_INPUTS)


def test_indexed_html_keeps_no_script_or_markup(index):
    path = index.write(".html", (BAD_INPUTS / "script-tags.html").read_bytes())
    report = ingest.run([path], index.settings, embedder=index.embedder, store=index.store)
    assert report.added == 1
    record = index.store.manifest()[str(path)]
    text = " ".join(c.text for c in index.store.get_chunks(record.chunk_ids))
    assert "section 75 partnership agreement" in text
    for markup in ("<script", "alert(", "onerror", "document.cookie", "<img", "<p>"):
        assert markup not in text, markup
    ingest.remove([str(path)], index.settings, store=index.store)


def test_cli_reports_every_bad_input_on_its_own_line_without_a_traceback(tmp_path, copy_of):
    docs = copy_of(*sorted(BAD_INPUTS.iterdir()))
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(tmp_path / "store"))
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(docs)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 1, done.stderr  # some failed, the rest were indexed
    assert "Traceback" not in done.stderr + done.stdout
    failed_lines = [line for line in done.stderr.splitlines() if line.startswith("failed: ")]
    expected_failures = [n for n, (status, _) in SHARED_BAD_INPUTS.items() if status == "failed"]
    assert len(failed_lines) == len(expected_failures), done.stderr
    for name in expected_failures:
        (line,) = [line for line in failed_lines if f"/{name}: " in line]
        assert len(line.split(f"/{name}: ", 1)[1]) > 5
    assert "3 added" in done.stdout and f"{len(expected_failures)} failed" in done.stdout


# --- size limit ------------------------------------------------------------------------------------

def test_files_over_the_size_limit_are_refused_with_the_limit_named(index):
    seed = SEEDS / "002_8975fbdea5563a37.txt"
    assert seed.stat().st_size > 1100
    path = index.write(".txt", seed.read_bytes())
    outcome = index.ingest_one(path, max_file_mb=0.001)
    assert outcome["status"] == "failed"
    assert "0.001 MB limit" in outcome["error"] and "POLICY_ASSISTANT_MAX_FILE_MB" in outcome["error"]
    # The size stated is the file's real size, not a rounded-down 0.0.
    assert f"{seed.stat().st_size / 1048576:.3g} MB" in outcome["error"], outcome["error"]
    # Under the default limit the same file is indexed.
    assert index.ingest_one(path)["status"] == "added"


def test_size_limit_is_read_from_the_environment_by_the_cli(tmp_path, copy_of):
    docs = copy_of(SEEDS / "002_8975fbdea5563a37.txt", BAD_INPUTS / "latin1.txt")  # ~9 KB and 82 bytes
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(tmp_path / "store"), POLICY_ASSISTANT_MAX_FILE_MB="0.001")
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(docs), "--json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] == 1  # the small file still goes in
    (failure,) = summary["failed"]
    assert failure["path"].endswith("002_8975fbdea5563a37.txt")
    assert "0.001 MB limit" in failure["error"]


# --- generated files -----------------------------------------------------------------------------

SUFFIXES = [".pdf", ".txt", ".docx", ".html", ".md", ".pptx", ".xlsx", ".ods", ".odt", ".eml"]
# Magic numbers get random bytes past the first check of each loader.
PREFIXES = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"<html><body>", b"---\ntitle: x\n---\n", b"\xff\xfe",
            b"From: a@example.org\nSubject: x\n\n"]


@FAST
@given(suffix=st.sampled_from(SUFFIXES), prefix=st.sampled_from(PREFIXES),
       body=st.binary(min_size=0, max_size=4096))
def test_random_bytes_under_any_supported_name(index, suffix, prefix, body):
    index.ingest_one(index.write(suffix, prefix + body))


@FAST
@given(suffix=st.sampled_from([".txt", ".md", ".html"]), text=st.text(max_size=3000),
       encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_random_unicode_text(index, suffix, text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # lone surrogates cannot be written in any encoding
        data = text.encode(encoding, errors="replace")
    index.ingest_one(index.write(suffix, data))


REAL_PDF = NHS_PDFS / "Prescribing-of-Insulin-Needles.pdf"
# Two producers: cuts of the insulin PDF near its end still open (pypdf rebuilds the xref);
# the NICE guideline's compressed object streams fail on any cut.
REAL_PDFS = [REAL_PDF, NHS_PDFS / "type-2-diabetes-in-adults-management-pdf-1837338615493.pdf"]
REAL_DOCX = next(NHS_PDFS.glob("*.docx"))


@examples(25)
@given(pdf=st.sampled_from(REAL_PDFS), fraction=st.floats(min_value=0.0, max_value=0.999))
def test_truncated_copies_of_a_real_pdf(index, pdf, fraction):
    data = pdf.read_bytes()
    outcome = index.ingest_one(index.write(".pdf", data[: int(len(data) * fraction)]))
    if fraction < 0.001:
        assert outcome["status"] == "failed"


@examples(10)
@given(fraction=st.floats(min_value=0.0, max_value=0.999))
def test_truncated_copies_of_a_real_docx(index, fraction):
    data = REAL_DOCX.read_bytes()
    outcome = index.ingest_one(index.write(".docx", data[: int(len(data) * fraction)]))
    assert outcome["status"] == "failed"  # a zip cut short has no central directory


def test_a_mixed_folder_indexes_the_good_files_despite_generated_junk(tmp_path, embedder, copy_of):
    docs = copy_of(SEEDS / "001_143c5d2c9eee0ace.txt", REAL_PDF)
    (docs / "junk.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(3000))
    (docs / "junk.docx").write_bytes(b"PK\x03\x04" + os.urandom(3000))
    (docs / "junk.txt").write_bytes(os.urandom(3000))
    (docs / "half.pdf").write_bytes(REAL_PDF.read_bytes()[:40_000])
    report = ingest.run([docs], make_settings(tmp_path / "store"), embedder=embedder)
    assert report.added >= 2
    added = {Path(f["path"]).name for f in report.files if f["status"] == "added"}
    assert {"001_143c5d2c9eee0ace.txt", REAL_PDF.name} <= added
    assert {"junk.pdf", "junk.docx", "junk.txt"} <= {Path(f["path"]).name for f in report.failed}
    for failure in report.failed:
        assert_clear_reason(failure["error"])


# --- questions -----------------------------------------------------------------------------------

REAL_QUESTION = "What length of insulin pen needle is recommended?"
AWKWARD_QUESTIONS = {
    "empty": "",
    "whitespace": " \n\t  ",
    "20000-chars": (REAL_QUESTION + " ") * (20_000 // (len(REAL_QUESTION) + 1) + 1),
    "20000-same-letter": "a" * 20_000,
    "control-chars": "What\x00 length\x07 of insulin\x1b[31m pen needle\x08 is recommended?\r\n\x0c",
    "only-control-chars": "\x00\x01\x02\x1b\x7f",
    "only-punctuation": "?!?... ,;:-- ()[]{} '\" !!!",
    "welsh": "Beth yw'r gyllideb gyfun ar gyfer gofal canolraddol yng Nghymru?",
    "polish": "Jaka jest dawka podtrzymująca dapagliflozyny w przewlekłej chorobie nerek?",
    "chinese": "达格列净治疗慢性肾病的维持剂量是多少？",
    "arabic": "ما هي جرعة الصيانة من داباغليفلوزين لأمراض الكلى المزمنة؟",
    "emoji-and-rtl-override": "\u202e🙂 insulin needle length? \u200b\ufeff",
    "sql-and-markup": "'; DROP TABLE chunks; -- <script>alert(1)</script> needle length?",
    "lone-surrogate": "insulin \ud800 needle",
}


@pytest.mark.parametrize("name", sorted(AWKWARD_QUESTIONS))
def test_awkward_questions_get_a_safe_answer(assistant, name):
    question = AWKWARD_QUESTIONS[name]
    started = time.perf_counter()
    answer = assistant.ask(question)
    assert_safe_answer(answer, assistant.store)
    assert answer.question == question
    assert time.perf_counter() - started < 60  # a 20,000-character question is cut, not chewed on
    hits = assistant.search(question)
    assert isinstance(hits, list)


def test_empty_and_punctuation_only_questions_ask_for_words(assistant):
    for name in ("empty", "whitespace", "only-punctuation", "only-control-chars"):
        answer = assistant.ask(AWKWARD_QUESTIONS[name])
        assert answer.refused and "question in words" in answer.answer, name


@pytest.mark.parametrize("name", ["chinese", "arabic"])
def test_a_question_in_another_script_is_asked_for_in_english(assistant, name):
    answer = assistant.ask(AWKWARD_QUESTIONS[name])
    assert answer.refused and not answer.citations
    assert "in English" in answer.answer and "question in words" not in answer.answer


def test_control_characters_do_not_stop_a_real_question_being_answered(assistant):
    answer = assistant.ask(AWKWARD_QUESTIONS["control-chars"])
    assert not answer.refused
    assert "4mm" in answer.answer.replace(" ", "")


def test_a_very_long_question_is_answered_from_its_start(assistant):
    answer = assistant.ask(AWKWARD_QUESTIONS["20000-chars"])
    assert not answer.refused
    assert any("Insulin-Needles" in c.source for c in answer.citations), answer.citations
    # Only the first POLICY_ASSISTANT_MAX_QUESTION_CHARS are searched: 20,000 are never embedded.
    assert len(answer.search_query) <= assistant.settings.max_question_chars


@FAST
@given(question=st.text(max_size=400),
       history=st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]),
                                               "content": st.text(max_size=200)}), max_size=3))
def test_random_questions_and_histories_get_a_safe_answer(assistant, question, history):
    assert_safe_answer(assistant.ask(question, history=history), assistant.store)
