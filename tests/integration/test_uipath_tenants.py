# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uipath_user with tenants: the leaver's Orchestrator users and personal workspaces, swept before the organization
user, run by ansible-playbook against the UiPath simulator (identity server and Orchestrator per tenant)."""

from __future__ import annotations

import os

import yaml

from simulators.uipath import UiPathIdentitySimulator

ORG = "acme"
PARTITION = "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13"
CLIENT_ID = "3b0c6f1e-8a4d-4e2b-9c7f-5d1a2e3f4b61"
SECRET = "uipath-sweep-secret-Vb5nQ8wE"
# Granted the identity scopes only, as every application was before the sweep.
PM_ONLY_ID = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c20"
PM_ONLY_SECRET = "uipath-pm-only-secret-Kx3mZ9tR"
# Holds every scope, but has no role in the tenant Audit.
NO_ROLE_ID = "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a10"
NO_ROLE_SECRET = "uipath-no-role-secret-Jp6wN2sY"
# A personal access token made without OR.Folders.
PAT_WITHOUT_FOLDERS = "rt_test_pat_without_folders_7QaL"
MODULE = "identity.lifecycle.uipath_user"
FILES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs",
                     "least-privilege")
EVERY_SCOPE = ["PM.User", "PM.User.Read", "PM.User.Write", "OR.Users", "OR.Users.Read", "OR.Users.Write",
               "OR.Folders", "OR.Folders.Read", "OR.Folders.Write"]


def uid(number):
    return "00000000-0000-4000-8000-%012d" % number


def person(number, email):
    first, _dot, last = email.split("@")[0].partition(".")
    return {"id": uid(number), "userName": email, "email": email, "name": first.title(), "surname": last.title(),
            "isActive": True, "type": 0}


def orchestrator_user(key, email, **extra):
    return dict({"Id": key, "UserName": email, "EmailAddress": email, "Type": "DirectoryUser"}, **extra)


def least_privilege_applications():
    with open(os.path.join(FILES, "uipath-external-application.yml"), encoding="utf-8") as handle:
        return dict((one["name"], one) for one in yaml.safe_load(handle)["applications"])


def make(serve):
    applications = least_privilege_applications()
    sweep_app = applications["identity.lifecycle offboarding with the tenant sweep"]
    rehearsal_app = applications["identity.lifecycle rehearsal with the tenant sweep"]
    simulator = UiPathIdentitySimulator({ORG: {
        "partition_global_id": PARTITION,
        "clients": {CLIENT_ID: {"secret": SECRET, "scopes": EVERY_SCOPE},
                    PM_ONLY_ID: {"secret": PM_ONLY_SECRET, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]},
                    NO_ROLE_ID: {"secret": NO_ROLE_SECRET, "scopes": EVERY_SCOPE},
                    "sweep-app": {"secret": "uipath-sweep-app-secret-1", "scopes": sweep_app["scope"].split()},
                    "rehearsal-app": {"secret": "uipath-rehearsal-app-secret-2",
                                      "scopes": rehearsal_app["scope"].split()}},
        "personal_access_tokens": {PAT_WITHOUT_FOLDERS: {"scopes": ["OR.Users"]}},
        "users": [person(1, "dana.lee@example.com"), person(2, "omar.haddad@example.com"),
                  person(3, "mei.chen@example.com"), person(4, "sam.taylor@example.com"),
                  person(5, "jan.kowalski@example.com"), person(6, "o'brien@example.com")],
        "tenants": {
            "DefaultTenant": {"users": [
                # Dana's workspace holds automations: converting it keeps them, as a folder.
                orchestrator_user(11, "dana.lee@example.com", personal_workspace={"Id": 620795, "entities": 3}),
                orchestrator_user(12, "OMAR.HADDAD@example.com"),
                orchestrator_user(13, "sam.taylor@example.com", personal_workspace=True),
                # Left behind by an earlier offboarding that did not sweep: the organization user is gone.
                orchestrator_user(14, "ivy.novak@example.com", personal_workspace=True),
                # Only a look-alike of Jan's name: not Jan's, and never taken for it.
                orchestrator_user(15, "jan.kowalski@example.co"),
                orchestrator_user(16, "o'brien@example.com"),
            ], "folders": [{"DisplayName": "Shared", "entities": 9}]},
            "Production": {"users": [
                orchestrator_user(21, "dana.lee@example.com"),
                orchestrator_user(22, "mei.chen@example.com", busy=True, personal_workspace=True),
            ]},
            "Audit": {"users": [orchestrator_user(31, "omar.haddad@example.com")],
                      "clients_without_role": [NO_ROLE_ID]},
        },
    }})
    return simulator, serve(simulator)


def defaults(server, client=CLIENT_ID, secret=SECRET, **extra):
    options = {"base_url": server.url, "organization": ORG, "client_id": client, "client_secret": secret}
    options.update(extra)
    return {"group/identity.lifecycle.uipath": options}


def orchestrator_changes(simulator):
    return [(entry["method"], entry["path"].split("/orchestrator_/odata/")[1].split("?")[0], entry["status"])
            for entry in simulator.requests() if entry["changing"] and "/orchestrator_/" in entry["path"]]


def test_sweep_removes_tenant_users_keeps_workspaces_as_folders_then_the_organization_user(ansible, serve):
    simulator, server = make(serve)
    applications = least_privilege_applications()
    leavers = ["dana.lee@example.com", "omar.haddad@example.com", "mei.chen@example.com", "ivy.novak@example.com",
               "jan.kowalski@example.com", "o'brien@example.com", "nobody@example.com"]
    sweep = {"user_name": leavers, "state": "absent", "tenants": ["DefaultTenant", "production"]}

    def task(name, client, secret, scope=None, **extra):
        options = dict(sweep, client_id=client, client_secret=secret, **extra)
        if scope:
            options["scope"] = scope
        return {"name": name, MODULE: options, "ignore_errors": True}

    rehearsal = applications["identity.lifecycle rehearsal with the tenant sweep"]
    result = ansible.tasks([task("rehearse", "rehearsal-app", "uipath-rehearsal-app-secret-2", rehearsal["scope"])],
                           module_defaults=defaults(server), check=True, diff=True)
    planned = result.task("rehearse")
    # Check mode: reads only (the suite's guard checks the log too), the leftover that would go, Mei refused.
    assert [entry for entry in simulator.requests() if entry["changing"] and "/connect/token" not in entry["path"]] == []
    users = dict((user["user_name"], user) for user in planned["users"])
    assert users["dana.lee@example.com"]["msg"] == "would be deleted"
    assert users["dana.lee@example.com"]["actions"] == [
        'converted personal workspace "dana.lee@example.com\'s workspace" (620795) to the folder '
        '"dana.lee@example.com\'s workspace (620795)" in tenant DefaultTenant',
        'removed Orchestrator user "dana.lee@example.com" (11) from tenant DefaultTenant',
        'removed Orchestrator user "dana.lee@example.com" (21) from tenant production', "deleted"]
    assert users["dana.lee@example.com"]["leftover"] == [
        {"kind": "personal workspace", "done": "converted to a folder", "id": "620795",
         "name": "dana.lee@example.com's workspace", "where": "tenant DefaultTenant"},
        {"kind": "Orchestrator user", "done": "removed", "id": "11", "name": "dana.lee@example.com",
         "where": "tenant DefaultTenant"},
        {"kind": "Orchestrator user", "done": "removed", "id": "21", "name": "dana.lee@example.com",
         "where": "tenant production"}]
    assert [item["kind"] for item in users["dana.lee@example.com"]["manual_follow_up"]] == ["personal access tokens"]
    assert "has busy robots" in users["mei.chen@example.com"]["msg"]
    assert "nothing was removed for this user, in any tenant or at the organization" in users["mei.chen@example.com"]["msg"]
    assert users["ivy.novak@example.com"]["msg"] == "already absent; its Orchestrator users would be removed"
    assert users["jan.kowalski@example.com"]["actions"] == ["deleted"]  # the look-alike is not Jan's
    assert users["o'brien@example.com"]["leftover"][0]["id"] == "16"  # the quote survives the OData filter
    assert (users["nobody@example.com"]["msg"], users["nobody@example.com"]["changed"]) == ("already absent", False)
    diff = dict((entry["before_header"], entry) for entry in planned["diff"])["UiPath Identity user dana.lee@example.com"]
    assert diff["before"]["tenants"] == {
        "DefaultTenant": {"orchestrator_user": "dana.lee@example.com (11)",
                          "personal_workspaces": ["dana.lee@example.com's workspace (620795)"]},
        "production": {"orchestrator_user": "dana.lee@example.com (21)", "personal_workspaces": []}}
    assert diff["after"] == {"user_id": uid(1), "user_name": "dana.lee@example.com", "state": "absent"}

    sweeper = applications["identity.lifecycle offboarding with the tenant sweep"]
    result = ansible.tasks([task("offboard", "sweep-app", "uipath-sweep-app-secret-1", sweeper["scope"]),
                            task("again", "sweep-app", "uipath-sweep-app-secret-1", sweeper["scope"])],
                           module_defaults=defaults(server))
    done = result.task("offboard")
    assert done["failed"] is True and "1 of 7 users failed (mei.chen@example.com)" in done["msg"]
    users = dict((user["user_name"], user) for user in done["users"])
    # The same actions as the rehearsal said, in the same order, and the same leftover.
    for name, rehearsed in ((user["user_name"], user) for user in planned["users"]):
        assert (users[name]["actions"], users[name]["leftover"]) == (rehearsed["actions"], rehearsed["leftover"]), name
    assert users["dana.lee@example.com"]["msg"] == "deleted"
    assert users["dana.lee@example.com"]["manual_follow_up"][0]["where"] == "organization acme"
    assert users["ivy.novak@example.com"]["msg"] == "already absent; its Orchestrator users were removed"
    assert users["ivy.novak@example.com"]["manual_follow_up"] == []  # not deleted by this task
    assert users["mei.chen@example.com"]["actions"] == [] and users["mei.chen@example.com"]["failed"] is True

    # Every tenant change came before the organization's bulk delete, and the busy user was left everywhere.
    changes = [entry for entry in simulator.requests() if entry["changing"] and "/connect/token" not in entry["path"]]
    assert changes[-1]["method"] == "DELETE" and changes[-1]["path"] == "/acme/identity_/api/User"
    assert sorted(orchestrator_changes(simulator)) == sorted([
        ("POST", "PersonalWorkspaces(620795)/UiPath.Server.Configuration.OData.ConvertToFolder", 204),
        ("DELETE", "Users(11)", 204), ("DELETE", "Users(21)", 204), ("DELETE", "Users(12)", 204),
        ("POST", "PersonalWorkspaces(1002)/UiPath.Server.Configuration.OData.ConvertToFolder", 204),
        ("DELETE", "Users(14)", 204), ("DELETE", "Users(16)", 204)])
    default = simulator.tenant("DefaultTenant")
    assert sorted(user["Id"] for user in default["users"]) == [13, 15]
    assert [workspace["OwnerId"] for workspace in default["personal_workspaces"]] == [13]
    # The workspaces are folders now, automations and all, and outlive their owners (converted concurrently,
    # so in either order).
    assert sorted((folder["DisplayName"], folder["entities"]) for folder in default["folders"]) == [
        ("Shared", 9), ("dana.lee@example.com's workspace (620795)", 3), ("ivy.novak@example.com's workspace (1002)", 0)]
    assert [user["Id"] for user in simulator.tenant("Production")["users"]] == [22]
    assert sorted(user["email"] for user in simulator.users()) == ["mei.chen@example.com", "sam.taylor@example.com"]

    # A second run: nothing left, nothing changed, proven by reads in every tenant (Mei still refused).
    again = result.task("again")
    assert again["changed"] is False
    assert [user["msg"] for user in again["users"] if user["user_name"] != "mei.chen@example.com"] == [
        "already absent"] * 6
    assert all(user["leftover"] == [] for user in again["users"])
    tokens = [entry for entry in simulator.token_requests if entry["client_id"] == "sweep-app"]
    assert [entry["scope"] for entry in tokens] == [sweeper["scope"]] * 2
    assert len(orchestrator_changes(simulator)) == 7


def test_sweep_refusals_are_loud_and_keep_the_organization_user(ansible, serve):
    simulator, server = make(serve)
    # Omar's tenant user is removed, but the answer is lost: the retry's 404 proves this task removed it.
    simulator.add_fault(action="process_then_respond", method="DELETE", path=r"/orchestrator_/odata/Users\(12\)$",
                        status=502, body={"message": "Bad Gateway"})

    def task(name, users, **options):
        return {"name": name, MODULE: dict({"user_name": users, "state": "absent"}, **options),
                "ignore_errors": True}

    tasks = [
        task("unknown tenant", ["dana.lee@example.com"], tenants=["DefaultTenant", "Nowhere"]),
        task("scope without Orchestrator", ["dana.lee@example.com"], tenants=["DefaultTenant"],
             scope="PM.User.Read PM.User.Write"),
        task("application without Orchestrator scopes", ["dana.lee@example.com"], tenants=["DefaultTenant"],
             client_id=PM_ONLY_ID, client_secret=PM_ONLY_SECRET),
        task("no role in the tenant", ["omar.haddad@example.com"], tenants=["Audit"], client_id=NO_ROLE_ID,
             client_secret=NO_ROLE_SECRET),
        task("token without OR.Folders", ["omar.haddad@example.com"], tenants=["DefaultTenant"],
             access_token=PAT_WITHOUT_FOLDERS, client_id="", client_secret="", partition_global_id=PARTITION),
        {"name": "refuse conversions", "ansible.builtin.uri": {
            "url": server.url + "/_sim/uipath/settings", "method": "POST", "body_format": "json",
            "body": {"convert_to_folder": "refused"}, "status_code": 204}},
        task("conversion refused", ["dana.lee@example.com"], tenants=["production", "DefaultTenant"]),
        task("workspace holding automations", ["dana.lee@example.com"], tenants=["DefaultTenant"],
             personal_workspace="delete"),
        task("empty workspace deleted", ["sam.taylor@example.com", "omar.haddad@example.com"],
             tenants=["DefaultTenant"], personal_workspace="delete"),
        task("disabled", ["mei.chen@example.com"], tenants=["Production"], state="disabled"),
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    msg = dict((name, result.task(name)["users"][0]["msg"] if result.task(name).get("users") else
                result.task(name)["msg"]) for name in (
        "unknown tenant", "scope without Orchestrator", "application without Orchestrator scopes",
        "no role in the tenant", "token without OR.Folders", "conversion refused", "workspace holding automations"))
    nothing = "nothing was removed for this user, in any tenant or at the organization"
    assert "tenant Nowhere could not be read" in msg["unknown tenant"] and nothing in msg["unknown tenant"]
    assert "answered HTTP 404" in msg["unknown tenant"] and "check the tenant name" in msg["unknown tenant"]
    assert ("scope 'PM.User.Read PM.User.Write' lacks OR.Users (or OR.Users.Read and OR.Users.Write), OR.Folders "
            "(or OR.Folders.Read and OR.Folders.Write)") in msg["scope without Orchestrator"]
    # The default scope asks for the Orchestrator scopes too; an application without them gets a clear refusal.
    assert "(invalid_scope)" in msg["application without Orchestrator scopes"]
    assert "OR.Users" in msg["application without Orchestrator scopes"]
    for name in ("no role in the tenant", "token without OR.Folders"):
        assert "answered HTTP 403" in msg[name] and nothing in msg[name], name
        assert "OR.Users and OR.Folders" in msg[name] and "Users View and Delete" in msg[name], name
    assert "tenant Audit could not be read" in msg["no role in the tenant"]
    assert "PersonalWorkspaces" in msg["token without OR.Folders"]
    # Production was swept, then DefaultTenant refused the conversion: nothing after it, the organization user kept.
    refused = result.task("conversion refused")["users"][0]
    assert refused["actions"] == ['removed Orchestrator user "dana.lee@example.com" (21) from tenant production']
    assert "tenant DefaultTenant: OAuth authentication is not supported" in msg["conversion refused"]
    assert "Convert to folder" in msg["conversion refused"] and "personal_workspace: delete" in msg["conversion refused"]
    assert ('Not done: converted personal workspace "dana.lee@example.com\'s workspace" (620795) to the folder '
            '"dana.lee@example.com\'s workspace (620795)" in tenant DefaultTenant; removed Orchestrator user '
            '"dana.lee@example.com" (11) from tenant DefaultTenant; the organization user was kept') in msg[
        "conversion refused"]
    assert "answered HTTP 409" in msg["workspace holding automations"]
    assert "contains 3 entities" in msg["workspace holding automations"]
    deleted = result.task("empty workspace deleted")
    assert deleted["users"][0]["leftover"][0] == {
        "kind": "personal workspace", "done": "deleted", "id": "1001", "name": "sam.taylor@example.com's workspace",
        "where": "tenant DefaultTenant"}
    assert [user["msg"] for user in deleted["users"]] == ["deleted", "deleted"]
    assert deleted["users"][1]["leftover"] == [{"kind": "Orchestrator user", "done": "removed", "id": "12",
                                                "name": "OMAR.HADDAD@example.com", "where": "tenant DefaultTenant"}]
    assert "UiPath Orchestrator: 1 of 7 requests were retried (502: 1)" in deleted["warnings"]
    assert [(entry["status"], entry.get("fault")) for entry in simulator.requests("DELETE", r"/odata/Users\(12\)$")] == [
        (204, "process_then_respond"), (404, None)]
    disabled = result.task("disabled")["users"][0]
    assert disabled["msg"] == "disabled" and disabled["leftover"] == []
    assert [(item["kind"], item["where"]) for item in disabled["manual_follow_up"]] == [
        ("Orchestrator users", "tenant Production")]

    assert sorted(user["email"] for user in simulator.users()) == [
        "dana.lee@example.com", "jan.kowalski@example.com", "mei.chen@example.com", "o'brien@example.com"]
    assert [user["Id"] for user in simulator.tenant("Production")["users"]] == [22]
    default = simulator.tenant("DefaultTenant")
    assert sorted(user["Id"] for user in default["users"]) == [11, 14, 15, 16]
    assert [workspace["Id"] for workspace in default["personal_workspaces"]] == [620795, 1002]
    assert [user["Id"] for user in simulator.tenant("Audit")["users"]] == [31]
    # Omar went from the organization in the last sweep, so his Audit user is a leftover a later sweep of Audit
    # finds by name; no request ever reached Audit with a role.
    assert [entry["status"] for entry in simulator.requests() if "/Audit/" in entry["path"]] == [403]
