# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


import pytest
import requests

from ansible_collections.identity.lifecycle.plugins.module_utils import _alibaba, _lifecycle
from ansible_collections.identity.lifecycle.plugins.module_utils._http import (
    AuthenticationError,
    InputError,
    NotFoundError,
    ProviderError,
)

from simulators._base import SimServer
from simulators.alibaba import AlibabaCloudSsoSimulator

from . import fakes
from .fakes import FakeClock, fake_response

DIRECTORY = "d-00unit0directory"
KEY_ID = "LTAI5tUnitKey00000001"
SECRET = "unit-secret-0123456789abcdef"


def response(status, body=None, headers=None, raw=None, action="DeleteUser"):
    result = fake_response(status, body, headers, raw)
    result.request = requests.Request("POST", "https://cloudsso.cn-shanghai.aliyuncs.com/",
                                      headers={"x-acs-action": action}).prepare()
    return result


def error_body(code, message="m", request_id="RID-1"):
    return {"RequestId": request_id, "HostId": "cloudsso.cn-shanghai.aliyuncs.com", "Code": code,
            "Message": message, "Recommend": "https://api.alibabacloud.com/troubleshoot?q=%s" % code}


@pytest.mark.parametrize("status", [404, 400])
def test_user_not_found_is_typed_whatever_the_status(status):
    error = _alibaba.parse_error(response(status, error_body("EntityNotExists.User", "The user does not exist.")))
    assert isinstance(error, NotFoundError)
    assert (error.status, error.code, error.request_id) == (status, "EntityNotExists.User", "RID-1")
    assert not error.retryable


@pytest.mark.parametrize("code", ["EntityNotExists.Group", "EntityNotExists.Directory", "EntityNotExists.AccessAssignment"])
def test_other_not_found_codes_are_not_the_user(code):
    error = _alibaba.parse_error(response(404, error_body(code)))
    assert type(error) is ProviderError  # pylint: disable=unidiomatic-typecheck
    assert error.code == code


@pytest.mark.parametrize("code, status", [
    ("Throttling.User", 400), ("Throttling.Api", 503), ("Throttling", 400), ("ServiceUnavailable", 503),
    ("InternalError", 500), ("Rejected.Throttling", 400), ("SignatureNonceUsed", 400),
])
def test_retryable_codes(code, status):
    error = _alibaba.parse_error(response(status, error_body(code)))
    assert error.retryable
    assert not isinstance(error, AuthenticationError)


def test_any_5xx_is_retryable_even_without_json():
    error = _alibaba.parse_error(response(502, raw=b"<html>Bad Gateway</html>"))
    assert error.retryable and error.code is None
    assert "HTML page" in error.message


@pytest.mark.parametrize("code, status", [
    ("DeletionConflict.User.AccessAssigment", 409), ("DeletionConflict.User.AccessAssigment", 400),
    ("MissingParameter", 400), ("InvalidParameter.Filter", 400), ("OperationConflict.Task", 409),
])
def test_client_errors_are_not_retried(code, status):
    error = _alibaba.parse_error(response(status, error_body(code)))
    assert not error.retryable
    assert error.code == code


@pytest.mark.parametrize("code, status, hint", [
    ("InvalidAccessKeyId.NotFound", 404, "access_key_id"),
    ("InvalidAccessKeyId.NotFound", 400, "access_key_id"),
    ("InvalidAccessKeyId.Inactive", 400, "disabled"),
    ("SignatureDoesNotMatch", 400, "access_key_secret"),
    ("SignatureDoesNotMatch", 403, "access_key_secret"),
    ("IncompleteSignature", 400, "access_key_secret"),
    ("InvalidTimeStamp.Expired", 400, "clock"),
    ("InvalidSecurityToken.Expired", 400, "security_token"),
    ("NoPermission", 403, "cloudsso:DeleteUser"),
    ("Forbidden.RAM", 403, "cloudsso:DeleteUser"),
])
def test_credential_errors_are_authentication_errors_with_a_hint(code, status, hint):
    error = _alibaba.parse_error(response(status, error_body(code, "Refused.")))
    assert isinstance(error, AuthenticationError)
    assert hint in error.message
    assert not error.retryable


def test_missing_security_token_is_explained():
    error = _alibaba.parse_error(response(400, error_body(
        "MissingParameter", 'The input parameter "SecurityToken" that is mandatory for processing this request '
                            'is not supplied.')))
    assert isinstance(error, AuthenticationError)
    assert "security_token" in error.message
    # Other missing parameters are plain errors.
    other = _alibaba.parse_error(response(400, error_body("MissingParameter", '"UserId" missing')))
    assert type(other) is ProviderError  # pylint: disable=unidiomatic-typecheck


def test_lowercase_keys_are_read_too():
    error = _alibaba.parse_error(response(400, {"code": "Throttling.User", "message": "slow", "requestId": "r-2"}))
    assert (error.code, error.message, error.request_id) == ("Throttling.User", "slow", "r-2")


@pytest.mark.parametrize("value, seconds", [
    ("1500", 1.5), ("1", 0.001), ("0", None), ("-5", None), ("soon", None), (None, None), ("", None),
    (" 250 ", 0.25), ("999999999", 300.0),
])
def test_x_acs_retry_after_is_milliseconds(value, seconds):
    assert _alibaba.retry_after_seconds(value) == seconds


def test_throttling_carries_retry_after_in_seconds():
    error = _alibaba.parse_error(response(400, error_body("Throttling.User"), headers={"x-acs-retry-after": "1200"}))
    assert error.retryable and error.retry_after == 1.2


def test_x_acs_retry_after_makes_any_code_retryable_as_the_sdk_does():
    error = _alibaba.parse_error(response(400, error_body("Something.New"), headers={"x-acs-retry-after": "300"}))
    assert error.retryable and error.retry_after == 0.3


def test_standard_retry_after_is_the_fallback():
    error = _alibaba.parse_error(response(503, error_body("ServiceUnavailable"), headers={"Retry-After": "2"}))
    assert error.retry_after == 2.0


@pytest.mark.parametrize("name", ["alice@example.com", "a", "A.B-C_D@x", "x" * 64, "0123"])
def test_possible_user_names(name):
    _alibaba.validate_user_name(name)


@pytest.mark.parametrize("name", [
    "", "x" * 65, "alice smith", "x' or UserName sw '", 'x" or 1', "alice\n", "zoë", "a,b", "a/b", "UserName eq x",
])
def test_impossible_user_names_fail_before_any_request(name):
    with pytest.raises(InputError, match="user_name"):
        _alibaba.validate_user_name(name)


@pytest.mark.parametrize("endpoint, region, url", [
    (None, "cn-shanghai", "https://cloudsso.cn-shanghai.aliyuncs.com"),
    (None, "ap-southeast-1", "https://cloudsso.ap-southeast-1.aliyuncs.com"),
    ("https://cloudsso-vpc.cn-shanghai.aliyuncs.com/", "cn-shanghai", "https://cloudsso-vpc.cn-shanghai.aliyuncs.com"),
    ("http://127.0.0.1:8080", "ignored", "http://127.0.0.1:8080"),
])
def test_endpoints(endpoint, region, url):
    assert _alibaba.base_url(endpoint, region) == url


@pytest.mark.parametrize("endpoint, region, option", [
    ("https://host/path", None, "endpoint"),
    ("https://host/?x=1", None, "endpoint"),
    ("ftp://host", None, "endpoint"),
    ("https://user:pw@host", None, "endpoint"),
    (None, "cn-shanghai.evil.example/x", "region"),
    (None, "", "region"),
])
def test_bad_endpoints_name_the_option(endpoint, region, option):
    with pytest.raises(InputError, match="^%s " % option):
        _alibaba.base_url(endpoint, region)


def test_poll_returns_the_first_answer_with_doubling_waits():
    clock = FakeClock()
    answers = iter([None, None, None, "done"])
    assert _alibaba.poll(lambda: next(answers), 60, clock=clock, sleep=clock.sleep) == "done"
    assert clock.sleeps == [0.25, 0.5, 1.0]


def test_poll_gives_up_at_the_time_limit():
    clock = FakeClock()
    calls = []
    assert _alibaba.poll(lambda: calls.append(1), 20, clock=clock, sleep=clock.sleep, max_wait=5.0) is None
    assert clock.now == pytest.approx(20.0)
    assert max(clock.sleeps) == 5.0
    assert len(calls) == len(clock.sleeps) + 1


def raise_(error):
    raise error


@pytest.mark.parametrize("error", [ProviderError("p", "m", code="EntityNotExists.MFADevice"),
                                   ProviderError("p", "m", code="EntityNotExists.GroupMember"),
                                   NotFoundError("p", "m", code="EntityNotExists.User")], ids=lambda error: error.code)
def test_a_removal_that_finds_its_target_gone_is_not_done_unless_its_own_answer_was_lost(error):
    assert _alibaba.unless_gone(lambda: raise_(error)) is _lifecycle.ALREADY_GONE
    # The retry of a request whose answer was lost finds it gone: the first attempt removed it, in this run.
    error.lost_answer = {"message": "502", "request_id": "R-LOST"}
    assert _alibaba.unless_gone(lambda: raise_(error)) == "R-LOST"


def test_a_removal_that_fails_otherwise_goes_up():
    for code in ("EntityNotExists.Directory", "OperationConflict.Task"):
        with pytest.raises(ProviderError):
            _alibaba.unless_gone(lambda: raise_(ProviderError("p", "m", code=code)))  # pylint: disable=cell-var-from-loop


def test_prerequisite_summary_names_each_kind():
    blockers = _alibaba.Prerequisites(
        [{"DeviceId": "mfa-1"}, {"DeviceId": "mfa-2"}], [{"GroupId": "g-1", "GroupName": "eng"}],
        [{"AccessConfigurationName": "ReadOnly", "TargetType": "RD-Account", "TargetId": "123"}])
    assert bool(blockers)
    assert blockers.summary() == ("2 MFA devices (mfa-1, mfa-2), 1 group membership (g-1 (eng)), "
                                  "1 direct access assignment (ReadOnly on RD-Account 123)")
    assert not _alibaba.Prerequisites([], [], [])


@pytest.mark.parametrize("user_id", ["u-00q8wbq42wiltcrk", "u-1", "u-" + "a" * 62])
def test_possible_user_ids(user_id):
    _alibaba.AlibabaCloudSsoDirectory.validate_user_id(None, user_id)


@pytest.mark.parametrize("user_id", ["u-" + "a" * 63, "u-", "x-00abc", "u-00abc/../u-1", "u-00ab c", "u-00\u00e9",
                                     "U-00abc", "u-00abc&UserId=u-1"])
def test_impossible_user_ids_fail_naming_user_id(user_id):
    with pytest.raises(InputError, match="^user_id .*at most 64 characters"):
        _alibaba.AlibabaCloudSsoDirectory.validate_user_id(None, user_id)


# --- the client against the simulator -------------------------------------------------------------

class StandInModule(fakes.StandInModule):
    DEFAULTS = dict(timeout=10.0, retries=1, validate_certs=True, ca_path=None, parallelism=2, rate_limit=None,
                    directory_id=DIRECTORY, access_key_id=KEY_ID, access_key_secret=SECRET,
                    security_token=None, region="cn-shanghai", endpoint=None, force=True, state="absent")


@pytest.fixture
def directory():
    simulator = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{"DirectoryId": DIRECTORY, "users": [
            {"UserId": "u-00kim", "UserName": "kim@example.com",
             "mfa_devices": [{"DeviceId": "mfa-00cross", "DeviceType": "CrossPlatformPasskey"},
                             {"DeviceId": "mfa-00old"}]}]}]})
    with SimServer(simulator) as server:
        client = _alibaba.AlibabaCloudSsoDirectory(StandInModule(endpoint=server.url))
        client.validate()
        client.transport.backoff_base = 0.01
        yield simulator, client


def test_only_changing_actions_can_report_a_lost_answer(directory):
    simulator, client = directory
    for action in ("GetUser", "ListMFADevicesForUser", "DeleteUser", "DeleteMFADeviceForUser"):
        simulator.fail(action, "InternalError", status=500, times=2)  # a 503 is a request not taken on
    for action, params in (("GetUser", {}), ("ListMFADevicesForUser", {})):
        with pytest.raises(ProviderError) as caught:
            client.call(action, UserId="u-00kim", **params)
        assert caught.value.code == "InternalError" and caught.value.lost_answer is None, action
    for action, params in (("DeleteUser", {}), ("DeleteMFADeviceForUser", {"MFADeviceId": "mfa-00cross"})):
        with pytest.raises(ProviderError) as caught:
            client.call(action, UserId="u-00kim", **params)
        assert caught.value.lost_answer is not None, action


def test_mfa_devices_are_deleted_with_the_listed_type(directory):
    simulator, client = directory
    devices = client.prerequisites({"UserId": "u-00kim"}).mfa_devices
    assert [device.get("DeviceType") for device in devices] == ["CrossPlatformPasskey", "TOTP"]
    for device in devices:
        assert client.remove_mfa_device({"UserId": "u-00kim"}, device)
    deletes = [entry["path"] for entry in simulator.requests(path="Action=DeleteMFADeviceForUser")]
    assert ["MfaType=CrossPlatformPasskey" in path for path in deletes] == [True, False]
    assert ["MfaType=TOTP" in path for path in deletes] == [False, True]
    assert simulator.directory_state(DIRECTORY)["mfa_devices"] == {}


def test_a_device_listed_without_a_type_is_deleted_without_one(directory):
    simulator, client = directory
    assert client.remove_mfa_device({"UserId": "u-00kim"}, {"DeviceId": "mfa-00old"})
    (path,) = [entry["path"] for entry in simulator.requests(path="Action=DeleteMFADeviceForUser")]
    assert "MfaType" not in path


# --- the sweep: RAM user provisionings, their failed events ----------------------------------------

def provisioning(provisioning_id="up-1", principal_id="u-00kim", principal_type="User", target_id="111"):
    return {"UserProvisioningId": provisioning_id, "PrincipalType": principal_type, "PrincipalId": principal_id,
            "PrincipalName": "kim@example.com", "TargetType": "RD-Account", "TargetId": target_id}


def test_own_provisionings_are_the_users_and_an_unattributed_one_stops_everything():
    listed = [provisioning("up-1"), provisioning("up-2", principal_type="Group", principal_id="u-00kim"),
              provisioning("up-3", principal_id="u-00other")]
    assert [one["UserProvisioningId"] for one in _alibaba.own_provisionings(listed, "u-00kim")] == ["up-1"]
    assert _alibaba.own_provisionings([], "u-00kim") == []
    for missing in ("UserProvisioningId", "PrincipalType", "PrincipalId"):
        broken = dict(provisioning("up-4"), **{missing: None})
        with pytest.raises(ProviderError, match="whose RAM users it holds cannot be told; nothing was removed"):
            _alibaba.own_provisionings([provisioning("up-1"), broken], "u-00kim")


def test_events_of_another_provisioning_are_left_out_but_unattributed_ones_are_reported():
    events = [{"EventId": "upe-1", "UserProvisioningId": "up-1"}, {"EventId": "upe-2", "UserProvisioningId": "up-9"},
              {"EventId": "upe-3"}]
    assert [event["EventId"] for event in _alibaba.own_events(events, "up-1")] == ["upe-1", "upe-3"]


def test_follow_up_items_say_what_where_and_what_to_do():
    event = _alibaba.event_follow_up({"EventId": "upe-1", "SourceType": "AddUserToGroup", "ErrorCount": 1,
                                      "ErrorInfo": "ImsUserExists", "TargetId": "222"}, provisioning())
    assert event["kind"] == "failed RAM user provisioning event" and event["where"] == "account 222"
    assert event["detail"].startswith("event upe-1 (AddUserToGroup) of RAM user provisioning up-1 in account 222 "
                                      "failed 1 time: ImsUserExists;")
    assert "RetryUserProvisioningEvent" in event["detail"] and "DeleteUserProvisioningEvent" in event["detail"]
    bare = _alibaba.event_follow_up({"EventId": "upe-2"}, provisioning())
    assert "in account 111 failed: no error given" in bare["detail"]
    kept = _alibaba.kept_follow_up(provisioning())
    assert kept == {"kind": "RAM user", "where": "account 111", "detail": (
        "RAM users kept in account 111 (RAM user provisioning up-1 of kim@example.com): their access keys and "
        "policies, granted outside CloudSSO, remain; delete them in RAM")}


@pytest.mark.parametrize("code, expected", [
    ("DeletionConflict.User.UserProvisioning", True), ("DeletionConflict.User.RamUserProvisioning", True),
    ("DeletionConflict.User.AccessAssigment", False), ("OperationConflict.UserProvisioning", False), (None, False),
])
def test_provisioning_conflicts_are_recognised_by_code(code, expected):
    assert _alibaba.is_provisioning_conflict(code) is expected


def test_an_explained_error_keeps_what_the_provider_said_and_never_means_absent():
    original = NotFoundError("p", "The user does not exist.", status=404, code="EntityNotExists.User",
                             request_id="RID-9", method="POST", url="https://x")
    original.lost_answer = {"message": "timeout", "request_id": "RID-1"}
    error = _alibaba.explained(original, "provisioning up-1 in account 111 is still present")
    assert type(error) is ProviderError  # pylint: disable=unidiomatic-typecheck
    assert error.message == "provisioning up-1 in account 111 is still present. CloudSSO answered: The user does not exist."
    assert (error.status, error.code, error.request_id, error.lost_answer) == (
        404, "EntityNotExists.User", "RID-9", {"message": "timeout", "request_id": "RID-1"})


def test_provisionings_are_named_but_only_documented_prerequisites_block_a_delete():
    blockers = _alibaba.Prerequisites([], [], [], provisionings=[provisioning("up-1"), provisioning("up-2", target_id="2")])
    assert not blockers
    assert blockers.summary() == "2 RAM user provisionings (up-1 in account 111, up-2 in account 2)"


@pytest.fixture
def sweeper(request):
    """A forced delete's client against a directory with provisionings of u-00kim and of the gone u-00gone."""
    checks_principal = getattr(request, "param", False)
    simulator = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{"DirectoryId": DIRECTORY, "users": [
            {"UserId": "u-00kim", "UserName": "kim@example.com", "ram_user_provisionings": [
                {"UserProvisioningId": "up-00kim%03d" % number, "target_id": str(1000 + number),
                 "failed_events": [{"EventId": "upe-00kim%03d" % number}] if number == 7 else []}
                for number in range(101)]}],
            "user_provisionings": [{"principal_id": "u-00gone", "UserProvisioningId": "up-00gone", "target_id": "555"}]}]},
        provisioning_list_checks_principal=checks_principal)
    with SimServer(simulator) as server:
        client = _alibaba.AlibabaCloudSsoDirectory(StandInModule(endpoint=server.url, provisioned_ram_users="delete"))
        client.validate()
        client.transport.backoff_base = 0.01
        yield simulator, client


def test_a_users_provisionings_are_paged_and_their_events_read(sweeper):
    simulator, client = sweeper
    sweep = client.sweep("u-00kim")
    assert len(sweep.provisionings) == 101 and len(simulator.requests(path="Action=ListUserProvisionings&")) == 2
    assert sweep.events["up-00kim007"][0]["EventId"] == "upe-00kim007"
    assert sum(len(events) for events in sweep.events.values()) == 1
    assert len(simulator.requests(path="Action=ListUserProvisioningEvents&")) == 101


@pytest.mark.parametrize("sweeper", [True], indirect=True, ids=["listing-refuses-an-absent-principal"])
def test_when_listing_by_an_absent_principal_is_refused_the_directory_is_listed_once(sweeper):
    simulator, client = sweeper
    assert [one["UserProvisioningId"] for one in client.user_provisionings("u-00gone")] == ["up-00gone"]
    assert client.user_provisionings("u-00nobody") == []
    # Two pages of the directory's 102 provisionings, read once for both ids.
    assert simulator.answers("EntityNotExists.User") and len(
        [entry for entry in simulator.requests(path="Action=ListUserProvisionings&") if "PrincipalId" not in entry["path"]]) == 2


def test_a_provisioning_already_gone_is_a_follow_up_and_a_lost_answer_is_ours(sweeper):
    simulator, client = sweeper
    entry = _lifecycle.Entry("u-00kim", "id")
    gone = provisioning("up-00kim001", target_id="1001")
    simulator.fail("DeleteUserProvisioning", "EntityNotExists.UserProvisioning")
    assert client.remove_provisioning(entry, gone, "Delete") is _lifecycle.ALREADY_GONE
    (item,) = entry.follow_up
    assert item["kind"] == "RAM user" and "was already gone when it was to be deleted (not by this run)" in item["detail"]
    # Carried out, then the answer lost: the retry's "gone" is this task's own deletion, with no follow-up.
    simulator.add_fault(action="process_then_respond", path="Action=DeleteUserProvisioning&", status=502,
                        body={"Code": "BadGateway", "Message": "bad gateway"})
    client.remove_provisioning(entry, provisioning("up-00kim002", target_id="1002"), "Keep")
    assert "up-00kim002" not in [one["UserProvisioningId"] for one in simulator.directory_state(DIRECTORY)["user_provisionings"]]
    assert [item["kind"] for item in entry.follow_up] == ["RAM user", "RAM user"]
    assert "RAM users kept in account 1002" in entry.follow_up[1]["detail"]


def test_an_absent_id_is_swept_only_with_force_and_check_mode_plans_it_as_would_be(sweeper):
    simulator, client = sweeper
    for force, check_mode in ((False, False), (True, True)):
        client.module.params["force"] = force
        client.check_mode = check_mode
        entries, _order = _lifecycle.requested_entries({"user_id": ["u-00gone"]})
        _lifecycle.resolve(client, entries)
        _lifecycle.plan(client, entries, "absent")
        _lifecycle.finish_entry(entries[0], "absent", check_mode)
        result = _lifecycle.entry_result(client, entries[0])
        if not force:
            assert (result["changed"], result["msg"], result["leftover"]) == (False, "already absent", [])
            assert simulator.requests(path="Action=ListUserProvisionings&") == []
    assert (result["found"], result["changed"], result["state"]) == (False, True, "absent")
    assert result["msg"] == "already absent; 1 RAM user provisioning(s) would be removed"
    assert result["actions"] == ["removed RAM user provisioning up-00gone in account 555, deleting its RAM users"]
    assert [entry for entry in simulator.requests() if entry["changing"]] == []


def test_a_failed_provisioning_delete_names_what_is_left_and_hedges_after_a_lost_answer(sweeper):
    simulator, client = sweeper
    present, absent = _lifecycle.Entry("u-00kim", "id"), _lifecycle.Entry("u-00gone", "id")
    present.found, absent.found = True, False
    refusal = {"RequestId": "R-409", "Code": "OperationConflict.UserProvisioning", "Message": "busy"}
    simulator.add_fault(path="Action=DeleteUserProvisioning&", status=409, body=refusal, times=1)
    with pytest.raises(ProviderError) as caught:
        client.remove_provisioning(present, provisioning("up-00kim003", target_id="1003"), "Delete")
    assert caught.value.message.startswith("RAM user provisioning up-00kim003 in account 1003 is still present: "
                                           "DeleteUserProvisioning failed, so the user was not deleted; run the task")
    assert (caught.value.code, caught.value.request_id, caught.value.lost_answer) == (
        "OperationConflict.UserProvisioning", "R-409", None)
    # A dropped connection, then a refusal: the first attempt may have been carried out.
    simulator.add_fault(action="drop", path="Action=DeleteUserProvisioning&", times=1)
    simulator.add_fault(path="Action=DeleteUserProvisioning&", status=409, body=refusal, times=1)
    with pytest.raises(ProviderError) as caught:
        client.remove_provisioning(absent, provisioning("up-00gone", principal_id="u-00gone", target_id="555"), "Delete")
    assert caught.value.message.startswith("RAM user provisioning up-00gone in account 555 may still be present: "
                                           "DeleteUserProvisioning failed; run the task")
    assert caught.value.lost_answer is not None


def test_only_this_runs_steps_are_its_changes_and_a_user_gone_before_its_delete_is_not_deleted(directory):
    _simulator, client = directory
    entry = _lifecycle.Entry("u-00kim", "id")
    entry.user, entry.found = {"UserId": "u-00kim"}, True
    entry.steps = [
        _lifecycle.Step("removed MFA device mfa-00old", lambda: _lifecycle.ALREADY_GONE),
        _lifecycle.Step("removed RAM user provisioning up-1 in account 111, deleting its RAM users", lambda: "R-1",
                        leftover=_lifecycle.leftover_item("RAM user provisioning", _alibaba.DELETED_PENDING, id="up-1")),
        _lifecycle.Step("removed RAM user provisioning up-2 in account 222, deleting its RAM users",
                        lambda: _lifecycle.ALREADY_GONE,
                        leftover=_lifecycle.leftover_item("RAM user provisioning", _alibaba.DELETED_PENDING, id="up-2")),
        _lifecycle.Step("deleted", lambda: raise_(NotFoundError("p", "gone", code="EntityNotExists.User")))]
    client.run_steps(entry)
    _lifecycle.finish_entry(entry, "absent", False)
    result = _lifecycle.entry_result(client, entry)
    assert result["actions"] == ["removed RAM user provisioning up-1 in account 111, deleting its RAM users"]
    assert [item["id"] for item in result["leftover"]] == ["up-1"] and result["request_ids"] == ["R-1"]
    assert (result["found"], result["changed"], result["state"]) == (True, True, "absent")
    assert result["msg"].startswith("already absent (the user itself was gone when this task's 'deleted' came")
    assert "not deleted by this task" in result["msg"] and "up-1" in result["msg"]


@pytest.fixture
def assignments():
    """Ann's direct assignments: ReadOnly, the only one on 111 (ReadOnly fails to leave 333: DeprovisionFailed),
    Admin on 222, which the group has there too."""
    simulator = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{"DirectoryId": DIRECTORY,
                         "access_configurations": [
                             {"AccessConfigurationId": "ac-00readonly", "AccessConfigurationName": "ReadOnly"},
                             {"AccessConfigurationId": "ac-00admin", "AccessConfigurationName": "Admin"},
                             {"AccessConfigurationId": "ac-00sticky", "AccessConfigurationName": "Sticky",
                              "deprovision_fails": True}],
                         "groups": [{"GroupId": "g-00eng", "GroupName": "eng", "access_assignments": [
                             {"access_configuration": "Admin", "target_id": "222"}]}],
                         "users": [{"UserId": "u-00ann", "UserName": "ann", "access_assignments": [
                             {"access_configuration": "ReadOnly", "target_id": "111"},
                             {"access_configuration": "Admin", "target_id": "222"},
                             {"access_configuration": "Sticky", "target_id": "333"}]}]}]},
        task_delay=0.05, conflict_lag=0.05, deprovision_lag=0.05)
    with SimServer(simulator) as server:
        client = _alibaba.AlibabaCloudSsoDirectory(StandInModule(endpoint=server.url, provisioned_ram_users="delete"))
        client.validate()
        client.transport.backoff_base = 0.01
        yield simulator, client


def offboard_ann(client, check_mode, deprovision):
    client.check_mode = check_mode
    client.module.params["deprovision_access"] = deprovision
    entries, _order = _lifecycle.requested_entries({"user_id": ["u-00ann"]})
    _lifecycle.resolve(client, entries)
    to_change = _lifecycle.plan(client, entries, "absent")
    if not check_mode:
        client.apply(to_change)
    _lifecycle.finish_entry(entries[0], "absent", check_mode)
    return _lifecycle.entry_result(client, entries[0])


@pytest.mark.parametrize("deprovision", [True, False])
def test_an_assignments_action_says_what_deprovision_access_does_and_the_leftover_what_the_reads_prove(
        assignments, deprovision):
    simulator, client = assignments
    rehearsed = offboard_ann(client, True, deprovision)
    if deprovision:
        assert rehearsed["actions"][:3] == [
            "removed access assignment %s on RD-Account %s, de-provisioning %s from the account if no other "
            "assignment of it is left there" % (name, account, name)
            for name, account in (("ReadOnly", "111"), ("Admin", "222"), ("Sticky", "333"))]
        # The reads foresee which configurations leave their account: not Admin, which the group keeps on 222.
        assert [(item["kind"], item["name"], item["where"]) for item in rehearsed["leftover"]] == [
            ("access configuration", "ReadOnly", "account 111"), ("access configuration", "Sticky", "account 333")]
    else:
        assert rehearsed["actions"][:3] == [
            "removed access assignment %s on RD-Account %s, leaving %s provisioned on the account" % (name, account, name)
            for name, account in (("ReadOnly", "111"), ("Admin", "222"), ("Sticky", "333"))]
        assert rehearsed["leftover"] == []
    assert [entry for entry in simulator.requests() if entry["changing"]] == []

    done = offboard_ann(client, False, deprovision)
    assert done["actions"] == rehearsed["actions"] and done["msg"] == "deleted"
    provisioned = simulator.directory_state(DIRECTORY)["provisioned_access_configurations"]
    if deprovision:
        # Proven by reading the configuration's provisionings after each task: ReadOnly left 111; Sticky failed
        # to leave 333, which is a follow-up, not a removal.
        assert [(item["name"], item["done"]) for item in done["leftover"]] == [
            ("ReadOnly", "de-provisioned from the account")]
        (sticky,) = done["manual_follow_up"]
        assert sticky["where"] == "account 333" and "DeprovisionFailed" in sticky["detail"]
        assert provisioned == {"222": ["ac-00admin"], "333": ["ac-00sticky"]}
        assert simulator.directory_state(DIRECTORY)["deprovision_failed"] == [["333", "ac-00sticky"]]
    else:
        assert done["leftover"] == [] and done["manual_follow_up"] == []
        assert provisioned == {"111": ["ac-00readonly"], "222": ["ac-00admin"], "333": ["ac-00sticky"]}


def test_a_deprovisioning_that_cannot_be_read_is_a_follow_up_and_the_removal_stays_this_runs(assignments):
    simulator, client = assignments
    simulator.add_fault(path="Action=ListAccessConfigurationProvisionings&", status=403, times=None,
                        body={"RequestId": "R-403", "Code": "NoPermission", "Message": "denied"})
    done = offboard_ann(client, False, True)
    assert done["msg"] == "deleted" and len(done["actions"]) == 4 and done["leftover"] == []
    assert [item["where"] for item in done["manual_follow_up"]] == ["account 111", "account 222", "account 333"]
    assert all("could not be read" in item["detail"] for item in done["manual_follow_up"])
