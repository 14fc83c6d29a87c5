# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uipath_user with tenants: the leaver's Orchestrator users and personal workspaces, swept before the organization
user, run by ansible-playbook against the UiPath simulator (identity server and Orchestrator per tenant)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import yaml

from simulators.uipath import UiPathIdentitySimulator, filter_node_count, parse_filter

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


def make(serve, **settings):
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
    }}, **settings)
    return simulator, serve(simulator)


def defaults(server, client=CLIENT_ID, secret=SECRET, **extra):
    options = {"base_url": server.url, "organization": ORG, "client_id": client, "client_secret": secret}
    options.update(extra)
    return {"group/identity.lifecycle.uipath": options}


def with_actions(user, items):
    """`items` with the `action` each leftover item names: its step's entry in the user's actions, in order."""
    return [dict(item, action=action) for item, action in zip(items, user["actions"])]


def orchestrator_changes(simulator):
    return [(entry["method"], entry["path"].split("/orchestrator_/odata/")[1].split("?")[0], entry["status"])
            for entry in simulator.requests() if entry["changing"] and "/orchestrator_/" in entry["path"]]


def test_sweep_removes_tenant_users_keeps_workspaces_as_folders_then_the_organization_user(ansible, serve):
    # An Orchestrator that converts workspaces for OAuth tokens, although its API definition says it does not.
    simulator, server = make(serve, convert_to_folder="allowed")
    applications = least_privilege_applications()
    leavers = ["dana.lee@example.com", "omar.haddad@example.com", "mei.chen@example.com", "ivy.novak@example.com",
               "jan.kowalski@example.com", "o'brien@example.com", "nobody@example.com"]
    sweep = {"user_name": leavers, "state": "absent", "tenants": ["DefaultTenant", "production"],
             "personal_workspace": "convert"}

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
    assert users["dana.lee@example.com"]["leftover"] == with_actions(users["dana.lee@example.com"], [
        {"kind": "personal workspace", "done": "converted to a folder", "id": "620795",
         "name": "dana.lee@example.com's workspace", "where": "tenant DefaultTenant"},
        {"kind": "Orchestrator user", "done": "removed", "id": "11", "name": "dana.lee@example.com",
         "where": "tenant DefaultTenant"},
        {"kind": "Orchestrator user", "done": "removed", "id": "21", "name": "dana.lee@example.com",
         "where": "tenant production"}])
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
        # The API definition: ConvertToFolder does not support OAuth, which every token of the module is.
        task("conversion refused", ["dana.lee@example.com"], tenants=["production", "DefaultTenant"],
             personal_workspace="convert"),
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
    # Workspaces kept as they are (the default): folders are only read.
    assert ("scope 'PM.User.Read PM.User.Write' lacks OR.Users (or OR.Users.Read and OR.Users.Write), OR.Folders "
            "(or OR.Folders.Read), which tenants needs") in msg["scope without Orchestrator"]
    # The default scope asks for the Orchestrator scopes too; an application without them gets a clear refusal.
    assert "(invalid_scope)" in msg["application without Orchestrator scopes"]
    assert "OR.Users" in msg["application without Orchestrator scopes"]
    for name in ("no role in the tenant", "token without OR.Folders"):
        assert "answered HTTP 403" in msg[name] and nothing in msg[name], name
        assert "OR.Users and OR.Folders" in msg[name] and "Users View and Delete" in msg[name], name
    assert "tenant Audit could not be read" in msg["no role in the tenant"]
    assert "PersonalWorkspaces" in msg["token without OR.Folders"]
    # Every conversion comes before any removal, in every tenant: the refused one leaves everything as it was.
    refused = result.task("conversion refused")["users"][0]
    assert refused["actions"] == [] and refused["leftover"] == []
    assert "tenant DefaultTenant: OAuth authentication is not supported" in msg["conversion refused"]
    assert "Convert to folder" in msg["conversion refused"] and "personal_workspace: keep" in msg["conversion refused"]
    assert ('Done for this user before: nothing. Not done: converted personal workspace "dana.lee@example.com\'s '
            'workspace" (620795) to the folder "dana.lee@example.com\'s workspace (620795)" in tenant DefaultTenant; '
            'removed Orchestrator user "dana.lee@example.com" (21) from tenant production; removed Orchestrator user '
            '"dana.lee@example.com" (11) from tenant DefaultTenant; the organization user was kept') in msg[
        "conversion refused"]
    # With delete, the owner goes first (a folder with user associations is never deleted); the workspace still
    # holds automations, so it is left, without its owner, and said so.
    assert "answered HTTP 409" in msg["workspace holding automations"]
    assert "has 3 entities" in msg["workspace holding automations"]
    assert "left in tenant DefaultTenant without its owner" in msg["workspace holding automations"]
    deleted = result.task("empty workspace deleted")
    sam, omar = deleted["users"]
    assert sam["leftover"] == with_actions(sam, [
        {"kind": "Orchestrator user", "done": "removed", "id": "13", "name": "sam.taylor@example.com",
         "where": "tenant DefaultTenant"},
        {"kind": "personal workspace", "done": "deleted", "id": "1001", "name": "sam.taylor@example.com's workspace",
         "where": "tenant DefaultTenant"}])
    assert [user["msg"] for user in deleted["users"]] == ["deleted", "deleted"]
    assert omar["leftover"] == with_actions(omar, [{
        "kind": "Orchestrator user", "done": "removed", "id": "12", "name": "OMAR.HADDAD@example.com",
        "where": "tenant DefaultTenant"}])
    assert "UiPath Orchestrator: 1 of 7 requests were retried (502: 1)" in deleted["warnings"]
    assert [(entry["status"], entry.get("fault")) for entry in simulator.requests("DELETE", r"/odata/Users\(12\)$")] == [
        (204, "process_then_respond"), (404, None)]
    disabled = result.task("disabled")["users"][0]
    assert disabled["msg"] == "disabled" and disabled["leftover"] == []
    assert [(item["kind"], item["where"]) for item in disabled["manual_follow_up"]] == [
        ("Orchestrator users", "tenant Production")]

    assert sorted(user["email"] for user in simulator.users()) == [
        "dana.lee@example.com", "jan.kowalski@example.com", "mei.chen@example.com", "o'brien@example.com"]
    assert [user["Id"] for user in simulator.tenant("Production")["users"]] == [21, 22]
    default = simulator.tenant("DefaultTenant")
    assert sorted(user["Id"] for user in default["users"]) == [14, 15, 16]
    assert [(workspace["Id"], workspace["entities"]) for workspace in default["personal_workspaces"]] == [
        (620795, 3), (1002, 0)]
    assert [user["Id"] for user in simulator.tenant("Audit")["users"]] == [31]
    # Omar went from the organization in the last sweep, so his Audit user is a leftover a later sweep of Audit
    # finds by name; no request ever reached Audit with a role.
    assert [entry["status"] for entry in simulator.requests() if "/Audit/" in entry["path"]] == [403]


# --- what UiPath's Orchestrator API definition says, and the simulator enforces -------------------------------

def small_tenant(serve, people, orchestrator_users, **settings):
    """An organization of `people` with one tenant, DefaultTenant, of `orchestrator_users`."""
    simulator = UiPathIdentitySimulator({ORG: {
        "partition_global_id": PARTITION, "clients": {CLIENT_ID: {"secret": SECRET, "scopes": EVERY_SCOPE}},
        "users": people, "tenants": {"DefaultTenant": {"users": orchestrator_users}}}}, **settings)
    return simulator, serve(simulator)


def filters_sent(simulator):
    """(entity, $filter) of every filtered Orchestrator read, in order."""
    sent = []
    for entry in simulator.requests("GET", r"/orchestrator_/odata/"):
        query = parse_qs(urlsplit(entry["path"]).query)
        if "$filter" in query:
            sent.append((urlsplit(entry["path"]).path.rsplit("/", 1)[-1], query["$filter"][0]))
    return sent


def test_the_filters_of_many_leavers_fit_orchestrators_node_limit(ansible, serve):
    # Finding 17: 24 leavers whose user names are not their e-mails, each with an Orchestrator user (found by
    # either name) among many others. Ten people a filter, as before, is 40 comparisons: 199 nodes of the 100
    # OData allows, and Orchestrator refuses the read, so every leaver fails.
    people = [dict(person(number, "first.last%02d@example.com" % number), userName="flast%02d" % number)
              for number in range(1, 25)]
    leavers = [one["userName"] for one in people]
    tenant_users = [orchestrator_user(100 + number, people[number - 1]["email"] if number % 2 else
                                      people[number - 1]["userName"], personal_workspace=number % 3 == 0)
                    for number in range(1, 25)]
    tenant_users += [orchestrator_user(500 + number, "stays%03d@example.com" % number) for number in range(150)]
    simulator, server = small_tenant(serve, people, tenant_users)
    result = ansible.tasks([{"name": "offboard", MODULE: {"user_name": leavers, "state": "absent",
                                                          "tenants": ["DefaultTenant"]}, "ignore_errors": True}],
                           module_defaults=defaults(server))
    done = result.task("offboard")
    assert not done.get("failed"), done["msg"]
    assert [user["msg"] for user in done["users"]] == ["deleted"] * 24
    assert simulator.users() == []
    remaining = simulator.tenant("DefaultTenant")["users"]
    assert sorted(user["Id"] for user in remaining) == list(range(500, 650))
    # Every filter the sweep sent fits, as the simulator counts it (OData's count), and none was refused.
    sent = filters_sent(simulator)
    counts = [filter_node_count(parse_filter(text)) for _entity, text in sent]
    assert counts and max(counts) <= 100
    assert all(entry["status"] == 200 for entry in simulator.requests("GET", r"/orchestrator_/odata/"))
    # Split with a margin, not into one read per leaver: each survey read but the last of its kind carries most of
    # the limit (the reads of kept workspaces after their owners' removal are by Id, one each).
    for entity, field in (("Users", "UserName"), ("PersonalWorkspaces", "OwnerId")):
        full = [count for (name, text), count in zip(sent, counts)
                if name == entity and parse_filter(text)[0][0] == field][:-1]
        assert full and all(count >= 75 for count in full), (entity, full)
    asked = sorted(name for _entity, text in sent if _entity == "Users" for _field, name in parse_filter(text))
    assert asked == sorted([one["userName"] for one in people] * 2 + [one["email"] for one in people] * 2)
    # Each leaver's Orchestrator user went before the leaver, its workspace left and named for a person.
    kept = [user for user in done["users"] if [item for item in user["manual_follow_up"]
                                               if item["kind"] == "personal workspace"]]
    assert len(kept) == 8 and len(simulator.tenant("DefaultTenant")["personal_workspaces"]) == 8


def test_by_default_a_workspace_is_kept_and_named_for_a_person_as_its_owner_is_removed(ansible, serve):
    # Finding 18: ConvertToFolder "does not support OAuth", and every token of the module is OAuth, so converting
    # cannot be the default: by default the workspace is left as it is (with what it holds), named in
    # manual_follow_up with what to do in Orchestrator, never claimed as removed or converted.
    simulator, server = make(serve)
    leaver = {"user_name": ["dana.lee@example.com"], "state": "absent", "tenants": ["DefaultTenant", "Production"]}
    kept_action = ('removed Orchestrator user "dana.lee@example.com" (11) from tenant DefaultTenant, leaving its '
                   'personal workspace "dana.lee@example.com\'s workspace" (620795) as it is')
    result = ansible.tasks([
        {"name": "rehearse", MODULE: leaver, "check_mode": True},
        {"name": "rehearse converting", MODULE: dict(leaver, personal_workspace="convert"), "check_mode": True},
        {"name": "offboard", MODULE: leaver, "ignore_errors": True},
    ], module_defaults=defaults(server))
    rehearsed = result.task("rehearse")["users"][0]
    assert rehearsed["actions"] == [kept_action, 'removed Orchestrator user "dana.lee@example.com" (21) from tenant '
                                                 'Production', "deleted"]
    # The setting changes what is done, so it changes the actions an approval compares.
    assert result.task("rehearse converting")["users"][0]["actions"][0].startswith("converted personal workspace")
    [would_keep] = [item for item in rehearsed["manual_follow_up"] if item["kind"] == "personal workspace"]
    assert would_keep["where"] == "tenant DefaultTenant" and "would be left as it is" in would_keep["detail"]

    done = result.task("offboard")["users"][0]
    assert (done["msg"], done["actions"]) == ("deleted", rehearsed["actions"])
    assert [(item["kind"], item["id"], item["done"]) for item in done["leftover"]] == [
        ("Orchestrator user", "11", "removed"), ("Orchestrator user", "21", "removed")]
    [kept] = [item for item in done["manual_follow_up"] if item["kind"] == "personal workspace"]
    assert kept["where"] == "tenant DefaultTenant"
    for words in ('"dana.lee@example.com\'s workspace" (620795)', "was left as it is", "Convert to folder",
                  "Tenant > Folders > Personal Workspaces"):
        assert words in kept["detail"], words
    # The workspace is still there, with what it holds, proven by a read after its owner was removed.
    [workspace] = [one for one in simulator.tenant("DefaultTenant")["personal_workspaces"] if one["OwnerId"] == 11]
    assert (workspace["Id"], workspace["entities"]) == (620795, 3)
    assert sorted(orchestrator_changes(simulator)) == [("DELETE", "Users(11)", 204), ("DELETE", "Users(21)", 204)]
    log = [(entry["method"], unquote(urlsplit(entry["path"]).path), parse_qs(urlsplit(entry["path"]).query))
           for entry in simulator.requests()]
    removal = log.index(("DELETE", "/acme/DefaultTenant/orchestrator_/odata/Users(11)", {}))
    assert [query for method, path, query in log[removal:] if method == "GET" and path.endswith(
        "/odata/PersonalWorkspaces") and query["$filter"] == ["Id eq 620795"]]


def test_a_kept_workspace_that_goes_with_its_owner_fails_loudly_and_keeps_the_organization_user(ansible, serve):
    # Whether Orchestrator keeps a workspace whose owner is removed is not documented: if it does not, the run
    # says so instead of naming a workspace that is gone.
    simulator, server = make(serve, workspace_owner_removal="deletes")

    def offboard(name, user):
        return {"name": name, MODULE: {"user_name": [user], "state": "absent", "tenants": ["DefaultTenant"]},
                "ignore_errors": True}

    result = ansible.tasks([
        offboard("offboard", "dana.lee@example.com"),
        # Or Orchestrator refuses to remove a user who owns a workspace: the user fails at that step.
        {"name": "refuse owners", "ansible.builtin.uri": {
            "url": server.url + "/_sim/uipath/settings", "method": "POST", "body_format": "json",
            "body": {"workspace_owner_removal": "refused"}, "status_code": 204}},
        offboard("owner refused", "sam.taylor@example.com"),
    ], module_defaults=defaults(server))
    dana = result.task("offboard")["users"][0]
    assert dana["failed"] is True
    assert dana["actions"] == ['removed Orchestrator user "dana.lee@example.com" (11) from tenant DefaultTenant, '
                               'leaving its personal workspace "dana.lee@example.com\'s workspace" (620795) as it is']
    assert "620795" in dana["msg"] and "no longer listed after its owner was removed" in dana["msg"]
    assert "the organization user was kept" in dana["msg"]
    assert [item["kind"] for item in dana["manual_follow_up"]] == []
    sam = result.task("owner refused")["users"][0]
    assert sam["failed"] is True and sam["actions"] == [] and "owns a personal workspace" in sam["msg"]
    assert "Done for this user before: nothing" in sam["msg"] and "the organization user was kept" in sam["msg"]
    assert {"dana.lee@example.com", "sam.taylor@example.com"} <= set(user["email"] for user in simulator.users())
    assert 13 in [user["Id"] for user in simulator.tenant("DefaultTenant")["users"]]


def test_a_rehearsal_that_fails_a_leaver_names_no_workspace_it_would_keep(ansible, serve):
    simulator, server = make(serve)
    with simulator.lock:
        simulator.organizations[ORG]["tenants"]["production"]["busy"].add(21)  # Dana's robots, in Production
    result = ansible.tasks([{"name": "rehearse", MODULE: {"user_name": ["dana.lee@example.com"], "state": "absent",
                                                          "tenants": ["DefaultTenant", "Production"]},
                             "check_mode": True, "ignore_errors": True}], module_defaults=defaults(server))
    dana = result.task("rehearse")["users"][0]
    assert dana["failed"] is True and "has busy robots" in dana["msg"]
    assert (dana["actions"], dana["leftover"], dana["manual_follow_up"]) == ([], [], [])


def test_converting_refused_for_oauth_fails_before_any_change_anywhere(ansible, serve):
    simulator, server = make(serve)
    result = ansible.tasks([{"name": "offboard", MODULE: {
        "user_name": ["dana.lee@example.com"], "state": "absent", "tenants": ["Production", "DefaultTenant"],
        "personal_workspace": "convert"}, "ignore_errors": True}], module_defaults=defaults(server))
    dana = result.task("offboard")["users"][0]
    assert dana["failed"] is True and dana["actions"] == [] and dana["leftover"] == []
    assert "personal_workspace: keep" in dana["msg"]
    assert orchestrator_changes(simulator) == [
        ("POST", "PersonalWorkspaces(620795)/UiPath.Server.Configuration.OData.ConvertToFolder", 403)]
    assert [user["Id"] for user in simulator.tenant("Production")["users"]] == [21, 22]


def test_deleting_a_workspace_removes_its_owner_first_and_names_what_is_left(ansible, serve):
    # Finding 19: a folder is deleted only without entities and without user associations, and the owner is one.
    simulator, server = make(serve)
    with simulator.lock:
        # Ivy's workspace is being explored by user 16: a user association the sweep does not remove.
        simulator.organizations[ORG]["tenants"]["defaulttenant"]["workspaces"][1002]["ExploringUserIds"] = [16]

    def task(name, users):
        return {"name": name, MODULE: {"user_name": users, "state": "absent", "tenants": ["DefaultTenant"],
                                       "personal_workspace": "delete"}, "ignore_errors": True}

    result = ansible.tasks([task("empty", ["sam.taylor@example.com"]),
                            task("explored", ["ivy.novak@example.com"]),
                            task("holding automations", ["dana.lee@example.com"])], module_defaults=defaults(server))
    sam = result.task("empty")["users"][0]
    assert sam["msg"] == "deleted" and sam["actions"] == [
        'removed Orchestrator user "sam.taylor@example.com" (13) from tenant DefaultTenant',
        'deleted personal workspace "sam.taylor@example.com\'s workspace" (1001) in tenant DefaultTenant', "deleted"]
    assert [item["done"] for item in sam["leftover"]] == ["removed", "deleted"]
    # The explored workspace cannot be deleted: found before any change, nothing removed.
    ivy = result.task("explored")["users"][0]
    assert ivy["failed"] is True and ivy["actions"] == []
    assert "explored" in ivy["msg"] and "1002" in ivy["msg"] and "nothing was removed" in ivy["msg"]
    # Dana's holds automations: her Orchestrator user is removed, then Orchestrator refuses the folder.
    dana = result.task("holding automations")["users"][0]
    assert dana["failed"] is True
    assert dana["actions"] == ['removed Orchestrator user "dana.lee@example.com" (11) from tenant DefaultTenant']
    for words in ("(620795)", "has 3 entities", "left in tenant DefaultTenant without its owner",
                  "the organization user was kept"):
        assert words in dana["msg"], words
    default = simulator.tenant("DefaultTenant")
    assert [(one["Id"], one["entities"]) for one in default["personal_workspaces"]] == [(620795, 3), (1002, 0)]
    assert sorted(user["Id"] for user in default["users"]) == [12, 14, 15, 16]
    assert sorted(orchestrator_changes(simulator)) == sorted([
        ("DELETE", "Users(13)", 204), ("DELETE", "Folders(1001)", 204), ("DELETE", "Users(11)", 204),
        ("DELETE", "Folders(620795)", 409)])
    assert "dana.lee@example.com" in [user["email"] for user in simulator.users()]


def test_a_tenant_user_someone_else_removed_meanwhile_is_not_claimed(ansible, serve):
    # Between the reads and the delete, Ivy's Orchestrator user was removed by someone else: its DELETE answers
    # 404, with no lost answer. This run did not remove it, and nothing may say it did.
    simulator, server = make(serve)
    with simulator.lock:
        del simulator.organizations[ORG]["tenants"]["defaulttenant"]["workspaces"][1002]
    simulator.add_fault(method="DELETE", path=r"/orchestrator_/odata/Users\(14\)$", status=404,
                        body={"message": "User does not exist.", "errorCode": 1002, "traceId": "t-404"})
    result = ansible.tasks([{"name": "offboard", MODULE: {"user_name": ["ivy.novak@example.com"], "state": "absent",
                                                          "tenants": ["DefaultTenant"]}, "ignore_errors": True}],
                           module_defaults=defaults(server))
    ivy = result.task("offboard")["users"][0]
    assert (ivy["msg"], ivy["changed"], ivy["actions"], ivy["leftover"]) == ("already absent", False, [], [])
    assert "request_ids" not in ivy and ivy["manual_follow_up"] == []
    assert [(entry["method"], entry["status"], entry.get("fault")) for entry in simulator.requests(
        path=r"/odata/Users\(14\)$")] == [("DELETE", 404, "respond")]


def test_the_simulator_refuses_what_the_definitions_refuse(serve):
    simulator, server = make(serve)
    token = requests.post(server.url + "/acme/identity_/connect/token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
        "scope": " ".join(EVERY_SCOPE)}, timeout=10).json()["access_token"]
    headers = {"Authorization": "Bearer " + token}

    def get(path, **params):
        return requests.get(server.url + path, params=params, headers=headers, timeout=10)

    users = "/acme/identity_/api/User/users/" + PARTITION
    assert get(users, top=1000, skip=0, sortOrder="Asc").status_code == 200
    for refused in ({"top": 1001}, {"skip": 2 ** 31}, {"skip": -1}, {"sortOrder": "up"}):
        assert get(users, **refused).status_code == 400, refused
    orchestrator = "/acme/DefaultTenant/orchestrator_/odata/"
    # 20 text comparisons are 99 nodes; 21 are 104. 16 small ids are 95; 17 are 101.
    names = ["n%d@example.com" % number for number in range(21)]
    text = " or ".join("UserName eq '%s'" % name for name in names)
    assert get(orchestrator + "Users", **{"$filter": text.rsplit(" or ", 1)[0]}).status_code == 200
    refused = get(orchestrator + "Users", **{"$filter": text})
    assert refused.status_code == 400 and "node count limit of '100'" in refused.json()["message"]
    ids = " or ".join("OwnerId eq %d" % number for number in range(17))
    assert get(orchestrator + "PersonalWorkspaces", **{"$filter": ids.rsplit(" or ", 1)[0]}).status_code == 200
    assert get(orchestrator + "PersonalWorkspaces", **{"$filter": ids}).status_code == 400
    for refused in ({"$top": 1001}, {"$count": "yes"}, {"$skip": -1}):
        assert get(orchestrator + "Users", **refused).status_code == 400, refused
    # ConvertToFolder: "OAuth authentication is not supported"; a folder with its owner is not deleted.
    convert = requests.post(server.url + orchestrator + "PersonalWorkspaces(620795)/UiPath.Server.Configuration."
                            "OData.ConvertToFolder", json={"folderName": "x"}, headers=headers, timeout=10)
    assert convert.status_code == 403 and "OAuth" in convert.json()["message"]
    owned = requests.delete(server.url + orchestrator + "Folders(1001)", headers=headers, timeout=10)
    assert owned.status_code == 409 and "user associations (users 13)" in owned.json()["message"]
