# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The benchmark's bounds and verdicts: a target is met or not by the figures, never by fiat."""

from __future__ import annotations

from tests.benchmarks import report


def run(provider, kind, users, wall, requests, parallelism=None, throttled=0, **facts):
    return dict(facts, provider=provider, kind=kind, users=users, wall=wall, requests=requests, throttled=throttled,
                parallelism=parallelism, cpu=1.0, module_cpu=0.5, by_method={"DELETE": requests}, busiest_second=1)


def verdicts(records):
    report.derive(records, latency=0.05)
    return dict((target["target"], target) for target in report.targets(records, {}))


def test_the_concurrency_bound_is_the_one_user_run_plus_requests_times_latency_over_parallelism():
    records = [run("atlassian", "task", 1, 2.0, 1), run("atlassian", "task", 1000, 8.0, 1000, parallelism=8)]
    found = verdicts(records)
    assert records[1]["bound"] == 2.0 + 1000 * 0.05 / 8
    target = found["atlassian: 1000 users in one task, P 8, within 1.3x of the bound"]
    assert target["met"] is True and target["figure"].startswith("0.97x")


def test_a_documented_rate_above_the_concurrency_bound_says_the_target_cannot_be_met():
    records = [run("alibaba", "task", 1, 2.0, 1), run("alibaba", "task", 1000, 13.0, 1000, parallelism=32)]
    found = verdicts(records)
    # 1000 DeleteUser at the documented 100 per second need 10 s, more than 1000 x 0.05 / 32.
    assert records[1]["concurrency_bound"] == 2.0 + 1000 * 0.05 / 32
    assert records[1]["bound"] == 2.0 + 1000 / 100.0
    refused = found["alibaba: 1000 users in one task, P 32, within 1.5x of the concurrency bound"]
    assert refused["met"] is False and "cannot be met" in refused["figure"]
    kept = found["alibaba: 1000 users in one task, P 32, within 1.5x of the provider's limit"]
    assert kept["met"] is True and kept["figure"].startswith("1.08x")


def test_the_enforced_limit_targets_count_time_and_refusals():
    records = [run("atlassian", "task", 1, 2.0, 1),
               run("atlassian", "enforced", 600, 20.0, 660, parallelism=32, throttled=70, enforced_limit=40.0)]
    found = verdicts(records)
    assert found["atlassian: 600 users against an enforced 40/s within 1.3x of 15 s"]["met"] is False
    refusals = found["atlassian: enforced 40/s: at most 10% of requests answered 429"]
    assert refusals["met"] is False and refusals["figure"] == "10.6% (70 of 660)"
