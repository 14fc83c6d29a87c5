# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the benchmarks share: whole ansible-playbook runs against a simulator, timed, and the
figures read from the simulator's request log.

A simulator is served from a thread of the benchmark's own process; ansible-playbook runs in a child
process while the benchmark only waits for it, so the two never share an interpreter. The benchmarks
print figures; they assert nothing (timing targets are not tests), but a playbook that fails is an error.
"""

from __future__ import annotations

import collections
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from simulators._base import SimServer  # noqa: E402  pylint: disable=wrong-import-position

# The callers' credentials never reach a benchmark run.
PROVIDER_ENVIRONMENT = ("ATLASSIAN_SCIM_", "ATLASSIAN_ADMIN_", "ATLASSIAN_ORG_", "UIPATH_", "ALIBABA_CLOUD_", "ALICLOUD_",
                        "OFFBOARD_")
# The modules' interpreter: the benchmark's Python, run by a wrapper that appends bash's `times` to a file:
# a line of the shell's own user and system time, then one of its children's, "0m0.350s 0m0.040s".
MODULE_PYTHON = """#!/bin/bash
%s "$@"
status=$?
times >>%s
exit $status
"""
TIMES = re.compile(r"(\d+)m([\d.]+)s")


class PlaybookRun:
    """One finished ansible-playbook run: exit code, wall seconds, CPU seconds of the process and
    everything it started (controller, workers, module runs), CPU seconds of the module processes
    alone, and its output."""

    def __init__(self, returncode, wall, cpu, module_cpu, output):
        self.returncode = returncode
        self.wall = wall
        self.cpu = cpu
        self.module_cpu = module_cpu
        self.output = output

    @property
    def ok(self):
        return self.returncode == 0

    def tail(self, size=3000):
        return self.output[-size:]


class Workspace:
    """A scratch directory in which ansible-playbook finds this checkout as identity.lifecycle, with no
    ansible.cfg of the caller's and the benchmark's Python as the modules' interpreter."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="identity-lifecycle-bench-")
        namespace = os.path.join(self.path, "collections", "ansible_collections", "identity")
        os.makedirs(namespace)
        os.symlink(ROOT, os.path.join(namespace, "lifecycle"))
        self.module_cpu_log = os.path.join(self.path, "module-cpu.txt")
        interpreter = self._write("python", MODULE_PYTHON % (shlex.quote(sys.executable), shlex.quote(self.module_cpu_log)))
        os.chmod(interpreter, 0o755)
        self.inventory = self._write("inventory.json", {"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": interpreter}}}})
        self.config = self._write("ansible.cfg", None)
        self.runs = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)

    @property
    def collections(self):
        return os.path.join(self.path, "collections")

    def _write(self, name, document):
        path = os.path.join(self.path, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(document if isinstance(document, str) else "" if document is None else json.dumps(document))
        return path

    def environment(self):
        env = dict((name, value) for name, value in os.environ.items() if not name.startswith(PROVIDER_ENVIRONMENT))
        env.update(ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                   ANSIBLE_HOME=os.path.join(self.path, ".ansible"),
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.path, ".ansible", "tmp"), ANSIBLE_CONFIG=self.config,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_DEPRECATION_WARNINGS="false")
        return env

    def run(self, tasks, variables=None, timeout=3600):
        """Run one play of `tasks` on localhost (`variables` as extra vars) and time it."""
        self.runs += 1
        playbook = self._write("playbook-%d.json" % self.runs, [
            {"name": "benchmark", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory, playbook]
        if variables:
            command += ["-e", "@" + self._write("vars-%d.json" % self.runs, variables)]
        output = os.path.join(self.path, "output-%d.txt" % self.runs)
        self._write(self.module_cpu_log, None)
        with open(output, "w", encoding="utf-8") as handle:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.monotonic()
            returncode = subprocess.call(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.environment(), cwd=self.path, timeout=timeout)
            wall = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(output, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return PlaybookRun(returncode, wall, cpu, self._module_cpu(), text)

    def _module_cpu(self):
        """CPU seconds of the module processes of the last run, from the lines the interpreter wrapper wrote."""
        with open(self.module_cpu_log, encoding="utf-8") as handle:
            children = handle.read().splitlines()[1::2]
        return sum(float(minutes) * 60 + float(seconds) for line in children for minutes, seconds in TIMES.findall(line))


def serve(simulator):
    """The simulator on a free loopback port, from a thread of this process (a context manager)."""
    return SimServer(simulator)


def run_module_task(simulator, module, options_for, workspace=None):
    """Serve `simulator`, run one task of `module` with `options_for(server_url)`; returns the PlaybookRun."""
    with serve(simulator) as server:
        task = {"name": "batch", module: options_for(server.url)}
        if workspace is not None:
            return workspace.run([task])
        with Workspace() as scratch:
            return scratch.run([task])


class LogFigures:
    """What a simulator's request log says about one run: request counts, the busiest one-second
    window, throttled answers and requests per second over the run."""

    def __init__(self, log):
        self.log = sorted(log, key=lambda entry: entry["time"])
        self.times = [entry["time"] for entry in self.log]

    @property
    def requests(self):
        return len(self.log)

    def busiest_second(self):
        """The most requests in any one-second window (sliding, not wall-clock seconds)."""
        most, first = 0, 0
        for last, moment in enumerate(self.times):
            while moment - self.times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def throttled(self):
        """Answers that refused a request for its rate: HTTP 429 or a provider's throttling code."""
        return sum(1 for entry in self.log if is_throttled(entry))

    def count_by(self, field):
        return dict(collections.Counter(str(entry.get(field)) for entry in self.log))

    def per_second(self):
        """[[accepted, throttled], ...] per second from the first request."""
        if not self.times:
            return []
        start = self.times[0]
        seconds = [[0, 0] for second in range(int(self.times[-1] - start) + 1)]
        for entry in self.log:
            seconds[int(entry["time"] - start)][1 if is_throttled(entry) else 0] += 1
        return seconds


def is_throttled(entry):
    return entry["status"] == 429 or str(entry.get("code") or "").startswith("Throttling")


def busiest_second(log):
    return LogFigures(log).busiest_second()


def print_failure(run):
    if not run.ok:
        sys.stdout.write(run.tail())
