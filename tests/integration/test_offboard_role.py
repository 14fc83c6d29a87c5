# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role and the identity.lifecycle.offboard playbook, against the simulators."""

from __future__ import annotations

import glob
import json
import os
import re
import stat

import pytest

from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

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
    assert stat.S_IMODE(os.stat(os.path.join(ansible.workdir, "offboard-reports")).st_mode) == 0o750
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
    # The play's own count of changed tasks: more than none when users were removed, none when nothing was left.
    assert real.parsed["stats"]["localhost"]["changed"] > 0
    assert again.parsed["stats"]["localhost"]["changed"] == 0
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
        # The role checks the leavers itself (argument validation would render their fields as templates).
        ({"offboard_users": [{"name": "No Identifier"}]},
         "offboard_users[0] (name 'No Identifier') has nothing to address the leaver by at atlassian"),
        ({"offboard_users": [{"email": ["dana.lee@example.com"]}]}, "offboard_users[0].email must be text, got a list"),
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


UIPATH_SECRET = "uipath-role-test-secret-4Hq9"


def uipath(serve):
    """A UiPath simulator with one leaver, and the environment that points the modules at it."""
    client_id = "3b0c6f1e-8a4d-4e2b-9c7f-5d1a2e3f4b60"
    simulator = UiPathIdentitySimulator({"acme": {
        "partition_global_id": "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13",
        "clients": {client_id: {"secret": UIPATH_SECRET, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
        "users": [{"id": "00000000-0000-4000-8000-000000000001", "userName": "dana.lee@example.com",
                   "email": "dana.lee@example.com", "isActive": True, "type": 0}]}})
    server = serve(simulator)
    return simulator, simulator.client_environment(server.url)


def test_a_leaver_without_an_identifier_fails_before_any_request(ansible, serve):
    simulator, env = atlassian(serve)
    uipath_simulator, uipath_env = uipath(serve)
    leavers = LEAVERS + [{"name": "Omar Two", "email": ""},
                         {"name": "Ivy Novak", "email": None, "uipath_user_name": "ivy.novak@example.com"}]
    result = offboard(ansible, dict(env, **uipath_env), offboard_users=leavers)
    assert result.returncode != 0
    msg = result.task("Stop before any request when a leaver or a provider cannot be handled")["msg"]
    assert "offboard_users[4] (name 'Omar Two') has nothing to address the leaver by at atlassian" in msg
    assert "offboard_users[4] (name 'Omar Two') has nothing to address the leaver by at uipath" in msg
    assert ("offboard_users[5] (name 'Ivy Novak', uipath_user_name 'ivy.novak@example.com') has nothing to address "
            "the leaver by at atlassian") in msg
    assert msg.count("offboard_users[") == 3
    assert simulator.requests() == [] and uipath_simulator.requests() == []
    assert reports(ansible.workdir) == {}


@pytest.mark.parametrize("case", ["key missing", "uipath organization only", "uipath without organization",
                                  "named but not configured"])
def test_a_half_configured_provider_fails_before_any_request(ansible, serve, case):
    simulator, env = atlassian(serve)
    extra = {}
    if case == "key missing":
        del env["ATLASSIAN_SCIM_API_KEY"]
        expected = ["atlassian is only partly configured", "offboard_atlassian.api_key", "ATLASSIAN_SCIM_API_KEY"]
    elif case == "uipath organization only":
        env["UIPATH_ORGANIZATION"] = "acme"
        expected = ["uipath is only partly configured", "offboard_uipath.client_secret", "UIPATH_ACCESS_TOKEN"]
    elif case == "uipath without organization":
        extra["offboard_uipath"] = {"client_id": "app", "client_secret": UIPATH_SECRET}
        expected = ["uipath is only partly configured", "offboard_uipath.organization", "UIPATH_IDENTITY_URL"]
    else:
        extra["offboard_providers"] = ["atlassian", "alibaba"]
        expected = ["offboard_providers names alibaba, but it is not configured", "offboard_alibaba.access_key_secret",
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"]
    result = offboard(ansible, env, **extra)
    assert result.returncode != 0
    msg = result.task("Stop before any request when a leaver or a provider cannot be handled")["msg"]
    for text in expected:
        assert text in msg, (text, msg)
    assert KEY not in result.output and UIPATH_SECRET not in result.output
    assert simulator.requests() == []
    assert reports(ansible.workdir) == {}


def test_no_leavers_is_said_plainly(ansible, serve):
    simulator, env = atlassian(serve)
    result = offboard(ansible, env, offboard_users=[])
    assert result.returncode == 0, result.output
    assert simulator.requests() == []
    report, markdown = only_report(ansible.workdir)
    assert report["result"] == "no leavers given" and report["leavers"] == []
    assert "| Result | no leavers given |" in markdown and "every leaver was handled" not in markdown
    assert "no leavers given" in result.task("Summarise the run")["msg"][0]


def test_an_existing_report_directory_keeps_its_mode(ansible, serve):
    simulator, env = atlassian(serve)
    shared = os.path.join(ansible.workdir, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    for check in (True, False):
        result = offboard(ansible, env, check=check, offboard_report_dir=shared)
        assert result.returncode == 0, result.output
        assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    assert len(glob.glob(os.path.join(shared, "offboard-*.md"))) == 2
    assert names(simulator) == ["sam.taylor@example.com"]


def test_a_report_directory_that_cannot_be_written_fails_before_any_request(ansible, serve):
    simulator, env = atlassian(serve)
    blocker = os.path.join(ansible.workdir, "not-a-directory")
    with open(blocker, "w", encoding="utf-8") as handle:
        handle.write("x")
    result = offboard(ansible, env, offboard_report_dir=blocker)
    assert result.returncode != 0
    assert "is not a directory" in result.output
    assert simulator.requests() == []


def test_the_markdown_report_escapes_hostile_names(ansible, serve):
    simulator, env = atlassian(serve)
    leavers = [{"name": "# x\n| a | b |<img src=x onerror=y>", "email": "dana.lee@example.com"},
               {"name": "Omar [here](http://evil) `code`", "email": "omar.haddad@example.com"}]
    result = offboard(ansible, env, offboard_users=leavers)
    assert result.returncode == 0, result.output
    _report, markdown = only_report(ansible.workdir)
    lines = markdown.splitlines()
    assert not [line for line in lines if line.startswith(("# x", "| a |"))]
    assert "<img" not in markdown and not re.search(r"(?<!\\)[\]`]", markdown)
    assert "| Omar \\[here\\](http://evil) \\`code\\` (omar.haddad@example.com) | removed |" in lines
    assert "### \\# x\\\\n\\| a \\| b \\|&lt;img src=x onerror=y&gt; (dana.lee@example.com)" in lines
    assert names(simulator) == ["mei.chen@example.com", "sam.taylor@example.com"]


def test_a_deletion_whose_answer_was_lost_is_reported_as_removed_with_a_note(ansible, serve):
    simulator, env = atlassian(serve)
    # The gateway loses the answer of Omar's DELETE after the provider carried it out; the retry gets 404.
    simulator.add_fault(action="process_then_respond", method="DELETE", path="/Users/a-omar$", status=502)
    result = offboard(ansible, env)
    assert result.returncode == 0, result.output
    assert names(simulator) == ["sam.taylor@example.com"]
    report, markdown = only_report(ansible.workdir)
    assert report["summary"] == {"removed": 3, "already absent": 1}
    omar = report["leavers"][1]["results"]["atlassian"]
    assert omar["outcome"] == "removed" and omar["note"].startswith("deleted (confirmed after a retry")
    assert "  - note: deleted (confirmed after a retry" in markdown
