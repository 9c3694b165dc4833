"""A sliding-window count of events, shared by the chat's maintainer-token check and the HTTP
API's per-key rate limit: at most ``limit`` events in ``window_s`` seconds."""
from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindow:
    def __init__(self, limit: int, window_s: float = 60.0):
        self.limit, self.window_s = limit, window_s
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def _wait_locked(self, now: float) -> float:
        while self._events and now - self._events[0] > self.window_s:
            self._events.popleft()
        return 0.0 if len(self._events) < self.limit else self.window_s - (now - self._events[0])

    def wait_s(self) -> float:
        """Seconds until another event fits in the window (0: now)."""
        with self._lock:
            return self._wait_locked(time.monotonic())

    def add(self) -> None:
        with self._lock:
            self._events.append(time.monotonic())

    def take(self) -> bool:
        """Count an event if it fits, in one step (two threads cannot both take the last place)."""
        with self._lock:
            now = time.monotonic()
            if self._wait_locked(now) > 0:
                return False
            self._events.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
