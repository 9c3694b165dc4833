"""Sign-in, libraries and saved conversations end to end: `policy-assistant serve` with its identity
provider settings, a real OpenID Connect provider on loopback (oidc-provider-mock, users with a
`groups` claim), Debian chromium through Playwright. Screenshots land in the test's tmp dir."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, make_settings
from .test_access import FINANCE_DOC, FINANCE_QUESTION, HR_DOC, HR_QUESTION, LIBRARIES
from .test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_health

pytestmark = [pytest.mark.shared, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make browser)")]

USERS = {"alice": {"email": "alice@example.org", "name": "Alice", "groups": ["hr-team"]},
         "bob": {"email": "bob@example.org", "name": "Bob", "groups": ["finance-team"]},
         "carol": {"email": "carol@example.org", "name": "Carol", "groups": ["pa-admins"]},
         "dave": {"email": "dave@example.org", "name": "Dave", "groups": ["hr-team"]}}
COOKIE_SECRET = "test-cookie-secret-" + "x" * 32


@pytest.fixture
def identity_provider():
    """A real OpenID Connect provider on a loopback port, with alice (hr-team) and bob (finance-team)."""
    import logging

    from oidc_provider_mock import run_server_in_thread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with run_server_in_thread(port=0) as server:
        issuer = f"http://127.0.0.1:{server.server_port}"  # one host name everywhere: the issuer follows it
        for sub, claims in USERS.items():
            request = urllib.request.Request(f"{issuer}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 204
        yield issuer


@pytest.fixture
def library_store(tmp_path, embedder):
    import ingest

    docs = tmp_path / "docs"
    for name in ("hr", "finance"):
        (docs / name).mkdir(parents=True)
    (docs / "hr" / "grievance-casework.md").write_text(HR_DOC, encoding="utf-8")
    (docs / "finance" / "capital-board-paper.md").write_text(FINANCE_DOC, encoding="utf-8")
    settings = make_settings(tmp_path / "store", libraries=LIBRARIES)
    report = ingest.run([docs], settings, embedder=embedder, by_folder=True)
    assert report.added == 2 and not report.failed
    return settings


def test_two_users_sign_in_and_each_reads_only_their_libraries(library_store, identity_provider, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    base = f"http://localhost:{port}"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               POLICY_ASSISTANT_LIBRARIES=json.dumps(LIBRARIES),
               POLICY_ASSISTANT_OIDC_METADATA_URL=f"{identity_provider}/.well-known/openid-configuration",
               POLICY_ASSISTANT_OIDC_CLIENT_ID="policy-assistant", POLICY_ASSISTANT_OIDC_CLIENT_SECRET="a-secret",
               POLICY_ASSISTANT_OIDC_COOKIE_SECRET=COOKIE_SECRET,
               POLICY_ASSISTANT_OIDC_REDIRECT_URI=f"{base}/oauth2callback", POLICY_ASSISTANT_MAINTAINERS_GROUP="pa-admins")
    env.pop("POLICY_ASSISTANT_CHROMA_URL", None)
    env.pop("POLICY_ASSISTANT_ADMIN_TOKEN", None)
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        # The real entry point: `serve` writes Streamlit's [auth] secrets from the settings.
        server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--store", str(library_store.store),
                                   "--port", str(port), "--host", "127.0.0.1"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_health(f"http://127.0.0.1:{port}", server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    run_the_story(browser, base, identity_provider, tmp_path, expect)
                finally:
                    browser.close()
        finally:
            # The whole group: `serve` and the Streamlit server it starts (terminating `serve` alone
            # left Streamlit running).
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            finally:
                time.sleep(1)
                try:
                    os.killpg(server.pid, signal.SIGKILL)  # whatever of the group is still there
                except ProcessLookupError:
                    pass
    assert "Traceback" not in log_path.read_text(encoding="utf-8")
    from access.records import Records

    audit = Records(library_store.records_path).audit(action="ask")
    assert {(r["user"], r["question"]) for r in audit} == {
        ("alice@example.org", HR_QUESTION), ("alice@example.org", FINANCE_QUESTION), ("bob@example.org", FINANCE_QUESTION)}


def run_the_story(browser, base: str, issuer: str, shots: Path, expect) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)

    def sign_in(sub: str) -> None:
        page.goto(base + "/")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{issuer}/oauth2/authorize*")
        page.locator("input[name=sub]").fill(sub)
        page.get_by_role("button", name="Authorize", exact=True).click()
        page.wait_for_url(f"{base}/*")
        expect(page.get_by_placeholder("Ask a question about the policy documents")).to_be_visible(timeout=180_000)
        expect(page.get_by_text(f"Signed in as {USERS[sub]['name']}")).to_be_visible()

    def sign_out() -> None:
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{issuer}/oauth2/end_session*")
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(f"{base}/*")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    def ask(question: str, number: int):
        box = page.get_by_placeholder("Ask a question about the policy documents")
        box.fill(question)
        box.press("Enter")
        answers = page.locator('[data-testid="stChatMessage"]')
        expect(answers).to_have_count(2 * number, timeout=120_000)
        answer = answers.nth(2 * number - 1)
        expect(answer.locator('[data-testid="stFeedback"]').or_(answer.locator('[data-testid="stAlert"]')).first).to_be_visible(
            timeout=120_000)
        return answer

    sidebar = page.locator('[data-testid="stSidebar"]')

    # Alice (hr-team): sees the HR casework policy, not the finance board paper.
    sign_in("alice")
    expect(sidebar).to_contain_text("Documents in the index (1)")
    expect(sidebar).to_contain_text("Grievance casework policy")
    expect(sidebar).not_to_contain_text("capital programme")
    expect(ask(HR_QUESTION, 1)).to_contain_text("Zephyrine")
    refused = ask(FINANCE_QUESTION, 2)
    expect(refused).to_contain_text("do not mention")
    expect(refused).not_to_contain_text("4.2 million")
    page.screenshot(path=shots / "01-alice.png", full_page=True)
    sign_out()
    page.screenshot(path=shots / "02-signed-out.png")

    # Bob (finance-team): the board paper answers; his list has no HR document and no Alice conversation.
    sign_in("bob")
    expect(sidebar).to_contain_text("Documents in the index (1)")
    expect(sidebar).not_to_contain_text("Grievance casework policy")
    expect(sidebar).not_to_contain_text(HR_QUESTION)
    expect(ask(FINANCE_QUESTION, 1)).to_contain_text("4.2 million")
    page.screenshot(path=shots / "03-bob.png", full_page=True)
    sign_out()

    # Alice again: her conversation is listed and comes back whole.
    sign_in("alice")
    expect(page.locator('[data-testid="stChatMessage"]')).to_have_count(0)
    sidebar.get_by_role("button", name=HR_QUESTION).click()
    messages = page.locator('[data-testid="stChatMessage"]')
    expect(messages).to_have_count(4)
    expect(messages.nth(1)).to_contain_text("Zephyrine")
    page.screenshot(path=shots / "04-alice-resumed.png", full_page=True)
    # Alice shares it by link.
    sidebar.get_by_text("This conversation").click()
    sidebar.get_by_text("Share by link").click()
    link = sidebar.locator('[data-testid="stCode"] code').first
    expect(link).to_contain_text("?conversation=")
    shared_link = link.inner_text().strip()
    # The maintainer page is for the maintainers group: not for Alice.
    sidebar.get_by_role("link", name="Maintainers").click()
    expect(page.get_by_text("The maintainer page is for members of the pa-admins group.")).to_be_visible()
    sign_out()

    # The link opens for Dave (hr-team: he may read every source it quotes), not for Bob (finance-team).
    sign_in("dave")
    page.goto(shared_link)
    expect(page.get_by_text("A conversation shared by alice@example.org")).to_be_visible()
    expect(page.locator('[data-testid="stChatMessage"]').nth(1)).to_contain_text("Zephyrine")
    sign_out()
    sign_in("bob")
    page.goto(shared_link)
    expect(page.get_by_text("This conversation does not exist, or you may not open it.")).to_be_visible()
    expect(page.locator('[data-testid="stChatMessage"]')).to_have_count(0)
    page.screenshot(path=shots / "05-bob-shared-link-refused.png", full_page=True)
    sign_out()

    # Carol (pa-admins) reads the audit log and downloads it: every question, by whom.
    sign_in("carol")
    sidebar.get_by_role("link", name="Maintainers").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").get_by_role("button", name="Download as CSV").click()
    audit_csv = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"alice@example.org,\"[\"\"hr-team\"\"]\",ask,{HR_QUESTION}" in audit_csv
    assert f"bob@example.org,\"[\"\"finance-team\"\"]\",ask,{FINANCE_QUESTION}" in audit_csv
    page.screenshot(path=shots / "06-carol-audit.png", full_page=True)
    sign_out()
    context.close()

    # A forged session cookie, a genuine one that has expired, and one whose sign-in is older than
    # POLICY_ASSISTANT_SIGN_IN_MAX_HOURS (its groups may be stale) all get the sign-in page.
    bob = {"email": "bob@example.org", "groups": ["finance-team"]}
    for name, value in (("forged", _signed(dict(bob, email="mallory@example.org"), "wrong", origin=base)),
                        ("expired", _signed(bob, COOKIE_SECRET, days_old=60, origin=base)),
                        ("stale", _signed(bob, COOKIE_SECRET, origin=base, signed_in_hours_ago=13))):
        other = browser.new_context()
        other.add_cookies([{"name": "_streamlit_user", "value": value, "url": base + "/"}])
        visitor = other.new_page()
        visitor.goto(base + "/")
        expect(visitor.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
        assert visitor.get_by_placeholder("Ask a question about the policy documents").count() == 0
        visitor.screenshot(path=shots / f"07-{name}-cookie.png")
        other.close()
    # The control: the same cookie, signed today, is a session (so it is the age that turned it away).
    fresh = browser.new_context()
    fresh.add_cookies([{"name": "_streamlit_user", "url": base + "/",
                        "value": _signed(bob, COOKIE_SECRET, origin=base)}])
    visitor = fresh.new_page()
    visitor.goto(base + "/")
    expect(visitor.get_by_placeholder("Ask a question about the policy documents")).to_be_visible(timeout=60_000)
    fresh.close()


def _signed(claims: dict, secret: str, days_old: float = 0, origin: str = "", signed_in_hours_ago: float = 0) -> str:
    """A `_streamlit_user` cookie value as Streamlit signs it (itsdangerous), dated ``days_old`` ago,
    for a sign-in ``signed_in_hours_ago`` (or ``days_old``) ago."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days_old * 86400)

    signed_in = time.time() - max(days_old * 86400, signed_in_hours_ago * 3600)
    payload = dict(claims, is_logged_in=True, provider="default", sub=claims["email"], origin=origin,
                   iat=int(signed_in), auth_time=int(signed_in))
    return URLSafeTimedSerializer(secret, salt="_streamlit_user", signer=Dated).dumps(json.dumps(payload))
