# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role and the identity.lifecycle.offboard playbook, against the simulators."""

from __future__ import annotations

import glob
import json
import os

from simulators.atlassian import AtlassianScimSimulator

DIRECTORY = "d-role"
KEY = "ATSCIM-role-test-key-8d7c6b5a"


def person(user_id, name):
    return {"id": user_id, "userName": name, "emails": [{"value": name, "primary": True}]}


def atlassian(serve, extra=()):
    simulator = AtlassianScimSimulator({DIRECTORY: {"api_key": KEY, "users": [
        person("a-dana", "dana.lee@example.com"), person("a-omar", "omar.haddad@example.com"),
        person("a-mei", "mei.chen@example.com"), person("a-sam", "sam.taylor@example.com")] + list(extra)}})
    server = serve(simulator)
    env = {"ATLASSIAN_SCIM_BASE_URL": server.url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": DIRECTORY,
           "ATLASSIAN_SCIM_API_KEY": KEY}
    return simulator, env


LEAVERS = [
    {"name": "Dana Lee", "email": "dana.lee@example.com"},
    {"name": "Omar Haddad", "email": "omar.haddad@example.com"},
    {"name": "Mei | Chen", "email": "mei.chen@example.com", "atlassian_user_id": "a-mei"},
    {"email": "gone@example.com"},
]


def names(simulator):
    return sorted(user["userName"] for user in simulator.users(DIRECTORY))


def reports(workdir):
    """{run_id: (json report, markdown text)} of the reports in workdir/offboard-reports."""
    found = {}
    for path in sorted(glob.glob(os.path.join(workdir, "offboard-reports", "offboard-*.json"))):
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        with open(path[:-len(".json")] + ".md", encoding="utf-8") as handle:
            found[report["run_id"]] = (report, handle.read())
    return found


def only_report(workdir):
    found = list(reports(workdir).values())
    assert len(found) == 1, found
    return found[0]


def offboard(ansible, env, check=False, **extra_vars):
    variables = {"offboard_users": LEAVERS}
    variables.update(extra_vars)
    return ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir),
                       check=check)


def test_rehearsal_then_offboarding_then_nothing_left(ansible, serve):
    simulator, env = atlassian(serve)
    before = names(simulator)

    rehearsal = offboard(ansible, env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert names(simulator) == before
    assert not [entry for entry in simulator.requests() if entry["method"] != "GET"]
    report, markdown = only_report(ansible.workdir)
    assert report["check_mode"] is True and report["run_id"].endswith("-check")
    assert report["summary"] == {"would remove": 3, "already absent": 1}
    outcomes = [leaver["results"]["atlassian"]["outcome"] for leaver in report["leavers"]]
    assert outcomes == ["would remove", "would remove", "would remove", "already absent"]
    assert "rehearsal (check mode, nothing was changed)" in markdown
    assert "| Mei \\| Chen (mei.chen@example.com) | would remove |" in markdown

    real = offboard(ansible, env)
    assert real.returncode == 0, real.output
    assert names(simulator) == ["sam.taylor@example.com"]
    report = [one for one, _text in reports(ansible.workdir).values() if not one["check_mode"]][0]
    assert report["summary"] == {"removed": 3, "already absent": 1}
    mei = report["leavers"][2]["results"]["atlassian"]
    assert (mei["by"], mei["user_id"], mei["actions"]) == ("id", "a-mei", ["deleted"])
    assert report["failed"] is False and report["providers"] == [{"name": "atlassian", "title": "Atlassian Cloud"}]
    assert report["started"] <= report["finished"]

    again = offboard(ansible, env)
    assert again.returncode == 0, again.output
    assert "changed=0" in again.stdout or json.loads(again.stdout)["stats"]["localhost"]["changed"] == 0
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert latest["summary"] == {"already absent": 4}
    assert len(reports(ansible.workdir)) == 3


def test_a_failure_is_reported_then_the_play_fails(ansible, serve):
    # Two users answer to "dana.lee@example.com" apart from case: that leaver fails, the others go.
    simulator, env = atlassian(serve, extra=[person("a-dana2", "Dana.Lee@example.com")])
    result = offboard(ansible, env)
    assert result.returncode != 0
    failure = result.task("Fail when any leaver could not be offboarded")
    assert "dana.lee@example.com at atlassian" in failure["msg"]
    assert "matches 2 users" in failure["msg"]
    assert names(simulator) == ["Dana.Lee@example.com", "dana.lee@example.com", "sam.taylor@example.com"]
    report, markdown = only_report(ansible.workdir)
    assert report["failed"] is True
    assert report["summary"] == {"removed": 2, "already absent": 1, "failed": 1}
    assert "## Failures" in markdown and "matches 2 users" in markdown


def test_a_provider_that_fails_as_a_whole_fails_each_leaver_there(ansible, serve):
    simulator, env = atlassian(serve)
    env["ATLASSIAN_SCIM_API_KEY"] = "ATSCIM-a-wrong-key-1234567"
    result = offboard(ansible, env)
    assert result.returncode != 0
    report, markdown = only_report(ansible.workdir)
    assert report["summary"] == {"failed": 4}
    assert report["failures"][0]["error"]["status"] == 401
    assert "ATSCIM-a-wrong-key-1234567" not in result.output + markdown + json.dumps(report)
    assert names(simulator) == ["dana.lee@example.com", "mei.chen@example.com", "omar.haddad@example.com",
                                "sam.taylor@example.com"]


def test_disabling_instead_of_deleting(ansible, serve):
    simulator, env = atlassian(serve)
    result = offboard(ansible, env, offboard_state="disabled", offboard_report_dir=os.path.join(ansible.workdir, "audit"))
    assert result.returncode == 0, result.output
    assert {user["userName"]: user["active"] for user in simulator.users(DIRECTORY)} == {
        "dana.lee@example.com": False, "omar.haddad@example.com": False, "mei.chen@example.com": False,
        "sam.taylor@example.com": True}
    (path,) = glob.glob(os.path.join(ansible.workdir, "audit", "offboard-*.json"))
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle)["summary"] == {"disabled": 3, "already absent": 1}


def test_bad_input_is_rejected_before_anything_runs(ansible, serve):
    simulator, env = atlassian(serve)
    cases = [
        ({"offboard_users": [{"email": "dana.lee@example.com", "atlasian_user_name": "typo"}]}, "atlasian_user_name"),
        ({"offboard_users": [{"name": "No Identifier"}]}, "one of the following is required"),
        ({"offboard_state": "deleted"}, "offboard_state"),
        ({"offboard_providers": ["okta"]}, "offboard_providers"),
    ]
    for extra, message in cases:
        result = offboard(ansible, env, **extra)
        assert result.returncode != 0
        assert message in result.output, (extra, result.output[-2000:])
    assert simulator.requests() == []
    assert reports(ansible.workdir) == {}


def test_no_configured_provider_is_a_clear_error(ansible):
    result = offboard(ansible, {})
    assert result.returncode != 0
    assert "No provider is configured" in result.output
