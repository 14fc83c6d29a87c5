# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""Alibaba Cloud CloudSSO (API 2021-05-15): the users of one CloudSSO directory.

RPC style: every call is `POST /` with `x-acs-action`, the parameters in the query string and an
empty body, signed with ACS3-HMAC-SHA256 (`_alibaba_signer`). Errors are keyed on the body's
`Code`, never on the HTTP status, because Alibaba's published statuses for the same code differ.
"""

from __future__ import annotations

import re
import threading
import time
from functools import partial
from urllib.parse import urlsplit

from ._alibaba_signer import AcsV3Signer, canonical_query
from ._http import (
    MAX_RETRY_AFTER,
    AuthenticationError,
    InputError,
    NotFoundError,
    ProviderError,
    body_excerpt,
    header_retry_after,
    response_json,
)
from ._lifecycle import Step, UserDirectory, env

PROVIDER = "Alibaba Cloud CloudSSO"
API_VERSION = "2021-05-15"
DEFAULT_REGION = "cn-shanghai"

USER_NAME = re.compile(r"[A-Za-z0-9@_.-]{1,64}")  # CreateUser: letters, digits and @_-. only
USER_ID = re.compile(r"u-[A-Za-z0-9]{1,62}")  # at most 64 characters; documented ids are about 22
DIRECTORY_ID = re.compile(r"d-[A-Za-z0-9]{1,64}")
REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

USERS_PAGE = 100  # ListUsers and ListJoinedGroupsForUser: MaxResults 1-100
ASSIGNMENTS_PAGE = 20  # ListAccessAssignments: MaxResults 1-20

# Actions that only read: every call is a POST, so the transport is told which ones change nothing.
READ_ACTIONS = ("Get", "List")

USER_NOT_FOUND = "EntityNotExists.User"
GONE_PREFIX = "EntityNotExists."
PREREQUISITE_CONFLICT = "DeletionConflict.User."
ASSIGNMENT_CONFLICT = "DeletionConflict.User.AccessAssigment"  # sic: Alibaba's spelling
TASK_CONFLICT = "OperationConflict.Task"
# A deleted assignment keeps blocking DeleteUser for a while after its task succeeded, and
# assignment tasks take seconds to minutes; Terraform waits up to 5 minutes for both.
TASK_WAIT_LIMIT = 300.0
CONFLICT_WAIT_LIMIT = 300.0

# Codes that mean the credentials or the signature were refused, with what to check.
AUTH_HINTS = (
    ("InvalidAccessKeyId", "check access_key_id: the AccessKey does not exist or is disabled"),
    ("SignatureDoesNotMatch", "check access_key_secret: it is not the secret of access_key_id"),
    ("IncompleteSignature", "check access_key_id and access_key_secret"),
    ("InvalidTimeStamp", "the clock of the host that runs the module must be within 15 minutes of UTC"),
    ("InvalidSecurityToken", "security_token is expired or does not belong to access_key_id"),
    ("MissingSecurityToken", "an STS AccessKey (STS.*) needs its security_token"),
)
PERMISSION_CODES = ("NoPermission", "Forbidden", "AccessDenied")


def retry_after_seconds(value):
    """`x-acs-retry-after` in seconds: its value is milliseconds, as the official Darabonba SDKs
    read it. None when absent, not a positive integer, or garbage."""
    try:
        milliseconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if milliseconds <= 0:
        return None
    return min(milliseconds / 1000.0, MAX_RETRY_AFTER)


def is_retryable(code, status):
    code = code or ""
    return (code.startswith("Throttling") or code in ("Rejected.Throttling", "ServiceUnavailable",
                                                      "SignatureNonceUsed")
            or status == 429 or status >= 500)


def auth_hint(code, message, action):
    """What to check when the credentials, the signature or the permissions were refused."""
    if not code:
        return None
    if code == "MissingParameter" and "securitytoken" in (message or "").lower():
        return "an STS AccessKey (STS.*) needs its security_token"
    for prefix, hint in AUTH_HINTS:
        if code.startswith(prefix):
            return hint
    if code.startswith(PERMISSION_CODES):
        return "the RAM identity of access_key_id needs the permission cloudsso:%s" % (action or "<Action>")
    return None


def parse_error(response):
    """The typed error of a CloudSSO answer, keyed on the body's `Code`; None for a success."""
    status = response.status_code
    body = response_json(response)
    body = body if isinstance(body, dict) else {}
    code = body.get("Code") or body.get("code")
    code = str(code) if code else None
    message = str(body.get("Message") or body.get("message") or body_excerpt(response))
    request_id = body.get("RequestId") or body.get("requestId") or response.headers.get("x-acs-request-id")
    action = response.request.headers.get("x-acs-action") if response.request is not None else None
    hint = auth_hint(code, message, action)
    if hint:
        message += " (%s)" % hint
    retry_after = retry_after_seconds(response.headers.get("x-acs-retry-after"))
    if retry_after is None:
        retry_after = header_retry_after(response)
    cls = ProviderError
    if code == USER_NOT_FOUND:
        cls = NotFoundError
    elif hint:
        cls = AuthenticationError
    # The SDK treats any x-acs-retry-after as throttling, whatever the code.
    retryable = is_retryable(code, status) or retry_after_seconds(response.headers.get("x-acs-retry-after")) is not None
    return cls(PROVIDER, message, status=status, code=code, request_id=request_id,
               retryable=retryable, retry_after=retry_after)


def base_url(endpoint, region):
    """`endpoint` (scheme, host and port only) or the regional public endpoint."""
    if endpoint:
        parts = urlsplit(endpoint.strip())
        if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
                or parts.query or parts.fragment or parts.username is not None):
            raise InputError("endpoint must be a URL such as https://cloudsso.cn-shanghai.aliyuncs.com "
                             "(scheme, host and optional port only), got %r" % endpoint)
        return "%s://%s" % (parts.scheme, parts.netloc)
    if not REGION.fullmatch(region or ""):
        raise InputError("region must be an Alibaba Cloud region id such as cn-shanghai, got %r" % region)
    return "https://cloudsso.%s.aliyuncs.com" % region


def validate_user_name(name):
    """CloudSSO user names are 1 to 64 letters, digits and @_-. (CreateUser); no other name can exist."""
    if not USER_NAME.fullmatch(str(name)):
        raise InputError("user_name %r can not be a CloudSSO user name (1 to 64 letters, digits and the "
                         "characters @ _ - .)" % (name,))


def poll(check, limit, clock=time.monotonic, sleep=time.sleep, first_wait=0.25, max_wait=5.0):
    """Call `check()` until it returns something other than None, waiting 0.25 s, 0.5 s, 1 s ...
    (at most `max_wait`) in between; None when `limit` seconds passed without an answer."""
    deadline = clock() + limit
    wait = first_wait
    while True:
        result = check()
        if result is not None:
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            return None
        sleep(min(wait, remaining))
        wait = min(max_wait, wait * 2)


def plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


class Prerequisites:
    """What keeps DeleteUser from succeeding: MFA devices, group memberships, direct assignments."""

    def __init__(self, mfa_devices, groups, assignments):
        self.mfa_devices = mfa_devices
        self.groups = groups
        self.assignments = assignments

    def __bool__(self):
        return bool(self.mfa_devices or self.groups or self.assignments)

    def summary(self):
        parts = []
        if self.mfa_devices:
            parts.append("%s (%s)" % (plural(len(self.mfa_devices), "MFA device"),
                                      ", ".join(device_label(one) for one in self.mfa_devices)))
        if self.groups:
            parts.append("%s (%s)" % (plural(len(self.groups), "group membership"),
                                      ", ".join(group_label(one) for one in self.groups)))
        if self.assignments:
            parts.append("%s (%s)" % (plural(len(self.assignments), "direct access assignment"),
                                      ", ".join(assignment_label(one) for one in self.assignments)))
        return ", ".join(parts)


def device_label(device):
    return str(device.get("DeviceId"))


def group_label(group):
    name = group.get("GroupName")
    return "%s (%s)" % (group.get("GroupId"), name) if name else str(group.get("GroupId"))


def assignment_label(assignment):
    name = assignment.get("AccessConfigurationName") or assignment.get("AccessConfigurationId")
    return "%s on %s %s" % (name, assignment.get("TargetType"), assignment.get("TargetId"))


def gone_is_done(call):
    """Run a removal; a sub-resource that is already gone (EntityNotExists.Group, ...) counts as
    removed. EntityNotExists.User is a NotFoundError and goes up: the user itself vanished."""
    try:
        return call()
    except NotFoundError:
        raise
    except ProviderError as exc:
        if (exc.code or "").startswith(GONE_PREFIX) and exc.code != "EntityNotExists.Directory":
            return None
        raise


class AlibabaCloudSsoDirectory(UserDirectory):
    provider = PROVIDER
    # Alibaba documents 100 DeleteUser calls per second per account (and as much across all
    # accounts); no other CloudSSO limit is published. It caps every call together, less 2 for timing
    # jitter and less the burst of `parallelism` (documented_rate); Throttling answers (other automation
    # on the account) slow the task down below it.
    documented_rate = 98.0
    secret_options = ("access_key_secret", "security_token")
    # DeleteUser answers EntityNotExists.User for a user the directory does not have.
    deletes_by_id = True

    @classmethod
    def connection_options(cls):
        return dict(
            directory_id=dict(type="str", required=True, fallback=env("ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID")),
            access_key_id=dict(type="str", required=True, no_log=False,
                               fallback=env("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY")),
            access_key_secret=dict(type="str", required=True, no_log=True,
                                   fallback=env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY")),
            security_token=dict(type="str", no_log=True,
                                fallback=env("ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN")),
            region=dict(type="str", default=DEFAULT_REGION, fallback=env("ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION")),
            endpoint=dict(type="str", fallback=env("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT")),
        )

    @classmethod
    def extra_user_options(cls):
        return dict(force=dict(type="bool", default=False))

    @classmethod
    def extra_info_options(cls):
        return dict(include_dependencies=dict(type="bool", default=False))

    def __init__(self, module):
        super().__init__(module)
        self.base_url = None
        self.directory_id = None
        self._prerequisites = {}
        self._scim_status = None
        self._scim_lock = threading.Lock()
        self._clock = time.monotonic
        self._sleep = time.sleep

    # --- set-up -------------------------------------------------------------------------------
    def validate(self):
        params = self.module.params
        self.directory_id = params["directory_id"]
        if not DIRECTORY_ID.fullmatch(self.directory_id or ""):
            raise InputError("directory_id must be a CloudSSO directory id such as d-00fc2p61xxxx, got %r"
                             % self.directory_id)
        if not ACCESS_KEY_ID.fullmatch(params["access_key_id"] or ""):
            raise InputError("access_key_id must be an AccessKey id (letters, digits, '.', '_' and '-')")
        if not (params["access_key_secret"] or "").strip():
            raise InputError("access_key_secret must not be empty")
        self.base_url = base_url(params["endpoint"], params["region"])
        for name in params.get("user_name") or []:
            validate_user_name(name)
        signer = AcsV3Signer(params["access_key_id"], params["access_key_secret"],
                             security_token=(params["security_token"] or "").strip() or None)
        self.make_transport(parse_error, auth=signer,
                            headers={"Accept": "application/json", "x-acs-version": API_VERSION})

    def validate_user_id(self, user_id):
        if not USER_ID.fullmatch(str(user_id)):
            raise InputError("user_id %s is not a CloudSSO user id (u- followed by letters and digits, at most 64 "
                             "characters)" % ascii(str(user_id)[:80]))

    # --- calls --------------------------------------------------------------------------------
    def call(self, action, **params):
        """One signed RPC call; returns the JSON body of the answer."""
        params["DirectoryId"] = self.directory_id
        query = canonical_query(params)
        response = self.transport.request(
            "POST", "%s/?%s" % (self.base_url, query), headers={"x-acs-action": action},
            display_url="%s/?Action=%s&%s" % (self.base_url, action, query),
            # A lost answer matters only for a call that changes something.
            changing=not action.startswith(READ_ACTIONS))
        body = response_json(response)
        if not isinstance(body, dict):
            raise ProviderError(PROVIDER, "%s answered HTTP %s with %s instead of JSON"
                                % (action, response.status_code, body_excerpt(response)),
                                status=response.status_code, method="POST", url=self.base_url)
        return body

    def pages(self, action, key, page_size, **params):
        """Every item of a paged list (MaxResults/NextToken), following IsTruncated to the end."""
        token = None
        while True:
            page = self.call(action, MaxResults=page_size, NextToken=token, **params)
            yield from page.get(key) or []
            next_token = page.get("NextToken")
            if not page.get("IsTruncated") or not next_token or next_token == token:
                return
            token = next_token

    def preflight(self):
        try:
            self.call("GetDirectory")
        except ProviderError as exc:
            if exc.code != "EntityNotExists.Directory":
                raise
            raise ProviderError(
                PROVIDER, "directory %r does not exist at %s; check directory_id, and region or endpoint "
                "(a directory lives in one region)" % (self.directory_id, self.base_url),
                status=exc.status, code=exc.code, request_id=exc.request_id, method="POST", url=self.base_url)

    # --- reads --------------------------------------------------------------------------------
    def get_user(self, user_id):
        return self.call("GetUser", UserId=user_id)["User"]

    def find_users(self, user_name):
        # The documented filter is unquoted (`UserName eq testuser`); names are validated to
        # letters, digits and @_-. so nothing in them needs quoting or escaping.
        matches = list(self.pages("ListUsers", "Users", USERS_PAGE, Filter="UserName eq %s" % user_name))
        exact = [user for user in matches if user.get("UserName") == user_name]
        if exact:
            return exact
        # Whether the server compares case-insensitively is unconfirmed. Reporting a leaver whose
        # name differs only in case as "already absent" would leave the account behind.
        near = [user for user in matches if str(user.get("UserName", "")).lower() == user_name.lower()]
        if near:
            raise ProviderError(PROVIDER, "user_name %r matches no user exactly, but %s differs only in letter "
                                "case; give the exact user name or user_id"
                                % (user_name, ", ".join(repr(user.get("UserName")) for user in near)))
        return []

    def list_users(self):
        return self.pages("ListUsers", "Users", USERS_PAGE)

    def lookup_ids(self, user_ids):
        found = super().lookup_ids(user_ids)
        self._prefetch_prerequisites(found.values())
        return found

    def lookup_names(self, user_names):
        found = super().lookup_names(user_names)
        self._prefetch_prerequisites(user for users in found.values() if isinstance(users, list) for user in users)
        return found

    def _prefetch_prerequisites(self, users):
        """Read what blocks DeleteUser for every user at once (concurrently), when the plan needs it."""
        params = self.module.params
        if params.get("state") != "absent" or not (params.get("force") or self.check_mode):
            return
        users = [user for user in users if isinstance(user, dict) and user.get("ProvisionType") != "Synchronized"]
        for outcome in self.run(users, self.prerequisites):
            if outcome.error is None:
                self._prerequisites[outcome.item["UserId"]] = outcome.value

    def prerequisites(self, user):
        user_id = user["UserId"]
        if user_id in self._prerequisites:
            return self._prerequisites[user_id]
        return Prerequisites(
            mfa_devices=list(self.call("ListMFADevicesForUser", UserId=user_id).get("MFADevices") or []),
            groups=list(self.pages("ListJoinedGroupsForUser", "JoinedGroups", USERS_PAGE, UserId=user_id)),
            assignments=list(self.pages("ListAccessAssignments", "AccessAssignments", ASSIGNMENTS_PAGE,
                                        PrincipalType="User", PrincipalId=user_id)))

    def decorate_info(self, users):
        """With include_dependencies: each user's MFA devices, groups and direct access assignments."""
        if not self.module.params.get("include_dependencies"):
            return users
        result = []
        for outcome in self.run(users, self.prerequisites):
            if isinstance(outcome.error, NotFoundError):
                continue  # deleted while we read it
            if outcome.error is not None:
                raise outcome.error
            result.append(dict(outcome.item, MFADevices=outcome.value.mfa_devices,
                               JoinedGroups=outcome.value.groups, AccessAssignments=outcome.value.assignments))
        return result

    # --- attributes ---------------------------------------------------------------------------
    def reads_before_delete(self):
        # force lists what blocks each user's delete, which needs the user first.
        return super().reads_before_delete() or bool(self.module.params.get("force"))

    def user_stub(self, user_id):
        return {"UserId": user_id}

    def user_id_of(self, user):
        return user.get("UserId")

    def user_name_of(self, user):
        return user.get("UserName")

    def is_enabled(self, user):
        return user.get("Status") != "Disabled"

    def describe(self, user):
        return {
            "user_id": user.get("UserId"),
            "user_name": user.get("UserName"),
            "display_name": user.get("DisplayName"),
            "email": user.get("Email"),
            "provision_type": user.get("ProvisionType"),
            "state": "enabled" if self.is_enabled(user) else "disabled",
        }

    # --- changes ------------------------------------------------------------------------------
    def plan_delete(self, entry):
        user = entry.user
        self._refuse_scim_managed(user)
        force = self.module.params["force"]
        if not force and not self.check_mode:
            # DeleteUser itself says whether something blocks it; no reads needed up front.
            return [Step("deleted", partial(self.delete_user, user))]
        blockers = self.prerequisites(user)
        if not force:
            if blockers:
                raise ProviderError(PROVIDER, "DeleteUser would fail: the user still has %s, and CloudSSO refuses "
                                    "to delete such a user (DeletionConflict.User.*). Set force: true to remove "
                                    "them first" % blockers.summary())
            return [Step("deleted", partial(self.delete_user, user))]
        steps = [Step("removed MFA device %s" % device_label(device), partial(self.remove_mfa_device, user, device))
                 for device in blockers.mfa_devices]
        steps += [Step("removed from group %s" % group_label(group), partial(self.remove_from_group, user, group))
                  for group in blockers.groups]
        steps += [Step("removed access assignment %s" % assignment_label(assignment),
                       partial(self.remove_assignment, user, assignment))
                  for assignment in blockers.assignments]
        steps.append(Step("deleted", partial(self.delete_user, user)))
        return steps

    def _refuse_scim_managed(self, user):
        """CloudSSO does not delete SCIM-synchronized users while SCIM synchronization is on."""
        if user.get("ProvisionType") != "Synchronized":
            return
        with self._scim_lock:
            if self._scim_status is None:
                self._scim_status = self.call("GetSCIMSynchronizationStatus").get("SCIMSynchronizationStatus")
        if self._scim_status != "Disabled":
            raise ProviderError(PROVIDER, "user %s is synchronized from an external identity provider by SCIM "
                                "(ProvisionType Synchronized) and SCIM synchronization is enabled, so CloudSSO "
                                "does not delete it; remove or deprovision it in the identity provider. Nothing "
                                "was removed" % user.get("UserName"))

    def delete_user(self, user):
        force = self.module.params.get("force")
        conflict = []

        def attempt():
            try:
                return self.call("DeleteUser", UserId=user["UserId"]).get("RequestId") or ""
            except ProviderError as exc:
                # A removed assignment keeps blocking DeleteUser for a while after its task.
                if not (force and exc.code == ASSIGNMENT_CONFLICT):
                    raise
                conflict[:] = [exc]
                return None

        try:
            request_id = poll(attempt, CONFLICT_WAIT_LIMIT, clock=self._clock, sleep=self._sleep)
        except ProviderError as exc:
            raise self._conflict_error(user, exc) if (exc.code or "").startswith(PREREQUISITE_CONFLICT) else exc
        if request_id is None:
            raise self._conflict_error(user, conflict[0], waited=CONFLICT_WAIT_LIMIT)
        return request_id or None

    def _conflict_error(self, user, exc, waited=None):
        """DeleteUser's conflict, explained: what still blocks it, and what to do."""
        self._prerequisites.pop(user["UserId"], None)
        try:
            remaining = self.prerequisites(user).summary() or "nothing that can be listed (yet)"
        except ProviderError:
            remaining = "prerequisites that could not be listed"
        if waited is not None:
            advice = "still refused after %d seconds of retries; try again later" % waited
        elif self.module.params.get("force"):
            advice = "something was added while the user was being removed; run the task again"
        else:
            advice = "set force: true to remove MFA devices, group memberships and access assignments first"
        return ProviderError(PROVIDER, "%s Remaining: %s; %s" % (exc.message, remaining, advice),
                             status=exc.status, code=exc.code, request_id=exc.request_id,
                             method=exc.method, url=exc.url)

    def remove_mfa_device(self, user, device):
        # MfaType is undocumented (SDK 1.7.0 sends it when given) and may be needed for passkeys
        # (CrossPlatformPasskey, PlatformPasskey): the type the listing gave is sent back.
        return gone_is_done(lambda: self.call("DeleteMFADeviceForUser", UserId=user["UserId"],
                                              MFADeviceId=device["DeviceId"],
                                              MfaType=device.get("DeviceType") or None).get("RequestId"))

    def remove_from_group(self, user, group):
        return gone_is_done(lambda: self.call("RemoveUserFromGroup", UserId=user["UserId"],
                                              GroupId=group["GroupId"]).get("RequestId"))

    def remove_assignment(self, user, assignment):
        """DeleteAccessAssignment, then wait for its task; returns the RequestId of the delete."""
        params = dict(AccessConfigurationId=assignment.get("AccessConfigurationId"),
                      TargetType=assignment.get("TargetType"), TargetId=assignment.get("TargetId"),
                      PrincipalType="User", PrincipalId=user["UserId"],
                      # Keep the access configuration deployed on the account: other people may get
                      # it later, and removing it is an account change beyond this user.
                      DeprovisionStrategy="None", OriginTargetId=assignment.get("OriginTargetId"))

        def attempt():
            try:
                return self.call("DeleteAccessAssignment", **params)
            except ProviderError as exc:
                if exc.code == TASK_CONFLICT:  # another task runs on the same target: wait for it
                    return None
                raise

        def delete():
            body = poll(attempt, TASK_WAIT_LIMIT, clock=self._clock, sleep=self._sleep)
            if body is None:
                raise ProviderError(PROVIDER, "DeleteAccessAssignment for %s answered %s for %d seconds; run the "
                                    "task again later" % (assignment_label(assignment), TASK_CONFLICT, TASK_WAIT_LIMIT),
                                    code=TASK_CONFLICT)
            return body

        body = gone_is_done(delete)
        if body is None:
            return None  # the assignment was already gone
        self.wait_for_task(body.get("Task") or {}, assignment, body.get("RequestId"))
        return body.get("RequestId")

    def wait_for_task(self, task, assignment, request_id):
        """Poll GetTaskStatus until the task ends; errors carry the RequestId of the accepted delete."""
        task_id = task.get("TaskId")
        final = task
        if task_id and task.get("Status") == "InProgress":
            def check():
                status = self.call("GetTaskStatus", TaskId=task_id).get("TaskStatus") or {}
                return status if status.get("Status") != "InProgress" else None

            final = poll(check, TASK_WAIT_LIMIT, clock=self._clock, sleep=self._sleep)
            if final is None:
                raise ProviderError(PROVIDER, "task %s removing access assignment %s was still InProgress after %d "
                                    "seconds; run the task again later" % (task_id, assignment_label(assignment),
                                                                           TASK_WAIT_LIMIT), request_id=request_id)
        if final.get("Status") == "Failed":
            raise ProviderError(PROVIDER, "task %s removing access assignment %s failed: %s"
                                % (task_id, assignment_label(assignment), final.get("FailureReason") or "no reason given"),
                                request_id=request_id)

    def set_enabled(self, user, enabled):
        return self.call("UpdateUserStatus", UserId=user["UserId"],
                         NewStatus="Enabled" if enabled else "Disabled").get("RequestId")
