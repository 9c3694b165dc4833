"""The main job as a user runs it: `policy-assistant serve` ingests the corpus when the index is
missing and serves the chat; `policy-assistant chat` holds a conversation in the terminal."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from index.store import ChromaStore

from .conftest import SEEDS, make_settings

pytestmark = pytest.mark.shared


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _serve(store, corpus, port) -> subprocess.Popen:
    """`policy-assistant serve` on 127.0.0.1:port over store, with corpus as its corpus folder."""
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(store), POLICY_ASSISTANT_CORPUS=str(corpus))
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--host",
                             "127.0.0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def test_serve_ingests_the_corpus_when_the_index_is_missing_then_serves(tmp_path, copy_of):
    corpus = copy_of(SEEDS / "000_1ba0c70c47b0b245.txt", SEEDS / "003_d52064480066839c.txt", folder="corpus")
    store = tmp_path / "store"
    port = free_port()
    server = _serve(store, corpus, port)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/_stcore/health", 240), "the chat UI did not come up"
        manifest = ChromaStore(make_settings(store)).manifest()
        assert {os.path.basename(s) for s in manifest} == {"000_1ba0c70c47b0b245.txt", "003_d52064480066839c.txt"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert "ingesting" in output and "Traceback" not in output


@pytest.fixture
def torch_built_corpus(tmp_path, copy_of):
    """An index made by the earlier default backend (torch fp32) from a corpus folder."""
    import ingest
    from index.embedding import Embedder
    from index.settings import default_model_path

    corpus = copy_of(SEEDS / "000_1ba0c70c47b0b245.txt", folder="corpus")
    settings = make_settings(tmp_path / "store", corpus=corpus, embedding_backend="torch")
    ingest.run([corpus], settings, embedder=Embedder(default_model_path(), "torch"))
    return settings


def test_serve_rebuilds_a_corpus_index_made_by_another_backend(torch_built_corpus):
    port = free_port()
    server = _serve(torch_built_corpus.store, torch_built_corpus.corpus, port)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/_stcore/health", 240), "the chat UI did not come up"
        store = ChromaStore(torch_built_corpus)
        assert store.embedding_model().endswith(":onnx") and store.count() > 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert "rebuilding it from" in output and "Traceback" not in output


def test_serve_will_not_start_on_an_index_of_other_folders_made_by_another_backend(torch_built_corpus, tmp_path,
                                                                                    copy_of):
    import ingest
    from index.embedding import Embedder
    from index.settings import default_model_path

    other = copy_of(SEEDS / "003_d52064480066839c.txt", folder="other")
    ingest.run([other], torch_built_corpus, embedder=Embedder(default_model_path(), "torch"))
    server = _serve(torch_built_corpus.store, torch_built_corpus.corpus, free_port())
    output = server.communicate(timeout=120)[0]
    assert server.returncode == 3
    assert f"policy-assistant ingest --reindex {torch_built_corpus.corpus} {other}" in output
    assert "POLICY_ASSISTANT_EMBEDDING_BACKEND=torch" in output and "Traceback" not in output
    assert ChromaStore(torch_built_corpus).embedding_model().endswith(":torch")  # nothing was dropped


def test_terminal_chat_answers_a_question_and_a_follow_up(policy_store):
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(policy_store.store))
    conversation = "What did Sir Merrick Cockell say about primary care?\nWhat did he say about housing?\n\n"
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "chat"], input=conversation, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    replies = [line for line in done.stdout.splitlines() if line.startswith("you> assistant> ")
               or line.startswith("assistant> ")]
    assert len(replies) == 2
    assert "housing" in replies[1] and "[1]" in replies[1]
    assert "NHS and local government chiefs pledge" in done.stdout  # the cited document's title


def test_only_a_usage_error_is_bad_usage(monkeypatch, capsys):
    """A ValueError from a bug keeps its traceback; it was reported as "bad usage", exit 2."""
    from assistant import cli
    from assistant.errors import UsageError

    def broken(args):
        raise ValueError("an internal bug")

    monkeypatch.setattr(cli, "cmd_search", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        cli.main(["search", "pooled budgets"])

    def misused(args):
        raise UsageError("give a query, or --queries FILE")

    monkeypatch.setattr(cli, "cmd_search", misused)
    assert cli.main(["search", "pooled budgets"]) == 2
    assert capsys.readouterr().err == "error: give a query, or --queries FILE\n"


def test_a_bad_setting_in_the_environment_is_one_line(monkeypatch, capsys):
    from assistant import cli

    monkeypatch.setenv("POLICY_ASSISTANT_TOP_K", "many")
    assert cli.main(["search", "pooled budgets"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad setting: top_k:") and "Traceback" not in err
