# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local stand-in for Atlassian's organization admin APIs, for the accounts of one organization.

Routes (under the client's base URL, as on https://api.atlassian.com):
  GET    /admin/v2/orgs/{orgId}/directories        (`accountId`, `directoryIds`, `searchTerm`, `cursor`, `limit`)
  POST   /admin/v2/orgs/{orgId}/directories/{directoryId|-}/users/search        (reads: `emails` exact)
  GET    /admin/v2/orgs/{orgId}/directories/{directoryId|-}/users/{accountId}
  DELETE /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}      (remove from the directory)
  POST   /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/suspend | /restore
  DELETE /admin/api-access/v1/orgs/{orgId}/api-tokens   (revokes every managed account's tokens; the modules
                                                         must never call it, and tests check that they do not)
  GET    /users/{accountId}/manage                       (permissions, `{"allowed": false, "reason": {"key"}}`)
  GET    /users/{accountId}/manage/api-tokens
  DELETE /users/{accountId}/manage/api-tokens/{tokenId}
  POST   /users/{accountId}/manage/lifecycle/disable | enable | delete | cancel-delete

Behaviour follows the provider notes: a bearer organization API key (401 without a known one); a key
created with scopes reaches the organizations API but gets 403 on every user management call (AX-228);
accounts synced from Google Workspace get 403 `forbidden.action` on lifecycle calls (AX-186); only managed
accounts can be managed through /users/...; a delete starts a 14-day grace period (`forDeletion`) during
which the tokens stay; POSTs without a JSON body get 415. Error bodies: the organizations API's
`{"errors": [{code, status, title, detail}]}`, the user management API's `{"key", "message", "context"}`.

Requests are held to Atlassian's published definitions (the organizations API and user management API
OpenAPI documents on developer.atlassian.com, as generated into jira.js `src/admin` and `src/userManagement`):
query parameters and body fields outside them, values outside their enums and wrong types are answered 400; a
cursor is the only parameter a later page needs ("if present, all other parameters are discarded"). Where a
definition is silent the stricter reading is the default, with a switch (`seed`) for the others:

- `search_max_limit` (default 50): the largest `limit` the user search takes. The definition says only
  "Defaults to 50", so larger values are refused; a third party documents 100 for the directory users list.
- `page_size` (default 50): how many items a page of the lists and the search has when no `limit` is given.
- `closed_manage`: what `/users/{id}/manage...` answers for a closed account: "404" (default), "403", or
  "200" (permissions all refused, tokens listed as seeded).
"""

from __future__ import annotations

import base64
import copy
import json

from ._base import BadRequest, Response, Simulator, new_id

LIFECYCLE_ACTIONS = ("disable", "enable", "delete", "cancel-delete")
PERMISSIONS = ("lifecycle.enablement", "lifecycle.delete", "apiToken.delete", "email.set", "profile.read")
# "The number of results to return per page. Defaults to 50." (MultiDirectoryUserSearchRequest.limit); no
# larger value is documented.
DEFAULT_PAGE = 50
# GET /admin/v2/orgs/{orgId}/directories (getDirectoriesForOrg): its query parameters.
DIRECTORY_LIST_PARAMETERS = ("accountId", "directoryIds", "searchTerm", "cursor", "limit")
# POST .../users/search (MultiDirectoryUserSearchRequest): each field with its type, and the values of an enum.
ACCOUNT_STATUSES = ("active", "inactive", "closed")
SEARCH_FIELDS = {
    "cursor": str, "limit": int, "accountIds": [str], "directoryIds": [str], "resourceIds": [str],
    "groupIds": [str], "mfaEnabled": bool, "claimStatus": ("managed", "unmanaged"),
    "status": [("active", "suspended", "not_invited", "deactivated", "for_deletion")],
    "accountStatus": [ACCOUNT_STATUSES], "membershipStatus": [("active", "suspended", "no_membership")],
    "roleIds": [str], "emailDomains": [str], "searchTerm": str, "emails": [str],
    "expand": [("platformRoles", "counts.resources", "productAccess", "groups")], "sortBy": [dict],
}
# The search filters this simulator applies; any other documented filter is refused as not simulated, so that
# a client never reads an unfiltered answer as a filtered one.
SIMULATED_FILTERS = ("cursor", "limit", "emails", "accountIds", "directoryIds", "claimStatus", "accountStatus",
                     "membershipStatus")
# POST /users/{id}/manage/lifecycle/disable takes an optional `{"message"}`; enable, delete and cancel-delete
# document no body.
LIFECYCLE_BODY = {"disable": ("message",), "enable": (), "delete": (), "cancel-delete": ()}
CLOSED_MANAGE = ("404", "403", "200")


def org_error(status, detail, code=None, title=None):
    return Response(status, {"errors": [{"code": code or "ADMIN-%d" % status, "status": str(status),
                                         "title": title or detail, "detail": detail}]},
                    headers={"ATL-TraceId": new_id().replace("-", "")[:16]})


def lifecycle_error(status, message):
    # The lifecycle endpoints' documented error body: a list of `{code, message}` (LifecycleErrors).
    return Response(status, [{"code": "invalid.request" if status == 400 else "unsupported.media.type",
                              "message": message}], headers={"ATL-TraceId": new_id().replace("-", "")[:16]})


def field_problem(kind, value):
    """What is wrong with a body field's value for its documented type (a type, a tuple of enum values, or a
    one-item list of either for an array), or None; an undocumented field is a problem of its own."""
    if kind is None:
        return "not a field of the request"
    if isinstance(kind, list):
        if not isinstance(value, list):
            return "must be an array"
        return next((problem for problem in (field_problem(kind[0], item) for item in value) if problem), None)
    if isinstance(kind, tuple):
        return None if value in kind else "must be one of %s, got %r" % (", ".join(kind), value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        return "must be an integer"
    return None if isinstance(value, kind) else "must be a %s" % kind.__name__


def um_error(status, key, message, reason=None):
    body = {"key": key, "message": message}
    if reason:
        body["context"] = {"allowed": False, "reason": {"key": reason}}
    return Response(status, body, headers={"ATL-TraceId": new_id().replace("-", "")[:16]})


class AtlassianAdminSimulator(Simulator):
    name = "atlassian-admin"

    def __init__(self, seed=None):
        super().__init__()
        self.org_id = None
        self.keys = {}
        self.directories = []
        self.accounts = {}
        self.search_max_limit = DEFAULT_PAGE
        self.page_size = DEFAULT_PAGE
        self.closed_manage = "404"
        self.seed(seed or {})

    # --- state --------------------------------------------------------------------------------
    def seed(self, data):
        """{"org_id", "api_keys": {key: {"scoped": bool}}, "directories": [{"id", "name"}], "accounts": [{
        "account_id", "email", "name", "managed" (bool), "account_status" (active, inactive, closed),
        "for_deletion", "source" (null, "google", "scim"), "manage_shows_reason" (bool, default true: whether
        GET /users/{id}/manage tells that a synced account's lifecycle is refused), "memberships": {directory:
        "active"|"suspended"}, "tokens": [{"id", "label"}]}], "search_max_limit", "page_size", "closed_manage"}"""
        if data.get("closed_manage", "404") not in CLOSED_MANAGE:
            raise ValueError("closed_manage must be one of %s" % ", ".join(CLOSED_MANAGE))
        with self.lock:
            self.search_max_limit = int(data.get("search_max_limit", DEFAULT_PAGE))
            self.page_size = int(data.get("page_size", DEFAULT_PAGE))
            self.closed_manage = data.get("closed_manage", "404")
            self.org_id = data.get("org_id")
            self.keys = dict((key, dict(spec or {})) for key, spec in (data.get("api_keys") or {}).items())
            self.directories = [dict(directory) for directory in data.get("directories") or []]
            self.accounts = {}
            for spec in data.get("accounts") or []:
                account = copy.deepcopy(spec)
                account.setdefault("account_id", new_id())
                account.setdefault("name", account.get("email", "").split("@")[0].title())
                account.setdefault("managed", True)
                account.setdefault("account_status", "active")
                account.setdefault("for_deletion", False)
                account.setdefault("source", None)
                account.setdefault("manage_shows_reason", True)
                account.setdefault("memberships", {})
                account.setdefault("tokens", [])
                for token in account["tokens"]:
                    token.setdefault("id", new_id())
                    token.setdefault("createdAt", "2025-01-02T03:04:05.000Z")
                self.accounts[account["account_id"]] = account

    def snapshot(self):
        with self.lock:
            return {"org_id": self.org_id, "directories": copy.deepcopy(self.directories),
                    "accounts": copy.deepcopy(list(self.accounts.values()))}

    def credentials(self):
        with self.lock:
            return {"org_id": self.org_id,
                    "keys": [{"api_key": key, "scoped": bool(spec.get("scoped"))} for key, spec in self.keys.items()]}

    def client_environment(self, url):
        """Environment variables that point the atlassian_account modules at this organization."""
        with self.lock:
            unscoped = [key for key, spec in self.keys.items() if not spec.get("scoped")]
            if not self.org_id or not unscoped:
                return {}
            env = {"ATLASSIAN_ADMIN_BASE_URL": url, "ATLASSIAN_ORG_ID": self.org_id, "ATLASSIAN_ADMIN_API_KEY": unscoped[0]}
            if self.directories:
                env["ATLASSIAN_ORG_DIRECTORY_ID"] = self.directories[0]["id"]
            return env

    def account(self, account_id):
        with self.lock:
            return copy.deepcopy(self.accounts[account_id])

    def is_changing(self, request):
        # The user search is a POST that only reads.
        return request.method not in ("GET", "HEAD") and not (
            request.method == "POST" and request.segments[-2:] == ["users", "search"])

    def proper_places(self, received):
        """The API key belongs in `Authorization: Bearer <key>` only."""
        return [("header", "Authorization")]

    def log_entry(self, request, status):
        # The JSON body too (no secret is ever in one), so that tests can hold requests to the definitions.
        entry = super().log_entry(request, status)
        try:
            entry["json"] = request.json()
        except ValueError:
            entry["json"] = None
        return entry

    # --- routing ------------------------------------------------------------------------------
    def handle(self, request):
        with self.lock:
            key = self._key(request)
            if key is None:
                return um_error(401, "unauthorized", "Unauthorized") if request.segments[:1] == ["users"] else \
                    org_error(401, "The API key is missing or not valid", code="ADMIN-401-1", title="UNAUTHORIZED")
            segments = request.segments
            if segments[:3] == ["admin", "v2", "orgs"] and len(segments) >= 5 and segments[4] == "directories":
                if segments[3] != self.org_id:
                    return org_error(404, "Organization not found", code="ADMIN-404-1")
                return self._directory_route(request, segments[5:])
            if segments[:4] == ["admin", "api-access", "v1", "orgs"] and segments[5:] == ["api-tokens"]:
                return self._revoke_all(request, segments[4])
            if segments[:1] == ["users"] and len(segments) >= 3 and segments[2] == "manage":
                if key.get("scoped"):
                    return um_error(403, "forbidden", "You are not authorized to access this resource: the API key "
                                    "needs the scope manage:org")
                return self._manage_route(request, segments[1], segments[3:])
            return org_error(404, "No such resource %s" % request.raw_path)

    def _key(self, request):
        scheme, _separator, value = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.keys.get(value.strip())

    @staticmethod
    def _json_body(request, fields=None, error=None):
        """The JSON object of the request; with `fields`, one holding no other field (400)."""
        error = error or org_error
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequest(error(415, "Unsupported Media Type"))
        try:
            body = request.json()
        except ValueError:
            raise BadRequest(error(400, "The body is not valid JSON"))
        if not isinstance(body, dict):
            raise BadRequest(error(400, "The body must be a JSON object"))
        unknown = sorted(set(body) - set(fields)) if fields is not None else []
        if unknown:
            raise BadRequest(error(400, "Unrecognized field(s) %s" % ", ".join(map(repr, unknown))))
        return body

    # --- paging -------------------------------------------------------------------------------
    @staticmethod
    def _cursor(query, offset):
        return base64.urlsafe_b64encode(json.dumps({"query": query, "offset": offset}).encode()).decode()

    @staticmethod
    def _decode_cursor(cursor):
        try:
            decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
            if isinstance(decoded.get("query"), dict) and isinstance(decoded.get("offset"), int):
                return decoded["query"], decoded["offset"]
        except (ValueError, AttributeError, TypeError):
            pass
        raise BadRequest(org_error(400, "The page cursor is not valid", code="ADMIN-400-INVALID-CURSOR"))

    def _limit(self, value, maximum):
        if value is None:
            return self.page_size
        try:
            limit = int(value)
        except (TypeError, ValueError):
            limit = None
        if limit is None or isinstance(value, bool) or not 1 <= limit <= maximum:
            raise BadRequest(org_error(400, "limit must be an integer from 1 to %d, got %r" % (maximum, value),
                                       code="ADMIN-400-INVALID-LIMIT"))
        return limit

    def _page(self, items, query, offset, limit):
        page = items[offset:offset + limit]
        after = offset + len(page)
        return {"data": page, "links": {"next": self._cursor(query, after) if after < len(items) else None}}

    # --- organizations API (v2 directories) ----------------------------------------------------
    def _directory_route(self, request, rest):
        if not rest:
            if request.method != "GET":
                return org_error(405, "Method not allowed")
            return self._list_directories(request)
        directory = rest[0]
        if directory != "-" and directory not in [one["id"] for one in self.directories]:
            return org_error(404, "Directory not found", code="ADMIN-404-2")
        if rest[1:] == ["users", "search"] and request.method == "POST":
            return self._search(request, directory)
        if len(rest) < 3 or rest[1] != "users":
            return org_error(404, "No such resource %s" % request.raw_path)
        account = self.accounts.get(rest[2])
        if account is None or not self._visible(account, directory):
            return org_error(404, "User not found", code="ADMIN-404-3")
        action = rest[3:]
        if not action and request.method == "GET":
            return Response(200, {"data": self._details(account, directory)})
        if directory == "-":
            return org_error(400, "Give a directory id to change a user", code="ADMIN-400-2")
        if not action and request.method == "DELETE":
            if account["memberships"].pop(directory, None) is None:
                return org_error(404, "User not found", code="ADMIN-404-3")
            return Response(204)
        if action in (["suspend"], ["restore"]) and request.method == "POST":
            # No body is documented; without a JSON one the API answers 415 (reported), so only `{}` passes.
            self._json_body(request, fields=())
            if directory not in account["memberships"]:
                return org_error(404, "User not found", code="ADMIN-404-3")
            account["memberships"][directory] = "suspended" if action == ["suspend"] else "active"
            return Response(200, {"message": "User access %s" % ("suspended" if action == ["suspend"] else "restored")})
        return org_error(404, "No such resource %s" % request.raw_path)

    @staticmethod
    def _visible(account, directory):
        if directory == "-":
            return account["managed"] or bool(account["memberships"])
        return directory in account["memberships"]

    @staticmethod
    def _membership(account, directory):
        if directory != "-":
            return account["memberships"].get(directory, "no_membership")
        states = set(account["memberships"].values())
        return "active" if "active" in states else "suspended" if states else "no_membership"

    def _details(self, account, directory):
        membership = self._membership(account, directory)
        if account["for_deletion"]:
            status = "for_deletion"
        elif account["account_status"] != "active":
            status = "deactivated"
        else:
            status = "suspended" if membership == "suspended" else "active"
        return {"accountId": account["account_id"], "email": account["email"], "name": account["name"],
                "accountType": "atlassian", "accountStatus": account["account_status"],
                "claimStatus": "managed" if account["managed"] else "unmanaged",
                "membershipStatus": membership, "status": status, "forDeletion": account["for_deletion"],
                "managementSource": "synced" if account["source"] else "invited"}

    def _list_directories(self, request):
        unknown = sorted(set(request.query) - set(DIRECTORY_LIST_PARAMETERS))
        if unknown:
            return org_error(400, "Unrecognized query parameter(s) %s" % ", ".join(unknown), code="ADMIN-400-1")
        query = dict((name, values if name == "directoryIds" else values[-1]) for name, values in request.query.items())
        offset = 0
        if "cursor" in query:
            # "If present, all other parameters are discarded when searching."
            query, offset = self._decode_cursor(query["cursor"])
        limit = self._limit(query.get("limit"), self.search_max_limit)
        found = [one for one in self.directories
                 if (not query.get("accountId") or one["id"] in self._account_directories(query["accountId"]))
                 and (not query.get("directoryIds") or one["id"] in query["directoryIds"])
                 and str(query.get("searchTerm") or "").casefold() in one.get("name", one["id"]).casefold()]
        listed = [{"directoryId": one["id"], "name": one.get("name", one["id"])} for one in found]
        return Response(200, self._page(listed, query, offset, limit))

    def _account_directories(self, account_id):
        account = self.accounts.get(account_id)
        return list(account["memberships"]) if account else []

    def _search(self, request, directory):
        body = self._json_body(request)
        for name, value in sorted(body.items()):
            problem = field_problem(SEARCH_FIELDS.get(name), value)
            if problem:
                return org_error(400, "%s: %s" % (name, problem), code="ADMIN-400-1")
        if body.get("emails") is not None and body.get("searchTerm") is not None:
            # "`searchTerm` and `emails` are mutually exclusive. Providing both ... returns 400 Bad Request."
            return org_error(400, "searchTerm and emails cannot be combined", code="ADMIN-400-3")
        unsimulated = sorted(set(body) - set(SIMULATED_FILTERS))
        if unsimulated:
            return org_error(400, "this simulator does not apply %s" % ", ".join(unsimulated), code="SIMULATOR")
        query, offset = dict(body), 0
        if "cursor" in body:
            query, offset = self._decode_cursor(body["cursor"])
        limit = self._limit(body.get("limit", query.get("limit")), self.search_max_limit)
        # Compared with full case folding, as a case-insensitive server may (`straße` finds `strasse`), so
        # that clients must check what they get.
        emails = [str(email).casefold() for email in query.get("emails") or []]
        found = [self._details(account, directory) for account in self.accounts.values()
                 if self._visible(account, directory) and (not emails or account["email"].casefold() in emails)
                 and self._chosen(account, directory, query)]
        return Response(200, self._page(found, query, offset, limit))

    def _chosen(self, account, directory, query):
        details = self._details(account, directory)
        return ((not query.get("accountIds") or account["account_id"] in query["accountIds"])
                and (not query.get("directoryIds") or set(query["directoryIds"]) & set(account["memberships"]))
                and (not query.get("claimStatus") or details["claimStatus"] == query["claimStatus"])
                and (not query.get("accountStatus") or details["accountStatus"] in query["accountStatus"])
                and (not query.get("membershipStatus") or details["membershipStatus"] in query["membershipStatus"]))

    def _revoke_all(self, request, org_id):
        if request.method != "DELETE" or org_id != self.org_id:
            return org_error(404, "No such resource %s" % request.raw_path)
        for account in self.accounts.values():
            if account["managed"]:
                account["tokens"] = []
        return Response(204)

    # --- user management API -------------------------------------------------------------------
    def _manage_route(self, request, account_id, rest):
        account = self.accounts.get(account_id)
        if account is None:
            return um_error(404, "not.found", "The account does not exist")
        if account["account_status"] == "closed":
            answer = self._closed(request, account, rest)
            if answer is not None:
                return answer
        if not account["managed"]:
            if not rest and request.method == "GET":
                unallowed = {"allowed": False, "reason": {"key": "managedAccount"}}
                return Response(200, dict((name, unallowed) for name in PERMISSIONS))
            return um_error(403, "forbidden.action", "The account is not managed by your organization", "managedAccount")
        if not rest and request.method == "GET":
            return Response(200, self._permissions(account))
        if rest == ["api-tokens"] and request.method == "GET":
            return Response(200, [dict(token) for token in account["tokens"]])
        if len(rest) == 2 and rest[0] == "api-tokens" and request.method == "DELETE":
            remaining = [token for token in account["tokens"] if token["id"] != rest[1]]
            if len(remaining) == len(account["tokens"]):
                return um_error(404, "not.found", "No such API token")
            account["tokens"] = remaining
            return Response(204)
        if len(rest) == 2 and rest[0] == "lifecycle" and rest[1] in LIFECYCLE_ACTIONS and request.method == "POST":
            return self._lifecycle(request, account, rest[1])
        return um_error(404, "not.found", "No such resource %s" % request.raw_path)

    def _closed(self, request, account, rest):
        """What a closed account's user management calls answer (unconfirmed: `closed_manage`), or None to answer
        the read as for any account."""
        if self.closed_manage == "404":
            return um_error(404, "not.found", "The account does not exist")
        if self.closed_manage == "403":
            return um_error(403, "forbidden.action", "The account is closed", "closed")
        if not rest and request.method == "GET":
            refused = {"allowed": False, "reason": {"key": "closed"}}
            return Response(200, dict((name, refused) for name in PERMISSIONS))
        if rest == ["api-tokens"] and request.method == "GET":
            return None
        return um_error(400, "invalid.state", "The account is closed")

    @staticmethod
    def _permissions(account):
        granted = {"allowed": True}
        permissions = dict((name, granted) for name in PERMISSIONS)
        if account["source"] and account["manage_shows_reason"]:
            refused = {"allowed": False, "reason": {"key": "externalDirectory.%s" % account["source"]}}
            permissions["lifecycle.enablement"] = permissions["lifecycle.delete"] = refused
        return permissions

    def _lifecycle(self, request, account, action):
        if request.body:
            body = self._json_body(request, fields=LIFECYCLE_BODY[action], error=lifecycle_error)
            if not isinstance(body.get("message", ""), str):
                return lifecycle_error(400, "message must be a string")
        if account["source"]:
            return um_error(403, "forbidden.action", "You are not allowed to perform this action",
                            "externalDirectory.%s" % account["source"])
        if action == "disable":
            account["account_status"] = "inactive"
        elif action == "enable":
            if account["for_deletion"]:
                return um_error(400, "invalid.state", "The account is scheduled for deletion; cancel the deletion first")
            account["account_status"] = "active"
        elif action == "delete":
            if account["for_deletion"]:
                return um_error(400, "invalid.state", "The account is already scheduled for deletion")
            account["for_deletion"] = True
            account["account_status"] = "inactive"
        else:
            if not account["for_deletion"]:
                return um_error(400, "invalid.state", "The account is not scheduled for deletion")
            account["for_deletion"] = False
            account["account_status"] = "active"
        return Response(204)
