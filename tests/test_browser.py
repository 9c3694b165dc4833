"""End to end in a real browser: the Streamlit server as `serve` starts it, driven with Debian's
chromium through Playwright (never `playwright install`). Screenshots land in the test's tmp dir."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

import index

from .conftest import BAD_INPUTS, ROOT, SEEDS, make_settings

pytestmark = [pytest.mark.shared, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
MARKUP_NOTE = """Pooled budget rules

The pooled budget for community equipment costs $5 million over two years, **not** more.
Typed into the document: <img src=x onerror=alert('xss')> and <script>alert('xss')</script>.
To claim a pooled budget refund visit www.nhs-budget-refund.example, write to refunds@nhs-budget-refund.example
or see https://nhs-budget-refund.example/claim.
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, server: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the Streamlit server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"no answer from {url}/_stcore/health after {timeout:.0f} s")


def start_streamlit(port: int, env: dict, log) -> subprocess.Popen:
    """The chat app as `serve` starts it, on 127.0.0.1:port, logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


@contextmanager
def running_app(tmp_path: Path, settings, **env):
    """The app as `serve` starts it, on a free loopback port, over settings' store and corpus; yields
    its URL. The server log must hold no traceback when it is stopped."""
    port = free_port()
    environment = dict(os.environ, POLICY_ASSISTANT_STORE=str(settings.store),
                       POLICY_ASSISTANT_CORPUS=str(settings.corpus), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                       ANONYMIZED_TELEMETRY="False", **env)
    environment.pop("POLICY_ASSISTANT_CHROMA_URL", None)
    log_path = tmp_path / f"server-{port}.log"
    with log_path.open("w") as log:
        server = start_streamlit(port, environment, log)
        try:
            wait_for_health(f"http://127.0.0.1:{port}", server)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.kill()
            server.wait(timeout=30)
    assert "Traceback" not in log_path.read_text(encoding="utf-8")


@pytest.fixture
def seed_store(tmp_path, embedder):
    """The five seed articles, the HTML page with script tags and a note full of markup."""
    import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        shutil.copy2(path, corpus / path.name)
    shutil.copy2(BAD_INPUTS / "script-tags.html", corpus / "script-tags.html")
    (corpus / "markup-note.txt").write_text(MARKUP_NOTE, encoding="utf-8")
    settings = make_settings(tmp_path / "store", corpus=corpus)
    report = ingest.run([corpus], settings, embedder=embedder)
    assert report.added == 7 and not report.failed, report.failed
    return settings


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make browser)")
def test_chat_in_a_real_browser(seed_store, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(seed_store.store), POLICY_ASSISTANT_CORPUS=str(seed_store.corpus),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("POLICY_ASSISTANT_CHROMA_URL", None)
    env.pop("POLICY_ASSISTANT_ADMIN_TOKEN", None)
    log = (tmp_path / "server.log").open("w")
    server = start_streamlit(port, env, log)
    dialogs: list[str] = []
    try:
        wait_for_health(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 1000}, accept_downloads=True)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            outside: list[str] = []  # requests to anywhere but this server: none, for an offline deployment
            page.on("request", lambda request: None if request.url.startswith((url, "data:", "blob:"))
                    else outside.append(request.url))
            page.goto(url)
            chat_box = page.get_by_placeholder("Ask a question about the policy documents")
            expect(chat_box).to_be_visible(timeout=180_000)  # first visit loads the model
            expect(page.get_by_role("heading", name="Policy assistant")).to_be_visible()
            page.screenshot(path=tmp_path / "01-start.png")

            def ask(question: str, number: int):
                chat_box.fill(question)
                chat_box.press("Enter")
                answers = page.locator('[data-testid="stChatMessage"]')
                expect(answers).to_have_count(2 * number, timeout=120_000)
                answer = answers.nth(2 * number - 1)
                expect(answer.locator('[data-testid="stFeedback"]').or_(
                    answer.locator('[data-testid="stAlert"]'))).to_be_visible(timeout=120_000)
                return answer

            # 1. A seed question: answer with [1], a source whose highlighted quote is the cited sentence.
            answer = ask("What did the NHS mandate say about people with learning disabilities?", 1)
            answer_text = answer.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
            assert "learning disabilities" in answer_text and "[1]" in answer_text
            source = answer.locator('[data-testid="stExpander"]').first
            expect(source).to_contain_text("NHS mandate stresses joined-up care")
            source.locator("summary").click()
            quote = source.locator("strong").first
            expect(quote).to_be_visible()
            quoted = quote.inner_text().strip()
            assert len(quoted) > 40 and quoted in answer_text  # the cited sentence, highlighted in context
            expect(source.get_by_role("button", name=re.compile("Download 000_"))).to_be_visible()
            page.screenshot(path=tmp_path / "02-answer-with-source.png", full_page=True)

            # 2. A follow-up that only makes sense with the conversation before it.
            ask("What did Sarah Pickup say about the NHS mandate?", 2)
            follow = ask("What did she say about engagement with councils?", 3)
            expect(follow).to_contain_text("engagement with councils")
            expect(follow.locator('[data-testid="stExpander"]').first).to_contain_text("NHS mandate")
            follow.scroll_into_view_if_needed()
            page.screenshot(path=tmp_path / "03-follow-up.png")

            # 3. Markup inside documents is shown as text and never runs.
            markup = ask("How much does the pooled budget for community equipment cost?", 4)
            passage = markup.locator('[data-testid="stExpander"]').filter(has_text="markup-note.txt").first
            passage.locator("summary").click()
            expect(passage).to_contain_text("<img src=x onerror=alert('xss')>")
            expect(passage).to_contain_text("<script>alert('xss')</script>")
            expect(passage).to_contain_text("$5 million")
            # Addresses in a passage, an answer or the question are text, never live links (phishing).
            refund = ask("How do I claim a pooled budget refund? My contact is staff@example.org or www.example.org", 5)
            expect(refund).to_contain_text("www.nhs-budget-refund.example")
            refund.locator('[data-testid="stExpander"]').first.locator("summary").click()
            expect(refund.locator('[data-testid="stExpander"]').first).to_contain_text("refunds@nhs-budget-refund.example")
            links = page.eval_on_selector_all('[data-testid="stChatMessage"] a', "els => els.map(e => e.href)")
            assert links == [], f"addresses became live links: {links}"
            passage.scroll_into_view_if_needed()
            page.screenshot(path=tmp_path / "04-markup-as-text.png")
            html = ask("What did the council and the clinical commissioning group agree about community "
                       "equipment?", 6)
            expect(html.locator('[data-testid="stExpander"]').first).to_contain_text("script-tags.html")
            assert page.locator('img[src="x"]').count() == 0
            assert page.locator('[data-testid="stMain"] script').count() == 0
            expect(passage.get_by_text("$5 million", exact=False)).to_be_visible()  # still open after a new question

            # 4. Export: the conversation as Markdown, with its citations.
            with page.expect_download() as download:
                page.get_by_role("button", name="Download conversation").click()
            exported = Path(download.value.path()).read_text(encoding="utf-8")
            assert "## 3. What did she say about engagement with councils?" in exported
            assert "[1] NHS mandate stresses joined-up care" in exported and "\\[" not in exported
            assert "*Searched all documents.*" in exported

            # 5. A burst: each question sent as soon as the last one shows in the chat, while it is
            # still being answered. The box is closed during an answer (Streamlit merges two sends
            # within one run into the later one), so the next waits in the box, and all are answered
            # in order. The queue itself is specified by
            # test_questions_waiting_in_the_queue_are_all_answered_in_order.
            burst = [f"What did the NHS mandate say about councils? ({n})" for n in range(6)]
            closed_seen = 0
            for text in burst:
                chat_box.fill(text)  # waits while the box is closed
                chat_box.press("Enter")
                expect(page.get_by_text(text).first).to_be_visible(timeout=60_000)
                closed_seen += chat_box.is_disabled()
            assert closed_seen, "the box was never closed while a question was being answered"
            # The last FULL_TURNS turns are drawn in full; the rest sit in the "Earlier" block.
            expect(page.get_by_text(burst[-1]).first).to_be_visible(timeout=180_000)
            expect(page.locator('[data-testid="stChatMessage"]').last.locator(
                '[data-testid="stFeedback"]')).to_be_visible(timeout=180_000)
            shown = page.locator('[data-testid="stChatMessage"]').all_inner_texts()
            asked = [text for text in burst if any(text in message for message in shown)]
            assert asked == burst, f"questions lost in the burst: {sorted(set(burst) - set(asked))}"
            page.screenshot(path=tmp_path / "05-burst.png", full_page=True)

            # 6. A "from" date more than ten years back is accepted (it turned red before).
            date_box = page.locator('[data-testid="stDateInput"]').filter(
                has_text="Published on or after").locator("input")
            date_box.scroll_into_view_if_needed()
            date_box.focus()
            date_box.press_sequentially("01/01/2016", delay=30)
            date_box.press("Enter")
            page.keyboard.press("Escape")
            page.wait_for_timeout(1500)
            assert not page.get_by_text("outside allowed range").count()
            expect(page.get_by_text("Documents with no publication date are left out")).to_be_visible()
            page.screenshot(path=tmp_path / "06-date-2016.png")

            # 7. On a phone (390 px) the sidebar starts folded away, not over the chat.
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            phone.goto(url)
            expect(phone.get_by_placeholder("Ask a question about the policy documents")).to_be_visible(timeout=60_000)
            phone.wait_for_timeout(1000)
            box = phone.locator('[data-testid="stSidebar"]').bounding_box()
            assert box is None or box["width"] == 0 or box["x"] + box["width"] <= 0, box
            phone.screenshot(path=tmp_path / "07-phone.png")
            phone.close()
            sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
            assert sidebar and sidebar["width"] > 200  # open beside the chat on a desktop

            page.wait_for_timeout(300)
            assert not page.get_by_text("Traceback").count()
            assert outside == [], f"the page fetched from outside the server: {outside}"
            browser.close()
        assert dialogs == [], f"a document's script ran in the page: {dialogs}"
    finally:
        server.kill()
        server.wait(timeout=30)
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text(encoding="utf-8")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make browser)")
def test_indexing_finishes_after_the_maintainer_tab_is_closed(tmp_path, embedder):
    """300 uploads, the tab closed after 1.5 s: every file is indexed, and the page shows the outcome
    to the maintainer who comes back (256 of 300 were indexed before, with no report)."""
    from playwright.sync_api import expect, sync_playwright

    import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(SEEDS / "000_1ba0c70c47b0b245.txt", corpus)
    settings = make_settings(tmp_path / "store", corpus=corpus)
    ingest.run([corpus], settings, embedder=embedder)
    uploads = tmp_path / "to-upload"
    uploads.mkdir()
    for n in range(300):
        (uploads / f"council-note-{n:03}.txt").write_text(
            f"Council note {n} on pooled budgets.\n\nNote {n} records how the council and the NHS share the "
            f"pooled budget for intermediate care in area {n}.\n", encoding="utf-8")
    token = "browser-maintainer-token"
    with running_app(tmp_path, settings, POLICY_ASSISTANT_ADMIN_TOKEN=token) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def maintainer_page():
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.goto(f"{url}/maintain_page")
            box = page.get_by_label("Maintainer token")
            expect(box).to_be_visible(timeout=180_000)
            box.fill(token)
            box.press("Enter")
            expect(page.get_by_text("Add documents")).to_be_visible(timeout=60_000)
            return page

        page = maintainer_page()
        page.locator('input[type="file"]').set_input_files(sorted(str(p) for p in uploads.iterdir()))
        add = page.get_by_role("button", name="Add and index")
        expect(add).to_be_enabled(timeout=120_000)
        add.click()
        page.wait_for_timeout(1500)
        page.screenshot(path=tmp_path / "01-indexing.png")
        page.close()  # the maintainer closes the tab mid-index

        page = maintainer_page()
        outcome = page.get_by_text(re.compile(r"Finished at .*: 300 added"))
        expect(outcome).to_be_visible(timeout=300_000)
        page.screenshot(path=tmp_path / "02-outcome-on-return.png", full_page=True)
        browser.close()
    manifest = index.ChromaStore(settings).manifest()
    assert sum("council-note-" in source for source in manifest) == 300


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make browser)")
def test_a_superseded_source_shows_its_badge_in_a_real_browser(tmp_path, embedder):
    """Issue 14: "Answer as of" a date before the new version: the answer quotes the old figure and
    its source carries the Superseded badge and the note naming the version that replaced it."""
    import ingest
    from playwright.sync_api import expect, sync_playwright

    from .test_versions import BODY, FRONT

    docs = tmp_path / "docs"
    docs.mkdir()
    for year, version, amount in (("2024", "1.0", "£500 million"), ("2025", "2.0", "£600 million")):
        (docs / f"bcf-framework-{year}.md").write_text(
            FRONT.format(date=f"{year}-04-01", version=version) + BODY.format(amount=amount), encoding="utf-8")
    settings = make_settings(tmp_path / "store", corpus=docs)
    assert ingest.run([docs], settings, embedder=embedder).added == 2
    with running_app(tmp_path, settings) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        page.goto(url)
        chat_box = page.get_by_placeholder("Ask a question about the policy documents")
        expect(chat_box).to_be_visible(timeout=180_000)
        as_of = page.locator('[data-testid="stDateInput"]').filter(has_text="Answer as of")
        as_of.scroll_into_view_if_needed()
        # Day, month and year are three boxes (dd / mm / yyyy) that move on by themselves.
        as_of.get_by_role("spinbutton", name=re.compile("^day")).click()
        page.keyboard.type("01062024", delay=30)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.wait_for_timeout(1500)
        chat_box.fill("How much is the Discharge Fund?")
        chat_box.press("Enter")
        answer = page.locator('[data-testid="stChatMessage"]').nth(1)
        expect(answer.locator('[data-testid="stFeedback"]')).to_be_visible(timeout=120_000)
        assert "£500 million" in answer.inner_text()
        source = answer.locator('[data-testid="stExpander"]').first
        expect(source).to_contain_text("Superseded")
        source.locator("summary").click()
        expect(source.get_by_text("has been superseded by")).to_be_visible()
        expect(answer.get_by_text("the versions in force on 01 June 2024")).to_be_visible()
        page.screenshot(path=tmp_path / "01-superseded-badge.png", full_page=True)
        if os.environ.get("SCREENSHOTS"):  # a folder to look at the page in
            shutil.copy(tmp_path / "01-superseded-badge.png", Path(os.environ["SCREENSHOTS"]) / "superseded-badge.png")
        browser.close()
