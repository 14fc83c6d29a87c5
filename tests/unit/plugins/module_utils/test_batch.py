# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.identity.lifecycle.plugins.module_utils._batch import RateLimiter, run_concurrently

from .fakes import FakeClock


def test_rate_limiter_spaces_requests():
    clock = FakeClock()
    limiter = RateLimiter(rate=4, burst=1, clock=clock, sleep=clock.sleep)
    for _number in range(5):
        limiter.acquire("GET")
    assert clock.now == pytest.approx(1.0)  # 4 waits of 0.25 s after the first request


def test_rate_limiter_allows_a_burst_after_idle_time():
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=3, clock=clock, sleep=clock.sleep)
    for _number in range(3):
        limiter.acquire()
    assert clock.sleeps == []
    limiter.acquire()
    assert clock.sleeps == [pytest.approx(1.0)]


def test_window_quota_per_method():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, window_quotas={"DELETE": (2, 60)}, clock=clock, sleep=clock.sleep)
    limiter.acquire("DELETE")
    limiter.acquire("GET")
    limiter.acquire("DELETE")
    assert clock.now == 0
    limiter.acquire("DELETE")  # the third DELETE waits until the first leaves the window
    assert clock.now == pytest.approx(60)
    limiter.acquire("GET")
    assert clock.now == pytest.approx(60)


def test_rate_limiter_rejects_nonsense():
    with pytest.raises(ValueError):
        RateLimiter(rate=0)


def test_rate_limiter_is_thread_safe_under_load():
    limiter = RateLimiter(rate=200, burst=1)
    started = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _number in range(10)]) for _number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 requests at 200/s need at least 39 intervals of 5 ms.
    assert time.monotonic() - started >= 39 / 200.0 * 0.95


def test_run_concurrently_keeps_input_order_and_isolates_failures():
    def work(item):
        time.sleep(0.01 * (5 - item))
        if item == 2:
            raise RuntimeError("boom")
        return item * 10

    outcomes = run_concurrently(range(5), work, parallelism=4)
    assert [outcome.item for outcome in outcomes] == [0, 1, 2, 3, 4]
    assert [outcome.value for outcome in outcomes if outcome.ok] == [0, 10, 30, 40]
    assert str(outcomes[2].error) == "boom"


def test_run_concurrently_respects_parallelism():
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def work(_item):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1

    run_concurrently(range(20), work, parallelism=3)
    assert state["max"] == 3


# --- Adaptive pacing ------------------------------------------------------------------------------

def paced(limiter, clock, count):
    """Acquire `count` slots; returns the times they were let go."""
    return [limiter.acquire("DELETE") for _number in range(count)]


def test_without_a_cap_nothing_is_paced_until_the_provider_throttles():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    paced(limiter, clock, 100)
    assert clock.sleeps == [] and limiter.pace() is None


def answers(limiter, clock, accepted, refused, seconds=1.0):
    """`accepted` then `refused` answers spread over `seconds`; returns the limiter's cuts."""
    count = accepted + refused
    for number in range(count):
        clock.now += seconds / count
        limiter.answered(number >= accepted, limiter.acquire())
    return limiter.throttles


def test_a_congestion_cuts_the_pace_below_the_accepted_rate_then_it_recovers_and_probes():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    assert answers(limiter, clock, accepted=40, refused=30, seconds=0.5) == 1
    # Cut to 70% of the 40 accepted answers, and climbing back since (the last refusals came after the cut).
    assert 40 * RateLimiter.DECREASE <= limiter.pace() < 40
    clock.now += RateLimiter.RECOVERY
    assert limiter.pace() >= 40  # back to the accepted rate within RECOVERY seconds
    clock.now += 5
    assert limiter.pace() > 40 * 1.2  # probing for more once the enforced limit may have moved


def test_stray_refusals_do_not_slow_a_task_down():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    for _second in range(10):
        answers(limiter, clock, accepted=47, refused=3)
    assert limiter.throttles == 0 and limiter.pace() is None


def test_a_burst_of_refusals_cuts_once():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    sent = [limiter.acquire() for _number in range(40)]
    clock.now += 0.5
    for sent_at in sent:
        limiter.answered(True, sent_at)
    assert limiter.throttles == 1
    assert limiter.pace() == RateLimiter.MIN_RATE * RateLimiter.DECREASE or limiter.pace() >= RateLimiter.MIN_RATE * 0.7


def test_the_adaptive_pace_never_exceeds_the_cap():
    clock = FakeClock()
    limiter = RateLimiter(rate=5, burst=1, clock=clock, sleep=clock.sleep)
    answers(limiter, clock, accepted=2, refused=5)
    assert limiter.throttles == 1
    clock.now += 1000
    assert limiter.pace() == 5
    sent = paced(limiter, clock, 11)
    assert sent[-1] - sent[0] == pytest.approx(2.0)  # 5 per second, retries included


def test_no_slot_before_the_deadline_is_said_at_once_without_waiting():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, window_quotas={"DELETE": (1, 300)}, clock=clock, sleep=clock.sleep)
    assert limiter.acquire("DELETE", deadline=10) == 0.0
    assert limiter.acquire("DELETE", deadline=10) is None
    assert clock.sleeps == []


def test_refusals_within_the_cooldown_of_a_cut_are_the_same_congestion():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    answers(limiter, clock, accepted=40, refused=20, seconds=0.5)
    cut = limiter.pace()
    clock.now += 0.1
    answers(limiter, clock, accepted=0, refused=10, seconds=0.2)  # sent after the cut; the window is still full
    assert limiter.throttles == 1 and limiter.pace() > cut
    clock.now += RateLimiter.COOLDOWN
    answers(limiter, clock, accepted=10, refused=10, seconds=0.5)
    assert limiter.throttles == 2


def test_an_explicit_rate_is_kept_whatever_the_refusals():
    clock = FakeClock()
    limiter = RateLimiter(rate=20, burst=8, clock=clock, sleep=clock.sleep, adaptive=False)
    answers(limiter, clock, accepted=5, refused=15)
    assert limiter.throttles == 0 and limiter.pace() == 20


def full_window(accepted=30, refused=10):
    """A limiter whose first burst filled the provider's window: the last `refused` answers say Retry-After 1 s."""
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=32, clock=clock, sleep=clock.sleep)
    sent = [limiter.acquire() for _number in range(accepted + refused)]
    clock.now += 0.05
    for number, sent_at in enumerate(sent):
        limiter.answered(number >= accepted, sent_at, retry_after=1.0 if number >= accepted else None)
    return limiter, clock


def test_a_congestion_holds_every_request_for_the_retry_after_the_provider_asked():
    # A provider that refuses for its rate keeps refusing until its window has passed: requests sent
    # before Retry-After are refused too, so none is let go until then, and the pace climbs from there.
    limiter, clock = full_window()
    assert limiter.throttles == 1
    held_from = clock.now
    first = limiter.acquire()
    assert first == pytest.approx(held_from + 1.0, abs=0.01)
    assert limiter.pace() == pytest.approx(30 * RateLimiter.DECREASE, rel=0.05)


def test_a_stray_refusal_holds_nothing_back():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    answers(limiter, clock, accepted=40, refused=0)
    limiter.answered(True, limiter.acquire(), retry_after=5.0)
    before = clock.now
    limiter.acquire()
    assert clock.now == before and limiter.throttles == 0


def test_the_end_of_a_hold_lets_no_burst_go():
    limiter, _clock = full_window()
    after = [limiter.acquire() for _number in range(8)]
    pace = 30 * RateLimiter.DECREASE
    # One request when the hold ends, then one every 1/pace seconds, not the burst of 32 saved up meanwhile.
    assert after[-1] - after[0] == pytest.approx(7 / pace, rel=0.1)


def test_a_slight_overshoot_cuts_the_pace_but_holds_nothing_back():
    clock = FakeClock()
    limiter = RateLimiter(rate=None, burst=8, clock=clock, sleep=clock.sleep)
    for number in range(45):
        clock.now += 1.0 / 45
        limiter.answered(number >= 40, limiter.acquire(), retry_after=1.0 if number >= 40 else None)
    assert limiter.throttles == 1
    before = clock.now
    limiter.acquire()
    assert clock.now - before < 0.1  # paced, not held for the Retry-After
