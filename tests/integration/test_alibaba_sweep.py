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
DELETED_PENDING = "deleted; CloudSSO deletes its RAM users in the background (not confirmed by this run)"

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
    sim, defaults = start(serve, ram_user_clearing_delay=3600)
    forced = {"user_id": ["u-00dana", "u-00gone"], "state": "absent", "force": True}
    keep = {"user_id": ["u-00omar"], "state": "absent", "force": True, "provisioned_ram_users": "keep"}
    no_deprovision = {"user_id": ["u-00mei"], "state": "absent", "force": True, "deprovision_access": False}

    rehearsal = ansible.tasks([{"name": "rehearse", MODULE: forced}, {"name": "rehearse keep", MODULE: keep}],
                              module_defaults=defaults, check=True, diff=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert [entry for entry in sim.requests() if entry["changing"]] == []
    dana, gone = rehearsal.task("rehearse")["users"]
    assert dana["actions"] == [
        "removed access assignment ReadOnly on RD-Account 111, de-provisioning ReadOnly from the account if no other "
        "assignment of it is left there",
        "removed access assignment Admin on RD-Account 222, de-provisioning Admin from the account if no other "
        "assignment of it is left there",
        "removed RAM user provisioning up-00dana111 in account 111, deleting its RAM users",
        "removed RAM user provisioning up-00dana222 in account 222, deleting its RAM users", "deleted"]
    # ReadOnly's only assignment on 111 is Dana's, so it would leave the account; the group keeps Admin on 222.
    # Each leftover item names its entry in the actions (what an approval binds).
    assert dana["leftover"] == [
        {"kind": "access configuration", "id": "ac-00readonly", "name": "ReadOnly", "where": "account 111",
         "done": "de-provisioned from the account", "action": dana["actions"][0]},
        {"kind": "RAM user provisioning", "id": "up-00dana111", "name": None, "where": "account 111",
         "done": DELETED_PENDING, "action": dana["actions"][2]},
        {"kind": "RAM user provisioning", "id": "up-00dana222", "name": None, "where": "account 222",
         "done": DELETED_PENDING, "action": dana["actions"][3]}]
    event, pending, _pending = dana["manual_follow_up"]
    assert event["kind"] == "failed RAM user provisioning event" and event["where"] == "account 111"
    assert pending["kind"] == "RAM user" and "UserProvisioningDeletionClearing" in pending["detail"]
    for words in ("upe-00dana111", "StartProvisioning", "failed 3 times", "ImsUserExists", "RetryUserProvisioningEvent",
                  "DeleteUserProvisioningEvent"):
        assert words in event["detail"], words
    assert (gone["found"], gone["changed"], gone["state"]) == (False, True, "absent")
    assert gone["msg"] == "already absent; 1 RAM user provisioning(s) would be removed"
    assert [item["id"] for item in gone["leftover"]] == ["up-00gone555"]
    (omar,) = rehearsal.task("rehearse keep")["users"]
    assert omar["actions"] == ["removed RAM user provisioning up-00omar333 in account 333, keeping its RAM users", "deleted"]
    assert omar["leftover"][0]["done"] == "deleted, its RAM users kept"
    (mei_rehearsed,) = ansible.tasks([{"name": "mei", MODULE: no_deprovision}], module_defaults=defaults,
                                     check=True).task("mei")["users"]
    assert mei_rehearsed["actions"] == ["removed access assignment ReadOnly on RD-Account 444, leaving ReadOnly "
                                        "provisioned on the account", "deleted"]
    assert mei_rehearsed["leftover"] == []
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

    # Delete removed the provisionings of the two users and the absent id, and their RAM users go in the
    # background (pending, as the report says); keep left omar's. The group's provisioning, its RAM user and the
    # account's own RAM user were not touched.
    assert provisioning_ids(sim) == ["up-00eng111"]
    assert "555" in state(sim)["ram_users"] and "dana.lee@example.com" in state(sim)["ram_users"]["222"]
    sim.settle()
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


def test_what_was_already_gone_is_never_reported_as_done_by_this_run(ansible, serve):
    """Another administrator removes things between the reads and this run's changes: each step that then answers
    "not found" is not this run's change (no action, no leftover item), and the report matches the state."""
    users = [
        {"UserId": "u-00ana", "UserName": "ana", "mfa_devices": [{"DeviceId": "mfa-00ana1"}, {"DeviceId": "mfa-00ana2"}],
         "groups": ["engineering"]},
        {"UserId": "u-00ben", "UserName": "ben",
         "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "666"}],
         "ram_user_provisionings": [{"UserProvisioningId": "up-00ben666", "target_id": "666", "ram_users": ["ben"]},
                                    {"UserProvisioningId": "up-00ben777", "target_id": "777", "ram_users": ["ben.b"]}]},
        {"UserId": "u-00cal", "UserName": "cal", "mfa_devices": [{"DeviceId": "mfa-00cal"}]},
    ]
    # The RAM users of a provisioning deleted with Delete go in the background, later than this test looks.
    sim, defaults = start(serve, users, ram_user_clearing_delay=3600)
    other = [
        sim.meanwhile(r"Action=DeleteMFADeviceForUser&.*MFADeviceId=mfa-00ana1(&|$)", "DeleteMFADeviceForUser",
                      UserId="u-00ana", MFADeviceId="mfa-00ana1"),
        sim.meanwhile(r"Action=RemoveUserFromGroup&.*UserId=u-00ana(&|$)", "RemoveUserFromGroup", UserId="u-00ana",
                      GroupId="g-00eng"),
        sim.meanwhile(r"Action=DeleteAccessAssignment&.*PrincipalId=u-00ben(&|$)", "DeleteAccessAssignment",
                      AccessConfigurationId="ac-00readonly", TargetType="RD-Account", TargetId="666",
                      PrincipalType="User", PrincipalId="u-00ben", DeprovisionStrategy="None"),
        sim.meanwhile(r"Action=DeleteUserProvisioning&.*UserProvisioningId=up-00ben666(&|$)", "DeleteUserProvisioning",
                      UserProvisioningId="up-00ben666", DeletionStrategy="Keep"),
        sim.meanwhile(r"Action=DeleteUser&.*UserId=u-00cal(&|$)", "DeleteUser", UserId="u-00cal"),
        sim.meanwhile(r"Action=DeleteUserProvisioning&.*UserProvisioningId=up-00gone555(&|$)", "DeleteUserProvisioning",
                      UserProvisioningId="up-00gone555", DeletionStrategy="Keep"),
    ]
    result = ansible.tasks([{"name": "offboard", MODULE: {
        "user_id": ["u-00ana", "u-00ben", "u-00cal", "u-00gone"], "state": "absent", "force": True}}],
        module_defaults=defaults)
    assert result.returncode == 0, result.output
    # Each of the other administrator's changes was made, once.
    assert [[sorted(answer) for answer in record["answers"]] for record in other] == [[[]]] * 2 + [[["Task"]]] + [[[]]] * 3
    ana, ben, cal, gone = result.task("offboard")["users"]

    # Only what this run removed is in its actions; ana's first device and her group were gone already.
    assert ana["actions"] == ["removed MFA device mfa-00ana2", "deleted"] and ana["msg"] == "deleted"
    # Ben's assignment went by another administrator's task: not this run's, and not de-provisioned by it.
    assert ben["actions"] == ["removed RAM user provisioning up-00ben777 in account 777, deleting its RAM users",
                              "deleted"]
    assert ben["leftover"] == [{"kind": "RAM user provisioning", "id": "up-00ben777", "name": None,
                                "where": "account 777", "done": DELETED_PENDING, "action": ben["actions"][0]}]
    assert [item["where"] for item in ben["manual_follow_up"]] == ["account 666", "account 777"]
    assert "up-00ben666" in ben["manual_follow_up"][0]["detail"] and "already gone" in ben["manual_follow_up"][0]["detail"]
    # Cal was deleted by someone else once this run had removed his device: absent, changed, but not deleted here.
    assert (cal["found"], cal["changed"], cal["state"]) == (True, True, "absent")
    assert cal["actions"] == ["removed MFA device mfa-00cal"]
    assert cal["msg"].startswith("already absent") and "not deleted by this task" in cal["msg"]
    # The provisioning the absent id left was deleted (keeping its RAM users) by someone else: nothing done here.
    assert (gone["found"], gone["changed"], gone["actions"], gone["leftover"]) == (False, False, [], [])
    assert gone["msg"] == "already absent"
    assert [item["kind"] for item in gone["manual_follow_up"]] == ["RAM user"]

    # The report against the directory: the RAM users of the provisionings deleted by someone else with Keep
    # stay; this run's deletion of ben.b's provisioning is pending; ReadOnly stays on 666 (deleted with None).
    state_now = state(sim)
    assert state_now["ram_users"]["666"] == ["ben"] and state_now["ram_users"]["555"] == ["gone@example.com"]
    assert state_now["ram_users"]["777"] == ["ben.b"]
    assert "666" in state_now["provisioned_access_configurations"]
    assert [user["UserName"] for user in state_now["users"]] == []
    answered = sorted(entry["request_id"] for entry in sim.requests() if entry["changing"] and entry["status"] == 200)
    assert sorted(rid for user in (ana, ben, cal, gone) for rid in user.get("request_ids", [])) == answered
    sim.settle()
    assert "777" not in state(sim)["ram_users"]


def test_a_step_whose_own_earlier_attempt_lost_its_answer_is_this_runs_change(ansible, serve):
    users = [{"UserId": "u-00eve", "UserName": "eve", "mfa_devices": [{"DeviceId": "mfa-00eve"}],
              "ram_user_provisionings": [{"UserProvisioningId": "up-00eve888", "target_id": "888"}]}]
    sim, defaults = start(serve, users)
    for path in (r"Action=DeleteMFADeviceForUser&", r"Action=DeleteUserProvisioning&"):
        # Carried out, but a gateway's 502 came back instead of the answer (a 503 would say it was not).
        sim.add_fault(action="process_then_respond", path=path, status=502,
                      body={"RequestId": "R-LOST", "Code": "BadGateway", "Message": "lost"})
    result = ansible.tasks([{"name": "offboard", MODULE: {"user_id": "u-00eve", "state": "absent", "force": True}}],
                           module_defaults=defaults)
    assert result.returncode == 0, result.output
    (eve,) = result.task("offboard")["users"]
    assert eve["actions"] == ["removed MFA device mfa-00eve",
                              "removed RAM user provisioning up-00eve888 in account 888, deleting its RAM users",
                              "deleted"]
    assert [item["id"] for item in eve["leftover"]] == ["up-00eve888"] and eve["msg"] == "deleted"
    assert sim.answers("EntityNotExists.MFADevice") and sim.answers("EntityNotExists.UserProvisioning")
    assert state(sim)["mfa_devices"] == {} and provisioning_ids(sim) == ["up-00eng111", "up-00gone555"]
