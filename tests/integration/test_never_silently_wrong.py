# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Paths that used to end silently wrong, each closed, at every provider, through real ansible-playbook runs
against the simulators seeded with the demo data."""

from __future__ import annotations

import json
import os
import socket

import pytest

from simulators import simulator_class

SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "simulators", "seeds")
MODULES = {
    "atlassian": "identity.lifecycle.atlassian_scim_user",
    "uipath": "identity.lifecycle.uipath_user",
    "alibaba": "identity.lifecycle.alibaba_cloudsso_user",
}
# A demo leaver at each provider, by id (at Alibaba one with nothing that blocks DeleteUser).
LEAVER = {
    "atlassian": "7d4a39b6-0b4c-4d93-9c1e-0f3c1b1b2a11",
    "uipath": "0f5d3c1e-1a2b-4c3d-8e4f-000000000001",
    "alibaba": "u-00demomeichen00001",
}
# The changing request that deletes one user at each provider.
DELETE_PATH = {
    "atlassian": r"/Users/7d4a39b6",
    "uipath": r"/api/User/0f5d3c1e-1a2b-4c3d-8e4f-000000000001",
    "alibaba": r"Action=DeleteUser(&|$)",
}
# Each provider's secret options and the environment variable behind them.
SECRETS = {
    "atlassian": ("api_key", "ATLASSIAN_SCIM_API_KEY"),
    "uipath": ("client_secret", "UIPATH_CLIENT_SECRET"),
    "alibaba": ("access_key_secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
}


def demo(serve, provider):
    with open(os.path.join(SEEDS, "%s-demo.json" % provider), encoding="utf-8") as handle:
        data = json.load(handle)
    simulator = simulator_class(provider)()
    simulator.seed(data)
    server = serve(simulator)
    return simulator, server, simulator.client_environment(server.url)


def module_args(provider, **args):
    if provider == "alibaba":
        args.setdefault("force", True)
    return args


def delete_requests(simulator, provider):
    return [entry for entry in simulator.requests(path=DELETE_PATH[provider]) if entry["changing"]]


@pytest.mark.parametrize("provider", sorted(MODULES))
@pytest.mark.parametrize("lost", [
    {"action": "process_then_respond", "status": 502, "body": {"message": "bad gateway"}},
    {"action": "process_then_drop"},
])
def test_a_delete_whose_answer_was_lost_is_reported_as_done_by_this_run(ansible, serve, provider, lost):
    simulator, _server, env = demo(serve, provider)
    simulator.add_fault(method="POST" if provider == "alibaba" else "DELETE", path=DELETE_PATH[provider], **lost)
    task = {"name": "delete", MODULES[provider]: module_args(provider, user_id=LEAVER[provider], state="absent",
                                                             retries=2)}
    result = ansible.tasks([task, dict(task, name="again")], env=env)
    assert result.returncode == 0, result.output
    first = result.task("delete")
    assert first["changed"] is True
    user = first["users"][0]
    assert user["changed"] is True and user["state"] == "absent" and user["actions"][-1] == "deleted"
    assert user["msg"].startswith("deleted (confirmed after a retry"), user["msg"]
    assert "deleted: 1" in first["msg"]
    # The simulator carried out exactly one delete, whose answer was lost; the retry found nothing.
    carried_out = [entry for entry in delete_requests(simulator, provider) if entry.get("fault")]
    assert len(carried_out) == 1
    again = result.task("again")
    assert again["changed"] is False and again["users"][0]["msg"] == "already absent"


@pytest.mark.parametrize("provider", sorted(MODULES))
def test_a_secret_with_a_newline_is_refused_before_any_request_and_never_shown(ansible, serve, provider):
    simulator, _server, env = demo(serve, provider)
    option, variable = SECRETS[provider]
    secret = env[variable]
    env = dict(env)
    env[variable] = secret + "\n"
    task = {"name": "delete", MODULES[provider]: module_args(provider, user_id=LEAVER[provider], state="absent")}
    result = ansible.tasks([task], env=env)
    assert result.returncode != 0
    message = result.task("delete")["msg"]
    assert option in message and "control character" in message
    verbose = ansible.tasks([task], env=env, verbosity=4, callback="default")
    assert verbose.returncode != 0
    for output in (result.output, verbose.output):
        assert secret not in output
    assert simulator.requests() == []


@pytest.mark.parametrize("provider, option, variable", [
    ("uipath", "access_token", "UIPATH_ACCESS_TOKEN"),
    ("alibaba", "security_token", "ALIBABA_CLOUD_SECURITY_TOKEN"),
])
def test_tokens_with_a_newline_are_refused_too(ansible, serve, provider, option, variable):
    simulator, _server, env = demo(serve, provider)
    token = "token-with-a-trailing-newline-%s" % provider
    env = dict(env, **{variable: token + "\r\n"})
    task = {"name": "delete", MODULES[provider]: module_args(provider, user_id=LEAVER[provider], state="absent")}
    result = ansible.tasks([task], env=env)
    assert result.returncode != 0
    assert option in result.task("delete")["msg"]
    verbose = ansible.tasks([task], env=env, verbosity=4, callback="default")
    for output in (result.output, verbose.output):
        assert token not in output
    assert simulator.requests() == []


@pytest.mark.parametrize("provider", ["atlassian", "uipath"])
def test_names_with_surrounding_spaces_address_the_user(ansible, serve, provider):
    simulator, _server, env = demo(serve, provider)
    task = {"name": "delete", MODULES[provider]: {"user_name": [" dana.lee@example.com "], "state": "absent"}}
    result = ansible.tasks([task], env=env)
    assert result.returncode == 0, result.output
    user = result.task("delete")["users"][0]
    assert (user["changed"], user["found"], user["user_name"]) == (True, True, "dana.lee@example.com")
    assert len(delete_requests(simulator, provider)) == 1


@pytest.mark.parametrize("provider, option", [("atlassian", "user_name"), ("uipath", "user_name"),
                                              ("atlassian", "user_id")])
def test_values_with_line_breaks_are_refused_naming_the_option(ansible, serve, provider, option):
    simulator, _server, env = demo(serve, provider)
    task = {"name": "delete", MODULES[provider]: {option: ["dana.lee@example.com\r\nX-Injected: 1"], "state": "absent"}}
    result = ansible.tasks([task], env=env)
    assert result.returncode != 0
    assert result.task("delete")["msg"].startswith(option)
    assert simulator.requests() == []


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_wrong_url_fails_at_once_with_the_address_to_check(ansible, serve):
    _simulator, _server, env = demo(serve, "atlassian")
    env = dict(env, ATLASSIAN_SCIM_BASE_URL="http://127.0.0.1:%d/scim" % closed_port())
    task = {"name": "delete", MODULES["atlassian"]: {"user_id": LEAVER["atlassian"], "state": "absent"}}
    result = ansible.tasks([task], env=env)
    assert result.returncode != 0
    message = result.task("delete")["msg"]
    assert "it is not retried: check the URL options" in message
    # Five retries would have added 0.5 + 1 + 2 + 4 + 8 seconds of back-off, and said so.
    assert "gave up after" not in message and "retried" not in result.output.replace("not retried", "")


def test_netrc_never_replaces_the_directory_key(ansible, serve, tmp_path):
    simulator, _server, env = demo(serve, "atlassian")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password not-the-key\n")
    netrc.chmod(0o600)
    task = {"name": "delete", MODULES["atlassian"]: {"user_id": LEAVER["atlassian"], "state": "absent"}}
    result = ansible.tasks([task], env=dict(env, NETRC=str(netrc)))
    assert result.returncode == 0, result.output
    assert result.task("delete")["changed"] is True
    assert all(entry["status"] != 401 for entry in simulator.requests())


@pytest.mark.parametrize("stored, asked", [("\u212aate@example.com", "kate@example.com"),
                                           ("stra\u00dfe@example.com", "strasse@example.com")])
def test_an_atlassian_look_alike_is_never_deleted_in_place_of_the_name(ansible, serve, stored, asked):
    from simulators.atlassian import AtlassianScimSimulator  # pylint: disable=import-outside-toplevel

    simulator = AtlassianScimSimulator({"d-look": {"api_key": "ATSCIM-look-alike-key-5e6f7a8b", "users": [
        {"id": "u-look", "userName": stored, "active": True}]}})
    server = serve(simulator)
    env = simulator.client_environment(server.url)
    result = ansible.tasks([{"name": "delete", MODULES["atlassian"]: {"user_name": [asked], "state": "absent"}}],
                           env=env)
    assert result.returncode != 0
    message = result.task("delete")["users"][0]["msg"]
    assert "looks like" in message and "u-look" in message
    assert [user["userName"] for user in simulator.users("d-look")] == [stored]
    assert [entry for entry in simulator.requests() if entry["changing"]] == []


def test_the_offboard_role_reports_a_newline_key_without_showing_it(ansible, serve):
    simulator, _server, env = demo(serve, "atlassian")
    key = env["ATLASSIAN_SCIM_API_KEY"]
    env = dict(env, ATLASSIAN_SCIM_API_KEY=key + "\n", PWD=ansible.workdir)
    result = ansible.run("identity.lifecycle.offboard", env=env,
                         extra_vars={"offboard_users": [{"email": "dana.lee@example.com"}]})
    assert result.returncode != 0
    assert key not in result.output
    written = []
    for folder, _dirs, files in os.walk(os.path.join(ansible.workdir, "offboard-reports")):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                written.append((name, handle.read()))
    # The report pair, beside the report writer's (empty) lock file; no file holds the key.
    reports = [text for name, text in written if name.startswith("offboard-")]
    assert len(reports) == 2 and all(key not in text for _name, text in written)
    assert all("contains a control character" in text for text in reports)
    assert [entry for entry in simulator.requests() if entry["changing"]] == []
