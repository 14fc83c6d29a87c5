# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""alibaba_cloudsso_user and alibaba_cloudsso_user_info, run by ansible-playbook against the simulator."""

from __future__ import annotations

import collections
import json
import os
import re

import pytest

from simulators.alibaba import AlibabaCloudSsoSimulator

from .conftest import ROOT

DIRECTORY = "d-00test0directory1"
KEY_ID = "LTAI5tTestKey000000001"
SECRET = "test-secret-0123456789abcdef"
STS_KEY_ID = "STS.NTestStsKey00000001"
STS_SECRET = "test-sts-secret-0123456789"
TOKEN = "CAIS-test-token-0123456789"
MODULE = "identity.lifecycle.alibaba_cloudsso_user"
INFO = "identity.lifecycle.alibaba_cloudsso_user_info"
READONLY_111 = ("removed access assignment ReadOnly on RD-Account 111, de-provisioning ReadOnly from the account if "
                "no other assignment of it is left there")
CHANGING = ("DeleteUser", "UpdateUserStatus", "DeleteMFADeviceForUser", "RemoveUserFromGroup", "DeleteAccessAssignment")

PEOPLE = [
    {"UserId": "u-00dana", "UserName": "dana.lee@example.com", "mfa_devices": [{"DeviceId": "mfa-00dana"}],
     "groups": ["engineering"], "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "111"}]},
    {"UserId": "u-00omar", "UserName": "omar.haddad@example.com", "groups": ["finance"]},
    {"UserId": "u-00mei", "UserName": "mei.chen@example.com"},
    {"UserId": "u-00sam", "UserName": "sam.taylor@example.com", "mfa_devices": [{"DeviceId": "mfa-00sam"}]},
    {"UserId": "u-00ivy", "UserName": "ivy.novak@example.com", "groups": ["finance"]},
    {"UserId": "u-00lee", "UserName": "lee.park@example.com", "ProvisionType": "Synchronized", "groups": ["engineering"]},
    {"UserId": "u-00rita", "UserName": "rita.ortiz@example.com",
     "access_assignments": [{"access_configuration": "Admin", "target_id": "222",
                             "fail_delete": "the access configuration is being provisioned"}]},
    {"UserId": "u-00theo", "UserName": "theo.brandt@example.com", "stale_groups": ["finance"]},
]


def simulator(users=None, **settings):
    settings.setdefault("task_delay", 0.1)
    settings.setdefault("conflict_lag", 0.3)
    return AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET},
                        {"access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET, "security_token": TOKEN}],
        "directories": [{
            "DirectoryId": DIRECTORY, "scim_synchronization": "Enabled",
            "access_configurations": [{"AccessConfigurationId": "ac-00readonly", "AccessConfigurationName": "ReadOnly"},
                                      {"AccessConfigurationId": "ac-00admin", "AccessConfigurationName": "Admin"}],
            "groups": [{"GroupId": "g-00eng", "GroupName": "engineering",
                        "access_assignments": [{"access_configuration": "Admin", "target_id": "111"}]},
                       {"GroupId": "g-00fin", "GroupName": "finance"}],
            "users": PEOPLE if users is None else users,
        }],
    }, **settings)


def start(serve, users=None, **settings):
    sim = simulator(users, **settings)
    return sim, serve(sim).url


def defaults(url, **extra):
    options = {"endpoint": url, "directory_id": DIRECTORY, "access_key_id": KEY_ID, "access_key_secret": SECRET}
    options.update(extra)
    return {"group/identity.lifecycle.alibaba": options}


def changing_calls(sim):
    return [entry for entry in sim.requests() if entry["action"] in CHANGING]


def names(sim):
    return sorted(user["UserName"] for user in sim.directory_state(DIRECTORY)["users"])


def by_name(result):
    return dict((user["user_name"], user) for user in result["users"])


def test_check_mode_rehearses_without_any_change(ansible, serve):
    sim, url = start(serve)
    result = ansible.tasks([
        {"name": "rehearse force", MODULE: {"user_name": ["dana.lee@example.com", "omar.haddad@example.com",
                                                          "mei.chen@example.com", "lee.park@example.com"],
                                            "state": "absent", "force": True}, "ignore_errors": True},
        {"name": "rehearse without force", MODULE: {"user_name": ["dana.lee@example.com", "mei.chen@example.com"],
                                                    "state": "absent"}, "ignore_errors": True},
        {"name": "rehearse disable", MODULE: {"user_id": "u-00sam", "state": "disabled"}},
    ], module_defaults=defaults(url), check=True, diff=True)
    assert result.returncode == 0, result.output
    assert changing_calls(sim) == []

    forced = by_name(result.task("rehearse force"))
    assert forced["dana.lee@example.com"]["actions"] == [
        "removed MFA device mfa-00dana", "removed from group g-00eng (engineering)", READONLY_111, "deleted"]
    assert forced["dana.lee@example.com"]["msg"] == "would be deleted"
    assert forced["omar.haddad@example.com"]["actions"] == ["removed from group g-00fin (finance)", "deleted"]
    assert forced["mei.chen@example.com"]["actions"] == ["deleted"]
    assert forced["lee.park@example.com"]["failed"] and "SCIM" in forced["lee.park@example.com"]["msg"]
    assert [entry["after"]["state"] for entry in result.task("rehearse force")["diff"]] == ["absent"] * 3

    plain = by_name(result.task("rehearse without force"))
    assert plain["dana.lee@example.com"]["failed"]
    assert "would fail" in plain["dana.lee@example.com"]["msg"] and "force: true" in plain["dana.lee@example.com"]["msg"]
    assert "1 MFA device (mfa-00dana)" in plain["dana.lee@example.com"]["msg"]
    assert plain["mei.chen@example.com"]["changed"] is True

    disable = result.task("rehearse disable")
    assert disable["changed"] is True and disable["users"][0]["actions"] == ["disabled"]
    assert disable["diff"][0]["before"]["state"] == "enabled" and disable["diff"][0]["after"]["state"] == "disabled"
    assert sim.find_user("sam.taylor@example.com")["Status"] == "Enabled"


def test_forced_offboarding_then_idempotent(ansible, serve):
    # A conflict lag longer than the wait for the de-provisioning, so that DeleteUser meets it.
    sim, url = start(serve, conflict_lag=1.5)
    leavers = ["dana.lee@example.com", "omar.haddad@example.com", "mei.chen@example.com", "lee.park@example.com",
               "rita.ortiz@example.com", "theo.brandt@example.com"]
    offboard = {"name": "offboard", MODULE: {"user_name": leavers, "state": "absent", "force": True}, "ignore_errors": True}
    result = ansible.tasks([
        offboard,
        {"name": "disable sam", MODULE: {"user_id": "u-00sam", "state": "disabled"}},
        {"name": "disable sam again", MODULE: {"user_id": "u-00sam", "state": "disabled"}},
    ], module_defaults=defaults(url), diff=True)
    assert result.returncode == 0, result.output
    task = result.task("offboard")
    users = by_name(task)
    assert task["failed"] and "2 of 6 users failed" in task["msg"]
    assert users["dana.lee@example.com"]["actions"] == [
        "removed MFA device mfa-00dana", "removed from group g-00eng (engineering)", READONLY_111, "deleted"]
    # ReadOnly's only assignment on 111 was Dana's (the group has Admin there): it left the account.
    assert users["dana.lee@example.com"]["leftover"] == [
        {"kind": "access configuration", "id": "ac-00readonly", "name": "ReadOnly", "where": "account 111",
         "done": "de-provisioned from the account", "action": READONLY_111}]
    assert sim.directory_state(DIRECTORY)["provisioned_access_configurations"]["111"] == ["ac-00admin"]
    # The listing still showed a membership that was gone: not this run's change, so not among its actions.
    assert users["theo.brandt@example.com"]["actions"] == ["deleted"]
    assert sim.answers("EntityNotExists.GroupMember")
    assert "SCIM" in users["lee.park@example.com"]["msg"] and users["lee.park@example.com"]["actions"] == []
    assert "the access configuration is being provisioned" in users["rita.ortiz@example.com"]["msg"]
    assert names(sim) == ["ivy.novak@example.com", "lee.park@example.com", "rita.ortiz@example.com",
                          "sam.taylor@example.com"]
    state = sim.directory_state(DIRECTORY)
    assert state["memberships"]["u-00lee"] == ["g-00eng"]  # nothing removed from the SCIM user

    # The assignment task was polled to success, and DeleteUser retried through the lag.
    lag = sim.answers("DeletionConflict.User.AccessAssigment")
    assert lag and all("UserId=u-00dana" in entry["path"] for entry in lag)
    assert sim.requests(path="Action=GetTaskStatus")
    assert not sim.requests(path="Action=DeleteUser&.*UserId=u-00rita")
    # deprovision_access defaults to true.
    assert {task["DeprovisionStrategy"] for task in sim.snapshot()["tasks"]} == {"DeprovisionForLastAccessAssignmentOnAccount"}

    # request_ids are exactly the RequestIds of the successful changing calls, per user and in total.
    answered = [entry["request_id"] for entry in changing_calls(sim) if entry["status"] == 200]
    # rita's DeleteAccessAssignment was accepted, then its task failed: its RequestId is in her error.
    reported = task["request_ids"] + result.task("disable sam")["request_ids"]
    reported.append(users["rita.ortiz@example.com"]["error"]["request_id"])
    assert sorted(reported) == sorted(answered) and len(answered) == 10
    assert len(users["dana.lee@example.com"]["request_ids"]) == 4
    assert result.task("disable sam")["changed"] is True
    assert result.task("disable sam again")["changed"] is False
    assert sim.find_user("sam.taylor@example.com")["Status"] == "Disabled"
    diff_users = [entry["before"]["user_name"] for entry in task["diff"]]
    assert sorted(diff_users) == ["dana.lee@example.com", "mei.chen@example.com", "omar.haddad@example.com",
                                  "theo.brandt@example.com"]
    assert SECRET not in result.output

    # SCIM synchronization switched off, the failed task now succeeds: the rest goes; then nothing changes.
    with sim.lock:
        sim.directories[DIRECTORY]["scim"] = "Disabled"
    again = ansible.tasks([offboard, dict(offboard, name="offboard again"),
                           {"name": "enable sam", MODULE: {"user_name": "sam.taylor@example.com", "state": "enabled"}}],
                          module_defaults=defaults(url))
    assert again.returncode == 0, again.output
    second = by_name(again.task("offboard"))
    assert second["lee.park@example.com"]["actions"] == ["removed from group g-00eng (engineering)", "deleted"]
    assert second["rita.ortiz@example.com"]["actions"] == [
        "removed access assignment Admin on RD-Account 222, de-provisioning Admin from the account if no other "
        "assignment of it is left there", "deleted"]
    assert [item["id"] for item in second["rita.ortiz@example.com"]["leftover"]] == ["ac-00admin"]
    assert second["dana.lee@example.com"]["msg"] == "already absent" and not second["dana.lee@example.com"]["changed"]
    third = again.task("offboard again")
    assert third["changed"] is False and "failed" not in third
    assert [user["msg"] for user in third["users"]] == ["already absent"] * 6
    assert again.task("enable sam")["changed"] is True
    assert names(sim) == ["ivy.novak@example.com", "sam.taylor@example.com"]


@pytest.mark.parametrize("statuses, codes", [
    ({}, {}),
    ({"EntityNotExists": 400, "DeletionConflict": 400},
     {"mfa": "DeletionConflict.User.MfaDevice", "group": "DeletionConflict.User.UserGroup"}),
], ids=["documented", "alternative"])
def test_without_force_a_conflict_names_force_and_keeps_the_providers_code(ansible, serve, statuses, codes):
    users = [{"UserId": "u-00mfa", "UserName": "mfa@example.com", "mfa_devices": [{"DeviceId": "mfa-00one"}]},
             {"UserId": "u-00group", "UserName": "group@example.com", "groups": ["finance"]},
             {"UserId": "u-00assigned", "UserName": "assigned@example.com",
              "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "333"}]},
             {"UserId": "u-00plain", "UserName": "plain@example.com"}]
    sim, url = start(serve, users, statuses=statuses, conflict_codes=codes)
    result = ansible.tasks([
        {"name": "delete", MODULE: {"user_name": [user["UserName"] for user in users], "state": "absent"},
         "ignore_errors": True},
        {"name": "delete missing", MODULE: {"user_id": ["u-00nobody", "u-00plain"], "state": "absent"}},
        {"name": "disable missing", MODULE: {"user_id": "u-00nobody", "state": "disabled"}},
        {"name": "enable missing", MODULE: {"user_id": "u-00nobody", "state": "enabled"}, "ignore_errors": True},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    outcome = by_name(result.task("delete"))
    conflict_status = statuses.get("DeletionConflict", 409)
    expected = {"mfa@example.com": codes.get("mfa", "DeletionConflict.User.MFADevice"),
                "group@example.com": codes.get("group", "DeletionConflict.User.Group"),
                "assigned@example.com": "DeletionConflict.User.AccessAssigment"}
    for name, code in expected.items():
        error = outcome[name]["error"]
        assert (error["code"], error["status"]) == (code, conflict_status)
        assert error["request_id"] and "set force: true" in error["message"]
    assert "1 MFA device (mfa-00one)" in outcome["mfa@example.com"]["msg"]
    assert "1 group membership (g-00fin (finance))" in outcome["group@example.com"]["msg"]
    assert outcome["plain@example.com"]["actions"] == ["deleted"]
    # No retries of a conflict without force: one DeleteUser per user (four by name, then the two ids of
    # "delete missing", deleted without a GetUser first).
    assert len(sim.requests(path="Action=DeleteUser")) == 6
    assert sim.requests(path="Action=GetUser&.*UserId=u-00plain") == []
    missing = result.task("delete missing")
    assert missing["changed"] is False and [user["msg"] for user in missing["users"]] == ["already absent"] * 2
    assert result.task("disable missing")["changed"] is False
    assert "does not exist cannot be enabled" in result.task("enable missing")["msg"]


def test_100_user_forced_batch_stays_within_the_simulators_throttle(ansible, serve):
    """Default rate_limit (90/s, bursts of `parallelism` 8) against the simulator's default throttle
    (100/s per AccessKey): no request may be throttled at all, so the assertion is that none was."""
    users = []
    for number in range(100):
        user = {"UserId": "u-00batch%03d" % number, "UserName": "leaver%03d@example.com" % number}
        kind = number % 4
        if kind == 1:
            user["mfa_devices"] = [{"DeviceId": "mfa-00batch%03d" % number}]
        elif kind == 2:
            user["groups"] = ["engineering"]
        elif kind == 3:
            user["access_assignments"] = [{"access_configuration": "ReadOnly", "target_id": str(100000 + number)}]
        users.append(user)
    sim, url = start(serve, users, task_delay=0.1, conflict_lag=0.2)
    assert sim.settings["throttle_rate"] == 100.0
    result = ansible.tasks([{"name": "offboard 100", MODULE: {"user_name": [user["UserName"] for user in users],
                                                              "state": "absent", "force": True}}],
                           module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    task = result.task("offboard 100")
    assert [user["msg"] for user in task["users"]] == ["deleted"] * 100
    assert names(sim) == []
    assert sim.answers("Throttling.User") == []
    assert "warnings" not in task or not any("retried" in warning for warning in task["warnings"])
    per_second = collections.Counter(int(entry["time"]) for entry in sim.requests())
    assert max(per_second.values()) <= 100
    assert len(task["request_ids"]) == 100 + 75  # one DeleteUser each, one removal for three in four


def test_throttling_and_server_faults_are_retried(ansible, serve):
    users = [{"UserId": "u-00t%02d" % number, "UserName": "t%02d@example.com" % number} for number in range(5)]
    users.append({"UserId": "u-00tassigned", "UserName": "tassigned@example.com",
                  "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "444"}]})
    sim, url = start(serve, users, throttle_rate=8)
    sim.fail("DeleteUser", "ServiceUnavailable", times=1)
    sim.fail("DeleteAccessAssignment", "OperationConflict.Task", times=1)
    sim.fail("GetTaskStatus", "Throttling.Api", status=503, headers={"x-acs-retry-after": "50"}, times=1)
    result = ansible.tasks([{"name": "offboard", MODULE: {
        "user_id": [user["UserId"] for user in users], "state": "absent", "force": True,
        "rate_limit": 100, "retries": 10}}], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    task = result.task("offboard")
    assert [user["msg"] for user in task["users"]] == ["deleted"] * 6
    assert len(sim.answers("Throttling.User")) > 0
    assert any("were retried" in warning for warning in task.get("warnings", []))
    assert names(sim) == []


@pytest.mark.parametrize("statuses", [{}, {"InvalidAccessKeyId.NotFound": 400, "SignatureDoesNotMatch": 403}],
                         ids=["gateway-list", "product-tables"])
def test_credential_errors_are_clear_and_never_show_a_secret(ansible, serve, statuses):
    sim, url = start(serve, statuses=statuses)
    wrong_secret = "wrong-secret-WRONG-0001"
    wrong_token = "CAIS-wrong-token-WRONG-0001"
    base = {"endpoint": url, "directory_id": DIRECTORY}
    result = ansible.tasks([
        {"name": "wrong secret", MODULE: dict(base, access_key_id=KEY_ID, access_key_secret=wrong_secret,
                                              user_id="u-00mei", state="absent"), "ignore_errors": True},
        {"name": "unknown key", INFO: dict(base, access_key_id="LTAI5tUnknownKey0001", access_key_secret=SECRET),
         "ignore_errors": True},
        {"name": "sts without token", INFO: dict(base, access_key_id=STS_KEY_ID, access_key_secret=STS_SECRET),
         "ignore_errors": True},
        {"name": "sts wrong token", INFO: dict(base, access_key_id=STS_KEY_ID, access_key_secret=STS_SECRET,
                                               security_token=wrong_token), "ignore_errors": True},
        {"name": "sts", MODULE: dict(base, access_key_id=STS_KEY_ID, access_key_secret=STS_SECRET,
                                     security_token=TOKEN, user_id="u-00mei", state="absent")},
    ], callback="default", verbosity=4)
    assert result.returncode == 0, result.output
    output = result.output
    for secret in (SECRET, STS_SECRET, TOKEN, wrong_secret, wrong_token):
        assert secret not in output
    assert "ACS3-HMAC-SHA256 Credential" not in output
    assert "(SignatureDoesNotMatch)" in output and "check access_key_secret" in output
    assert "(InvalidAccessKeyId.NotFound)" in output and "check access_key_id" in output
    assert "(MissingParameter)" in output and "needs its security_token" in output
    assert "(InvalidSecurityToken.MismatchWithAccessKey)" in output
    assert "answered HTTP %d" % statuses.get("SignatureDoesNotMatch", 400) in output
    assert [entry["action"] for entry in changing_calls(sim)] == ["DeleteUser"]
    assert changing_calls(sim)[0]["access_key_id"] == STS_KEY_ID
    assert sim.find_user("mei.chen@example.com") is None


def test_environment_variables_both_families_and_precedence(ansible, serve):
    sim, url = start(serve)
    modern = {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": url, "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": DIRECTORY,
              "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    legacy = {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": url, "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": DIRECTORY,
              "ALICLOUD_ACCESS_KEY": STS_KEY_ID, "ALICLOUD_SECRET_KEY": STS_SECRET, "ALICLOUD_SECURITY_TOKEN": TOKEN}
    # (Not ALICLOUD_SECURITY_TOKEN: with no ALIBABA_CLOUD_SECURITY_TOKEN it is rightly used, token fallback
    # being per option, and a token with a permanent key is refused.)
    wrong_legacy = {"ALICLOUD_ACCESS_KEY": "LTAI5tWrongKey0000001", "ALICLOUD_SECRET_KEY": "wrong-secret-0001"}
    # Region only matters without an endpoint: a closed loopback proxy stops the request, and the
    # error names the regional host the module chose. No traffic leaves the machine.
    nowhere = {"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": "",
               "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": DIRECTORY, "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
               "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    lookup = {"user_id": "u-00mei"}
    result = ansible.tasks([
        {"name": "modern names", INFO: lookup, "environment": modern},
        {"name": "legacy names with STS", INFO: lookup, "environment": legacy},
        {"name": "modern names win", INFO: lookup, "environment": dict(modern, **wrong_legacy)},
        {"name": "modern STS token", INFO: lookup, "environment": dict(
            modern, ALIBABA_CLOUD_ACCESS_KEY_ID=STS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=STS_SECRET,
            ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN, ALICLOUD_SECURITY_TOKEN="CAIS-wrong-0001")},
        {"name": "task options win", INFO: dict(lookup, access_key_id=KEY_ID, access_key_secret=SECRET),
         "environment": dict(modern, ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tWrongKey0000001",
                             ALIBABA_CLOUD_ACCESS_KEY_SECRET="wrong-secret-0001")},
        {"name": "modern region", INFO: dict(lookup, retries=0, timeout=5), "ignore_errors": True,
         "environment": dict(nowhere, ALIBABA_CLOUD_REGION_ID="ap-southeast-1", ALICLOUD_REGION="eu-central-1")},
        {"name": "legacy region", INFO: dict(lookup, retries=0, timeout=5), "ignore_errors": True,
         "environment": dict(nowhere, ALICLOUD_REGION="eu-central-1")},
    ])
    assert result.returncode == 0, result.output
    for name in ("modern names", "legacy names with STS", "modern names win", "modern STS token", "task options win"):
        assert [user["UserName"] for user in result.task(name)["users"]] == ["mei.chen@example.com"], name
    assert "https://cloudsso.ap-southeast-1.aliyuncs.com/?Action=GetDirectory" in result.task("modern region")["msg"]
    assert "https://cloudsso.eu-central-1.aliyuncs.com/?Action=GetDirectory" in result.task("legacy region")["msg"]
    keys = [entry["access_key_id"] for entry in sim.requests(path="Action=GetDirectory")]
    assert keys == [KEY_ID, STS_KEY_ID, KEY_ID, STS_KEY_ID, KEY_ID]
    assert sim.answers("InvalidAccessKeyId.NotFound") == [] and sim.answers("SignatureDoesNotMatch") == []


def test_bad_input_fails_before_any_request_and_a_wrong_directory_before_any_change(ansible, serve):
    sim, url = start(serve)
    result = ansible.tasks([
        {"name": "hostile name", MODULE: {"user_name": ["x' or UserName sw '"], "state": "absent"}, "ignore_errors": True},
        {"name": "hostile id", MODULE: {"user_id": ["../u-00mei"], "state": "absent"}, "ignore_errors": True},
        {"name": "bad endpoint", INFO: {"endpoint": url + "/cloudsso"}, "ignore_errors": True},
        {"name": "bad directory", INFO: {"directory_id": "d-00x&UserId=u-00mei"}, "ignore_errors": True},
        {"name": "bad region", INFO: {"endpoint": None, "region": "cn-shanghai.evil.example/x"}, "ignore_errors": True},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    assert result.task("hostile name")["msg"].startswith("user_name ")
    assert result.task("hostile id")["msg"].startswith("user_id ")
    assert result.task("bad endpoint")["msg"].startswith("endpoint ")
    assert result.task("bad directory")["msg"].startswith("directory_id ")
    assert result.task("bad region")["msg"].startswith("region ")
    assert sim.requests() == []

    wrong = ansible.tasks([{"name": "wrong directory", MODULE: {"user_name": "mei.chen@example.com", "state": "absent"},
                            "ignore_errors": True}], module_defaults=defaults(url, directory_id="d-00nowhere"))
    task = wrong.task("wrong directory")
    assert task["failed"] and "directory 'd-00nowhere' does not exist" in task["msg"]
    assert task["error"]["code"] == "EntityNotExists.Directory"
    assert [entry["action"] for entry in sim.requests()] == ["GetDirectory"]


def test_info_by_id_by_name_all_pages_and_dependencies(ansible, serve):
    many = [{"UserName": "user%03d@example.com" % number} for number in range(150)]
    sim, url = start(serve, PEOPLE + many)
    result = ansible.tasks([
        {"name": "by id", INFO: {"user_id": ["u-00dana", "u-00nobody", "u-00dana"]}},
        {"name": "by name", INFO: {"user_name": ["dana.lee@example.com", "nobody@example.com"]}},
        {"name": "all", INFO: {}},
        {"name": "dependencies", INFO: {"user_name": ["dana.lee@example.com", "mei.chen@example.com"],
                                        "include_dependencies": True}, "check_mode": True},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    assert [user["UserId"] for user in result.task("by id")["users"]] == ["u-00dana"]
    assert [user["UserId"] for user in result.task("by name")["users"]] == ["u-00dana"]
    everyone = result.task("all")["users"]
    assert len(everyone) == len({user["UserId"] for user in everyone}) == 158
    listing = [entry for entry in sim.requests(path="Action=ListUsers") if "Filter=" not in entry["path"]]
    assert len(listing) == 2 and "NextToken=" in listing[1]["path"]
    dana, mei = result.task("dependencies")["users"]
    assert [device["DeviceId"] for device in dana["MFADevices"]] == ["mfa-00dana"]
    assert [group["GroupName"] for group in dana["JoinedGroups"]] == ["engineering"]
    # Only the assignment made to the user; the group's own assignment is not hers to remove.
    assert [(one["AccessConfigurationName"], one["PrincipalType"]) for one in dana["AccessAssignments"]] == [("ReadOnly", "User")]
    assert (mei["MFADevices"], mei["JoinedGroups"], mei["AccessAssignments"]) == ([], [], [])
    assert changing_calls(sim) == []
    assert "MFADevices" not in result.task("by id")["users"][0]


def test_names_are_matched_exactly(ansible, serve):
    users = [{"UserId": "u-00alex", "UserName": "Alex@example.com"},
             {"UserId": "u-00alexa", "UserName": "alexa@example.com"},
             {"UserId": "u-00twin1", "UserName": "twin@example.com"},
             {"UserId": "u-00twin2", "UserName": "twin@example.com"}]
    # Quotes are refused and values compared without case: the module must still find exactly one user.
    sim, url = start(serve, users, filter_quotes="reject", filter_case_insensitive=True)
    result = ansible.tasks([
        {"name": "case differs", MODULE: {"user_name": ["alex@example.com"], "state": "absent"}, "ignore_errors": True},
        {"name": "exact", MODULE: {"user_name": ["Alex@example.com"], "state": "disabled"}},
        {"name": "twins", MODULE: {"user_name": ["twin@example.com"], "state": "absent"}, "ignore_errors": True},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    assert "differs only in letter case" in result.task("case differs")["msg"]
    assert result.task("exact")["users"][0]["user_id"] == "u-00alex"
    assert "matches 2 users" in result.task("twins")["msg"]
    assert [entry["action"] for entry in changing_calls(sim)] == ["UpdateUserStatus"]
    assert sim.answers("InvalidParameter.Filter") == []
    filters = [entry["path"] for entry in sim.requests(path="Action=ListUsers")]
    assert all("Filter=UserName%20eq%20" in path for path in filters), filters
    assert json.dumps(result.task("exact")).count(SECRET) == 0


def test_the_documented_example_runs_against_the_demo_directory(ansible, serve):
    with open(os.path.join(ROOT, "docs", "providers", "alibaba.md"), encoding="utf-8") as handle:
        playbook = re.search(r"```yaml\n(---\n.*?)```", handle.read(), re.S).group(1)
    with open(os.path.join(ROOT, "simulators", "seeds", "alibaba-demo.json"), encoding="utf-8") as handle:
        sim = AlibabaCloudSsoSimulator(json.load(handle), task_delay=0.1, conflict_lag=0.2)
    env = sim.client_environment(serve(sim).url)
    rehearsal = ansible.run(playbook, env=env, check=True, diff=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert changing_calls(sim) == []
    result = ansible.run(playbook, env=env)
    assert result.returncode == 0, result.output
    dana = result.task("Remove the leavers (MFA devices, groups and direct assignments first)")["users"][0]
    assert dana["actions"][-1] == "deleted" and len(dana["actions"]) == 5
    assert [item["id"] for item in dana["leftover"]] == ["ac-00demoadmin0000001", "up-00demodanalee0001"]
    # The failed event, and the RAM users CloudSSO deletes in the background, for a person to confirm.
    assert [item["kind"] for item in dana["manual_follow_up"]] == ["failed RAM user provisioning event", "RAM user"]
    # Once CloudSSO's background clean-up has run, the RAM user is gone.
    sim.settle()
    assert sim.directory_state("d-00fc2p61xxxx")["ram_users"] == {}
    remaining = sorted(user["UserName"] for user in sim.directory_state("d-00fc2p61xxxx")["users"])
    assert remaining == ["ivy.novak@example.com", "lee.park@example.com", "sam.taylor@example.com"]


PASSKEY_USER = {"UserId": "u-00kim", "UserName": "kim.ito@example.com",
                "mfa_devices": [{"DeviceId": "mfa-00kimcross", "DeviceType": "CrossPlatformPasskey"},
                                {"DeviceId": "mfa-00kimplatform", "DeviceType": "PlatformPasskey"},
                                {"DeviceId": "mfa-00kimphone", "DeviceType": "TOTP"}]}


@pytest.mark.parametrize("required_for", [["CrossPlatformPasskey", "PlatformPasskey"], ["TOTP", "CrossPlatformPasskey",
                                                                                        "PlatformPasskey"]],
                         ids=["passkeys-need-the-type", "every-device-needs-the-type"])
def test_force_removes_passkey_devices_sending_each_devices_type(ansible, serve, required_for):
    sim, url = start(serve, [PASSKEY_USER, {"UserId": "u-00mei", "UserName": "mei.chen@example.com"}],
                     mfa_type_required_for=required_for)
    result = ansible.tasks([
        {"name": "dependencies", INFO: {"user_id": ["u-00kim"], "include_dependencies": True}},
        {"name": "rehearse", MODULE: {"user_id": ["u-00kim"], "state": "absent", "force": True}, "check_mode": True},
        {"name": "offboard", MODULE: {"user_id": ["u-00kim"], "state": "absent", "force": True}},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    listed = result.task("dependencies")["users"][0]["MFADevices"]
    assert [(one["DeviceId"], one["DeviceType"]) for one in listed] == [
        ("mfa-00kimcross", "CrossPlatformPasskey"), ("mfa-00kimplatform", "PlatformPasskey"), ("mfa-00kimphone", "TOTP")]
    user = result.task("offboard")["users"][0]
    assert user["msg"] == "deleted" and user["actions"] == [
        "removed MFA device mfa-00kimcross", "removed MFA device mfa-00kimplatform", "removed MFA device mfa-00kimphone",
        "deleted"]
    assert result.task("rehearse")["users"][0]["actions"] == user["actions"]
    deletes = [entry["path"] for entry in sim.requests(path="Action=DeleteMFADeviceForUser")]
    assert len(deletes) == 3 and sim.answers("MissingParameter") == [] and sim.answers("InvalidParameter.MfaType") == []
    for device, kind in (("mfa-00kimcross", "CrossPlatformPasskey"), ("mfa-00kimplatform", "PlatformPasskey"),
                         ("mfa-00kimphone", "TOTP")):
        assert any("MFADeviceId=%s&" % device in path and "MfaType=%s&" % kind in path for path in deletes), deletes
    assert names(sim) == ["mei.chen@example.com"]


def test_lost_answers_of_changes_are_confirmed_and_failed_reads_claim_no_change(ansible, serve):
    users = [{"UserId": "u-00mei", "UserName": "mei.chen@example.com"},
             {"UserId": "u-00sam", "UserName": "sam.taylor@example.com", "mfa_devices": [{"DeviceId": "mfa-00sam"}]},
             {"UserId": "u-00ivy", "UserName": "ivy.novak@example.com", "groups": ["finance"]}]
    sim, url = start(serve, users)
    # Carried out, then the answer is lost: a 502 for mei's DeleteUser, a dropped connection for
    # sam's MFA device. Every read of ivy's groups fails with 503.
    sim.add_fault(action="process_then_respond", path=r"Action=DeleteUser&.*UserId=u-00mei", status=502,
                  body={"Code": "BadGateway", "Message": "bad gateway"})
    sim.add_fault(action="process_then_drop", path=r"Action=DeleteMFADeviceForUser&")
    sim.add_fault(path=r"Action=ListJoinedGroupsForUser&.*UserId=u-00ivy", status=503, times=None,
                  body={"RequestId": "R-503", "Code": "ServiceUnavailable", "Message": "try later"})
    result = ansible.tasks([{"name": "offboard", MODULE: {
        "user_id": ["u-00mei", "u-00sam", "u-00ivy"], "state": "absent", "force": True, "retries": 1}}],
        module_defaults=defaults(url))
    assert result.returncode != 0
    mei, sam, ivy = result.task("offboard")["users"]
    assert mei["changed"] is True and mei["state"] == "absent"
    assert mei["msg"].startswith("deleted (confirmed after a retry")
    assert sam["changed"] is True and sam["actions"] == ["removed MFA device mfa-00sam", "deleted"]
    assert ivy["failed"] is True and ivy["changed"] is False
    assert "ServiceUnavailable" in ivy["msg"]
    # A read that failed changed nothing, and the message must not suggest that it may have.
    assert "may already be made" not in ivy["msg"] and "may have been carried out" not in ivy["msg"]
    assert names(sim) == ["ivy.novak@example.com"]
    assert sim.directory_state(DIRECTORY)["memberships"]["u-00ivy"] == ["g-00fin"]


def test_user_ids_and_names_are_checked_before_any_request(ansible, serve):
    sim, url = start(serve)
    longest = "u-" + "a" * 62
    result = ansible.tasks([
        {"name": "id too long", MODULE: {"user_id": ["u-00mei", longest + "a"], "state": "absent"}, "ignore_errors": True},
        {"name": "id not alphanumeric", MODULE: {"user_id": ["u-00m\u00e9i"], "state": "absent"}, "ignore_errors": True},
        {"name": "name with a space", MODULE: {"user_name": ["mei chen@example.com"], "state": "absent"},
         "ignore_errors": True},
        {"name": "info name too long", INFO: {"user_name": ["m" * 65]}, "ignore_errors": True},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    assert result.task("id too long")["msg"].startswith("user_id ")
    assert "at most 64 characters" in result.task("id too long")["msg"]
    assert result.task("id not alphanumeric")["msg"].startswith("user_id ")
    for name in ("name with a space", "info name too long"):
        assert result.task(name)["msg"].startswith("user_name "), result.task(name)["msg"]
    assert sim.requests() == []

    result = ansible.tasks([
        {"name": "longest id", MODULE: {"user_id": [longest], "state": "absent"}},
        {"name": "name with surrounding spaces", MODULE: {"user_name": ["  mei.chen@example.com "], "state": "absent"}},
    ], module_defaults=defaults(url))
    assert result.returncode == 0, result.output
    assert result.task("longest id")["users"][0]["msg"] == "already absent"
    assert result.task("name with surrounding spaces")["users"][0]["msg"] == "deleted"
    assert sim.find_user("mei.chen@example.com") is None
