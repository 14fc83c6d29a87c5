# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Atlassian organization admin client: error shapes, refusals explained, statuses, paging, and the
client driven against the simulator in-process (lost answers, 404s proven by a read)."""

from __future__ import annotations

import pytest

from ansible_collections.identity.lifecycle.plugins.module_utils import _atlassian_admin as admin
from ansible_collections.identity.lifecycle.plugins.module_utils._http import AuthenticationError, InputError, NotFoundError
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import Entry
from simulators._base import SimServer
from simulators.atlassian_admin import AtlassianAdminSimulator

from .fakes import StandInModule
from .fakes import fake_response as response

ORG = "org-1"
KEY = "ATADMIN-unit-test-key-0001"


def test_organizations_api_error_shape():
    body = {"errors": [{"code": "ADMIN-404-3", "status": "404", "title": "Not Found", "detail": "User not found"}]}
    error = admin.parse_error(response(404, body, {"ATL-TraceId": "t1"}))
    assert isinstance(error, NotFoundError)
    assert (error.code, error.message, error.request_id) == ("ADMIN-404-3", "User not found", "t1")


def test_forbidden_action_shape_keeps_the_reason():
    error = admin.parse_error(response(403, {"key": "forbidden.action", "message": "no",
                                             "context": {"allowed": False, "reason": {"key": "externalDirectory.google"}}}))
    assert isinstance(error, AuthenticationError)
    assert (error.code, error.reason) == ("forbidden.action", "externalDirectory.google")
    explained = admin.refusal(error, "disable account a-1")
    assert "Google Workspace" in explained.message and "AX-186" in explained.message
    assert explained.status == 403 and explained.code == "forbidden.action"


def test_a_plain_403_is_the_scoped_key():
    error = admin.parse_error(response(403, {"key": "forbidden", "message": "needs the scope manage:org"}))
    explained = admin.refusal(error, "disable account a-1")
    assert "without scopes" in explained.message and "AX-228" in explained.message
    assert "manage:org" in explained.message  # what Atlassian said is kept


def test_lifecycle_error_list_shape_and_401_hint():
    error = admin.parse_error(response(400, [{"code": "invalid.state", "message": "already scheduled"}]))
    assert (error.code, error.message) == ("invalid.state", "already scheduled")
    unauthorized = admin.parse_error(response(401, {"key": "unauthorized"}))
    assert "organization API key" in unauthorized.message


def test_other_statuses_are_not_explained_as_refusals():
    error = admin.parse_error(response(500, raw=b"oops"))
    assert admin.refusal(error, "x") is error and error.retryable


def test_permitted_actions_and_refused_reason():
    permissions = {"lifecycle.enablement": {"allowed": True},
                   "lifecycle.delete": {"allowed": False, "reason": {"key": "externalDirectory.scim"}},
                   "profile": {"name": {"allowed": True}}}
    assert admin.permitted_actions(permissions) == ["lifecycle.enablement"]
    assert admin.refused_reason(permissions, "lifecycle.delete") == "externalDirectory.scim"
    assert admin.refused_reason(permissions, "lifecycle.enablement") is None
    assert admin.refused_reason(permissions, "apiToken.delete") is None  # not said: the call will tell


@pytest.mark.parametrize("managed, data, memberships, status", [
    (True, {"accountStatus": "active"}, None, "active"),
    (True, {"accountStatus": "inactive"}, None, "deactivated"),
    (True, {"accountStatus": "inactive", "forDeletion": True}, None, "pending deletion"),
    (True, {"accountStatus": "active", "status": "for_deletion"}, None, "pending deletion"),
    (True, {"accountStatus": "closed"}, None, "deleted"),
    (False, {"accountStatus": "closed", "membershipStatus": "active"}, {"d-1": "active"}, "deleted"),
    (True, {}, None, None),
    # An unmanaged account: its access to the organization, directory by directory.
    (False, {"membershipStatus": "suspended"}, {"d-1": "suspended", "d-2": "suspended"}, "suspended"),
    (False, {"membershipStatus": "active"}, {"d-1": "suspended", "d-2": "active"}, "active"),
    (False, {"membershipStatus": "no_membership"}, {}, "not in the organization"),
    # The organization's sum and the directories disagree, or the directories were not read: unknown.
    (False, {"membershipStatus": "suspended"}, {"d-1": "suspended", "d-2": "active"}, None),
    (False, {"membershipStatus": "no_membership"}, None, None),
    (None, {"accountStatus": "active"}, None, None),
])
def test_account_status(managed, data, memberships, status):
    assert admin.account_status({"managed": managed, "directory_user": data, "memberships": memberships}) == status


@pytest.mark.parametrize("links, cursor", [
    ({"next": None}, None), ({}, None), ({"next": "abc"}, "abc"),
    ({"next": "https://api.atlassian.com/admin/v2/orgs/o/directories?cursor=xyz&limit=2"}, "xyz"),
    ({"next": "/admin/v2/orgs/o/directories"}, None),
])
def test_next_cursor(links, cursor):
    assert admin.next_cursor({"links": links}) == cursor


class Module(StandInModule):
    DEFAULTS = dict(base_url=None, org_id=ORG, admin_api_key=KEY, directory_id="dir-1", state="deactivated",
                    revoke_api_tokens=None, account_id=None, email=None, timeout=5.0, retries=2,
                    validate_certs=True, ca_path=None, parallelism=2, rate_limit=None, deadline=None)


@pytest.fixture
def server():
    simulator = AtlassianAdminSimulator({
        "org_id": ORG, "api_keys": {KEY: {}}, "directories": [{"id": "dir-1"}],
        "accounts": [{"account_id": "a-1", "email": "one@example.com", "memberships": {"dir-1": "active"},
                      "tokens": [{"id": "t-1", "label": "ci"}]},
                     {"account_id": "a-ext", "email": "ext@partner.test", "managed": False,
                      "memberships": {"dir-1": "active"}}]})
    with SimServer(simulator) as running:
        yield running


def directory_for(server, **params):
    module = Module(base_url=server.url, **params)
    directory = admin.AtlassianAdminDirectory(module)
    directory.validate()
    return directory


def run(directory, account_id, role):
    entry = Entry(account_id, "id")
    entry.user = directory.get_user(account_id)
    entry.found = True
    entry.steps = directory.plan_change(entry, role)
    directory.run_steps(entry)
    return entry


@pytest.mark.parametrize("params, message", [
    ({"directory_id": "-"}, "must name one directory"),
    ({"state": "active", "revoke_api_tokens": True}, "not active"),
    ({"base_url": "ftp://x"}, r"http\(s\) URL"),
    ({"admin_api_key": "  "}, "must not be empty"),
])
def test_bad_options_fail_before_any_request(params, message):
    module = Module(**dict({"base_url": "https://api.atlassian.com"}, **params))
    with pytest.raises(InputError, match=message):
        admin.AtlassianAdminDirectory(module).validate()


def test_preflight_proves_org_and_directory(server):
    directory_for(server).preflight()
    with pytest.raises(admin.ProviderError, match="not a directory of organization"):
        directory_for(server, directory_id="dir-unknown").preflight()
    with pytest.raises(admin.ProviderError, match="org_id"):
        directory_for(server, org_id="org-unknown").preflight()


def test_lost_answer_of_a_disable_is_confirmed_by_a_read(server):
    simulator = server.simulator
    # Carried out, then answered 502 twice: the retries are lost too; the read after shows it done, and only
    # this task's attempt can have done it: this task's change, saying how it knows.
    simulator.add_fault(action="process_then_respond", method="POST", path=r"lifecycle/disable$", status=502, times=3)
    directory = directory_for(server)
    directory.transport.backoff_base = 0.01
    entry = run(directory, "a-1", "disabled")
    assert not entry.failed, entry.msg
    assert simulator.account("a-1")["account_status"] == "inactive"
    assert entry.actions == ["deactivated", 'revoked API token "ci" (t-1)']
    assert (directory.plans["a-1"].confirmed, directory.plans["a-1"].already) == (["deactivated"], [])
    assert "confirmed by a read after the answer was lost: deactivated" in directory.result_fields(entry)["msg"]


def test_a_404_on_disable_is_already_done_only_when_a_read_shows_it(server):
    simulator = server.simulator
    directory = directory_for(server)
    entry = Entry("a-1", "id")
    entry.user, entry.found = directory.get_user("a-1"), True
    entry.steps = directory.plan_change(entry, "disabled")
    with simulator.lock:
        simulator.accounts["a-1"]["account_status"] = "inactive"  # deactivated by someone else meanwhile
    simulator.add_fault(action="respond", method="POST", path=r"lifecycle/disable$", status=404,
                        body={"key": "not.found", "message": "gone"}, times=1)
    directory.run_steps(entry)
    assert not entry.failed, entry.msg
    # Not this task's: the account was deactivated before its request.
    assert entry.actions == ['revoked API token "ci" (t-1)'] and directory.plans["a-1"].already == ["deactivated"]


def test_a_token_revocation_whose_answer_was_lost_is_this_tasks(server):
    simulator = server.simulator
    simulator.add_fault(action="process_then_drop", method="DELETE", path=r"/api-tokens/t-1$", times=1)
    directory = directory_for(server)
    directory.transport.backoff_base = 0.01
    entry = run(directory, "a-1", "disabled")
    assert not entry.failed, entry.msg
    # The retry answered 404 and the list no longer has the token: revoked by this task's first attempt.
    assert entry.actions == ["deactivated", 'revoked API token "ci" (t-1)']
    assert [item["id"] for item in entry.leftover] == ["a-1", "t-1"]
    assert directory.plans["a-1"].confirmed == ['revoked API token "ci" (t-1)']


def test_token_gone_before_its_delete_is_not_claimed(server):
    simulator = server.simulator
    directory = directory_for(server)
    entry = Entry("a-1", "id")
    entry.user = directory.get_user("a-1")
    entry.found = True
    entry.steps = directory.plan_change(entry, "disabled")
    with simulator.lock:
        simulator.accounts["a-1"]["tokens"] = []  # revoked by someone else meanwhile
    directory.run_steps(entry)
    assert not entry.failed
    assert entry.actions == ["deactivated"]
    assert directory.plans["a-1"].already == ['revoked API token "ci" (t-1)']


def test_a_404_on_suspend_fails_unless_a_read_shows_it_done(server):
    simulator = server.simulator
    directory = directory_for(server)
    simulator.add_fault(action="respond", method="POST", path=r"/suspend$", status=404,
                        body={"errors": [{"code": "ADMIN-404-3", "detail": "User not found"}]})
    entry = run(directory, "a-ext", "disabled")
    assert entry.failed and "User not found" in entry.msg
    assert simulator.account("a-ext")["memberships"] == {"dir-1": "active"}


def test_email_search_reads_only_and_matches_exactly(server):
    simulator = server.simulator
    directory = directory_for(server)
    assert [user["account_id"] for user in directory.find_users("ONE@example.com")] == ["a-1"]
    assert directory.find_users("two@example.com") == []
    searches = simulator.requests("POST", r"/users/search$")
    assert searches and not any(entry["changing"] for entry in searches)


# --- an organization with two directories (issue 18, finding 7) -----------------------------------------

@pytest.fixture
def two_directories():
    """dir-1 (the one a task may name) and dir-2: a managed account only in dir-2, with an API token; an
    unmanaged account active only in dir-2; one suspended in dir-1 and active in dir-2; and one in dir-1 only."""
    simulator = AtlassianAdminSimulator({
        "org_id": ORG, "api_keys": {KEY: {}}, "directories": [{"id": "dir-1"}, {"id": "dir-2"}],
        "accounts": [
            {"account_id": "a-far", "email": "far@example.com", "memberships": {"dir-2": "active"},
             "tokens": [{"id": "t-far", "label": "far ci"}]},
            {"account_id": "x-far", "email": "contractor@partner.test", "managed": False,
             "memberships": {"dir-2": "active"}},
            {"account_id": "x-both", "email": "both@partner.test", "managed": False,
             "memberships": {"dir-1": "suspended", "dir-2": "active"}},
            {"account_id": "x-near", "email": "near@partner.test", "managed": False,
             "memberships": {"dir-1": "active"}}]})
    with SimServer(simulator) as running:
        yield running


def entry_by_email(directory, email, role):
    [user] = directory.find_users(email)
    entry = Entry(email, "name")
    entry.user, entry.found = user, True
    entry.steps = directory.plan_change(entry, role)
    directory.run_steps(entry)
    return entry


def test_a_managed_account_outside_directory_id_is_found_and_its_token_revoked(two_directories):
    simulator = two_directories.simulator
    directory = directory_for(two_directories, directory_id="dir-1")
    entry = entry_by_email(directory, "far@example.com", "disabled")
    assert not entry.failed, entry.msg
    assert entry.actions == ["deactivated", 'revoked API token "far ci" (t-far)']
    assert (simulator.account("a-far")["account_status"], simulator.account("a-far")["tokens"]) == ("inactive", [])


@pytest.mark.parametrize("account_id", ["x-far", "x-both"])
def test_access_through_another_directory_is_never_taken_as_done(two_directories, account_id):
    simulator = two_directories.simulator
    directory = directory_for(two_directories, directory_id="dir-1")
    entry = Entry(account_id, "id")
    entry.user, entry.found = directory.get_user(account_id), True
    # The organization still gives it access through dir-2: not "not in the directory", not "suspended".
    assert entry.user["status"] == "active"
    with pytest.raises(InputError, match="dir-2"):
        directory.plan_change(entry, "disabled")
    assert [request for request in simulator.requests() if request["changing"]] == []


def test_without_directory_id_access_is_suspended_in_every_directory_of_the_organization(two_directories):
    simulator = two_directories.simulator
    directory = directory_for(two_directories, directory_id=None)
    entry = run(directory, "x-both", "disabled")
    assert not entry.failed, entry.msg
    assert entry.actions == ["suspended in directory dir-2"]
    assert simulator.account("x-both")["memberships"] == {"dir-1": "suspended", "dir-2": "suspended"}
    assert directory.get_user("x-both")["status"] == "suspended"
    removed = run(directory_for(two_directories, directory_id=None, state="removed"), "x-both", "absent")
    assert removed.actions == ["removed from directory dir-1", "removed from directory dir-2"]
    assert simulator.account("x-both")["memberships"] == {}


# --- a closed account (finding 8) -----------------------------------------------------------------------

@pytest.mark.parametrize("closed_manage", ["404", "403", "200"])
def test_a_closed_account_reads_as_already_deleted_and_nothing_is_sent(closed_manage):
    simulator = AtlassianAdminSimulator({
        "org_id": ORG, "api_keys": {KEY: {}}, "directories": [{"id": "dir-1"}], "closed_manage": closed_manage,
        "accounts": [{"account_id": "a-gone", "email": "gone@example.com", "account_status": "closed",
                      "memberships": {"dir-1": "active"}}]})
    with SimServer(simulator) as running:
        for role, state in (("disabled", "deactivated"), ("absent", "removed")):
            directory = directory_for(running, state=state)
            [user] = directory.find_users("gone@example.com")
            assert user["status"] == "deleted"
            entry = Entry("gone@example.com", "name")
            entry.user, entry.found = user, True
            assert directory.plan_change(entry, role) == []
    assert [request for request in simulator.requests() if request["changing"]] == []


# --- a failed step names what was done and what is left (finding 9) -------------------------------------

def test_a_refused_token_revocation_names_what_was_done_and_every_token_left(server):
    simulator = server.simulator
    with simulator.lock:
        simulator.accounts["a-1"]["tokens"].append({"id": "t-2", "label": "laptop", "createdAt": "2025-01-02"})
    simulator.add_fault(action="respond", method="DELETE", path=r"/api-tokens/t-1$", status=400,
                        body={"key": "invalid.request", "message": "cannot revoke this token"})
    directory = directory_for(server)
    entry = run(directory, "a-1", "disabled")
    assert entry.failed and entry.actions == ["deactivated"]
    for text in (entry.msg, entry.error.message):
        assert "cannot revoke this token" in text
        assert "Done for this account before: deactivated" in text
        assert 'API token "ci" (t-1) not revoked' in text and 'API token "laptop" (t-2) not revoked' in text
    assert [token["id"] for token in simulator.account("a-1")["tokens"]] == ["t-1", "t-2"]


# --- the user search as Atlassian documents it (finding 20) ---------------------------------------------

def test_the_email_search_sends_only_documented_fields_and_follows_the_cursor():
    # One account a page: the second match comes only by the cursor of the first page.
    simulator = AtlassianAdminSimulator({
        "org_id": ORG, "api_keys": {KEY: {}}, "directories": [{"id": "dir-1"}, {"id": "dir-2"}], "page_size": 1,
        "accounts": [{"account_id": "a-twin", "email": "twin@example.com", "memberships": {"dir-1": "active"}},
                     {"account_id": "x-twin", "email": "Twin@example.com", "managed": False,
                      "memberships": {"dir-2": "active"}}]})
    with SimServer(simulator) as running:
        directory = directory_for(running)
        assert sorted(user["account_id"] for user in directory.find_users("twin@example.com")) == ["a-twin", "x-twin"]
    searches = simulator.requests("POST", r"/users/search$")
    assert [entry["status"] for entry in searches] == [200, 200]
    # Every directory of the organization (`-`), whatever directory_id says; no `limit` beyond the documented
    # default of 50 (none at all: the default is the documented value).
    assert all(entry["path"] == "/admin/v2/orgs/%s/directories/-/users/search" % ORG for entry in searches)
    assert searches[0]["json"] == {"emails": ["twin@example.com"]}
    assert sorted(searches[1]["json"]) == ["cursor", "emails"]
