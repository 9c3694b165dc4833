"""Minimums a run must meet: from eval/*thresholds.json or ``--min METRIC=VALUE``."""
from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import UsageError

from .metrics import METRICS


def parse_thresholds(specs: list[str]) -> dict[str, float]:
    """``["hit@5=0.9", ...]`` -> {"hit@5": 0.9}; ValueError names what is wrong."""
    out = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        out[_threshold_name(name.strip(), f"--min {spec}")] = _threshold_value(value, f"--min {spec}")
    return out


def load_thresholds(path: str | Path) -> dict[str, float]:
    """A JSON object {metric: minimum}; keys starting with "_" are comments."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read thresholds {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object {{metric: minimum}}")
    return {_threshold_name(k, str(path)): _threshold_value(v, f"{path}: {k}")
            for k, v in data.items() if not k.startswith("_")}


def _threshold_name(name: str, where: str) -> str:
    if name not in METRICS:
        raise UsageError(f"{where}: unknown metric '{name}' (one of {', '.join(METRICS)})")
    return name


def _threshold_value(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: the minimum must be a number") from None
    if number != number:  # NaN would pass every comparison silently
        raise UsageError(f"{where}: the minimum must be a number")
    return number


def failed_thresholds(summary: dict, thresholds: dict[str, float]) -> dict[str, dict]:
    """Metrics below their minimum. A metric the run could not measure fails: a gate on
    something that was not measured must not pass."""
    failed = {}
    for name, minimum in thresholds.items():
        got = summary["metrics"].get(name)
        if got is None or got < minimum:
            failed[name] = {"value": got, "minimum": minimum}
    return failed
