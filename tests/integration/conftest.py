# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the integration tests: real `ansible-playbook` runs against simulators on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from simulators._base import SimServer

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")


class PlaybookResult:
    def __init__(self, returncode, stdout, stderr, elapsed, parsed):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.parsed = parsed

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name):
        """The localhost result of the task with this name (the last one, if it ran twice)."""
        found = None
        for play in (self.parsed or {}).get("plays", []):
            for task in play["tasks"]:
                # Role tasks are named "<role> : <task>".
                if task["task"]["name"] == name or task["task"]["name"].endswith(" : " + name):
                    found = task["hosts"]["localhost"]
        if found is None:
            raise AssertionError("task %r not in the playbook output:\n%s" % (name, self.output[-4000:]))
        return found

    def __repr__(self):
        return "<PlaybookResult rc=%s elapsed=%.1fs>" % (self.returncode, self.elapsed)


class Ansible:
    """Writes a playbook into a temporary directory and runs it with ansible-playbook."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.inventory = os.path.join(workdir, "inventory.yml")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            # The modules need `requests` from this virtual environment, and interpreter discovery
            # may find an unrelated Python.
            handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
        self.runs = 0

    def environment(self, extra=None, callback="json"):
        """`callback="json"` prints a JSON document that `PlaybookResult.task()` reads."""
        env = dict(os.environ)
        for name in list(env):
            # Never let the caller's credentials leak into a test.
            if name.startswith(("ATLASSIAN_SCIM_", "UIPATH_", "ALIBABA_CLOUD_", "ALICLOUD_")):
                del env[name]
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": os.environ["IDENTITY_LIFECYCLE_COLLECTIONS_ROOT"],
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_HOME": os.path.join(self.workdir, ".ansible"),
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.workdir, ".ansible", "tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_STDOUT_CALLBACK": "test_results" if callback == "json" else callback,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_CONFIG": os.path.join(self.workdir, "no-ansible.cfg"),
        })
        env.update(extra or {})
        return env

    def run(self, plays, extra_vars=None, env=None, check=False, diff=False, verbosity=0,
            callback="json", args=(), timeout=900):
        """Run `plays` (a list of plays, YAML text, or the name of a collection playbook)."""
        self.runs += 1
        if isinstance(plays, str) and plays.startswith("identity.lifecycle."):
            path = plays
        else:
            path = os.path.join(self.workdir, "playbook-%d.yml" % self.runs)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(plays if isinstance(plays, str) else json.dumps(plays, indent=1))
        command = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, path]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        command += list(args)
        started = time.monotonic()
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                   env=self.environment(env, callback), cwd=self.workdir, check=False)
        elapsed = time.monotonic() - started
        parsed = None
        if callback == "json":
            try:
                parsed = json.loads(completed.stdout)
            except ValueError:
                parsed = None
        return PlaybookResult(completed.returncode, completed.stdout, completed.stderr, elapsed, parsed)

    def tasks(self, tasks, module_defaults=None, play_vars=None, **kwargs):
        """Run one play on localhost with these tasks."""
        play = {"name": "test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
        if module_defaults:
            play["module_defaults"] = module_defaults
        if play_vars:
            play["vars"] = play_vars
        return self.run([play], **kwargs)


@pytest.fixture
def ansible(tmp_path):
    return Ansible(str(tmp_path))


@pytest.fixture
def serve():
    """Start simulators on free loopback ports; they are stopped after the test."""
    servers = []

    def start(simulator, **kwargs):
        server = SimServer(simulator, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
