"""Load benchmark (issue 6): concurrent questions through the Python API and through the running
Streamlit app, plus process memory over 1,000 questions.

    python bench/bench_load.py [--store DIR] [--threads 1,2,4,8] [--seconds 15]
                               [--rss-questions 1000] [--pages 1,4] [--ui-seconds 45] [--no-ui]
                               [--http-clients 1,4,16] [--no-http]

Index: the seed articles + the NHS documents (built once into --store, then only checked).
Questions: every question of eval/dev.jsonl (answerable and not), round-robin, each with a
"(case N)" suffix so that no text is asked twice (the question-vector cache would skip its embedding).

API    N threads share one Assistant, each asking question after question for --seconds.
UI     `streamlit run ui/app.py` on 127.0.0.1 (a free port) is driven by N concurrent headless
       chromium pages (Debian's /usr/bin/chromium through Playwright), each its own session,
       typing a question into the chat box and waiting until the answer is drawn in full (its
       feedback buttons appear); a page starts a new conversation every 5 questions.
HTTP   `policy-assistant api` on 127.0.0.1 (a free port), N concurrent httpx clients posting to
       /v1/ask; the 1-client level against the 1-thread API level gives the HTTP overhead.
Audit  "API+audit xN": the same questions, each also written to the audit log as the chat and the
       HTTP API write it (access/records.py, SQLite in a scratch folder); the ratio against "API xN"
       of the same run is the audit's cost. Every level that writes the audit (these, HTTP, UI) must
       find exactly one record per question answered: none lost under concurrent writers.
Memory RSS of this process, sampled after each of --rss-questions sequential questions:
       mean of the first 100 against mean of the last 100.

Reported for each level: throughput (questions/s), p50/p95 latency (ms) and errors; ratios are
against the 1-thread / 1-page baseline measured in the same run. Errors must be 0 and memory must
stay flat (last 100 within 50 MB of the first 100): the exit status is 1 otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from _setup import ROOT, SHARED  # noqa: E402,F401  (offline, quiet, project on sys.path)

SEEDS = SHARED / "seeds"
NHS = SHARED / "datasets" / "nhs-policy-pdfs"
DEV_SET = ROOT / "eval" / "dev.jsonl"
BENCH_DIR = Path(os.environ.get("POLICY_ASSISTANT_BENCH_DIR", "/tmp/policy-assistant-bench"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
RSS_GROWTH_LIMIT_MB = 50.0
UI_ANSWER_TIMEOUT_S = 120.0
UI_ERROR_TEXTS = ("Something went wrong", "cannot be used right now", "Traceback")


@dataclass
class Level:
    name: str
    workers: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cited: int = 0  # answers drawn with their sources (not refusals)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def questions() -> list[str]:
    from evaluation import load_questions

    return [q.question for q in load_questions(DEV_SET)]


def build(store: Path, embedder):
    import ingest
    from index.settings import Settings

    settings = Settings(store=store)
    started = time.perf_counter()
    report = ingest.run([SEEDS, NHS], settings, embedder=embedder)
    print(f"index {store}: {report.total_chunks} chunks ({report.added} added, {report.unchanged} unchanged) "
          f"in {time.perf_counter() - started:.1f} s", flush=True)
    return settings


# --- API ----------------------------------------------------------------------------------------

def drive(level: Level, workers: int, seconds: float, ask_one, make_client=None) -> Level:
    """``workers`` threads call ``ask_one(n, client)`` question after question for ``seconds``;
    each call's time is recorded, and every error is counted, never hidden. ``make_client``: a
    context manager each thread holds for its calls (an HTTP client), or None."""
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    def calls(client) -> None:
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            started = time.perf_counter()
            try:
                ask_one(n, client)
            except Exception as exc:  # counted, never hidden
                with lock:
                    level.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                level.latencies_ms.append((time.perf_counter() - started) * 1000)

    def work() -> None:
        if make_client is None:
            return calls(None)
        with make_client() as client:
            calls(client)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.seconds = time.perf_counter() - started
    return level


def api_level(assistant, qs: list[str], workers: int, seconds: float) -> Level:
    def ask_one(n: int, client) -> None:
        # Each text asked once: the assistant keeps the last questions' vectors, and a repeated
        # question would be timed without its embedding.
        answer = assistant.ask(f"{qs[n % len(qs)]} (case {n})")
        if answer is None or not answer.answer:
            raise RuntimeError("no answer")

    return drive(Level(f"API x{workers}", workers), workers, seconds, ask_one)


def audit_level(assistant, records, qs: list[str], workers: int, seconds: float) -> Level:
    """api_level, each answer written to the audit log as the chat writes it."""
    from access.policy import User

    def ask_one(n: int, client) -> None:
        question = f"{qs[n % len(qs)]} (audit case {n})"
        answer = assistant.ask(question)
        records.log_answer(User(id=f"bench-user-{n % workers}"), answer, via="bench")

    return drive(Level(f"API+audit x{workers}", workers), workers, seconds, ask_one)


def audited_asks(records, since: float, via: str) -> int:
    return sum(1 for r in records.audit(action="ask", since=since, limit=10**7) if f'"via": "{via}"' in r["detail"])


def check_audit(name: str, records, since: float, via: str, answered: int) -> bool:
    found = audited_asks(records, since, via)
    print(f"audit ({name}): {found} records for {answered} questions answered: "
          f"{'none lost' if found == answered else 'MISMATCH'}", flush=True)
    return found == answered


def http_levels(store: Path, qs: list[str], client_counts: list[int], seconds: float) -> list[Level]:
    """The HTTP API in its own process, driven by N threads each with its own httpx client."""
    import httpx

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "api", "--store", str(store), "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                              env={**{k: v for k, v in os.environ.items() if k != "POLICY_ASSISTANT_CHROMA_URL"},
                                   # the load is the point here, not the per-key limit (120 a minute)
                                   "POLICY_ASSISTANT_API_RATE_PER_MINUTE": "1000000"})
    url = f"http://127.0.0.1:{port}/v1/ask"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)

        def ask_one(n: int, client) -> None:
            reply = client.post(url, json={"question": f"{qs[n % len(qs)]} (http case {n})"})
            if reply.status_code != 200 or not reply.json().get("answer"):
                raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:120]}")

        levels = [drive(Level(f"HTTP x{clients}", clients), clients, seconds, ask_one,
                        lambda: httpx.Client(timeout=120)) for clients in client_counts]
        return levels
    finally:
        server.terminate()
        server.wait(timeout=30)


def rss_run(assistant, qs: list[str], n: int) -> dict:
    import psutil

    process = psutil.Process()
    samples = []
    errors = 0
    for i in range(n):
        # Every third question carries a number never seen before, so caches keyed on text are exercised.
        question = qs[i % len(qs)] + (f" (case {i})" if i % 3 == 0 else "")
        try:
            assistant.ask(question)
        except Exception:
            errors += 1
        samples.append(process.memory_info().rss / 2**20)
    first, last = statistics.mean(samples[:100]), statistics.mean(samples[-100:])
    return {"questions": n, "first100_mb": first, "last100_mb": last, "growth_mb": last - first,
            "max_mb": max(samples), "errors": errors}


# --- UI -------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_streamlit(store: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, POLICY_ASSISTANT_STORE=str(store))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"streamlit exited: see {log}")
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("streamlit did not start in 120 s")


async def _open_page(browser, url: str):
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_test_id("stChatInputTextArea").wait_for(timeout=180_000)
    return context, page


async def _drive_page(page, qs: list[str], offset: int, deadline: float, level: Level) -> None:
    """Ask question after question until the deadline; each timed from Enter to the full answer."""
    box = page.get_by_test_id("stChatInputTextArea")
    turns, i = 0, offset
    while time.perf_counter() < deadline:
        if turns == 5:  # keep the page the size a real conversation has
            await page.get_by_role("button", name="New conversation").click()
            await page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=stFeedback]').length === 0", timeout=60_000)
            turns = 0
        question = qs[i % len(qs)]
        i += 1
        started = time.perf_counter()
        try:
            await box.fill(question)
            await box.press("Enter")
            await page.wait_for_function(
                f"() => document.querySelectorAll('[data-testid=stFeedback]').length >= {turns + 1}",
                timeout=UI_ANSWER_TIMEOUT_S * 1000)
            turns += 1
            text = await page.get_by_test_id("stChatMessage").last.inner_text()
            if any(bad in text for bad in UI_ERROR_TEXTS):
                raise RuntimeError(text.strip()[:200])
            level.cited += "Sources: open one" in text
        except Exception as exc:  # counted, then a fresh session
            level.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            await page.reload()
            await box.wait_for(timeout=180_000)
            turns = 0
            continue
        level.latencies_ms.append((time.perf_counter() - started) * 1000)


async def _ui_level(url: str, qs: list[str], pages: int, seconds: float) -> Level:
    from playwright.async_api import async_playwright

    level = Level(f"UI  x{pages}", pages)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # Open every page (its own session) first: the timed window measures questions only.
            opened = await asyncio.gather(*[_open_page(browser, url) for _ in range(pages)])
            started = time.perf_counter()
            await asyncio.gather(*[_drive_page(page, qs, n * 7, started + seconds, level)
                                   for n, (_, page) in enumerate(opened)])
            level.seconds = time.perf_counter() - started
            for context, _ in opened:
                await context.close()
        finally:
            await browser.close()
    return level


def ui_levels(store: Path, qs: list[str], page_counts: list[int], seconds: float) -> tuple[list[Level], dict]:
    import psutil

    port = free_port()
    log = BENCH_DIR / "streamlit-load.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = start_streamlit(store, port, log)
    url = f"http://127.0.0.1:{port}/"
    levels = []
    memory = {}
    try:
        # One untimed page first: the server loads the model and the keyword index on first use.
        asyncio.run(_ui_level(url, qs, 1, 5))
        memory["server_rss_before_mb"] = psutil.Process(server.pid).memory_info().rss / 2**20
        for pages in page_counts:
            level = asyncio.run(_ui_level(url, qs, pages, seconds))
            print_level(level, levels[0] if levels else None)
            levels.append(level)
        memory["server_rss_after_mb"] = psutil.Process(server.pid).memory_info().rss / 2**20
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return levels, memory


# --- report --------------------------------------------------------------------------------------

def print_level(level: Level, baseline: Level | None) -> None:
    ratio = ""
    if baseline and baseline.throughput:
        ratio = (f"  throughput x{level.throughput / baseline.throughput:.2f}, "
                 f"p50 x{level.pct(50) / baseline.pct(50):.2f} of the x{baseline.workers} baseline")
    print(f"{level.name:8} {len(level.latencies_ms):6d} answers in {level.seconds:5.1f} s: "
          f"{level.throughput:6.2f} q/s, p50 {level.pct(50):7.0f} ms, p95 {level.pct(95):7.0f} ms, "
          f"errors {len(level.errors)}{f', {level.cited} cited' if level.name.startswith('UI') else ''}{ratio}",
          flush=True)
    for error in level.errors[:5]:
        print(f"         error: {error}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="index folder (default: BENCH_DIR/load-<backend>)")
    parser.add_argument("--threads", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rss-questions", type=int, default=1000)
    parser.add_argument("--pages", default="1,4")
    parser.add_argument("--ui-seconds", type=float, default=45.0)
    parser.add_argument("--no-ui", action="store_true")
    parser.add_argument("--http-clients", default="1,4,16")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args(argv)

    from access.policy import User
    from assistant import Assistant
    from index.embedding import Embedder
    from index.settings import default_model_path

    embedder = Embedder(default_model_path())
    settings = build(args.store or BENCH_DIR / f"load-{embedder.backend}", embedder)
    assistant = Assistant(settings=settings, embedder=embedder)
    assistant.warm_up()
    qs = questions()
    for question in qs[:10]:
        assistant.ask(question)
    print(f"{len(qs)} questions from {DEV_SET.name}; {os.cpu_count()} CPU cores\n", flush=True)

    ok = True
    levels: list[Level] = []
    for workers in [int(x) for x in args.threads.split(",")]:
        level = api_level(assistant, qs, workers, args.seconds)
        print_level(level, levels[0] if levels else None)
        levels.append(level)
        ok &= not level.errors

    import tempfile

    from access.records import Records

    print("\nThe same, each answer also written to the audit log (SQLite, WAL):", flush=True)
    scratch = Records(Path(tempfile.mkdtemp(prefix="bench-audit-")) / "records.sqlite3")
    for workers in sorted({min(int(x) for x in args.threads.split(",")), max(int(x) for x in args.threads.split(","))}):
        since = time.time()
        level = audit_level(assistant, scratch, qs, workers, args.seconds)
        plain = next(lv for lv in levels if lv.workers == workers)
        print_level(level, None)
        print(f"  against API x{workers}: p50 x{level.pct(50) / plain.pct(50):.3f}, "
              f"throughput x{level.throughput / plain.throughput:.3f}", flush=True)
        ok &= not level.errors and check_audit(level.name, scratch, since, "bench", len(level.latencies_ms))
    # One thread, questions alternating without and with the audit write: both halves see the same
    # machine at the same moments (a level run before another can meet a busier machine).
    plain_ms, audited_ms = [], []
    for i in range(400):
        question = f"{qs[i % len(qs)]} (alternating case {i})"
        started = time.perf_counter()
        answer = assistant.ask(question)
        if i % 2:
            scratch.log_answer(User(id="bench"), answer, via="bench-ab")
        (audited_ms if i % 2 else plain_ms).append((time.perf_counter() - started) * 1000)
    print(f"alternating, 1 thread, 200 questions each: p50 {statistics.median(plain_ms):.1f} ms without the "
          f"audit write, {statistics.median(audited_ms):.1f} ms with it (x{statistics.median(audited_ms) / statistics.median(plain_ms):.3f})",
          flush=True)
    write_ms = []
    for i in range(500):
        started = time.perf_counter()
        scratch.log(User(id="bench"), "ask", f"write cost {i}", ["a" * 40] * 5, ["a" * 40] * 2, via="bench-write")
        write_ms.append((time.perf_counter() - started) * 1000)
    print(f"one audit write alone: p50 {statistics.median(write_ms):.2f} ms, "
          f"p95 {sorted(write_ms)[int(0.95 * len(write_ms))]:.2f} ms (500 writes)", flush=True)

    if not args.no_http:
        print(f"\nHTTP API (policy-assistant api) on 127.0.0.1, {args.seconds:.0f} s a level:", flush=True)
        since = time.time()
        http = http_levels(settings.store, qs, [int(x) for x in args.http_clients.split(",")], args.seconds)
        for level in http:
            print_level(level, http[0] if level is not http[0] else None)
            ok &= not level.errors
        store_records = Records(settings.records_path)
        ok &= check_audit("HTTP", store_records, since, "api", sum(len(level.latencies_ms) for level in http))
        if http and http[0].latencies_ms and levels:
            print(f"HTTP overhead, 1 client against 1 in-process thread: p50 x{http[0].pct(50) / levels[0].pct(50):.2f}, "
                  f"throughput x{http[0].throughput / levels[0].throughput:.2f}", flush=True)

    memory = rss_run(assistant, qs, args.rss_questions)
    flat = memory["growth_mb"] <= RSS_GROWTH_LIMIT_MB
    print(f"\nRSS over {memory['questions']} API questions: first 100 {memory['first100_mb']:.0f} MB, "
          f"last 100 {memory['last100_mb']:.0f} MB (growth {memory['growth_mb']:+.1f} MB, max "
          f"{memory['max_mb']:.0f} MB, errors {memory['errors']}): {'flat' if flat else 'GROWING'}", flush=True)
    ok &= flat and not memory["errors"]

    if not args.no_ui:
        if not Path(CHROMIUM).exists():
            print(f"\nUI part skipped: no chromium at {CHROMIUM} (make browser installs it)")
        else:
            print(f"\nStreamlit app on 127.0.0.1, {args.ui_seconds:.0f} s a level:", flush=True)
            since = time.time()
            ui, server_memory = ui_levels(settings.store, qs, [int(x) for x in args.pages.split(",")], args.ui_seconds)
            # An app on an empty or wrong index draws refusals fast: every level must cite sources.
            ok &= all(not level.errors and level.cited for level in ui)
            # The untimed warm-up page's answers are audited too: none lost means at least one record
            # for every timed answer.
            answered = sum(len(level.latencies_ms) for level in ui)
            found = audited_asks(Records(settings.records_path), since, "chat")
            print(f"audit (UI): {found} records for {answered} timed answers and the untimed warm-up page's: "
                  f"{'none lost' if found >= answered else 'LOST'}", flush=True)
            ok &= found >= answered
            print(f"Streamlit server RSS: {server_memory['server_rss_before_mb']:.0f} MB before the timed "
                  f"levels, {server_memory['server_rss_after_mb']:.0f} MB after")
    print(f"\n{'PASS' if ok else 'FAIL'}: errors must be 0, memory flat, and the app must answer with sources")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
