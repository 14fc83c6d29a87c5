# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""atlassian_account and atlassian_account_info, run by ansible-playbook against the admin API simulator."""

from __future__ import annotations

import pytest

from simulators.atlassian_admin import AtlassianAdminSimulator

ORG = "org-5e1f"
DIRECTORY = "dir-main"
KEY = "ATADMIN-0a1b2c3d4e5f-unscoped-secret"
SCOPED_KEY = "ATADMIN-9f8e7d6c5b4a-scoped-secret"
MODULE = "identity.lifecycle.atlassian_account"
INFO = "identity.lifecycle.atlassian_account_info"
ORG_WIDE_REVOCATION = r"^/admin/api-access/"


def seed(**changes):
    accounts = [
        {"account_id": "aa-alice", "email": "alice@example.com", "memberships": {DIRECTORY: "active"},
         "tokens": [{"id": "tok-ci", "label": "ci"}, {"id": "tok-laptop", "label": "laptop"}]},
        {"account_id": "aa-bob", "email": "bob@example.com", "memberships": {DIRECTORY: "active"}},
        {"account_id": "aa-ext", "email": "contractor@partner.test", "managed": False,
         "memberships": {DIRECTORY: "active"}},
        {"account_id": "aa-ext-both", "email": "consultant@partner.test", "managed": False,
         "memberships": {DIRECTORY: "active", "dir-other": "active"}},
        {"account_id": "aa-google", "email": "gina@example.com", "source": "google", "manage_shows_reason": False,
         "memberships": {DIRECTORY: "active"}, "tokens": [{"id": "tok-g", "label": "g"}]},
        {"account_id": "aa-google-told", "email": "gary@example.com", "source": "google",
         "memberships": {DIRECTORY: "active"}},
        {"account_id": "aa-twin-1", "email": "twin@example.com", "memberships": {DIRECTORY: "active"}},
        {"account_id": "aa-twin-2", "email": "Twin@example.com", "managed": False, "memberships": {DIRECTORY: "active"}},
        {"account_id": "aa-strasse", "email": "strasse@example.com", "memberships": {DIRECTORY: "active"}},
    ]
    data = {"org_id": ORG, "api_keys": {KEY: {}, SCOPED_KEY: {"scoped": True}},
            "directories": [{"id": DIRECTORY, "name": "Main"}, {"id": "dir-other", "name": "Other"}],
            "accounts": accounts}
    data.update(changes)
    return AtlassianAdminSimulator(data)


@pytest.fixture
def admin(serve):
    simulator = seed()
    return simulator, serve(simulator)


def defaults(server, **extra):
    options = {"base_url": server.url, "org_id": ORG, "admin_api_key": KEY, "directory_id": DIRECTORY}
    options.update(extra)
    return {"group/identity.lifecycle.atlassian_admin": options}


def changing(simulator, account=None):
    """The changing requests, in order; only those for one account when given (accounts run concurrently)."""
    return [(entry["method"], entry["path"]) for entry in simulator.requests()
            if entry["changing"] and (account is None or "/users/%s" % account in entry["path"])]


def test_managed_and_unmanaged_deactivated_then_removed_and_second_runs_unchanged(ansible, admin):
    simulator, server = admin
    ids = ["aa-alice", "aa-ext", "aa-nobody"]
    tasks = [
        {"name": "deactivate", MODULE: {"account_id": ids, "state": "deactivated"}},
        {"name": "deactivate again", MODULE: {"account_id": ids, "state": "deactivated"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    first = {user["account_id"]: user for user in result.task("deactivate")["users"]}
    assert first["aa-alice"]["managed"] is True and first["aa-alice"]["changed"] is True
    assert first["aa-alice"]["actions"] == ["deactivated", 'revoked API token "ci" (tok-ci)',
                                            'revoked API token "laptop" (tok-laptop)']
    assert first["aa-alice"]["api_tokens_revoked"] == 2
    assert (first["aa-alice"]["status"], first["aa-alice"]["state"]) == ("deactivated", "deactivated")
    assert first["aa-ext"]["managed"] is False
    assert first["aa-ext"]["actions"] == ["suspended in directory %s" % DIRECTORY]
    assert first["aa-ext"]["status"] == "suspended"
    assert (first["aa-nobody"]["found"], first["aa-nobody"]["changed"], first["aa-nobody"]["state"]) == (False, False, "absent")
    again = result.task("deactivate again")
    assert again["changed"] is False
    assert [user["msg"] for user in again["users"]] == ["already deactivated", "already deactivated", "already absent"]

    alice = simulator.account("aa-alice")
    assert (alice["account_status"], alice["tokens"]) == ("inactive", [])
    assert simulator.account("aa-ext")["memberships"] == {DIRECTORY: "suspended"}
    assert "SAML" in result.output and "alice@example.com" in result.output
    assert changing(simulator, "aa-alice") == [
        ("POST", "/users/aa-alice/manage/lifecycle/disable"),
        ("DELETE", "/users/aa-alice/manage/api-tokens/tok-ci"),
        ("DELETE", "/users/aa-alice/manage/api-tokens/tok-laptop")]
    assert changing(simulator, "aa-ext") == [
        ("POST", "/admin/v2/orgs/%s/directories/%s/users/aa-ext/suspend" % (ORG, DIRECTORY))]
    assert len(changing(simulator)) == 4

    simulator.clear_log()
    tasks = [{"name": "remove", MODULE: {"account_id": ids, "state": "removed"}},
             {"name": "remove again", MODULE: {"account_id": ids, "state": "removed"}}]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    removed = {user["account_id"]: user for user in result.task("remove")["users"]}
    assert removed["aa-alice"]["actions"] == ["deleted (Atlassian's 14-day grace period)"]
    assert removed["aa-alice"]["status"] == "pending deletion"
    assert removed["aa-ext"]["actions"] == ["removed from directory %s" % DIRECTORY]
    assert removed["aa-ext"]["status"] == "not in the organization"
    assert result.task("remove again")["changed"] is False
    assert simulator.account("aa-alice")["for_deletion"] is True
    assert simulator.account("aa-ext")["memberships"] == {}
    assert sorted(changing(simulator)) == [
        ("DELETE", "/admin/v2/orgs/%s/directories/%s/users/aa-ext" % (ORG, DIRECTORY)),
        ("POST", "/users/aa-alice/manage/lifecycle/delete")]
    assert not simulator.requests(path=ORG_WIDE_REVOCATION)


def test_removed_revokes_tokens_before_the_delete_by_email(ansible, admin):
    simulator, server = admin
    result = ansible.tasks([{"name": "remove", MODULE: {"email": ["ALICE@example.com"], "state": "removed"}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    user = result.task("remove")["users"][0]
    assert (user["account_id"], user["email"], user["api_tokens_revoked"]) == ("aa-alice", "alice@example.com", 2)
    assert user["msg"] == "deleted (Atlassian's 14-day grace period), 2 API tokens revoked"
    assert [path for _method, path in changing(simulator)] == [
        "/users/aa-alice/manage/api-tokens/tok-ci", "/users/aa-alice/manage/api-tokens/tok-laptop",
        "/users/aa-alice/manage/lifecycle/delete"]
    assert not simulator.requests(path=ORG_WIDE_REVOCATION)


def test_check_mode_makes_no_change_and_diff_shows_before_and_after(ansible, admin):
    simulator, server = admin
    task = [{"name": "rehearse", MODULE: {"account_id": ["aa-alice", "aa-ext"], "state": "removed"}}]
    result = ansible.tasks(task, module_defaults=defaults(server), check=True)
    assert result.returncode == 0, result.output
    rehearsal = result.task("rehearse")
    assert rehearsal["changed"] is True
    assert [user["msg"] for user in rehearsal["users"]] == [
        "would be: deleted (Atlassian's 14-day grace period), 2 API tokens revoked",
        "would be: removed from directory %s" % DIRECTORY]
    assert changing(simulator) == []  # and suite_guard checks the log of the check-mode run
    assert simulator.account("aa-alice")["tokens"] and simulator.account("aa-alice")["for_deletion"] is False

    result = ansible.tasks(task, module_defaults=defaults(server), check=True, diff=True, callback="default")
    assert result.returncode == 0, result.output
    assert "--- before: Atlassian admin user alice@example.com" in result.stdout
    assert '-    "status": "active"' in result.stdout
    assert '+    "status": "pending deletion"' in result.stdout
    assert '-    "api_tokens": 2' in result.stdout and '+    "api_tokens": 0' in result.stdout
    assert '+    "status": "not in the organization"' in result.stdout
    assert changing(simulator) == []


def test_scoped_key_is_refused_clearly_and_nothing_changes(ansible, admin):
    simulator, server = admin
    result = ansible.tasks([{"name": "deactivate", MODULE: {"account_id": ["aa-alice"], "state": "deactivated"}}],
                           module_defaults=defaults(server, admin_api_key=SCOPED_KEY))
    assert result.returncode != 0
    user = result.task("deactivate")["users"][0]
    assert user["failed"] is True and user["error"]["status"] == 403
    assert "without scopes" in user["msg"] and "AX-228" in user["msg"]
    assert changing(simulator) == []
    assert simulator.account("aa-alice")["account_status"] == "active"


def test_google_synced_accounts_fail_with_what_to_do(ansible, admin):
    simulator, server = admin
    tasks = [{"name": "refused by the call", MODULE: {"account_id": ["aa-google"], "state": "deactivated"},
              "ignore_errors": True},
             {"name": "refused by the permissions", MODULE: {"account_id": ["aa-google-told"], "state": "removed"},
              "ignore_errors": True}]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    by_call = result.task("refused by the call")["users"][0]
    assert by_call["failed"] is True and by_call["error"]["code"] == "forbidden.action"
    assert "Google Workspace" in by_call["msg"] and "AX-186" in by_call["msg"]
    # The first step failed, so the account's token was not touched: nothing is claimed.
    assert by_call["actions"] == [] and by_call["changed"] is False
    by_permission = result.task("refused by the permissions")["users"][0]
    assert by_permission["failed"] is True and "Google Workspace" in by_permission["msg"]
    assert changing(simulator) == [("POST", "/users/aa-google/manage/lifecycle/disable")]
    assert simulator.account("aa-google")["account_status"] == "active"
    assert simulator.account("aa-google")["tokens"]


def test_email_lookup_is_exact_and_never_picks_one(ansible, admin):
    simulator, server = admin
    task = [{"name": "lookups", MODULE: {"email": ["twin@example.com", "straße@example.com", "nobody@example.com"],
                                         "state": "deactivated"}}]
    result = ansible.tasks(task, module_defaults=defaults(server))
    assert result.returncode != 0
    twin, lookalike, nobody = result.task("lookups")["users"]
    assert twin["failed"] is True and "matches 2 users" in twin["msg"] and "give account_id" in twin["msg"]
    assert lookalike["failed"] is True and "looks like" in lookalike["msg"]
    assert (nobody["found"], nobody["changed"], nobody["msg"]) == (False, False, "already absent")
    assert changing(simulator) == []


def test_an_unmanaged_account_loses_access_in_every_directory_or_fails_naming_the_others(ansible, admin):
    simulator, server = admin
    # directory_id names dir-main: the access through dir-other would stay, so nothing is done, loudly.
    task = {"name": "suspend", MODULE: {"email": ["consultant@partner.test"], "state": "deactivated"}}
    result = ansible.tasks([task], module_defaults=defaults(server))
    assert result.returncode != 0
    user = result.task("suspend")["users"][0]
    assert (user["managed"], user["changed"], user["actions"]) == (False, False, [])
    assert "directory dir-other (active), outside directory_id %s: nothing was done" % DIRECTORY in user["msg"]
    assert changing(simulator) == []
    # Without directory_id: the organization, every directory the account is a member of.
    organization = defaults(server)
    del organization["group/identity.lifecycle.atlassian_admin"]["directory_id"]
    tasks = [{"name": "read", INFO: {"account_id": ["aa-ext-both"]}},
             {"name": "suspend", MODULE: {"account_id": ["aa-ext-both"], "state": "deactivated"}},
             {"name": "restore", MODULE: {"account_id": ["aa-ext-both"], "state": "active"}, "ignore_errors": True}]
    result = ansible.tasks(tasks, module_defaults=organization)
    [read] = result.task("read")["users"]
    assert (read["status"], read["memberships"]) == ("active", {DIRECTORY: "active", "dir-other": "active"})
    [user] = result.task("suspend")["users"]
    assert user["actions"] == ["suspended in directory %s" % DIRECTORY, "suspended in directory dir-other"]
    assert [item["where"] for item in user["leftover"]] == ["directory %s" % DIRECTORY, "directory dir-other"]
    assert user["status"] == "suspended"
    assert simulator.account("aa-ext-both")["memberships"] == {DIRECTORY: "suspended", "dir-other": "suspended"}
    # Restoring names the directory: never every one at once.
    assert "needs directory_id" in result.task("restore")["users"][0]["msg"]
    assert [path for _method, path in changing(simulator)] == [
        "/admin/v2/orgs/%s/directories/%s/users/aa-ext-both/suspend" % (ORG, DIRECTORY),
        "/admin/v2/orgs/%s/directories/dir-other/users/aa-ext-both/suspend" % ORG]


def test_active_restores_and_cancels_the_deletion(ansible, admin):
    simulator, server = admin
    tasks = [{"name": "remove", MODULE: {"account_id": ["aa-bob", "aa-ext"], "state": "removed",
                                         "revoke_api_tokens": False}},
             {"name": "suspend", MODULE: {"account_id": ["aa-twin-2"], "state": "deactivated"}},
             {"name": "activate", MODULE: {"account_id": ["aa-bob", "aa-twin-2", "aa-ext"], "state": "active"},
              "ignore_errors": True}]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    bob, twin, external = result.task("activate")["users"]
    assert bob["actions"] == ["deletion cancelled"] and bob["status"] == "active"
    assert twin["actions"] == ["access restored in directory %s" % DIRECTORY]
    # Removed from its only directory, the account is not in the organization any more.
    assert external["failed"] is True and external["found"] is False and "cannot be active" in external["msg"]
    assert simulator.account("aa-bob")["for_deletion"] is False


def test_info_reports_managed_status_permissions_and_tokens(ansible, admin):
    simulator, server = admin
    result = ansible.tasks([{"name": "info", INFO: {"account_id": ["aa-alice", "aa-ext", "aa-google-told", "aa-nobody"]}},
                            {"name": "by email", INFO: {"email": ["twin@example.com"]}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    alice, external, google = result.task("info")["users"]
    assert (alice["managed"], alice["status"], alice["api_token_count"]) == (True, "active", 2)
    assert {"lifecycle.enablement", "lifecycle.delete", "apiToken.delete"} <= set(alice["permitted_actions"])
    assert [token["label"] for token in alice["api_tokens"]] == ["ci", "laptop"]
    assert (external["managed"], external["status"], external["api_token_count"]) == (False, "active", None)
    assert "lifecycle.enablement" not in google["permitted_actions"]
    assert sorted(user["account_id"] for user in result.task("by email")["users"]) == ["aa-twin-1", "aa-twin-2"]
    assert changing(simulator) == []


def test_secrets_never_shown_at_any_verbosity(ansible, admin, suite_guard):
    simulator, server = admin
    suite_guard.given.setdefault(KEY, "the admin API key")
    suite_guard.given.setdefault(SCOPED_KEY, "the scoped admin API key")
    task = [{"name": "deactivate", MODULE: {"account_id": ["aa-alice"], "state": "deactivated"}}]
    result = ansible.tasks(task, module_defaults=defaults(server), verbosity=4, callback="default")
    assert result.returncode == 0, result.output
    result = ansible.tasks(task, module_defaults=defaults(server, admin_api_key=SCOPED_KEY), verbosity=4,
                           callback="default")
    assert result.returncode != 0 and "without scopes" in result.output
    result = ansible.tasks(task, module_defaults=defaults(server, admin_api_key=KEY + "-wrong"), verbosity=4,
                           callback="default")
    assert result.returncode != 0 and "HTTP 401" in result.output
    assert KEY not in result.output
