# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The CloudSSO sweep of alibaba_cloudsso_user with force: RAM user provisionings (each strategy), access
configurations de-provisioned or not, failed provisioning events, the sweep of an id already absent, check
mode and a second run; ansible-playbook against the simulator."""

from __future__ import annotations

from simulators.alibaba import AlibabaCloudSsoSimulator

DIRECTORY = "d-00test0sweep0001"
KEY_ID = "LTAI5tSweepTestKey0001"
SECRET = "sweep-test-secret-0123456789"
MODULE = "identity.lifecycle.alibaba_cloudsso_user"
INFO = "identity.lifecycle.alibaba_cloudsso_user_info"
DEPROVISION = "DeprovisionForLastAccessAssignmentOnAccount"

PEOPLE = [
    # ReadOnly on 111 is the account's only assignment of it; Admin on 222 is also the group's.
    {"UserId": "u-00dana", "UserName": "dana.lee@example.com",
     "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "111"},
                            {"access_configuration": "Admin", "target_id": "222"}],
     "ram_user_provisionings": [
         {"UserProvisioningId": "up-00dana111", "target_id": "111",
          "failed_events": [{"EventId": "upe-00dana111", "SourceType": "StartProvisioning", "ErrorCount": 3,
                             "ErrorInfo": "OperationConflict.UserProvisioning.Process.fail.ImsUserExists"}]},
         {"UserProvisioningId": "up-00dana222", "target_id": "222", "deletion_strategy": "Keep"}]},
    {"UserId": "u-00omar", "UserName": "omar.haddad@example.com",
     "ram_user_provisionings": [{"UserProvisioningId": "up-00omar333", "target_id": "333"}]},
    {"UserId": "u-00mei", "UserName": "mei.chen@example.com",
     "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "444"}]},
]


def start(serve, users=None, **settings):
    settings.setdefault("task_delay", 0.1)
    settings.setdefault("conflict_lag", 0.2)
    sim = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{
            "DirectoryId": DIRECTORY,
            "access_configurations": [{"AccessConfigurationId": "ac-00readonly", "AccessConfigurationName": "ReadOnly"},
                                      {"AccessConfigurationId": "ac-00admin", "AccessConfigurationName": "Admin"}],
            "groups": [{"GroupId": "g-00eng", "GroupName": "engineering",
                        "access_assignments": [{"access_configuration": "Admin", "target_id": "222"}],
                        "ram_user_provisionings": [{"UserProvisioningId": "up-00eng111", "target_id": "111",
                                                    "ram_users": ["eng.member"]}]}],
            "ram_users": {"111": ["break.glass"]},
            "users": PEOPLE if users is None else users,
            # Left behind by an earlier delete without force.
            "user_provisionings": [{"principal_id": "u-00gone", "principal_name": "gone@example.com",
                                    "UserProvisioningId": "up-00gone555", "target_id": "555"}],
        }],
    }, **settings)
    return sim, {"group/identity.lifecycle.alibaba": {"endpoint": serve(sim).url, "directory_id": DIRECTORY,
                                                      "access_key_id": KEY_ID, "access_key_secret": SECRET}}


def state(sim):
    return sim.directory_state(DIRECTORY)


def provisioning_ids(sim):
    return sorted(one["UserProvisioningId"] for one in state(sim)["user_provisionings"])


def calls(sim, action, principal=None):
    return sim.requests(path="Action=%s&%s" % (action, ".*PrincipalId=%s(&|$)" % principal if principal else ""))


def test_force_sweeps_provisionings_with_each_strategy_rehearsed_then_done_then_unchanged(ansible, serve):
    sim, defaults = start(serve)
    forced = {"user_id": ["u-00dana", "u-00gone"], "state": "absent", "force": True}
    keep = {"user_id": ["u-00omar"], "state": "absent", "force": True, "provisioned_ram_users": "keep"}
    no_deprovision = {"user_id": ["u-00mei"], "state": "absent", "force": True, "deprovision_access": False}

    rehearsal = ansible.tasks([{"name": "rehearse", MODULE: forced}, {"name": "rehearse keep", MODULE: keep}],
                              module_defaults=defaults, check=True, diff=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert [entry for entry in sim.requests() if entry["changing"]] == []
    dana, gone = rehearsal.task("rehearse")["users"]
    assert dana["actions"] == [
        "removed access assignment ReadOnly on RD-Account 111", "removed access assignment Admin on RD-Account 222",
        "removed RAM user provisioning up-00dana111 in account 111 with its RAM users",
        "removed RAM user provisioning up-00dana222 in account 222 with its RAM users", "deleted"]
    assert dana["leftover"] == [
        {"kind": "RAM user provisioning", "id": "up-00dana111", "name": None, "where": "account 111",
         "done": "deleted with its RAM users"},
        {"kind": "RAM user provisioning", "id": "up-00dana222", "name": None, "where": "account 222",
         "done": "deleted with its RAM users"}]
    (event,) = dana["manual_follow_up"]
    assert event["kind"] == "failed RAM user provisioning event" and event["where"] == "account 111"
    for words in ("upe-00dana111", "StartProvisioning", "failed 3 times", "ImsUserExists", "RetryUserProvisioningEvent",
                  "DeleteUserProvisioningEvent"):
        assert words in event["detail"], words
    assert (gone["found"], gone["changed"], gone["state"]) == (False, True, "absent")
    assert gone["msg"] == "already absent; 1 RAM user provisioning(s) would be removed"
    assert [item["id"] for item in gone["leftover"]] == ["up-00gone555"]
    (omar,) = rehearsal.task("rehearse keep")["users"]
    assert omar["actions"] == ["removed RAM user provisioning up-00omar333 in account 333, keeping its RAM users", "deleted"]
    assert omar["leftover"][0]["done"] == "deleted, its RAM users kept"
    assert [item["kind"] for item in omar["manual_follow_up"]] == ["RAM user"]
    # The diff shows the users that exist; the sweep of an absent id has nothing to show.
    assert [entry["before"]["user_id"] for entry in rehearsal.task("rehearse")["diff"]] == ["u-00dana"]

    result = ansible.tasks([
        {"name": "info", INFO: {"user_id": ["u-00dana", "u-00mei"], "include_dependencies": True}},
        {"name": "absent without force", MODULE: {"user_id": ["u-00gone", "u-00nobody"], "state": "absent"}},
        {"name": "offboard", MODULE: forced},
        {"name": "offboard keep", MODULE: keep},
        {"name": "offboard without deprovision", MODULE: no_deprovision},
        {"name": "offboard again", MODULE: forced},
        {"name": "offboard keep again", MODULE: keep},
    ], module_defaults=defaults)
    assert result.returncode == 0, result.output

    info_dana, info_mei = result.task("info")["users"]
    assert [one["UserProvisioningId"] for one in info_dana["UserProvisionings"]] == ["up-00dana111", "up-00dana222"]
    assert info_mei["UserProvisionings"] == []

    # Without force an absent user costs one DeleteUser and nothing else: no read, no sweep.
    assert [user["msg"] for user in result.task("absent without force")["users"]] == ["already absent"] * 2
    assert calls(sim, "ListUserProvisionings", "u-00nobody") == []
    assert sim.requests(path="Action=GetUser&.*UserId=u-00nobody") == []
    assert len(calls(sim, "ListUserProvisionings", "u-00gone")) == 3  # rehearsal, offboard, offboard again

    task = result.task("offboard")
    dana, gone = task["users"]
    assert dana["msg"] == "deleted" and dana["actions"] == rehearsal.task("rehearse")["users"][0]["actions"]
    assert dana["leftover"] == rehearsal.task("rehearse")["users"][0]["leftover"]
    assert dana["manual_follow_up"] == rehearsal.task("rehearse")["users"][0]["manual_follow_up"]
    assert (gone["found"], gone["changed"], gone["state"]) == (False, True, "absent")
    assert gone["msg"] == "already absent; 1 RAM user provisioning(s) removed" and len(gone["request_ids"]) == 1
    assert "1 RAM user provisioning(s) removed: 1" in task["msg"]
    (omar,) = result.task("offboard keep")["users"]
    assert omar["msg"] == "deleted"
    (kept,) = omar["manual_follow_up"]
    assert kept["where"] == "account 333" and "RAM users kept in account 333" in kept["detail"]
    assert "delete them in RAM" in kept["detail"]

    # Delete removed the RAM users CloudSSO made for the two users and the absent id; keep left omar's.
    # The group's provisioning, its RAM user and the account's own RAM user were not touched.
    assert provisioning_ids(sim) == ["up-00eng111"]
    ram_users = dict((account, sorted(names)) for account, names in state(sim)["ram_users"].items())
    assert ram_users == {"111": ["break.glass", "eng.member"], "333": ["omar.haddad@example.com"]}
    strategies = [entry["path"].split("DeletionStrategy=")[1].split("&")[0]
                  for entry in sim.requests(path="Action=DeleteUserProvisioning&")]
    assert sorted(strategies) == ["Delete", "Delete", "Delete", "Keep"]
    # ReadOnly left 111 with its last assignment; Admin stays on 222 for the group; mei's ReadOnly stays on 444.
    assert state(sim)["provisioned_access_configurations"] == {"222": ["ac-00admin"], "444": ["ac-00readonly"]}
    assert sorted(task["DeprovisionStrategy"] for task in sim.snapshot()["tasks"]) == [DEPROVISION, DEPROVISION, "None"]
    assert [user["UserName"] for user in state(sim)["users"]] == []

    # The changing calls' request ids are reported, each once.
    answered = sorted(entry["request_id"] for entry in sim.requests() if entry["changing"] and entry["status"] == 200)
    reported = sorted(rid for name in ("offboard", "offboard keep", "offboard without deprovision")
                      for rid in result.task(name)["request_ids"])
    assert reported == answered

    again = result.task("offboard again")
    assert again["changed"] is False and [user["msg"] for user in again["users"]] == ["already absent"] * 2
    assert [user["leftover"] + user["manual_follow_up"] for user in again["users"]] == [[], []]
    assert result.task("offboard keep again")["changed"] is False


def test_a_sweep_that_cannot_finish_fails_naming_what_is_left(ansible, serve):
    users = [
        {"UserId": "u-00list", "UserName": "list.fails@example.com", "mfa_devices": [{"DeviceId": "mfa-00list"}],
         "ram_user_provisionings": [{"UserProvisioningId": "up-00list777", "target_id": "777"}]},
        {"UserId": "u-00stuck", "UserName": "stuck@example.com",
         "ram_user_provisionings": [{"UserProvisioningId": "up-00stuck888", "target_id": "888"}]},
        {"UserId": "u-00plain", "UserName": "plain@example.com",
         "ram_user_provisionings": [{"UserProvisioningId": "up-00plain999", "target_id": "999"}]},
    ]
    # DeleteUser refuses a user with provisionings here (unconfirmed at Alibaba, so both ways are tested).
    sim, defaults = start(serve, users, provisioning_blocks_delete=True)
    sim.add_fault(path=r"Action=ListUserProvisionings&.*PrincipalId=u-00list(&|$)", status=503, times=None,
                  body={"RequestId": "R-503", "Code": "ServiceUnavailable", "Message": "try later"})
    sim.add_fault(path=r"Action=DeleteUserProvisioning&.*UserProvisioningId=up-00stuck888(&|$)", status=409,
                  body={"RequestId": "R-409", "Code": "OperationConflict.UserProvisioning", "Message": "busy"})
    result = ansible.tasks([
        {"name": "without force", MODULE: {"user_id": "u-00plain", "state": "absent"}, "ignore_errors": True},
        {"name": "with force", MODULE: {"user_id": ["u-00list", "u-00stuck", "u-00plain"], "state": "absent",
                                        "force": True, "retries": 0}, "ignore_errors": True},
    ], module_defaults=defaults)
    assert result.returncode == 0, result.output

    (plain,) = result.task("without force")["users"]
    assert plain["error"]["code"] == "DeletionConflict.User.UserProvisioning"
    assert "1 RAM user provisioning (up-00plain999 in account 999)" in plain["msg"] and "set force: true" in plain["msg"]

    listed, stuck, forced = result.task("with force")["users"]
    assert listed["failed"] and listed["actions"] == [] and listed["error"]["code"] == "ServiceUnavailable"
    assert "RAM user provisionings of user u-00list could not be listed" in listed["msg"]
    assert "nothing was removed" in listed["msg"]
    assert stuck["failed"] and stuck["actions"] == [] and stuck["error"]["code"] == "OperationConflict.UserProvisioning"
    assert "RAM user provisioning up-00stuck888 in account 888 is still present" in stuck["msg"]
    assert "user was not deleted" in stuck["msg"]
    assert forced["msg"] == "deleted" and forced["leftover"][0]["id"] == "up-00plain999"
    assert sorted(user["UserName"] for user in state(sim)["users"]) == ["list.fails@example.com", "stuck@example.com"]
    assert provisioning_ids(sim) == ["up-00eng111", "up-00gone555", "up-00list777", "up-00stuck888"]
    assert state(sim)["mfa_devices"] == {"u-00list": ["mfa-00list"]}
