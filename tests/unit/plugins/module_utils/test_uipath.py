# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The UiPath identity client: tokens, URLs, error shapes, name resolution, listing and bulk deletes.

The directory tests run the real client against the simulator on loopback, with a small stand-in for
AnsibleModule (parameters, no_log_values, warnings)."""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time

import pytest
import requests

from ansible_collections.identity.lifecycle.plugins.module_utils import _lifecycle, _uipath
from ansible_collections.identity.lifecycle.plugins.module_utils._http import (
    AuthenticationError,
    InputError,
    NotFoundError,
    ProviderError,
)
from simulators._base import SimServer
from simulators.uipath import DEFAULT_SETTINGS, UiPathIdentitySimulator

from .fakes import fake_response as response

PARTITION = "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13"
CLIENT_ID = "8d2f4c1a-5e3b-4f7d-a1c9-2b6e0d4f8a37"
SECRET = "unit-test-secret-5mR8qW2z"


def jwt(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return "%s.%s.c2lnbmF0dXJl" % (part({"alg": "RS256"}), part(claims))


# --- tokens ---------------------------------------------------------------------------------------

def test_partition_comes_from_the_prt_id_claim():
    token = jwt({"prt_id": PARTITION, "sub": "x" * 7})  # odd lengths need base64 padding back
    assert _uipath.jwt_claims(token)["prt_id"] == PARTITION
    assert _uipath.token_partition(token) == PARTITION


def test_claims_decode_base64url_characters():
    claims = {"prt_id": PARTITION, "name": "\u00ff\u00fe\u00fd>>>???"}
    token = jwt(claims)
    assert "-" in token or "_" in token
    assert _uipath.jwt_claims(token) == claims


@pytest.mark.parametrize("token", [
    "rt_0123456789abcdef",  # a personal access token is opaque
    "a.b",
    "a..c",
    "header.!!!not-base64!!!.sig",
    "header.%s.sig" % base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("="),
    "header.%s.sig" % base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
    None,
])
def test_tokens_without_readable_claims_have_no_partition(token):
    assert _uipath.jwt_claims(token) == {}
    assert _uipath.token_partition(token) is None


def test_a_prt_id_that_is_not_a_guid_is_ignored():
    assert _uipath.token_partition(jwt({"prt_id": "acme"})) is None


def test_token_answer_gives_token_and_lifetime():
    answer = response(200, {"access_token": "eyJ.abc.def", "expires_in": 3600, "token_type": "Bearer"})
    assert _uipath.read_token(answer, "https://x/identity_/connect/token") == ("eyJ.abc.def", 3600)
    assert _uipath.read_token(response(200, {"access_token": "t0k3n", "expires_in": "60"}), "u")[1] == 60
    assert _uipath.read_token(response(200, {"access_token": "t0k3n"}), "u")[1] is None


def test_token_url_answering_html_is_a_clear_error():
    page = b"<!DOCTYPE html><html><body>Sign in</body></html>"
    with pytest.raises(ProviderError) as caught:
        _uipath.read_token(response(200, raw=page, headers={"Content-Type": "text/html"}),
                           "https://cloud.uipath.com/acme/identity_/connect/token")
    assert "the token URL answered an HTML page instead of JSON" in str(caught.value)
    assert "check base_url and organization, or identity_url" in str(caught.value)
    with pytest.raises(ProviderError, match="JSON without an access_token"):
        _uipath.read_token(response(200, {"token_type": "Bearer"}), "u")


@pytest.mark.parametrize("status, error, hint", [
    (400, "invalid_client", "check client_id and client_secret"),
    (401, "invalid_client", "check client_id and client_secret"),
    (400, "invalid_scope", "check scope"),
    (400, "unauthorized_client", "client credentials grant"),
])
def test_token_errors_say_what_to_check(status, error, hint):
    refused = _uipath.parse_token_error(response(status, {"error": error}))
    assert refused.code == error and refused.status == status
    assert refused.message.startswith("the token request was refused: %s" % error)
    assert hint in refused.message
    assert not refused.retryable
    assert isinstance(refused, AuthenticationError) is (status == 401)


def test_token_server_faults_are_retryable():
    assert _uipath.parse_token_error(response(503, raw=b"busy")).retryable


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_fixed_token_is_never_renewed():
    auth = _uipath.BearerAuth(token="rt_personal_token")
    prepared = requests.Request("GET", "https://x/").prepare()
    assert auth(prepared).headers["Authorization"] == "Bearer rt_personal_token"
    assert auth.renew(prepared) is False
    assert not auth.renewable


def test_token_is_fetched_once_and_renewed_before_it_expires():
    clock = Clock()
    issued = []

    def fetch():
        issued.append("token-%d" % len(issued))
        return issued[-1], 3600

    auth = _uipath.BearerAuth(fetch=fetch, clock=clock)
    assert issued == []  # nothing until a request needs it
    for _attempt in range(5):
        assert auth.token() == "token-0"
    clock.now += 3600 - 61
    assert auth.token() == "token-0"
    clock.now += 2  # within a minute of expiry
    assert auth.token() == "token-1"
    assert auth.fetches == 2


def test_short_lived_tokens_are_renewed_a_tenth_early():
    clock = Clock()
    auth = _uipath.BearerAuth(fetch=lambda: ("t", 10), clock=clock)
    auth.token()
    clock.now += 8.9
    auth.token()
    assert auth.fetches == 1
    clock.now += 0.2
    auth.token()
    assert auth.fetches == 2


def test_eight_workers_refused_at_once_fetch_one_new_token():
    issued = []
    lock = threading.Lock()

    def fetch():
        time.sleep(0.05)  # a slow token server, so that the workers really overlap
        with lock:
            issued.append("token-%d" % len(issued))
            return issued[-1], 3600

    auth = _uipath.BearerAuth(fetch=fetch)
    refused = [auth(requests.Request("GET", "https://x/").prepare()) for _worker in range(8)]
    assert auth.fetches == 1
    start = threading.Barrier(8)
    results = []

    def worker(prepared):
        start.wait()
        results.append(auth.renew(prepared))

    threads = [threading.Thread(target=worker, args=(prepared,)) for prepared in refused]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    assert auth.fetches == 2
    assert auth.token() == "token-1"
    # A worker still holding the first token after the renewal does not cause another fetch.
    assert auth.renew(refused[0]) is True and auth.fetches == 2


# --- URLs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("base_url, organization, identity_url, expected", [
    ("https://cloud.uipath.com", "acme", None, "https://cloud.uipath.com/acme/identity_"),
    ("https://cloud.uipath.com/", " acme ", None, "https://cloud.uipath.com/acme/identity_"),
    ("https://govcloud.uipath.us", "a/b c", None, "https://govcloud.uipath.us/a%2Fb%20c/identity_"),
    ("https://cloud.uipath.com", None, "https://orch.example.com/identity/", "https://orch.example.com/identity"),
    ("https://cloud.uipath.com", "acme", "https://suite.example.com/identity_", "https://suite.example.com/identity_"),
])
def test_identity_base(base_url, organization, identity_url, expected):
    assert _uipath.identity_base(base_url, organization, identity_url) == expected


@pytest.mark.parametrize("base_url, organization, identity_url, message", [
    ("https://cloud.uipath.com", None, None, "organization is required"),
    ("https://cloud.uipath.com", "  ", None, "organization is required"),
    ("https://cloud.uipath.com", "..", None, "organization '..' is not a valid id"),
    ("cloud.uipath.com", "acme", None, "base_url must be an http(s) URL"),
    ("https://cloud.uipath.com/acme/identity_", "acme", None, "give a full identity base"),
    ("https://cloud.uipath.com?x=1", "acme", None, "base_url must not contain a query"),
    ("https://cloud.uipath.com", "acme", "ftp://host/identity", "identity_url must be an http(s) URL"),
])
def test_identity_base_refuses_bad_values(base_url, organization, identity_url, message):
    with pytest.raises(InputError, match=re.escape(message)):
        _uipath.identity_base(base_url, organization, identity_url)


# --- error shapes ---------------------------------------------------------------------------------

def test_problem_details_validation_error():
    error = _uipath.parse_error(response(400, {
        "errors": {"bypassBasicAuthRestriction": ["Unexpected character encountered while parsing value: h."]},
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.", "status": 400,
        "traceId": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}))
    assert error.status == 400 and not error.retryable
    assert not isinstance(error, NotFoundError)
    assert error.message == ("One or more validation errors occurred.; bypassBasicAuthRestriction: "
                             "Unexpected character encountered while parsing value: h.")
    assert error.request_id == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def test_partition_errors_are_never_not_found():
    wrong = _uipath.parse_error(response(400, {"errors": {"partitionGlobalId": ["The value 'DatacomGroup' is not valid."]}}))
    invalid = _uipath.parse_error(response(400, {"title": "InvalidPartition", "status": 400}))
    missing = _uipath.parse_error(response(404, {"Message": "Partition not found"}))
    for error in (wrong, invalid, missing):
        assert not isinstance(error, NotFoundError), error.message


def test_identity_result_error():
    error = _uipath.parse_error(response(400, {"succeeded": False, "errors": [
        {"code": "DuplicateUserName", "description": "Username 'x' is already taken."}]}))
    assert (error.code, error.message) == ("DuplicateUserName", "Username 'x' is already taken.")
    assert not isinstance(error, NotFoundError)


@pytest.mark.parametrize("status, body", [
    (404, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.4", "title": "Not Found", "status": 404,
           "traceId": "00-1-2-00"}),
    (404, {"StatusCode": 404, "StatusDescription": "NotFound",
           "Message": "Cannot resolve users=[3fa85f64-5717-4562-b3fc-2c963f66afa6] in CIS"}),
    (400, {"StatusCode": 404, "StatusDescription": "NotFound", "Message": "Cannot resolve users=[x] in CIS"}),
    (400, {"succeeded": False, "errors": [{"code": "UserNotFound", "description": "User 'x' was not found."}]}),
    (400, {"title": "User does not exist", "status": 400}),
    (404, {}),
])
def test_every_documented_user_not_found_answer(status, body):
    error = _uipath.parse_error(response(status, body))
    assert isinstance(error, NotFoundError), error.message


@pytest.mark.parametrize("raw, headers", [
    (b"", {}),
    (b"<!DOCTYPE html><html><body>Page not found</body></html>", {"Content-Type": "text/html"}),
])
def test_a_404_without_json_is_a_wrong_url_not_an_absent_user(raw, headers):
    error = _uipath.parse_error(response(404, raw=raw, headers=headers))
    assert not isinstance(error, NotFoundError)
    assert "check base_url and organization, or identity_url" in error.message


def test_envelope_and_orchestrator_shapes_keep_their_codes():
    envelope = _uipath.parse_error(response(400, {"StatusCode": 400, "StatusDescription": "BadRequest",
                                                  "Message": "Invalid Entity Names"}))
    assert (envelope.code, envelope.message) == ("BadRequest", "Invalid Entity Names")
    orchestrator = _uipath.parse_error(response(400, {"message": "Oops", "errorCode": 1002, "traceId": "t-9"}))
    assert (orchestrator.code, orchestrator.request_id) == ("1002", "t-9")


def test_401_reads_www_authenticate_and_says_what_to_check():
    error = _uipath.parse_error(response(401, headers={
        "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The token expired at 12:00"'}))
    assert isinstance(error, AuthenticationError)
    assert error.message.startswith("The token expired at 12:00 (the bearer token was refused")
    bare = _uipath.parse_error(response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}))
    assert bare.message.startswith("invalid_token")


def test_scope_error_body():
    error = _uipath.parse_error(response(403, {
        "errorMessage": "Scope(s) 'PM.User.Read' is(are) invalid. Expect to have 'PM.User' or 'PM.User.Write'. "}))
    assert error.status == 403 and not error.retryable
    # An AuthenticationError, but the transport renews tokens only after a 401: a new token has the same scopes.
    assert isinstance(error, AuthenticationError)
    assert "Expect to have 'PM.User' or 'PM.User.Write'" in error.message
    assert "PM.User scope" in error.message


def test_throttling_waits_for_retry_after_or_a_minute():
    told = _uipath.parse_error(response(429, {"title": "Too Many Requests"}, headers={"Retry-After": "7"}))
    assert told.retryable and told.retry_after == 7.0
    untold = _uipath.parse_error(response(429, raw=b""))
    assert untold.retryable and untold.retry_after == _uipath.UNTOLD_RETRY_AFTER == 60.0
    server = _uipath.parse_error(response(502, raw=b"<html>Bad gateway</html>"))
    assert server.retryable and server.retry_after is None and server.message == "an HTML page instead of JSON"


# --- matching and paging helpers ----------------------------------------------------------------

def user(number, user_name, email=None, **extra):
    return dict({"id": "00000000-0000-4000-8000-%012d" % number, "userName": user_name, "email": email}, **extra)


def test_names_match_user_name_or_email_exactly_apart_from_case():
    users = [user(1, "dana.lee@example.com", "dana.lee@example.com"), user(2, "jkowalski", "Jan.Kowalski@example.com"),
             user(3, "dana.lee@example.com.au", "dana@example.com"), user(4, "robot", None)]
    found = _uipath.users_by_name(users, ["DANA.LEE@example.com", "jan.kowalski@EXAMPLE.com", "JKowalski",
                                          "dana", "example.com", "robot", "nobody"])
    assert [one["id"][-1] for one in found["DANA.LEE@example.com"]] == ["1"]  # counted once for both fields
    assert [one["id"][-1] for one in found["jan.kowalski@EXAMPLE.com"]] == ["2"]
    assert [one["id"][-1] for one in found["JKowalski"]] == ["2"]
    assert found["dana"] == [] and found["example.com"] == [] and found["nobody"] == []  # never a substring
    assert [one["id"][-1] for one in found["robot"]] == ["4"]


def test_a_name_that_is_one_users_name_and_anothers_email_matches_both():
    users = [user(1, "pat", "pat@example.com"), user(2, "pat@example.com", "patricia@example.com")]
    assert len(_uipath.users_by_name(users, ["Pat@example.com"])["Pat@example.com"]) == 2


def test_hostile_names_are_only_compared():
    users = [user(1, 'x" or userName pr "', None), user(2, "*", None)]
    found = _uipath.users_by_name(users, ['x" or userName pr "', "%", ".*"])
    assert [one["id"][-1] for one in found['x" or userName pr "']] == ["1"]
    assert found["%"] == [] and found[".*"] == []


def test_chunks_and_pages():
    assert [len(chunk) for chunk in _uipath.chunked(range(120), 50)] == [50, 50, 20]
    assert _uipath.chunked([], 50) == []
    assert _uipath.pages_left(2500, 1000) == 2
    assert _uipath.pages_left(1000, 1000) == 0
    assert _uipath.pages_left(None, 1000) is None
    assert _uipath.pages_left(True, 1) is None


# --- the directory against the simulator --------------------------------------------------------

class StandInModule:
    """What UserDirectory needs from AnsibleModule."""

    def __init__(self, **params):
        self.params = dict(timeout=10.0, retries=2, validate_certs=True, ca_path=None, parallelism=4, rate_limit=None,
                           base_url=None, organization="acme", identity_url=None, client_id=CLIENT_ID,
                           client_secret=SECRET, scope=_uipath.DEFAULT_SCOPE, access_token=None,
                           partition_global_id=None)
        self.params.update(params)
        self.check_mode = False
        self.no_log_values = set()
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def organization(users):
    return {"acme": {
        "partition_global_id": PARTITION,
        "clients": {CLIENT_ID: {"secret": SECRET, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
        "personal_access_tokens": {"rt_unit_personal_token": {}},
        "users": users}}


def people(count, prefix="person", start=1):
    return [{"id": "00000000-0000-4000-8000-%012d" % number, "userName": "%s%04d@example.com" % (prefix, number),
             "email": "%s%04d@example.com" % (prefix, number)} for number in range(start, start + count)]


@pytest.fixture(scope="module")
def server():
    with SimServer(UiPathIdentitySimulator()) as running:
        yield running


@pytest.fixture
def simulate(server):
    """One loopback server for the module; each test seeds its own state and settings."""
    simulator = server.simulator

    def start(users, **settings):
        simulator.clear_faults()
        simulator.configure(**copy.deepcopy(DEFAULT_SETTINGS))
        simulator.seed(dict(settings, organizations=organization(users)))
        simulator.clear_log()
        return simulator, server.url

    return start


def open_directory(url, **params):
    directory = _uipath.UiPathDirectory(StandInModule(base_url=url, **params))
    directory.validate()
    return directory


def gets(simulator):
    return [entry["path"] for entry in simulator.requests("GET")]


def test_names_across_three_pages_cost_three_gets(simulate):
    simulator, url = simulate(people(2500))
    directory = open_directory(url, user_name=["PERSON0001@example.com", "person2500@example.com", "ghost"],
                               state="absent")
    directory.preflight()
    found = directory.lookup_names(directory.module.params["user_name"])
    assert [one["id"] for one in found["PERSON0001@example.com"]] == ["00000000-0000-4000-8000-000000000001"]
    assert [one["id"] for one in found["person2500@example.com"]] == ["00000000-0000-4000-8000-000000002500"]
    assert found["ghost"] == []
    pages = gets(simulator)
    assert len(pages) == 3  # the preflight's page is the first page of the list
    assert all("top=1000" in page and "sortBy=Id" in page for page in pages)
    assert [page.split("skip=")[1].split("&")[0] for page in pages] == ["0", "1000", "2000"]
    assert len(simulator.token_requests) == 1
    issued = [token for token, spec in simulator.tokens.items() if spec["kind"] == "client"]
    assert len(issued) == 1 and directory.module.no_log_values == set(issued)
    assert directory.module.warnings == []


def test_several_ids_cost_the_fewest_gets(simulate):
    simulator, url = simulate(people(2500))
    first_page, last_page = "00000000-0000-4000-8000-000000000007", "00000000-0000-4000-8000-000000002400"
    ghost = "00000000-0000-4000-8000-000000009999"

    # One found on the first page, one missing: one GET by id beats two more pages.
    directory = open_directory(url, user_id=[first_page, last_page.upper()], state="absent")
    directory.preflight()
    found = directory.lookup_ids([first_page, last_page.upper()])
    assert found[first_page]["id"] == first_page and found[last_page.upper()]["id"] == last_page
    assert len(gets(simulator)) == 2 and gets(simulator)[1].endswith("/api/User/" + last_page.upper())

    # Three missing from the first page: the two remaining pages are cheaper.
    simulator.clear_log()
    ids = [last_page, ghost, "00000000-0000-4000-8000-000000001500"]
    directory = open_directory(url, user_id=ids, state="absent")
    directory.preflight()
    found = directory.lookup_ids(ids)
    assert found[ghost] is None and found[last_page]["id"] == last_page
    assert len(gets(simulator)) == 3 and all("/users/" in path for path in gets(simulator))

    # One id: no list at all beyond a one-user preflight.
    simulator.clear_log()
    directory = open_directory(url, user_id=[ghost], state="absent")
    directory.preflight()
    assert directory.lookup_ids([ghost]) == {ghost: None}
    assert "top=1&" in gets(simulator)[0] and gets(simulator)[1].endswith(ghost)


def test_a_list_that_changes_while_it_is_read_is_read_again(simulate):
    simulator, url = simulate(people(1500))
    # The second page reports another total, as if someone deleted a user meanwhile.
    simulator.add_fault(method="GET", path=r"skip=1000", status=200, times=1,
                        body={"totalCount": 1499, "results": people(499, start=1002)})
    directory = open_directory(url, user_name=["person1001@example.com"], state="absent")
    directory.preflight()
    found = directory.lookup_names(["person1001@example.com"])
    assert len(found["person1001@example.com"]) == 1  # the skipped user is found on the second reading
    assert len(gets(simulator)) == 4
    assert directory.module.warnings == []


def test_a_list_that_keeps_changing_gives_a_warning(simulate):
    simulator, url = simulate(people(1500))
    simulator.add_fault(method="GET", path=r"skip=1000", status=200, times=2,
                        body={"totalCount": 1499, "results": people(499, start=1002)})
    directory = open_directory(url, user_name=["person0002@example.com"], state="absent")
    directory.preflight()
    assert len(directory.lookup_names(["person0002@example.com"])["person0002@example.com"]) == 1
    assert "changed while they were listed" in directory.module.warnings[0]


def test_list_failures_fail_each_name_not_the_task(simulate):
    simulator, url = simulate(people(1500))
    simulator.add_fault(method="GET", path=r"skip=1000", status=500, times=None, body={"title": "boom"})
    directory = open_directory(url, user_name=["a", "b"], state="absent", retries=0)
    directory.preflight()
    found = directory.lookup_names(["a", "b"])
    assert isinstance(found["a"], ProviderError) and found["a"] is found["b"]
    assert found["a"].status == 500


def test_preflight_refuses_a_partition_that_is_not_the_tokens(simulate):
    url = simulate(people(3))[1]
    directory = open_directory(url, user_id=["00000000-0000-4000-8000-000000000001"], state="absent",
                               partition_global_id="11111111-2222-4333-8444-555555555555")
    with pytest.raises(ProviderError, match="is not the organization of these credentials"):
        directory.preflight()


def test_preflight_explains_a_wrong_partition_when_the_token_does_not_name_one(simulate):
    url = simulate(people(3), token_prt_id=False)[1]
    directory = open_directory(url, user_name=["x"], state="absent",
                               partition_global_id="11111111-2222-4333-8444-555555555555")
    with pytest.raises(ProviderError, match="InvalidPartition.*check partition_global_id"):
        directory.preflight()
    directory = open_directory(url, user_name=["x"], state="absent")
    with pytest.raises(ProviderError, match=r"partition_global_id \(UIPATH_PARTITION_GLOBAL_ID\) is needed"):
        directory.preflight()


@pytest.mark.parametrize("params, message", [
    ({"client_secret": None}, "client_id and client_secret must be given together"),
    ({"client_id": None, "client_secret": None}, "give client_id and client_secret"),
    ({"scope": " "}, "scope must not be empty"),
    ({"partition_global_id": "acme"}, "partition_global_id must be the organization's GUID"),
])
def test_validation_names_the_option(params, message):
    with pytest.raises(InputError, match=message):
        open_directory("https://cloud.uipath.com", **params)


def test_user_ids_must_be_guids():
    directory = open_directory("https://cloud.uipath.com")
    directory.validate_user_id("3FA85F64-5717-4562-B3FC-2C963F66AFA6")
    for bad in ("../Groups/x", "3fa85f64", "{3fa85f64-5717-4562-b3fc-2c963f66afa6}", "3fa85f64-5717-4562-b3fc-2c963f66afa6/x"):
        with pytest.raises(InputError, match="user_id .* is not a UiPath user id"):
            directory.validate_user_id(bad)


def test_access_token_wins_over_client_credentials(simulate):
    simulator, url = simulate(people(2))
    directory = open_directory(url, access_token="rt_unit_personal_token", partition_global_id=PARTITION,
                               user_name=["person0001@example.com"], state="absent")
    assert "client_id and client_secret are not used" in directory.module.warnings[0]
    directory.preflight()
    assert len(directory.lookup_names(["person0001@example.com"])["person0001@example.com"]) == 1
    assert simulator.token_requests == []


def bulk_entries(directory):
    entries = _lifecycle.requested_entries(directory.module.params)[0]
    _lifecycle.resolve(directory, entries)
    return _lifecycle.plan(directory, entries, "absent")


def test_bulk_delete_goes_in_chunks_of_fifty(simulate):
    simulator, url = simulate(people(130))
    names = ["person%04d@example.com" % number for number in range(1, 121)]
    directory = open_directory(url, user_name=names, state="absent")
    directory.preflight()
    entries = bulk_entries(directory)
    directory.apply(entries)
    assert all(entry.changed and entry.actions == ["deleted"] and not entry.failed for entry in entries)
    deletes = simulator.requests("DELETE")
    assert [entry["path"] for entry in deletes] == ["/acme/identity_/api/User"] * 3
    assert len(simulator.users()) == 10


def test_a_refused_bulk_delete_is_halved_until_it_goes_through(simulate):
    simulator, url = simulate(people(60), bulk_delete_max=20, not_found="envelope")
    names = ["person%04d@example.com" % number for number in range(1, 51)]
    directory = open_directory(url, user_name=names, state="absent", parallelism=1, rate_limit=1000.0)
    directory.preflight()
    entries = bulk_entries(directory)
    # Someone else deletes one of them between the lookup and the delete.
    with simulator.lock:
        del simulator.organizations["acme"]["users"]["00000000-0000-4000-8000-000000000017"]
    directory.apply(entries)
    gone = [entry for entry in entries if entry.key == "person0017@example.com"][0]
    assert gone.msg == "already absent" and not gone.changed and not gone.failed
    assert all(entry.changed for entry in entries if entry is not gone)
    assert len(simulator.users()) == 10
    deletes = [(entry["path"].rsplit("/", 1)[1][-2:], entry["status"]) for entry in simulator.requests("DELETE")]
    # 50 users (400: too many) -> 1-25 (400) -> 1-12 (204) and 13-25 (404: one is gone) -> 13-18 (404) and
    # 19-25 (204); 13-18 -> 13-15 (204) and 16-18 (404) -> 16 alone (204) and 17-18 (404) -> 17 and 18 alone.
    assert deletes == [("er", 400), ("er", 400), ("er", 204), ("er", 404), ("er", 404), ("er", 204), ("er", 404),
                       ("16", 204), ("er", 404), ("17", 404), ("18", 204), ("er", 204),
                       ("er", 400), ("er", 204), ("er", 204)]


def test_bulk_delete_failure_that_splitting_cannot_help_fails_every_user(simulate):
    simulator, url = simulate(people(5))
    simulator.add_fault(method="DELETE", status=503, times=None, body={"title": "Service Unavailable"})
    directory = open_directory(url, user_name=["person0001@example.com", "person0002@example.com"],
                               state="absent", retries=0)
    directory.preflight()
    entries = bulk_entries(directory)
    directory.apply(entries)
    assert all(entry.failed and entry.error.status == 503 for entry in entries)
    assert len(simulator.requests("DELETE")) == 1


def test_several_ids_without_a_partition_are_read_and_deleted_one_by_one(simulate):
    simulator, url = simulate(people(3))
    ids = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]
    directory = open_directory(url, access_token="rt_unit_personal_token", client_id=None,
                               client_secret=None, user_id=ids, state="absent")
    directory.preflight()
    entries = bulk_entries(directory)
    directory.apply(entries)
    assert all(entry.changed for entry in entries)
    assert sorted(entry["path"] for entry in simulator.requests("DELETE")) == ["/acme/identity_/api/User/" + one for one in ids]
    assert all("/users/" not in path for path in gets(simulator))


def test_put_failure_inside_a_200_identity_result(simulate):
    simulator, url = simulate(people(1))
    simulator.add_fault(method="PUT", status=200, body={"succeeded": False, "errors": [
        {"code": "ConcurrencyFailure", "description": "Optimistic concurrency failure."}]})
    directory = open_directory(url, user_id=["00000000-0000-4000-8000-000000000001"], state="disabled")
    with pytest.raises(ProviderError, match="Optimistic concurrency failure") as caught:
        directory.set_enabled({"id": "00000000-0000-4000-8000-000000000001"}, False)
    assert caught.value.code == "ConcurrencyFailure" and not isinstance(caught.value, NotFoundError)
