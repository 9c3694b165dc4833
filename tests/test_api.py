"""The HTTP API against a real uvicorn server (`policy-assistant api`) on a free loopback port, with
httpx and the real `openai` client library: every route's contract (the same JSON as the command
line's --json for the same question), streaming order, auth, limits and bad input."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from index.store import ChromaStore

from .conftest import ROOT, make_settings
from .test_browser import free_port

pytestmark = pytest.mark.shared

NEEDLES = "What length of insulin pen needle is recommended?"


def _cli(*args, env=None, timeout=300):
    environment = dict(os.environ, **(env or {}))
    environment.pop("POLICY_ASSISTANT_CHROMA_URL", None)
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env=environment, timeout=timeout)


class Server:
    def __init__(self, store, env=None, host="127.0.0.1"):
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        environment = dict(os.environ, **(env or {}))
        environment.pop("POLICY_ASSISTANT_CHROMA_URL", None)
        self.log = open(store.parent / f"api-{self.port}.log", "w")
        self.process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "api", "--store", str(store),
                                         "--host", host, "--port", str(self.port)],
                                        cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (store.parent / f"api-{self.port}.log").read_text()
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise AssertionError("the API server did not come up")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def api_store(policy_store, tmp_path_factory):
    copy = tmp_path_factory.mktemp("api") / "store"
    shutil.copytree(policy_store.store, copy)
    return copy


@pytest.fixture(scope="module")
def server(api_store):
    running = Server(api_store)
    yield running
    running.stop()


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_ask_returns_what_the_command_line_returns(server, api_store):
    got = httpx.post(f"{server.url}/v1/ask", json={"question": NEEDLES}, timeout=60)
    assert got.status_code == 200
    cli = _cli("ask", NEEDLES, "--json", "--store", str(api_store))
    assert cli.returncode == 0, cli.stderr
    assert _without_timings(got.json()) == _without_timings(json.loads(cli.stdout))
    assert got.json()["citations"] and all(c["verified"] for c in got.json()["citations"])


def test_search_returns_what_the_command_line_returns(server, api_store):
    got = httpx.post(f"{server.url}/v1/search", json={"query": "pen needle length", "k": 5}, timeout=60)
    cli = _cli("search", "pen needle length", "--k", "5", "--json", "--store", str(api_store))
    assert got.status_code == 200 and got.json() == json.loads(cli.stdout)


def test_a_streamed_answer_is_text_pieces_then_the_answer(server):
    events = []
    with httpx.stream("POST", f"{server.url}/v1/ask", json={"question": NEEDLES, "stream": True}, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"text"}
    final = events[-1][1]
    assert "".join(data["text"] for kind, data in events[:-1]) == final["answer"]
    assert "4mm" in final["answer"].replace(" ", "")


def test_documents_can_be_listed_read_and_downloaded(server, policy_store):
    listed = httpx.get(f"{server.url}/v1/documents").json()["documents"]
    assert len(listed) == len(ChromaStore(policy_store).manifest())
    needles = next(d for d in listed if d["file"] == "Prescribing-of-Insulin-Needles.pdf")
    assert "/" not in json.dumps(needles["file"])  # a name, not the server's path
    one = httpx.get(f"{server.url}/v1/documents/{needles['id']}").json()
    assert one == needles and one["pages"] == 4 and one["chunks"] > 0
    file = httpx.get(f"{server.url}/v1/documents/{needles['id']}/file")
    assert file.status_code == 200 and file.content.startswith(b"%PDF")
    missing = httpx.get(f"{server.url}/v1/documents/0000000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_openai_client_library_gets_the_answer_and_its_citations(server):
    import openai

    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused-on-loopback")
    reply = client.chat.completions.create(model="policy-assistant", messages=[{"role": "user", "content": NEEDLES}])
    message = reply.choices[0].message
    assert "4mm" in message.content.replace(" ", "") and "[1]" in message.content
    citations = reply.model_extra["citations"]
    assert citations and all(c["verified"] for c in citations) and citations[0]["quote"] in message.content
    pieces, last = [], None
    for chunk in client.chat.completions.create(model="policy-assistant", stream=True,
                                                messages=[{"role": "user", "content": NEEDLES}]):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        last = chunk
    assert "4mm" in "".join(pieces).replace(" ", "") and last.model_extra["citations"] == citations


def test_feedback_is_recorded_in_the_store(server, api_store):
    answer = httpx.post(f"{server.url}/v1/ask", json={"question": NEEDLES}, timeout=60).json()
    sent = httpx.post(f"{server.url}/v1/feedback", json={**_without_timings(answer), "rating": "up", "comment": "clear"})
    assert sent.status_code == 200 and sent.json()["recorded"]
    lines = (api_store / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["question"] == NEEDLES and json.loads(lines[-1])["rating"] == "up"
    wrong = httpx.post(f"{server.url}/v1/feedback", json={**_without_timings(answer), "rating": "sideways"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("body,status,code", [
    (b"{not json", 400, "malformed_json"),
    (json.dumps({"question": 42}).encode(), 422, "bad_request"),
    (json.dumps({"question": NEEDLES, "k": 1000}).encode(), 422, "bad_request"),
    (json.dumps({"question": "x" * 5000}).encode(), 413, "question_too_long"),
    (json.dumps({"question": "   "}).encode(), 422, "bad_request"),
    (b"x" * (41 * 1024 * 1024), 413, "body_too_large"),
])
def test_bad_input_gets_a_json_error_and_changes_nothing(server, api_store, body, status, code):
    store = ChromaStore(make_settings(api_store))
    before = (store.generation(), sorted(store.manifest()))
    got = httpx.post(f"{server.url}/v1/ask", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert got.status_code == status and got.json()["error"]["code"] == code
    assert "Traceback" not in got.text
    assert (store.generation(), sorted(store.manifest())) == before


def test_the_api_will_not_listen_beyond_loopback_without_a_key(tmp_path, api_store):
    copy = tmp_path / "store"
    shutil.copytree(api_store, copy)
    (copy / "api_keys.json").unlink(missing_ok=True)
    done = _cli("api", "--store", str(copy), "--host", "0.0.0.0", "--port", str(free_port()), timeout=120)
    assert done.returncode == 2 and "no API key exists" in done.stderr and "Traceback" not in done.stderr


def test_keys_roles_revocation_and_the_rate_limit(tmp_path, api_store):
    copy = tmp_path / "store"
    shutil.copytree(api_store, copy)
    reader = _cli("api-key", "create", "intranet-search", "--store", str(copy)).stdout.splitlines()[0]
    admin = _cli("api-key", "create", "records-team", "--role", "maintainer", "--store", str(copy)).stdout.splitlines()[0]
    stored = (copy / "api_keys.json").read_text(encoding="utf-8")
    assert reader not in stored and admin not in stored  # kept only as hashes
    running = Server(copy, env={"POLICY_ASSISTANT_API_RATE_PER_MINUTE": "8"})
    try:
        url = running.url

        def ask(key=None):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return httpx.post(f"{url}/v1/ask", json={"question": NEEDLES}, headers=headers, timeout=60)

        assert ask().status_code == 401 and ask().json()["error"]["code"] == "unauthorized"
        assert ask("pa_not-a-key").status_code == 401
        assert ask(reader).status_code == 200
        forbidden = httpx.post(f"{url}/v1/reindex", headers={"Authorization": f"Bearer {reader}"})
        assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
        statuses = [ask(reader).status_code for _ in range(8)]
        assert statuses[-1] == 429 and 200 in statuses  # 8 a minute for this key
        assert ask(admin).status_code == 200  # another key has its own allowance
        key_id = json.loads(_cli("api-key", "list", "--store", str(copy)).stdout.splitlines()[0])["id"]
        assert _cli("api-key", "revoke", key_id, "--store", str(copy)).returncode == 0
        assert ask(reader).status_code == 401
    finally:
        running.stop()


def test_a_maintainer_uploads_and_removes_a_document_through_the_api(tmp_path, api_store):
    copy = tmp_path / "store"
    shutil.copytree(api_store, copy)
    running = Server(copy)  # loopback, no key: the local maintainer
    try:
        url = running.url
        note = b"Telecare loans.\n\nThe telecare equipment loan scheme lends alarms to residents for twelve weeks.\n"
        started = httpx.post(f"{url}/v1/documents", json={"files": [
            {"name": "telecare-note.txt", "content_base64": base64.b64encode(note).decode()}]})
        assert started.status_code == 202 and started.json()["saved"] == ["telecare-note.txt"]
        job = started.json()["job"]
        deadline = time.monotonic() + 120
        while (state := httpx.get(f"{url}/v1/jobs/{job}").json())["running"] and time.monotonic() < deadline:
            time.sleep(0.3)
        assert state["report"]["added"] == 1 and not state["error"]
        answer = httpx.post(f"{url}/v1/ask", json={"question": "How long does the telecare scheme lend alarms for?"},
                            timeout=60).json()
        assert any(c["source"].endswith("telecare-note.txt") for c in answer["citations"])
        document = next(d for d in httpx.get(f"{url}/v1/documents").json()["documents"] if d["file"] == "telecare-note.txt")
        assert httpx.delete(f"{url}/v1/documents/{document['id']}").json()["removed"] >= 1
        again = httpx.post(f"{url}/v1/ask", json={"question": "How long does the telecare scheme lend alarms for?"},
                           timeout=60).json()
        assert not any(c["source"].endswith("telecare-note.txt") for c in again["citations"])
    finally:
        running.stop()
