"""A store folder that is missing, damaged or unusable gives one plain line and exit 3; nothing is
created and nothing is rebuilt over it (issue 19, items 6, 7, 9 and 13)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ingest
from index.store import ChromaStore, StoreDamaged, StoreMissing

from .conftest import ROOT, SEEDS, make_settings

pytestmark = pytest.mark.shared


def cli(*args, env=None, timeout=300):
    environment = dict(os.environ, **(env or {}))
    environment.pop("POLICY_ASSISTANT_CHROMA_URL", None)
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env=environment, timeout=timeout)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, embedder):
    settings = make_settings(tmp_path_factory.mktemp("seeded") / "store")
    ingest.run([SEEDS / "000_1ba0c70c47b0b245.txt"], settings, embedder=embedder)
    return settings


@pytest.mark.parametrize("command", [["ask", "What did the NHS mandate say?"], ["search", "mandate"]])
def test_asking_a_folder_without_an_index_says_so_and_creates_nothing(tmp_path, command):
    missing = tmp_path / "mistyped-store"
    done = cli(*command, "--store", str(missing))
    assert done.returncode == 3
    assert f"no index at {missing}" in done.stderr and "Traceback" not in done.stderr
    assert not missing.exists()


def test_a_zero_byte_index_is_damaged_not_empty(seeded, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(seeded.store, copy)
    (copy / "chroma.sqlite3").write_bytes(b"")
    with pytest.raises(StoreDamaged, match="not a database"):
        ChromaStore(make_settings(copy)).count()
    done = cli("ask", "What did the NHS mandate say?", "--store", str(copy))
    assert done.returncode == 3 and "is damaged" in done.stderr
    assert (copy / "chroma.sqlite3").stat().st_size == 0


def test_serve_does_not_rebuild_a_damaged_index_from_the_corpus(seeded, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(seeded.store, copy)
    (copy / "chroma.sqlite3").write_bytes(b"")
    done = cli("serve", "--store", str(copy), "--port", "8", timeout=120)
    assert done.returncode == 3 and "is damaged" in done.stderr
    assert (copy / "chroma.sqlite3").stat().st_size == 0


def test_require_index_passes_for_a_real_index(seeded):
    ChromaStore(seeded).require_index()
    with pytest.raises(StoreMissing):
        ChromaStore(make_settings(seeded.store.parent / "elsewhere")).require_index()


def test_a_store_path_that_is_a_file_is_one_line_not_a_traceback(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    done = cli("ingest", str(SEEDS / "000_1ba0c70c47b0b245.txt"), "--store", str(path))
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: the store cannot be used")


def test_ingesting_into_a_damaged_index_leaves_no_lock_file_behind(seeded, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(seeded.store, copy)
    (copy / "chroma.sqlite3").write_bytes(b"")
    before = sorted(p.name for p in copy.iterdir())
    done = cli("ingest", str(SEEDS / "003_d52064480066839c.txt"), "--store", str(copy))
    assert done.returncode == 3 and "is damaged" in done.stderr
    assert sorted(p.name for p in copy.iterdir()) == before  # no ingest.lock left in the rejected folder


def _as_unprivileged_user(tmp_path) -> list[str]:
    """Root writes through read-only permissions, so as root the CLI runs as `nobody` (setpriv)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"] if setpriv else []
    probe = subprocess.run([*prefix, sys.executable, "-c", "import assistant.cli"], cwd=ROOT,
                           capture_output=True, env=dict(os.environ, HOME=str(tmp_path))) if prefix else None
    if probe is None or probe.returncode != 0:
        pytest.skip("running as root with no way to drop privileges (setpriv) over this checkout")
    return prefix


def test_a_read_only_store_is_one_line_naming_the_folder(seeded, tmp_path):
    # Outside pytest's own 0700 temporary folder, so that the unprivileged user can reach the store
    # and meets its permissions, not a folder above it.
    import tempfile

    reachable = Path(tempfile.mkdtemp(prefix="read-only-store-"))
    reachable.chmod(0o755)
    copy = reachable / "store"
    shutil.copytree(seeded.store, copy)
    copy.chmod(0o555)
    prefix = _as_unprivileged_user(reachable)
    environment = dict(os.environ, HOME=str(reachable))
    environment.pop("POLICY_ASSISTANT_CHROMA_URL", None)
    try:
        done = subprocess.run([*prefix, sys.executable, "-m", "assistant.cli", "ingest",
                               str(SEEDS / "003_d52064480066839c.txt"), "--store", str(copy)],
                              cwd=ROOT, capture_output=True, text=True, env=environment, timeout=300)
    finally:
        copy.chmod(0o755)
        shutil.rmtree(reachable, ignore_errors=True)
    assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"error: the store cannot be used ({copy}") and "Permission denied" in done.stderr


@pytest.mark.parametrize("arguments,message", [
    (["--k", "-1"], "-1 is outside 1-100"),
    (["--from", "notadate"], "'notadate' is not a date"),
    (["--from", "2016-13-45"], "'2016-13-45' is not a date"),
])
def test_bad_options_are_usage_errors(seeded, arguments, message):
    done = cli("search", "mandate", *arguments, "--store", str(seeded.store))
    assert done.returncode == 2 and message in done.stderr


def test_a_missing_questions_file_is_a_usage_error(seeded, tmp_path):
    done = cli("ask", "--questions", str(tmp_path / "missing.txt"), "--store", str(seeded.store))
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_a_store_path_that_is_a_symlink_loop_is_one_line(tmp_path):
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    done = cli("ask", "What did the NHS mandate say?", "--store", str(loop))
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")


def test_the_manifest_is_read_a_page_at_a_time_and_whole(settings, embedder):
    """More file records than one page (store._MAX_BATCH) come back whole, each once: the store
    reads them page by page (one read of 25,000 left 400 MB of native memory behind it)."""
    from index import store as store_module
    from index.chunks import Chunk
    from index.store import ChromaStore, FileRecord

    store = ChromaStore(settings)
    batch = store_module._MAX_BATCH
    store_module._MAX_BATCH = 7
    try:
        for n in range(20):
            source = f"/docs/file-{n:02d}.md"
            chunk = Chunk(id=f"c{n}", source=source, title=f"File {n}", page=None, start=0, end=4, text="text")
            store.add_chunks([chunk], embedder.encode([chunk.text]))
            store.record_file(FileRecord(source=source, hash=str(n), chunk_ids=[f"c{n}"]))
        manifest = store.manifest()
        facts = store.file_facts()
    finally:
        store_module._MAX_BATCH = batch
    assert sorted(manifest) == sorted(facts) == [f"/docs/file-{n:02d}.md" for n in range(20)]
    assert manifest["/docs/file-13.md"].chunk_ids == ["c13"]
