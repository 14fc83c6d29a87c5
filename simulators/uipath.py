# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local stand-in for the UiPath identity server (Platform Management user API).

Routes, under `/{organization}/identity_` (Automation Cloud and Suite) and, for the organization
named by the `standalone` setting, under `/identity` (a standalone Orchestrator); never a tenant:
  POST   connect/token                     client credentials (form body) -> JWT-shaped bearer token
  GET    api/User/{userId}                 one UserDto
  PUT    api/User/{userId}                 update (only the non-null fields given) -> IdentityResult
  DELETE api/User/{userId}                 204
  DELETE api/User                          bulk: {"partitionGlobalId", "userIds"} -> 204
  GET    api/User/users/{partitionGlobalId}  {"totalCount", "results"}; top (0..1000, default 10),
                                           skip (0..2147483647), sortBy, sortOrder (asc or desc), searchTerm;
                                           anything else outside these documented ranges answers 400

User names and e-mails compare as ASP.NET Identity compares them: composed (NFC), then upper-cased
with .NET's invariant culture, one character to one (`ß` stays `ß`; NFC makes a Kelvin sign `K`);
`searchTerm` matches a part of a name in that form, and two users cannot share a user name in it.

Behaviour follows the provider notes: bearer tokens from the client credentials grant (checked
client id, secret and scopes; `expires_in`; a `prt_id` claim unless `token_prt_id` is off) or
personal access tokens (scopes not enforced for user tokens); 401 with `WWW-Authenticate` for a
missing, unknown or expired token; scope errors as `{"errorMessage": ...}`; ProblemDetails for
validation errors (with a W3C `traceId`); IdentityResult `{succeeded, errors}` for refused updates;
`type` as numbers, as the live API returns them; per-organization quotas per method over a sliding
window answering 429 (limits and window configurable).

The points the notes leave UNCONFIRMED are settings (seed keys, constructor keywords, or
`POST /_sim/uipath/settings`):
  not_found: how an unknown user id is answered: "problem" (404 ProblemDetails, default),
      "bad_request" (400 IdentityResult "UserNotFound"), "envelope" (404 `{"StatusCode": 404,
      "StatusDescription": "NotFound", "Message": "Cannot resolve users=[...] in CIS"}`) or
      "no_content" (DELETE answers 204; GET and PUT 404 ProblemDetails) or "empty" (404 with no body,
      as a route without a handler answers). A bulk delete naming an unknown id is refused whole in
      the same shape, except with "no_content" (deletes the rest).
  retry_after: whether 429 answers carry `Retry-After` (default false).
  invalid_client_status: 400 (default) or 401 for a wrong client id or secret.
  scope_error_status: 403 (default) or 401 for a token without the needed scope.
  token_prt_id: whether client-credentials tokens carry `prt_id` (default true).
  bulk_delete_max: the most ids one bulk delete accepts (default: no limit).
  protected_users: {user id: 403 or 409}: users the server refuses to delete (the last administrator,
      say), alone or in a bulk delete.
  delete_refusal: how such a refusal is answered: "status" (default: that status with a ProblemDetails
      body; a bulk delete naming the user deletes nobody), "succeeded_false" (HTTP 200 with an
      IdentityResult `{"succeeded": false, "errors": [...]}`; a bulk delete deletes nobody) or
      "succeeded_false_partial" (the same answer, but a bulk delete deletes the other users).
Orchestrator, per tenant, under `/{organization}/{tenant}/orchestrator_/odata/` (seed key `tenants`):
  GET    Users                             $filter (`Field eq 'text'` or `Field eq 12`, joined by `or`; at most
                                           100 nodes as OData counts them, see filter_node_count), $top (at most
                                           1000), $skip, $count (true or false); strings compare ignoring case
  GET    Users({key}), DELETE Users({key}) 204; a user with busy robots is refused (409); what becomes of the
                                           personal workspace of a removed owner is a setting (below)
  GET    Users/UiPath.Server.Configuration.OData.Validate(userIds=[1,2])  {"value": {"1": busy, ...}}
  GET    PersonalWorkspaces                the same query options (OwnerId, Name, ...)
  POST   PersonalWorkspaces({key})/UiPath.Server.Configuration.OData.ConvertToFolder  {"folderName"}: refused
                                           to every token by default (the API definition: OAuth is not supported,
                                           and every token here is OAuth); when allowed, the workspace becomes a
                                           standard folder of that name, its owner a user of it, which outlives it
  GET    Folders, GET/DELETE Folders({key}) a folder or personal workspace that holds entities or has users (its
                                           owner, users exploring it, a folder's `users`) is refused (409)
Scopes: users need OR.Users (or OR.Users.Read to read, OR.Users.Write to delete), workspaces and folders
OR.Folders (or .Read/.Write); a personal access token is checked against the `scopes` its seed gives (none: not
checked). An application in a tenant's `clients_without_role` holds the scopes but no tenant role: 403 for every
call there. An unknown tenant answers 404 with the portal's HTML page. Orchestrator errors are `{"message",
"errorCode", "traceId"}`.
What UiPath leaves open is marked UNCONFIRMED where it is simulated, and some of it is a setting:
  orchestrator_scope_error_status: 403 (default, with `WWW-Authenticate: Bearer error="insufficient_scope"`) or
      401 for a token without the Orchestrator scope a route needs.
  convert_to_folder: "refused" (default) or "allowed": UiPath's published API definition ("UiPath.WebApi 20.0")
      says of ConvertToFolder "OAuth authentication is not supported", and client-credentials tokens and personal
      access tokens are both OAuth; "allowed" is an Orchestrator that accepts them anyway.
  workspace_owner_removal: what removing the owner of a personal workspace (DELETE Users({key})) does to it:
      "keeps" (default: the workspace stays, inactive, with what it holds and without its owner), "deletes" (it
      goes with its owner) or "refused" (409 while the user owns one). UiPath documents none of them; its guide
      speaks of converting the workspaces of users who are no longer active, which "keeps" follows.
Faults beyond the base class: `token_url_html` (the token URL answers an HTML page with HTTP 200),
`expire_tokens()` (every issued token expires now) and `expire_tokens_after(n)` (after n more API
requests), also as `POST /_sim/uipath/expire-tokens` with `{"after": n}`.
"""

from __future__ import annotations

import base64
import collections
import copy
import datetime
import json
import math
import re
import time
import unicodedata
import uuid
from urllib.parse import parse_qs, urlsplit

from ._base import BadRequest, Response, Simulator, new_id

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
USER_TYPES = ("user", "robot", "directoryUser", "directoryGroup", "robotAccount", "application")
DEFAULT_SCOPES = ("PM.User", "PM.User.Read", "PM.User.Write")
READ_SCOPES = ("PM.User", "PM.User.Read")
WRITE_SCOPES = ("PM.User", "PM.User.Write")
MAX_TOP = 1000
# top and skip are int32 in the identity definition (uipathcli definitions/identity.yaml, User_GetUsers: skip
# "maximum: 2147483647"); sortOrder is the enum SortOrderDto (asc, desc).
MAX_INT32 = 2 ** 31 - 1
SORT_ORDERS = ("asc", "desc")
UPDATABLE = ("name", "surname", "displayName", "email", "isActive", "bypassBasicAuthRestriction",
             "invitationAccepted")
SORTABLE = ("id", "userName", "email", "emailConfirmed", "name", "surname", "displayName", "creationTime",
            "lastModificationTime", "lastLoginTime", "isActive", "type")
NOT_FOUND_MODES = ("problem", "bad_request", "envelope", "no_content", "empty")
DELETE_REFUSALS = ("status", "succeeded_false", "succeeded_false_partial")
PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
    405: "https://tools.ietf.org/html/rfc7231#section-6.5.5",
    409: "https://tools.ietf.org/html/rfc7231#section-6.5.8",
    415: "https://tools.ietf.org/html/rfc7231#section-6.5.13",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
}
DEFAULT_SETTINGS = {
    "token_lifetime": 3600,
    "rate_limits": {"GET": 300, "POST": 24000, "PUT": 160, "PATCH": 160, "DELETE": 160},
    "rate_window": 300.0,
    "retry_after": False,
    "not_found": "problem",
    "invalid_client_status": 400,
    "scope_error_status": 403,
    "token_prt_id": True,
    "bulk_delete_max": None,
    "protected_users": {},
    "delete_refusal": "status",
    "token_url_html": False,
    "standalone": None,
    "orchestrator_scope_error_status": 403,
    "convert_to_folder": "refused",
    "workspace_owner_removal": "keeps",
}
CONVERT_MODES = ("allowed", "refused")
OWNER_REMOVALS = ("keeps", "deletes", "refused")
ORCHESTRATOR_MAX_TOP = 1000
# Orchestrator's API definition (uipathcli definitions/orchestrator.yaml, "UiPath.WebApi 20.0") says of every
# $filter "The maximum number of expressions is 100": ASP.NET Core OData's ODataValidationSettings.MaxNodeCount,
# 100 by default, counted as filter_node_count does.
ODATA_MAX_NODES = 100
# The Int64 properties the simulated entities are filtered by (Id and OwnerId are int64 in the definition's
# UserDto and PersonalWorkspaceDto); every other property filtered here is text.
INT64_FIELDS = ("Id", "OwnerId")
# top and skip are int32 in the identity definition (uipathcli definitions/identity.yaml, User_GetUsers: skip
# "maximum: 2147483647"); sortOrder is the enum SortOrderDto (asc, desc).
MAX_INT32 = 2 ** 31 - 1
SORT_ORDERS = ("asc", "desc")
ACTION_PREFIX = "UiPath.Server.Configuration.OData."
ENTITY_SEGMENT = re.compile(r"^(\w+)(?:\((\d+)\))?$")
FILTER_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+)|(?P<word>[A-Za-z_]\w*)|(?P<paren>[()]))")
HTML_PAGE = ("<!DOCTYPE html><html><head><title>UiPath</title></head><body><div id=\"root\">"
             "Loading...</div></body></html>")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def trace_id():
    return "00-%s-%s-00" % (uuid.uuid4().hex, uuid.uuid4().hex[:16])


def problem(status, title, errors=None, detail=None):
    """An ASP.NET Core ProblemDetails answer."""
    body = {"type": PROBLEM_TYPES.get(status, PROBLEM_TYPES[400]), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body["traceId"] = trace_id()
    return Response(status, body, content_type="application/problem+json; charset=utf-8")


def identity_result(status, code, description):
    return Response(status, {"succeeded": False, "errors": [{"code": code, "description": description}]})


def oauth_error(status, error):
    return Response(status, {"error": error})


def normalized(text):
    """A name as ASP.NET Identity stores it for lookups: String.Normalize() (NFC), then
    ToUpperInvariant(), which maps each code point to one (ICU's simple upper case; .NET keeps the
    dotless i as it is)."""
    return "".join(char if char == "\u0131" else simple_upper(char)
                   for char in unicodedata.normalize("NFC", str(text)))


def simple_upper(char):
    upper = char.upper()
    if len(upper) == 1:
        return upper
    # Python's upper() is the full mapping; where that expands, the simple mapping is the title-case
    # letter when that is one character (Greek with ypogegrammeni), else none at all (ß stays ß).
    title = char.title()
    return title if len(title) == 1 else char


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def user_type(value):
    if isinstance(value, str) and value in USER_TYPES:
        return USER_TYPES.index(value)
    return value if isinstance(value, int) else 0


def orchestrator_error(status, message, code=0):
    """Orchestrator's error body; the codes for a missing item (1002) follow public client code (UNCONFIRMED)."""
    return Response(status, {"message": message, "errorCode": code, "traceId": uuid.uuid4().hex})


def parse_filter(text):
    """An OData `$filter` of the form the sweep sends: `Field eq 'text'` or `Field eq 12`, joined by `or`, in
    optional parentheses, as [(field, value)]. Anything else raises ValueError (Orchestrator answers 400)."""
    tokens = []
    position = 0
    text = text or ""
    while position < len(text.rstrip()):
        match = FILTER_TOKEN.match(text, position)
        if match is None:
            raise ValueError("unexpected text at %d" % position)
        position = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value[1:-1].replace("''", "'")
        elif kind == "number":
            value = int(value)
        tokens.append((kind, value))
    while tokens and tokens[0] == ("paren", "(") and tokens[-1] == ("paren", ")"):
        tokens = tokens[1:-1]
    terms = []
    for start in range(0, len(tokens), 4):
        term = tokens[start:start + 4]
        if len(term) < 3 or term[0][0] != "word" or term[1] != ("word", "eq") or term[2][0] not in ("string", "number"):
            raise ValueError("only `Field eq value` terms joined by `or` are simulated")
        if len(term) == 4 and term[3] != ("word", "or"):
            raise ValueError("only `or` joins terms here")
        if len(term) == 4 and start + 4 >= len(tokens):
            raise ValueError("the filter ends with `or`")
        terms.append((term[0][1], term[2][1]))
    if not terms:
        raise ValueError("empty filter")
    return terms


def filter_node_count(terms):
    """The nodes of a parsed `$filter` (parse_filter's terms, joined by `or`) as ASP.NET Core OData counts them
    against MaxNodeCount (OData/AspNetCoreOData, Query/Validator/FilterQueryValidator.cs: ValidateQueryNode counts
    each node it visits, and FilterValidatorContext.IncrementNodeCount refuses the one after the 100th).

    `Field eq value` is the `eq` operator node, the property access under it and that property's source (the range
    variable `$it`), and the constant: 4 nodes. An integer literal that fits in 32 bits is parsed as Int32; compared
    with an Int64 property, the binder wraps it in a conversion node (OData/odata.net, MetadataBindingUtils.
    ConvertToTypeIfNeeded converts only Int64, Single, Double and Decimal constants in place): 5 nodes. Each `or`
    is one more operator node; parentheses are none."""
    nodes = len(terms) - 1
    for field, value in terms:
        nodes += 4
        if isinstance(value, int) and field in INT64_FIELDS and -MAX_INT32 - 1 <= value <= MAX_INT32:
            nodes += 1
    return nodes


def filter_matches(item, terms):
    """Whether any term holds. Strings compare ignoring case, as SQL Server's default collation does for
    Orchestrator (UNCONFIRMED); numbers exactly."""
    for field, value in terms:
        actual = item.get(field)
        if isinstance(value, int) and not isinstance(actual, bool) and actual == value:
            return True
        if isinstance(value, str) and isinstance(actual, str) and actual.casefold() == value.casefold():
            return True
    return False


class UiPathIdentitySimulator(Simulator):
    name = "uipath-identity"

    def __init__(self, organizations=None, **settings):
        super().__init__()
        self.settings = copy.deepcopy(DEFAULT_SETTINGS)
        self.seed(dict(settings, organizations=organizations or {}))

    # --- state --------------------------------------------------------------------------------
    def seed(self, data):
        """{"organizations": {name: {"partition_global_id", "clients": {id: {"secret", "scopes"}},
        "personal_access_tokens": {token: {"expired": bool, "scopes": [Orchestrator scopes]}}, "users": [UserDto],
        "tenants": {name: see _seed_tenant}}}, plus settings}."""
        with self.lock:
            self.configure(**dict((key, value) for key, value in data.items() if key != "organizations"))
            self.organizations = {}
            self.tokens = {}
            self.token_requests = []
            self.updates = []
            self._expire_countdown = None
            for name, spec in (data.get("organizations") or {}).items():
                organization = {
                    "name": name,
                    "partition_global_id": spec.get("partition_global_id") or new_id(),
                    "clients": dict((client_id, {"secret": client["secret"],
                                                 "scopes": list(client.get("scopes") or DEFAULT_SCOPES)})
                                    for client_id, client in (spec.get("clients") or {}).items()),
                    "users": collections.OrderedDict(),
                    "history": collections.defaultdict(collections.deque),
                }
                self.organizations[name] = organization
                for token, pat in (spec.get("personal_access_tokens") or {}).items():
                    # A personal access token carries the scopes chosen when it was made; the identity routes here
                    # authorize it by its user's role, Orchestrator by `scopes` when the seed gives them.
                    self.tokens[token] = {"organization": name, "kind": "pat", "scopes": None,
                                          "orchestrator_scopes": (pat or {}).get("scopes"),
                                          "expires": 0 if (pat or {}).get("expired") else None}
                organization["tenants"] = dict((tenant_name.lower(), self._seed_tenant(tenant_name, tenant))
                                               for tenant_name, tenant in (spec.get("tenants") or {}).items())
                names = set()
                for user in spec.get("users") or []:
                    user = self._store_user(organization, dict(user))
                    # The identity server keeps user names unique in their normalized form.
                    name = normalized(user["userName"] or "")
                    if name and name in names:
                        raise ValueError("two users with the user name %r (as the identity server compares names)"
                                         % user["userName"])
                    names.add(name)
            if self.settings["standalone"] is None and self.organizations:
                self.settings["standalone"] = next(iter(self.organizations))

    def _seed_tenant(self, name, spec):
        """{"users": [Orchestrator UserDto, plus `busy` (its robots are busy) and `personal_workspace` (true, or
        a PersonalWorkspaceDto's fields; `entities`: how many processes, assets... it holds; `ExploringUserIds`: users
        exploring it)], "folders": [FolderDto's fields, plus `entities` and `users` (the ids of its users)],
        "clients_without_role": [client ids that hold the scopes but no role in this tenant: every request 403]}."""
        tenant = {"name": name, "users": collections.OrderedDict(), "workspaces": collections.OrderedDict(),
                  "folders": collections.OrderedDict(), "busy": set(), "next_id": 1000,
                  "clients_without_role": set(spec.get("clients_without_role") or ())}
        for user in spec.get("users") or []:
            user = dict(user)
            busy = user.pop("busy", False)
            workspace = user.pop("personal_workspace", None)
            if "Id" not in user:
                user["Id"] = self._next_id(tenant)
            user.setdefault("Key", new_id())
            user.setdefault("UserName", user.get("EmailAddress"))
            user.setdefault("EmailAddress", None)
            user.setdefault("Type", "DirectoryUser")
            user.setdefault("IsActive", True)
            user.setdefault("MayHavePersonalWorkspace", bool(workspace))
            tenant["users"][user["Id"]] = user
            if busy:
                tenant["busy"].add(user["Id"])
            if workspace:
                fields = dict(workspace) if isinstance(workspace, dict) else {}
                if "Id" not in fields:
                    fields["Id"] = self._next_id(tenant)
                fields.setdefault("Key", new_id())
                fields.setdefault("Name", "%s's workspace" % user["UserName"])
                fields.setdefault("IsActive", True)
                fields.setdefault("OwnerId", user["Id"])
                fields.setdefault("OwnerName", user["UserName"])
                fields.setdefault("LastLogin", None)
                fields.setdefault("ExploringUserIds", [])
                fields.setdefault("entities", 0)
                tenant["workspaces"][fields["Id"]] = fields
        for folder in spec.get("folders") or []:
            folder = dict(folder)
            if "Id" not in folder:
                folder["Id"] = self._next_id(tenant)
            folder.setdefault("Key", new_id())
            folder.setdefault("FullyQualifiedName", folder.get("DisplayName"))
            folder.setdefault("FolderType", "Standard")
            folder.setdefault("entities", 0)
            folder.setdefault("users", [])
            tenant["folders"][folder["Id"]] = folder
        return tenant

    @staticmethod
    def _next_id(tenant):
        tenant["next_id"] += 1
        while any(tenant["next_id"] in tenant[kind] for kind in ("users", "workspaces", "folders")):
            tenant["next_id"] += 1
        return tenant["next_id"]

    def configure(self, **settings):
        """Change settings (see the module docstring) without touching the state."""
        with self.lock:
            for key, value in settings.items():
                if key not in DEFAULT_SETTINGS:
                    raise ValueError("unknown UiPath simulator setting %r" % key)
                if key == "not_found" and value not in NOT_FOUND_MODES:
                    raise ValueError("not_found must be one of %s" % ", ".join(NOT_FOUND_MODES))
                if key == "delete_refusal" and value not in DELETE_REFUSALS:
                    raise ValueError("delete_refusal must be one of %s" % ", ".join(DELETE_REFUSALS))
                if key == "convert_to_folder" and value not in CONVERT_MODES:
                    raise ValueError("convert_to_folder must be one of %s" % ", ".join(CONVERT_MODES))
                if key == "workspace_owner_removal" and value not in OWNER_REMOVALS:
                    raise ValueError("workspace_owner_removal must be one of %s" % ", ".join(OWNER_REMOVALS))
                if key == "orchestrator_scope_error_status" and int(value) not in (401, 403):
                    raise ValueError("orchestrator_scope_error_status must be 401 or 403")
                if key == "protected_users":
                    if any(int(status) not in (403, 409) for status in value.values()):
                        raise ValueError("protected_users maps user ids to 403 or 409")
                    value = dict((user_id.lower(), int(status)) for user_id, status in value.items())
                if key == "rate_limits":
                    value = dict(DEFAULT_SETTINGS["rate_limits"], **dict((method.upper(), limit)
                                                                         for method, limit in value.items()))
                self.settings[key] = value

    def snapshot(self):
        with self.lock:
            return {"organizations": dict(
                (name, {"partition_global_id": organization["partition_global_id"],
                        "users": copy.deepcopy(list(organization["users"].values())),
                        "tenants": dict((tenant["name"], self._tenant_state(tenant))
                                        for tenant in organization["tenants"].values())})
                for name, organization in self.organizations.items())}

    @staticmethod
    def _tenant_state(tenant):
        return {"users": [dict(user, busy=user["Id"] in tenant["busy"]) for user in tenant["users"].values()],
                "personal_workspaces": copy.deepcopy(list(tenant["workspaces"].values())),
                "folders": copy.deepcopy(list(tenant["folders"].values()))}

    def tenant(self, tenant, organization=None):
        """A tenant's state: users (with `busy`), personal_workspaces and folders."""
        with self.lock:
            return copy.deepcopy(self._tenant_state(self._organization(organization)["tenants"][tenant.lower()]))

    def credentials(self):
        with self.lock:
            return {"organizations": dict(
                (name, {"partition_global_id": organization["partition_global_id"],
                        "clients": dict((client_id, client["secret"])
                                        for client_id, client in organization["clients"].items()),
                        "personal_access_tokens": sorted(token for token, spec in self.tokens.items()
                                                         if spec["kind"] == "pat" and spec["organization"] == name)})
                for name, organization in self.organizations.items())}

    def client_environment(self, url):
        """Environment variables that point the uipath_* modules at the first organization."""
        with self.lock:
            name, organization = next(iter(self.organizations.items()))
            client_id, client = next(iter(organization["clients"].items()))
            return {"UIPATH_URL": url, "UIPATH_ORGANIZATION": name, "UIPATH_CLIENT_ID": client_id,
                    "UIPATH_CLIENT_SECRET": client["secret"]}

    def users(self, organization=None):
        with self.lock:
            return copy.deepcopy(list(self._organization(organization)["users"].values()))

    def partition_global_id(self, organization=None):
        with self.lock:
            return self._organization(organization)["partition_global_id"]

    def _organization(self, name):
        return self.organizations[name] if name else next(iter(self.organizations.values()))

    def expire_tokens(self):
        """Every token issued so far expires now (personal access tokens too)."""
        with self.lock:
            for token in self.tokens.values():
                token["expires"] = 0
            self._expire_countdown = None

    def expire_tokens_after(self, requests):
        """Expire every issued token once, after this many more authenticated API requests."""
        with self.lock:
            self._expire_countdown = int(requests)

    def _store_user(self, organization, user):
        user.setdefault("id", new_id())
        email = user.get("email")
        user.setdefault("userName", email)
        user.setdefault("email", None)
        user.setdefault("emailConfirmed", bool(email))
        user.setdefault("name", None)
        user.setdefault("surname", None)
        user.setdefault("displayName", " ".join(part for part in (user["name"], user["surname"]) if part) or None)
        stamp = now()
        user.setdefault("creationTime", stamp)
        user.setdefault("lastModificationTime", stamp)
        user.setdefault("lastLoginTime", None)
        user.setdefault("groupIDs", [])
        user.setdefault("legacyId", len(organization["users"]) + 1)
        user.setdefault("isActive", True)
        user.setdefault("bypassBasicAuthRestriction", False)
        user["type"] = user_type(user.get("type"))
        user.setdefault("category", 0)
        user.setdefault("invitationAccepted", True)
        organization["users"][user["id"].lower()] = user
        return user

    # --- routing ------------------------------------------------------------------------------
    def _control(self, request):
        action = request.raw_path[len("/_sim/"):].strip("/")
        if action == "uipath/expire-tokens" and request.method == "POST":
            after = (request.json() or {}).get("after")
            if after is None:
                self.expire_tokens()
            else:
                self.expire_tokens_after(after)
            return Response(204)
        if action == "uipath/settings" and request.method == "POST":
            try:
                self.configure(**(request.json() or {}))
            except (TypeError, ValueError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(204)
        return super()._control(request)

    def is_changing(self, request):
        # A token request is a POST that changes no user.
        return super().is_changing(request) and not request.raw_path.rstrip("/").lower().endswith("/connect/token")

    def proper_places(self, received):
        """A bearer token (or personal access token) belongs in `Authorization`; the client secret in the form
        body of the token request only."""
        places = [("header", "Authorization")]
        if received.method == "POST" and urlsplit(received.target).path.rstrip("/").lower().endswith("/connect/token"):
            places.append(("form", "client_secret"))
        return places

    def log_entry(self, request, status):
        """The base entry, plus what a change to an organization user names in its body (the ground-truth
        checker of the tests reads them): `user_ids` of a bulk delete, `is_active` of an update, and `not_deleted`:
        the ids a delete answered with a success did not delete (unknown or protected users). Never a secret: the
        token request's form is not read here."""
        entry = super().log_entry(request, status)
        if getattr(request, "not_deleted", None):
            entry["not_deleted"] = [str(one) for one in request.not_deleted]
        lowered = [segment.lower() for segment in request.segments]
        if request.method not in ("DELETE", "PUT") or "api" not in lowered:
            return entry
        rest = lowered[lowered.index("api"):]
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return entry
        if request.method == "DELETE" and rest == ["api", "user"] and isinstance(body.get("userIds"), list):
            entry["user_ids"] = [str(one) for one in body["userIds"]]
        elif request.method == "PUT" and rest[:2] == ["api", "user"] and "isActive" in body:
            entry["is_active"] = body["isActive"]
        return entry

    def handle(self, request):
        with self.lock:
            segments = request.segments
            if len(segments) >= 3 and segments[2] == "orchestrator_" and segments[0] in self.organizations:
                # Orchestrator has its own limits; the identity server's quotas do not count its requests.
                return self._orchestrator(request, self.organizations[segments[0]], segments[1], segments[3:])
            organization, rest = self._route(request.segments)
            if organization is None:
                # An unknown organization reaches the portal, not the identity server.
                return Response(404, raw=HTML_PAGE, content_type="text/html; charset=utf-8")
            throttled = self._throttle(organization, request.method)
            if throttled is not None:
                return throttled
            lowered = [segment.lower() for segment in rest]
            if lowered == ["connect", "token"]:
                if request.method != "POST":
                    return problem(405, "Method Not Allowed")
                return self._token(request, organization)
            if lowered[:2] != ["api", "user"] or len(rest) > 4:
                return Response(404)  # an unknown route: ASP.NET answers an empty 404
            denied = self._authorize(request, organization)
            if denied is not None:
                return denied
            return self._users(request, organization, rest[2:], lowered[2:])

    def _route(self, segments):
        if len(segments) >= 2 and segments[1] == "identity_" and segments[0] in self.organizations:
            return self.organizations[segments[0]], segments[2:]
        standalone = self.settings["standalone"]
        if segments and segments[0] == "identity" and standalone in self.organizations:
            return self.organizations[standalone], segments[1:]
        return None, None

    def _throttle(self, organization, method):
        limit = self.settings["rate_limits"].get(method)
        if limit is None:
            return None
        window = float(self.settings["rate_window"])
        history = organization["history"][method]
        moment = time.monotonic()
        while history and history[0] <= moment - window:
            history.popleft()
        if len(history) >= limit:
            headers = {}
            if self.settings["retry_after"]:
                headers["Retry-After"] = str(max(1, int(math.ceil(history[0] + window - moment))))
            response = problem(429, "Too Many Requests", detail="The rate limit of %d %s requests per %g seconds "
                               "was exceeded." % (limit, method, window))
            response.headers.update(headers)
            return response
        history.append(moment)
        return None

    # --- tokens -------------------------------------------------------------------------------
    def _token(self, request, organization):
        if self.settings["token_url_html"]:
            return Response(200, raw=HTML_PAGE, content_type="text/html; charset=utf-8")
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return oauth_error(400, "invalid_request")
        form = dict((key, values[0]) for key, values in
                    parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items())
        client = organization["clients"].get(form.get("client_id", ""))
        secret_ok = client is not None and form.get("client_secret") == client["secret"]
        self.token_requests.append({"organization": organization["name"], "grant_type": form.get("grant_type"),
                                    "client_id": form.get("client_id"), "scope": form.get("scope"),
                                    "secret_ok": secret_ok})
        if form.get("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type")
        if not secret_ok:
            return oauth_error(int(self.settings["invalid_client_status"]), "invalid_client")
        wanted = (form.get("scope") or "").split() or list(client["scopes"])
        if any(scope not in client["scopes"] for scope in wanted):
            return oauth_error(400, "invalid_scope")
        lifetime = int(self.settings["token_lifetime"])
        issued = int(time.time())
        claims = {"iss": "https://simulator/identity_", "nbf": issued, "iat": issued, "exp": issued + lifetime,
                  "aud": "UiPath.Orchestrator", "scope": wanted, "client_id": form["client_id"],
                  "jti": uuid.uuid4().hex}
        if self.settings["token_prt_id"]:
            claims["prt_id"] = organization["partition_global_id"]
        token = ".".join((b64url(json.dumps({"alg": "RS256", "kid": "sim", "typ": "at+jwt"}).encode()),
                          b64url(json.dumps(claims).encode()), b64url(uuid.uuid4().bytes * 8)))
        self.tokens[token] = {"organization": organization["name"], "kind": "client", "scopes": wanted,
                              "client_id": form["client_id"],
                              "expires": time.time() + lifetime}
        answer = {"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": " ".join(wanted)}
        return Response(200, answer)

    def _authenticate(self, request, organization):
        """(the token's record, None), or (None, the 401 answer) for a missing, unknown or expired token."""
        scheme, _space, token = (request.header("Authorization") or "").partition(" ")
        known = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if known is None or known["organization"] != organization["name"]:
            return None, Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if known["expires"] is not None and known["expires"] <= time.time():
            return None, Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                                                    'error_description="The token expired"'})
        if self._expire_countdown is not None:
            self._expire_countdown -= 1
            if self._expire_countdown <= 0:
                self.expire_tokens()
        return known, None

    def _authorize(self, request, organization):
        known, denied = self._authenticate(request, organization)
        if denied is not None:
            return denied
        if known["scopes"] is None:
            return None  # a user token: authorized by the user's role, not by scopes
        needed = READ_SCOPES if request.method == "GET" else WRITE_SCOPES
        if not any(scope in known["scopes"] for scope in needed):
            return Response(int(self.settings["scope_error_status"]), {
                "errorMessage": "Scope(s) '%s' is(are) invalid. Expect to have '%s'. " % (
                    " ".join(known["scopes"]), "' or '".join(needed))})
        return None

    # --- users --------------------------------------------------------------------------------
    def _users(self, request, organization, rest, lowered):
        method = request.method
        if not rest:
            if method != "DELETE":
                return problem(405, "Method Not Allowed")
            return self._bulk_delete(request, organization)
        if lowered[0] == "users" and len(rest) == 2:
            if method != "GET":
                return problem(405, "Method Not Allowed")
            return self._list(request, organization, rest[1])
        if len(rest) != 1:
            return Response(404)
        user_id = rest[0]
        if not GUID.match(user_id):
            return problem(400, "One or more validation errors occurred.",
                           errors={"userId": ["The value '%s' is not valid." % user_id]})
        user = organization["users"].get(user_id.lower())
        if method == "GET":
            return self._unknown(user_id, method) if user is None else Response(200, copy.deepcopy(user))
        if method == "PUT":
            return self._unknown(user_id, method) if user is None else self._update(request, organization, user)
        if method == "DELETE":
            if user is None or user_id.lower() in self.settings["protected_users"]:
                # Answered 204 ("no_content") or 200 ("succeeded_false") in some settings, yet nobody was deleted.
                request.not_deleted = [user_id]
            if user is None:
                return self._unknown(user_id, method)
            if user_id.lower() in self.settings["protected_users"]:
                return self._refuse_delete([user_id])
            del organization["users"][user_id.lower()]
            return Response(204)
        return problem(405, "Method Not Allowed")

    def _refuse_delete(self, user_ids):
        """The answer for deleting protected users, in the configured shape."""
        description = "User '%s' cannot be deleted." % "', '".join(user_ids)
        if self.settings["delete_refusal"] == "status":
            status = self.settings["protected_users"][user_ids[0].lower()]
            return problem(status, "Forbidden" if status == 403 else "Conflict", detail=description)
        return Response(200, {"succeeded": False, "errors": [{"code": "UserDeletionFailed",
                                                              "description": description}]})

    def _unknown(self, user_ids, method):
        """The answer for an unknown user id, in the configured (UNCONFIRMED) shape."""
        ids = user_ids if isinstance(user_ids, list) else [user_ids]
        mode = self.settings["not_found"]
        if mode == "no_content" and method == "DELETE":
            return Response(204)
        if mode == "empty":
            return Response(404)
        if mode == "bad_request":
            return identity_result(400, "UserNotFound", "User '%s' was not found." % ", ".join(ids))
        if mode == "envelope":
            return Response(404, {"StatusCode": 404, "StatusDescription": "NotFound",
                                  "Message": "Cannot resolve users=[%s] in CIS" % ",".join(ids)})
        return problem(404, "Not Found")

    def _json_body(self, request):
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequest(problem(415, "Unsupported Media Type"))
        try:
            body = request.json()
        except ValueError as exc:
            raise BadRequest(problem(400, "One or more validation errors occurred.", errors={"$": [str(exc)]}))
        if not isinstance(body, dict):
            raise BadRequest(problem(400, "One or more validation errors occurred.",
                                     errors={"$": ["The JSON value could not be converted."]}))
        return body

    def _partition(self, organization, value):
        """None when `value` is this organization's partition, else the error answer."""
        if not isinstance(value, str) or not GUID.match(value):
            return problem(400, "One or more validation errors occurred.",
                           errors={"partitionGlobalId": ["The value '%s' is not valid." % (value,)]})
        if value.lower() != organization["partition_global_id"].lower():
            return problem(400, "InvalidPartition", detail="Partition '%s' is not valid for this request." % value)
        return None

    def _list(self, request, organization, partition):
        refused = self._partition(organization, partition)
        if refused is not None:
            return refused
        try:
            top = int(request.arg("top", "10"))
            skip = int(request.arg("skip", "0"))
        except ValueError:
            return problem(400, "One or more validation errors occurred.",
                           errors={"top": ["The value is not valid."]})
        if not 0 <= top <= MAX_TOP:
            return problem(400, "One or more validation errors occurred.",
                           errors={"top": ["The field top must be between 0 and %d." % MAX_TOP]})
        if not 0 <= skip <= MAX_INT32:
            return problem(400, "One or more validation errors occurred.",
                           errors={"skip": ["The field skip must be between 0 and %d." % MAX_INT32]})
        sort_order = request.arg("sortOrder")
        if sort_order is not None and sort_order.lower() not in SORT_ORDERS:
            return problem(400, "One or more validation errors occurred.",
                           errors={"sortOrder": ["The value '%s' is not valid." % sort_order]})
        users = list(organization["users"].values())
        term = normalized(request.arg("searchTerm") or "")
        if term:
            users = [user for user in users if any(term in normalized(user.get(field) or "")
                                                   for field in ("userName", "email", "name", "surname", "displayName"))]
        sort_by = dict((field.lower(), field) for field in SORTABLE).get((request.arg("sortBy") or "").lower())
        if sort_by:
            users.sort(key=lambda user: (user.get(sort_by) is None, str(user.get(sort_by)).lower()),
                       reverse=(request.arg("sortOrder") or "").lower() == "desc")
        return Response(200, {"totalCount": len(users), "results": copy.deepcopy(users[skip:skip + top])})

    def _update(self, request, organization, user):
        body = self._json_body(request)
        self.updates.append({"organization": organization["name"], "user_id": user["id"], "body": copy.deepcopy(body)})
        for field in ("isActive", "bypassBasicAuthRestriction", "invitationAccepted"):
            if body.get(field) is not None and not isinstance(body[field], bool):
                return problem(400, "One or more validation errors occurred.", errors={field: [
                    "Unexpected character encountered while parsing value: %s. Path '%s'." % (body[field], field)]})
        if body.get("email") is not None and body["email"] != user.get("email"):
            return identity_result(400, "EmailChangeNotSupported", "Changing a user email address is not supported.")
        for field in UPDATABLE:
            if body.get(field) is not None:
                user[field] = body[field]
        user["groupIDs"] = [group for group in user["groupIDs"] if group not in (body.get("groupIDsToRemove") or [])]
        user["groupIDs"].extend(group for group in body.get("groupIDsToAdd") or [] if group not in user["groupIDs"])
        user["lastModificationTime"] = now()
        return Response(200, {"succeeded": True, "errors": []})

    def _bulk_delete(self, request, organization):
        body = self._json_body(request)
        refused = self._partition(organization, body.get("partitionGlobalId"))
        if refused is not None:
            return refused
        ids = body.get("userIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(one, str) and GUID.match(one) for one in ids):
            return problem(400, "One or more validation errors occurred.",
                           errors={"userIds": ["The userIds field is required and must hold user ids."]})
        most = self.settings["bulk_delete_max"]
        if most is not None and len(ids) > int(most):
            return problem(400, "One or more validation errors occurred.",
                           errors={"userIds": ["At most %d users can be deleted at once." % int(most)]})
        unknown = [one for one in ids if one.lower() not in organization["users"]]
        if unknown and self.settings["not_found"] != "no_content":
            return self._unknown(unknown, "DELETE")
        request.not_deleted = list(unknown)
        protected = [one for one in ids if one.lower() in self.settings["protected_users"]]
        if protected:
            if self.settings["delete_refusal"] == "succeeded_false_partial":
                request.not_deleted += protected
                for one in ids:
                    if one not in protected:
                        organization["users"].pop(one.lower(), None)
            else:
                request.not_deleted = list(ids)
            return self._refuse_delete(protected)
        for one in ids:
            organization["users"].pop(one.lower(), None)
        return Response(204)

    # --- Orchestrator -------------------------------------------------------------------------
    def _orchestrator(self, request, organization, tenant_name, rest):
        tenant = organization["tenants"].get(tenant_name.lower())
        if tenant is None:
            # An unknown tenant reaches the portal, as an unknown organization does (UNCONFIRMED).
            return Response(404, raw=HTML_PAGE, content_type="text/html; charset=utf-8")
        known, denied = self._authenticate(request, organization)
        if denied is not None:
            return denied
        if len(rest) < 2 or rest[0] != "odata":
            return Response(404)
        match = ENTITY_SEGMENT.match(rest[1])
        if match is None or len(rest) > 3:
            return Response(404)
        entity, key = match.group(1), match.group(2)
        action = rest[2] if len(rest) == 3 else None
        method = request.method
        routes = {
            ("Users", False, None, "GET"): ("OR.Users", False, self._orchestrator_list),
            ("Users", True, None, "GET"): ("OR.Users", False, self._orchestrator_get),
            ("Users", True, None, "DELETE"): ("OR.Users", True, self._orchestrator_delete_user),
            ("Users", False, "Validate", "GET"): ("OR.Users", False, self._orchestrator_validate),
            ("PersonalWorkspaces", False, None, "GET"): ("OR.Folders", False, self._orchestrator_list),
            ("PersonalWorkspaces", True, "ConvertToFolder", "POST"): ("OR.Folders", True, self._orchestrator_convert),
            ("Folders", False, None, "GET"): ("OR.Folders", False, self._orchestrator_list),
            ("Folders", True, None, "GET"): ("OR.Folders", False, self._orchestrator_get),
            ("Folders", True, None, "DELETE"): ("OR.Folders", True, self._orchestrator_delete_folder),
        }
        action_name = None
        if action is not None:
            if not action.startswith(ACTION_PREFIX):
                return Response(404)
            action_name = action[len(ACTION_PREFIX):].split("(")[0]
        route = routes.get((entity, key is not None, action_name, method))
        if route is None:
            known_route = any(one[:3] == (entity, key is not None, action_name) for one in routes)
            return orchestrator_error(405, "The requested resource does not support this method.") if known_route \
                else Response(404)
        resource, writes, handler = route
        scopes = known["scopes"] if known["kind"] == "client" else known.get("orchestrator_scopes")
        if scopes is not None and not any(
                scope in scopes for scope in (resource, resource + (".Write" if writes else ".Read"))):
            status = int(self.settings["orchestrator_scope_error_status"])
            headers = {"WWW-Authenticate": 'Bearer error="insufficient_scope"'} if status == 403 else \
                {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="The scope is not valid"'}
            # The body Orchestrator gives for a missing scope is UNCONFIRMED.
            response = orchestrator_error(status, "You are not authorized!")
            response.headers.update(headers)
            return response
        if known.get("client_id") in tenant["clients_without_role"]:
            return orchestrator_error(403, "You are not authorized!")
        return handler(request, tenant, entity, int(key) if key is not None else None, action, known)

    @staticmethod
    def _collection(tenant, entity):
        return {"Users": tenant["users"], "PersonalWorkspaces": tenant["workspaces"], "Folders": tenant["folders"]}[entity]

    @staticmethod
    def _public(item):
        return dict((field, value) for field, value in item.items() if field not in ("entities", "users"))

    def _orchestrator_list(self, request, tenant, entity, _key, _action, _token):
        items = list(self._collection(tenant, entity).values())
        odata_filter = request.arg("$filter")
        count = (request.arg("$count") or "false").lower()
        try:
            if odata_filter is not None:
                terms = parse_filter(odata_filter)
                nodes = filter_node_count(terms)
                if nodes > ODATA_MAX_NODES:
                    raise ValueError("The node count limit of '%d' has been exceeded (the filter has %d nodes)."
                                     % (ODATA_MAX_NODES, nodes))
                items = [item for item in items if filter_matches(item, terms)]
            top = int(request.arg("$top", str(ORCHESTRATOR_MAX_TOP)))
            skip = int(request.arg("$skip", "0"))
            if count not in ("true", "false"):
                raise ValueError("$count must be true or false.")
        except ValueError as exc:
            return orchestrator_error(400, "The query specified in the URI is not valid. %s" % exc)
        if not 0 <= top <= ORCHESTRATOR_MAX_TOP:
            return orchestrator_error(400, "The limit of '%d' for Top query has been exceeded." % ORCHESTRATOR_MAX_TOP)
        if not 0 <= skip <= MAX_INT32:
            return orchestrator_error(400, "The query specified in the URI is not valid. $skip is out of range.")
        body = {"@odata.context": "odata/$metadata#%s" % entity}
        if count == "true":
            body["@odata.count"] = len(items)
        body["value"] = [self._public(item) for item in items[skip:skip + top]]
        return Response(200, body)

    def _orchestrator_get(self, _request, tenant, entity, key, _action, _token):
        item = self._collection(tenant, entity).get(key)
        if item is None:
            return orchestrator_error(404, "%s does not exist." % entity.rstrip("s"), 1002)
        return Response(200, self._public(item))

    def _orchestrator_validate(self, request, tenant, _entity, _key, action, _token):
        match = re.match(r"^" + re.escape(ACTION_PREFIX) + r"Validate\(userIds=\[([0-9, ]*)\]\)$", action)
        if match is None:
            return orchestrator_error(400, "The request is invalid: userIds must be a list of user ids.")
        ids = [int(one) for one in match.group(1).replace(" ", "").split(",") if one]
        # Ids that are not users of the tenant are left out of the answer (UNCONFIRMED).
        return Response(200, {"@odata.context": "odata/$metadata#Collection(UiPath.Core.Dictionary)",
                              "value": dict((str(one), one in tenant["busy"]) for one in ids if one in tenant["users"])})

    def _orchestrator_delete_user(self, _request, tenant, _entity, key, _action, _token):
        if key not in tenant["users"]:
            return orchestrator_error(404, "User does not exist.", 1002)
        if key in tenant["busy"]:
            # How Orchestrator answers deleting a user whose robots run jobs is UNCONFIRMED; refused here.
            return orchestrator_error(409, "The user's robots are running jobs.")
        owned = [one for one, workspace in tenant["workspaces"].items() if workspace["OwnerId"] == key]
        removal = self.settings["workspace_owner_removal"]
        if owned and removal == "refused":
            return orchestrator_error(409, "The user owns a personal workspace.")
        # Its folder assignments go with the user (associations() reads only users that still exist), and so does
        # its exploring of workspaces (UNCONFIRMED).
        del tenant["users"][key]
        for workspace in tenant["workspaces"].values():
            if key in (workspace.get("ExploringUserIds") or []):
                workspace["ExploringUserIds"] = [one for one in workspace["ExploringUserIds"] if one != key]
        for one in owned:
            if removal == "deletes":
                del tenant["workspaces"][one]
            else:
                tenant["workspaces"][one]["IsActive"] = False
        return Response(204)

    def _orchestrator_convert(self, request, tenant, _entity, key, _action, _token):
        workspace = tenant["workspaces"].get(key)
        if workspace is None:
            return orchestrator_error(404, "Personal workspace does not exist.", 1002)
        if self.settings["convert_to_folder"] == "refused":
            # PersonalWorkspaces_ConvertToFolderById in the API definition: "OAuth authentication is not supported".
            # Every token this simulator issues or knows is OAuth (client credentials, personal access tokens). The
            # status of the refusal is UNCONFIRMED.
            return orchestrator_error(403, "OAuth authentication is not supported for this request.")
        try:
            body = request.json()
        except ValueError:
            body = None
        name = body.get("folderName") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            return orchestrator_error(400, "The folder name is required.")
        taken = [folder for folder in tenant["folders"].values() if folder["DisplayName"].casefold() == name.casefold()]
        if taken:
            return orchestrator_error(409, "A folder named '%s' already exists." % name)
        # The workspace becomes a standard folder with its content; its id stays (UNCONFIRMED). UiPath's guide
        # (Managing Personal Workspaces): the workspace's owner is added to the new folder.
        del tenant["workspaces"][key]
        tenant["folders"][key] = {"Id": key, "Key": workspace["Key"], "DisplayName": name, "FullyQualifiedName": name,
                                  "FolderType": "Standard", "converted_from": workspace["Name"],
                                  "entities": workspace["entities"],
                                  "users": [workspace["OwnerId"]] + list(workspace.get("ExploringUserIds") or [])}
        return Response(204)

    @staticmethod
    def associations(tenant, folder):
        """The users of the tenant associated with a folder: a personal workspace's owner and the users exploring
        it, a folder's `users`."""
        ids = ([folder["OwnerId"]] + list(folder.get("ExploringUserIds") or []) if "OwnerId" in folder
               else list(folder.get("users") or []))
        return sorted(set(one for one in ids if one in tenant["users"]))

    def _orchestrator_delete_folder(self, _request, tenant, _entity, key, _action, _token):
        collection = tenant["workspaces"] if key in tenant["workspaces"] else tenant["folders"]
        folder = collection.get(key)
        if folder is None:
            return orchestrator_error(404, "Folder does not exist.", 1002)
        # Folders_DeleteById in the API definition: "Succeeds only if no entities or user associations exist in this
        # folder or any of its descendants". The status and body of the refusal are UNCONFIRMED.
        users = self.associations(tenant, folder)
        held = (["%d entities" % folder["entities"]] if folder["entities"] else []) + (
            ["%d user associations (users %s)" % (len(users), ", ".join(str(one) for one in users))] if users else [])
        if held:
            return orchestrator_error(409, "The folder cannot be deleted: it has %s." % " and ".join(held))
        del collection[key]
        return Response(204)
