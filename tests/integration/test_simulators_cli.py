# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The simulators' command line as a user runs it: from the built and installed collection, from another
directory, with a help text for every command, and no credential printed unless asked for."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import time

import pytest

from .collection_build import install_built_collection
from .conftest import SECRET_CREDENTIALS, SECRET_ENVIRONMENT, secret_values

COMMANDS = ("start", "env", "stop", "serve")
PACKAGE = "ansible_collections.identity.lifecycle.simulators"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collections path of a built and installed copy of the collection."""
    workdir = str(tmp_path_factory.mktemp("simulators-cli"))
    env = dict(os.environ, ANSIBLE_HOME=os.path.join(workdir, ".ansible"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    return install_built_collection(workdir, env)


def simulators(args, pythonpath, cwd, package=PACKAGE):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run([sys.executable, "-m", package] + list(args), capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120, check=False)


def test_every_command_has_a_help_text(installed, tmp_path):
    overview = simulators(["--help"], installed, str(tmp_path))
    assert overview.returncode == 0, overview.stderr
    assert overview.stdout.startswith("usage: python -m %s" % PACKAGE)
    for command in COMMANDS:
        line = [line for line in overview.stdout.splitlines() if line.strip().startswith(command + " ")]
        assert line and len(line[0].split()) > 3, "%s has no help text:\n%s" % (command, overview.stdout)
        detail = simulators([command, "--help"], installed, str(tmp_path))
        assert detail.returncode == 0, detail.stderr
        assert "--state-dir DIR" in detail.stdout and "where endpoints.json" in detail.stdout, command
    assert "--show-credentials" in simulators(["start", "--help"], installed, str(tmp_path)).stdout
    # The collection root on PYTHONPATH runs it as `python -m simulators`, as in a checkout.
    root = os.path.join(installed, "ansible_collections", "identity", "lifecycle")
    short = simulators(["--help"], root, str(tmp_path), package="simulators")
    assert short.returncode == 0 and short.stdout.startswith("usage: python -m simulators"), short.stderr


def test_start_prints_no_credential_unless_asked_and_the_simulators_serve_the_modules(installed, tmp_path, ansible):
    state = str(tmp_path / "state")
    started = simulators(["start", "--state-dir", state], installed, str(tmp_path))
    try:
        assert started.returncode == 0, started.stderr
        endpoints_file = os.path.join(state, "endpoints.json")
        assert stat.S_IMODE(os.stat(endpoints_file).st_mode) == 0o600
        with open(endpoints_file, encoding="utf-8") as handle:
            endpoints = json.load(handle)
        secrets = {}
        for provider in endpoints["providers"].values():
            secret_values(provider["credentials"], SECRET_CREDENTIALS, "credentials", secrets)
            secret_values(provider["env"], SECRET_ENVIRONMENT, "env", secrets)
        assert len(secrets) >= 3, secrets.values()
        for provider, endpoint in endpoints["providers"].items():
            assert "%s: %s" % (provider, endpoint["url"]) in started.stdout
        leaked = [place for secret, place in secrets.items() if secret in started.stdout + started.stderr]
        assert leaked == [], "start printed %s" % leaked

        shown = simulators(["start", "--state-dir", state, "--show-credentials"], installed, str(tmp_path))
        assert shown.returncode == 0, shown.stderr
        assert all(secret in shown.stdout for secret in secrets)

        exported = simulators(["env", "--state-dir", state], installed, str(tmp_path))
        assert exported.returncode == 0, exported.stderr
        env = dict(shlex.split(line[len("export "):])[0].split("=", 1) for line in exported.stdout.splitlines())
        read = ansible.tasks([{"name": "read", "identity.lifecycle.atlassian_scim_user_info": {
            "user_name": "dana.lee@example.com"}}], env=dict(env, ANSIBLE_COLLECTIONS_PATH=installed))
        assert read.returncode == 0, read.output
        assert [user["userName"] for user in read.task("read")["users"]] == ["dana.lee@example.com"]
    finally:
        stopped = simulators(["stop", "--state-dir", state], installed, str(tmp_path))
    assert stopped.returncode == 0, stopped.stderr
    assert not os.path.exists(os.path.join(state, "endpoints.json"))
    assert gone(endpoints["pid"]), "the simulators' process %s still runs" % endpoints["pid"]


def gone(pid, wait=10.0):
    """Whether the process ended (it removes endpoints.json just before it exits)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
