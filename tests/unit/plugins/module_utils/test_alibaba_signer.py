# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The signer reproduces, byte for byte, signatures computed with Alibaba's official SDK helpers.

VECTORS is `alibaba-signature-vectors.json` of the provider notes (shared/providers/), copied so that
the tests run anywhere; when the shared file is present beside the repository, a test checks that
the copy is still the same. EXTRA_VECTORS are the further SDK vectors and the two published doc
examples listed in the provider notes (section 3). The simulator's independent verifier must
compute the same values.
"""

from __future__ import annotations

import calendar
import json
import os

import pytest
import requests

from ansible_collections.identity.lifecycle.plugins.module_utils import _alibaba_signer as signer
from simulators import alibaba as simulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SHARED_VECTORS = os.path.join(os.path.dirname(ROOT), "shared", "providers", "alibaba-signature-vectors.json")

COMMON = {
    "access_key_id": "testid",
    "access_key_secret": "testsecret",
    "host": "cloudsso.cn-shanghai.aliyuncs.com",
    "version": "2021-05-15",
    "date": "2025-01-01T00:00:00Z",
    "nonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
}
VECTORS = [
    {
        "name": "v3-delete-user",
        "algorithm": "ACS3-HMAC-SHA256",
        "method": "POST",
        "action": "DeleteUser",
        "query": {"DirectoryId": "d-00fc2p61xxxx", "UserId": "u-00q8wbq42wiltcrkxxxx"},
        "canonical_query": "DirectoryId=d-00fc2p61xxxx&UserId=u-00q8wbq42wiltcrkxxxx",
        "signed_headers": "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
        "string_to_sign": "ACS3-HMAC-SHA256\nace477d4401f713ed47cf527cf17201149ecdadfb316c52c62233b044a8d0d52",
        "authorization": "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
                         "x-acs-date;x-acs-signature-nonce;x-acs-version,"
                         "Signature=2222981d437a2492dcf38c30cb7c10f708654cd7eb15fb3188caea4a93d19427",
    },
    {
        "name": "v3-delete-user-sts",
        "algorithm": "ACS3-HMAC-SHA256",
        "method": "POST",
        "action": "DeleteUser",
        "security_token": "CAIS-test-security-token",
        "query": {"DirectoryId": "d-00fc2p61xxxx", "UserId": "u-00q8wbq42wiltcrkxxxx"},
        "signed_headers": "host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;"
                          "x-acs-security-token;x-acs-signature-nonce;x-acs-version",
        "authorization": "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-accesskey-id;x-acs-action;"
                         "x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,"
                         "Signature=de8e9b72c629212fe8278598cc15e6c8dfaa7fc66e1de45fc95700bcdbf4c329",
    },
    {
        "name": "v3-list-users-filter",
        "algorithm": "ACS3-HMAC-SHA256",
        "method": "POST",
        "action": "ListUsers",
        "query": {"DirectoryId": "d-00fc2p61xxxx", "Filter": "UserName eq 'alice@example.com'", "MaxResults": "100"},
        "canonical_query": "DirectoryId=d-00fc2p61xxxx&Filter=UserName%20eq%20%27alice%40example.com%27&MaxResults=100",
        "signature": "bec9e59ea09226bb5793843da760ebd6f4112488b0932595d7d11856cae253da",
    },
    {
        "name": "v1-delete-user-post",
        "algorithm": "HMAC-SHA1",
        "method": "POST",
        "action": "DeleteUser",
        "params": {
            "AccessKeyId": "testid", "Action": "DeleteUser", "DirectoryId": "d-00fc2p61xxxx", "Format": "json",
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "SignatureVersion": "1.0", "Timestamp": "2025-01-01T00:00:00Z", "UserId": "u-00q8wbq42wiltcrkxxxx",
            "Version": "2021-05-15",
        },
        "string_to_sign": "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDeleteUser%26DirectoryId%3Dd-00fc2p61xxxx"
                          "%26Format%3Djson%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-"
                          "4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2025-01-01T00%253A00%253A00Z%26UserId"
                          "%3Du-00q8wbq42wiltcrkxxxx%26Version%3D2021-05-15",
        "signature": "XOHkv7MGnI34Gv3GyazvnosWqnc=",
        "signature_if_get": "1RxJk6xYFIRzaawgE75Y9IeH094=",
    },
]
V3_VECTORS = [vector for vector in VECTORS if vector["algorithm"] == "ACS3-HMAC-SHA256"]
V1_VECTOR = VECTORS[3]

# Section 3 of the provider notes: more SDK vectors, and the two examples in Alibaba's signing docs.
V1_EXTRA = [
    ("v1-list-users-filter-post", "POST", "testsecret",
     dict(V1_VECTOR["params"], Action="ListUsers", Filter="UserName eq 'alice@example.com'", MaxResults="100",
          UserId=None), "KK0jYeg/OHbpTCD2y2wIUUESt3g="),
    ("v1-sdk-core-style-sts-get", "GET", "testsecret",
     dict(V1_VECTOR["params"], Format="JSON", RegionId="cn-shanghai", SignatureType="",
          SecurityToken="CAIS-test-security-token"), "/eLeYnFUBDI6/uxre33IxG3sl5c="),
    ("v1-doc-example-describe-regions", "GET", "testsecret",
     {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
      "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
      "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="),
]
V3_EXTRA = [
    ("v3-sdk-full-header-set", "testid", "testsecret",
     {"host": COMMON["host"], "x-acs-action": "DeleteUser", "x-acs-version": COMMON["version"],
      "x-acs-date": COMMON["date"], "x-acs-signature-nonce": COMMON["nonce"], "x-acs-content-sha256": signer.EMPTY_SHA256,
      "accept": "application/json", "user-agent": "fixed-ua/1.0", "x-acs-credentials-provider": "static_ak"},
     VECTORS[0]["query"], "cec3e4e789cdd8a9575b1702cf92a63b5a8f13017ea0d3263626833a7f1b41d0"),
    ("v3-doc-example-run-instances", "YourAccessKeyId", "YourAccessKeySecret",
     {"host": "ecs.cn-shanghai.aliyuncs.com", "x-acs-action": "RunInstances", "x-acs-version": "2014-05-26",
      "x-acs-date": "2023-10-26T10:22:32Z", "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
      "x-acs-content-sha256": signer.EMPTY_SHA256},
     {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"},
     "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"),
]


def v3_headers(vector):
    headers = {"host": COMMON["host"], "x-acs-action": vector["action"], "x-acs-version": COMMON["version"],
               "x-acs-date": COMMON["date"], "x-acs-signature-nonce": COMMON["nonce"],
               "x-acs-content-sha256": signer.EMPTY_SHA256}
    if vector.get("security_token"):
        headers["x-acs-accesskey-id"] = COMMON["access_key_id"]
        headers["x-acs-security-token"] = vector["security_token"]
    return headers


def expected_signature(vector):
    if "signature" in vector:
        return vector["signature"]
    return vector["authorization"].rsplit("Signature=", 1)[1]


@pytest.mark.skipif(not os.path.exists(SHARED_VECTORS), reason="the shared provider notes are not beside the repository")
def test_copied_vectors_are_the_shared_ones():
    with open(SHARED_VECTORS, encoding="utf-8") as handle:
        shared = json.load(handle)
    assert shared["common"] == COMMON
    assert shared["vectors"] == VECTORS


@pytest.mark.parametrize("vector", V3_VECTORS, ids=lambda vector: vector["name"])
def test_v3_vectors(vector):
    query = signer.canonical_query(vector["query"])
    if "canonical_query" in vector:
        assert query == vector["canonical_query"]
    string_to_sign, signed_headers = signer.v3_string_to_sign("POST", "/", query, v3_headers(vector),
                                                              signer.EMPTY_SHA256)
    if "string_to_sign" in vector:
        assert string_to_sign == vector["string_to_sign"]
    if "signed_headers" in vector:
        assert signed_headers == vector["signed_headers"]
    authorization = signer.v3_authorization(COMMON["access_key_id"], COMMON["access_key_secret"], "POST", "/",
                                            query, v3_headers(vector), signer.EMPTY_SHA256)
    if "authorization" in vector:
        assert authorization == vector["authorization"]
    assert authorization.endswith("Signature=" + expected_signature(vector))


@pytest.mark.parametrize("vector", V3_VECTORS, ids=lambda vector: vector["name"])
def test_v3_vectors_through_the_requests_auth_hook(vector):
    """The signer as the transport uses it: on a prepared request, with the date and nonce fixed."""
    moment = calendar.timegm((2025, 1, 1, 0, 0, 0))
    hook = signer.AcsV3Signer(COMMON["access_key_id"], COMMON["access_key_secret"],
                              security_token=vector.get("security_token"), clock=lambda: moment,
                              nonce=lambda: COMMON["nonce"])
    prepared = requests.Request(
        "POST", "https://%s/?%s" % (COMMON["host"], signer.canonical_query(vector["query"])),
        headers={"x-acs-action": vector["action"], "x-acs-version": COMMON["version"],
                 "User-Agent": "unsigned/1.0", "Accept": "application/json"}, auth=hook).prepare()
    assert prepared.headers["x-acs-date"] == COMMON["date"]
    assert prepared.headers["host"] == COMMON["host"]
    assert prepared.headers["x-acs-content-sha256"] == signer.EMPTY_SHA256
    assert prepared.headers["Authorization"].endswith("Signature=" + expected_signature(vector))
    if "authorization" in vector:
        assert prepared.headers["Authorization"] == vector["authorization"]
    if vector.get("security_token"):
        assert prepared.headers["x-acs-accesskey-id"] == COMMON["access_key_id"]
        assert prepared.headers["x-acs-security-token"] == vector["security_token"]
    else:
        assert "x-acs-security-token" not in prepared.headers


def test_v1_vector_post_and_get():
    params = V1_VECTOR["params"]
    assert signer.v1_string_to_sign("POST", params) == V1_VECTOR["string_to_sign"]
    assert signer.v1_signature(COMMON["access_key_secret"], "POST", params) == V1_VECTOR["signature"]
    assert signer.v1_signature(COMMON["access_key_secret"], "GET", params) == V1_VECTOR["signature_if_get"]
    # Signature itself is never part of what is signed.
    assert signer.v1_signature(COMMON["access_key_secret"], "POST", dict(params, Signature="x")) == V1_VECTOR["signature"]


@pytest.mark.parametrize("name, method, secret, params, expected", V1_EXTRA, ids=[one[0] for one in V1_EXTRA])
def test_v1_extra_vectors(name, method, secret, params, expected):
    assert signer.v1_signature(secret, method, params) == expected


@pytest.mark.parametrize("name, key_id, secret, headers, query, expected", V3_EXTRA, ids=[one[0] for one in V3_EXTRA])
def test_v3_extra_vectors(name, key_id, secret, headers, query, expected):
    authorization = signer.v3_authorization(key_id, secret, "POST", "/", signer.canonical_query(query), headers,
                                            signer.EMPTY_SHA256)
    assert authorization.endswith("Signature=" + expected)


def test_simulator_verifier_computes_the_same_signatures():
    """The simulator's verifier is written separately; it must agree with the official SDK too."""
    for vector in V3_VECTORS:
        headers = v3_headers(vector)
        signature = simulator.v3_expected("POST", "/", vector["query"], headers, sorted(headers),
                                          signer.EMPTY_SHA256, COMMON["access_key_secret"])[1]
        assert signature == expected_signature(vector), vector["name"]
    for method, key in (("POST", "signature"), ("GET", "signature_if_get")):
        assert simulator.v1_expected(method, V1_VECTOR["params"], COMMON["access_key_secret"])[1] == V1_VECTOR[key]
    assert simulator.v1_expected("POST", V1_VECTOR["params"], "testsecret")[0] == V1_VECTOR["string_to_sign"]
    for name, method, secret, params, expected in V1_EXTRA:
        assert simulator.v1_expected(method, dict((k, v) for k, v in params.items() if v is not None), secret)[1] == expected, name


@pytest.mark.parametrize("value, encoded", [
    ("a b", "a%20b"),
    ("a+b", "a%2Bb"),
    ("*", "%2A"),
    ("'", "%27"),
    ("@", "%40"),
    (":", "%3A"),
    ("/", "%2F"),
    ("~-_.", "~-_."),
    ("zoë", "zo%C3%AB"),
    ("a=b&c", "a%3Db%26c"),
])
def test_percent_encoding_is_rfc3986(value, encoded):
    assert signer.percent_encode(value) == encoded
    assert simulator.pct(value) == encoded


def test_canonical_query_sorts_by_key_and_drops_none():
    query = signer.canonical_query({"UserId": "u-1", "DirectoryId": "d-1", "NextToken": None, "Filter": "",
                                    "MaxResults": 20})
    assert query == "DirectoryId=d-1&Filter=&MaxResults=20&UserId=u-1"


def test_every_attempt_gets_a_fresh_nonce_and_date():
    hook = signer.AcsV3Signer("testid", "testsecret")
    first = requests.Request("POST", "https://h.example/?A=1", headers={"x-acs-action": "GetUser"}, auth=hook).prepare()
    second = requests.Request("POST", "https://h.example/?A=1", headers={"x-acs-action": "GetUser"}, auth=hook).prepare()
    assert first.headers["x-acs-signature-nonce"] != second.headers["x-acs-signature-nonce"]
    assert first.headers["Authorization"] != second.headers["Authorization"]


def test_only_host_and_x_acs_headers_are_signed():
    hook = signer.AcsV3Signer("testid", "testsecret", security_token="tok-1234")
    prepared = requests.Request("POST", "http://127.0.0.1:8080/?X=1", auth=hook,
                                headers={"x-acs-action": "GetUser", "x-acs-version": "2021-05-15",
                                         "User-Agent": "ua", "Accept": "application/json"}).prepare()
    signed = prepared.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert signed == ("host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;"
                      "x-acs-security-token;x-acs-signature-nonce;x-acs-version")
    # The port is part of Host when it is not the scheme's default.
    assert prepared.headers["host"] == "127.0.0.1:8080"


def test_repr_never_shows_the_secret_or_token():
    hook = signer.AcsV3Signer("testid", "very-secret-value", security_token="token-value")
    assert "very-secret-value" not in repr(hook) and "token-value" not in repr(hook)


@pytest.mark.parametrize("url, host", [
    ("https://cloudsso.cn-shanghai.aliyuncs.com/?a=1", "cloudsso.cn-shanghai.aliyuncs.com"),
    ("https://CloudSSO.example:443/", "cloudsso.example"),
    ("http://127.0.0.1:80/", "127.0.0.1"),
    ("https://127.0.0.1:8443/", "127.0.0.1:8443"),
])
def test_host_header(url, host):
    assert signer.host_of(url) == host
