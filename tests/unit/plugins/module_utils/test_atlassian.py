# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.identity.lifecycle.plugins.module_utils import _atlassian
from urllib.parse import unquote

from ansible_collections.identity.lifecycle.plugins.module_utils._http import AuthenticationError, InputError, NotFoundError

from .fakes import fake_response as response


@pytest.mark.parametrize("name, expected", [
    ("alice@example.com", 'userName eq "alice@example.com"'),
    ('x" or userName pr "', 'userName eq "x\\" or userName pr \\""'),
    ("back\\slash", 'userName eq "back\\\\slash"'),
    ("zoë", 'userName eq "zoë"'),
    ("tab\there", 'userName eq "tab\\there"'),
])
def test_filter_value_is_a_json_string(name, expected):
    text = _atlassian.scim_eq_filter("userName", name)
    assert text == expected
    # Whatever the name, the value parses back to exactly the name.
    assert json.loads(text[len("userName eq "):]) == name


def test_patch_bodies_set_only_active():
    rfc, spec = _atlassian.patch_bodies(False)
    assert rfc["Operations"] == [{"op": "replace", "value": {"active": False}}]
    assert spec["operations"] == [{"op": "replace", "path": "active", "value": False}]
    assert rfc["schemas"] == spec["schemas"] == [_atlassian.SCIM_PATCH_SCHEMA]


def test_scim_error_shape():
    error = _atlassian.parse_error(response(409, {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409",
        "scimType": "uniqueness", "detail": "Resource [USER]: with email[a@b.c] already exists."}))
    assert (error.status, error.code) == (409, "uniqueness")
    assert "already exists" in error.message
    assert not error.retryable


def test_not_found_is_typed():
    assert isinstance(_atlassian.parse_error(response(404, {"status": "404", "detail": "no"})), NotFoundError)


def test_documented_failure_shape_for_401():
    error = _atlassian.parse_error(response(401, {"error": "Unauthorized", "traceId": "abc123"}))
    assert isinstance(error, AuthenticationError)
    assert error.request_id == "abc123"
    assert "SCIM directory's own API key" in error.message


def test_observed_code_message_shape_for_401():
    error = _atlassian.parse_error(response(401, {"code": 401, "message": "Unauthorized"}))
    assert error.message.startswith("Unauthorized")
    assert error.code is None


def test_retryable_statuses_carry_retry_after():
    error = _atlassian.parse_error(response(429, {"detail": "slow"}, headers={"Retry-After": "3"}))
    assert error.retryable and error.retry_after == 3.0
    assert _atlassian.parse_error(response(503, raw=b"Service Unavailable")).retryable


def test_trace_id_from_header():
    error = _atlassian.parse_error(response(500, raw=b"", headers={"ATL-TraceId": "t-1"}))
    assert error.request_id == "t-1"
    assert error.message == "an empty body"


@pytest.mark.parametrize("user_id", [
    "7d4a39b6-0b4c-4d93-9c1e-0f3c1b1b2a11", "a b", "zoë", "%2e%2e", "a/b", "../Groups/g-1", "x?y#z", ".a.",
    "back\\slash", "x" * 1024, "\u212a",
])
def test_any_printable_id_is_one_encoded_segment(user_id):
    segment = _atlassian.user_id_segment(user_id)
    assert "/" not in segment and "?" not in segment and "#" not in segment and segment.strip(".")
    assert unquote(segment) == user_id


@pytest.mark.parametrize("user_id, reason", [
    ("x" * 1025, "1025 characters long; at most 1024"),
    ("a\x00b", "control characters"),
    ("a\r\nX-Injected: 1", "control characters"),
    ("a\x7fb", "control characters"),
    ("a\x85b", "control characters"),  # C1 control (NEL)
    ("a\u2028b", "unprintable characters"),  # line separator
    ("a\u200bb", "unprintable characters"),  # zero-width space
    ("a\u00a0b", "unprintable characters"),  # no-break space
    ("..", "is not a valid id"),
    (".", "is not a valid id"),
    ("....", "is not a valid id"),
])
def test_impossible_ids_are_refused_naming_user_id(user_id, reason):
    with pytest.raises(InputError, match="^user_id ") as caught:
        _atlassian.user_id_segment(user_id)
    assert reason in str(caught.value)
    assert len(str(caught.value)) < 200  # a long id is not repeated whole
