# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The CloudSSO simulator answers like Alibaba's gateway and CloudSSO: raw signed HTTP requests,
no Ansible, so that the modules' tests can rely on it."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
import requests

from ansible_collections.identity.lifecycle.plugins.module_utils import _alibaba_signer as signer
from simulators.alibaba import AlibabaCloudSsoSimulator

KEY_ID = "LTAI5tTestKey000000001"
SECRET = "test-secret-0123456789abcdef"
STS_KEY_ID = "STS.NTestStsKey00000001"
STS_SECRET = "test-sts-secret-0123456789"
TOKEN = "CAIS-test-token-0123456789"
DIRECTORY = "d-00test0directory1"


def seed(**settings):
    return AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET},
                        {"access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET, "security_token": TOKEN}],
        "directories": [{
            "DirectoryId": DIRECTORY, "scim_synchronization": "Enabled",
            "access_configurations": [{"AccessConfigurationId": "ac-00readonly", "AccessConfigurationName": "ReadOnly"}],
            "groups": [{"GroupId": "g-00eng", "GroupName": "engineering"}],
            "users": [
                {"UserId": "u-00alice", "UserName": "alice@example.com", "mfa_devices": [{"DeviceId": "mfa-00a"}],
                 "groups": ["engineering"], "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "111"}]},
                {"UserId": "u-00bob", "UserName": "Bob@example.com"},
                {"UserId": "u-00scim", "UserName": "scim@example.com", "ProvisionType": "Synchronized"},
            ] + [{"UserName": "user%03d@example.com" % number} for number in range(150)],
        }],
    }, **settings)


@pytest.fixture
def sim(serve):
    simulator = seed(task_delay=0.2, conflict_lag=0.3)
    return simulator, serve(simulator).url


def v3(url, action, key_id=KEY_ID, secret=SECRET, token=None, clock=time.time, nonce=None, **params):
    hook = signer.AcsV3Signer(key_id, secret, security_token=token, clock=clock, nonce=nonce)
    query = signer.canonical_query(dict(params))
    return requests.post("%s/?%s" % (url, query), auth=hook, timeout=10,
                         headers={"x-acs-action": action, "x-acs-version": "2021-05-15"})


def v1(url, action, method="POST", in_body=False, key_id=KEY_ID, secret=SECRET, token=None, **params):
    params = dict(params, Action=action, Version="2021-05-15", Format="json", AccessKeyId=key_id,
                  SignatureMethod="HMAC-SHA1", SignatureVersion="1.0", SignatureNonce=uuid.uuid4().hex,
                  Timestamp=signer.utc_timestamp(), SecurityToken=token)
    params = dict((key, value) for key, value in params.items() if value is not None)
    params["Signature"] = signer.v1_signature(secret, method, params)
    if in_body:  # Terraform's shape: the parameters in a form body
        return requests.request(method, url + "/", data=params, timeout=10)
    return requests.request(method, "%s/?%s" % (url, signer.canonical_query(params)), timeout=10)


def assert_error(answer, status, code):
    body = answer.json()
    assert (answer.status_code, body["Code"]) == (status, code), body
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["RequestId"] in body["Recommend"]
    return body


def test_v3_and_v1_requests_are_accepted(sim):
    simulator, url = sim
    assert v3(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00alice").json()["User"]["UserName"] == "alice@example.com"
    for method, in_body in (("POST", False), ("GET", False), ("POST", True)):
        answer = v1(url, "GetUser", method=method, in_body=in_body, DirectoryId=DIRECTORY, UserId="u-00bob")
        assert answer.status_code == 200, answer.text
        assert answer.json()["User"]["UserId"] == "u-00bob"
    assert v3(url, "GetDirectory", key_id=STS_KEY_ID, secret=STS_SECRET, token=TOKEN, DirectoryId=DIRECTORY).ok
    assert v1(url, "GetDirectory", key_id=STS_KEY_ID, secret=STS_SECRET, token=TOKEN, DirectoryId=DIRECTORY).ok
    # The log names the action whichever signature was used.
    assert [entry["action"] for entry in simulator.requests(path="Action=GetUser")] == ["GetUser"] * 4


def test_signature_key_token_time_and_nonce_errors(sim):
    url = sim[1]
    body = assert_error(v3(url, "GetUser", secret="wrong-secret-value", DirectoryId=DIRECTORY, UserId="u-00bob"),
                        400, "SignatureDoesNotMatch")
    assert "string to sign is:ACS3-HMAC-SHA256\n" in body["Message"]
    assert_error(v1(url, "GetUser", secret="wrong-secret-value", DirectoryId=DIRECTORY, UserId="u-00bob"),
                 400, "SignatureDoesNotMatch")
    assert_error(v3(url, "GetUser", key_id="LTAI5tUnknown", DirectoryId=DIRECTORY, UserId="u-00bob"),
                 404, "InvalidAccessKeyId.NotFound")
    body = assert_error(v3(url, "GetDirectory", key_id=STS_KEY_ID, secret=STS_SECRET, DirectoryId=DIRECTORY),
                        400, "MissingParameter")
    assert '"SecurityToken"' in body["Message"]
    assert_error(v3(url, "GetDirectory", key_id=STS_KEY_ID, secret=STS_SECRET, token="CAIS-other", DirectoryId=DIRECTORY),
                 400, "InvalidSecurityToken.MismatchWithAccessKey")
    assert_error(v3(url, "GetDirectory", clock=lambda: time.time() - 16 * 60, DirectoryId=DIRECTORY),
                 400, "InvalidTimeStamp.Expired")
    assert v3(url, "GetDirectory", nonce=lambda: "fixed-nonce-1", DirectoryId=DIRECTORY).ok
    assert_error(v3(url, "GetDirectory", nonce=lambda: "fixed-nonce-1", DirectoryId=DIRECTORY), 400, "SignatureNonceUsed")


def test_unsigned_x_acs_headers_and_tampered_queries_are_refused(sim):
    url = sim[1]
    hook = signer.AcsV3Signer(KEY_ID, SECRET)
    prepared = requests.Request("POST", "%s/?DirectoryId=%s" % (url, DIRECTORY), auth=hook,
                                headers={"x-acs-action": "GetDirectory", "x-acs-version": "2021-05-15"}).prepare()
    prepared.headers["x-acs-extra"] = "added after signing"
    assert_error(requests.Session().send(prepared, timeout=10), 400, "IncompleteSignature")
    prepared = requests.Request("POST", "%s/?DirectoryId=%s" % (url, DIRECTORY), auth=hook,
                                headers={"x-acs-action": "GetDirectory", "x-acs-version": "2021-05-15"}).prepare()
    prepared.url += "&UserId=u-00bob"
    assert_error(requests.Session().send(prepared, timeout=10), 400, "SignatureDoesNotMatch")


def test_the_wire_query_is_decoded_before_verification(sim):
    """The SDK sends `+` for a space on the wire and signs `%20`; the gateway accepts both."""
    url = sim[1]
    hook = signer.AcsV3Signer(KEY_ID, SECRET)
    prepared = requests.Request("POST", url + "/", params={"DirectoryId": DIRECTORY, "Filter": "UserName eq user001@example.com"},
                                headers={"x-acs-action": "ListUsers", "x-acs-version": "2021-05-15"}, auth=hook).prepare()
    assert "+eq+" in prepared.url
    answer = requests.Session().send(prepared, timeout=10)
    assert [user["UserName"] for user in answer.json()["Users"]] == ["user001@example.com"]


@pytest.mark.parametrize("statuses, expected", [
    ({}, {"user": 404, "key": 404, "signature": 400, "conflict": 409}),
    ({"EntityNotExists": 400, "InvalidAccessKeyId.NotFound": 400, "SignatureDoesNotMatch": 403, "DeletionConflict": 400},
     {"user": 400, "key": 400, "signature": 403, "conflict": 400}),
])
def test_unconfirmed_statuses_are_switchable(serve, statuses, expected):
    simulator = seed(statuses=statuses, conflict_codes={"mfa": "DeletionConflict.User.MfaDevice"})
    url = serve(simulator).url
    assert_error(v3(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00nobody"), expected["user"], "EntityNotExists.User")
    assert_error(v3(url, "GetUser", key_id="LTAI5tUnknown", DirectoryId=DIRECTORY, UserId="u-00bob"),
                 expected["key"], "InvalidAccessKeyId.NotFound")
    assert_error(v3(url, "GetUser", secret="wrong-secret", DirectoryId=DIRECTORY, UserId="u-00bob"),
                 expected["signature"], "SignatureDoesNotMatch")
    assert_error(v3(url, "DeleteUser", DirectoryId=DIRECTORY, UserId="u-00alice"), expected["conflict"],
                 "DeletionConflict.User.AccessAssigment")


def test_unknown_actions_and_missing_or_bad_parameters(sim):
    url = sim[1]
    assert_error(v3(url, "DropAllUsers", DirectoryId=DIRECTORY), 404, "InvalidAction.NotFound")
    body = assert_error(v3(url, "GetUser", DirectoryId=DIRECTORY), 400, "MissingParameter")
    assert '"UserId"' in body["Message"]
    assert_error(v3(url, "GetUser", DirectoryId="d-00nowhere", UserId="u-00bob"), 404, "EntityNotExists.Directory")
    assert_error(v3(url, "ListAccessAssignments", DirectoryId=DIRECTORY, MaxResults=21), 400, "InvalidParameter.MaxResults")
    assert_error(v3(url, "ListUsers", DirectoryId=DIRECTORY, NextToken="bm90IGEgdG9rZW4="), 400, "InvalidParameter.NextToken")
    assert_error(v3(url, "ListUsers", DirectoryId=DIRECTORY, Filter="DisplayName eq x"), 400, "InvalidParameter.Filter")


def test_parameters_outside_the_published_definition_are_refused(serve):
    simulator = seed()
    url = serve(simulator).url
    # A misspelt filter would otherwise list every assignment of the directory.
    assert_error(v3(url, "ListAccessAssignments", DirectoryId=DIRECTORY, PrincipalType="User", PrincipleId="u-00alice"),
                 400, "InvalidParameter")
    assert_error(v3(url, "ListAccessAssignments", DirectoryId=DIRECTORY, PrincipalType="Robot", PrincipalId="u-00alice"),
                 400, "InvalidParameter.PrincipalType")
    assert_error(v3(url, "DeleteAccessAssignment", DirectoryId=DIRECTORY, AccessConfigurationId="ac-00readonly",
                    TargetType="Folder", TargetId="111", PrincipalType="User", PrincipalId="u-00alice"),
                 400, "InvalidParameter.TargetType")
    assert_error(v3(url, "ListUsers", DirectoryId=DIRECTORY, Status="Gone"), 400, "InvalidParameter.Status")
    assert_error(v3(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00alice", UserName="alice@example.com"),
                 400, "InvalidParameter")
    # The SDK's additions are known: ListUsers' Tags.N, DeleteAccessAssignment's OriginTargetId.
    assert v3(url, "ListUsers", DirectoryId=DIRECTORY, **{"Tags.1.Key": "team", "Tags.1.Value": "eng"}).ok
    assert v1(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00alice", in_body=True).ok
    # Whether CloudSSO refuses unknown parameters is unconfirmed: switchable.
    simulator.configure(unknown_parameters="ignore")
    assert v3(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00alice", UserName="alice@example.com").ok
    with pytest.raises(ValueError):
        simulator.configure(unknown_parameters="sometimes")


def test_paging_with_next_token_needs_proper_encoding(sim):
    url = sim[1]
    names, token, pages = [], None, 0
    while True:
        page = v3(url, "ListUsers", DirectoryId=DIRECTORY, MaxResults=100, NextToken=token).json()
        names += [user["UserName"] for user in page["Users"]]
        pages += 1
        if not page["IsTruncated"]:
            break
        token = page["NextToken"]
        assert set(token) & set("+/=")  # characters that must be percent-encoded
        base64.b64decode(token)
    assert pages == 2 and len(names) == len(set(names)) == 153


@pytest.mark.parametrize("mode, quoted, unquoted", [
    ("strip", ["user001@example.com"], ["user001@example.com"]),
    ("literal", [], ["user001@example.com"]),
    ("reject", "InvalidParameter.Filter", ["user001@example.com"]),
])
def test_filter_quote_handling_is_switchable(serve, mode, quoted, unquoted):
    url = serve(seed(filter_quotes=mode)).url

    def names(value):
        answer = v3(url, "ListUsers", DirectoryId=DIRECTORY, Filter="UserName eq %s" % value)
        return answer.json()["Code"] if answer.status_code != 200 else [user["UserName"] for user in answer.json()["Users"]]

    assert names("'user001@example.com'") == quoted
    assert names("user001@example.com") == unquoted


def test_filter_case_sensitivity_is_switchable(serve):
    for insensitive, expected in ((True, ["Bob@example.com"]), (False, [])):
        url = serve(seed(filter_case_insensitive=insensitive)).url
        answer = v3(url, "ListUsers", DirectoryId=DIRECTORY, Filter="UserName eq bob@example.com").json()
        assert [user["UserName"] for user in answer["Users"]] == expected


def test_delete_prerequisites_tasks_and_the_lag_after_them(sim):
    simulator, url = sim

    def call(action, **params):
        return v3(url, action, DirectoryId=DIRECTORY, **params)

    assert_error(call("DeleteUser", UserId="u-00scim"), 400, "OperationDenied.SCIMSynchronizedUser")
    assert_error(call("DeleteUser", UserId="u-00alice"), 409, "DeletionConflict.User.AccessAssigment")
    assignment = call("ListAccessAssignments", PrincipalType="User", PrincipalId="u-00alice").json()["AccessAssignments"][0]
    started = call("DeleteAccessAssignment", AccessConfigurationId=assignment["AccessConfigurationId"],
                   TargetType="RD-Account", TargetId=assignment["TargetId"], PrincipalType="User",
                   PrincipalId="u-00alice").json()["Task"]
    assert started["Status"] == "InProgress" and started["TaskType"] == "DeleteAccessAssignment"
    assert_error(call("DeleteAccessAssignment", AccessConfigurationId=assignment["AccessConfigurationId"],
                      TargetType="RD-Account", TargetId=assignment["TargetId"], PrincipalType="User",
                      PrincipalId="u-00alice"), 409, "OperationConflict.Task")
    assert call("GetTaskStatus", TaskId=started["TaskId"]).json()["TaskStatus"]["Status"] == "InProgress"
    time.sleep(0.25)
    assert call("GetTaskStatus", TaskId=started["TaskId"]).json()["TaskStatus"]["Status"] == "Success"
    # The assignment is gone, but DeleteUser still refuses for conflict_lag seconds.
    assert call("ListAccessAssignments", PrincipalType="User", PrincipalId="u-00alice").json()["AccessAssignments"] == []
    assert_error(call("DeleteUser", UserId="u-00alice"), 409, "DeletionConflict.User.AccessAssigment")
    time.sleep(0.3)
    assert_error(call("DeleteUser", UserId="u-00alice"), 409, "DeletionConflict.User.MFADevice")
    assert call("DeleteMFADeviceForUser", UserId="u-00alice", MFADeviceId="mfa-00a").ok
    assert_error(call("DeleteUser", UserId="u-00alice"), 409, "DeletionConflict.User.Group")
    assert call("RemoveUserFromGroup", UserId="u-00alice", GroupId="g-00eng").ok
    assert_error(call("RemoveUserFromGroup", UserId="u-00alice", GroupId="g-00eng"), 404, "EntityNotExists.GroupMember")
    assert call("DeleteUser", UserId="u-00alice").ok
    assert_error(call("DeleteUser", UserId="u-00alice"), 404, "EntityNotExists.User")
    assert simulator.find_user("alice@example.com") is None


def test_throttling_per_access_key_with_retry_after_in_milliseconds(serve):
    simulator = seed(throttle_rate=5)
    url = serve(simulator).url
    answers = [v3(url, "GetDirectory", DirectoryId=DIRECTORY) for _attempt in range(6)]
    assert [answer.status_code for answer in answers[:5]] == [200] * 5
    body = assert_error(answers[5], 400, "Throttling.User")
    assert body["Message"] == "Request was denied due to user flow control."
    wait = int(answers[5].headers["x-acs-retry-after"])
    assert 0 < wait <= 1000
    # Another AccessKey has its own budget.
    assert v3(url, "GetDirectory", key_id=STS_KEY_ID, secret=STS_SECRET, token=TOKEN, DirectoryId=DIRECTORY).ok
    time.sleep(wait / 1000.0 + 0.05)
    assert v3(url, "GetDirectory", DirectoryId=DIRECTORY).ok
    assert len(simulator.answers("Throttling.User")) == 1


def test_failed_tasks_and_faults_in_the_providers_shape(serve):
    simulator = seed(task_delay=0)
    directory = simulator.directories[DIRECTORY]
    directory["assignments"][0]["fail_delete"] = "the RAM role is in use"
    url = serve(simulator).url
    task = v3(url, "DeleteAccessAssignment", DirectoryId=DIRECTORY, AccessConfigurationId="ac-00readonly",
              TargetType="RD-Account", TargetId="111", PrincipalType="User", PrincipalId="u-00alice").json()["Task"]
    status = v3(url, "GetTaskStatus", DirectoryId=DIRECTORY, TaskId=task["TaskId"]).json()["TaskStatus"]
    assert (status["Status"], status["FailureReason"]) == ("Failed", "the RAM role is in use")
    simulator.fail("GetUser", "ServiceUnavailable", times=1)
    assert_error(v3(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00bob"), 503, "ServiceUnavailable")
    assert v3(url, "GetUser", DirectoryId=DIRECTORY, UserId="u-00bob").ok


@pytest.mark.parametrize("required_for", [None, [], ["TOTP", "CrossPlatformPasskey", "PlatformPasskey"]],
                         ids=["passkeys", "none", "every-type"])
def test_passkey_devices_are_listed_and_deleted_with_their_type_as_configured(serve, required_for):
    simulator = seed() if required_for is None else seed(mfa_type_required_for=required_for)
    devices = [("mfa-00totp", "TOTP"), ("mfa-00cross", "CrossPlatformPasskey"), ("mfa-00platform", "PlatformPasskey")]
    simulator.add_user(DIRECTORY, {"UserId": "u-00keys", "UserName": "keys@example.com",
                                   "mfa_devices": [{"DeviceId": one, "DeviceType": kind} for one, kind in devices]})
    url = serve(simulator).url
    listed = v3(url, "ListMFADevicesForUser", DirectoryId=DIRECTORY, UserId="u-00keys").json()["MFADevices"]
    assert [(one["DeviceId"], one["DeviceType"]) for one in listed] == devices
    needs_type = ["CrossPlatformPasskey", "PlatformPasskey"] if required_for is None else required_for
    for device_id, kind in devices:
        if kind in needs_type:
            body = assert_error(v3(url, "DeleteMFADeviceForUser", DirectoryId=DIRECTORY, UserId="u-00keys",
                                   MFADeviceId=device_id), 400, "MissingParameter")
            assert '"MfaType"' in body["Message"]
            other = "TOTP" if kind != "TOTP" else "PlatformPasskey"
            assert_error(v3(url, "DeleteMFADeviceForUser", DirectoryId=DIRECTORY, UserId="u-00keys",
                            MFADeviceId=device_id, MfaType=other), 400, "InvalidParameter.MfaType")
            assert v3(url, "DeleteMFADeviceForUser", DirectoryId=DIRECTORY, UserId="u-00keys", MFADeviceId=device_id,
                      MfaType=kind).ok
        else:
            assert v3(url, "DeleteMFADeviceForUser", DirectoryId=DIRECTORY, UserId="u-00keys",
                      MFADeviceId=device_id).ok
    assert "u-00keys" not in simulator.directory_state(DIRECTORY)["mfa_devices"]


def test_provisionings_events_and_deprovisioning(serve):
    simulator = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{
            "DirectoryId": DIRECTORY,
            "access_configurations": [{"AccessConfigurationId": "ac-00readonly", "AccessConfigurationName": "ReadOnly"}],
            "groups": [{"GroupId": "g-00eng", "GroupName": "engineering",
                        "ram_user_provisionings": [{"UserProvisioningId": "up-00eng", "target_id": "111", "ram_users": []}]}],
            "users": [{"UserId": "u-00alice", "UserName": "alice", "access_assignments": [
                {"access_configuration": "ReadOnly", "target_id": "111"}, {"access_configuration": "ReadOnly", "target_id": "222"}],
                "ram_user_provisionings": [
                    {"UserProvisioningId": "up-00a111", "target_id": "111", "deletion_strategy": "Keep",
                     "failed_events": [{"EventId": "upe-00a111", "ErrorCount": 2}]},
                    {"UserProvisioningId": "up-00a222", "target_id": "222"}]}]}]},
        task_delay=0.1, conflict_lag=0.1, deprovision_lag=3600, ram_user_clearing_delay=3600)
    url = serve(simulator).url

    def ids(answer, key="UserProvisionings", field="UserProvisioningId"):
        assert answer.status_code == 200, answer.text
        return [item[field] for item in answer.json()[key]]

    assert ids(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY)) == ["up-00eng", "up-00a111", "up-00a222"]
    assert ids(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, PrincipalType="User",
                  PrincipalId="u-00alice")) == ["up-00a111", "up-00a222"]
    # A half-given pair filters nothing; bad values are refused.
    assert len(ids(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, PrincipalId="u-00alice"))) == 3
    assert ids(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, TargetType="RD-Account", TargetId="222")) == [
        "up-00a222"]
    assert_error(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, PrincipalType="Robot", PrincipalId="x"),
                 400, "InvalidParameter.PrincipalType")
    assert_error(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, MaxResults=101), 400, "InvalidParameter.MaxResults")
    events = v3(url, "ListUserProvisioningEvents", DirectoryId=DIRECTORY, UserProvisioningId="up-00a111").json()
    assert [(one["EventId"], one["ErrorCount"], one["PrincipalId"]) for one in events["UserProvisioningEvents"]] == [
        ("upe-00a111", 2, "u-00alice")]
    assert ids(v3(url, "ListUserProvisioningEvents", DirectoryId=DIRECTORY, UserProvisioningId="up-00a222"),
               "UserProvisioningEvents", "EventId") == []

    # Both assignments of ReadOnly go; only the one deleted with DeprovisionForLast... takes the configuration along,
    # after its task (deprovision_lag; settle() ends the wait).
    def provisioned(**filters):
        answer = v3(url, "ListAccessConfigurationProvisionings", DirectoryId=DIRECTORY, **filters)
        return [(one["TargetId"], one["AccessConfigurationId"], one["Status"])
                for one in answer.json()["AccessConfigurationProvisionings"]]

    assert provisioned() == [("111", "ac-00readonly", "Provisioned"), ("222", "ac-00readonly", "Provisioned")]
    tasks = [v3(url, "DeleteAccessAssignment", DirectoryId=DIRECTORY, AccessConfigurationId="ac-00readonly",
                TargetType="RD-Account", TargetId=target, PrincipalType="User", PrincipalId="u-00alice",
                DeprovisionStrategy=strategy).json()["Task"]["TaskId"]
             for target, strategy in (("111", "None"), ("222", "DeprovisionForLastAccessAssignmentOnAccount"))]
    while any(v3(url, "GetTaskStatus", DirectoryId=DIRECTORY, TaskId=task).json()["TaskStatus"]["Status"] == "InProgress"
              for task in tasks):
        time.sleep(0.05)
    assert provisioned(TargetType="RD-Account", TargetId="222") == [("222", "ac-00readonly", "Provisioned")]
    simulator.settle()
    assert provisioned(AccessConfigurationId="ac-00readonly") == [("111", "ac-00readonly", "Provisioned")]
    assert simulator.snapshot()["directories"][DIRECTORY]["provisioned_access_configurations"] == {"111": ["ac-00readonly"]}
    assert_error(v3(url, "ListAccessConfigurationProvisionings", DirectoryId=DIRECTORY, MaxResults=21), 400,
                 "InvalidParameter.MaxResults")
    assert_error(v3(url, "ListAccessConfigurationProvisionings", DirectoryId=DIRECTORY, ProvisioningStatus="Gone"), 400,
                 "InvalidParameter.ProvisioningStatus")
    # Whether provisionings block DeleteUser is unconfirmed: switchable.
    simulator.configure(provisioning_blocks_delete=True)
    assert_error(v3(url, "DeleteUser", DirectoryId=DIRECTORY, UserId="u-00alice"), 409,
                 "DeletionConflict.User.UserProvisioning")

    assert_error(v3(url, "DeleteUserProvisioning", DirectoryId=DIRECTORY), 400, "MissingParameter")
    assert_error(v3(url, "DeleteUserProvisioning", DirectoryId=DIRECTORY, UserProvisioningId="up-00a222",
                    DeletionStrategy="Shred"), 400, "InvalidParameter.DeletionStrategy")
    assert_error(v3(url, "DeleteUserProvisioning", DirectoryId=DIRECTORY, UserProvisioningId="up-00none"),
                 404, "EntityNotExists.UserProvisioning")
    # No strategy: the provisioning's own (Keep); Delete removes the RAM user.
    assert v3(url, "DeleteUserProvisioning", DirectoryId=DIRECTORY, UserProvisioningId="up-00a111").ok
    assert v3(url, "DeleteUserProvisioning", DirectoryId=DIRECTORY, UserProvisioningId="up-00a222",
              DeletionStrategy="Delete").ok
    # Deleted in the background, after the answer.
    assert simulator.directory_state(DIRECTORY)["ram_users"] == {"111": ["alice"], "222": ["alice"]}
    simulator.settle()
    assert simulator.directory_state(DIRECTORY)["ram_users"] == {"111": ["alice"]}
    assert v3(url, "DeleteUser", DirectoryId=DIRECTORY, UserId="u-00alice").ok
    # Whether a listing by a user who no longer exists is refused is unconfirmed: switchable.
    assert ids(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, PrincipalType="User", PrincipalId="u-00alice")) == []
    simulator.configure(provisioning_list_checks_principal=True)
    assert_error(v3(url, "ListUserProvisionings", DirectoryId=DIRECTORY, PrincipalType="User", PrincipalId="u-00alice"),
                 404, "EntityNotExists.User")
