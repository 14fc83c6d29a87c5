# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ground-truth checker itself (ground_truth.py), on small handmade reports, logs and states: what it must
find, and that a report that tells the truth passes. The simulators' log fields it reads are checked against
the simulators themselves."""

from __future__ import annotations

import copy
import json

from simulators._base import Request
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

from .ground_truth import (
    AdminAdapter, AlibabaAdapter, LogMark, Observed, ScimAdapter, UiPathAdapter, World, check_report,
    leftover_from_text)

DIRECTORY = "d-1"
ORG = "org-1"
ORG_DIRECTORY = "od-1"
SCIM_PATH = "/scim/directory/%s/Users/%%s" % DIRECTORY


def entry(method, path, status=204, **fields):
    logged = {"method": method, "path": path, "status": status, "changing": method not in ("GET", "HEAD")}
    logged.update(fields)
    return logged


def scim_state(*users, inactive=()):
    return {"directories": {DIRECTORY: {"users": dict(
        (user_id, {"userName": "%s@example.com" % user_id, "active": user_id not in inactive}) for user_id in users)}}}


def admin_state(accounts):
    return {"org_id": ORG, "directories": [ORG_DIRECTORY], "accounts": dict(
        (account_id, dict({"email": "%s@example.com" % account_id, "managed": True, "status": "active",
                           "for_deletion": False, "memberships": {ORG_DIRECTORY: "active"}, "tokens": []}, **spec))
        for account_id, spec in accounts.items())}


def result(provider="atlassian", outcome="removed", user_id=None, by="name", requested=None, **fields):
    row = {"provider": provider, "directory": "localhost", "directory_id": DIRECTORY if provider != "uipath" else ORG,
           "outcome": outcome, "user_id": user_id, "by": by, "requested": requested,
           "actions": {"removed": ["deleted"], "disabled": ["disabled"]}.get(outcome, []), "leftover": [],
           "manual_follow_up": [], "sweep": None, "msg": "", "note": ""}
    row.update(fields)
    return row


def report(rows, check_mode=False, approval=None, plan=(), provider="atlassian"):
    """A report of one directory (localhost): one leaver per result in `rows`."""
    directory_id = DIRECTORY if provider != "uipath" else ORG
    return {"run_id": "run-1", "check_mode": check_mode, "approval": approval, "plan": list(plan),
            "directories": [{"key": provider, "directory": "localhost", "provider": provider,
                             "directory_id": directory_id, "status": "run"}],
            "leavers": [{"email": "leaver%d@example.com" % index, "results": {provider: row}}
                        for index, row in enumerate(rows)],
            "leftover_summary": {"removed": sum(len(row.get("leftover") or []) for row in rows)}}


def scim_world(before, after, entries, admin=None):
    observed = [Observed("atlassian-scim", ScimAdapter(), before, after, entries)]
    if admin is not None:
        observed.append(Observed("atlassian-admin", AdminAdapter(), *admin))
    return World(observed)


def kinds(verdict):
    return sorted(set(one.kind for one in verdict.contradictions))


def dana_removed():
    return result(user_id="dana", requested="dana@example.com", verified_absent=True)


# --- a truthful report passes --------------------------------------------------------------------------------

def test_a_truthful_report_passes_and_its_claims_are_counted():
    verdict = check_report(
        report([dana_removed(), result(outcome="already absent", requested="gone@example.com")]),
        scim_world(scim_state("dana", "sam"), scim_state("sam"), [
            entry("GET", "/scim/directory/d-1/Users?filter=x", 200), entry("DELETE", SCIM_PATH % "dana")]))
    assert verdict.contradictions == []
    assert verdict.scenarios == {"atlassian": 2}
    # removed: the DELETE, the state after, the action, verified_absent, and the DELETE is in the report;
    # already absent: the state before, and no change.
    assert verdict.claims["atlassian"] == 7


def test_a_delete_whose_answer_was_lost_counts_as_carried_out():
    lost = entry("DELETE", SCIM_PATH % "dana", status=204, fault="process_then_respond")
    retry = entry("DELETE", SCIM_PATH % "dana", status=404)
    verdict = check_report(report([dana_removed()]), scim_world(scim_state("dana"), scim_state(), [lost, retry]))
    assert verdict.contradictions == []


# --- what it must find ----------------------------------------------------------------------------------------

def test_a_removed_claim_without_a_delete_is_found():
    verdict = check_report(report([dana_removed()]), scim_world(scim_state("dana"), scim_state("dana"), []))
    assert kinds(verdict) == ["claim without its change", "state contradicts the claim"]
    text = "\n".join(map(str, verdict.contradictions))
    assert "leaver0@example.com at localhost (atlassian d-1)" in text and "'removed' of user dana" in text
    assert "after the run the user is present (active)" in text


def test_a_delete_refused_by_the_provider_is_no_removal():
    refused = entry("DELETE", SCIM_PATH % "dana", status=403)
    faked = entry("DELETE", SCIM_PATH % "dana", status=503, fault="respond")
    verdict = check_report(report([dana_removed()]), scim_world(scim_state("dana"), scim_state(), [refused, faked]))
    assert kinds(verdict) == ["claim without its change"]


def test_a_delete_answered_as_done_that_did_not_hold_is_reported_as_such():
    # The provider answered 204 and kept the user; the row says so (failed, verified_absent false).
    lied = entry("DELETE", SCIM_PATH % "dana", status=204, fault="respond")
    row = result(outcome="failed", user_id="dana", requested="dana@example.com", actions=["deleted"],
                 verified_absent=False)
    assert check_report(report([row]), scim_world(scim_state("dana"), scim_state("dana"), [lied])).contradictions == []
    # Never answered as done: the action is not true even so.
    verdict = check_report(report([row]), scim_world(scim_state("dana"), scim_state("dana"), []))
    assert kinds(verdict) == ["claim without its change"]


def test_a_delete_that_is_not_in_the_report_is_found():
    # The report says only Dana was removed; Sam's account went too.
    both = [entry("DELETE", SCIM_PATH % "dana"), entry("DELETE", SCIM_PATH % "sam")]
    verdict = check_report(report([dana_removed()]), scim_world(scim_state("dana", "sam"), scim_state(), both))
    assert kinds(verdict) == ["change not in the report"]
    assert "DELETE /scim/directory/d-1/Users/sam (HTTP 204)" in str(verdict.contradictions[0])


def test_a_refused_request_no_row_names_is_found():
    verdict = check_report(report([dana_removed()]), scim_world(
        scim_state("dana", "sam"), scim_state("sam"),
        [entry("DELETE", SCIM_PATH % "dana"), entry("DELETE", SCIM_PATH % "sam", status=409)]))
    assert kinds(verdict) == ["change not in the report"]


def test_a_change_in_check_mode_is_found():
    rehearsal = report([result(outcome="would remove", user_id="dana", requested="dana@example.com",
                               actions=["deleted"])], check_mode=True)
    deleted = [entry("DELETE", SCIM_PATH % "dana")]
    verdict = check_report(rehearsal, scim_world(scim_state("dana"), scim_state(), deleted))
    assert kinds(verdict) == ["changed while not allowed to"]
    assert "nothing was changed in check mode" in str(verdict.contradictions[0])
    clean = check_report(rehearsal, scim_world(scim_state("dana"), scim_state("dana"), []))
    assert clean.contradictions == []


def test_a_rehearsal_that_would_remove_someone_who_is_not_there_is_found():
    rehearsal = report([result(outcome="would remove", user_id="dana", requested="dana@example.com")], check_mode=True)
    verdict = check_report(rehearsal, scim_world(scim_state(), scim_state(), []))
    assert kinds(verdict) == ["claim contradicted by the state before"]


def test_already_absent_while_the_lookup_finds_the_user_is_found():
    verdict = check_report(report([result(outcome="already absent", requested="DANA@example.com")]),
                           scim_world(scim_state("dana"), scim_state("dana"), []))
    assert kinds(verdict) == ["claim contradicted by the state before"]
    assert "had user(s) dana found that way" in str(verdict.contradictions[0])


def test_a_change_outside_the_approved_plan_is_found():
    plan = [{"provider": "atlassian", "directory": "localhost", "leaver": "dana@example.com", "user_id": "dana",
             "user_name": "dana@example.com", "actions": ["deleted"]}]
    approval = {"result": "approved", "approved_changes": 1, "already_done": 0}
    # The report even lists Sam's removal: it was still never approved.
    sam = result(user_id="sam", requested="sam@example.com", verified_absent=True)
    both = [entry("DELETE", SCIM_PATH % "dana"), entry("DELETE", SCIM_PATH % "sam")]
    verdict = check_report(report([dana_removed(), sam], approval=approval),
                           scim_world(scim_state("dana", "sam"), scim_state(), both), approved_plan=plan)
    assert kinds(verdict) == ["change outside the approved plan"]
    assert "Users/sam" in str(verdict.contradictions[0])
    # The same plan in another directory covers nothing.
    elsewhere = [dict(plan[0], directory="atlassian-south")]
    verdict = check_report(report([dana_removed()], approval=approval), scim_world(
        scim_state("dana"), scim_state(), [entry("DELETE", SCIM_PATH % "dana")]), approved_plan=elsewhere)
    assert kinds(verdict) == ["change outside the approved plan"]


def test_already_done_may_not_count_what_this_run_did():
    plan = [{"provider": "atlassian", "directory": "localhost", "user_id": "dana", "actions": ["deleted"]}]
    approval = {"result": "approved", "approved_changes": 1, "already_done": 1}
    verdict = check_report(report([dana_removed()], approval=approval), scim_world(
        scim_state("dana"), scim_state(), [entry("DELETE", SCIM_PATH % "dana")]), approved_plan=plan)
    assert kinds(verdict) == ["already done by this run"]


def test_a_refused_run_that_reports_leftover_access_removed_is_found():
    token = {"kind": "API token", "id": "tok-1", "name": "ci", "where": "account acc-dana", "done": "revoked"}
    refused = report([result(outcome="would remove", user_id="dana", requested="dana@example.com", leftover=[token])],
                     approval={"result": "refused"}, plan=[{"provider": "atlassian", "user_id": "acc-dana"}])
    admin = admin_state({"acc-dana": {"tokens": ["tok-1"]}})
    verdict = check_report(refused, scim_world(scim_state("dana"), scim_state("dana"), [], admin=(admin, admin, [])))
    assert kinds(verdict) == ["refused run reports leftover removed"]
    assert len(verdict.contradictions) == 3  # the row's leftover, the plan, leftover_summary.removed


# --- the sweep -------------------------------------------------------------------------------------------------

REVOKE = "/users/acc-dana/manage/api-tokens/tok-1"
TOKEN = {"kind": "API token", "id": "tok-1", "name": "ci", "where": "account acc-dana", "done": "revoked"}


def swept_dana(sweep_status="swept", leftover=(TOKEN,)):
    return result(user_id="dana", requested="dana@example.com", verified_absent=True, leftover=list(leftover),
                  sweep={"status": sweep_status, "user_id": "acc-dana", "user_name": "acc-dana@example.com",
                         "leftover": list(leftover)})


def sweep_world(admin_before, admin_after, admin_entries):
    return scim_world(scim_state("dana"), scim_state(), [entry("DELETE", SCIM_PATH % "dana")],
                      admin=(admin_before, admin_after, admin_entries))


def test_a_revoked_token_still_present_is_found():
    before = admin_state({"acc-dana": {"tokens": ["tok-1"], "status": "inactive"}})
    after = admin_state({"acc-dana": {"status": "inactive"}})
    truthful = check_report(report([swept_dana()]), sweep_world(before, after, [entry("DELETE", REVOKE)]))
    assert truthful.contradictions == []
    # The revocation answered 204, yet the token is still there.
    verdict = check_report(report([swept_dana()]), sweep_world(before, before, [entry("DELETE", REVOKE)]))
    assert kinds(verdict) == ["state contradicts the claim"]
    assert "leftover revoked: API token tok-1 in account acc-dana" in str(verdict.contradictions[0])
    # Never revoked at all (the answer was a 400).
    verdict = check_report(report([swept_dana()]), sweep_world(before, before, [entry("DELETE", REVOKE, status=400)]))
    assert kinds(verdict) == ["claim without its change", "state contradicts the claim"]


def test_nothing_left_with_a_token_present_is_found():
    state = admin_state({"acc-dana": {"tokens": ["tok-2"], "status": "inactive"}})
    verdict = check_report(report([swept_dana("nothing left", leftover=())]), sweep_world(state, state, []))
    assert kinds(verdict) == ["atlassian sweep claim contradicted"]
    assert "account acc-dana: API tokens tok-2" in str(verdict.contradictions[0])
    # An account active in another directory of the organization is not "nothing left" either.
    state = admin_state({"acc-dana": {"managed": False, "memberships": {ORG_DIRECTORY: "suspended", "od-2": "active"}}})
    verdict = check_report(report([swept_dana("nothing left", leftover=())]), sweep_world(state, state, []))
    assert "active in directories od-2" in str(verdict.contradictions[0])


def test_not_found_while_the_organization_has_the_account_is_found():
    state = admin_state({"acc-dana": {"memberships": {"od-2": "active"}}})
    verdict = check_report(report([swept_dana("not found", leftover=())]), sweep_world(state, state, []))
    assert kinds(verdict) == ["atlassian sweep claim contradicted"]


def test_an_organization_wide_token_revocation_is_never_in_any_report():
    state = admin_state({"acc-dana": {"status": "inactive"}})
    verdict = check_report(report([swept_dana("nothing left", leftover=())]), sweep_world(
        state, state, [entry("DELETE", "/admin/api-access/v1/orgs/%s/api-tokens" % ORG)]))
    assert kinds(verdict) == ["change not in the report"]


# --- UiPath ------------------------------------------------------------------------------------------------------

def uipath_state(users, tenants=None):
    return {"organizations": {ORG: {
        "users": dict((user_id, {"id": user_id, "userName": name, "email": name, "active": True})
                      for user_id, name in users.items()),
        "tenants": dict((name.lower(), tenant_state(name, spec)) for name, spec in (tenants or {}).items())}},
        "standalone": ORG}


def tenant_state(name, users):
    return {"name": name, "workspaces": {}, "folders": {},
            "users": dict((str(key), {"UserName": value, "EmailAddress": value}) for key, value in users.items())}


def uipath_world(before, after, entries):
    return World([Observed("uipath-identity", UiPathAdapter(), before, after, entries)])


def test_a_bulk_delete_is_read_user_by_user():
    people = {"u-dana": "dana@example.com", "u-omar": "omar@example.com", "u-sam": "sam@example.com"}
    bulk = entry("DELETE", "/%s/identity_/api/User" % ORG, user_ids=["u-dana", "u-omar"])
    rows = [result("uipath", user_id=user_id, requested=people[user_id], verified_absent=True)
            for user_id in ("u-dana", "u-omar")]
    after = uipath_state({"u-sam": "sam@example.com"})
    assert check_report(report(rows, provider="uipath"), uipath_world(uipath_state(people), after, [bulk])) \
        .contradictions == []
    verdict = check_report(report(rows[:1], provider="uipath"), uipath_world(uipath_state(people), after, [bulk]))
    assert kinds(verdict) == ["change not in the report"] and "delete user u-omar" in str(verdict.contradictions[0])


def test_a_delete_answered_204_that_deleted_nobody_is_no_removal():
    # UiPath's unconfirmed "no_content" answer: 204 for an id that is not there (the simulator logs it not deleted).
    people = {"u-dana": "dana@example.com"}
    nothing = entry("DELETE", "/%s/identity_/api/User/u-dana" % ORG, not_deleted=["u-dana"])
    row = result("uipath", user_id="u-dana", requested="dana@example.com", verified_absent=True)
    verdict = check_report(report([row], provider="uipath"),
                           uipath_world(uipath_state(people), uipath_state({}), [nothing]))
    assert kinds(verdict) == ["claim without its change"]


def test_an_orchestrator_user_left_behind_is_no_nothing_left():
    people = {"u-dana": "dana@example.com"}
    tenants = {"Production": {14: "dana@example.com", 15: "sam@example.com"}}
    row = result("uipath", user_id="u-dana", requested="dana@example.com", verified_absent=True,
                 sweep={"status": "nothing left"})
    deleted = [entry("DELETE", "/%s/identity_/api/User/u-dana" % ORG)]
    verdict = check_report(report([row], provider="uipath"),
                           uipath_world(uipath_state(people, tenants), uipath_state({}, tenants), deleted))
    assert kinds(verdict) == ["uipath sweep claim contradicted"]
    assert "dana@example.com (14) in tenant Production" in str(verdict.contradictions[0])


def test_an_orchestrator_delete_of_someone_else_in_an_approved_run_is_found():
    # The plan removes Dana's Orchestrator user 14; the run removed 15, which is Sam's.
    people = {"u-dana": "dana@example.com"}
    tenants = {"Production": {14: "dana@example.com", 15: "sam@example.com"}}
    action = 'removed Orchestrator user "dana@example.com" (14) from tenant Production'
    plan = [{"provider": "uipath", "directory": "localhost", "user_id": "u-dana", "actions": [action]}]
    row = result("uipath", outcome="already absent", requested="dana@example.com", actions=[action.replace("14", "15")])
    path = "/%s/Production/orchestrator_/odata/Users(15)" % ORG
    verdict = check_report(report([row], provider="uipath", approval={"result": "approved"}), uipath_world(
        uipath_state(people, tenants), uipath_state(people, {"Production": {14: "dana@example.com"}}),
        [entry("DELETE", path)]), approved_plan=plan)
    assert "change outside the approved plan" in kinds(verdict)


def test_a_new_hire_reached_by_the_name_an_approved_plan_gives_is_found():
    # Dana was absent when rehearsed: the plan names her by e-mail. A new hire got the e-mail and was deleted.
    action = 'removed Orchestrator user "dana@example.com" (14) from tenant Production'
    plan = [{"provider": "uipath", "directory": "localhost", "user_id": "dana@example.com", "actions": [action]}]
    tenants = {"Production": {14: "dana@example.com"}}
    before = uipath_state({"u-new": "dana@example.com"}, tenants)
    row = result("uipath", user_id="u-new", requested="dana@example.com", actions=[action, "deleted"],
                 verified_absent=True)
    entries = [entry("DELETE", "/%s/Production/orchestrator_/odata/Users(14)" % ORG),
               entry("DELETE", "/%s/identity_/api/User/u-new" % ORG)]
    verdict = check_report(report([row], provider="uipath", approval={"result": "approved"}),
                           uipath_world(before, uipath_state({}, {"Production": {}}), entries), approved_plan=plan)
    assert kinds(verdict) == ["a user the plan names by name changed by its new id"]


# --- Alibaba -----------------------------------------------------------------------------------------------------

def alibaba_state(provisionings=(), assignments=(), ram_users=None):
    return {"directories": {DIRECTORY: {
        "users": {"u-dana": {"UserName": "dana@example.com", "active": True}}, "mfa": {}, "memberships": {},
        "assignments": [{"config_id": "ac-1", "config_name": "Admin", "target": "1001", "principal_type": "User",
                         "principal_id": "u-dana"} for _one in assignments],
        "provisionings": dict((one, {"principal_type": "User", "principal_id": "u-dana", "target": "1001",
                                     "strategy": "Delete"}) for one in provisionings),
        "ram_users": ram_users or {}, "provisioned": {}}}}


def alibaba_entry(action, status=200, code=None, **params):
    params.setdefault("DirectoryId", DIRECTORY)
    return {"method": "POST", "path": "/?Action=%s" % action, "status": status, "changing": True, "action": action,
            "code": code, "params": params}


def alibaba_world(before, after, entries):
    return World([Observed("alibaba-cloudsso", AlibabaAdapter(), before, after, entries)])


def test_a_provisioning_that_was_already_gone_is_not_deleted_by_this_run():
    item = {"kind": "RAM user provisioning", "id": "up-1", "name": None, "where": "account 1001",
            "done": "deleted with its RAM users"}
    row = result("alibaba", outcome="already absent", by="id", requested="u-dana", leftover=[item],
                 actions=["removed RAM user provisioning up-1 in account 1001 with its RAM users"])
    gone = alibaba_entry("DeleteUserProvisioning", status=404, code="EntityNotExists.UserProvisioning",
                         UserProvisioningId="up-1")
    state = alibaba_state(ram_users={"1001": {"dana@example.com": None}})
    state["directories"][DIRECTORY]["users"] = {}
    verdict = check_report(report([row], provider="alibaba"), alibaba_world(state, state, [gone]))
    assert kinds(verdict) == ["claim without its change"]


def test_an_access_assignment_deleted_with_deprovisioning_must_say_so():
    action = "removed access assignment Admin on RD-Account 1001"
    row = result("alibaba", user_id="u-dana", requested="dana@example.com", actions=[action, "deleted"])
    delete = alibaba_entry("DeleteAccessAssignment", AccessConfigurationId="ac-1", TargetType="RD-Account",
                           TargetId="1001", PrincipalType="User", PrincipalId="u-dana",
                           DeprovisionStrategy="DeprovisionForLastAccessAssignmentOnAccount")
    before, after = alibaba_state(assignments=[1]), alibaba_state()
    after["directories"][DIRECTORY]["users"] = {}
    entries = [delete, alibaba_entry("DeleteUser", UserId="u-dana")]
    verdict = check_report(report([row], provider="alibaba"), alibaba_world(before, after, entries))
    assert kinds(verdict) == ["de-provisioning not in the report"]
    assert "(with DeprovisionStrategy DeprovisionForLastAccessAssignmentOnAccount)" in str(verdict.contradictions[0])
    worded = dict(row, actions=[action + ", de-provisioning its access configuration if it is the last", "deleted"])
    verdict = check_report(report([worded], provider="alibaba"), alibaba_world(before, after, entries))
    assert verdict.contradictions == []
    kept = dict(delete, params=dict(delete["params"], DeprovisionStrategy="None"))
    assert check_report(report([row], provider="alibaba"), alibaba_world(before, after, [kept] + entries[1:])) \
        .contradictions == []


# --- the plumbing ------------------------------------------------------------------------------------------------

def test_leftover_texts_of_a_plan_are_read_back():
    assert leftover_from_text("revoked: API token ci pipeline (tok-1) in account 712020:dana") == {
        "kind": "API token", "done": "revoked", "id": "tok-1", "where": "account 712020:dana"}
    assert leftover_from_text("deactivated: Atlassian account acc-1") == {
        "kind": "Atlassian account", "done": "deactivated", "id": "acc-1", "where": None}
    assert leftover_from_text("deleted") is None


class FakeLog:
    def __init__(self):
        self.log = []

    def requests(self):
        return list(self.log)

    def clear_log(self):
        self.log = []


def test_a_runs_requests_survive_a_clear_log_between_runs():
    simulator = FakeLog()
    simulator.log += [entry("GET", "/a", 200), entry("DELETE", "/b")]
    mark = LogMark(simulator)
    simulator.log.append(entry("DELETE", "/c"))
    assert [one["path"] for one in mark.since(simulator)] == ["/c"]
    simulator.clear_log()
    mark = LogMark(simulator)
    simulator.log += [entry("DELETE", "/d")]
    assert [one["path"] for one in mark.since(simulator)] == ["/d"]
    # Cleared during the run: whatever is left and was not there before is the run's.
    mark = LogMark(simulator)
    simulator.log = [copy.deepcopy(simulator.log[0]), entry("DELETE", "/e")]
    assert [one["path"] for one in mark.since(simulator)] == ["/e"]


def send(simulator, method, target, body, token):
    request = Request(method, target, {"Authorization": "Bearer " + token, "Content-Type": "application/json"},
                      json.dumps(body).encode("utf-8"), ("127.0.0.1", 1))
    simulator.dispatch(request)
    return simulator.requests()[-1]


def test_the_simulators_log_what_the_checker_reads_from_request_bodies():
    scim = AtlassianScimSimulator({DIRECTORY: {"api_key": "scim-key-for-the-log-test", "users": [
        {"id": "dana", "userName": "dana@example.com", "emails": [{"value": "dana@example.com"}]}]}})
    disable = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "replace", "value": {"active": False}}]}
    logged = send(scim, "PATCH", SCIM_PATH % "dana", disable, "scim-key-for-the-log-test")
    assert logged["active"] is False and scim.users(DIRECTORY)[0]["active"] is False
    # A spelling this simulator ignores sets nothing, and the log says nothing was set.
    scim.patch_dialect, scim.patch_other = "spec", "ignore"
    lowercase_only = {"Operations": [{"op": "replace", "path": "active", "value": True}]}
    logged = send(scim, "PATCH", SCIM_PATH % "dana", lowercase_only, "scim-key-for-the-log-test")
    assert "active" not in logged and ScimAdapter().changes(None, logged)[0].kind == "update user"

    uipath = UiPathIdentitySimulator({ORG: {
        "partition_global_id": "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13",
        "personal_access_tokens": {"pat-for-the-log-test-1": {}},
        "users": [{"id": "00000000-0000-4000-8000-00000000000%d" % index, "userName": "user%d@example.com" % index}
                  for index in (1, 2)]}})
    ids = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]
    body = {"partitionGlobalId": "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13", "userIds": ids}
    logged = send(uipath, "DELETE", "/%s/identity_/api/User" % ORG, body, "pat-for-the-log-test-1")
    assert logged["status"] == 204 and logged["user_ids"] == ids and uipath.users(ORG) == []
    assert "not_deleted" not in logged
    uipath.configure(not_found="no_content")
    logged = send(uipath, "DELETE", "/%s/identity_/api/User/%s" % (ORG, ids[0]), {}, "pat-for-the-log-test-1")
    assert logged["status"] == 204 and logged["not_deleted"] == [ids[0]]
    assert UiPathAdapter().changes(None, logged)[0].effective is False
