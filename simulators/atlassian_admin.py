# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local stand-in for Atlassian's organization admin APIs, for the accounts of one organization.

Routes (under the client's base URL, as on https://api.atlassian.com):
  GET    /admin/v2/orgs/{orgId}/directories
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
"""

from __future__ import annotations

import copy

from ._base import BadRequest, Response, Simulator, new_id

LIFECYCLE_ACTIONS = ("disable", "enable", "delete", "cancel-delete")
PERMISSIONS = ("lifecycle.enablement", "lifecycle.delete", "apiToken.delete", "email.set", "profile.read")
MAX_LIMIT = 100


def org_error(status, detail, code=None, title=None):
    return Response(status, {"errors": [{"code": code or "ADMIN-%d" % status, "status": str(status),
                                         "title": title or detail, "detail": detail}]},
                    headers={"ATL-TraceId": new_id().replace("-", "")[:16]})


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
        self.seed(seed or {})

    # --- state --------------------------------------------------------------------------------
    def seed(self, data):
        """{"org_id", "api_keys": {key: {"scoped": bool}}, "directories": [{"id", "name"}], "accounts": [{
        "account_id", "email", "name", "managed" (bool), "account_status" (active, inactive, closed),
        "for_deletion", "source" (null, "google", "scim"), "manage_shows_reason" (bool, default true: whether
        GET /users/{id}/manage tells that a synced account's lifecycle is refused), "memberships": {directory:
        "active"|"suspended"}, "tokens": [{"id", "label"}]}]}"""
        with self.lock:
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
    def _json_body(request):
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequest(org_error(415, "Unsupported Media Type", code="ADMIN-415"))
        try:
            body = request.json()
        except ValueError:
            raise BadRequest(org_error(400, "The body is not valid JSON", code="ADMIN-400-1"))
        if not isinstance(body, dict):
            raise BadRequest(org_error(400, "The body must be a JSON object", code="ADMIN-400-1"))
        return body

    # --- organizations API (v2 directories) ----------------------------------------------------
    def _directory_route(self, request, rest):
        if not rest:
            if request.method != "GET":
                return org_error(405, "Method not allowed")
            return Response(200, {"data": [{"directoryId": one["id"], "name": one.get("name", one["id"])}
                                           for one in self.directories], "links": {"next": None}})
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
            self._json_body(request)
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

    def _search(self, request, directory):
        body = self._json_body(request)
        if body.get("emails") is not None and body.get("searchTerm") is not None:
            return org_error(400, "searchTerm and emails cannot be combined", code="ADMIN-400-3")
        # Compared with full case folding, as a case-insensitive server may (`straße` finds `strasse`), so
        # that clients must check what they get.
        emails = [str(email).casefold() for email in body.get("emails") or []]
        limit = min(MAX_LIMIT, int(body.get("limit") or MAX_LIMIT))
        start = int(body.get("cursor") or 0)
        found = [account for account in self.accounts.values()
                 if self._visible(account, directory) and (not emails or account["email"].casefold() in emails)]
        page = found[start:start + limit]
        after = start + len(page)
        return Response(200, {"data": [self._details(account, directory) for account in page],
                              "links": {"next": str(after) if after < len(found) else None}})

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
        if account is None or account["account_status"] == "closed":
            return um_error(404, "not.found", "The account does not exist")
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
            self._json_body(request)
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
