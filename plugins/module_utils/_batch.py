# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""The batch engine: many users in one task, concurrently, within the provider's limits.

`RateLimiter` spaces requests (every attempt, retries included) to at most `rate` per second,
and optionally keeps per-method quotas over a sliding window (UiPath counts GETs and DELETEs per
5 minutes). `run_concurrently` runs one function per item on at most `parallelism` threads and
returns the outcomes in input order, so that one failure never stops the others.
"""

from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class RateLimiter:
    """Thread-safe pacing of requests.

    `rate`: requests per second over all methods (None: no pacing); `burst`: how many may go
    at once after an idle period. `window_quotas`: {method: (count, seconds)}, at most `count`
    requests of that method in any `seconds`-long window.
    """

    def __init__(self, rate=None, burst=1, window_quotas=None, clock=time.monotonic,
                 sleep=time.sleep):
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()
        self._quotas = dict((method.upper(), quota) for method, quota in (window_quotas or {}).items())
        self._history = collections.defaultdict(collections.deque)
        self.waited = 0.0

    def _reserve(self, method):
        """Take a slot now if one is free; else return how long to wait before asking again."""
        now = self._clock()
        wait = 0.0
        if self.rate is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self.rate
        quota = self._quotas.get(method)
        if quota is not None:
            count, seconds = quota
            history = self._history[method]
            while history and history[0] <= now - seconds:
                history.popleft()
            if len(history) >= count:
                wait = max(wait, history[0] + seconds - now)
        if wait > 0:
            return wait
        if self.rate is not None:
            self._tokens -= 1.0
        if quota is not None:
            self._history[method].append(now)
        return 0.0

    def acquire(self, method=None):
        method = (method or "").upper()
        while True:
            with self._lock:
                wait = self._reserve(method)
            if wait <= 0:
                return
            self.waited += wait
            self._sleep(wait)


class Outcome:
    """The result of one item: `value` on success, `error` (the exception) on failure."""

    __slots__ = ("item", "value", "error")

    def __init__(self, item, value=None, error=None):
        self.item = item
        self.value = value
        self.error = error

    @property
    def ok(self):
        return self.error is None


def run_concurrently(items, function, parallelism=8):
    """Call `function(item)` for every item, at most `parallelism` at a time.

    Returns a list of `Outcome` in the order of `items`. Exceptions are captured per item.
    """
    items = list(items)

    def call(item):
        try:
            return Outcome(item, value=function(item))
        except Exception as exc:  # one user's failure must not stop the others
            return Outcome(item, error=exc)

    if len(items) <= 1 or parallelism <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(parallelism, len(items))) as pool:
        return list(pool.map(call, items))
