# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role's sweep of leftover access (offboard_sweep), against the simulators: what the directory
delete leaves is removed in one batched task per provider, and every report row says what was removed and
what a person must still do."""

from __future__ import annotations

import json
import os

from simulators import simulator_class
from simulators.atlassian import AtlassianScimSimulator
from simulators.atlassian_admin import AtlassianAdminSimulator

from .test_offboard_role import only_report, reports

SCIM_DIRECTORY = "d-sweep"
SCIM_KEY = "ATSCIM-sweep-test-key-5f4e3d"
ORG = "org-sweep"
ORG_DIRECTORY = "od-sweep"
ADMIN_KEY = "ATADMIN-sweep-unscoped-7a6b5c"
SCOPED_KEY = "ATADMIN-sweep-scoped-1b2c3d"
ORG_WIDE_REVOCATION = r"^/admin/api-access/"
SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "simulators", "seeds")

LEAVERS = [
    {"name": "Dana Lee", "email": "dana.lee@example.com"},
    {"name": "Omar Haddad", "email": "omar.haddad@example.com"},
    {"name": "Mei Chen", "email": "mei.chen@example.com", "atlassian_account_id": "acc-mei"},
]


def scim_user(user_id, name):
    return {"id": user_id, "userName": name, "emails": [{"value": name, "primary": True}]}


def atlassian(serve, admin_key=ADMIN_KEY, seed=None):
    """(SCIM simulator, admin simulator, environment): Dana is managed with two personal API tokens, Omar's
    account is not managed by the organization (a contractor's), Mei is managed and has no token; Sam stays."""
    scim = AtlassianScimSimulator({SCIM_DIRECTORY: {"api_key": SCIM_KEY, "users": [
        scim_user("s-dana", "dana.lee@example.com"), scim_user("s-omar", "omar.haddad@example.com"),
        scim_user("s-mei", "mei.chen@example.com"), scim_user("s-sam", "sam.taylor@example.com")]}})
    admin = AtlassianAdminSimulator(seed or admin_seed())
    scim_server, admin_server = serve(scim), serve(admin)
    env = {"ATLASSIAN_SCIM_BASE_URL": scim_server.url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": SCIM_DIRECTORY,
           "ATLASSIAN_SCIM_API_KEY": SCIM_KEY, "ATLASSIAN_ADMIN_BASE_URL": admin_server.url,
           "ATLASSIAN_ORG_ID": ORG, "ATLASSIAN_ADMIN_API_KEY": admin_key, "ATLASSIAN_ORG_DIRECTORY_ID": ORG_DIRECTORY}
    return scim, admin, env


def admin_seed(mei_tokens=()):
    return {
        "org_id": ORG, "api_keys": {ADMIN_KEY: {}, SCOPED_KEY: {"scoped": True}},
        "directories": [{"id": ORG_DIRECTORY, "name": "Example"}],
        "accounts": [
            {"account_id": "acc-dana", "email": "dana.lee@example.com", "memberships": {ORG_DIRECTORY: "active"},
             "tokens": [{"id": "tok-ci", "label": "ci"}, {"id": "tok-laptop", "label": "laptop"}]},
            {"account_id": "acc-omar", "email": "omar.haddad@example.com", "managed": False,
             "memberships": {ORG_DIRECTORY: "active"}},
            {"account_id": "acc-mei", "email": "mei.chen@example.com", "memberships": {ORG_DIRECTORY: "active"},
             "tokens": list(mei_tokens)},
            {"account_id": "acc-sam", "email": "sam.taylor@example.com", "memberships": {ORG_DIRECTORY: "active"},
             "tokens": [{"id": "tok-sam", "label": "sam"}]}]}


def seeded_account(seed, account_id):
    return [account for account in seed["accounts"] if account["account_id"] == account_id][0]


def offboard(ansible, env, check=False, **extra_vars):
    variables = {"offboard_users": LEAVERS}
    variables.update(extra_vars)
    return ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir),
                       check=check)


def changing(simulator):
    return [(entry["method"], entry["path"]) for entry in simulator.requests() if entry["changing"]]


def accounts(admin):
    """{account id: (status, tokens, membership in the organization directory)}."""
    found = {}
    for account_id in ("acc-dana", "acc-omar", "acc-mei", "acc-sam"):
        account = admin.account(account_id)
        found[account_id] = (account["account_status"], sorted(token["id"] for token in account.get("tokens") or []),
                             (account.get("memberships") or {}).get(ORG_DIRECTORY))
    return found


def row(report, index, provider="atlassian"):
    return report["leavers"][index]["results"][provider]


def kinds(items):
    return [item["kind"] for item in items]


def test_the_atlassian_sweep_rehearsed_then_done_then_nothing_left(ansible, serve):
    scim, admin, env = atlassian(serve)
    before = accounts(admin)

    rehearsal = offboard(ansible, env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    assert changing(scim) == [] and changing(admin) == [] and accounts(admin) == before
    report, markdown = only_report(ansible.workdir)
    dana = row(report, 0)
    assert dana["outcome"] == "would remove"
    assert sorted((item["kind"], item["id"], item["done"]) for item in dana["leftover"]) == [
        ("API token", "tok-ci", "revoked"), ("API token", "tok-laptop", "revoked"),
        ("Atlassian account", "acc-dana", "deactivated")]
    assert "leftover access that would be removed:" in markdown
    # Every sweep change is a plan item of its own, so that an approval covers it.
    swept_plan = [item for item in report["plan"] if item["user_id"].startswith("acc-")]
    assert len(swept_plan) == 3 + 1 + 1, swept_plan

    real = offboard(ansible, env)
    assert real.returncode == 0, real.output
    assert sorted(user["userName"] for user in scim.users(SCIM_DIRECTORY)) == ["sam.taylor@example.com"]
    assert accounts(admin) == {
        "acc-dana": ("inactive", [], "active"),
        "acc-omar": ("active", [], "suspended"),  # not managed: only its access here is suspended
        "acc-mei": ("inactive", [], "active"),
        "acc-sam": before["acc-sam"]}
    # The organization-wide revocation, which would hit every managed account, is never called.
    assert not admin.requests(path=ORG_WIDE_REVOCATION)
    report = [one for one, _markdown in reports(ansible.workdir).values() if not one["check_mode"]][0]
    assert report["summary"] == {"removed": 3} and not report["failed"]
    dana, omar, mei = (row(report, index) for index in range(3))
    assert sorted(item["id"] for item in dana["leftover"]) == ["acc-dana", "tok-ci", "tok-laptop"]
    assert [(item["kind"], item["done"], item["where"]) for item in omar["leftover"]] == [
        ("Atlassian account", "suspended", "directory %s" % ORG_DIRECTORY)]
    assert "unmanaged account" in kinds(omar["manual_follow_up"])
    assert [item["id"] for item in mei["leftover"]] == ["acc-mei"]
    for result in (dana, omar, mei):
        assert kinds(result["manual_follow_up"])[0] == "sessions"
        assert result["sweep"]["status"] == "swept" and result["verified_absent"] is True
    markdown = [text for one, text in reports(ansible.workdir).values() if not one["check_mode"]][0]
    assert "  - leftover access removed:\n    - deactivated: Atlassian account dana.lee@example.com (acc-dana)\n" \
        "    - revoked: API token ci (tok-ci) in account acc-dana\n" in markdown
    assert "  - manual follow-up:\n    - sessions: Atlassian has no API that ends sessions" in markdown

    again = offboard(ansible, env)
    assert again.returncode == 0, again.output
    assert json.loads(again.stdout)["stats"]["localhost"]["changed"] == 0
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert latest["summary"] == {"already absent": 3} and latest["plan"] == []
    assert [row(latest, index)["sweep"]["status"] for index in range(3)] == ["nothing left"] * 3
    assert all(row(latest, index)["leftover"] == [] for index in range(3))


def test_a_scoped_admin_key_fails_the_sweep_loudly_after_the_directory_delete(ansible, serve):
    scim, admin, env = atlassian(serve, admin_key=SCOPED_KEY)
    result = offboard(ansible, env, offboard_users=LEAVERS[:1])
    assert result.returncode != 0
    # The directory delete is done; the account and its tokens are left, and the report says so.
    assert "dana.lee@example.com" not in [user["userName"] for user in scim.users(SCIM_DIRECTORY)]
    assert accounts(admin)["acc-dana"] == ("active", ["tok-ci", "tok-laptop"], "active")
    failure = result.task("Fail when any leaver could not be offboarded")["msg"]
    assert "dana.lee@example.com at atlassian" in failure and "sweep of leftover access failed" in failure
    report, markdown = only_report(ansible.workdir)
    [entry] = report["failures"]
    assert entry["error"]["status"] == 403 and "scope" in entry["msg"].lower()
    assert report["summary"] == {"failed": 1}


def test_a_half_configured_sweep_or_one_asked_for_and_missing_stops_before_any_request(ansible, serve):
    scim, admin, env = atlassian(serve)
    half = dict(env)
    del half["ATLASSIAN_ADMIN_API_KEY"]
    result = offboard(ansible, half)
    assert result.returncode != 0
    assert "the Atlassian sweep (the organization admin API) is only partly configured" in result.output
    assert "ATLASSIAN_ADMIN_API_KEY" in result.output
    without = dict((name, value) for name, value in env.items() if not name.startswith(("ATLASSIAN_ORG", "ATLASSIAN_ADMIN")))
    required = offboard(ansible, without, offboard_sweep=True)
    assert required.returncode != 0 and "offboard_sweep is true, but the Atlassian sweep is not configured" in required.output
    assert scim.requests() == [] and admin.requests() == []


def test_the_sweep_off_leaves_the_accounts_and_says_so(ansible, serve):
    scim, admin, env = atlassian(serve)
    before = accounts(admin)
    result = offboard(ansible, env, offboard_sweep=False, offboard_users=LEAVERS[:1])
    assert result.returncode == 0, result.output
    assert admin.requests() == [] and accounts(admin) == before
    report, _markdown = only_report(ansible.workdir)
    follow_up = row(report, 0)["manual_follow_up"]
    assert kinds(follow_up) == ["sessions", "sweep not run"]
    assert "offboard_sweep is false" in follow_up[-1]["detail"]


def refused_for_a_token_made_after_the_rehearsal(ansible, serve):
    """The Atlassian estate rehearsed, then a token of Mei's made, which the plan does not have, then the run given
    that plan: refused, with no changing request anywhere. Returns (admin, env, the rehearsal's report, the run)."""
    scim, admin, env = atlassian(serve)
    rehearsal = offboard(ansible, env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    rehearsed, _markdown = only_report(ansible.workdir)
    admin.seed(admin_seed(mei_tokens=[{"id": "tok-late", "label": "late"}]))
    refused = offboard(ansible, env, offboard_approved_plan=rehearsed["plan"],
                       offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert refused.returncode != 0
    assert changing(scim) == [] and changing(admin) == []
    return admin, env, rehearsed, refused


def test_an_approved_run_sweeps_only_what_the_plan_has(ansible, serve):
    # A token made after the approval is not in the plan: the run changes nothing anywhere.
    admin, env, rehearsed, _refused = refused_for_a_token_made_after_the_rehearsal(ansible, serve)
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert [item["actions"] for item in latest["approval"]["not_approved"]] == [
        ["revoked: API token late (tok-late) in account acc-mei"]]
    mei = row(latest, 2)
    assert mei["outcome"] == "not approved" and "the sweep's revoked: API token late" in mei["msg"]
    # Without it, the approved plan is carried out exactly.
    admin.seed(admin_seed())
    approved = offboard(ansible, env, offboard_approved_plan=rehearsed["plan"],
                        offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert approved.returncode == 0, approved.output
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert latest["approval"]["result"] == "approved" and latest["approval"]["changed_outside_plan"] == []
    assert accounts(admin)["acc-dana"] == ("inactive", [], "active")


# --- issue 18: the organization, not one directory (7); a closed account (8); what a failure leaves (9) ---

def test_accounts_in_another_directory_of_the_organization_are_swept_or_fail_naming_it(ansible, serve):
    # Dana (managed, two tokens) and Omar (not managed, active) are members of the organization's other
    # directory only; ATLASSIAN_ORG_DIRECTORY_ID names od-sweep.
    seed = admin_seed()
    seed["directories"].append({"id": "od-other", "name": "Subsidiary"})
    for account_id in ("acc-dana", "acc-omar"):
        seeded_account(seed, account_id)["memberships"] = {"od-other": "active"}
    scim, admin, env = atlassian(serve, seed=seed)
    result = offboard(ansible, env, offboard_users=LEAVERS[:2])
    assert result.returncode != 0
    # The managed account is the organization's wherever its directory: deactivated, both tokens revoked.
    dana = admin.account("acc-dana")
    assert (dana["account_status"], dana["tokens"]) == ("inactive", [])
    # directory_id names od-sweep only: Omar's access through od-other is not taken as done, and nothing is
    # changed for him there; the report names the directory.
    assert admin.account("acc-omar")["memberships"] == {"od-other": "active"}
    report, _markdown = only_report(ansible.workdir)
    assert row(report, 0)["sweep"]["status"] == "swept"
    assert sorted(item["id"] for item in row(report, 0)["leftover"]) == ["acc-dana", "tok-ci", "tok-laptop"]
    omar = row(report, 1)
    assert omar["outcome"] == "failed" and "od-other" in omar["msg"] and "od-sweep" in omar["msg"]
    assert [entry["leaver"] for entry in report["failures"]] == ["omar.haddad@example.com"]

    # Without directory_id, the sweep covers every directory of the organization.
    organization_wide = dict((name, value) for name, value in env.items() if name != "ATLASSIAN_ORG_DIRECTORY_ID")
    again = offboard(ansible, organization_wide, offboard_users=LEAVERS[:2])
    assert again.returncode == 0, again.output
    assert admin.account("acc-omar")["memberships"] == {"od-other": "suspended"}
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    omar = row(latest, 1)
    assert [(item["kind"], item["where"]) for item in omar["leftover"]] == [("Atlassian account", "directory od-other")]
    assert row(latest, 0)["sweep"]["status"] == "nothing left"
    assert changing(admin)[-1] == ("POST", "/admin/v2/orgs/%s/directories/od-other/users/acc-omar/suspend" % ORG)


def test_a_closed_account_is_nothing_left_and_the_runs_converge(ansible, serve):
    seed = admin_seed()
    dana = seeded_account(seed, "acc-dana")
    dana.update(account_status="closed", tokens=[])
    scim, admin, env = atlassian(serve, seed=seed)
    for _run in range(2):
        result = offboard(ansible, env, offboard_users=LEAVERS[:1])
        assert result.returncode == 0, result.output
        latest = sorted(reports(ansible.workdir).items())[-1][1][0]
        assert not latest["failed"] and row(latest, 0)["sweep"]["status"] == "nothing left"
        assert row(latest, 0)["leftover"] == []
    assert latest["plan"] == [] and latest["summary"] == {"already absent": 1}
    assert changing(admin) == []


def test_a_failed_token_revocation_names_what_was_done_and_what_is_left(ansible, serve):
    scim, admin, env = atlassian(serve)
    admin.add_fault(action="respond", method="DELETE", path=r"/api-tokens/tok-ci$", status=400, times=None,
                    body={"key": "invalid.request", "message": "the token cannot be revoked now"})
    result = offboard(ansible, env, offboard_users=LEAVERS[:1])
    assert result.returncode != 0
    assert accounts(admin)["acc-dana"] == ("inactive", ["tok-ci", "tok-laptop"], "active")
    report, markdown = only_report(ansible.workdir)
    dana = row(report, 0)
    assert dana["outcome"] == "failed"
    for text in (dana["msg"], report["failures"][0]["msg"], markdown):
        assert "the token cannot be revoked now" in text
        assert "Done for this account before: deactivated" in text
        assert 'API token "ci" (tok-ci) not revoked' in text and 'API token "laptop" (tok-laptop) not revoked' in text


# --- one leaver, end to end, at all three providers ---------------------------------------------------

def demo_simulators(serve):
    """Every simulator seeded with the demo seeds (as ./scripts/demo runs them), and the environment that
    points the modules at them."""
    simulators, env = {}, {}
    for provider in ("atlassian", "atlassian_admin", "uipath", "alibaba"):
        with open(os.path.join(SEEDS, "%s-demo.json" % provider), encoding="utf-8") as handle:
            simulator = simulator_class(provider)()
            simulator.seed(json.load(handle))
        server = serve(simulator)
        simulators[provider] = simulator
        env.update(simulator.client_environment(server.url))
    return simulators, env


def changing_anywhere(simulators):
    return dict((provider, changing(simulator)) for provider, simulator in simulators.items() if changing(simulator))


def test_one_leaver_offboarded_end_to_end_at_all_three_providers_with_the_sweep(ansible, serve):
    simulators, env = demo_simulators(serve)
    dana = [{"name": "Dana Lee", "email": "dana.lee@example.com"}]
    options = {"offboard_users": dana, "offboard_force": True, "offboard_uipath_tenants": ["DefaultTenant", "Production"]}

    rehearsal = offboard(ansible, env, check=True, **options)
    assert rehearsal.returncode == 0, rehearsal.output
    assert changing_anywhere(simulators) == {}
    rehearsed, _markdown = only_report(ansible.workdir)
    assert rehearsed["summary"] == {"would remove": 3}

    real = offboard(ansible, env, **options)
    assert real.returncode == 0, real.output
    report, markdown = [(one, text) for one, text in reports(ansible.workdir).values() if not one["check_mode"]][0]
    assert report["summary"] == {"removed": 3} and not report["failed"]
    atlassian_row, uipath_row, alibaba_row = (row(report, 0, provider) for provider in ("atlassian", "uipath", "alibaba"))
    # Atlassian: the account deactivated and both personal API tokens revoked, by the sweep.
    assert sorted((item["kind"], item["done"]) for item in atlassian_row["leftover"]) == [
        ("API token", "revoked"), ("API token", "revoked"), ("Atlassian account", "deactivated")]
    account = simulators["atlassian_admin"].account("712020:demo-dana")
    assert account["account_status"] == "inactive" and not account.get("tokens")
    # UiPath: the Orchestrator users of both tenants removed before the organization user; the workspace left as it
    # is (no call the module may make keeps what it holds) and named for a person, never claimed as removed.
    assert sorted((item["kind"], item["where"]) for item in uipath_row["leftover"]) == [
        ("Orchestrator user", "tenant DefaultTenant"), ("Orchestrator user", "tenant Production")]
    [kept] = [item for item in uipath_row["manual_follow_up"] if item["kind"] == "personal workspace"]
    assert kept["where"] == "tenant DefaultTenant" and "(620795)" in kept["detail"]
    assert [(one["Id"], one["entities"]) for one in simulators["uipath"].tenant("DefaultTenant")["personal_workspaces"]
            if one["OwnerId"] == 1475514] == [(620795, 2)]
    for tenant in ("DefaultTenant", "Production"):
        users = [user["UserName"] for user in simulators["uipath"].tenant(tenant)["users"]]
        assert "dana.lee@example.com" not in users and "sam.taylor@example.com" in users
    # Alibaba: by the delete with force, the access configuration only Dana had on the account de-provisioned, the
    # RAM user provisioning removed (its RAM users deleted in the background); the failed provisioning event
    # reported for a person.
    assert [(item["kind"], item["id"]) for item in alibaba_row["leftover"]] == [
        ("access configuration", "ac-00demoadmin0000001"), ("RAM user provisioning", "up-00demodanalee0001")]
    assert "provisioning" in " ".join(item["kind"] for item in alibaba_row["manual_follow_up"]).lower()
    directory = list(simulators["alibaba"].snapshot()["directories"].values())[0]
    assert not [one for one in directory["user_provisionings"] if one["UserProvisioningId"] == "up-00demodanalee0001"]
    assert "ac-00demoadmin0000001" not in directory["provisioned_access_configurations"].get("1142405247840001", [])
    # Every row says what remains for a person, with the longest time where the provider documents one.
    assert kinds(atlassian_row["manual_follow_up"])[0] == "sessions"
    assert [item for item in alibaba_row["manual_follow_up"] if item["kind"] == "sessions"][0]["until"]
    assert "### Dana Lee (dana.lee@example.com)" in markdown and markdown.count("  - leftover access removed:") == 3
    assert markdown.count("  - manual follow-up:") == 3

    again = offboard(ansible, env, **options)
    assert again.returncode == 0, again.output
    assert json.loads(again.stdout)["stats"]["localhost"]["changed"] == 0
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert latest["summary"] == {"already absent": 3} and latest["plan"] == []
    assert [row(latest, 0, provider)["leftover"] for provider in ("atlassian", "uipath", "alibaba")] == [[], [], []]
    assert row(latest, 0, "atlassian")["sweep"]["status"] == "nothing left"
    # uipath_user read both tenants again for the leaver, given by name, and found nothing.
    assert row(latest, 0, "uipath")["sweep"]["status"] == "nothing left"


# --- what an already absent leaver left behind ---------------------------------------------------------

def test_what_an_already_absent_leaver_left_is_swept_planned_approved_and_reported_as_already_absent(ansible, serve):
    # Dana left the organization in an earlier run that did not sweep: her Orchestrator user is still there.
    everyone = ["PM.User", "PM.User.Read", "PM.User.Write", "OR.Users", "OR.Users.Read", "OR.Users.Write",
                "OR.Folders", "OR.Folders.Read", "OR.Folders.Write"]
    uipath = simulator_class("uipath")({"acme": {
        "clients": {"sweep-app": {"secret": "uipath-absent-sweep-secret-1", "scopes": everyone}},
        "users": [{"id": "00000000-0000-4000-8000-000000000004", "userName": "sam.taylor@example.com",
                   "email": "sam.taylor@example.com", "name": "Sam", "surname": "Taylor", "isActive": True, "type": 0}],
        "tenants": {"DefaultTenant": {"users": [
            {"Id": 11, "UserName": "dana.lee@example.com", "EmailAddress": "dana.lee@example.com", "Type": "DirectoryUser"},
            {"Id": 14, "UserName": "sam.taylor@example.com", "EmailAddress": "sam.taylor@example.com",
             "Type": "DirectoryUser"}]}}}})
    env = uipath.client_environment(serve(uipath).url)
    options = {"offboard_users": [{"email": "dana.lee@example.com"}], "offboard_uipath_tenants": ["DefaultTenant"]}

    rehearsal = offboard(ansible, env, check=True, **options)
    assert rehearsal.returncode == 0, rehearsal.output
    assert changing(uipath) == []
    rehearsed, _markdown = only_report(ansible.workdir)
    dana = row(rehearsed, 0, "uipath")
    # Not "would remove": the organization user is gone already. What it left is planned all the same.
    assert dana["outcome"] == "already absent" and [item["id"] for item in dana["leftover"]] == ["11"]
    [planned] = rehearsed["plan"]
    assert planned["user_id"] == "dana.lee@example.com" and len(planned["actions"]) == 1

    approved = offboard(ansible, env, offboard_approved_plan=rehearsed["plan"],
                        offboard_approved_plan_digest=rehearsed["plan_digest"], **options)
    assert approved.returncode == 0, approved.output
    assert [user["UserName"] for user in uipath.tenant("DefaultTenant")["users"]] == ["sam.taylor@example.com"]
    report = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert report["approval"]["result"] == "approved" and report["approval"]["changed_outside_plan"] == []
    dana = row(report, 0, "uipath")
    assert dana["outcome"] == "already absent" and report["summary"] == {"already absent": 1}
    assert [item["done"] for item in dana["leftover"]] == ["removed"] and dana["msg"].startswith("already absent;")
    assert report["plan"] == rehearsed["plan"]

    again = offboard(ansible, env, **options)
    assert again.returncode == 0, again.output
    latest = sorted(reports(ansible.workdir).items())[-1][1][0]
    assert latest["plan"] == [] and row(latest, 0, "uipath")["sweep"] == {"status": "nothing left"}
