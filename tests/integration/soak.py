# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the fault soak tests share: the seeded fault mix, simulators whose log says which users each
request removed, and ansible-playbook runs in their own process group, so that a test can kill one."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time

from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

from .conftest import BIN

LOST = ("process_then_respond", "process_then_drop")
RETRYABLE = (429, 500, 502, 503, 504)


def inject_fault_mix(simulator, seed, throttle=None, always_lost=None, **match):
    """20% of requests answered 503, 10% throttled (429), 5% dropped, 5% carried out and then their
    answer lost (half answered 502, half dropped), drawn from a generator seeded with `seed`.

    Faults are tried in order and the first that applies wins, so each one's probability is its
    share of the requests that the faults before it left alone. The threads of a run reach the
    simulator in varying order, so a seed fixes the mix, not which request gets which fault.
    The 503 and 429 answers carry `Retry-After: 0`, the shortest wait HTTP can say (delta-seconds are
    whole numbers): with 40% of attempts failing, the transport's exponential back-off (0.5 s doubling
    up to 30 s) would make each run last as long as its unluckiest request; dropped connections and
    lost answers still go through that back-off. `throttle` replaces the 429 answer (status, headers,
    body) for a provider that throttles in its own shape. `always_lost` (method and path of a changing
    call) makes one such call, the first after `seed % 3` others, lose its answer whatever the draws, so
    that every run exercises a lost answer even when it makes few changing calls (UiPath's bulk deletes).
    `match` (method, path) limits the mix to some requests.
    """
    throttle = throttle or {"status": 429, "headers": {"Retry-After": "0"},
                            "body": {"message": "injected fault: too many requests"}}
    mix = (
        (0.20, dict(action="respond", status=503, headers={"Retry-After": "0"},
                    body={"message": "injected fault: service unavailable"})),
        (0.10, dict(throttle, action="respond")),
        (0.05, dict(action="drop")),
        (0.025, dict(action="process_then_respond", status=502, body={"message": "injected fault: bad gateway"})),
        (0.025, dict(action="process_then_drop")),
    )
    simulator.clear_faults()
    simulator.seed_faults(seed)
    if always_lost:
        simulator.add_fault(action="process_then_respond", status=502, body={"message": "injected fault: bad gateway"},
                            times=1, skip=seed % 3, **always_lost)
    left = 1.0
    for share, spec in mix:
        simulator.add_fault(times=None, probability=share / left, **dict(spec, **match))
        left -= share


KINDS = ("503", "throttled", "dropped", "lost (502)", "lost (dropped)")


def fault_kind(entry):
    """What the client saw of a faulted request (one of KINDS), or None."""
    fault = entry.get("fault")
    if fault == "respond":
        return "503" if entry["status"] == 503 else "throttled"
    if fault == "drop":
        return "dropped"
    if fault == "process_then_respond":
        return "lost (502)"
    if fault == "process_then_drop":
        return "lost (dropped)"
    return fault


def fault_counts(log):
    return collections.Counter(kind for kind in (fault_kind(entry) for entry in log) if kind)


def failed_attempts(log):
    """Log entries whose client saw a retryable failure: every fault, and the simulator's own throttling."""
    return [entry for entry in log if entry.get("fault") or entry["status"] in RETRYABLE]


def removals(log):
    """{user key: log entry of the request that removed it}; a user removed twice fails the test."""
    removed = {}
    for entry in log:
        for key in entry.get("removed") or []:
            assert key not in removed, "%s was removed twice: %s and %s" % (key, removed[key], entry)
            assert entry["changing"] and 200 <= entry["status"] < 300, entry
            removed[key] = entry
    return removed


def describe_run(label, seed, log, requested, left, elapsed):
    """One line of figures (visible with pytest -s, or -rP)."""
    counts = fault_counts(log)
    kinds = ", ".join("%s %d" % (kind, counts.get(kind, 0)) for kind in KINDS)
    lost = sum(len(entry["removed"]) for entry in log if entry.get("fault") in LOST)
    print("%s, seed %s: %d requests in %.0f s; faults: %s; %d users removed by this run (%d of them after a lost "
          "answer); %d of %d requested users absent"
          % (label, seed, len(log), elapsed, kinds, len(removals(log)), lost, len(requested) - len(left),
             len(requested)))


class _RecordsRemovals:
    """Each log entry lists the users its request removed, read from the state before and after the
    request under the simulator's lock: the simulator's own account of what it carried out, whether or
    not its answer then reached the client."""

    def user_names(self):
        """{key: user name} of every user now; the key is what the soak addresses users by."""
        raise NotImplementedError

    def user_keys(self):
        with self.lock:
            return set(self.user_names())

    def handle(self, request):
        with self.lock:
            before = set(self.user_names())
            response = super().handle(request)
            request.removed = sorted(before - set(self.user_names()))
        return response

    def log_entry(self, request, status):
        entry = super().log_entry(request, status)
        entry["removed"] = getattr(request, "removed", [])
        return entry


class AtlassianSoakSimulator(_RecordsRemovals, AtlassianScimSimulator):
    """Users are keyed by SCIM id."""

    def user_names(self):
        return dict((user_id, user["userName"]) for directory in self.directories.values()
                    for user_id, user in directory["users"].items())


class UiPathSoakSimulator(_RecordsRemovals, UiPathIdentitySimulator):
    """Users are keyed by user name (the soak addresses them by name)."""

    def user_names(self):
        return dict((user["userName"], user["userName"]) for organization in self.organizations.values()
                    for user in organization["users"].values())


class AlibabaSoakSimulator(_RecordsRemovals, AlibabaCloudSsoSimulator):
    """Users are keyed by CloudSSO user id."""

    def user_names(self):
        return dict((user_id, user["UserName"]) for directory in self.directories.values()
                    for user_id, user in directory["users"].items())


class Background:
    """An ansible-playbook run started in its own session (so its own process group): killing the
    group kills the module process too, and nothing is left behind."""

    def __init__(self, ansible, plays, extra_vars=None, env=None):
        ansible.runs += 1
        if isinstance(plays, str) and plays.startswith("identity.lifecycle."):
            path = plays
        else:
            path = os.path.join(ansible.workdir, "playbook-%d.yml" % ansible.runs)
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(plays, handle, indent=1)
            if ansible.guard is not None:
                ansible.guard.inputs.add(os.path.realpath(path))
        if ansible.guard is not None:
            # The secrets it was given are looked for in its output (files under the test's directory).
            ansible.guard.note_run("background ansible-playbook run %d" % ansible.runs, plays, extra_vars, env, ())
        command = [os.path.join(BIN, "ansible-playbook"), "-i", ansible.inventory, path]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        self.paths = [os.path.join(ansible.workdir, "background-%d.%s" % (ansible.runs, stream))
                      for stream in ("stdout", "stderr")]
        self._files = [open(path, "w", encoding="utf-8") for path in self.paths]  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            command, stdout=self._files[0], stderr=self._files[1], env=ansible.environment(env),
            cwd=ansible.workdir, start_new_session=True)
        self.group = self.process.pid

    def wait(self, timeout):
        """Wait for the run to end by itself; on timeout kill it and return None, else its exit code."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            self._close()

    def _close(self):
        for handle in self._files:
            handle.close()

    def kill(self):
        """SIGKILL every process of the run, as a CI runner that cancels a job does; returns the live
        processes left (none, or the test fails). ansible-core puts each worker (and the module process
        under it) into a session of its own, so the playbook's own group is not enough: the tree is
        frozen with SIGSTOP group by group until it stops growing, then killed."""
        groups = set([self.group])
        while True:
            for group in groups:
                signal_group(group, signal.SIGSTOP)
            found = groups | set(process_group(pid) for pid in descendants(self.group))
            if found == groups:
                break
            groups = found
        for group in groups:
            signal_group(group, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close()
        wait_for(lambda: not any(group_members(group) for group in groups), timeout=10)
        return [pid for group in groups for pid in group_members(group)]

    def output(self):
        text = []
        for path in self.paths:
            with open(path, encoding="utf-8") as handle:
                text.append(handle.read())
        return "".join(text)

    def results(self):
        """The JSON document of the tests' stdout callback."""
        with open(self.paths[0], encoding="utf-8") as handle:
            return json.loads(handle.read())


def signal_group(group, signum):
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def _processes():
    """{pid: (state, parent pid, process group)} of every process, from /proc."""
    processes = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command may contain spaces and parentheses; the fields after the last ")" do not.
        fields = stat[stat.rindex(")") + 2:].split()
        processes[int(name)] = (fields[0], int(fields[1]), int(fields[2]))
    return processes


def descendants(pid):
    """The live descendants of a process."""
    processes = _processes()
    children = collections.defaultdict(list)
    for child, (_state, parent, _group) in processes.items():
        children[parent].append(child)
    found, todo = [], [pid]
    while todo:
        for child in children[todo.pop()]:
            if processes[child][0] not in ("Z", "X"):
                found.append(child)
            todo.append(child)
    return found


def process_group(pid):
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return pid


def group_members(group):
    """Live (not zombie) processes of a process group."""
    return [pid for pid, (state, _parent, member_of) in _processes().items()
            if member_of == group and state not in ("Z", "X")]


def wait_for(condition, timeout, interval=0.02):
    """Poll until `condition()` is true; returns whether it became true in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
