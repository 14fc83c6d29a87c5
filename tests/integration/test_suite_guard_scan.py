# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The suite guard's secret scan (conftest.py) on requests planted in simulators: each credential is accepted
in its proper place only, and found anywhere else (URL, another header, the body, a file, an output), in full,
percent-encoded, in base64 or in part, including log entries a test cleared and simulators started outside
`serve`. The guards here are the test's own (a fresh `Guard`), so that the planted leaks fail only their asserts."""

from __future__ import annotations

import base64
import json
import os
import shutil
import types
from urllib.parse import quote

import pytest

from simulators._base import Received, Request, SimServer
from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

from .conftest import Ansible, Guard, scan

KEY = "ATSCIM-guard-5e4d3c2b1a-secret"
OTHER_KEY = "ATSCIM-other-directory-key-guard"
TOKEN = "CAIS-guard-sts-token-7f6e5d4c3b2a"
ALIBABA_SECRET = "guard-access-key-secret-0a1b2c3d"
CLIENT_SECRET = "guard-uipath-client-secret-9z8y7x"


def scim():
    return AtlassianScimSimulator({"d-guard": {"api_key": KEY, "users": []},
                                   "d-other": {"api_key": OTHER_KEY, "users": []}})


def guarded(*simulators):
    guard = Guard()
    for simulator in simulators:
        guard.add_server(types.SimpleNamespace(simulator=simulator))
    return guard


def send(simulator, method, target, headers=None, body=b""):
    """One request through the simulator's own dispatch, recorded as a served one is."""
    simulator.dispatch(Request(method, target, dict(headers or {}), body, ("127.0.0.1", 1)))


def plant(simulator, method, target, headers=None, body=b""):
    """A request as the simulator would have received it, without handling it."""
    simulator.received.append(Received(Request(method, target, dict(headers or {}), body, ("127.0.0.1", 1)), 200))


def assert_flagged(problems, where):
    assert problems and all(KEY not in problem and TOKEN not in problem for problem in problems), problems
    assert any(where in problem for problem in problems), problems


def test_the_key_in_its_proper_place_is_no_finding_and_no_entry_shows_it():
    simulator = scim()
    send(simulator, "GET", "/scim/directory/d-guard/Users", {"Authorization": "Bearer " + KEY})
    send(simulator, "GET", "/scim/directory/d-guard/Users", {"Authorization": "Bearer " + OTHER_KEY})  # a wrong key
    assert [entry["status"] for entry in simulator.requests()] == [200, 403]
    assert guarded(simulator).findings(None) == []
    for received in simulator.every_request():
        assert KEY not in repr(received) and KEY not in str(received)
    assert KEY not in json.dumps(simulator.requests())


@pytest.mark.parametrize("headers, target, body, how", [
    ({"Authorization": "Bearer " + KEY, "X-Api-Key": KEY}, "/scim/directory/d-guard/Users", b"", "line 3"),
    ({"Authorization": "Bearer " + KEY}, "/scim/directory/d-guard/Users?key=" + quote(KEY + "/x", safe=""), b"", "line 1"),
    ({"Authorization": "Bearer " + KEY}, "/scim/directory/d-guard/Users", json.dumps({"note": KEY}).encode(), ""),
    ({"Authorization": "Bearer %s %s" % (KEY, OTHER_KEY)}, "/scim/directory/d-guard/Users", b"", ""),
    ({"Authorization": "Basic " + base64.b64encode(("me:" + KEY).encode()).decode()}, "/scim/directory/d-guard/Users",
     b"", "(in base64)"),
    ({"Authorization": "Bearer " + KEY}, "/scim/directory/d-guard/Users", ("{\"cut\": \"%s...\"}" % KEY[:-5]).encode(),
     "(its first 12 characters)"),
], ids=["another-header", "url-percent-encoded", "body", "more-than-the-credential", "base64", "truncated"])
def test_the_key_anywhere_else_in_a_request_is_found(headers, target, body, how):
    simulator = scim()
    send(simulator, "POST" if body else "GET", target, headers, body)
    problems = guarded(simulator).findings(None)
    assert_flagged(problems, "request 1 received by atlassian-scim")
    assert any(how in problem for problem in problems), problems


def test_entries_a_test_cleared_are_scanned_too():
    simulator = scim()
    send(simulator, "GET", "/scim/directory/d-guard/Users?debug=" + KEY, {"Authorization": "Bearer " + KEY})
    simulator.clear_log()
    send(simulator, "GET", "/scim/directory/d-guard/Users", {"Authorization": "Bearer " + KEY})
    assert len(simulator.requests()) == 1 and len(simulator.every_entry()) == 2
    problems = guarded(simulator).findings(None)
    assert_flagged(problems, "request log of atlassian-scim (entry 1, since cleared by clear_log())")
    assert_flagged(problems, "request 1 received by atlassian-scim")
    assert not any("entry 2" in problem or "request 2 " in problem for problem in problems), problems


def alibaba():
    return AlibabaCloudSsoSimulator({"access_keys": [{"access_key_id": "STS.guard", "access_key_secret": ALIBABA_SECRET,
                                                      "security_token": TOKEN}], "directories": []})


def test_the_sts_token_belongs_in_its_header_of_a_v3_request_and_in_the_query_of_a_v1_request_only():
    v3 = {"Authorization": "ACS3-HMAC-SHA256 Credential=STS.guard,SignedHeaders=host,Signature=00",
          "x-acs-security-token": TOKEN}
    simulator = alibaba()
    plant(simulator, "POST", "/?Action=GetDirectory", v3)
    plant(simulator, "POST", "/?Action=GetDirectory&Signature=00&SecurityToken=" + quote(TOKEN, safe=""))
    assert guarded(simulator).findings(None) == []
    # The same token in the query of a V3 request: the signer's mutation of issue 23.
    simulator = alibaba()
    plant(simulator, "POST", "/?Action=GetDirectory&SecurityToken=" + quote(TOKEN, safe=""), v3)
    assert_flagged(guarded(simulator).findings(None), "request 1 received by alibaba-cloudsso")
    # The AccessKey secret has no proper place at all.
    simulator = alibaba()
    plant(simulator, "POST", "/?Action=GetDirectory", dict(v3, Authorization=v3["Authorization"] + ALIBABA_SECRET))
    assert guarded(simulator).findings(None)


def test_the_client_secret_belongs_in_the_token_requests_form_only():
    simulator = UiPathIdentitySimulator({"acme": {"clients": {"app": {"secret": CLIENT_SECRET, "scopes": ["PM.User"]}},
                                                  "users": []}})
    form = "grant_type=client_credentials&client_id=app&client_secret=%s&scope=PM.User" % quote(CLIENT_SECRET)
    plant(simulator, "POST", "/acme/identity_/connect/token", {"Content-Type": "application/x-www-form-urlencoded"},
          form.encode())
    assert guarded(simulator).findings(None) == []
    plant(simulator, "POST", "/acme/identity_/connect/token", {}, (form + "&client_assertion=" + CLIENT_SECRET).encode())
    plant(simulator, "DELETE", "/acme/identity_/api/User", {}, json.dumps({"client_secret": CLIENT_SECRET}).encode())
    problems = guarded(simulator).findings(None)
    assert [problem.split(" is in the ")[1].split(",")[0] for problem in problems] == [
        "request 2 received by uipath-identity (POST /acme/identity_/connect/token)",
        "request 3 received by uipath-identity (DELETE /acme/identity_/api/User)"], problems


def test_files_in_the_runs_temporary_directories_and_an_outside_report_directory_are_scanned(tmp_path):
    workdir, reports = tmp_path / "work", tmp_path / "reports"
    workdir.mkdir()
    reports.mkdir()
    guard = guarded(scim())
    environment = Ansible(str(workdir), guard=guard).environment()
    for name in ("ANSIBLE_LOCAL_TEMP", "ANSIBLE_REMOTE_TMP"):
        assert environment[name].startswith(str(workdir) + os.sep), name
    # TMPDIR is a short path of its own (a Unix socket's path must fit), scanned and removed by the guard.
    temporary = environment["TMPDIR"]
    assert guard.roots == {temporary} and guard.temporaries == [temporary]
    guard.note_run("run 1", [], None, None, ["-e", json.dumps({"offboard_report_dir": str(reports)})])
    (workdir / ".ansible").mkdir(exist_ok=True)
    (workdir / ".ansible" / "left-behind").write_text(KEY)
    with open(os.path.join(temporary, "left-behind"), "w", encoding="utf-8") as handle:
        handle.write(KEY[:-4])
    (reports / "offboard-1.json").write_text(json.dumps({"key": base64.urlsafe_b64encode(KEY.encode()).decode()}))
    try:
        problems = guard.findings(str(workdir))
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    assert_flagged(problems, "file .ansible/left-behind")
    assert_flagged(problems, "file %s" % os.path.join(temporary, "left-behind"))
    assert_flagged(problems, "file %s" % (reports / "offboard-1.json"))


def test_what_secrets_share_or_a_pem_text_is_built_of_is_no_finding():
    # Two tokens that begin alike (as every JWT does), and a private key's PEM beside the public key's.
    first, second = "eyJhbGciOiJSUzI1NiJ9.first-token-claims", "eyJhbGciOiJSUzI1NiJ9.second-token-claims"
    private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGuardPrivateKeyMaterial01\n-----END PRIVATE KEY-----\n"
    public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGuardPublicKeyMaterial000001\n-----END PUBLIC KEY-----\n"
    places = [("output", "the header eyJhbGciOiJSUzI1NiJ9 and the public key\n" + public)]
    secrets = {first: "a token", second: "another token", private: "the signing key"}
    assert scan(places, secrets) == []
    assert scan([("output", "cut: %s" % first[:-3])], {first: "a token"}) == [
        "a secret (a token) (its first 12 characters) is in the output, line 1"]


def test_a_simulator_started_outside_serve_is_scanned(suite_guard):
    with SimServer(scim()) as server:
        assert [one for one in suite_guard.started if one is server] == [server]
        assert server.simulator in suite_guard.scanned_simulators()
        assert KEY in suite_guard.secrets()
