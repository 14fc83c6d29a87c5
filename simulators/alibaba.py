# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local stand-in for Alibaba Cloud CloudSSO (API 2021-05-15, RPC style).

Every call is `POST /` (GET works too) naming its action in `x-acs-action` (V3) or `Action` (V1).
The gateway part verifies every request like the real one: V3 `ACS3-HMAC-SHA256` (host and every
`x-acs-*` header must be signed) or V1 `HMAC-SHA1`, the AccessKey, STS tokens, the 15-minute clock
window and nonce reuse, and throttles each AccessKey above `throttle_rate` requests per second
with `Throttling.User` and `x-acs-retry-after` (milliseconds). Errors are JSON with RequestId,
HostId, Code, Message and Recommend. The verification here is written independently of the
collection's signer, so that a bug in one is not mirrored by the other.

The CloudSSO part models directories, users, groups, MFA devices, access configurations and
access assignments. DeleteAccessAssignment starts a task that GetTaskStatus shows InProgress
for `task_delay` seconds, then Success (or Failed, for an assignment seeded with `fail_delete`);
after that DeleteUser still answers `DeletionConflict.User.AccessAssigment` for `conflict_lag`
seconds. DeleteUser is refused while MFA devices, group memberships or direct assignments remain,
and for SCIM-synchronized users while SCIM synchronization is enabled.

Every assignment keeps its access configuration provisioned on its account (the AliyunReservedSSO-*
role there); DeleteAccessAssignment with `DeprovisionStrategy=DeprovisionForLastAccessAssignmentOnAccount`
de-provisions it when its task succeeds and no other assignment of that configuration is left on that
account, `None` (Alibaba's default) leaves it. RAM user provisionings (seeded per user, group or orphaned
principal) own RAM users in their member account: DeleteUserProvisioning with `DeletionStrategy=Delete`
removes them, `Keep` leaves them (no longer managed); an empty strategy uses the provisioning's own. Failed
provisioning events are seeded per provisioning and listed by ListUserProvisioningEvents. The snapshot
shows both per account (`ram_users`, `provisioned_access_configurations`), and
ListAccessConfigurationProvisionings lists the second. CloudSSO clears a deleted provisioning's RAM users in the
background (ListUserProvisioningEvents' SourceType `UserProvisioningDeletionClearing`): here they go
`ram_user_clearing_delay` seconds after the answer (or, for a provisioning seeded with `fail_clearing`, stay, with
a failed event of that source type); `settle()` finishes every such background change at once.

Where Alibaba's documentation is unconfirmed, the behaviour is switchable: `statuses` maps a
code (or code prefix) to its HTTP status (EntityNotExists 404 or 400, InvalidAccessKeyId.NotFound
404 or 400, SignatureDoesNotMatch 400 or 403, DeletionConflict 409 or 400), `conflict_codes` names
DeleteUser's codes for MFA devices and groups, `scim_delete_code` the SCIM refusal,
`filter_quotes` whether ListUsers strips, keeps or rejects quotes around a Filter value,
`filter_case_insensitive` how Filter values compare, and `mfa_type_required_for` the device types
(DeviceType) that DeleteMFADeviceForUser deletes only with a matching `MfaType` (default: the two
passkey types; MfaType is undocumented, so whether Alibaba needs it is unconfirmed).
`provisioning_blocks_delete` makes DeleteUser refuse a user who still has RAM user provisionings, with
`conflict_codes["provisioning"]` (whether it does, and with which code, is unconfirmed: DeleteUser's
documented prerequisites do not name provisionings, so by default it deletes the user and the
provisionings stay behind, orphaned); `provisioning_list_checks_principal` makes ListUserProvisionings
answer EntityNotExists.User for a user principal that does not exist (unconfirmed too; by default it
lists whatever still names that principal). Whether a de-provisioning (`DeprovisionStrategy`) is done within the
assignment's task or after it is unconfirmed: by default the configuration leaves the account
`deprovision_lag` seconds after the task succeeded (an access configuration seeded with `deprovision_fails`
stays, with status `DeprovisionFailed`); 0 makes it part of the task.

Every parameter is checked against the action's documented ones (Alibaba's API metadata 2024-06, plus the
parameters SDK 1.7.0 adds, `MfaType` and `OriginTargetId`): MaxResults ranges, enumerated values, required
parameters, NextToken only with the other parameters unchanged. Whether CloudSSO refuses a parameter it does
not know is unconfirmed: by default it does (`InvalidParameter`), so a misspelt filter can never pass
unnoticed; `unknown_parameters="ignore"` ignores them instead.

`meanwhile(path, action, **params)` has another administrator carry out `action` just before the next request
that matches `path` is handled: the directory changing between a client's reads and its change.

The request log and the fault paths show every request as `/?Action=<Action>&<query>`, whichever
signature it used, so `simulator.requests(path="Action=DeleteUser")` and faults by path work for
V3 requests too; log entries also carry `action`, `code` (of an error answer) and `access_key_id`.
"""

from __future__ import annotations

import base64
import calendar
import collections
import copy
import hashlib
import hmac
import json
import math
import re
import time
import uuid
from urllib.parse import parse_qsl

from ._base import CONTROL_PREFIX, Response, Simulator

API_VERSION = "2021-05-15"
DEFAULT_HOST = "cloudsso.cn-shanghai.aliyuncs.com"
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
V3_AUTHORIZATION = re.compile(r"^ACS3-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
                              r"\s*Signature=([0-9a-fA-F]+)$")
FILTER = re.compile(r"^\s*(\S+)\s+(\S+)\s+(.+?)\s*$")
V1_COMMON = ("AccessKeyId", "Action", "Format", "Version", "Signature", "SignatureMethod", "SignatureVersion",
             "SignatureNonce", "SignatureType", "Timestamp", "SecurityToken", "RegionId")
V1_REQUIRED = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp", "Action", "Version")
V3_REQUIRED = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")

# HTTP status per code; the longest matching prefix wins. Several are unconfirmed (see above).
DEFAULT_STATUSES = {
    "EntityNotExists": 404,
    "DeletionConflict": 409,
    "OperationConflict": 409,
    "OperationDenied": 400,
    "InvalidAccessKeyId": 400,
    "InvalidAccessKeyId.NotFound": 404,
    "SignatureDoesNotMatch": 400,
    "IncompleteSignature": 400,
    "InvalidTimeStamp": 400,
    "SignatureNonceUsed": 400,
    "InvalidSecurityToken": 400,
    "MissingParameter": 400,
    "InvalidParameter": 400,
    "InvalidVersion": 400,
    "InvalidAction.NotFound": 404,
    "Throttling": 400,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}
# Only AccessAssigment is attested (Terraform); the others are guesses in Alibaba's pattern.
DEFAULT_CONFLICT_CODES = {"mfa": "DeletionConflict.User.MFADevice", "group": "DeletionConflict.User.Group",
                          "provisioning": "DeletionConflict.User.UserProvisioning"}
OWNER_ACCOUNT = "1639738000000000"  # the management account that owns the simulated directories
ASSIGNMENT_CONFLICT = "DeletionConflict.User.AccessAssigment"  # sic, as Alibaba spells it
LOGGED_TOKEN = re.compile(r"([?&]SecurityToken=)[^&]*")
PASSKEY_TYPES = ("CrossPlatformPasskey", "PlatformPasskey")  # ListMFADevicesForUser DeviceType, SDK 1.7.0

# Required parameters per action (Alibaba's API metadata), besides the common ones.
REQUIRED = {
    "ListDirectories": (),
    "GetDirectory": ("DirectoryId",),
    "GetSCIMSynchronizationStatus": ("DirectoryId",),
    "ListUsers": ("DirectoryId",),
    "GetUser": ("DirectoryId", "UserId"),
    "UpdateUserStatus": ("DirectoryId", "UserId", "NewStatus"),
    "DeleteUser": ("DirectoryId", "UserId"),
    "ListMFADevicesForUser": ("DirectoryId", "UserId"),
    "DeleteMFADeviceForUser": ("DirectoryId", "UserId", "MFADeviceId"),
    "ListJoinedGroupsForUser": ("DirectoryId", "UserId"),
    "RemoveUserFromGroup": ("DirectoryId", "GroupId", "UserId"),
    "ListAccessAssignments": ("DirectoryId",),
    "DeleteAccessAssignment": ("DirectoryId", "AccessConfigurationId", "TargetType", "TargetId",
                               "PrincipalType", "PrincipalId"),
    "GetTaskStatus": ("DirectoryId", "TaskId"),
    "GetTask": ("DirectoryId", "TaskId"),
    "ListUserProvisionings": ("DirectoryId",),
    "DeleteUserProvisioning": ("DirectoryId", "UserProvisioningId"),
    "ListUserProvisioningEvents": ("DirectoryId",),
    "ListAccessConfigurationProvisionings": ("DirectoryId",),
}
PAGING = ("MaxResults", "NextToken")
# The other documented parameters per action (API metadata 2024-06; MfaType and OriginTargetId from SDK 1.7.0's
# request models, which send them when given; ListUsers' Tags.N.Key/Value from the SDK too).
OPTIONAL = {
    "ListUsers": ("Status", "ProvisionType", "Filter") + PAGING,
    "DeleteMFADeviceForUser": ("MfaType",),
    "ListJoinedGroupsForUser": PAGING,
    "ListAccessAssignments": ("AccessConfigurationId", "TargetType", "TargetId", "PrincipalType", "PrincipalId",
                              "OriginTargetId") + PAGING,
    "DeleteAccessAssignment": ("DeprovisionStrategy", "OriginTargetId"),
    "ListUserProvisionings": ("PrincipalType", "PrincipalId", "TargetType", "TargetId") + PAGING,
    "DeleteUserProvisioning": ("DeletionStrategy",),
    "ListUserProvisioningEvents": ("UserProvisioningId",) + PAGING,
    "ListAccessConfigurationProvisionings": ("AccessConfigurationId", "TargetType", "TargetId", "ProvisioningStatus",
                                             "OriginTargetId") + PAGING,
}
LIST_TAGS = re.compile(r"^Tags\.[1-9][0-9]*\.(Key|Value)$")
# Enumerated values (API metadata 2024-06, each parameter's "取值"). An empty DeletionStrategy means the
# provisioning's own (checked in DeleteUserProvisioning).
PRINCIPAL_TYPES = ("User", "Group")
TARGET_TYPES = ("RD-Account",)
ENUMS = {
    "ListUsers": {"Status": ("Enabled", "Disabled"), "ProvisionType": ("Manual", "Synchronized")},
    "UpdateUserStatus": {"NewStatus": ("Enabled", "Disabled")},
    "ListAccessAssignments": {"PrincipalType": PRINCIPAL_TYPES, "TargetType": TARGET_TYPES},
    "DeleteAccessAssignment": {"PrincipalType": PRINCIPAL_TYPES, "TargetType": TARGET_TYPES,
                               "DeprovisionStrategy": ("None", "DeprovisionForLastAccessAssignmentOnAccount")},
    "ListUserProvisionings": {"PrincipalType": PRINCIPAL_TYPES, "TargetType": TARGET_TYPES},
    "ListAccessConfigurationProvisionings": {"TargetType": TARGET_TYPES, "ProvisioningStatus": (
        "Provisioned", "ReprovisionRequired", "DeprovisionFailed")},
    "DeleteUserProvisioning": {"DeletionStrategy": ("Delete", "Keep")},
}
# MaxResults "取值范围" per paged action (API metadata 2024-06; the same in SDK 1.7.0's request models).
PAGE_LIMITS = {"ListUsers": 100, "ListJoinedGroupsForUser": 100, "ListAccessAssignments": 20,
               "ListUserProvisionings": 100, "ListUserProvisioningEvents": 100,
               "ListAccessConfigurationProvisionings": 20}


class ApiError(Exception):
    def __init__(self, code, message, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}


def pct(text):
    """RFC 3986 percent-encoding of UTF-8 bytes (written out, not urllib's)."""
    out = []
    for char in str(text):
        if char in UNRESERVED:
            out.append(char)
        else:
            out.extend("%%%02X" % byte for byte in char.encode("utf-8"))
    return "".join(out)


def canonical_query(params):
    return "&".join("%s=%s" % (pct(key), pct(params[key])) for key in sorted(params))


def v3_expected(method, path, params, headers, signed_names, payload_hash, secret):
    """(string to sign, signature hex) of a V3 request, from the server's side."""
    lines = [method, path, canonical_query(params)]
    lines.append("".join("%s:%s\n" % (name, headers[name]) for name in signed_names))
    lines.append(";".join(signed_names))
    lines.append(payload_hash)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    string_to_sign = "ACS3-HMAC-SHA256\n" + digest
    return string_to_sign, hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v1_expected(method, params, secret):
    """(string to sign, base64 signature) of a V1 request over every parameter but Signature."""
    signed = dict((key, value) for key, value in params.items() if key != "Signature")
    string_to_sign = "&".join((method, pct("/"), pct(canonical_query(signed))))
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return string_to_sign, base64.b64encode(digest).decode("ascii")


def parse_timestamp(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def iso(moment):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def new_request_id():
    return str(uuid.uuid4()).upper()


def recommend(code, request_id):
    return "https://api.alibabacloud.com/troubleshoot?q=%s&product=cloudsso&requestId=%s" % (code, request_id)


def new_entity_id(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:20])


class AlibabaCloudSsoSimulator(Simulator):
    name = "alibaba-cloudsso"

    def __init__(self, data=None, throttle_rate=100.0, task_delay=0.5, conflict_lag=1.0, statuses=None,
                 conflict_codes=None, scim_delete_code="OperationDenied.SCIMSynchronizedUser",
                 filter_quotes="strip", filter_case_insensitive=True, clock_window=900.0,
                 mfa_type_required_for=PASSKEY_TYPES, provisioning_blocks_delete=False,
                 provisioning_list_checks_principal=False, ram_user_clearing_delay=2.0, deprovision_lag=0.3,
                 unknown_parameters="reject"):
        super().__init__()
        self.settings = {}
        self.configure(throttle_rate=throttle_rate, task_delay=task_delay, conflict_lag=conflict_lag,
                       statuses=statuses, conflict_codes=conflict_codes, scim_delete_code=scim_delete_code,
                       filter_quotes=filter_quotes, filter_case_insensitive=filter_case_insensitive,
                       clock_window=clock_window, mfa_type_required_for=mfa_type_required_for,
                       provisioning_blocks_delete=provisioning_blocks_delete,
                       provisioning_list_checks_principal=provisioning_list_checks_principal,
                       ram_user_clearing_delay=ram_user_clearing_delay, deprovision_lag=deprovision_lag,
                       unknown_parameters=unknown_parameters)
        self.access_keys = {}
        self._meanwhile = []
        self.directories = {}
        self.tasks = {}
        self._nonces = {}
        self._nonce_order = collections.deque()
        self._recent = collections.defaultdict(collections.deque)
        if data:
            self.seed(data)

    def configure(self, **settings):
        """Change behaviour at run time (also from the seed's `settings`)."""
        with self.lock:
            if "filter_quotes" in settings and settings["filter_quotes"] not in ("strip", "literal", "reject"):
                raise ValueError("filter_quotes must be strip, literal or reject")
            if settings.get("unknown_parameters", "reject") not in ("reject", "ignore"):
                raise ValueError("unknown_parameters must be reject or ignore")
            # Overrides apply on top of the defaults, never on top of earlier overrides.
            for name, defaults in (("statuses", DEFAULT_STATUSES), ("conflict_codes", DEFAULT_CONFLICT_CODES)):
                if name in settings or name not in self.settings:
                    merged = dict(defaults)
                    merged.update(settings.pop(name, None) or {})
                    settings[name] = merged
            self.settings.update(settings)

    # --- state --------------------------------------------------------------------------------
    def seed(self, data):
        """{"access_keys": [{access_key_id, access_key_secret, security_token?}],
        "directories": [{DirectoryId?, DirectoryName, Region, scim_synchronization, access_configurations
        ({AccessConfigurationId?, AccessConfigurationName, deprovision_fails?}),
        groups, users, user_provisionings (of principals no longer in the directory: principal_id,
        principal_name, principal_type?, and the keys of a user's ram_user_provisionings), ram_users
        ({account id: [RAM user names not made by CloudSSO]})}], "settings": {...}};
        see simulators/seeds/alibaba-demo.json."""
        with self.lock:
            if data.get("settings"):
                self.configure(**data["settings"])
            self.access_keys = dict((key["access_key_id"], {"secret": key["access_key_secret"],
                                                            "security_token": key.get("security_token")})
                                    for key in data.get("access_keys") or [])
            self.directories = {}
            self.tasks = {}
            for spec in data.get("directories") or []:
                self.add_directory(spec)

    def add_directory(self, spec):
        with self.lock:
            stamp = iso(time.time())
            directory = {
                "DirectoryId": spec.get("DirectoryId") or new_entity_id("d"),
                "DirectoryName": spec.get("DirectoryName", "example"),
                "Region": spec.get("Region", "cn-shanghai"),
                "CreateTime": stamp,
                "scim": spec.get("scim_synchronization", "Disabled"),
                "users": collections.OrderedDict(), "groups": collections.OrderedDict(),
                "access_configurations": collections.OrderedDict(),
                "mfa": {}, "memberships": {}, "stale": {}, "assignments": [], "blocked_until": {},
                # {account id: {config id}}, {id: provisioning}, {account id: {RAM user name: provisioning
                # id or None}}, {event id: failed provisioning event}
                "provisioned": collections.defaultdict(set), "provisionings": collections.OrderedDict(),
                "ram_users": collections.defaultdict(collections.OrderedDict), "events": collections.OrderedDict(),
                # What CloudSSO finishes after its answer: [{"due", "kind" (deprovision, clear), ...}]; the seeded
                # failures of such work: access configuration ids, provisioning ids.
                "background": [], "deprovision_fails": set(), "fail_clearing": set(),
                # {(account id, access configuration id)} whose de-provisioning failed (DeprovisionFailed)
                "deprovision_failed": set(),
            }
            self.directories[directory["DirectoryId"]] = directory
            for config in spec.get("access_configurations") or []:
                config_id = config.get("AccessConfigurationId") or new_entity_id("ac")
                directory["access_configurations"][config_id] = {
                    "AccessConfigurationId": config_id, "AccessConfigurationName": config["AccessConfigurationName"]}
                if config.get("deprovision_fails"):
                    directory["deprovision_fails"].add(config_id)
            for group in spec.get("groups") or []:
                group_id = group.get("GroupId") or new_entity_id("g")
                directory["groups"][group_id] = {"GroupId": group_id, "GroupName": group["GroupName"],
                                                 "Description": group.get("Description", ""),
                                                 "ProvisionType": group.get("ProvisionType", "Manual")}
                for assignment in group.get("access_assignments") or []:
                    self._add_assignment(directory, "Group", group_id, group["GroupName"], assignment)
                for provisioning in group.get("ram_user_provisionings") or []:
                    self._add_provisioning(directory, "Group", group_id, group["GroupName"], provisioning)
            for account_id, names in (spec.get("ram_users") or {}).items():
                for name in names:
                    directory["ram_users"][str(account_id)][name] = None
            for user in spec.get("users") or []:
                self.add_user(directory["DirectoryId"], user)
            for orphan in spec.get("user_provisionings") or []:
                self._add_provisioning(directory, orphan.get("principal_type", "User"), orphan["principal_id"],
                                       orphan.get("principal_name", orphan["principal_id"]), orphan)
            return directory["DirectoryId"]

    def add_user(self, directory_id, spec):
        """A user from a seed entry: CloudSSO fields plus `mfa_devices`, `groups` (names or ids),
        `stale_groups` (listed but already gone), `access_assignments` ({access_configuration,
        target_id, fail_delete?}) and `ram_user_provisionings` ({target_id, UserProvisioningId?,
        deletion_strategy?, duplication_strategy?, ram_users? (default: the user name), failed_events?
        ([{EventId?, SourceType?, ErrorInfo?, ErrorCount?}]), fail_clearing? (its RAM users are not deleted)})."""
        extra = ("mfa_devices", "groups", "stale_groups", "access_assignments", "ram_user_provisionings")
        with self.lock:
            directory = self.directories[directory_id]
            stamp = iso(time.time())
            user = dict((key, value) for key, value in spec.items() if key not in extra)
            user.setdefault("UserId", new_entity_id("u"))
            user.setdefault("DisplayName", user["UserName"])
            user.setdefault("Email", user["UserName"] if "@" in user["UserName"] else "")
            user.setdefault("Status", "Enabled")
            user.setdefault("ProvisionType", "Manual")
            user.setdefault("CreateTime", stamp)
            user.setdefault("UpdateTime", stamp)
            if user["ProvisionType"] == "Synchronized":
                user.setdefault("ExternalId", {"Id": uuid.uuid4().hex, "Issuer": "SCIM"})
            user_id = user["UserId"]
            directory["users"][user_id] = user
            directory["mfa"][user_id] = [
                {"DeviceId": device.get("DeviceId") or new_entity_id("mfa"), "DeviceName": device.get("DeviceName", "MFA"),
                 "DeviceType": device.get("DeviceType", "TOTP"), "EffectiveTime": stamp, "UserId": user_id}
                for device in spec.get("mfa_devices") or []]
            directory["memberships"][user_id] = collections.OrderedDict(
                (self._group_id(directory, group), stamp) for group in spec.get("groups") or [])
            # Memberships that ListJoinedGroupsForUser still shows although they are gone (listing lag).
            directory["stale"][user_id] = [self._group_id(directory, group) for group in spec.get("stale_groups") or []]
            for assignment in spec.get("access_assignments") or []:
                self._add_assignment(directory, "User", user_id, user["UserName"], assignment)
            for provisioning in spec.get("ram_user_provisionings") or []:
                self._add_provisioning(directory, "User", user_id, user["UserName"], provisioning)
            return user_id

    @staticmethod
    def _group_id(directory, name_or_id):
        for group in directory["groups"].values():
            if name_or_id in (group["GroupId"], group["GroupName"]):
                return group["GroupId"]
        raise KeyError("no group %r in the seed" % name_or_id)

    @staticmethod
    def _add_assignment(directory, principal_type, principal_id, principal_name, spec):
        configs = directory["access_configurations"]
        wanted = spec.get("access_configuration") or spec.get("AccessConfigurationId")
        config = next(one for one in configs.values()
                      if wanted in (one["AccessConfigurationId"], one["AccessConfigurationName"]))
        target_id = str(spec.get("target_id") or spec.get("TargetId") or "1234567890123456")
        directory["assignments"].append({
            "AccessConfigurationId": config["AccessConfigurationId"],
            "AccessConfigurationName": config["AccessConfigurationName"],
            "TargetType": "RD-Account", "TargetId": target_id,
            "TargetName": spec.get("target_name", "account-%s" % target_id[-4:]),
            "TargetPath": "rd-Sim/r-Root/%s" % target_id, "TargetPathName": "rd-Sim/root/%s" % target_id,
            "PrincipalType": principal_type, "PrincipalId": principal_id, "PrincipalName": principal_name,
            "CreateTime": iso(time.time()), "fail_delete": spec.get("fail_delete"),
        })
        # Creating an assignment provisions its access configuration on the account.
        directory["provisioned"][target_id].add(config["AccessConfigurationId"])

    @staticmethod
    def _add_provisioning(directory, principal_type, principal_id, principal_name, spec):
        stamp = iso(time.time())
        target_id = str(spec.get("target_id") or spec.get("TargetId") or "1234567890123456")
        provisioning_id = spec.get("UserProvisioningId") or new_entity_id("up")
        directory["provisionings"][provisioning_id] = {
            "UserProvisioningId": provisioning_id, "DirectoryId": directory["DirectoryId"], "OwnerPk": OWNER_ACCOUNT,
            "PrincipalType": principal_type, "PrincipalId": principal_id, "PrincipalName": principal_name,
            "TargetType": "RD-Account", "TargetId": target_id,
            "TargetName": spec.get("target_name", "account-%s" % target_id[-4:]),
            "TargetPath": "rd-Sim/r-Root/%s" % target_id, "Status": "Enabled",
            "Description": spec.get("description", ""),
            "DuplicationStrategy": spec.get("duplication_strategy", "KeepBoth"),
            "DeletionStrategy": spec.get("deletion_strategy", "Delete"), "CreateTime": stamp, "UpdateTime": stamp,
        }
        if spec.get("fail_clearing"):
            directory["fail_clearing"].add(provisioning_id)
        names = spec.get("ram_users")
        for name in [principal_name] if names is None else names:
            directory["ram_users"][target_id][name] = provisioning_id
        for event in spec.get("failed_events") or []:
            AlibabaCloudSsoSimulator._add_event(directory, directory["provisionings"][provisioning_id], event, stamp)

    @staticmethod
    def _add_event(directory, provisioning, event, stamp):
        """A failed provisioning event of `provisioning` (ListUserProvisioningEvents lists only failed ones)."""
        event_id = event.get("EventId") or new_entity_id("upe")
        directory["events"][event_id] = dict(
            (key, provisioning[key])
            for key in ("UserProvisioningId", "DirectoryId", "PrincipalType", "PrincipalId", "PrincipalName",
                        "TargetType", "TargetId", "TargetName", "TargetPath", "DuplicationStrategy",
                        "DeletionStrategy"))
        directory["events"][event_id].update(
            EventId=event_id, SourceType=event.get("SourceType", "StartProvisioning"),
            ErrorInfo=event.get("ErrorInfo", "OperationConflict.UserProvisioning.Process.fail.ImsUserExists"),
            ErrorCount=event.get("ErrorCount", 1), CreateTime=stamp, UpdateTime=stamp, LatestAsyncTime=stamp)

    def snapshot(self):
        with self.lock:
            self._advance(time.time())
            return {"directories": dict((directory_id, self.directory_state(directory_id))
                                        for directory_id in self.directories),
                    "tasks": copy.deepcopy(list(self.tasks.values()))}

    def directory_state(self, directory_id):
        with self.lock:
            directory = self.directories[directory_id]
            return {
                "users": copy.deepcopy(list(directory["users"].values())),
                "groups": copy.deepcopy(list(directory["groups"].values())),
                "mfa_devices": dict((user_id, [one["DeviceId"] for one in devices])
                                    for user_id, devices in directory["mfa"].items() if devices),
                "memberships": dict((user_id, list(groups)) for user_id, groups in directory["memberships"].items()
                                    if groups),
                "access_assignments": [self._render_assignment(one) for one in directory["assignments"]],
                "scim_synchronization": directory["scim"],
                "user_provisionings": copy.deepcopy(list(directory["provisionings"].values())),
                "provisioning_events": copy.deepcopy(list(directory["events"].values())),
                "ram_users": dict((account_id, list(users)) for account_id, users in directory["ram_users"].items()
                                  if users),
                "provisioned_access_configurations": dict((account_id, sorted(configs)) for account_id, configs
                                                          in directory["provisioned"].items() if configs),
                "deprovision_failed": sorted([account_id, config_id]
                                             for account_id, config_id in directory["deprovision_failed"]),
            }

    def credentials(self):
        with self.lock:
            return {"access_keys": [dict(access_key_id=key_id, access_key_secret=key["secret"],
                                         **({"security_token": key["security_token"]} if key["security_token"] else {}))
                                    for key_id, key in self.access_keys.items()],
                    "directories": list(self.directories)}

    def client_environment(self, url):
        """Environment variables that point the alibaba_* modules at the first directory and
        the first permanent AccessKey."""
        with self.lock:
            key_id, key = next((key_id, key) for key_id, key in self.access_keys.items() if not key["security_token"])
            return {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": url, "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": next(iter(self.directories)),
                    "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key["secret"]}

    # --- helpers for tests --------------------------------------------------------------------
    def find_user(self, user_name, directory_id=None):
        with self.lock:
            for directory in self._directories(directory_id):
                for user in directory["users"].values():
                    if user["UserName"] == user_name:
                        return copy.deepcopy(user)
        return None

    def _directories(self, directory_id):
        return [self.directories[directory_id]] if directory_id else list(self.directories.values())

    def settle(self):
        """Finish at once every task and background change that is still to come (as if time passed)."""
        with self.lock:
            self._advance(math.inf)
            for directory in self.directories.values():
                directory["blocked_until"].clear()  # the conflict lag after an assignment's task, passed too

    def meanwhile(self, path, action, directory_id=None, times=1, **params):
        """Another administrator carries out `action` with `params` (no signature, no log entry) just before the
        next `times` requests whose `/?Action=...` path matches the regex `path` are handled. Returns the record,
        whose `answers` list what each time answered (its body, or {"Code": ...} of a refusal)."""
        record = {"path": re.compile(path), "action": action, "times": times, "answers": [],
                  "params": dict(params, DirectoryId=directory_id or next(iter(self.directories)))}
        with self.lock:
            self._meanwhile.append(record)
        return record

    def _run_meanwhile(self, request, now):
        for record in self._meanwhile:
            if record["times"] and record["path"].search(request.target):
                record["times"] -= 1
                try:
                    record["answers"].append(self._call(record["action"], dict(record["params"]), now))
                except ApiError as exc:
                    record["answers"].append({"Code": exc.code})
        self._meanwhile = [record for record in self._meanwhile if record["times"]]

    def answers(self, code):
        """Log entries answered with this error code."""
        with self.lock:
            return [entry for entry in self.log if entry.get("code") == code]

    def fail(self, action, code, status=None, message=None, headers=None, times=1, skip=0):
        """A fault in CloudSSO's error shape for the next `times` calls of `action`."""
        request_id = new_request_id()
        body = {"RequestId": request_id, "HostId": DEFAULT_HOST, "Code": code,
                "Message": message or "Injected fault %s." % code, "Recommend": recommend(code, request_id)}
        return self.add_fault(action="respond", path=r"[?&]Action=%s(&|$)" % re.escape(action),
                              status=status or self._status(code), headers=headers, body=body, times=times, skip=skip)

    # --- gateway ------------------------------------------------------------------------------
    def dispatch(self, request):
        if not request.raw_path.startswith(CONTROL_PREFIX):
            request.action = self._action_of(request)
            if request.action and not re.search(r"(^|&)Action=", request.raw_query):
                request.target = "/?Action=%s%s" % (request.action, "&" + request.raw_query if request.raw_query else "")
        return super().dispatch(request)

    def proper_places(self, received):
        """The AccessKey secret is never sent (only a signature made with it). The STS token belongs in the
        `x-acs-security-token` header of a V3 request (signed in `Authorization`), and in the `SecurityToken`
        parameter of a V1 request (signed in the query or form) only."""
        if any(value.startswith("ACS3-HMAC-SHA256") for value in received.header("Authorization")):
            return [("header", "x-acs-security-token")]
        return [("query", "SecurityToken"), ("form", "SecurityToken")]

    def log_entry(self, request, status):
        entry = super().log_entry(request, status)
        entry.update({"action": getattr(request, "action", None), "code": getattr(request, "answer_code", None),
                      "access_key_id": getattr(request, "access_key_id", None),
                      "request_id": getattr(request, "request_id", None),
                      # The action's own parameters, from the query and a form body (never a signature's or a
                      # token's): what the ground-truth checker of the tests reads a change from.
                      "params": self._business_params(request)})
        # A V1 request carries its STS token in the query; the log never keeps it.
        entry["path"] = LOGGED_TOKEN.sub(r"\1********", entry["path"])
        return entry

    def _business_params(self, request):
        params = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        try:
            params.update(self._form(request))
        except ValueError:  # a body that is not UTF-8 (UnicodeDecodeError): the query alone
            pass
        return dict((key, value) for key, value in params.items() if key not in V1_COMMON)

    def is_changing(self, request):
        # Every call is a POST; only the action says whether it reads.
        action = getattr(request, "action", None) or ""
        return not action.startswith(("Get", "List"))

    @staticmethod
    def _form(request):
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if request.body and content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        return {}

    def _action_of(self, request):
        query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        return request.header("x-acs-action") or query.get("Action") or self._form(request).get("Action")

    def handle(self, request):
        request_id = request.request_id = new_request_id()
        now = time.time()
        try:
            if request.raw_path not in ("", "/") or request.method not in ("POST", "GET"):
                raise ApiError("InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
            with self.lock:
                action, params = self._authenticate(request, now)
                self._throttle(request.access_key_id, now)
                self._advance(now)
                self._run_meanwhile(request, now)
                body = self._call(action, params, now)
        except ApiError as exc:
            request.answer_code = exc.code
            return self._error(exc, request_id, request.header("Host") or DEFAULT_HOST)
        body["RequestId"] = request_id
        return Response(200, body)

    def _status(self, code):
        statuses = self.settings["statuses"]
        matches = [prefix for prefix in statuses if code == prefix or code.startswith(prefix + ".")]
        return statuses[max(matches, key=len)] if matches else 400

    def _error(self, exc, request_id, host):
        body = {"RequestId": request_id, "HostId": host, "Code": exc.code, "Message": exc.message,
                "Recommend": recommend(exc.code, request_id)}
        return Response(self._status(exc.code), body, headers=exc.headers)

    def _authenticate(self, request, now):
        """(action, business parameters) of a request whose signature is valid."""
        request.access_key_id = None
        authorization = request.header("Authorization") or ""
        if authorization.startswith("ACS3-HMAC-SHA256"):
            return self._verify_v3(request, authorization.strip(), now)
        params = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        params.update(self._form(request))
        return self._verify_v1(request, params, now)

    def _verify_v3(self, request, authorization, now):
        match = V3_AUTHORIZATION.match(authorization)
        if not match:
            raise ApiError("IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        key_id, signed_list, signature = match.groups()
        headers = dict((name.lower(), ",".join(value.strip() for value in request.headers.get_all(name)))
                       for name in set(request.headers.keys()))
        for name in V3_REQUIRED:
            if name not in headers:
                raise ApiError("MissingParameter", "The input parameter \"%s\" that is mandatory for processing "
                                                   "this request is not supplied." % name)
        signed_names = signed_list.split(";")
        unsigned = [name for name in headers if (name.startswith("x-acs-") or name == "host") and name not in signed_names]
        if unsigned or signed_names != sorted(signed_names) or any(name not in headers for name in signed_names):
            raise ApiError("IncompleteSignature", "The request signature does not conform to Aliyun standards. "
                                                  "Every x-acs-* header and host must be signed.")
        key = self._access_key(request, key_id, headers.get("x-acs-security-token"))
        self._check_time(headers["x-acs-date"], now)
        payload_hash = hashlib.sha256(request.body or b"").hexdigest()
        if headers["x-acs-content-sha256"] != payload_hash:
            raise ApiError("SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body.")
        params = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        string_to_sign, expected = v3_expected(request.method, request.raw_path or "/", params, headers,
                                               signed_names, payload_hash, key["secret"])
        if not hmac.compare_digest(expected, signature.lower()):
            raise ApiError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                                                    "server string to sign is:%s" % string_to_sign)
        self._use_nonce(key_id, headers["x-acs-signature-nonce"], now)
        if headers["x-acs-version"] != API_VERSION:
            raise ApiError("InvalidVersion", "Specified parameter Version is not valid.")
        params.update(self._form(request))
        return headers["x-acs-action"], params

    def _verify_v1(self, request, params, now):
        for name in V1_REQUIRED:
            if not params.get(name):
                raise ApiError("MissingParameter", "The input parameter \"%s\" that is mandatory for processing "
                                                   "this request is not supplied." % name)
        if params["SignatureMethod"] != "HMAC-SHA1" or params.get("SignatureVersion", "1.0") != "1.0":
            raise ApiError("IncompleteSignature", "The request signature does not conform to Aliyun standards.")
        key = self._access_key(request, params["AccessKeyId"], params.get("SecurityToken"))
        self._check_time(params["Timestamp"], now)
        string_to_sign, expected = v1_expected(request.method, params, key["secret"])
        if not hmac.compare_digest(expected, params["Signature"]):
            raise ApiError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
                                                    "server string to sign is:%s" % string_to_sign)
        self._use_nonce(params["AccessKeyId"], params["SignatureNonce"], now)
        if params["Version"] != API_VERSION:
            raise ApiError("InvalidVersion", "Specified parameter Version is not valid.")
        return params["Action"], dict((key, value) for key, value in params.items() if key not in V1_COMMON)

    def _access_key(self, request, key_id, token):
        key = self.access_keys.get(key_id)
        if key is None:
            raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        request.access_key_id = key_id
        if key["security_token"] and not token:
            raise ApiError("MissingParameter", "The input parameter \"SecurityToken\" that is mandatory for "
                                               "processing this request is not supplied.")
        if token and token != key["security_token"]:
            raise ApiError("InvalidSecurityToken.MismatchWithAccessKey", "The security token does not match the "
                                                                         "access key.")
        return key

    def _check_time(self, text, now):
        moment = parse_timestamp(text)
        if moment is None:
            raise ApiError("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
        if abs(now - moment) > self.settings["clock_window"]:
            raise ApiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _use_nonce(self, key_id, nonce, now):
        # A nonce is remembered as long as its request's timestamp could still be accepted.
        window = self.settings["clock_window"]
        while self._nonce_order and self._nonce_order[0][0] < now - window:
            self._nonces.pop(self._nonce_order.popleft()[1], None)
        if (key_id, nonce) in self._nonces:
            raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces[(key_id, nonce)] = now
        self._nonce_order.append((now, (key_id, nonce)))

    def _throttle(self, key_id, now):
        """At most `throttle_rate` accepted requests per AccessKey in any one second."""
        rate = self.settings["throttle_rate"]
        if not rate:
            return
        recent = self._recent[key_id]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= rate:
            wait_ms = max(1, int(math.ceil((recent[0] + 1.0 - now) * 1000)))
            raise ApiError("Throttling.User", "Request was denied due to user flow control.",
                           headers={"x-acs-retry-after": str(wait_ms)})
        recent.append(now)

    def _advance(self, now):
        """Finish the assignment tasks that are due, then the background changes that are due."""
        self._finish_tasks(now)
        for directory in self.directories.values():
            due = [job for job in directory["background"] if job["due"] <= now]
            directory["background"] = [job for job in directory["background"] if job["due"] > now]
            for job in due:
                getattr(self, "_finish_" + job["kind"])(directory, job)

    def _finish_deprovision(self, directory, job):
        key = (job["TargetId"], job["AccessConfigurationId"])
        if any(one["AccessConfigurationId"] == key[1] and one["TargetId"] == key[0] for one in directory["assignments"]):
            return  # assigned again meanwhile: it stays
        if key[1] in directory["deprovision_fails"]:
            directory["deprovision_failed"].add(key)
        else:
            directory["provisioned"][key[0]].discard(key[1])

    def _finish_clear(self, directory, job):
        """A deleted provisioning's RAM users, deleted in the background (or not: a failed clearing event)."""
        ram_users = directory["ram_users"][job["provisioning"]["TargetId"]]
        provisioning_id = job["provisioning"]["UserProvisioningId"]
        if provisioning_id in directory["fail_clearing"]:
            self._add_event(directory, job["provisioning"], {
                "SourceType": "UserProvisioningDeletionClearing",
                "ErrorInfo": "OperationFailed.UserProvisioning.DeleteRamUser"}, iso(job["due"]))
            return
        for name, owner in list(ram_users.items()):
            if owner == provisioning_id:
                del ram_users[name]

    def _finish_tasks(self, now):
        for task in self.tasks.values():
            if task["Status"] != "InProgress" or task["due"] > now:
                continue
            directory = self.directories[task["directory_id"]]
            assignment = task["assignment"]
            task["EndTime"] = iso(task["due"])
            if assignment.get("fail_delete"):
                task["Status"] = "Failed"
                task["FailureReason"] = assignment.pop("fail_delete")
                continue
            task["Status"] = "Success"
            if assignment in directory["assignments"]:
                directory["assignments"].remove(assignment)
            if task["DeprovisionStrategy"] == "DeprovisionForLastAccessAssignmentOnAccount":
                job = {"kind": "deprovision", "due": task["due"] + self.settings["deprovision_lag"],
                       "AccessConfigurationId": assignment["AccessConfigurationId"], "TargetId": assignment["TargetId"]}
                if self.settings["deprovision_lag"] > 0:
                    directory["background"].append(job)
                else:
                    self._finish_deprovision(directory, job)
            if assignment["PrincipalType"] == "User":
                blocked = directory["blocked_until"]
                blocked[assignment["PrincipalId"]] = max(blocked.get(assignment["PrincipalId"], 0),
                                                         task["due"] + self.settings["conflict_lag"])

    # --- CloudSSO -----------------------------------------------------------------------------
    def _call(self, action, params, now):
        handler = getattr(self, "_api_" + action, None) if action in REQUIRED else None
        if handler is None:
            raise ApiError("InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
        for name in REQUIRED[action]:
            if not params.get(name):
                raise ApiError("MissingParameter", "The input parameter \"%s\" that is mandatory for processing this "
                                                   "request is not supplied." % name)
        self._check_parameters(action, params)
        directory = None
        if "DirectoryId" in REQUIRED[action]:
            directory = self.directories.get(params["DirectoryId"])
            if directory is None:
                raise ApiError("EntityNotExists.Directory", "The specified directory does not exist.")
        return handler(directory, params, now)

    def _check_parameters(self, action, params):
        """Unknown parameters (by default) and enumerated values outside the documented ones are refused."""
        known = REQUIRED[action] + OPTIONAL.get(action, ())
        unknown = [name for name in params if name not in known
                   and not (action == "ListUsers" and LIST_TAGS.match(name))]
        if unknown and self.settings["unknown_parameters"] == "reject":
            raise ApiError("InvalidParameter", "The parameter \"%s\" is not valid for %s." % (sorted(unknown)[0], action))
        for name, values in ENUMS.get(action, {}).items():
            if params.get(name) and params[name] not in values:
                raise ApiError("InvalidParameter.%s" % name, "The specified %s is invalid." % name)

    @staticmethod
    def _user(directory, params):
        user = directory["users"].get(params["UserId"])
        if user is None:
            raise ApiError("EntityNotExists.User", "The specified user does not exist.")
        return user

    def _page(self, action, items, key, params):
        limit = PAGE_LIMITS[action]
        try:
            size = int(params.get("MaxResults") or 10)
        except ValueError:
            size = 0
        if not 1 <= size <= limit:
            raise ApiError("InvalidParameter.MaxResults", "The specified MaxResults is invalid: 1 to %d." % limit)
        scope = hashlib.sha256(json.dumps([action, sorted((name, value) for name, value in params.items()
                                                          if name not in ("MaxResults", "NextToken"))])
                               .encode("utf-8")).hexdigest()[:12]
        offset = 0
        if params.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(params["NextToken"], validate=True).decode("utf-8"))
                offset = int(token["offset"])
                valid = token["scope"] == scope
            except (ValueError, KeyError, TypeError):
                valid = False
            if not valid:
                raise ApiError("InvalidParameter.NextToken", "The specified NextToken is invalid.")
        page = items[offset:offset + size]
        body = {key: page, "MaxResults": size, "TotalCounts": len(items), "IsTruncated": offset + size < len(items)}
        if body["IsTruncated"]:
            # Standard base64 (with + / =), so that clients must encode it properly.
            body["NextToken"] = base64.b64encode(json.dumps({"offset": offset + size, "scope": scope, "pad": "~?>"})
                                                 .encode("utf-8")).decode("ascii")
        return body

    def _api_ListDirectories(self, directory, params, now):
        return {"Directories": [self._render_directory(one) for one in self.directories.values()],
                "TotalCounts": len(self.directories)}

    @staticmethod
    def _render_directory(directory):
        return dict((key, directory[key]) for key in ("DirectoryId", "DirectoryName", "Region", "CreateTime"))

    def _api_GetDirectory(self, directory, params, now):
        return {"Directory": self._render_directory(directory)}

    def _api_GetSCIMSynchronizationStatus(self, directory, params, now):
        return {"SCIMSynchronizationStatus": directory["scim"]}

    def _api_ListUsers(self, directory, params, now):
        users = list(directory["users"].values())
        for name in ("Status", "ProvisionType"):
            if params.get(name):
                users = [user for user in users if user[name] == params[name]]
        if params.get("Filter"):
            users = self._filter(users, params["Filter"])
        return self._page("ListUsers", copy.deepcopy(users), "Users", params)

    def _filter(self, users, text):
        match = FILTER.match(text)
        if not match or match.group(1).lower() != "username" or match.group(2).lower() not in ("eq", "sw"):
            raise ApiError("InvalidParameter.Filter", "The specified Filter is invalid.")
        operator, value = match.group(2).lower(), match.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            mode = self.settings["filter_quotes"]
            if mode == "reject":
                raise ApiError("InvalidParameter.Filter", "The specified Filter is invalid.")
            if mode == "strip":
                value = value[1:-1]
        fold = (lambda text: text.lower()) if self.settings["filter_case_insensitive"] else (lambda text: text)
        if operator == "eq":
            return [user for user in users if fold(user["UserName"]) == fold(value)]
        return [user for user in users if fold(user["UserName"]).startswith(fold(value))]

    def _api_GetUser(self, directory, params, now):
        return {"User": copy.deepcopy(self._user(directory, params))}

    def _api_UpdateUserStatus(self, directory, params, now):
        user = self._user(directory, params)
        user["Status"] = params["NewStatus"]
        user["UpdateTime"] = iso(now)
        return {}

    def _api_DeleteUser(self, directory, params, now):
        user = self._user(directory, params)
        user_id = user["UserId"]
        if user["ProvisionType"] == "Synchronized" and directory["scim"] == "Enabled":
            raise ApiError(self.settings["scim_delete_code"], "A user that is synchronized by SCIM cannot be deleted "
                                                              "while SCIM synchronization is enabled.")
        codes = self.settings["conflict_codes"]
        if self._assignments_of(directory, "User", user_id) or directory["blocked_until"].get(user_id, 0) > now:
            raise ApiError(ASSIGNMENT_CONFLICT, "The user still has access assignments.")
        if directory["mfa"].get(user_id):
            raise ApiError(codes["mfa"], "The user still has MFA devices.")
        if directory["memberships"].get(user_id):
            raise ApiError(codes["group"], "The user still belongs to groups.")
        if self.settings["provisioning_blocks_delete"] and self._provisionings_of(directory, "User", user_id):
            raise ApiError(codes["provisioning"], "The user still has RAM user provisionings.")
        del directory["users"][user_id]
        for state in ("mfa", "memberships", "stale", "blocked_until"):
            directory[state].pop(user_id, None)
        return {}

    def _api_ListMFADevicesForUser(self, directory, params, now):
        user = self._user(directory, params)
        devices = copy.deepcopy(directory["mfa"].get(user["UserId"]) or [])
        return {"MFADevices": devices, "TotalCounts": len(devices)}

    def _api_DeleteMFADeviceForUser(self, directory, params, now):
        user = self._user(directory, params)
        devices = directory["mfa"].get(user["UserId"]) or []
        remaining = [device for device in devices if device["DeviceId"] != params["MFADeviceId"]]
        if len(remaining) == len(devices):
            raise ApiError("EntityNotExists.MFADevice", "The specified MFA device does not exist.")
        device_type = next(device["DeviceType"] for device in devices if device["DeviceId"] == params["MFADeviceId"])
        if device_type in self.settings["mfa_type_required_for"]:
            if not params.get("MfaType"):
                raise ApiError("MissingParameter", "The input parameter \"MfaType\" that is mandatory for processing "
                                                   "this request is not supplied.")
            if params["MfaType"] != device_type:
                raise ApiError("InvalidParameter.MfaType", "The specified MfaType does not match the MFA device.")
        directory["mfa"][user["UserId"]] = remaining
        return {}

    def _api_ListJoinedGroupsForUser(self, directory, params, now):
        user = self._user(directory, params)
        memberships = list((directory["memberships"].get(user["UserId"]) or {}).items())
        memberships += [(group_id, iso(now)) for group_id in directory["stale"].get(user["UserId"]) or []]
        joined = [dict(directory["groups"][group_id], JoinTime=joined_at, UserId=user["UserId"])
                  for group_id, joined_at in memberships]
        return self._page("ListJoinedGroupsForUser", joined, "JoinedGroups", params)

    def _api_RemoveUserFromGroup(self, directory, params, now):
        user = self._user(directory, params)
        if params["GroupId"] not in directory["groups"]:
            raise ApiError("EntityNotExists.Group", "The specified group does not exist.")
        memberships = directory["memberships"].get(user["UserId"]) or {}
        if params["GroupId"] not in memberships:
            raise ApiError("EntityNotExists.GroupMember", "The user is not a member of the group.")
        del memberships[params["GroupId"]]
        return {}

    @staticmethod
    def _assignments_of(directory, principal_type, principal_id):
        return [one for one in directory["assignments"]
                if one["PrincipalType"] == principal_type and one["PrincipalId"] == principal_id]

    @staticmethod
    def _render_assignment(assignment):
        return dict((key, value) for key, value in assignment.items() if key != "fail_delete")

    def _api_ListAccessAssignments(self, directory, params, now):
        items = list(directory["assignments"])
        # Each filter pair applies only when both halves are given (API metadata).
        for first, second in (("PrincipalType", "PrincipalId"), ("TargetType", "TargetId")):
            if params.get(first) and params.get(second):
                items = [one for one in items if one[first] == params[first] and one[second] == params[second]]
        if params.get("AccessConfigurationId"):
            items = [one for one in items if one["AccessConfigurationId"] == params["AccessConfigurationId"]]
        return self._page("ListAccessAssignments", [self._render_assignment(one) for one in items],
                          "AccessAssignments", params)

    def _api_DeleteAccessAssignment(self, directory, params, now):
        strategy = params.get("DeprovisionStrategy") or "None"  # absent: the API's default
        keys = ("AccessConfigurationId", "TargetType", "TargetId", "PrincipalType", "PrincipalId")
        assignment = next((one for one in directory["assignments"]
                           if all(one[key] == params[key] for key in keys)), None)
        if assignment is None:
            raise ApiError("EntityNotExists.AccessAssignment", "The specified access assignment does not exist.")
        if any(task["assignment"] is assignment and task["Status"] == "InProgress" for task in self.tasks.values()):
            raise ApiError("OperationConflict.Task", "A task is already running for this access assignment.")
        task = dict(self._render_assignment(assignment), TaskId=new_entity_id("t"), TaskType="DeleteAccessAssignment",
                    Status="InProgress", StartTime=iso(now), DeprovisionStrategy=strategy)
        task.pop("CreateTime", None)
        task.update(directory_id=directory["DirectoryId"], assignment=assignment,
                    due=now + self.settings["task_delay"])
        self.tasks[task["TaskId"]] = task
        return {"Task": self._render_task(task, full=True)}

    @staticmethod
    def _render_task(task, full=False):
        fields = ("TaskId", "TaskType", "Status", "StartTime", "EndTime", "FailureReason")
        if full:
            fields += ("AccessConfigurationId", "AccessConfigurationName", "TargetType", "TargetId", "TargetName",
                       "TargetPath", "TargetPathName", "PrincipalType", "PrincipalId", "PrincipalName")
        return dict((key, task[key]) for key in fields if task.get(key) is not None)

    def _task(self, directory, params):
        task = self.tasks.get(params["TaskId"])
        if task is None or task["directory_id"] != directory["DirectoryId"]:
            raise ApiError("EntityNotExists.Task", "The specified task does not exist.")
        return task

    def _api_GetTaskStatus(self, directory, params, now):
        return {"TaskStatus": self._render_task(self._task(directory, params))}

    def _api_GetTask(self, directory, params, now):
        return {"Task": self._render_task(self._task(directory, params), full=True)}

    # --- RAM user provisioning ----------------------------------------------------------------
    @staticmethod
    def _provisionings_of(directory, principal_type, principal_id):
        return [one for one in directory["provisionings"].values()
                if one["PrincipalType"] == principal_type and one["PrincipalId"] == principal_id]

    def _api_ListUserProvisionings(self, directory, params, now):
        # The metadata does not say whether a half-given filter pair applies; as for ListAccessAssignments,
        # each pair applies only when both halves are given. The error codes for bad values are unconfirmed.
        items = list(directory["provisionings"].values())
        if params.get("PrincipalType") and params.get("PrincipalId"):
            if (self.settings["provisioning_list_checks_principal"] and params["PrincipalType"] == "User"
                    and params["PrincipalId"] not in directory["users"]):
                raise ApiError("EntityNotExists.User", "The specified user does not exist.")
            items = self._provisionings_of(directory, params["PrincipalType"], params["PrincipalId"])
        if params.get("TargetType") and params.get("TargetId"):
            items = [one for one in items if one["TargetId"] == params["TargetId"]]
        return self._page("ListUserProvisionings", copy.deepcopy(items), "UserProvisionings", params)

    def _api_DeleteUserProvisioning(self, directory, params, now):
        provisioning = directory["provisionings"].get(params["UserProvisioningId"])
        if provisioning is None:
            raise ApiError("EntityNotExists.UserProvisioning", "The specified user provisioning does not exist.")
        # Empty: the strategy the provisioning was created with (API metadata).
        strategy = params.get("DeletionStrategy") or provisioning["DeletionStrategy"]
        provisioning_id = provisioning["UserProvisioningId"]
        del directory["provisionings"][provisioning_id]
        if strategy == "Delete":
            # Deleted in the background after this answer ("UserProvisioningDeletionClearing", API metadata).
            job = {"kind": "clear", "due": now + self.settings["ram_user_clearing_delay"], "provisioning": provisioning}
            directory["background"].append(job)
        else:
            ram_users = directory["ram_users"][provisioning["TargetId"]]
            for name, owner in list(ram_users.items()):
                if owner == provisioning_id:
                    ram_users[name] = None  # kept, and no longer managed by CloudSSO
        # Whether the provisioning's failed events go with it is unconfirmed; they stay listed here.
        return {}

    def _api_ListUserProvisioningEvents(self, directory, params, now):
        # Alibaba lists only the events that failed (the API's summary).
        items = list(directory["events"].values())
        if params.get("UserProvisioningId"):
            items = [one for one in items if one["UserProvisioningId"] == params["UserProvisioningId"]]
        return self._page("ListUserProvisioningEvents", copy.deepcopy(items), "UserProvisioningEvents", params)

    def _api_ListAccessConfigurationProvisionings(self, directory, params, now):
        # As for ListAccessAssignments, the TargetType/TargetId pair applies only when both are given (API metadata).
        items = []
        for account_id, configs in directory["provisioned"].items():
            for config_id in sorted(configs):
                config = directory["access_configurations"][config_id]
                status = "DeprovisionFailed" if (account_id, config_id) in directory["deprovision_failed"] else "Provisioned"
                items.append({"AccessConfigurationId": config_id, "AccessConfigurationName": config["AccessConfigurationName"],
                              "TargetType": "RD-Account", "TargetId": account_id, "Status": status,
                              "RAMRoleName": "AliyunReservedSSO-%s" % config["AccessConfigurationName"],
                              "SAMLProviderName": "AliyunReservedSSO-%s" % directory["DirectoryId"]})
        if params.get("AccessConfigurationId"):
            items = [one for one in items if one["AccessConfigurationId"] == params["AccessConfigurationId"]]
        if params.get("TargetType") and params.get("TargetId"):
            items = [one for one in items if one["TargetId"] == params["TargetId"]]
        if params.get("ProvisioningStatus"):
            items = [one for one in items if one["Status"] == params["ProvisioningStatus"]]
        return self._page("ListAccessConfigurationProvisionings", items, "AccessConfigurationProvisionings", params)
