# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Atlassian simulators hold requests to Atlassian's published definitions (the organizations, user
management and user provisioning OpenAPI documents): raw HTTP requests, no Ansible, so that the modules' tests
can rely on a refusal wherever the real service documents one."""

from __future__ import annotations

import pytest
import requests

from simulators.atlassian import AtlassianScimSimulator
from simulators.atlassian_admin import AtlassianAdminSimulator

ORG = "org-strict"
KEY = "ATADMIN-strict-simulator-key-1"
SCIM_KEY = "ATSCIM-strict-simulator-key-2"


@pytest.fixture
def admin(serve):
    simulator = AtlassianAdminSimulator({
        "org_id": ORG, "api_keys": {KEY: {}}, "page_size": 2,
        "directories": [{"id": "d-%d" % number, "name": "Directory %d" % number} for number in range(5)],
        "accounts": [{"account_id": "a-%d" % number, "email": "same@example.com",
                      "memberships": {"d-%d" % number: "active", "d-4": "suspended"}} for number in range(3)]})
    server = serve(simulator)
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + KEY
    return simulator, server.url, session


def org_url(base, rest=""):
    return "%s/admin/v2/orgs/%s/directories%s" % (base, ORG, rest)


@pytest.mark.parametrize("body, status", [
    ({"emails": ["same@example.com"]}, 200),
    ({"emails": ["same@example.com"], "limit": 50}, 200),
    # "Defaults to 50" is all the definition says of `limit`: more is refused by default.
    ({"emails": ["same@example.com"], "limit": 100}, 400),
    ({"emails": ["same@example.com"], "limit": 0}, 400),
    ({"emails": ["same@example.com"], "limit": "10"}, 400),
    ({"emails": "same@example.com"}, 400),
    ({"emails": ["same@example.com"], "searchTerm": "same"}, 400),
    ({"emails": ["same@example.com"], "accountStatus": ["deleted"]}, 400),
    ({"emails": ["same@example.com"], "pageSize": 10}, 400),
    ({"emails": ["same@example.com"], "cursor": "not-a-cursor"}, 400),
])
def test_the_user_search_takes_only_what_its_definition_documents(admin, body, status):
    _simulator, base, session = admin
    assert session.post(org_url(base, "/-/users/search"), json=body).status_code == status


def test_a_larger_search_limit_is_a_switch(serve):
    simulator = AtlassianAdminSimulator({"org_id": ORG, "api_keys": {KEY: {}}, "search_max_limit": 100})
    answer = requests.post(org_url(serve(simulator).url, "/-/users/search"), json={"limit": 100},
                           headers={"Authorization": "Bearer " + KEY})
    assert answer.status_code == 200


def test_pages_follow_the_cursor_which_alone_carries_the_query(admin):
    _simulator, base, session = admin
    first = session.post(org_url(base, "/-/users/search"), json={"emails": ["same@example.com"]}).json()
    assert len(first["data"]) == 2 and first["links"]["next"]
    second = session.post(org_url(base, "/-/users/search"),
                          json={"emails": ["same@example.com"], "cursor": first["links"]["next"]}).json()
    assert [user["accountId"] for user in first["data"] + second["data"]] == ["a-0", "a-1", "a-2"]
    assert second["links"]["next"] is None
    # The directory list: a cursor discards every other parameter ("if present, all other parameters are
    # discarded"), so the account filter holds on the second page whatever else is sent.
    page = session.get(org_url(base), params={"accountId": "a-0"}).json()
    assert [one["directoryId"] for one in page["data"]] == ["d-0", "d-4"] and page["links"]["next"] is None
    page = session.get(org_url(base)).json()
    later = session.get(org_url(base), params={"cursor": page["links"]["next"], "accountId": "a-1"}).json()
    assert [one["directoryId"] for one in page["data"] + later["data"]] == ["d-0", "d-1", "d-2", "d-3"]


@pytest.mark.parametrize("params", [{"accountIds": "a-0"}, {"limit": 500}, {"cursor": "x"}])
def test_the_directory_list_refuses_what_it_does_not_document(admin, params):
    _simulator, base, session = admin
    assert session.get(org_url(base), params=params).status_code == 400


def test_bodies_of_changes_hold_to_their_definitions(admin):
    simulator, base, session = admin
    suspend = org_url(base, "/d-0/users/a-0/suspend")
    assert session.post(suspend, json={"reason": "left"}).status_code == 400  # no body field is documented
    assert session.post(suspend, data="{}").status_code == 415  # a JSON body, as reported
    assert session.post(suspend, json={}).status_code == 200
    disable = "%s/users/a-1/manage/lifecycle/disable" % base
    assert session.post(disable, json={"message": "left", "notify": True}).status_code == 400
    assert session.post(disable, json={"message": 7}).status_code == 400
    assert session.post("%s/users/a-1/manage/lifecycle/delete" % base, json={"message": "x"}).status_code == 400
    assert session.post("%s/users/a-1/manage/lifecycle/archive" % base, json={}).status_code == 404
    assert simulator.account("a-1")["account_status"] == "active"
    assert session.post(disable, json={"message": "left the company"}).status_code == 204
    assert simulator.account("a-1")["account_status"] == "inactive"


@pytest.mark.parametrize("closed_manage", ["404", "403", "200"])
def test_what_a_closed_account_answers_is_a_switch(serve, closed_manage):
    simulator = AtlassianAdminSimulator({"org_id": ORG, "api_keys": {KEY: {}}, "closed_manage": closed_manage,
                                         "accounts": [{"account_id": "a-closed", "account_status": "closed",
                                                       "email": "closed@example.com"}]})
    base = serve(simulator).url
    headers = {"Authorization": "Bearer " + KEY}
    for path in ("manage", "manage/api-tokens"):
        assert requests.get("%s/users/a-closed/%s" % (base, path), headers=headers).status_code == int(closed_manage)
    details = requests.get(org_url(base, "/-/users/a-closed"), headers=headers).json()["data"]
    assert details["accountStatus"] == "closed"
    assert requests.post("%s/users/a-closed/manage/lifecycle/disable" % base, json={},
                         headers=headers).status_code >= 400


# --- the SCIM simulator -------------------------------------------------------------------------------

@pytest.fixture
def scim(serve):
    simulator = AtlassianScimSimulator({"d-1": {"api_key": SCIM_KEY, "users": [
        {"id": "u-%d" % number, "userName": "user%d@example.com" % number} for number in range(3)]}}, max_count=2)
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + SCIM_KEY
    return simulator, serve(simulator).url + "/scim/directory/d-1", session


@pytest.mark.parametrize("params, status", [
    ({"startIndex": 1, "count": 100}, 200),
    ({"filter": 'userName eq "user1@example.com"'}, 200),
    ({"filter": 'emails.value eq "user1@example.com"'}, 400),
    ({"filter": 'userName eq "a" or userName eq "b"'}, 400),
    ({"attributes": "userName", "excludedAttributes": "emails"}, 400),
    ({"sortBy": "userName"}, 400),
    ({"count": "ten"}, 400),
])
def test_the_scim_list_takes_only_what_its_definition_documents(scim, params, status):
    _simulator, users, session = scim
    assert session.get(users + "/Users", params=params).status_code == status


def test_a_scim_page_is_never_larger_than_the_server_allows(scim):
    _simulator, users, session = scim
    page = session.get(users + "/Users", params={"startIndex": 1, "count": 100}).json()
    assert (page["totalResults"], page["itemsPerPage"], len(page["Resources"])) == (3, 2, 2)


@pytest.mark.parametrize("body, status", [
    ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "Operations": [{"op": "replace", "value": {"active": False}}]}, 200),
    ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      "operations": [{"op": "replace", "path": "active", "value": False}]}, 200),
    ({"Operations": [{"op": "replace", "value": {"active": False}}], "id": "u-0"}, 400),
    ({"Operations": [{"op": "replace", "value": {"active": False}, "extra": 1}]}, 400),
    ({"Operations": [{"op": "replace", "value": {"active": False}}],
      "operations": [{"op": "replace", "path": "active", "value": False}]}, 400),
    ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "Operations": [{"op": "replace", "value": {"active": False}}]}, 400),
])
def test_a_scim_patch_body_holds_to_its_definition(scim, body, status):
    simulator, users, session = scim
    answer = session.patch(users + "/Users/u-0", json=body)
    assert answer.status_code == status
    active = [user["active"] for user in simulator.users("d-1") if user["id"] == "u-0"][0]
    assert active is (status != 200)
