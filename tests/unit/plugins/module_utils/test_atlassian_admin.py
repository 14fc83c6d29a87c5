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


@pytest.mark.parametrize("managed, data, status", [
    (True, {"accountStatus": "active"}, "active"),
    (True, {"accountStatus": "inactive"}, "deactivated"),
    (True, {"accountStatus": "inactive", "forDeletion": True}, "pending deletion"),
    (True, {"accountStatus": "active", "status": "for_deletion"}, "pending deletion"),
    (True, {"accountStatus": "closed"}, "deleted"),
    (True, {}, None),
    (False, {"membershipStatus": "suspended"}, "suspended"),
    (False, {"membershipStatus": "no_membership"}, "not in the directory"),
    (None, {"accountStatus": "active"}, None),
])
def test_account_status(managed, data, status):
    assert admin.account_status({"managed": managed, "directory_user": data}) == status


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
    # Carried out, then answered 502 twice: the retries are lost too; the read after shows it done.
    simulator.add_fault(action="process_then_respond", method="POST", path=r"lifecycle/disable$", status=502, times=3)
    directory = directory_for(server)
    directory.transport.backoff_base = 0.01
    entry = run(directory, "a-1", "disabled")
    assert not entry.failed, entry.msg
    assert simulator.account("a-1")["account_status"] == "inactive"
    assert directory.plans["a-1"].already == ["deactivated"]  # proven by the read, not claimed as this call's
    assert entry.actions == ['revoked API token "ci" (t-1)']


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
