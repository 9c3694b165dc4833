"""The HTTP API: the assistant for other systems (bots, intranet search, evaluation scripts).

One process, one loaded model and index shared by every request. JSON in and out, the same shapes
as the command line's ``--json``; every error is ``{"error": {"code", "message"}}`` with a 4xx/5xx
status, never a traceback. Routes (all under /v1): health, ask (optionally streamed as server-sent
events), search, documents (list, one, its file; maintainers: upload, remove), reindex and jobs
(maintainers), feedback, and an OpenAI-compatible chat/completions whose reply carries the citations.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from access.policy import ANONYMOUS, User
from access.records import Records
from assistant import Answer, Assistant
from assistant.answers import Citation
from assistant.errors import UsageError
from assistant.feedback import RATINGS, record_feedback
from assistant.limits import SlidingWindow
from index.answerers import ANSWERER_NAMES
from index.settings import Settings
from index.store import StoreError
from ingest.background import Indexer
from ingest.uploads import remove_document, save_uploads, uploads_folder

from .keys import ApiKey, KeyStore

log = logging.getLogger("policy_assistant.api")
LOCAL = ApiKey(name="loopback (no keys configured)", role="maintainer", hash="", created=0.0)
STORE_UNAVAILABLE = "the document index cannot be used right now; try again shortly"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- request bodies -------------------------------------------------------------------------------

class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = []
    sources: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    as_of: str | None = None  # answer from the versions in force on this date (YYYY-MM-DD)
    answerer: Literal[ANSWERER_NAMES] | None = None
    k: int | None = Field(None, ge=1, le=100)
    stream: bool = False


class SearchRequest(BaseModel):
    query: str
    k: int = Field(10, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    sources: list[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    as_of: str | None = None


class FeedbackRequest(BaseModel):
    question: str
    answer: str
    refused: bool = False
    citations: list[dict] = []
    history: list[Turn] = []
    rating: Literal[tuple(RATINGS)]
    comment: str = ""


class UploadFile(BaseModel):
    name: str
    content_base64: str


class UploadRequest(BaseModel):
    files: list[UploadFile] = Field(min_length=1)
    library: str | None = None  # default: POLICY_ASSISTANT_DEFAULT_LIBRARY


class ChatMessage(BaseModel):
    role: str
    content: str | list | None = None


class ChatRequest(BaseModel):
    model: str = "policy-assistant"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


# --- the app ---------------------------------------------------------------------------------------

def create_app(settings: Settings, assistant: Assistant | None = None, require_keys: bool = False) -> FastAPI:
    """The API over ``settings``' store. ``require_keys``: refuse every request without a valid key
    (set for any host but loopback); on loopback with no key created, requests are let through."""
    helper = assistant or Assistant(settings=settings)
    keys = KeyStore(settings.store)
    indexer = Indexer()
    pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="api-answer")
    windows: dict[str, SlidingWindow] = {}  # requests in the last minute, per key (or client address)
    windows_lock = threading.Lock()
    records = Records(settings.records_path, settings.audit_retention_days)

    def user_of(identity: ApiKey) -> User:
        """Who reads: a key's name and groups; the loopback caller with no key reads as anonymous."""
        if identity is LOCAL:
            return ANONYMOUS
        return User(id=f"api:{identity.name}", name=identity.name, groups=frozenset(identity.groups),
                    maintainer=identity.role == "maintainer")

    def audited(answer: Answer, user: User) -> Answer:
        records.log_answer(user, answer, via="api")
        return answer

    def streamed(items, user: User):
        for item in items:
            if isinstance(item, Answer):
                audited(item, user)
            yield item
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        helper.warm_up()  # the model and keyword index load once, before the first request
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="policy-assistant", version="1", lifespan=lifespan,
                  description="Answers about health and social care integration policy, from the documents, "
                              "with citations a reader can check.")
    app.add_middleware(BodyLimit, limit=int(settings.api_max_body_mb * 1024 * 1024))

    # --- errors: JSON with a stable code, never a traceback ---------------------------------------
    @app.exception_handler(ApiError)
    def api_error(request: Request, exc: ApiError):
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": {"code": "malformed_json", "message": "the body is not valid JSON"}},
                                status_code=400)
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"error": {"code": "bad_request", "message": f"{where}: {first.get('msg', 'invalid')}"}},
                            status_code=422)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code)

    @app.exception_handler(UsageError)
    def usage(request: Request, exc: UsageError):
        return JSONResponse({"error": {"code": "bad_request", "message": str(exc)}}, status_code=400)

    @app.exception_handler(StoreError)
    def store_error(request: Request, exc: StoreError):
        log.error("store error: %s", exc)  # the detail names server folders: logged, not returned
        return JSONResponse({"error": {"code": "store_unavailable", "message": STORE_UNAVAILABLE}}, status_code=503)

    @app.exception_handler(Exception)
    def internal(request: Request, exc: Exception):
        log.exception("internal error")
        return JSONResponse({"error": {"code": "internal_error", "message": "something went wrong; it is logged"}},
                            status_code=500)

    @app.exception_handler(BodyTooLarge)
    def body_too_large(request: Request, exc: BodyTooLarge):
        return _too_large(exc.limit)

    # --- who is asking, and how often ------------------------------------------------------------
    def caller(request: Request) -> ApiKey:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        # Read once a request: a key revoked from the command line stops working at once.
        stored = keys.load()
        if not require_keys and not stored:
            identity = LOCAL  # loopback with no key created: open to this machine (a client's dummy key ignored)
        elif not token:
            raise ApiError(401, "unauthorized", "an API key is needed: Authorization: Bearer <key>")
        else:
            identity = keys.find(token, stored)
            if identity is None:
                raise ApiError(401, "unauthorized", "the API key is not valid (revoked, or mistyped)")
        who = identity.id or (request.client.host if request.client else "local")
        with windows_lock:
            window = windows.setdefault(who, SlidingWindow(settings.api_rate_per_minute, 60.0))
        if not window.take():
            raise ApiError(429, "rate_limited", f"more than {settings.api_rate_per_minute} requests in a "
                                                "minute for this key; wait and retry")
        return identity

    def maintainer(identity: ApiKey = Depends(caller)) -> ApiKey:
        if identity.role != "maintainer":
            raise ApiError(403, "forbidden", "this key may ask and search, not change the documents")
        return identity

    def within_time(fn, *args, **kwargs):
        future = pool.submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=settings.api_timeout_s)
        except FutureTimeout:
            raise ApiError(504, "timeout", f"no answer within {settings.api_timeout_s:g} s") from None

    def check_question(text: str) -> None:
        if not text.strip():
            raise ApiError(422, "bad_request", "question: give a question")
        if len(text) > settings.max_question_chars:
            raise ApiError(413, "question_too_long", f"questions are at most {settings.max_question_chars} "
                                                     f"characters (POLICY_ASSISTANT_MAX_QUESTION_CHARS)")

    # --- reading ---------------------------------------------------------------------------------
    @app.get("/v1/health")
    def health() -> dict:
        return {"status": "ok", "index_generation": helper.store.generation(), "chunks": helper.store.count(),
                "model": helper.embedder.name}

    @app.post("/v1/ask")
    def ask(body: AskRequest, identity: ApiKey = Depends(caller)):
        check_question(body.question)
        options = {"k": body.k, "sources": body.sources, "date_from": body.date_from, "date_to": body.date_to,
                   "answerer": body.answerer, "as_of": body.as_of}
        history = [t.model_dump() for t in body.history]
        user = user_of(identity)
        if body.stream:
            return StreamingResponse(_events(streamed(helper.stream(body.question, history, user=user, **options), user)),
                                     media_type="text/event-stream")
        return audited(within_time(helper.ask, body.question, history, user=user, **options), user).to_dict()

    @app.post("/v1/search")
    def search(body: SearchRequest, identity: ApiKey = Depends(caller)) -> dict:
        check_question(body.query)
        user = user_of(identity)
        hits = within_time(helper.search, body.query, k=body.k, sources=body.sources, date_from=body.date_from,
                           date_to=body.date_to, mode=body.mode, as_of=body.as_of, user=user)
        records.log(user, "search", body.query, [h.chunk_id for h in hits], via="api")
        return {"query": body.query, "hits": [h.to_dict() for h in hits]}

    @app.get("/v1/documents")
    def documents(identity: ApiKey = Depends(caller)) -> dict:
        facts = helper.catalogue.facts()
        return {"documents": [_document(record, facts.get(record.source))
                              for record in helper.documents(user_of(identity))]}

    @app.get("/v1/documents/{document_id}")
    def document(document_id: str, identity: ApiKey = Depends(caller)) -> dict:
        record = _record(helper, document_id, user_of(identity))
        return _document(record, helper.catalogue.facts().get(record.source))

    @app.get("/v1/documents/{document_id}/changes")
    def document_changes(document_id: str, topic: str = "", identity: ApiKey = Depends(caller)) -> dict:
        """What changed since the document's previous version (404 when none is indexed)."""
        user = user_of(identity)
        record = _record(helper, document_id, user)
        try:
            found = helper.changes(record.source, topic=topic[:500], user=user)
        except UsageError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        return {"id": document_id, "changes": [c.to_dict() for c in found]}

    @app.get("/v1/documents/{document_id}/file")
    def document_file(document_id: str, identity: ApiKey = Depends(caller)):
        path = Path(_record(helper, document_id, user_of(identity)).source)
        if not path.is_file():
            raise ApiError(404, "not_found", "the document's file is no longer on the server")
        return FileResponse(path, filename=path.name)

    @app.post("/v1/feedback")
    def feedback(body: FeedbackRequest, identity: ApiKey = Depends(caller)) -> dict:
        answer = Answer(question=body.question, answer=body.answer, refused=body.refused,
                        citations=[Citation(**{k: c.get(k) for k in ("n", "source", "title", "page", "chunk_id",
                                                                      "quote", "verified")})
                                   for c in body.citations if isinstance(c, dict)])
        record = record_feedback(settings.feedback_path, answer, body.rating, body.comment,
                                 [t.model_dump() for t in body.history])
        records.log(user_of(identity), "feedback", body.question, cited=[c.chunk_id for c in answer.citations],
                    rating=body.rating, comment=body.comment, via="api")
        return {"id": record["id"], "recorded": True}

    # --- maintaining -----------------------------------------------------------------------------
    @app.post("/v1/documents", status_code=202)
    def upload(body: UploadRequest, identity: ApiKey = Depends(maintainer)) -> dict:
        files = []
        for item in body.files:
            try:
                files.append((item.name, base64.b64decode(item.content_base64, validate=True)))
            except ValueError:
                raise ApiError(422, "bad_request", f"{item.name}: content_base64 is not base64") from None
        saved = save_uploads(files, settings, body.library)
        records.log(user_of(identity), "upload", saved=[str(p) for p in saved.saved], rejected=saved.rejected,
                    library=body.library or settings.default_library, via="api")
        job = _start(indexer, "Indexing", saved.saved, helper, saved.rejected, [p.name for p in saved.replaced])
        return {"job": job.id, "saved": [p.name for p in saved.saved], "rejected": saved.rejected}

    @app.delete("/v1/documents/{document_id}")
    def remove(document_id: str, identity: ApiKey = Depends(maintainer)) -> dict:
        record = _record(helper, document_id, user_of(identity))
        removed = remove_document(record.source, settings, store=helper.store)
        records.log(user_of(identity), "remove", source=record.source, via="api")
        helper.warm_up()  # the next question must not see the removed document
        return {"removed": removed, "id": document_id}

    @app.post("/v1/reindex", status_code=202)
    def reindex(identity: ApiKey = Depends(maintainer)) -> dict:
        from ingest.uploads import uploads_folder

        folders = [p for p in (settings.corpus, uploads_folder(settings)) if p.is_dir()]
        records.log(user_of(identity), "reindex", folders=[str(f) for f in folders], via="api")
        return {"job": _start(indexer, "Reading", folders, helper).id}

    @app.get("/v1/jobs/{job_id}")
    def job(job_id: str, identity: ApiKey = Depends(maintainer)) -> dict:
        run = indexer.runs.get(job_id)
        if run is None:
            raise ApiError(404, "not_found", f"no job {job_id}")
        report = run.report.to_dict() if run.report is not None else None
        return {"job": run.id, "running": run.running, "done": run.done, "total": run.total,
                "current": run.current, "error": run.error or None, "report": report, "rejected": run.rejected}

    # --- OpenAI-compatible -------------------------------------------------------------------------
    @app.post("/v1/chat/completions")
    def chat_completions(body: ChatRequest, identity: ApiKey = Depends(caller)):
        turns = [(m.role, _text(m.content)) for m in body.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1][0] != "user":
            raise ApiError(422, "bad_request", "messages: the last message must be the user's question")
        question = turns[-1][1]
        check_question(question)
        history = [{"role": role, "content": text} for role, text in turns[:-1]]
        created, reply_id = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}"
        user = user_of(identity)
        if body.stream:
            return StreamingResponse(_chat_chunks(streamed(helper.stream(question, history, user=user), user),
                                                  reply_id, created, body.model), media_type="text/event-stream")
        answer = audited(within_time(helper.ask, question, history, user=user), user)
        return {"id": reply_id, "object": "chat.completion", "created": created, "model": body.model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": answer.to_markdown(),
                                         "citations": [c.to_dict() for c in answer.citations]}}],
                "citations": [c.to_dict() for c in answer.citations], "refused": answer.refused,
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}

    app.state.assistant = helper
    app.state.indexer = indexer
    return app


# --- helpers ----------------------------------------------------------------------------------------

class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"body over {limit} bytes")
        self.limit = limit


class BodyLimit:
    """Refuses a request body over ``limit`` bytes: by its Content-Length before anything is read,
    or, sent in chunks, as soon as the bytes read pass the limit (nothing is parsed or stored)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            response = _too_large(self.limit)
            return await response(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


def _too_large(limit: float) -> JSONResponse:
    return JSONResponse({"error": {"code": "body_too_large", "message": f"the request body is over "
                                   f"{limit / 1048576:g} MB (POLICY_ASSISTANT_API_MAX_BODY_MB)"}}, status_code=413)


def document_id(source: str) -> str:
    """A document's id in the API: stable for its path, and not the path itself."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _document(record, facts=None) -> dict:
    out = {"id": document_id(record.source), "file": Path(record.source).name, "title": record.title,
           "date": record.date, "date_note": record.date_note or None, "type": record.doc_type,
           "pages": record.pages, "chunks": record.n_chunks}
    if facts is not None:
        out |= {"status": facts.status, "version": facts.version or None, "publisher": facts.publisher or None,
                "published": facts.published, "updated": facts.updated, "review_by": facts.review_by,
                "past_review": facts.past_review(),
                "superseded_by": document_id(facts.superseded_by) if facts.superseded_by else None,
                "previous": document_id(facts.previous) if facts.previous else None}
    return out


def _record(helper: Assistant, wanted: str, user: User):
    """The document with this id among those ``user`` may read (any other is "not found", never "forbidden")."""
    for record in helper.documents(user):
        if document_id(record.source) == wanted:
            return record
    raise ApiError(404, "not_found", f"no document {wanted}")


def _start(indexer: Indexer, label: str, paths, helper, rejected=None, replaced=None):
    run = indexer.start(label, list(paths), helper, rejected, replaced)
    if run is None:
        raise ApiError(409, "busy", "an indexing job is already running; try again when it has finished")
    return run


def _text(content) -> str:
    """OpenAI message content: a string, or a list of parts of which the text ones count."""
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _events(items):
    """Server-sent events: ``text`` pieces as they are written, then one ``answer`` (the --json shape)."""
    try:
        for item in items:
            if isinstance(item, Answer):
                yield _sse("answer", item.to_dict())
            else:
                yield _sse("text", {"text": item})
    except StoreError:
        yield _sse("error", {"code": "store_unavailable", "message": STORE_UNAVAILABLE})
    except Exception:  # noqa: BLE001 - the stream has started: the error is an event, the detail is logged
        log.exception("streamed answer failed")
        yield _sse("error", {"code": "internal_error", "message": "something went wrong; it is logged"})


def _chat_chunks(items, reply_id: str, created: int, model: str):
    """OpenAI chat.completion.chunk events; the last carries the citations, then [DONE]."""
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for item in items:
        if isinstance(item, Answer):
            sources = "\n\n" + item.sources_text() if item.citations else ""
            yield chunk({"content": sources} if sources else {}, "stop",
                        citations=[c.to_dict() for c in item.citations], refused=item.refused)
        else:
            yield chunk({"content": item})
    yield "data: [DONE]\n\n"
