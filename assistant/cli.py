"""policy-assistant: ingest | ask | search | chat | eval | serve | api | api-key."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path

from index.answerers import ANSWERER_NAMES

from .errors import UsageError

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3


def _quiet_libraries() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    for name in ("pypdf", "chromadb", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:
        pass


def _positive(text: str) -> int:
    """--k: a whole number from 1 to 100 ("-1" once returned every one of 37 hits)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is outside 1-100")
    return value


def _iso_date(text: str) -> str:
    """--from / --to: a year, a month or a real calendar date (2016-13-45 is none of them)."""
    from .search import date_bound

    try:
        date_bound(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _settings(args):
    from index.settings import Settings

    overrides = {}
    if getattr(args, "store", None):
        if args.store.startswith(("http://", "https://")):
            overrides["chroma_url"] = args.store
        else:
            overrides["store"] = Path(args.store).expanduser().resolve()
    if getattr(args, "answerer", None):
        overrides["answerer"] = args.answerer
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:  # a bad POLICY_ASSISTANT_* value: say which, in one line
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"bad setting: {problems}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with one line, no traceback
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policy-assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p):
        p.add_argument("--store", help="store folder, or http(s)://host:port of a Chroma server")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    def as_user(p):
        p.add_argument("--user", help="answer as this user (for evaluation scripts; default: anonymous)")
        p.add_argument("--groups", help="that user's groups, comma-separated: only their libraries are read")

    p = sub.add_parser("ingest", help="index files and folders (recursively)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--prune", action="store_true", help="also drop indexed files that no longer exist")
    p.add_argument("--reindex", action="store_true", help="drop the index and rebuild it")
    p.add_argument("--wait", type=float, default=600.0, help="seconds to wait for another ingest")
    p.add_argument("--library", help="the library the files join (who may read them: POLICY_ASSISTANT_LIBRARIES); "
                                     "default: POLICY_ASSISTANT_DEFAULT_LIBRARY")
    p.add_argument("--libraries-from-folders", action="store_true",
                   help="a file in a sub-folder of a given folder joins the library named like that sub-folder")
    common(p)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question", nargs="?")
    p.add_argument("--questions", help="file with one question a line; one JSON object a line out")
    p.add_argument("--answerer", choices=ANSWERER_NAMES)
    p.add_argument("--k", type=_positive, help="passages to answer from (1-100)")
    p.add_argument("--source", action="append", help="restrict to documents (name substring); repeatable")
    p.add_argument("--from", dest="date_from", type=_iso_date, help="only documents dated on/after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=_iso_date, help="only documents dated on/before YYYY-MM-DD")
    p.add_argument("--as-of", dest="as_of", type=_iso_date,
                   help="answer from the versions in force on YYYY-MM-DD (default: prefer current versions)")
    as_user(p)
    common(p)

    p = sub.add_parser("search", help="retrieve passages")
    p.add_argument("query", nargs="?")
    p.add_argument("--queries", help="file with one query a line")
    p.add_argument("--k", type=_positive, default=10, help="passages to return (1-100)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--source", action="append")
    p.add_argument("--from", dest="date_from", type=_iso_date)
    p.add_argument("--to", dest="date_to", type=_iso_date)
    p.add_argument("--as-of", dest="as_of", type=_iso_date, help="only versions in force on YYYY-MM-DD")
    as_user(p)
    common(p)

    p = sub.add_parser("documents", help="list the indexed documents with their date, version and status")
    p.add_argument("--sort", choices=["title", "published", "updated", "version", "status", "review_by"],
                   default="title")
    as_user(p)
    common(p)

    p = sub.add_parser("changes", help="what changed in a document since its previous version")
    p.add_argument("document", help="the document (its path, or a unique part of its file name)")
    p.add_argument("--topic", default="", help="only changes that mention these words")
    p.add_argument("--since", help="compare with this version instead of the previous one")
    as_user(p)
    common(p)

    p = sub.add_parser("chat", help="interactive conversation in the terminal")
    p.add_argument("--answerer", choices=ANSWERER_NAMES)
    as_user(p)
    common(p)

    p = sub.add_parser("serve", help="ingest corpus/ if the index is empty, then start the chat UI")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="localhost")
    common(p)

    from api import cli as api_cli
    from evaluation import cli as eval_cli

    eval_cli.add_parser(sub, common, as_user)
    api_cli.add_parser(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_libraries()
    args = build_parser().parse_args(argv)
    from index.store import StoreError

    try:
        handler = {"ingest": cmd_ingest, "ask": cmd_ask, "search": cmd_search, "chat": cmd_chat,
                   "serve": cmd_serve, "documents": cmd_documents, "changes": cmd_changes}.get(args.command)
        if args.command in ("api", "api-key"):
            from api import cli as api_cli

            return (api_cli.run_api if args.command == "api" else api_cli.run_keys)(args, _settings(args))
        if handler is None:
            from evaluation import cli as eval_cli

            return eval_cli.run(args, _settings(args))
        return handler(args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, RuntimeError) as exc:
        # A store path that is a file, a read-only store, a symlink loop: one line, not a traceback.
        where = getattr(exc, "filename", None) or getattr(args, "store", None) or ""
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        print(f"error: the store cannot be used{f' ({where})' if where else ''}: {reason}", file=sys.stderr)
        return EXIT_ERROR
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ImportError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# --- ingest ------------------------------------------------------------------------------------

def cmd_ingest(args) -> int:
    import ingest

    settings = _settings(args)
    bar = None
    progress = None
    if not args.json and sys.stderr.isatty():
        from tqdm import tqdm

        def progress(index, total, name):
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr)
            bar.set_postfix_str(name[-40:])
            bar.update(1)
    report = ingest.run(args.paths, settings, prune=args.prune, reindex=args.reindex, progress=progress,
                        lock_timeout=args.wait, on_wait=lambda msg: print(msg, file=sys.stderr),
                        library=args.library, by_folder=args.libraries_from_folders)
    if bar is not None:
        bar.close()
    _audit_ingest(settings, report, "reindex" if args.reindex else "ingest", args.paths)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for failure in report.failed:
            print(f"failed: {failure['path']}: {failure['error']}", file=sys.stderr)
        print(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
              f"{report.removed} removed, {len(report.failed)} failed; {report.chunks} chunks embedded, "
              f"{report.total_chunks} in the index ({report.seconds:.1f} s)")
    return EXIT_PARTIAL if report.failed else EXIT_OK


def _audit_ingest(settings, report, action: str, paths) -> None:
    """Record an ingest from the command line, by the system user who ran it."""
    import getpass

    from access.policy import User
    from access.records import Records

    changed = [f["path"] for f in report.files if f["status"] in ("added", "updated", "removed")]
    if changed or action == "reindex":
        Records(settings.records_path, settings.audit_retention_days).log(
            User(id=f"cli:{getpass.getuser()}"), action, paths=[str(p) for p in paths], changed=changed)


def user_of(args, settings):
    """The user --user/--groups name (None: the anonymous user)."""
    from access.policy import User, parse_groups

    if not getattr(args, "user", None) and not getattr(args, "groups", None):
        return None
    groups = parse_groups(args.groups)
    return User(id=args.user or "cli", groups=groups,
                maintainer=bool(settings.maintainers_group) and settings.maintainers_group in groups)


# --- ask / search ------------------------------------------------------------------------------

def _lines(path: str) -> list[str]:
    """The non-empty lines of a questions file; a missing or unreadable one is a usage error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _reader(args):
    """An Assistant over an index that exists: asking a folder with none creates nothing (exit 3)."""
    from . import Assistant

    assistant = Assistant(settings=_settings(args))
    assistant.store.require_index()
    return assistant


def cmd_ask(args) -> int:
    if not args.question and not args.questions:
        raise UsageError("give a question, or --questions FILE")
    questions = _lines(args.questions) if args.questions else [args.question]
    assistant = _reader(args)
    options = {"k": args.k, "sources": args.source, "date_from": args.date_from, "date_to": args.date_to,
               "as_of": args.as_of, "user": user_of(args, assistant.settings)}
    for question in questions:
        answer = assistant.ask(question, **options)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(answer.to_markdown() + "\n", flush=True)
    return EXIT_OK


def cmd_search(args) -> int:
    if not args.query and not args.queries:
        raise UsageError("give a query, or --queries FILE")
    queries = _lines(args.queries) if args.queries else [args.query]
    assistant = _reader(args)
    for query in queries:
        hits = assistant.search(query, k=args.k, sources=args.source, date_from=args.date_from,
                                date_to=args.date_to, mode=args.mode, as_of=args.as_of,
                                user=user_of(args, assistant.settings))
        if args.json:
            print(json.dumps({"query": query, "hits": [h.to_dict() for h in hits]}, ensure_ascii=False), flush=True)
        else:
            print(f"# {query}")
            for rank, hit in enumerate(hits, start=1):
                where = f" p.{hit.page}" if hit.page else ""
                print(f"{rank:2}. {hit.score:.4f} {hit.file_name}{where}: {hit.text[:160]!s}".replace("\n", " "))
    return EXIT_OK


def cmd_documents(args) -> int:
    assistant = _reader(args)
    rows = assistant.document_rows(sort=args.sort, user=user_of(args, assistant.settings))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return EXIT_OK
    print(f"{'status':<11} {'published':<10} {'version':<8} {'review by':<10}  title (file)")
    for row in rows:
        print(f"{row['status']:<11} {row['published'] or '-':<10} {row['version'] or '-':<8} "
              f"{row['review_by'] or '-':<10}  {row['title']} ({Path(row['source']).name})")
    return EXIT_OK


def cmd_changes(args) -> int:
    assistant = _reader(args)
    user = user_of(args, assistant.settings)
    source = assistant.find_document(args.document, user=user)
    since = assistant.find_document(args.since, user=user) if args.since else None
    found = assistant.changes(source, topic=args.topic, since=since, user=user)
    if args.json:
        print(json.dumps({"document": source, "changes": [c.to_dict() for c in found]}, ensure_ascii=False))
        return EXIT_OK
    if not found:
        print("No passage changed" + (f" about '{args.topic}'." if args.topic else "."))
    for change in found:
        if change.kind == "changed":
            print(f"changed:\n  - {change.before}\n  + {change.after}")
        else:
            print(f"{change.kind}:\n  {'+' if change.kind == 'added' else '-'} {change.after or change.before}")
    return EXIT_OK


def cmd_chat(args) -> int:
    assistant = _reader(args)
    history: list[dict] = []
    print("Ask about the policy documents. Empty line or Ctrl-D to leave.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return EXIT_OK
        if not question:
            return EXIT_OK
        answer = None
        print("assistant> ", end="", flush=True)
        for piece in assistant.stream(question, history, user=user_of(args, assistant.settings)):
            if isinstance(piece, str):
                print(piece, end="", flush=True)
            else:
                answer = piece
        print()
        for c in answer.citations:
            where = f", p.{c.page}" if c.page else ""
            print(f"  [{c.n}] {c.title} ({Path(c.source).name}{where}){'' if c.verified else ' UNVERIFIED'}")
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]


# --- serve -------------------------------------------------------------------------------------

def cmd_serve(args) -> int:
    import subprocess

    import ingest
    from index.store import ChromaStore

    settings = _settings(args)
    store = ChromaStore(settings)
    if store.count() == 0:
        print(f"The index is empty: ingesting {settings.corpus} first.", file=sys.stderr)
        report = ingest.run([settings.corpus], settings)
        print(f"{report.added} documents, {report.total_chunks} chunks indexed.", file=sys.stderr)
    elif not _index_matches_the_model(store, settings):
        return 3
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    env = dict(os.environ)
    if settings.chroma_url:
        env["POLICY_ASSISTANT_CHROMA_URL"] = settings.chroma_url
    else:
        env["POLICY_ASSISTANT_STORE"] = str(settings.store)
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
               "--server.address", args.host, "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    from access.signin import write_streamlit_secrets

    secrets_file = write_streamlit_secrets(settings)
    if secrets_file is not None:  # sign-in through the configured identity provider (access/signin.py)
        command += ["--secrets.files", str(secrets_file)]
    print(f"Serving the chat on http://{args.host}:{args.port}", file=sys.stderr)
    # From the project root, so Streamlit reads the project's .streamlit/config.toml.
    return subprocess.call(command, env=env, cwd=app.parent.parent)


def _index_matches_the_model(store, settings) -> bool:
    """An index built with another embedding model or backend answers nothing. One that holds only
    the corpus folder's files is rebuilt from it at once; for any other, say how to rebuild it."""
    import ingest
    from index.embedding import Embedder

    recorded, configured = store.embedding_model(), Embedder.from_settings(settings).name
    if not recorded or recorded == configured:
        return True
    corpus = Path(settings.corpus).resolve()
    sources = [Path(source) for source in store.manifest()]
    if all(source.is_relative_to(corpus) for source in sources):
        print(f"The index was built with the embedding model '{recorded}'; rebuilding it from {corpus} "
              f"with '{configured}'.", file=sys.stderr)
        report = ingest.run([corpus], settings, reindex=True)
        print(f"{report.added} documents, {report.total_chunks} chunks indexed.", file=sys.stderr)
        return True
    folders = " ".join(sorted({shlex.quote(str(source.parent)) for source in sources}))
    backend = recorded.rsplit(":", 1)[-1]
    print(f"The index at {store.location} was built with the embedding model '{recorded}', but '{configured}' "
          f"is configured, so it cannot answer. Rebuild it once:\n  policy-assistant ingest --reindex {folders}\n"
          f"or keep it as it is with POLICY_ASSISTANT_EMBEDDING_BACKEND={backend}.", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(main())
