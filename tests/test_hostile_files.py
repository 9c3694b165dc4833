"""Files built to hurt the server (issue 19): zip bombs, pipes in a folder, a reader that never
returns. Each is refused with a clear reason, costs little memory and time, holds no lock, and
loses nothing else of the ingest."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

import ingest
from ingest.pipeline import _read_within
from ingest.documents import IngestError

from .conftest import NHS_PDFS, ROOT, SEEDS, make_settings

pytestmark = pytest.mark.shared

DOCX = next(NHS_PDFS.glob("*.docx"))
MB = 1 << 20


def docx_with(path: Path, extra_name: str, megabytes: int, fill: bytes = b"\0") -> Path:
    """A real DOCX plus one part of ``megabytes`` of ``fill``, streamed (never held in memory)."""
    with zipfile.ZipFile(DOCX) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        with target.open(extra_name, "w", force_zip64=True) as part:
            block = (fill * (MB // len(fill) + 1))[:MB]
            for _ in range(megabytes):
                part.write(block)
    return path


def xml_bomb(path: Path, megabytes: int) -> Path:
    """A DOCX whose document.xml is ``megabytes`` of repeated paragraphs (2 MB on disk)."""
    paragraph = b"<w:p><w:r><w:t>" + b"policy " * 50 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(DOCX) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "word/document.xml":
                target.writestr(item, data)
                continue
            head, tail = data.split(b"<w:body>", 1)
            with target.open(item.filename, "w", force_zip64=True) as part:
                part.write(head + b"<w:body>")
                for _ in range(megabytes * MB // len(paragraph)):
                    part.write(paragraph)
                part.write(tail)
    return path


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_bytes((SEEDS / "000_1ba0c70c47b0b245.txt").read_bytes())
    return docs


def test_a_docx_whose_parts_expand_past_the_limit_is_refused_before_reading(folder, tmp_path, embedder):
    docx_with(folder / "bomb.docx", "word/media/zeros.bin", 300)
    report = ingest.run([folder], make_settings(tmp_path / "store"), embedder=embedder)
    (failure,) = report.failed
    assert failure["path"].endswith("bomb.docx")
    assert "expands to 30" in failure["error"] and "POLICY_ASSISTANT_MAX_UNZIPPED_MB" in failure["error"]
    assert report.added == 1  # the good file beside it is indexed


def test_one_part_expanding_far_beyond_its_size_is_refused_under_the_total_limit(folder, tmp_path, embedder):
    docx_with(folder / "bomb.docx", "customXml/item9.xml", 40)  # 40 MB of zeros in ~40 KB
    report = ingest.run([folder], make_settings(tmp_path / "store"), embedder=embedder)
    (failure,) = report.failed
    assert "customXml/item9.xml" in failure["error"] and "zip bomb" in failure["error"]


def test_the_unzipped_limit_is_a_setting(folder, tmp_path, embedder):
    report = ingest.run([DOCX], make_settings(tmp_path / "store", max_unzipped_mb=0.01), embedder=embedder)
    (failure,) = report.failed
    assert "over the 0.01 MB limit" in failure["error"]


def test_a_zip_bomb_costs_the_ingest_process_little_memory(tmp_path):
    """Measured, not timed: 400 MB of paragraph XML reached 7.5 GB peak RSS before the check."""
    bomb = xml_bomb(tmp_path / "bomb.docx", 400)
    assert bomb.stat().st_size < 25 * MB
    probe = ("import resource, subprocess, sys; "
             "done = subprocess.run([sys.executable, '-m', 'assistant.cli', 'ingest', sys.argv[1], '--store', sys.argv[2]],"
             " capture_output=True, text=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, done.returncode); "
             "print(done.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, str(bomb), str(tmp_path / "store")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    peak_mb, returncode = map(int, done.stdout.split()[:2])
    assert returncode == 1 and "zip bomb" in done.stdout, done.stdout
    assert peak_mb < 1000, f"peak RSS {peak_mb} MB"


def test_a_pipe_in_a_folder_is_refused_by_name_and_the_lock_is_free_after(folder, tmp_path, embedder):
    os.mkfifo(folder / "stuck.txt")
    settings = make_settings(tmp_path / "store")
    finished = threading.Event()
    outcome = {}

    def run() -> None:
        outcome["report"] = ingest.run([folder], settings, embedder=embedder)
        finished.set()

    threading.Thread(target=run, daemon=True).start()
    assert finished.wait(120), "the ingest hung on a pipe"
    (failure,) = outcome["report"].failed
    assert failure["path"].endswith("stuck.txt") and "not a regular file" in failure["error"]
    assert outcome["report"].added == 1
    again = ingest.run([folder], settings, embedder=embedder, lock_timeout=1)  # the lock was released
    assert again.unchanged == 1


def test_a_pipe_named_on_the_command_line_is_not_called_missing(tmp_path):
    pipe = tmp_path / "named.txt"
    os.mkfifo(pipe)
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(tmp_path / "store"))
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(pipe)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1
    assert "not a regular file" in done.stderr and "no such file" not in done.stderr


def test_a_reader_that_never_returns_is_left_behind_with_the_limit_named():
    started = time.perf_counter()
    with pytest.raises(IngestError, match="longer than 0.2 s.*POLICY_ASSISTANT_FILE_TIMEOUT_S"):
        _read_within(0.2, lambda: time.sleep(30))
    assert time.perf_counter() - started < 10


def test_a_reader_error_is_reported_as_its_own():
    def broken():
        raise IngestError("damaged PDF (xref)")

    with pytest.raises(IngestError, match="damaged PDF"):
        _read_within(5, broken)
