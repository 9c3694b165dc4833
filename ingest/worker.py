"""An ingest in a child process, for the serving processes (the chat's maintainer page, the HTTP API).

Writing into a large store grows the writer's memory: at 1M chunks an ingest run inside the serving
process took its peak RSS from 2.25 GB to 3.37 GB (bench/bench_scale.py), and that peak stays with the
process. In a child the writer's memory goes when the run ends; the serving process only follows the
store's change log, as it does for an ingest from the command line. The child reports progress and
its outcome as JSON lines on stdout:

    {"progress": [3, 10, "file.pdf"]}
    {"report": {...IngestReport.to_dict(with_files=True)...}}

Run as ``python -m ingest.worker run|remove PATH...``; the settings travel as POLICY_ASSISTANT_*
environment variables (``settings_environment``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

from index.settings import Settings

from .pipeline import IngestReport


def settings_environment(settings: Settings) -> dict[str, str]:
    """POLICY_ASSISTANT_* variables that rebuild ``settings`` in a child process (secrets included:
    the child needs the same ones, and the environment is not logged)."""
    out = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        out[f"POLICY_ASSISTANT_{name.upper()}"] = str(value)
    return out


def run_in_child(action: str, paths: list, settings: Settings,
                 progress: Callable[[int, int, str], None] | None = None) -> IngestReport:
    """``ingest.run(paths)`` (action "run") or ``ingest.remove(paths)`` ("remove") in a child process;
    the child's report, or an error with the end of what it wrote to stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_ASSISTANT_")}
    env |= settings_environment(settings)
    command = [sys.executable, "-m", "ingest.worker", action, *map(str, paths)]
    child = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    report, failure = None, None
    for line in child.stdout:
        try:
            message = json.loads(line)
        except ValueError:
            continue  # a library printing to stdout
        if "progress" in message and progress:
            progress(*message["progress"])
        elif "report" in message:
            report = IngestReport.from_dict(message["report"])
        elif "error" in message:
            failure = message
    errors = child.stderr.read()
    if child.wait() != 0 or report is None:
        if failure:  # the store's own error, raised here as it would have been in this process
            from index.store import StoreError

            from .pipeline import IngestBusy

            raise (IngestBusy if failure["kind"] == "IngestBusy" else StoreError)(failure["error"])
        reason = errors.strip().splitlines()[-1] if errors.strip() else f"exit status {child.returncode}"
        raise RuntimeError(f"the indexing process failed: {reason}")
    return report


def main(argv: list[str]) -> int:
    from . import pipeline

    action, paths = argv[0], argv[1:]
    settings = Settings()

    def progress(index: int, total: int, name: str) -> None:
        print(json.dumps({"progress": [index, total, name]}), flush=True)

    from index.store import StoreError

    try:
        if action == "run":
            report = pipeline.run(paths, settings, progress=progress)
        elif action == "remove":
            report = IngestReport(removed=pipeline.remove(paths, settings, lock_timeout=5.0))
        else:
            raise SystemExit(f"unknown action {action!r}: run or remove")
    except StoreError as exc:
        print(json.dumps({"error": str(exc), "kind": type(exc).__name__}), flush=True)
        return 3
    print(json.dumps({"report": report.to_dict(with_files=True)}), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main(sys.argv[1:]))
