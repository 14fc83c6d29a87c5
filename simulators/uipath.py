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
                                           skip, sortBy, sortOrder, searchTerm

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
from urllib.parse import parse_qs

from ._base import BadRequest, Response, Simulator, new_id

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
USER_TYPES = ("user", "robot", "directoryUser", "directoryGroup", "robotAccount", "application")
DEFAULT_SCOPES = ("PM.User", "PM.User.Read", "PM.User.Write")
READ_SCOPES = ("PM.User", "PM.User.Read")
WRITE_SCOPES = ("PM.User", "PM.User.Write")
MAX_TOP = 1000
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
}
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


class UiPathIdentitySimulator(Simulator):
    name = "uipath-identity"

    def __init__(self, organizations=None, **settings):
        super().__init__()
        self.settings = copy.deepcopy(DEFAULT_SETTINGS)
        self.seed(dict(settings, organizations=organizations or {}))

    # --- state --------------------------------------------------------------------------------
    def seed(self, data):
        """{"organizations": {name: {"partition_global_id", "clients": {id: {"secret", "scopes"}},
        "personal_access_tokens": {token: {"expired": bool}}, "users": [UserDto]}}, plus settings}."""
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
                    self.tokens[token] = {"organization": name, "kind": "pat", "scopes": None,
                                          "expires": 0 if (pat or {}).get("expired") else None}
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
                        "users": copy.deepcopy(list(organization["users"].values()))})
                for name, organization in self.organizations.items())}

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

    def handle(self, request):
        with self.lock:
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
                              "expires": time.time() + lifetime}
        answer = {"access_token": token, "expires_in": lifetime, "token_type": "Bearer", "scope": " ".join(wanted)}
        return Response(200, answer)

    def _authorize(self, request, organization):
        scheme, _space, token = (request.header("Authorization") or "").partition(" ")
        known = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if known is None or known["organization"] != organization["name"]:
            return Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if known["expires"] is not None and known["expires"] <= time.time():
            return Response(401, headers={"WWW-Authenticate": 'Bearer error="invalid_token", '
                                                              'error_description="The token expired"'})
        if self._expire_countdown is not None:
            self._expire_countdown -= 1
            if self._expire_countdown <= 0:
                self.expire_tokens()
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
        if not 0 <= top <= MAX_TOP or skip < 0:
            return problem(400, "One or more validation errors occurred.",
                           errors={"top": ["The field top must be between 0 and %d." % MAX_TOP]})
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
        protected = [one for one in ids if one.lower() in self.settings["protected_users"]]
        if protected:
            if self.settings["delete_refusal"] == "succeeded_false_partial":
                for one in ids:
                    if one not in protected:
                        organization["users"].pop(one.lower(), None)
            return self._refuse_delete(protected)
        for one in ids:
            organization["users"].pop(one.lower(), None)
        return Response(204)
