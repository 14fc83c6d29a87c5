# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The README's example playbooks and examples/ run as written against the simulators."""

from __future__ import annotations

import json
import os
import re

import pytest

from simulators import simulator_class

from .conftest import ROOT

SEEDS = os.path.join(ROOT, "simulators", "seeds")


def readme_example(section):
    """The first YAML block under the README heading `## <section>`."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(section), text, re.S | re.M)
    assert match, "README has no section %r" % section
    block = re.search(r"```yaml\n(---\n.*?)```", match.group(1), re.S)
    assert block, "README section %r has no playbook" % section
    return block.group(1)


def demo_simulator(serve, provider, **kwargs):
    simulator = simulator_class(provider)(**kwargs)
    with open(os.path.join(SEEDS, "%s-demo.json" % provider), encoding="utf-8") as handle:
        simulator.seed(json.load(handle))
    server = serve(simulator)
    return simulator, simulator.client_environment(server.url)


def atlassian_names(simulator):
    return sorted(user["userName"] for user in json.loads(json.dumps(simulator.snapshot()))["directories"]
                  ["d-demo-7f3a9c"]["users"])


@pytest.mark.parametrize("source", ["README", "examples/atlassian_offboard.yml"])
def test_atlassian_example_rehearses_removes_and_is_idempotent(ansible, serve, source):
    simulator, env = demo_simulator(serve, "atlassian")
    if source == "README":
        playbook = readme_example("Atlassian Cloud")
    else:
        with open(os.path.join(ROOT, source), encoding="utf-8") as handle:
            playbook = handle.read()
    before = atlassian_names(simulator)

    rehearsal = ansible.run(playbook, env=env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert rehearsal.task("Remove the leavers' Atlassian accounts (one batched task)")["changed"] is True
    assert atlassian_names(simulator) == before

    real = ansible.run(playbook, env=env)
    assert real.returncode == 0, real.output
    assert atlassian_names(simulator) == ["ivy.novak@example.com", "mei.chen@example.com", "sam.taylor@example.com"]

    again = ansible.run(playbook, env=env)
    assert again.returncode == 0, again.output
    removal = again.task("Remove the leavers' Atlassian accounts (one batched task)")
    assert removal["changed"] is False
    assert [user["msg"] for user in removal["users"]] == ["already absent", "already absent"]


def changing_calls(simulator):
    return [entry for entry in simulator.requests() if (entry.get("action") or "").startswith(
        ("Delete", "Remove", "Update"))]


def test_alibaba_readme_example_rehearses_removes_and_is_idempotent(ansible, serve):
    simulator, env = demo_simulator(serve, "alibaba", task_delay=0.1, conflict_lag=0.2)
    playbook = readme_example("Alibaba Cloud CloudSSO")
    removal = "Remove the leavers (MFA devices, groups and direct assignments first)"

    rehearsal = ansible.run(playbook, env=env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert [user["changed"] for user in rehearsal.task(removal)["users"]] == [True, True, True]
    assert changing_calls(simulator) == []

    real = ansible.run(playbook, env=env)
    assert real.returncode == 0, real.output
    remaining = sorted(user["UserName"] for user in simulator.directory_state("d-00fc2p61xxxx")["users"])
    assert "dana.lee@example.com" not in remaining and "sam.taylor@example.com" in remaining
    assert all(user["request_ids"] for user in real.task(removal)["users"])

    again = ansible.run(playbook, env=env)
    assert again.returncode == 0, again.output
    assert [user["msg"] for user in again.task(removal)["users"]] == ["already absent"] * 3


def test_uipath_readme_example_rehearses_removes_and_is_idempotent(ansible, serve):
    simulator, env = demo_simulator(serve, "uipath")
    playbook = readme_example("UiPath (Automation Cloud, Automation Suite, standalone)")
    removal = "Remove the leavers (one batched task)"

    rehearsal = ansible.run(playbook, env=env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert [user["msg"] for user in rehearsal.task(removal)["users"]] == ["would be deleted"] * 3
    assert [entry for entry in simulator.requests() if entry["method"] in ("DELETE", "PUT")] == []

    real = ansible.run(playbook, env=env)
    assert real.returncode == 0, real.output
    assert [user["state"] for user in real.task(removal)["users"]] == ["absent"] * 3
    # One bulk DELETE for the three leavers.
    assert len(simulator.requests("DELETE")) == 1

    again = ansible.run(playbook, env=env)
    assert again.returncode == 0, again.output
    assert [user["msg"] for user in again.task(removal)["users"]] == ["already absent"] * 3
