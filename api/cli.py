"""`policy-assistant api` (serve the HTTP API) and `policy-assistant api-key` (create, list, revoke)."""
from __future__ import annotations

import ipaddress
import json
import socket
import time

from assistant.errors import UsageError

from .keys import ROLES, KeyStore


def add_parser(sub, common) -> None:
    p = sub.add_parser("api", help="serve the HTTP API (FastAPI; OpenAPI docs at /docs)",
                       description="Serve the HTTP API. On any host but loopback it refuses to start "
                                   "until an API key exists (policy-assistant api-key create NAME).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    common(p)

    p = sub.add_parser("api-key", help="create, list or revoke API keys (kept hashed in the store)")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("name", nargs="?", help="create: the user or service the key is for; revoke: its name or id")
    p.add_argument("--role", choices=ROLES, default="reader",
                   help="reader: ask, search, documents, feedback; maintainer: also upload, remove, re-index")
    p.add_argument("--groups", default="", help="the groups whose libraries the key reads, comma-separated "
                                                "(POLICY_ASSISTANT_LIBRARIES); maintainer keys read every library")
    common(p)


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None)) if host else False


def run_api(args, settings) -> int:
    import uvicorn

    from assistant import Assistant

    from .app import create_app

    keys = KeyStore(settings.store).load()
    open_host = not loopback(args.host)
    if open_host and not keys:
        raise UsageError(f"no API key exists, so the API will not listen on {args.host}: create one with "
                         "`policy-assistant api-key create NAME` (or serve on 127.0.0.1)")
    helper = Assistant(settings=settings)
    helper.store.require_index()
    app = create_app(settings, helper, require_keys=open_host)
    print(f"policy-assistant API on http://{args.host}:{args.port} (docs: /docs); "
          f"{'API keys required' if keys or open_host else 'loopback, no key configured: open to this machine'}",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def run_keys(args, settings) -> int:
    store = KeyStore(settings.store)
    if args.action == "list":
        for key in store.load():
            print(json.dumps({"id": key.id, "name": key.name, "role": key.role, "groups": key.groups,
                              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created))}))
        return 0
    if not args.name:
        raise UsageError(f"api-key {args.action} needs a NAME")
    if args.action == "create":
        try:
            from access.policy import parse_groups

            key = store.create(args.name, args.role, sorted(parse_groups(args.groups)))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(key)
        print(f"# the key for {args.name!r} ({args.role}); it is shown only now and kept only as a hash",
              flush=True)
        return 0
    removed = store.revoke(args.name)
    if not removed:
        raise UsageError(f"no key named or with id {args.name!r}")
    print(f"revoked {removed} key(s)")
    return 0
