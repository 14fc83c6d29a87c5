# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Properties of the three user modules over hostile ids, names and connection values (hypothesis).

Each example runs the whole user module (`run_user_module`: Ansible's own argument validation in
AnsibleModule, the collection's validation, preflight, lookups, plan, changes, the result as Ansible prints
it after its no_log masking) with the real provider client against an in-process simulator on loopback.
The seed, the number of examples and the example database: hypothesis_profile.py. Properties, for every
provider:

(a) no request addresses any resource but the named user: the user segment (or UserId parameter)
    of every request decodes to exactly the given id, with no extra segment and no other route;
(b) no header is injected: values with CR/LF are refused before any request is sent;
(c) name lookups take only the exact name (each provider's matching rule), whatever near-variants
    exist and whatever a loose server filter answers;
(d) invalid values fail before any request with an InputError naming the option.

The rules taken as the specification: values are stripped; empty values, control characters (C0,
DEL, C1) and more than 1024 characters are refused; Atlassian ids are any printable text sent as one
encoded segment ("." and ".." can never be one); UiPath ids are GUIDs; Alibaba ids are `u-` and
letters or digits, Alibaba names 1 to 64 of letters, digits and @_-.; Atlassian and Alibaba names
match exactly (Atlassian may match another letter case, SCIM userName not being case-exact; Alibaba
fails loudly on a case-only difference); UiPath names match `userName` or `email` as UiPath compares
them (.NET upper-casing, one character to one character: no full case folding, so `straße` is not
`strasse` and a Kelvin sign is not `k`).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import string
import sys
import unicodedata
import uuid
from unittest import mock
from urllib.parse import parse_qsl, quote, unquote

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from hypothesis import assume, event, example, given, seed, settings
from hypothesis import strategies as st

from ansible_collections.identity.lifecycle.plugins.module_utils import _alibaba, _atlassian, _lifecycle, _uipath
from ansible_collections.identity.lifecycle.plugins.module_utils._http import InputError
from simulators._base import SimServer
from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

from .hypothesis_profile import SEED, prop

# Examples per test (times PROPERTY_SCALE), the seed and the example database: hypothesis_profile.py. An example
# of the ids and names runs the whole module against a simulator (some 50 ms); a refused connection value sends
# nothing (some 15 ms). Together some 80 seconds on one core.
PROPERTY = prop(200)
CHEAP = prop(150)

MAX_LENGTH = 1024
REFUSE, ACCEPT, EITHER = "refuse", "accept", "either"
INJECTED = "X-Injected"

ATLASSIAN_DIRECTORY = "d-prop"
ATLASSIAN_KEY = "ATSCIM-property-key-4f1e2d3c"
UIPATH_ORG = "acme"
UIPATH_PARTITION = "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13"
UIPATH_CLIENT = "8d2f4c1a-5e3b-4f7d-a1c9-2b6e0d4f8a37"
UIPATH_SECRET = "uipath-property-secret-7Hq2"
UIPATH_PAT = "rt_property_personal_token_5Kd8"
ALIBABA_DIRECTORY = "d-prop0123"
ALIBABA_KEY_ID = "LTAIpropertykey01"
ALIBABA_SECRET = "alibaba-property-secret-Zm4x"
ALIBABA_STS_KEY_ID = "STS.propertykey02"
ALIBABA_STS_SECRET = "alibaba-sts-secret-Pw9r"
ALIBABA_STS_TOKEN = "sts-property-token-Yt6u"


# --- values ---------------------------------------------------------------------------------------

PIECES = ["/", "//", ".", "..", "../", "./", "%", "%2F", "%2f", "%2E%2E", "%25", "%00", "%0d%0a", "?", "#", "&", "=",
          ";", "+", "*", ",", "@", ":", "[", "]", "{", "}", "|", "~", "$", "<", ">", "`", '"', "'", "\\", '\\"', " ",
          "\u212a", "\u00df", "\u1e9e", "\uff21", "\uff4b", "\u0430", "\u0131", "\u0130", "\u017f", "\u00e9", "e\u0301",
          "\u00a0", "\u3000", "\u200b", "\u202e", "\ufeff", "\u2028", "\U0001f600",
          "Users", "Groups", "directory", "api", "User", "users", "connect", "token", "Action=DeleteUser", "UserId=u-1"]
WORDS = ["kate", "Kate", "dana.lee@example.com", "strasse", "u-decoy", "admin", "a", "x"]
CONTROLS = ["\r", "\n", "\r\n", "\x00", "\t", "\x0b", "\x1b", "\x7f", "\x85", "\x9b", "\r\n%s: 1" % INJECTED,
            "\n%s: 1\n" % INJECTED]
SPACES = ["", " ", "  ", "\t", "\n", "\u00a0", "\u3000"]

piece = st.one_of(st.sampled_from(PIECES), st.sampled_from(WORDS), st.text(min_size=1, max_size=4))
hostile = st.lists(piece, min_size=1, max_size=6).map("".join)
padded = st.builds(lambda left, text, right: left + text + right, st.sampled_from(SPACES), hostile, st.sampled_from(SPACES))
controlled = st.builds(lambda head, control, tail: head + control + tail, hostile | st.just(""), st.sampled_from(CONTROLS),
                       hostile | st.just(""))
very_long = st.builds(lambda char, count: char * count, st.sampled_from(["a", "/", "%", "\u00df", "\u212a", "."]),
                      st.integers(MAX_LENGTH - 8, MAX_LENGTH + 8))
values = st.one_of(hostile, padded, controlled, very_long)
# Values the shared rules accept (printable, no control character, at most 1024 characters once stripped), still
# made of the pieces above: most examples must reach the provider, where the properties (a) and (c) are about.
printable_piece = st.one_of(st.sampled_from([one for one in PIECES if one.isprintable() and one.strip()]),
                            st.sampled_from(WORDS), st.text(st.characters(blacklist_categories=("C", "Z")), min_size=1,
                                                            max_size=4))
printable = st.builds(lambda left, middle, right: left + middle + right, st.sampled_from(["", " ", "  "]),
                      st.lists(printable_piece, min_size=1, max_size=6).map(" ".join), st.sampled_from(["", " ", "\t"]))


def is_control(char):
    return unicodedata.category(char) == "Cc"


def core_verdict(value):
    """What the shared rules say of a user_id or user_name, before any provider rule."""
    text = value.strip()
    if not text or any(is_control(char) for char in text) or len(text) > MAX_LENGTH:
        return REFUSE
    # Format characters, line separators, other spaces and unassigned code points are not control
    # characters; refusing them (as not printable) is a provider's choice.
    if not text.isprintable():
        return EITHER
    return ACCEPT


def verdict(rule, value):
    """The core's verdict, then the provider's: `rule(text)` is True, False or one of the verdicts."""
    core = core_verdict(value)
    if core == REFUSE:
        return REFUSE
    ruled = rule(value.strip())
    if ruled in (REFUSE, EITHER):
        return ruled
    return core if ruled else REFUSE


def simple_upper(text):
    """Upper case one character to one character, as .NET's ToUpperInvariant (no 'ß' -> 'SS')."""
    return "".join(char.upper() if len(char.upper()) == 1 else char for char in text)


def simple_lower(text):
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def uipath_key(text):
    """A name as ASP.NET Identity compares it: composed (NFC), then upper-cased one character to one."""
    return simple_upper(unicodedata.normalize("NFC", text))


FULLWIDTH = dict((ord(char), chr(ord(char) + 0xFEE0)) for char in string.ascii_letters + string.digits)


def near_variants(name):
    """Names a careless comparison could take for `name`: other case, look-alikes, affixes, quotes."""
    variants = [name.upper(), name.lower(), name.swapcase(), name.casefold(), simple_upper(name),
                name.replace("k", "\u212a").replace("K", "\u212a"), name.replace("ss", "\u00df"),
                name.replace("\u00df", "ss"), name.replace("a", "\u0430"), name.translate(FULLWIDTH),
                name.replace("i", "\u0131"), name.replace("s", "\u017f"), unicodedata.normalize("NFKC", name),
                unicodedata.normalize("NFD", name), "x" + name, name + "x", name + " ", " " + name, '"%s"' % name,
                "'%s'" % name, name + '"', name + "*", name + "\u200b", name[:-1], name + "@example.com"]
    found = []
    for variant in variants:
        if variant and variant != name and variant not in found:
            found.append(variant)
    return found


# --- the module, run in-process -----------------------------------------------------------------------

class Finished:
    """How the module ended: `result` as Ansible prints it (after its no_log masking), `raw` as the collection
    handed it to exit_json or fail_json, and `exception`, the error being handled when fail_json was called."""

    def __init__(self, result, raw, failed, exception=None):
        self.result = result
        self.raw = raw
        self.failed = failed
        self.exception = exception


class RecordingModule(AnsibleModule):
    """Ansible's own AnsibleModule (argument types, defaults, no_log, mutually exclusive and required options,
    check mode), which also keeps what the collection handed to its exits."""

    ended = {}  # "raw": what the collection handed to its exit, "exception": the error being handled then

    def exit_json(self, **kwargs):
        RecordingModule.ended.update(raw=dict(kwargs), exception=None)
        super().exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        # Called inside the handler of the error that failed the task, or by Ansible's own validation.
        RecordingModule.ended.update(raw=dict(kwargs, msg=msg), exception=sys.exc_info()[1])
        super().fail_json(msg, **kwargs)


def run_module(directory_cls, **params):
    """The whole user module, as ansible-core runs it but in this process: the arguments go through
    AnsibleModule's validation; the result is what the module prints."""
    arguments = {"retries": 0, "timeout": 10.0}
    arguments.update((name, value) for name, value in params.items() if value is not None)
    for name in ("_global_warnings", "_global_deprecations"):
        getattr(ansible_warnings, name, {}).clear()  # a module process starts with none
    RecordingModule.ended.clear()
    printed = io.StringIO()
    code = None
    with patch_module_args(arguments), mock.patch.object(_lifecycle, "AnsibleModule", RecordingModule), \
            contextlib.redirect_stdout(printed):
        try:
            _lifecycle.run_user_module(directory_cls)
        except SystemExit as exited:
            code = exited.code
        else:
            raise AssertionError("the module neither exited nor failed")
    assert RecordingModule.ended, printed.getvalue()
    raw, exception = RecordingModule.ended["raw"], RecordingModule.ended["exception"]
    result = json.loads(printed.getvalue().strip().splitlines()[-1])
    assert bool(result.get("failed")) is (code != 0), result
    return Finished(result, raw, code != 0, exception)


# --- simulators that also log what they were sent -----------------------------------------------------

def with_wire_log(simulator_cls):
    class Logged(simulator_cls):
        def log_entry(self, request, status):
            entry = super().log_entry(request, status)
            entry["headers"] = [[name, value] for name, value in request.headers.items()]
            entry["body"] = request.body.decode("utf-8", "replace")
            return entry
    Logged.__name__ = simulator_cls.__name__
    return Logged


@pytest.fixture(scope="module")
def atlassian_server():
    with SimServer(with_wire_log(AtlassianScimSimulator)()) as server:
        yield server


@pytest.fixture(scope="module")
def uipath_server():
    simulator = with_wire_log(UiPathIdentitySimulator)(rate_limits={"GET": 10 ** 9, "PUT": 10 ** 9, "DELETE": 10 ** 9})
    with SimServer(simulator) as server:
        yield server


@pytest.fixture(scope="module")
def alibaba_server():
    with SimServer(with_wire_log(AlibabaCloudSsoSimulator)()) as server:
        yield server


def fresh(server, data):
    simulator = server.simulator
    simulator.clear_faults()
    simulator.seed(data)
    simulator.clear_log()
    return simulator


def seed_atlassian(server, users):
    return fresh(server, {"directories": {ATLASSIAN_DIRECTORY: {"api_key": ATLASSIAN_KEY, "users": [
        {"id": user_id, "userName": name, "emails": [{"value": "%s@example.com" % index, "primary": True}]}
        for index, (user_id, name) in enumerate(users)]}}})


def seed_uipath(server, users):
    """users: (id, userName, email)."""
    return fresh(server, {"organizations": {UIPATH_ORG: {
        "partition_global_id": UIPATH_PARTITION,
        "clients": {UIPATH_CLIENT: {"secret": UIPATH_SECRET, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
        "personal_access_tokens": {UIPATH_PAT: {}},
        "users": [{"id": user_id, "userName": name, "email": email} for user_id, name, email in users]}}})


def seed_alibaba(server, users):
    return fresh(server, {
        "settings": {"throttle_rate": 10.0 ** 9},
        "access_keys": [{"access_key_id": ALIBABA_KEY_ID, "access_key_secret": ALIBABA_SECRET},
                        {"access_key_id": ALIBABA_STS_KEY_ID, "access_key_secret": ALIBABA_STS_SECRET,
                         "security_token": ALIBABA_STS_TOKEN}],
        "directories": [{"DirectoryId": ALIBABA_DIRECTORY, "users": [
            {"UserId": user_id, "UserName": name} for user_id, name in users]}]})


def with_options(defaults, params):
    options = dict(defaults)
    options.update(params)
    return options


def atlassian_params(server, **params):
    return with_options({"base_url": server.url + "/scim", "directory_id": ATLASSIAN_DIRECTORY, "api_key": ATLASSIAN_KEY},
                        params)


def uipath_params(server, **params):
    return with_options({"base_url": server.url, "organization": UIPATH_ORG, "client_id": UIPATH_CLIENT,
                         "client_secret": UIPATH_SECRET}, params)


def alibaba_params(server, **params):
    return with_options({"endpoint": server.url, "directory_id": ALIBABA_DIRECTORY, "access_key_id": ALIBABA_KEY_ID,
                         "access_key_secret": ALIBABA_SECRET}, params)


# --- what the simulators were asked ---------------------------------------------------------------

def split_target(entry):
    path, _mark, query = entry["path"].partition("?")
    return path.split("/"), dict(parse_qsl(query, keep_blank_values=True)), query


def no_injected_header(log):
    for entry in log:
        for name, value in entry["headers"]:
            assert INJECTED.lower() not in name.lower() and INJECTED.lower() not in value.lower(), (
                "a header was injected into %s %s" % (entry["method"], entry["path"]))


def atlassian_addressed(log, names=()):
    """The user ids the requests addressed; fails on any other route, extra segment or foreign filter."""
    addressed = []
    for entry in log:
        parts, params, query = split_target(entry)
        where = "%s %s" % (entry["method"], entry["path"])
        assert parts[:5] == ["", "scim", "directory", ATLASSIAN_DIRECTORY, "Users"], "another route: " + where
        if len(parts) == 5:
            assert entry["method"] == "GET", "a change to the user collection: " + where
            if "filter" in params:
                match = re.match(r'^userName eq (".*")$', params["filter"], re.S)
                assert match and json.loads(match.group(1)) in names, "a filter for someone else: " + where
            assert set(params) <= {"filter", "startIndex", "count"}, where
            continue
        assert len(parts) == 6 and not query, "more than one user segment: " + where
        addressed.append(unquote(parts[5]))
    no_injected_header(log)
    return addressed


def uipath_addressed(log):
    """The user ids (lower case) the requests addressed, bulk deletes included."""
    addressed = []
    for entry in log:
        parts, params, query = split_target(entry)
        where = "%s %s" % (entry["method"], entry["path"])
        assert parts[:3] == ["", UIPATH_ORG, "identity_"], "another route: " + where
        rest = parts[3:]
        if rest == ["connect", "token"]:
            assert entry["method"] == "POST" and not query, where
        elif rest == ["api", "User", "users", UIPATH_PARTITION]:
            assert entry["method"] == "GET" and "searchTerm" not in params, where
        elif rest == ["api", "User"]:
            assert entry["method"] == "DELETE" and not query, where
            body = json.loads(entry["body"])
            assert body["partitionGlobalId"] == UIPATH_PARTITION, where
            addressed.extend(one.lower() for one in body["userIds"])
        else:
            assert len(rest) == 3 and rest[:2] == ["api", "User"] and not query, "another route: " + where
            addressed.append(unquote(rest[2]).lower())
    no_injected_header(log)
    return addressed


ALIBABA_READS = ("GetDirectory", "GetUser", "ListUsers", "ListMFADevicesForUser", "ListJoinedGroupsForUser",
                 "ListAccessAssignments", "GetSCIMSynchronizationStatus", "GetTaskStatus")
ALIBABA_CHANGES = ("DeleteUser", "UpdateUserStatus", "DeleteMFADeviceForUser", "RemoveUserFromGroup",
                   "DeleteAccessAssignment")


def alibaba_addressed(log, names=()):
    addressed = []
    for entry in log:
        parts, params, _query = split_target(entry)
        where = "%s %s" % (entry["method"], entry["path"])
        assert parts == ["", ""] and entry["method"] == "POST", "another route: " + where
        assert params.get("DirectoryId") == ALIBABA_DIRECTORY, "another directory: " + where
        assert params.get("Action") in ALIBABA_READS + ALIBABA_CHANGES, "another action: " + where
        if "Filter" in params:
            match = re.match(r"^UserName eq (.*)$", params["Filter"], re.S)
            assert match and match.group(1).strip("'\"") in names, "a filter for someone else: " + where
        for key in ("UserId", "PrincipalId"):
            if key in params:
                addressed.append(params[key])
    no_injected_header(log)
    return addressed


def refused_before_any_request(finished, simulator, option, secret=None):
    assert finished.failed, "accepted: %r" % (finished.result,)
    # ansible-core 2.21 logs a module's arguments to syslog as AnsibleModule starts, and a NUL character fails that
    # log ("embedded null character"): the module is refused before the collection's code runs, which names no option.
    by_ansible = isinstance(finished.exception, ValueError) and "embedded null character" in str(finished.exception)
    assert by_ansible or isinstance(finished.exception, InputError), "not refused by validation: %r" % (
        finished.result.get("msg"),)
    assert by_ansible or option in finished.result["msg"], "the message does not name %s: %s" % (
        option, finished.result["msg"])
    if secret is not None:
        # Neither in what Ansible prints nor in what the collection handed it (before Ansible's no_log masking).
        for shown in (json.dumps(finished.result), json.dumps(finished.raw, default=str)):
            assert secret.strip() not in shown and secret not in shown, "the message shows the secret"
    assert simulator.requests() == [], "requests were sent: %r" % [entry["path"] for entry in simulator.requests()]


def user_result(finished):
    assert len(finished.result.get("users") or []) == 1, finished.result
    return finished.result["users"][0]


# --- (a) and (d) ids ------------------------------------------------------------------------------------

def atlassian_id_rule(text):
    # "." and ".." can never be one path segment; other ids of dots only may be refused too.
    if text in (".", ".."):
        return REFUSE
    return EITHER if not text.strip(".") else ACCEPT


def mostly(shaped, other):
    """Seven in ten values of the provider's own shape (some still invalid), the others anything."""
    return st.sampled_from(range(10)).flatmap(lambda draw: shaped if draw < 7 else other)


valid_guids = st.builds(lambda left, guid, upper, right: left + (guid.upper() if upper else guid) + right,
                        st.sampled_from(SPACES[:4]), st.uuids().map(str), st.booleans(), st.sampled_from(SPACES[:4]))
guids = st.builds(lambda left, guid, upper, right: left + (guid.upper() if upper else guid) + right, st.sampled_from(SPACES),
                  st.uuids().map(str), st.booleans(), st.sampled_from(SPACES + ["/x", "%2F..", "}", "\n", "\u0430"]))


def decoy_ids(text):
    """Ids a wrong path could address instead: the collection, parents, children, other encodings, other case."""
    found = []
    for one in (text + "x", "x" + text, text.upper(), text.lower(), unquote(text), quote(text, safe=""),
                text.split("/")[0], text.rsplit("/", 1)[-1], text.replace("/", ""), "u-decoy", "Users", ".."):
        if one and one != text and one not in found and core_verdict(one) != REFUSE:
            found.append(one)
    return found


@PROPERTY
@example(value="../Groups/g-1", present=True, state="absent")
@example(value="a/..", present=True, state="disabled")
@example(value="%2e%2e", present=True, state="absent")
@example(value=" u 1?x=1#y ", present=True, state="absent")
@example(value="..", present=False, state="absent")
@example(value="u-1\r\n%s: 1" % INJECTED, present=False, state="absent")
@given(value=mostly(printable, values), present=st.booleans(), state=st.sampled_from(["absent", "disabled"]))
def test_atlassian_ids_address_only_that_user(atlassian_server, value, present, state):
    expected = verdict(atlassian_id_rule, value)
    event(expected)
    text = value.strip()
    decoys = decoy_ids(text) if expected != REFUSE else ["u-decoy"]
    users = [(one, "decoy-%d" % index) for index, one in enumerate(decoys)]
    if present and expected != REFUSE:
        users.append((text, "target"))
    simulator = seed_atlassian(atlassian_server, users)
    finished = run_module(_atlassian.AtlassianScimDirectory, **atlassian_params(atlassian_server, user_id=[value], state=state))
    if expected == REFUSE or (expected == EITHER and finished.failed and isinstance(finished.exception, InputError)):
        refused_before_any_request(finished, simulator, "user_id")
        return
    user = user_result(finished)
    assert not finished.failed, finished.result["msg"]
    assert set(atlassian_addressed(simulator.requests())) <= {text}
    remaining = dict((one["id"], one) for one in simulator.users(ATLASSIAN_DIRECTORY))
    assert all(one in remaining and remaining[one]["active"] for one in decoys), "a decoy was touched"
    assert user["changed"] is present
    if present:
        assert (text not in remaining) if state == "absent" else (remaining[text]["active"] is False)


def uipath_id_rule(text):
    return re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", text) is not None


@PROPERTY
@example(value=" 3FA85F64-5717-4562-B3FC-2C963F66AFA6\t", present=True, state="absent")
@example(value="3fa85f64-5717-4562-b3fc-2c963f66afa6/../users", present=False, state="absent")
@example(value="{3fa85f64-5717-4562-b3fc-2c963f66afa6}", present=False, state="disabled")
@given(value=mostly(mostly(valid_guids, guids), values), present=st.booleans(), state=st.sampled_from(["absent", "disabled"]))
def test_uipath_ids_address_only_that_user(uipath_server, value, present, state):
    expected = verdict(uipath_id_rule, value)
    event(expected)
    text = value.strip()
    decoys = [str(uuid.UUID(int=number)) for number in (1, 2)]
    assume(text.lower() not in decoys)
    users = [(one, "decoy-%s@example.com" % one[-1], None) for one in decoys]
    if present and expected != REFUSE:
        users.append((text.lower(), "target@example.com", "target@example.com"))
    simulator = seed_uipath(uipath_server, users)
    finished = run_module(_uipath.UiPathDirectory, **uipath_params(uipath_server, user_id=[value], state=state))
    if expected == REFUSE:
        refused_before_any_request(finished, simulator, "user_id")
        return
    user = user_result(finished)
    assert not finished.failed, finished.result["msg"]
    assert set(uipath_addressed(simulator.requests())) <= {text.lower()}
    remaining = dict((one["id"], one) for one in simulator.users())
    assert all(one in remaining and remaining[one]["isActive"] for one in decoys), "a decoy was touched"
    assert user["changed"] is present
    if present:
        assert (text.lower() not in remaining) if state == "absent" else (remaining[text.lower()]["isActive"] is False)


alibaba_ids = st.builds(lambda left, body, right: left + "u-" + body + right, st.sampled_from(SPACES),
                        st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=64), st.sampled_from(SPACES))
bad_alibaba_ids = st.builds(lambda body, right: "u-" + body + right,
                            st.text(alphabet=string.ascii_letters + string.digits, min_size=0, max_size=66),
                            st.sampled_from(["&UserId=u-decoy", "%26", "/", "\u212a", "\r\n", "-", "x" * 64]))


@PROPERTY
@example(value=" u-abc1 ", present=True, state="absent")
@example(value="u-abc&UserId=u-decoy", present=False, state="absent")
@example(value="u-\u212a", present=False, state="disabled")
@given(value=mostly(alibaba_ids, bad_alibaba_ids | values), present=st.booleans(), state=st.sampled_from(["absent", "disabled"]))
def test_alibaba_ids_address_only_that_user(alibaba_server, value, present, state):
    expected = verdict(alibaba_id_rule, value)
    event(expected)
    text = value.strip()
    decoys = ["u-decoy", "u-decoy2"]
    assume(text not in decoys)
    users = [(one, one + "-name") for one in decoys]
    if present and expected != REFUSE:
        users.append((text, "target"))
    simulator = seed_alibaba(alibaba_server, users)
    finished = run_module(_alibaba.AlibabaCloudSsoDirectory, **alibaba_params(alibaba_server, user_id=[value], state=state))
    if expected == REFUSE or (expected == EITHER and finished.failed and isinstance(finished.exception, InputError)):
        refused_before_any_request(finished, simulator, "user_id")
        return
    user = user_result(finished)
    assert not finished.failed, finished.result["msg"]
    assert set(alibaba_addressed(simulator.requests())) <= {text}
    remaining = dict((one["UserId"], one) for one in simulator.directory_state(ALIBABA_DIRECTORY)["users"])
    assert all(one in remaining and remaining[one]["Status"] == "Enabled" for one in decoys), "a decoy was touched"
    assert user["changed"] is present
    if present:
        assert (text not in remaining) if state == "absent" else (remaining[text]["Status"] == "Disabled")


def alibaba_id_rule(text):
    # u- and letters or digits; no length is documented (real ids have about 22 characters), so a limit may apply.
    if re.fullmatch(r"u-[A-Za-z0-9]{1,62}", text):
        return ACCEPT
    return EITHER if re.fullmatch(r"u-[A-Za-z0-9]+", text) else REFUSE


# --- (c) and (d) names ----------------------------------------------------------------------------------

names = mostly(st.sampled_from(WORDS) | printable, values)
alibaba_names = mostly(st.builds(lambda left, name, right: left + name + right, st.sampled_from(["", " ", "\t"]),
                                 st.text(alphabet=string.ascii_letters + string.digits + "@_.-", min_size=1, max_size=64),
                                 st.sampled_from(["", " "])),
                       st.one_of(st.text(alphabet=string.ascii_letters + string.digits + "@_.-", min_size=65, max_size=66),
                                 st.sampled_from(WORDS), names))


def only(name, *variants):
    """The flags that seed exactly these near-variants of `name` (for explicit examples)."""
    return [variant in variants for variant in near_variants(name)] + [False] * 30


def name_case(name, flags):
    """The near-variants of `name` that an example seeds (a drawn subset)."""
    return [variant for variant, keep in zip(near_variants(name), flags) if keep]


def judge_name_outcome(finished, seeded, deleted, allowed, required, certain=None):
    """seeded: {id: name}; deleted: the ids gone. allowed(name): may be taken for the requested name;
    required(name): must be taken when the run takes one or says none matches; certain(name) (default:
    required): a name so plainly the requested one that failing instead is wrong (failing loudly is fine
    for a look-alike or another letter case, and when several users may match)."""
    certain = certain or required
    user = user_result(finished)
    may = set(one for one, name in seeded.items() if allowed(name))
    must = set(one for one, name in seeded.items() if required(name))
    assert deleted <= may, "deleted %s, whose name is not the requested one" % ascii(sorted(seeded[one] for one in deleted - may))
    assert len(deleted) <= 1, "deleted several users for one name"
    if user.get("failed"):
        assert not deleted
        if re.search(r"matches \d+ users", user["msg"]):
            listed = set(one for one in seeded if one in user["msg"])
            assert listed <= may, "the ambiguity counts %s as matches: %s" % (
                ascii(sorted(seeded[one] for one in listed - may)), user["msg"])
            assert len(may) >= 2
        else:
            plain = [name for name in seeded.values() if certain(name)]
            assert not plain or len(may) > 1, "failed although %s has that name: %s" % (ascii(plain), user["msg"])
        return
    if deleted:
        assert must <= deleted, "took one user although %d match" % len(must)
    else:
        assert not must, "reported %r although %s match" % (user["msg"], ascii(sorted(seeded[one] for one in must)))


@PROPERTY
@example(value="kate", present=False, flags=only("kate", "\u212aate"), loose=False)
@example(value="strasse", present=False, flags=only("strasse", "stra\u00dfe"), loose=False)
@example(value="dana.lee@example.com ", present=True, flags=only("dana.lee@example.com", "DANA.LEE@EXAMPLE.COM"), loose=True)
@example(value='x" or userName pr "', present=False, flags=only('x" or userName pr "'), loose=False)
@given(value=names, present=st.booleans(), flags=st.lists(st.booleans(), min_size=30, max_size=30), loose=st.booleans())
def test_atlassian_names_take_only_the_exact_name(atlassian_server, value, present, flags, loose):
    expected = core_verdict(value)
    event(expected)
    text = value.strip()
    chosen = name_case(text, flags) if expected != REFUSE else []
    seeded = dict(("n-%02d" % index, name) for index, name in enumerate(chosen))
    if present and expected != REFUSE:
        seeded["n-target"] = text
    simulator = seed_atlassian(atlassian_server, list(seeded.items()))
    if loose:
        # A server whose filter matches more loosely than documented answers with everyone.
        everyone = simulator.users(ATLASSIAN_DIRECTORY)
        simulator.add_fault(method="GET", path=r"[?&]filter=", status=200, times=None, body={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": len(everyone),
            "startIndex": 1, "itemsPerPage": len(everyone), "Resources": everyone})
    finished = run_module(_atlassian.AtlassianScimDirectory,
                          **atlassian_params(atlassian_server, user_name=[value], state="absent"))
    if expected == REFUSE or (expected == EITHER and finished.failed and isinstance(finished.exception, InputError)):
        refused_before_any_request(finished, simulator, "user_name")
        return
    assert set(atlassian_addressed(simulator.requests(), names=[text])) <= set(seeded)
    deleted = set(seeded) - set(one["id"] for one in simulator.users(ATLASSIAN_DIRECTORY))
    # SCIM userName is not case-exact: another letter case may match, nothing else.
    judge_name_outcome(finished, seeded, deleted, allowed=lambda name: simple_upper(name) == simple_upper(text),
                       required=lambda name: name == text)


@PROPERTY
@example(value="kate", present=False, flags=only("kate", "\u212aate"), field="userName")
@example(value="strasse", present=False, flags=only("strasse", "stra\u00dfe"), field="email")
@example(value=" dana.lee@example.com", present=False, flags=only("dana.lee@example.com", "DANA.LEE@example.com"),
         field="userName")
@given(value=names, present=st.booleans(), flags=st.lists(st.booleans(), min_size=30, max_size=30),
       field=st.sampled_from(["userName", "email"]))
def test_uipath_names_match_as_uipath_compares(uipath_server, value, present, flags, field):
    expected = core_verdict(value)
    event(expected)
    text = value.strip()
    chosen = name_case(text, flags) if expected != REFUSE else []
    seeded = dict((str(uuid.UUID(int=index + 1)), name) for index, name in enumerate(chosen))
    target = str(uuid.UUID(int=999))
    if present and expected != REFUSE:
        seeded[target] = text
    if field == "userName":
        # The identity server cannot hold two users whose names compare equal.
        taken = set()
        for one in sorted(seeded, key=lambda one: one != target):
            if uipath_key(seeded[one]) in taken:
                del seeded[one]
            else:
                taken.add(uipath_key(seeded[one]))
    filler = dict((one, "other-%s" % one[-3:]) for one in seeded)
    assume(all(uipath_key(other) != uipath_key(text) for other in filler.values()))
    users = [(one, name if field == "userName" else filler[one], name if field == "email" else filler[one])
             for one, name in seeded.items()]
    simulator = seed_uipath(uipath_server, users)
    finished = run_module(_uipath.UiPathDirectory, **uipath_params(uipath_server, user_name=[value], state="absent"))
    if expected == REFUSE or (expected == EITHER and finished.failed and isinstance(finished.exception, InputError)):
        refused_before_any_request(finished, simulator, "user_name")
        return
    assert set(uipath_addressed(simulator.requests())) <= set(seeded)
    deleted = set(seeded) - set(one["id"] for one in simulator.users())
    # UiPath compares composed, upper-cased names: a Kelvin sign composes to K, so it may be taken (or pointed out
    # loudly); only another letter case is plainly the same name.
    judge_name_outcome(finished, seeded, deleted, allowed=lambda name: uipath_key(name) == uipath_key(text),
                       required=lambda name: uipath_key(name) == uipath_key(text)
                       and simple_lower(unicodedata.normalize("NFC", name)) == simple_lower(unicodedata.normalize("NFC", text)),
                       certain=lambda name: simple_upper(name) == simple_upper(text) and simple_lower(name) == simple_lower(text))


def alibaba_name_rule(text):
    return re.fullmatch(r"[A-Za-z0-9@_.-]{1,64}", text) is not None


@PROPERTY
@example(value="kate", present=False, flags=only("kate", "\u212aate", "Kate"), loose=True)
@example(value="dana.lee@example.com", present=True, flags=only("dana.lee@example.com", "DANA.LEE@EXAMPLE.COM"), loose=True)
@example(value="dana lee", present=False, flags=only("dana lee"), loose=False)
@given(value=alibaba_names, present=st.booleans(), flags=st.lists(st.booleans(), min_size=30, max_size=30),
       loose=st.booleans())
def test_alibaba_names_take_only_the_exact_name(alibaba_server, value, present, flags, loose):
    expected = verdict(alibaba_name_rule, value)
    event(expected)
    text = value.strip()
    chosen = name_case(text, flags) if expected != REFUSE else []
    seeded = dict(("u-n%02d" % index, name) for index, name in enumerate(chosen))
    if present and expected != REFUSE:
        seeded["u-ntarget"] = text
    simulator = seed_alibaba(alibaba_server, list(seeded.items()))
    if loose:
        everyone = simulator.directory_state(ALIBABA_DIRECTORY)["users"]
        simulator.add_fault(method="POST", path=r"[?&]Action=ListUsers(&|$)", status=200, times=None, body={
            "Users": everyone, "TotalCounts": len(everyone), "MaxResults": 100, "IsTruncated": False,
            "RequestId": "loose-filter"})
    finished = run_module(_alibaba.AlibabaCloudSsoDirectory,
                          **alibaba_params(alibaba_server, user_name=[value], state="absent"))
    if expected == REFUSE:
        refused_before_any_request(finished, simulator, "user_name")
        return
    assert set(alibaba_addressed(simulator.requests(), names=[text])) <= set(seeded)
    deleted = set(seeded) - set(one["UserId"] for one in simulator.directory_state(ALIBABA_DIRECTORY)["users"])
    # Exact only (a name that differs only in letter case may fail loudly: the server's rule is unconfirmed).
    judge_name_outcome(finished, seeded, deleted, allowed=lambda name: name == text, required=lambda name: name == text)


# --- (b) and (d) connection values: nothing with CR/LF is ever sent -------------------------------------

def with_control(base):
    return st.builds(lambda head, control, tail, where: (base[:where] + head + control + tail + base[where:]),
                     st.just("") | hostile, st.sampled_from(CONTROLS), st.just("") | hostile,
                     st.integers(0, len(base)))


def connection_case(options):
    """(option, hostile value) for one of `options` {name: (valid value, is_secret)}."""
    return st.sampled_from(sorted(options)).flatmap(lambda option: st.tuples(st.just(option), with_control(options[option][0])))


ATLASSIAN_OPTIONS = {"api_key": (ATLASSIAN_KEY, True), "directory_id": (ATLASSIAN_DIRECTORY, False)}
UIPATH_OPTIONS = {"client_secret": (UIPATH_SECRET, True), "access_token": (UIPATH_PAT, True),
                  "organization": (UIPATH_ORG, False), "client_id": (UIPATH_CLIENT, False)}
ALIBABA_OPTIONS = {"access_key_secret": (ALIBABA_STS_SECRET, True), "security_token": (ALIBABA_STS_TOKEN, True),
                   "access_key_id": (ALIBABA_STS_KEY_ID, False), "directory_id": (ALIBABA_DIRECTORY, False)}


@CHEAP
@given(case=connection_case(ATLASSIAN_OPTIONS))
def test_atlassian_connection_values_with_control_characters_are_never_sent(atlassian_server, case):
    option, value = case
    simulator = seed_atlassian(atlassian_server, [("u-1", "dana")])
    finished = run_module(_atlassian.AtlassianScimDirectory,
                          **atlassian_params(atlassian_server, user_id=["u-1"], state="absent", **{option: value}))
    refused_before_any_request(finished, simulator, option, secret=value if ATLASSIAN_OPTIONS[option][1] else None)


@CHEAP
@given(case=connection_case(UIPATH_OPTIONS))
def test_uipath_connection_values_with_control_characters_are_never_sent(uipath_server, case):
    option, value = case
    simulator = seed_uipath(uipath_server, [(str(uuid.UUID(int=1)), "dana", None)])
    params = uipath_params(uipath_server, user_id=[str(uuid.UUID(int=1))], state="absent", **{option: value})
    if option == "access_token":
        params.update(client_id=None, client_secret=None)
    finished = run_module(_uipath.UiPathDirectory, **params)
    refused_before_any_request(finished, simulator, option, secret=value if UIPATH_OPTIONS[option][1] else None)


@CHEAP
@given(case=connection_case(ALIBABA_OPTIONS))
def test_alibaba_connection_values_with_control_characters_are_never_sent(alibaba_server, case):
    option, value = case
    simulator = seed_alibaba(alibaba_server, [("u-1", "dana")])
    params = alibaba_params(alibaba_server, user_id=["u-1"], state="absent", access_key_id=ALIBABA_STS_KEY_ID,
                            access_key_secret=ALIBABA_STS_SECRET, security_token=ALIBABA_STS_TOKEN)
    params[option] = value
    finished = run_module(_alibaba.AlibabaCloudSsoDirectory, **params)
    refused_before_any_request(finished, simulator, option, secret=value if ALIBABA_OPTIONS[option][1] else None)


TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
LINE_BREAKS = [control for control in CONTROLS if "\r" in control or "\n" in control]
# A line break inside the token (never at an end, where stripping would remove it), with hostile text around it.
tokens_with_line_breaks = st.builds(lambda where, head, control, tail: TOKEN[:where] + head + control + tail + TOKEN[where:],
                                    st.integers(1, len(TOKEN) - 1), st.just("") | hostile, st.sampled_from(LINE_BREAKS),
                                    st.just("") | hostile)


@prop(100)
@given(token=tokens_with_line_breaks)
def test_a_uipath_token_with_control_characters_never_reaches_a_header(uipath_server, token):
    # The token comes from the server; a broken or hostile token endpoint must not make us send it.
    assert "\r" in token.strip() or "\n" in token.strip()
    simulator = seed_uipath(uipath_server, [(str(uuid.UUID(int=1)), "dana", None)])
    simulator.add_fault(method="POST", path=r"/connect/token$", status=200, times=None,
                        body={"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
    finished = run_module(_uipath.UiPathDirectory, **uipath_params(
        uipath_server, user_id=[str(uuid.UUID(int=1))], state="absent", partition_global_id=UIPATH_PARTITION))
    assert finished.failed
    assert [entry["path"].rsplit("/", 2)[-2:] for entry in simulator.requests()] == [["connect", "token"]]
    shown = json.dumps(finished.result)
    assert token.strip() not in shown and INJECTED not in shown
    assert [one["id"] for one in simulator.users()] == [str(uuid.UUID(int=1))]


def test_the_strategies_reach_every_kind_of_value():
    """The generators above really produce what the properties are about (a guard against a silent no-op)."""
    kinds = {"refused": 0, "accepted": 0, "slash": 0, "control": 0, "long": 0, "look-alike": 0}
    samples = []

    @seed(SEED)
    @settings(max_examples=300, database=None, deadline=None)
    @given(value=values)
    def collect(value):
        samples.append(value)

    collect()
    for value in samples:
        kinds["refused" if core_verdict(value) == REFUSE else "accepted"] += 1
        kinds["slash"] += "/" in value
        kinds["control"] += any(is_control(char) for char in value.strip())
        kinds["long"] += len(value.strip()) > MAX_LENGTH
        kinds["look-alike"] += any(char in value for char in "\u212a\u00df\u0430\uff21")
    assert all(count > 0 for count in kinds.values()), kinds


@pytest.mark.parametrize("strategy, rule", [
    (mostly(printable, values), atlassian_id_rule), (mostly(mostly(valid_guids, guids), values), uipath_id_rule),
    (mostly(alibaba_ids, bad_alibaba_ids | values), alibaba_id_rule), (names, lambda text: True),
    (alibaba_names, alibaba_name_rule)], ids=["atlassian ids", "uipath ids", "alibaba ids", "names", "alibaba names"])
def test_the_strategies_reach_accepted_values_often(strategy, rule):
    """Most examples of the id and name properties pass the validation and reach the provider."""
    verdicts = []

    @seed(SEED)
    @settings(max_examples=150, database=None, deadline=None)
    @given(value=strategy)
    def collect(value):
        verdicts.append(verdict(rule, value))

    collect()
    assert verdicts.count(ACCEPT) >= 0.45 * len(verdicts), dict((one, verdicts.count(one)) for one in set(verdicts))
    assert verdicts.count(REFUSE) >= 0.05 * len(verdicts), "the refusals are no longer tried"
