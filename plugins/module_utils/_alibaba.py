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
from ._lifecycle import ALREADY_ABSENT, ALREADY_GONE, Step, UserDirectory, env, follow_up_item, leftover_item

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
PROVISIONINGS_PAGE = 100  # ListUserProvisionings and ListUserProvisioningEvents: MaxResults 1-100
CONFIGURATION_PROVISIONINGS_PAGE = 20  # ListAccessConfigurationProvisionings: MaxResults 1-20

# provisioned_ram_users -> DeleteUserProvisioning's DeletionStrategy. Always sent: an empty strategy would
# mean whatever the provisioning was created with.
DELETION_STRATEGIES = {"delete": "Delete", "keep": "Keep"}
# deprovision_access -> DeleteAccessAssignment's DeprovisionStrategy (Alibaba's default is None).
DEPROVISION_STRATEGIES = {True: "DeprovisionForLastAccessAssignmentOnAccount", False: "None"}
PROVISIONING = "RAM user provisioning"
ACCESS_CONFIGURATION = "access configuration"
# DeleteUserProvisioning answers at once; CloudSSO deletes the RAM users afterwards, in the background (a failure
# is a provisioning event of source UserProvisioningDeletionClearing), which no CloudSSO read shows finished.
DELETED_PENDING = "deleted; CloudSSO deletes its RAM users in the background (not confirmed by this run)"
DELETED_KEPT = "deleted, its RAM users kept"
DEPROVISIONED = "de-provisioned from the account"

# Actions that only read: every call is a POST, so the transport is told which ones change nothing.
READ_ACTIONS = ("Get", "List")

USER_NOT_FOUND = "EntityNotExists.User"
GONE_PREFIX = "EntityNotExists."
PREREQUISITE_CONFLICT = "DeletionConflict.User."
ASSIGNMENT_CONFLICT = "DeletionConflict.User.AccessAssigment"  # sic: Alibaba's spelling
PROVISIONING_GONE = "EntityNotExists.UserProvisioning"
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


def is_provisioning_conflict(code):
    """A DeleteUser refusal for RAM user provisionings. Whether DeleteUser refuses such a user at all, and
    with which code, is unconfirmed: any DeletionConflict.User.* code that names provisioning is taken."""
    code = code or ""
    return code.startswith(PREREQUISITE_CONFLICT) and "provision" in code.lower()


class Prerequisites:
    """What keeps DeleteUser from succeeding: MFA devices, group memberships, direct assignments (the
    documented ones, which make it true), and, when they were read, RAM user provisionings (None when not)."""

    def __init__(self, mfa_devices, groups, assignments, provisionings=None):
        self.mfa_devices = mfa_devices
        self.groups = groups
        self.assignments = assignments
        self.provisionings = provisionings

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
        if self.provisionings:
            parts.append("%s (%s)" % (plural(len(self.provisionings), PROVISIONING),
                                      ", ".join(provisioning_label(one) for one in self.provisionings)))
        return ", ".join(parts)


class Sweep:
    """A user's RAM user provisionings and, per provisioning id, its failed provisioning events."""

    def __init__(self, provisionings, events):
        self.provisionings = provisionings
        self.events = events


def device_label(device):
    return str(device.get("DeviceId"))


def group_label(group):
    name = group.get("GroupName")
    return "%s (%s)" % (group.get("GroupId"), name) if name else str(group.get("GroupId"))


def assignment_label(assignment):
    name = assignment.get("AccessConfigurationName") or assignment.get("AccessConfigurationId")
    return "%s on %s %s" % (name, assignment.get("TargetType"), assignment.get("TargetId"))


def provisioning_label(provisioning):
    return "%s in account %s" % (provisioning.get("UserProvisioningId"), provisioning.get("TargetId"))


def configuration_name(assignment):
    return assignment.get("AccessConfigurationName") or assignment.get("AccessConfigurationId")


def assignment_action(assignment, deprovision):
    """The action text of an assignment's removal: what DeprovisionStrategy asks of its access configuration is part
    of what an approval covers."""
    if deprovision:
        return ("removed access assignment %s, de-provisioning %s from the account if no other assignment of it is "
                "left there" % (assignment_label(assignment), configuration_name(assignment)))
    return "removed access assignment %s, leaving %s provisioned on the account" % (
        assignment_label(assignment), configuration_name(assignment))


def deprovisioned_item(assignment):
    return leftover_item(ACCESS_CONFIGURATION, DEPROVISIONED, id=assignment.get("AccessConfigurationId"),
                         name=assignment.get("AccessConfigurationName"), where="account %s" % assignment.get("TargetId"))


def same_target(one, assignment):
    return (one.get("AccessConfigurationId") == assignment.get("AccessConfigurationId")
            and one.get("TargetId") == assignment.get("TargetId"))


def own_provisionings(listed, user_id):
    """The provisionings of a listing by principal that are this user's own (PrincipalType User, this
    PrincipalId); others (a filter the server did not apply) are left alone. One that does not say whose it
    is, or has no id, makes the listing ambiguous: nothing may be removed on its strength."""
    own = []
    for provisioning in listed:
        if not (provisioning.get("UserProvisioningId") and provisioning.get("PrincipalType")
                and provisioning.get("PrincipalId")):
            raise ProviderError(PROVIDER, "ListUserProvisionings for user %s returned a RAM user provisioning without "
                                "UserProvisioningId, PrincipalType or PrincipalId (%s), so whose RAM users it holds "
                                "cannot be told; nothing was removed. Check the user's RAM user provisionings in the "
                                "CloudSSO console" % (user_id, provisioning_label(provisioning)))
        if provisioning["PrincipalType"] == "User" and provisioning["PrincipalId"] == user_id:
            own.append(provisioning)
    return own


def own_events(listed, provisioning_id):
    """The failed events of a listing by provisioning: those of this provisioning, and any that does not say
    which it belongs to (reporting one too many is safe, missing one is not)."""
    return [event for event in listed if event.get("UserProvisioningId") in (None, "", provisioning_id)]


def pending_follow_up(provisioning):
    """What a person confirms after a provisioning was deleted with DeletionStrategy Delete."""
    where = "account %s" % provisioning.get("TargetId")
    return follow_up_item(
        "RAM user", "RAM users of RAM user provisioning %s in %s: CloudSSO deletes them in the background after the "
        "provisioning's deletion, which no CloudSSO read shows finished; a failure is a failed provisioning event "
        "(UserProvisioningDeletionClearing) in the CloudSSO console: check that they are gone from the account"
        % (provisioning.get("UserProvisioningId"), where), where=where)


def kept_follow_up(provisioning):
    """What stays for a person after a provisioning was deleted with DeletionStrategy Keep."""
    where = "account %s" % provisioning.get("TargetId")
    owner = provisioning.get("PrincipalName") or provisioning.get("PrincipalId")
    return follow_up_item(
        "RAM user", "RAM users kept in %s (RAM user provisioning %s of %s): their access keys and policies, granted "
        "outside CloudSSO, remain; delete them in RAM" % (where, provisioning.get("UserProvisioningId"), owner),
        where=where)


def event_follow_up(event, provisioning):
    """A failed provisioning event: what failed, where, and what to do (never retried or deleted here)."""
    where = "account %s" % (event.get("TargetId") or provisioning.get("TargetId"))
    error = event.get("ErrorInfo") or "no error given"
    count = event.get("ErrorCount")
    return follow_up_item(
        "failed RAM user provisioning event",
        "event %s (%s) of RAM user provisioning %s in %s failed%s: %s; the RAM user it concerns may not be as "
        "CloudSSO intends: retry the event (RetryUserProvisioningEvent) or delete it (DeleteUserProvisioningEvent) "
        "in the CloudSSO console or API" % (
            event.get("EventId"), event.get("SourceType") or "unknown source", provisioning.get("UserProvisioningId"),
            where, " %s" % plural(count, "time") if isinstance(count, int) and count > 0 else "", error),
        where=where)


def explained(exc, message):
    """`exc` with `message` in front of the provider's own, keeping its code, status and request id. Always a
    plain ProviderError: it says what is left, never that the user itself is absent."""
    error = ProviderError(PROVIDER, "%s. CloudSSO answered: %s" % (message, exc.message), status=exc.status,
                          code=exc.code, request_id=exc.request_id, retryable=exc.retryable, method=exc.method,
                          url=exc.url)
    error.lost_answer = exc.lost_answer
    return error


def unless_gone(call):
    """Run a removal of something of the user's. When it is gone already (EntityNotExists.MFADevice, .GroupMember,
    .AccessAssignment ..., or .User: the user vanished, and everything of it with it), it was removed by this run
    only if this run's own earlier attempt, whose answer was lost, did it: then that attempt's request id; else
    ALREADY_GONE (someone else removed it), which is never counted as this run's change."""
    try:
        return call()
    except ProviderError as exc:
        if not (exc.code or "").startswith(GONE_PREFIX) or exc.code == "EntityNotExists.Directory":
            raise
        return exc.lost_answer.get("request_id") if exc.lost_answer else ALREADY_GONE


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
        return dict(force=dict(type="bool", default=False),
                    provisioned_ram_users=dict(type="str", default="delete", choices=sorted(DELETION_STRATEGIES)),
                    deprovision_access=dict(type="bool", default=True))

    @classmethod
    def extra_info_options(cls):
        return dict(include_dependencies=dict(type="bool", default=False))

    def __init__(self, module):
        super().__init__(module)
        self.base_url = None
        self.directory_id = None
        self._prerequisites = {}
        self._sweeps = {}
        self._all_provisionings = None
        self._listing_lock = threading.Lock()
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
        # Ids found absent: with force, what they left behind is swept (plan_absent).
        self._prefetch(found.values(), absent_ids=[user_id for user_id, user in found.items() if user is None])
        return found

    def lookup_names(self, user_names):
        found = super().lookup_names(user_names)
        self._prefetch(user for users in found.values() if isinstance(users, list) for user in users)
        return found

    def sweeping(self):
        """Whether this task removes the users' RAM user provisionings (force with state absent)."""
        params = self.module.params
        return params.get("state") == "absent" and bool(params.get("force"))

    def _prefetch(self, users, absent_ids=()):
        """Read what blocks DeleteUser, and with force the RAM user provisionings, for every user at once
        (concurrently), when the plan needs it. A read that fails here is read again by the plan, which
        fails that user."""
        params = self.module.params
        if params.get("state") != "absent" or not (params.get("force") or self.check_mode):
            return
        sweeping = self.sweeping()
        users = [user for user in users if isinstance(user, dict) and user.get("ProvisionType") != "Synchronized"]

        def read(item):
            if isinstance(item, dict):
                self._prerequisites[item["UserId"]] = self.prerequisites(item)
                item = item["UserId"]
            if sweeping:
                self._sweeps[item] = self.sweep(item)

        self.run(users + (list(absent_ids) if sweeping else []), read)

    def prerequisites(self, user):
        user_id = user["UserId"]
        if user_id in self._prerequisites:
            return self._prerequisites[user_id]
        return Prerequisites(
            mfa_devices=list(self.call("ListMFADevicesForUser", UserId=user_id).get("MFADevices") or []),
            groups=list(self.pages("ListJoinedGroupsForUser", "JoinedGroups", USERS_PAGE, UserId=user_id)),
            assignments=list(self.pages("ListAccessAssignments", "AccessAssignments", ASSIGNMENTS_PAGE,
                                        PrincipalType="User", PrincipalId=user_id)))

    def user_provisionings(self, user_id):
        """The user's own RAM user provisionings: ListUserProvisionings by principal, paged."""
        try:
            listed = self.pages("ListUserProvisionings", "UserProvisionings", PROVISIONINGS_PAGE,
                                PrincipalType="User", PrincipalId=user_id)
            return own_provisionings(list(listed), user_id)
        except NotFoundError:
            # Whether CloudSSO lists by a user who no longer exists is unconfirmed. Should it refuse
            # (EntityNotExists.User), the directory's provisionings are listed once and the user's picked out.
            with self._listing_lock:
                if self._all_provisionings is None:
                    self._all_provisionings = list(self.pages("ListUserProvisionings", "UserProvisionings",
                                                              PROVISIONINGS_PAGE))
            return own_provisionings(self._all_provisionings, user_id)

    def sweep(self, user_id):
        """The user's RAM user provisionings and their failed events; any read that fails fails the user,
        before anything was removed."""
        if user_id in self._sweeps:
            return self._sweeps[user_id]
        try:
            provisionings = self.user_provisionings(user_id)
        except ProviderError as exc:
            raise explained(exc, "the RAM user provisionings of user %s could not be listed (ListUserProvisionings), "
                                 "so nothing was removed and the user and any RAM users CloudSSO provisioned for it "
                                 "remain; run the task again" % user_id)
        events = {}
        for provisioning in provisionings:
            provisioning_id = provisioning["UserProvisioningId"]
            try:
                listed = self.pages("ListUserProvisioningEvents", "UserProvisioningEvents", PROVISIONINGS_PAGE,
                                    UserProvisioningId=provisioning_id)
                events[provisioning_id] = own_events(list(listed), provisioning_id)
            except ProviderError as exc:
                raise explained(exc, "the failed events of RAM user provisioning %s could not be listed "
                                     "(ListUserProvisioningEvents), so nothing was removed; run the task again"
                                % provisioning_label(provisioning))
        return Sweep(provisionings, events)

    def dependencies(self, user):
        """What include_dependencies adds to a user: what blocks its delete, and its RAM user provisionings."""
        return self.prerequisites(user), self.user_provisionings(user["UserId"])

    def decorate_info(self, users):
        """With include_dependencies: each user's MFA devices, groups, direct access assignments and RAM user
        provisionings."""
        if not self.module.params.get("include_dependencies"):
            return users
        result = []
        for outcome in self.run(users, self.dependencies):
            if isinstance(outcome.error, NotFoundError):
                continue  # deleted while we read it
            if outcome.error is not None:
                raise outcome.error
            blockers, provisionings = outcome.value
            result.append(dict(outcome.item, MFADevices=blockers.mfa_devices, JoinedGroups=blockers.groups,
                               AccessAssignments=blockers.assignments, UserProvisionings=provisionings))
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
        steps += [self.assignment_step(entry, assignment) for assignment in blockers.assignments]
        steps += self.provisioning_steps(entry, self.sweep(user["UserId"]))
        steps.append(Step("deleted", partial(self.delete_user, user)))
        return steps

    def assignment_step(self, entry, assignment):
        """The removal of a direct assignment. With deprovision_access, its leftover item (the access configuration
        de-provisioned from the account) is what the reads after the assignment's task prove; in check mode, what
        the reads foresee: no other assignment of that configuration on that account."""
        deprovision = bool(self.module.params.get("deprovision_access", True))
        step = Step(assignment_action(assignment, deprovision), None)
        step.call = partial(self.remove_assignment, entry, assignment, step)
        if deprovision and self.check_mode and not self.other_assignments(assignment, entry.user["UserId"]):
            step.leftover = deprovisioned_item(assignment)
        return step

    def plan_absent(self, entry):
        """With force, a user given by id who is already absent may have left RAM user provisionings behind
        (an earlier delete without them): they are removed. Without force, nothing is read."""
        if not self.sweeping() or entry.by != "id":
            return []
        steps = self.provisioning_steps(entry, self.sweep(entry.key))
        if steps and self.check_mode:
            entry.msg = "%s; %d %s(s) would be removed" % (ALREADY_ABSENT, len(steps), PROVISIONING)
        return steps

    def apply(self, entries):
        super().apply(entries)
        for entry in entries:
            if entry.found is False and not entry.failed:
                # An absent id's sweep says what this run removed; one already gone is not counted.
                removed = sum(1 for item in entry.leftover if item.get("kind") == PROVISIONING)
                entry.msg = ("%s; %d %s(s) removed" % (ALREADY_ABSENT, removed, PROVISIONING) if removed
                             else ALREADY_ABSENT)

    def provisioning_steps(self, entry, sweep):
        """One step per RAM user provisioning; its failed events, and in check mode the RAM users `keep`
        would leave, go to the user's follow-up list."""
        strategy = DELETION_STRATEGIES[self.module.params.get("provisioned_ram_users") or "delete"]
        steps = []
        for provisioning in sweep.provisionings:
            for event in sweep.events.get(provisioning["UserProvisioningId"]) or []:
                entry.follow_up.append(event_follow_up(event, provisioning))
            if self.check_mode:
                entry.follow_up.append(kept_follow_up(provisioning) if strategy == "Keep"
                                       else pending_follow_up(provisioning))
            label = provisioning_label(provisioning)
            description, done = (("removed %s %s, deleting its RAM users" % (PROVISIONING, label), DELETED_PENDING)
                                 if strategy == "Delete" else
                                 ("removed %s %s, keeping its RAM users" % (PROVISIONING, label), DELETED_KEPT))
            steps.append(Step(description, partial(self.remove_provisioning, entry, provisioning, strategy),
                              leftover=leftover_item(PROVISIONING, done, id=provisioning["UserProvisioningId"],
                                                     where="account %s" % provisioning.get("TargetId"))))
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
                # A removed assignment keeps blocking DeleteUser for a while after its task; a removed
                # provisioning's RAM users are cleared in the background, which may block it too.
                if not (force and (exc.code == ASSIGNMENT_CONFLICT or is_provisioning_conflict(exc.code))):
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
        force = self.module.params.get("force")
        try:
            remaining = self.prerequisites(user)
            if force or is_provisioning_conflict(exc.code):
                remaining.provisionings = self.user_provisionings(user["UserId"])
            remaining = remaining.summary() or "nothing that can be listed (yet)"
        except ProviderError:
            remaining = "prerequisites that could not be listed"
        if waited is not None:
            advice = "still refused after %d seconds of retries; try again later" % waited
        elif force:
            advice = "something was added while the user was being removed; run the task again"
        else:
            advice = ("set force: true to remove MFA devices, group memberships, access assignments and RAM user "
                      "provisionings first")
        return ProviderError(PROVIDER, "%s Remaining: %s; %s" % (exc.message, remaining, advice),
                             status=exc.status, code=exc.code, request_id=exc.request_id,
                             method=exc.method, url=exc.url)

    def remove_mfa_device(self, user, device):
        # MfaType is undocumented (SDK 1.7.0 sends it when given) and may be needed for passkeys
        # (CrossPlatformPasskey, PlatformPasskey): the type the listing gave is sent back.
        return unless_gone(lambda: self.call("DeleteMFADeviceForUser", UserId=user["UserId"],
                                             MFADeviceId=device["DeviceId"],
                                             MfaType=device.get("DeviceType") or None).get("RequestId"))

    def remove_from_group(self, user, group):
        return unless_gone(lambda: self.call("RemoveUserFromGroup", UserId=user["UserId"],
                                             GroupId=group["GroupId"]).get("RequestId"))

    def remove_assignment(self, entry, assignment, step):
        """DeleteAccessAssignment, then wait for its task; returns the RequestId of the delete (ALREADY_GONE when
        someone else removed the assignment). With deprovision_access, `step.leftover` becomes what the reads
        after the task prove of its access configuration."""
        deprovision = bool(self.module.params.get("deprovision_access", True))
        step.leftover = None
        params = dict(AccessConfigurationId=assignment.get("AccessConfigurationId"),
                      TargetType=assignment.get("TargetType"), TargetId=assignment.get("TargetId"),
                      PrincipalType="User", PrincipalId=entry.user["UserId"],
                      # With deprovision_access, CloudSSO removes the access configuration (its
                      # AliyunReservedSSO-* role and policies) from the account when no assignment of it is
                      # left there; with None, it stays deployed.
                      DeprovisionStrategy=DEPROVISION_STRATEGIES[deprovision],
                      OriginTargetId=assignment.get("OriginTargetId"))

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

        body = unless_gone(delete)
        if body is ALREADY_GONE:
            return ALREADY_GONE
        if isinstance(body, dict):
            self.wait_for_task(body.get("Task") or {}, assignment, body.get("RequestId"))
            request_id = body.get("RequestId")
        else:
            request_id = body  # our earlier attempt, whose answer was lost, removed it (its task is not known)
        if deprovision:
            step.leftover = self.deprovision_outcome(entry, assignment)
        return request_id

    def other_assignments(self, assignment, user_id=None):
        """The assignments of the same access configuration on the same account, but the user's own."""
        listed = self.pages("ListAccessAssignments", "AccessAssignments", ASSIGNMENTS_PAGE,
                            AccessConfigurationId=assignment.get("AccessConfigurationId"),
                            TargetType=assignment.get("TargetType"), TargetId=assignment.get("TargetId"))
        return [one for one in listed if same_target(one, assignment)
                and not (one.get("PrincipalType") == "User" and one.get("PrincipalId") == user_id)]

    def deprovision_outcome(self, entry, assignment):
        """After the task of an assignment removed with DeprovisionForLastAccessAssignmentOnAccount: the leftover
        item when the reads show its access configuration gone from the account; None when another assignment
        keeps it there; a follow-up when the de-provisioning failed, did not end in time or could not be read.
        Whether CloudSSO de-provisions within the task or after it is not documented, so it is waited for."""
        where = "account %s" % assignment.get("TargetId")
        name = configuration_name(assignment)

        def check():
            listed = self.pages("ListAccessConfigurationProvisionings", "AccessConfigurationProvisionings",
                                CONFIGURATION_PROVISIONINGS_PAGE,
                                AccessConfigurationId=assignment.get("AccessConfigurationId"),
                                TargetType=assignment.get("TargetType"), TargetId=assignment.get("TargetId"))
            current = next((one for one in listed if same_target(one, assignment)), None)
            if current is None:
                return "gone"
            if current.get("Status") == "DeprovisionFailed":
                return "failed"
            return "kept" if self.other_assignments(assignment) else None

        try:
            outcome = poll(check, TASK_WAIT_LIMIT, clock=self._clock, sleep=self._sleep)
        except ProviderError as exc:
            outcome, why = None, "could not be read (%s)" % exc.message
        else:
            why = "was still provisioned %d seconds after its last assignment there was removed" % TASK_WAIT_LIMIT
        if outcome == "gone":
            return deprovisioned_item(assignment)
        if outcome == "failed":
            why = "failed to be de-provisioned (status DeprovisionFailed)"
        if outcome != "kept":
            entry.follow_up.append(follow_up_item(
                ACCESS_CONFIGURATION, "access configuration %s on %s %s: its AliyunReservedSSO-* role and policies may "
                "stay on the account; check it in the CloudSSO console (access configurations, provisioning) and "
                "de-provision it there (DeprovisionAccessConfiguration) if no assignment needs it" % (name, where, why),
                where=where))
        return None

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

    def remove_provisioning(self, entry, provisioning, strategy):
        """DeleteUserProvisioning with the chosen DeletionStrategy; returns its RequestId (ALREADY_GONE when someone
        else deleted it). CloudSSO answers at once (no task) and clears the RAM users in the background."""
        label = provisioning_label(provisioning)
        try:
            request_id = self.call("DeleteUserProvisioning", UserProvisioningId=provisioning["UserProvisioningId"],
                                   DeletionStrategy=strategy).get("RequestId")
        except ProviderError as exc:
            if exc.code != PROVISIONING_GONE:
                # After a lost answer the provisioning may be gone already; the user's error says so too.
                raise explained(exc, "%s %s %s: DeleteUserProvisioning failed%s; run the task again, or delete the "
                                     "provisioning in the CloudSSO console"
                                % (PROVISIONING, label, "may still be present" if exc.lost_answer else "is still present",
                                   ", so the user was not deleted" if entry.found else ""))
            if exc.lost_answer:
                # Our earlier attempt, whose answer was lost, deleted it.
                request_id = exc.lost_answer.get("request_id")
            else:
                # Someone else deleted it since it was listed, with a strategy we do not know: not this run's.
                entry.follow_up.append(follow_up_item(
                    "RAM user", "%s %s was already gone when it was to be deleted (not by this run), so whether its "
                    "RAM users were deleted is not known: check the RAM users in account %s"
                    % (PROVISIONING, label, provisioning.get("TargetId")),
                    where="account %s" % provisioning.get("TargetId")))
                return ALREADY_GONE
        entry.follow_up.append(kept_follow_up(provisioning) if strategy == "Keep" else pending_follow_up(provisioning))
        return request_id

    def set_enabled(self, user, enabled):
        return self.call("UpdateUserStatus", UserId=user["UserId"],
                         NewStatus="Enabled" if enabled else "Disabled").get("RequestId")
