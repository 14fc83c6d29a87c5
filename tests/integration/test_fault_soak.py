# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fault soak: 500-user batches in one task at every provider, with faults injected at random (seeded):
20% 503, 10% throttled (429 with Retry-After; CloudSSO's own Throttling.User), 5% dropped connections,
5% carried out and then the answer lost (see soak.inject_fault_mix). Every run must end with every
requested user absent and report exactly the users it removed, as the simulator's own log counts them;
a re-run changes nothing. Also: retries that give up, the task-wide deadline, the offboard role under
the same faults, and ansible-playbook killed in the middle of a batch.

The figures of every run (seed, requests, faults per kind, users removed and converged) are printed:
`pytest -s`, or `-rP` with `-n 2`.
"""

from __future__ import annotations

import glob
import json
import os
import re
import time

import pytest

from .soak import (
    LOST,
    AlibabaSoakSimulator,
    AtlassianSoakSimulator,
    Background,
    UiPathSoakSimulator,
    describe_run,
    failed_attempts,
    inject_fault_mix,
    removals,
    wait_for,
)

SEEDS = (1009, 2027, 3041)
BATCH = 500
OTHERS = 100  # users nobody asked for: they must never be touched
# With 40% of attempts failing, a request fails for good with probability 0.4 ** (retries + 1): about
# 1 in 25 000 with 10 retries, which about 12 000 requests per run of this file would hit too often; 1 in
# 2.3 million with 15. No client-side pacing: the soak is bound by the faults, not by the rate limit.
SOAK_OPTIONS = {"retries": 15, "rate_limit": 1000.0, "parallelism": 16}

ATLASSIAN_DIRECTORY = "d-soak"
ATLASSIAN_KEY = "ATSCIM-soak-key-4f3e2d1c0b9a"
UIPATH_ORG = "soak"
UIPATH_PARTITION = "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a"
UIPATH_CLIENT = "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"
UIPATH_SECRET = "uipath-soak-secret-Hn5rW2kX"
ALIBABA_DIRECTORY = "d-00soak0directory"
ALIBABA_KEY_ID = "LTAI5tSoakKey000000001"
ALIBABA_SECRET = "soak-secret-0123456789abcdef"


def leaver(number):
    return "leaver%04d@example.com" % number


def staff(number):
    return "staff%03d@example.com" % number


def uipath_id(number):
    return "00000000-0000-4000-8000-%012d" % number


class Provider:
    """One provider as the soak sees it: how to start its simulator with some leavers present, the
    module, how users are addressed, and what its 429 looks like."""

    def __init__(self, name, title, module, by, keys, start, throttle=None, token_path=None):
        self.name = name
        self.title = title
        self.module = module
        self.by = by  # "user_id" or "user_name"
        self.keys = keys  # leaver number -> the key the soak addresses and the simulator logs
        self.start = start  # (serve, present leaver numbers, others) -> (simulator, environment)
        self.throttle = throttle
        self.token_path = token_path

    def counted(self, entry):
        """Whether the module's retry warning counts this request (UiPath's token requests have their own)."""
        return not (self.token_path and re.search(self.token_path, entry["path"]))


def start_atlassian(serve, present, others):
    def person(user_id, name):
        return {"id": user_id, "userName": name, "emails": [{"value": name, "primary": True}]}

    simulator = AtlassianSoakSimulator({ATLASSIAN_DIRECTORY: {"api_key": ATLASSIAN_KEY, "users": (
        [person("u-%04d" % number, leaver(number)) for number in present]
        + [person("keep-%03d" % number, staff(number)) for number in range(others)])}})
    return simulator, simulator.client_environment(serve(simulator).url)


def start_uipath(serve, present, others):
    simulator = UiPathSoakSimulator({UIPATH_ORG: {
        "partition_global_id": UIPATH_PARTITION,
        "clients": {UIPATH_CLIENT: {"secret": UIPATH_SECRET}},
        "users": ([{"id": uipath_id(number), "email": leaver(number)} for number in present]
                  + [{"id": uipath_id(10000 + number), "email": staff(number)} for number in range(others)]),
    }})
    # The identity server's quotas (300 GET, 160 DELETE per 5 minutes) stay as documented: the module
    # reads the user list once and deletes in bulk, so a soak run stays well inside them.
    return simulator, simulator.client_environment(serve(simulator).url)


def start_alibaba(serve, present, others):
    simulator = AlibabaSoakSimulator({
        "access_keys": [{"access_key_id": ALIBABA_KEY_ID, "access_key_secret": ALIBABA_SECRET}],
        "directories": [{"DirectoryId": ALIBABA_DIRECTORY, "users": (
            [{"UserId": "u-00soak%04d" % number, "UserName": leaver(number)} for number in present]
            + [{"UserId": "u-00keep%03d" % number, "UserName": staff(number)} for number in range(others)])}],
    }, throttle_rate=0)  # no gateway throttling of its own: the injected faults do that
    return simulator, simulator.client_environment(serve(simulator).url)


PROVIDERS = {
    "atlassian": Provider("atlassian", "Atlassian SCIM", "identity.lifecycle.atlassian_scim_user", "user_id",
                          lambda number: "u-%04d" % number, start_atlassian),
    "uipath": Provider("uipath", "UiPath Identity", "identity.lifecycle.uipath_user", "user_name", leaver,
                       start_uipath, token_path=r"/connect/token$"),
    # CloudSSO throttles with HTTP 400 and code Throttling.User; x-acs-retry-after is in milliseconds.
    "alibaba": Provider("alibaba", "Alibaba Cloud CloudSSO", "identity.lifecycle.alibaba_cloudsso_user", "user_id",
                        lambda number: "u-00soak%04d" % number, start_alibaba, throttle={
                            "status": 400, "headers": {"x-acs-retry-after": "100"},
                            "body": {"RequestId": "injected-throttle", "Code": "Throttling.User",
                                     "Message": "Request was denied due to user flow control."}}),
}


# The call that removes a user (UiPath: several at once), for faults aimed at it.
CHANGING_CALL = {"atlassian": dict(method="DELETE"), "uipath": dict(method="DELETE"),
                 "alibaba": dict(path=r"[?&]Action=DeleteUser(&|$)")}


def present_numbers(count):
    """Every tenth leaver never existed: the run must call them "already absent", not removed."""
    return [number for number in range(count) if number % 10 != 9]


def user_task(provider, keys, name="batch", **options):
    args = dict(SOAK_OPTIONS, state="absent")
    args.update(options)
    args[provider.by] = keys
    return {"name": name, provider.module: args, "ignore_errors": True}


def retry_figures(result, provider):
    """(retried, requests) from the module's retry warning, or None when nothing was retried."""
    for warning in result.get("warnings") or []:
        match = re.search(r"^%s: (\d+) of (\d+) requests were retried" % re.escape(provider.title), warning)
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def check_batch_result(provider, result, log, keys, existing=None):
    """The task's result against the simulator's log: exactly the users this run removed are changed,
    those whose answer was lost say how it was confirmed, the rest are "already absent".

    Users given by id are deleted without a read first; when such a delete's answer was lost and the
    retry found nobody, nothing tells whether this run removed the user or it never existed, and the
    module says exactly that ("deleted or already absent", found null). Such a user must be one this
    run removed with a lost answer, or one that never existed (`existing`: the users there before)."""
    assert not result.get("failed"), result.get("msg")
    assert [user[provider.by] for user in result["users"]] == keys
    removed = removals(log)
    by_key = dict((user[provider.by], user) for user in result["users"])
    undecidable = set(key for key, user in by_key.items() if user["msg"].startswith("deleted or already absent ("))
    for key in sorted(undecidable):
        user = by_key[key]
        assert (user["changed"], user["found"], user["state"]) == (True, None, "absent"), user
        if key in removed:
            assert removed[key].get("fault") in LOST, (key, removed[key])
        else:
            assert existing is not None and key not in existing, (key, user)
    changed = set(key for key, user in by_key.items() if user["changed"]) - undecidable
    removed = dict((key, entry) for key, entry in removed.items() if key not in undecidable)
    wrong = [(key, by_key[key]["msg"]) for key in sorted(changed - set(removed))]
    assert wrong == [], "%d users reported changed, but not removed by this run" % len(wrong)
    wrong = [(key, by_key[key]["msg"], removed[key].get("fault")) for key in sorted(set(removed) - changed)]
    assert wrong == [], "%d users removed by this run (the simulator's log), but reported unchanged" % len(wrong)
    assert result["changed"] is bool(removed or undecidable)
    for user in result["users"]:
        key = user[provider.by]
        if key in undecidable:
            continue
        if key in removed:
            assert user["actions"] == ["deleted"] and user["state"] == "absent", user
            if removed[key].get("fault") in LOST:
                assert user["msg"].startswith("deleted (confirmed after a retry"), user
            else:
                assert user["msg"] == "deleted", user
        else:
            assert (user["found"], user["changed"], user["msg"]) == (False, False, "already absent"), user
    counted = [entry for entry in log if provider.counted(entry)]
    # Every attempt the module made reached the simulator, and every failed one was retried.
    assert retry_figures(result, provider) == ((len(failed_attempts(counted)), len(counted))
                                               if failed_attempts(counted) else None)
    return removed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_500_user_batch_converges_under_faults_and_reports_exactly_what_it_did(ansible, serve, name, seed):
    provider = PROVIDERS[name]
    simulator, env = provider.start(serve, present_numbers(BATCH), OTHERS)
    keys = [provider.keys(number) for number in range(BATCH)]
    existing = simulator.user_keys() & set(keys)
    bystanders = simulator.user_keys() - set(keys)
    inject_fault_mix(simulator, seed, provider.throttle, always_lost=CHANGING_CALL[name])

    run = ansible.tasks([user_task(provider, keys)], env=env)
    log = simulator.requests()
    left = simulator.user_keys() & set(keys)
    describe_run("%s, 500 users" % provider.title, seed, log, keys, left, run.elapsed)
    assert run.returncode == 0, run.output[-3000:]
    check_batch_result(provider, run.task("batch"), log, keys, existing)
    assert sorted(left) == []
    assert set(removals(log)) == existing
    assert simulator.user_keys() == bystanders

    # The same task again: nothing to do, and it says so. (Without faults: the first run's lookups
    # already ran under them, and the file stays within a few minutes.)
    simulator.clear_faults()
    simulator.clear_log()
    again = ansible.tasks([user_task(provider, keys)], env=env)
    log = simulator.requests()
    describe_run("%s, 500 users, re-run" % provider.title, seed, log, keys, [], again.elapsed)
    assert again.returncode == 0, again.output[-3000:]
    result = again.task("batch")
    assert result["changed"] is False
    assert set(user["msg"] for user in result["users"]) == {"already absent"}
    # A delete may be sent to learn that a user is absent; none may succeed.
    assert [entry for entry in log if entry["changing"] and 200 <= entry["status"] < 300] == []
    assert simulator.user_keys() == bystanders


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_retries_give_up_with_a_clear_error_for_every_user(ansible, serve, name):
    provider = PROVIDERS[name]
    simulator, env = provider.start(serve, range(20), 5)
    keys = [provider.keys(number) for number in range(20)]
    simulator.add_fault(status=503, body={"message": "injected fault: service unavailable"}, times=None,
                        **CHANGING_CALL[name])

    run = ansible.tasks([user_task(provider, keys, retries=2, parallelism=20)], env=env)
    result = run.task("batch")
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("20 of 20 users failed")
    for user in result["users"]:
        assert user["failed"] is True and user["changed"] is False, user
        assert (user["error"]["provider"], user["error"]["status"]) == (provider.title, 503), user
        assert user["msg"].startswith(provider.title + ": ") and "HTTP 503" in user["msg"], user
        assert "gave up after 2 retries" in user["msg"], user
    changing = [entry for entry in simulator.requests() if entry["changing"]]
    # retries: 2 means three attempts of each call (UiPath: one bulk call for the 20 users).
    assert len(changing) == (3 if name == "uipath" else 60)
    assert removals(simulator.requests()) == {}
    assert set(keys) <= simulator.user_keys()


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_provider_that_only_fails_gives_up_after_retries_and_names_itself(ansible, serve, name):
    provider = PROVIDERS[name]
    simulator, env = provider.start(serve, range(5), 0)
    keys = [provider.keys(number) for number in range(5)]
    simulator.add_fault(status=503, body={"message": "injected fault: service unavailable"}, times=None)

    run = ansible.tasks([user_task(provider, keys, retries=2)], env=env)
    result = run.task("batch")
    assert result["failed"] is True and result["changed"] is False
    requests = simulator.requests()
    if result["users"]:
        # Users given by id may be deleted without a read first: then each of them fails on its own.
        assert len(result["users"]) == 5 and len(requests) == 15, (result["msg"], len(requests))
        errors = [user["msg"] for user in result["users"] if user["failed"] and not user["changed"]]
    else:
        # The first request (the token, or the check of the directory) fails the whole task.
        assert len(requests) == 3, (result["msg"], len(requests))
        errors = [result["msg"]]
    for error in errors:
        assert error.startswith(provider.title + ": ") and "HTTP 503" in error, error
        assert "gave up after 2 retries" in error, error
    assert len(errors) == len(result["users"]) or not result["users"]
    assert set(keys) <= simulator.user_keys()


def test_a_deadline_stops_the_task_and_fails_every_unfinished_user(ansible, serve):
    provider = PROVIDERS["atlassian"]
    simulator, env = provider.start(serve, range(200), 10)
    keys = [provider.keys(number) for number in range(200)]
    # Faults and slow answers for the deletes only, so that the lookups end well before the deadline
    # and the deletes (about 15 s of work) are cut in the middle.
    inject_fault_mix(simulator, 4099, method="DELETE")
    simulator.add_fault(action="delay", method="DELETE", delay=0.3, times=None)
    deadline = 6.0

    run = ansible.tasks([user_task(provider, keys, parallelism=4, deadline=deadline)], env=env)
    ended = time.time()
    log = simulator.requests()
    describe_run("Atlassian SCIM, 200 users, deadline %.0f s" % deadline, 4099, log, keys,
                 simulator.user_keys() & set(keys), run.elapsed)
    span = log[-1]["time"] - log[0]["time"]
    assert span <= deadline + 1.0, "requests went on for %.1f s with a deadline of %.1f s" % (span, deadline)
    # Requests in flight at the deadline may still be answered (and logged) once their delay fault ends;
    # what must never happen is a request that arrives after the task ended.
    time.sleep(1.0)
    final = simulator.requests()
    late = [entry for entry in final if entry["received"] > ended]
    assert late == [], "requests sent after the task ended: %s" % late

    result = run.task("batch")
    assert result["failed"] is True
    removed = removals(final)  # deletes in flight at the deadline included
    assert 0 < len(removed) < len(keys), "the deadline should cut the batch in the middle"
    for user in result["users"]:
        key = user[provider.by]
        if user["changed"]:
            # Nothing is reported done that was not done.
            assert key in removed and not user.get("failed"), user
            assert key not in simulator.user_keys()
        elif key in removed:
            # Carried out, but the answer came after the deadline: loud, and it says the change may be made.
            assert user["failed"] is True and "may already be made" in user["msg"], user
        else:
            assert user["failed"] is True and "deadline" in user["msg"], user
            assert key in simulator.user_keys()


def test_a_deadline_also_bounds_a_wait_for_the_uipath_quota(ansible, serve):
    """170 users disabled one PUT each: the 161st waits for the 5-minute quota unless the deadline ends it."""
    provider = PROVIDERS["uipath"]
    simulator, env = provider.start(serve, range(170), 0)
    keys = [provider.keys(number) for number in range(170)]
    deadline = 6.0
    task = user_task(provider, keys, state="disabled", deadline=deadline)
    run = Background(ansible, [{"name": "quota", "hosts": "localhost", "gather_facts": False, "tasks": [task]}],
                     env=env)
    # Killed (with the module process) if the deadline does not end the wait.
    assert run.wait(timeout=deadline + 30) is not None, "still running %d s after a deadline of %d s" % (
        deadline + 30, deadline)
    result = run.results()["plays"][0]["tasks"][0]["hosts"]["localhost"]
    puts = simulator.requests("PUT")
    assert len(puts) == 160
    done = [user for user in result["users"] if user["changed"]]
    assert len(done) == 160
    unfinished = [user for user in result["users"] if not user["changed"]]
    assert len(unfinished) == 10
    assert all(user["failed"] and "deadline" in user["msg"] for user in unfinished), unfinished


# --- the offboard role under the same faults --------------------------------------------------------

ROLE_LEAVERS = 50


def role_simulators(serve):
    """The three providers, each with a different 45 of the 50 leavers present, and 20 others."""
    started = {}
    env = {}
    for offset, name in enumerate(sorted(PROVIDERS)):
        present = [number for number in range(ROLE_LEAVERS) if (number + offset) % 10 != 9]
        simulator, provider_env = PROVIDERS[name].start(serve, present, 20)
        started[name] = simulator
        env.update(provider_env)
    return started, env


def latest_report(workdir):
    paths = sorted(glob.glob(os.path.join(workdir, "offboard-reports", "offboard-*.json")))
    assert paths, "no report was written"
    with open(paths[-1], encoding="utf-8") as handle:
        return json.load(handle), len(paths)


def role_options():
    return {"offboard_%s" % name: dict(SOAK_OPTIONS) for name in PROVIDERS}


def check_report_against_logs(report, simulators, before):
    """Each leaver's outcome at each provider: "removed" exactly when the simulator's log shows this run
    removed them (with the lost-answer confirmation where the answer was lost), else "already absent"."""
    expected_summary = {}
    for row in report["leavers"]:
        for name, simulator in simulators.items():
            outcome = row["results"][name]
            removed = dict((before[name][key], entry) for key, entry in removals(simulator.requests()).items())
            if row["email"] in removed:
                assert outcome["outcome"] == "removed", (name, row["email"], outcome)
                if removed[row["email"]].get("fault") in LOST:
                    assert outcome["msg"].startswith("deleted (confirmed after a retry"), (name, outcome)
                else:
                    assert outcome["msg"] == "deleted", (name, outcome)
            else:
                assert (outcome["outcome"], outcome["msg"]) == ("already absent", "already absent"), (name, outcome)
            expected_summary[outcome["outcome"]] = expected_summary.get(outcome["outcome"], 0) + 1
    assert report["summary"] == expected_summary
    assert report["failed"] is False


def test_the_offboard_role_under_faults_reports_what_the_simulators_did(ansible, serve):
    simulators, env = role_simulators(serve)
    before = dict((name, simulator.user_names()) for name, simulator in simulators.items())
    leavers = [{"name": "Leaver %d" % number, "email": leaver(number)} for number in range(ROLE_LEAVERS)]
    seeds = dict((name, 5003 + offset) for offset, name in enumerate(sorted(simulators)))
    for name, simulator in simulators.items():
        inject_fault_mix(simulator, seeds[name], PROVIDERS[name].throttle, always_lost=CHANGING_CALL[name])
    variables = dict(role_options(), offboard_users=leavers)

    run = ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir))
    for name, simulator in simulators.items():
        left = set(simulator.user_names().values()) & set(one["email"] for one in leavers)
        describe_run("offboard role at %s, 50 leavers" % name, seeds[name], simulator.requests(), leavers, left,
                     run.elapsed)
    assert run.returncode == 0, run.output[-3000:]
    report, count = latest_report(ansible.workdir)
    assert count == 1
    check_report_against_logs(report, simulators, before)
    assert report["summary"]["removed"] == 3 * 45
    for simulator in simulators.values():
        assert not set(simulator.user_names().values()) & set(leaver(number) for number in range(ROLE_LEAVERS))

    for simulator in simulators.values():
        simulator.clear_faults()
        simulator.clear_log()
    again = ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir))
    assert again.returncode == 0, again.output[-3000:]
    report, count = latest_report(ansible.workdir)
    assert count == 2
    assert report["summary"] == {"already absent": 3 * ROLE_LEAVERS}
    assert all(not entry["changing"] for simulator in simulators.values() for entry in simulator.requests())


# --- ansible-playbook killed in the middle of a batch ---------------------------------------------


def kill_mid_batch(run, simulator, total, at_least=30):
    """Kill the run's process group once the simulator has carried out some deletes but not all; then
    wait until nothing is in flight. Returns the number removed before the re-run."""
    started = wait_for(lambda: len(removals(simulator.requests())) >= at_least, timeout=120)
    left = run.kill()
    assert started, "the run never got to its deletes:\n" + run.output()[-3000:]
    assert left == [], "processes of the killed run are still alive: %s" % left
    assert wait_for(lambda: simulator.in_flight == 0, timeout=10)
    settled = len(simulator.requests())
    time.sleep(0.5)
    assert len(simulator.requests()) == settled, "something still sends requests after the kill"
    removed = len(removals(simulator.requests()))
    assert at_least <= removed < total, "the kill did not land in the middle of the batch (%d removed)" % removed
    return removed


def test_a_killed_run_then_a_re_run_converges_and_counts_what_was_left(ansible, serve):
    provider = PROVIDERS["atlassian"]
    simulator, env = provider.start(serve, range(300), 20)
    keys = [provider.keys(number) for number in range(300)]
    bystanders = simulator.user_keys() - set(keys)
    simulator.add_fault(action="delay", delay=0.05, times=None)  # a few seconds for the whole batch
    play = [{"name": "interrupted", "hosts": "localhost", "gather_facts": False,
             "tasks": [user_task(provider, keys, parallelism=8)]}]

    removed = kill_mid_batch(Background(ansible, play, env=env), simulator, len(keys))
    left = simulator.user_keys() & set(keys)
    print("killed run: %d of %d users removed before the kill, %d left" % (removed, len(keys), len(left)))

    simulator.clear_faults()
    simulator.clear_log()
    again = ansible.tasks(play[0]["tasks"], env=env)
    assert again.returncode == 0, again.output[-3000:]
    result = again.task("batch")
    assert set(user[provider.by] for user in result["users"] if user["changed"]) == left
    assert result["msg"] == "already absent: %d, deleted: %d" % (len(keys) - len(left), len(left))
    assert set(removals(simulator.requests())) == left
    assert simulator.user_keys() == bystanders


def test_a_killed_offboard_run_then_a_re_run_reports_right(ansible, serve):
    provider = PROVIDERS["atlassian"]
    simulator, env = provider.start(serve, range(300), 20)
    before = simulator.user_names()
    simulator.add_fault(action="delay", delay=0.05, times=None)
    leavers = [{"email": leaver(number)} for number in range(300)]
    variables = {"offboard_users": leavers, "offboard_atlassian": dict(SOAK_OPTIONS, parallelism=8)}
    env = dict(env, PWD=ansible.workdir)

    kill_mid_batch(Background(ansible, "identity.lifecycle.offboard", extra_vars=variables, env=env),
                   simulator, len(leavers))
    left = set(before[key] for key in simulator.user_keys()) & set(one["email"] for one in leavers)
    # A killed run writes no report: the re-run's report is the record.
    assert glob.glob(os.path.join(ansible.workdir, "offboard-reports", "*.json")) == []

    simulator.clear_faults()
    simulator.clear_log()
    again = ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=env)
    assert again.returncode == 0, again.output[-3000:]
    report, _count = latest_report(ansible.workdir)
    check_report_against_logs(report, {"atlassian": simulator}, {"atlassian": before})
    assert report["summary"] == {"removed": len(left), "already absent": len(leavers) - len(left)}
    assert set(row["email"] for row in report["leavers"] if row["results"]["atlassian"]["outcome"] == "removed") == left


# --- a plain 429 with Retry-After --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_plain_429_with_retry_after_is_retried_at_every_provider(ansible, serve, name):
    """A gateway in front of any provider may throttle with a bare HTTP 429 and Retry-After (RFC 6585)."""
    provider = PROVIDERS[name]
    simulator, env = provider.start(serve, range(3), 0)
    keys = [provider.keys(number) for number in range(3)]
    simulator.add_fault(status=429, headers={"Retry-After": "0"}, body={"message": "too many requests"}, times=2,
                        **CHANGING_CALL[name])

    run = ansible.tasks([user_task(provider, keys)], env=env)
    result = run.task("batch")
    assert not result.get("failed"), result["msg"]
    assert [user["msg"] for user in result["users"]] == ["deleted"] * 3
    assert not set(keys) & simulator.user_keys()
