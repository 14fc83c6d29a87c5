# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""The batch engine: many users in one task, concurrently, within the provider's limits.

`RateLimiter` spaces requests (every attempt, retries included) to at most `rate` per second,
optionally keeps per-method quotas over a sliding window (UiPath counts GETs and DELETEs per
5 minutes), and slows down on its own when a provider answers that it is throttling.
`run_concurrently` runs one function per item on at most `parallelism` threads and returns the
outcomes in input order, so that one failure never stops the others.
"""

from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class RateLimiter:
    """Thread-safe pacing of requests.

    `rate`: a hard cap in requests per second over all methods (None: no cap), never exceeded,
    retries included; `burst`: how many may go at once after an idle period. `window_quotas`:
    {method: (count, seconds)}, at most `count` requests of that method in any `seconds`-long window.

    On top of the cap, the limiter adapts to a limit the provider enforces but does not publish. Every
    answer is reported with `answered()`. When at least THROTTLE_SHARE of the answers of the last second
    (and MIN_THROTTLES of them) were refusals for the rate (a 429 or a throttling code), the pace drops
    to DECREASE times the rate the provider accepted over that second, then climbs back to that rate
    within RECOVERY seconds and probes beyond it by PROBE_GROWTH per second, until it is no longer
    needed. A provider's window stays full for a while after the burst that filled it, so refusals
    within COOLDOWN seconds of a cut, or of requests sent before it, belong to the same congestion. When
    at least HOLD_SHARE of the last second's answers were refused and they say how long to wait
    (Retry-After), the provider's window is full: no request at all is let go before that time, since
    each would be refused as well, and the climb starts from there. A stray refusal now
    and then (a provider's hiccup) does not slow a task down: its request is retried after its
    Retry-After, and that is all.
    """

    DECREASE = 0.7
    THROTTLE_SHARE = 0.1
    MIN_THROTTLES = 3
    COOLDOWN = 1.0
    RECOVERY = 2.0
    PROBE_GROWTH = 1.05
    MIN_RATE = 1.0
    HOLD_SHARE = 0.25
    MAX_HOLD = 60.0

    def __init__(self, rate=None, burst=1, window_quotas=None, clock=time.monotonic,
                 sleep=time.sleep, adaptive=True):
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # False when the caller set the rate: its refusals are retried, and the pace is theirs to choose.
        self.adaptive = adaptive
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._updated = clock()
        self._quotas = dict((method.upper(), quota) for method, quota in (window_quotas or {}).items())
        self._history = collections.defaultdict(collections.deque)
        self._answers = collections.deque()  # (time, refused for the rate) over the last second
        self._cut = None  # (time of the last cut, rate after it, rate before it)
        self._hold_until = None  # no request before this time: the provider's Retry-After in a congestion
        self.waited = 0.0
        self.throttles = 0

    def pace(self, now=None):
        """The requests per second allowed now: the lower of the cap and the adaptive pace (None: no pacing)."""
        now = self._clock() if now is None else now
        adaptive = None
        if self._cut is not None:
            cut_at, low, high = self._cut
            elapsed = max(0.0, now - max(cut_at, self._hold_until or cut_at))
            if elapsed <= self.RECOVERY:
                adaptive = low + (high - low) * elapsed / self.RECOVERY
            else:
                adaptive = high * self.PROBE_GROWTH ** (elapsed - self.RECOVERY)
        paces = [value for value in (self.rate, adaptive) if value is not None]
        return min(paces) if paces else None

    def _reserve(self, method):
        """Take a slot now if one is free; else return how long to wait before asking again."""
        now = self._clock()
        wait = 0.0
        if self._hold_until is not None and now < self._hold_until:
            # No burst when the hold ends: one request then, the others at the pace from there.
            self._tokens = 1.0
            self._updated = self._hold_until
            return self._hold_until - now
        rate = self.pace(now)
        if rate is not None:
            self._tokens = min(float(self.burst), self._tokens + max(0.0, now - self._updated) * rate)
            if self._tokens < 1.0 - 1e-9:  # a rounding error is no reason to wait
                wait = (1.0 - self._tokens) / rate
        self._updated = now
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
        if rate is not None:
            self._tokens -= 1.0
        if quota is not None:
            self._history[method].append(now)
        return 0.0

    def acquire(self, method=None, deadline=None):
        """Wait for a slot; returns the time the request was let go (for `answered`), or None when
        no slot comes before `deadline` (a time on the limiter's clock), without waiting for it."""
        method = (method or "").upper()
        while True:
            with self._lock:
                wait = self._reserve(method)
                if wait <= 0:
                    return self._clock()
            if deadline is not None and self._clock() + wait > deadline:
                return None
            self.waited += wait
            self._sleep(wait)

    def answered(self, throttled, sent_at=None, retry_after=None):
        """An answer to a request sent at `sent_at`: `throttled` when the provider refused it for its rate,
        with the seconds it asked to wait (`retry_after`) when it said."""
        with self._lock:
            now = self._clock()
            self._answers.append((now, bool(throttled)))
            while self._answers and self._answers[0][0] <= now - 1.0:
                self._answers.popleft()
            if not throttled or not self.adaptive:
                return
            if self._same_congestion(now, sent_at):
                self._hold(now, retry_after)
                return
            refused = sum(1 for _time, was_refused in self._answers if was_refused)
            if refused < self.MIN_THROTTLES or refused < self.THROTTLE_SHARE * len(self._answers):
                return
            accepted = float(len(self._answers) - refused)
            current = self.pace(now)
            high = max(self.MIN_RATE, min(accepted, current) if current is not None else accepted)
            self._cut = (now, max(self.MIN_RATE, high * self.DECREASE), high)
            self._tokens = min(self._tokens, 0.0)
            self.throttles += 1
            self._hold(now, retry_after)

    def _hold(self, now, retry_after):
        # Only a window filled by a burst refuses whatever comes next; a slight overshoot is met by the cut.
        refused = sum(1 for _time, was_refused in self._answers if was_refused)
        if refused < self.HOLD_SHARE * len(self._answers):
            return
        if retry_after is not None and retry_after > 0:
            until = now + min(float(retry_after), self.MAX_HOLD)
            self._hold_until = until if self._hold_until is None else max(self._hold_until, until)

    def _same_congestion(self, now, sent_at):
        if self._cut is None:
            return False
        return now - self._cut[0] < self.COOLDOWN or (sent_at is not None and sent_at < self._cut[0])


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
