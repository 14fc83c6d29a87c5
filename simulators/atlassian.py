# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local stand-in for Atlassian Cloud user provisioning (SCIM 2.0).

Routes (under the client's base URL `{url}/scim`):
  /scim/directory/{directoryId}/Users[/{userId}]   GET (list, filter, paging), POST, PUT, PATCH, DELETE
  /scim/directory/{directoryId}/Groups[/{id}]      GET, POST, PATCH (members), DELETE

Behaviour follows the published spec (see the provider notes): bearer key per directory (401 without
a valid key, 403 for another directory's key, 404 for an unknown directory), SCIM error bodies
with `status` as a string, 204 on DELETE and 404 afterwards, group memberships dropped with the
user, `userName eq "..."`/`externalId eq "..."` as the only filters (anything else is 400
invalidFilter), 1-based `startIndex` paging with at most 100 users a page (`max_count` makes pages smaller).

Requests are held to the published OpenAPI of the user provisioning API (as generated into jira.js
`src/userProvisioning`): a list takes only `filter`, `startIndex`, `count`, `attributes` and
`excludedAttributes` ("mutually exclusive"), a PATCH body only `schemas` and the operations (each `op`,
`path`, `value`); anything else is answered 400.

`patch_dialect` chooses which PATCH spellings are applied, because the real one is unconfirmed:
"any" (default), "rfc" (`Operations` only) or "spec" (lowercase `operations` only). `patch_other`
says what happens to the spelling that is not applied: "refuse" (default, 400 invalidSyntax) or
"ignore" (answered like a success, the user unchanged). `patch_answer` is "user" (default, 200 with
the user) or "empty" (204 without a body, whether or not anything was applied).
"""

from __future__ import annotations

import copy
import datetime
import json
import re

from ._base import BadRequest, Response, Simulator, new_id

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# "the first 100 users"; "To fetch beyond the initial 100 users, use the startIndex parameter" (Atlassian's
# knowledge base, How to fetch all users via user provisioning SCIM API): a page has at most 100.
MAX_COUNT = 100
# GET /Users and /Groups (getUsers, getGroups): their query parameters.
LIST_PARAMETERS = ("filter", "startIndex", "count", "attributes", "excludedAttributes")
# RequestPayloadToPatch: `schemas` and `operations` (Atlassian's own example spells it `Operations`, as RFC
# 7644 does); OperationForAScimPatch: `op`, `path`, `value`.
PATCH_FIELDS = ("schemas", "operations", "Operations")
OPERATION_FIELDS = ("op", "path", "value")
JSON_TYPES = ("application/json", "application/scim+json")
FILTER = re.compile(r'^\s*([A-Za-z][\w.]*)\s+(?i:eq)\s+("(?:[^"\\]|\\.)*")\s*$')
MEMBER_PATH = re.compile(r'^members\[value (?i:eq) ("(?:[^"\\]|\\.)*")\]$')
FILTERABLE = {"users": ("userName", "externalId"), "groups": ("displayName", "externalId")}
READ_ONLY = ("id", "meta", "groups", "schemas")


def scim_error(status, detail, scim_type=None):
    body = {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return Response(status, body, content_type="application/scim+json")


def failure(status, message):
    # 401/403 use the documented `Failure` shape, not a SCIM error.
    return Response(status, {"error": message, "traceId": new_id().replace("-", "")[:16]})


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_filter(text, kind):
    """(attribute, value) of an `attr eq "value"` filter; anything else is invalidFilter."""
    match = FILTER.match(text or "")
    if not match:
        raise BadRequest(scim_error(400, "Caller has provided an invalid filter", "invalidFilter"))
    attribute, literal = match.groups()
    allowed = dict((name.lower(), name) for name in FILTERABLE[kind])
    if attribute.lower() not in allowed:
        raise BadRequest(scim_error(400, "Filtering on %s is not supported" % attribute, "invalidFilter"))
    try:
        value = json.loads(literal)
    except ValueError:
        raise BadRequest(scim_error(400, "Caller has provided an invalid filter", "invalidFilter"))
    return allowed[attribute.lower()], value


def requested_active(body, method, dialect="any"):
    """The `active` value a PUT or PATCH body sets, or None when it sets none; a PATCH only in a spelling that
    `dialect` applies (see `patch_dialect`)."""
    if not isinstance(body, dict):
        return None
    if method == "PUT":
        return body.get("active")
    operations = None
    if "Operations" in body and dialect in ("any", "rfc"):
        operations = body["Operations"]
    elif "operations" in body and dialect in ("any", "spec"):
        operations = body["operations"]
    found = None
    for operation in operations if isinstance(operations, list) else []:
        if not isinstance(operation, dict):
            continue
        value = operation.get("value")
        if str(operation.get("path") or "").lower() == "active":
            found = value
        elif not operation.get("path") and isinstance(value, dict) and "active" in value:
            found = value["active"]
    return found


class AtlassianScimSimulator(Simulator):
    name = "atlassian-scim"

    def __init__(self, directories=None, patch_dialect="any", patch_other="refuse", patch_answer="user",
                 max_count=MAX_COUNT):
        super().__init__()
        self.directories = {}
        self.patch_dialect = patch_dialect
        self.patch_other = patch_other
        self.patch_answer = patch_answer
        self.max_count = max_count
        if directories:
            self.seed({"directories": directories})

    # --- state --------------------------------------------------------------------------------
    def seed(self, data):
        """{"directories": {id: {"api_key": str, "users": [user], "groups": [group]}}, "patch_dialect",
        "patch_other", "patch_answer", "max_count"}"""
        with self.lock:
            self.max_count = int(data.get("max_count", self.max_count))
            self.patch_dialect = data.get("patch_dialect", self.patch_dialect)
            self.patch_other = data.get("patch_other", self.patch_other)
            self.patch_answer = data.get("patch_answer", self.patch_answer)
            self.directories = {}
            for directory_id, spec in (data.get("directories") or {}).items():
                directory = {"api_key": spec["api_key"], "users": {}, "groups": {}}
                self.directories[directory_id] = directory
                for user in spec.get("users") or []:
                    self._store_user(directory_id, directory, dict(user))
                for group in spec.get("groups") or []:
                    self._store_group(directory_id, directory, dict(group))

    def snapshot(self):
        with self.lock:
            return {"directories": dict(
                (directory_id, {"users": [self._render_user(directory_id, directory, user)
                                          for user in directory["users"].values()],
                                "groups": copy.deepcopy(list(directory["groups"].values()))})
                for directory_id, directory in self.directories.items())}

    def credentials(self):
        with self.lock:
            return {"directories": dict((directory_id, {"api_key": directory["api_key"]})
                                        for directory_id, directory in self.directories.items())}

    def client_environment(self, url):
        """Environment variables that point the atlassian_* modules at the first directory."""
        with self.lock:
            directory_id, directory = next(iter(self.directories.items()))
            return {"ATLASSIAN_SCIM_BASE_URL": url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": directory_id,
                    "ATLASSIAN_SCIM_API_KEY": directory["api_key"]}

    def users(self, directory_id):
        with self.lock:
            directory = self.directories[directory_id]
            return [self._render_user(directory_id, directory, user) for user in directory["users"].values()]

    def groups(self, directory_id):
        with self.lock:
            return copy.deepcopy(list(self.directories[directory_id]["groups"].values()))

    def _store_user(self, directory_id, directory, user):
        user.setdefault("id", new_id())
        user.setdefault("active", True)
        user.setdefault("schemas", [USER_SCHEMA])
        stamp = now()
        user.setdefault("meta", {"resourceType": "User", "created": stamp, "lastModified": stamp})
        user["meta"]["location"] = "/scim/directory/%s/Users/%s" % (directory_id, user["id"])
        directory["users"][user["id"]] = user
        return user

    def _store_group(self, directory_id, directory, group):
        group.setdefault("id", new_id())
        group.setdefault("schemas", [GROUP_SCHEMA])
        group.setdefault("members", [])
        group.setdefault("meta", {"resourceType": "Group", "created": now(), "lastModified": now()})
        group["meta"]["location"] = "/scim/directory/%s/Groups/%s" % (directory_id, group["id"])
        directory["groups"][group["id"]] = group
        return group

    def _render_user(self, directory_id, directory, user):
        rendered = copy.deepcopy(user)
        rendered["groups"] = [
            {"type": "Group", "value": group["id"], "display": group.get("displayName"),
             "$ref": "/scim/directory/%s/Groups/%s" % (directory_id, group["id"])}
            for group in directory["groups"].values()
            if any(member.get("value") == user["id"] for member in group.get("members") or [])]
        return rendered

    def proper_places(self, received):
        """The API key belongs in `Authorization: Bearer <key>` only."""
        return [("header", "Authorization")]

    def log_entry(self, request, status):
        """The base entry, plus `active` when a PATCH or PUT of a user sets it in a spelling this simulator applies
        (the ground-truth checker of the tests reads it)."""
        entry = super().log_entry(request, status)
        if request.method in ("PATCH", "PUT") and request.segments[3:4] == ["Users"] and len(request.segments) == 5:
            try:
                body = request.json()
            except ValueError:
                body = None
            active = requested_active(body, request.method, self.patch_dialect)
            if active is not None:
                entry["active"] = active
        return entry

    # --- routing ------------------------------------------------------------------------------
    def handle(self, request):
        segments = request.segments
        if len(segments) < 4 or segments[0] != "scim" or segments[1] != "directory":
            return scim_error(404, "Resource not found")
        directory_id, collection = segments[2], segments[3]
        with self.lock:
            denied = self._authorize(request, directory_id)
            if denied is not None:
                return denied
            directory = self.directories[directory_id]
            rest = segments[4:]
            if len(rest) > 1 or collection not in ("Users", "Groups"):
                return scim_error(404, "Resource not found")
            resource_id = rest[0] if rest else None
            if collection == "Users":
                return self._users(request, directory_id, directory, resource_id)
            return self._groups(request, directory_id, directory, resource_id)

    def _authorize(self, request, directory_id):
        header = request.header("Authorization") or ""
        if not header:
            return failure(401, "Missing authorization header.")
        scheme, _separator, key = header.partition(" ")
        known = [one for one, directory in self.directories.items() if directory["api_key"] == key.strip()]
        if scheme.lower() != "bearer" or not known:
            return failure(401, "Unauthorized")
        if directory_id not in self.directories:
            return scim_error(404, "Directory does not exist.")
        if directory_id not in known:
            return failure(403, "You are not authorized to call the API.")
        return None

    @staticmethod
    def _body(request):
        content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise BadRequest(scim_error(415, "Unsupported media type %r" % content_type))
        try:
            body = request.json()
        except ValueError:
            raise BadRequest(scim_error(400, "Request body is not valid JSON", "invalidSyntax"))
        if not isinstance(body, dict):
            raise BadRequest(scim_error(400, "Request body must be a JSON object", "invalidSyntax"))
        return body

    def _page(self, request, items):
        try:
            start = max(1, int(request.arg("startIndex", "1")))
            count = int(request.arg("count", str(self.max_count)))
        except ValueError:
            raise BadRequest(scim_error(400, "startIndex and count must be integers", "invalidValue"))
        # RFC 7644: a negative count is 0; the server may return fewer than asked.
        count = max(0, min(count, self.max_count))
        page = items[start - 1:start - 1 + count]
        return Response(200, {"schemas": [LIST_RESPONSE], "totalResults": len(items), "startIndex": start,
                              "itemsPerPage": len(page), "Resources": page},
                        content_type="application/scim+json")

    @staticmethod
    def _list_query(request):
        """Refuse what the list endpoints do not document: other parameters, and both attribute selections."""
        unknown = sorted(set(request.query) - set(LIST_PARAMETERS))
        if unknown:
            raise BadRequest(scim_error(400, "Unsupported query parameter(s) %s" % ", ".join(unknown), "invalidValue"))
        if request.arg("attributes") is not None and request.arg("excludedAttributes") is not None:
            raise BadRequest(scim_error(400, "attributes and excludedAttributes are mutually exclusive",
                                        "invalidValue"))

    # --- users --------------------------------------------------------------------------------
    def _users(self, request, directory_id, directory, user_id):
        users = directory["users"]
        if user_id is None:
            if request.method == "GET":
                self._list_query(request)
                items = list(users.values())
                if request.arg("filter") is not None:
                    attribute, value = parse_filter(request.arg("filter"), "users")
                    # userName is not case-exact in SCIM; externalId is.
                    if attribute == "userName":
                        items = [user for user in items
                                 if str(user.get("userName", "")).casefold() == str(value).casefold()]
                    else:
                        items = [user for user in items if user.get(attribute) == value]
                return self._page(request, [self._render_user(directory_id, directory, user) for user in items])
            if request.method == "POST":
                return self._create_user(directory_id, directory, self._body(request))
            return scim_error(405, "Method not allowed")
        user = users.get(user_id)
        if user is None:
            return scim_error(404, "Either directory or user does not exist.")
        if request.method == "GET":
            return Response(200, self._render_user(directory_id, directory, user),
                            content_type="application/scim+json")
        if request.method == "DELETE":
            del users[user_id]
            for group in directory["groups"].values():
                group["members"] = [member for member in group.get("members") or []
                                    if member.get("value") != user_id]
            return Response(204)
        if request.method == "PATCH":
            self._patch_user(user, self._body(request))
            if self.patch_answer == "empty":
                return Response(204)
            return Response(200, self._render_user(directory_id, directory, user),
                            content_type="application/scim+json")
        if request.method == "PUT":
            body = self._body(request)
            if not body.get("userName"):
                return scim_error(400, "Invalid payload for update request.", "invalidValue")
            replaced = dict((key, value) for key, value in body.items() if key not in READ_ONLY)
            replaced.update(id=user["id"], meta=user["meta"], schemas=user["schemas"])
            replaced.setdefault("active", True)
            users[user_id] = replaced
            return Response(200, self._render_user(directory_id, directory, replaced),
                            content_type="application/scim+json")
        return scim_error(405, "Method not allowed")

    def _create_user(self, directory_id, directory, body):
        name = body.get("userName")
        emails = body.get("emails") or []
        if not name or not emails:
            return scim_error(400, "Invalid payload for creation request.", "invalidValue")
        if any(str(user.get("userName", "")).casefold() == str(name).casefold()
               for user in directory["users"].values()):
            return scim_error(409, "User already exists.", "uniqueness")
        user = dict((key, value) for key, value in body.items() if key not in READ_ONLY)
        user = self._store_user(directory_id, directory, user)
        return Response(201, self._render_user(directory_id, directory, user),
                        content_type="application/scim+json")

    def _operations(self, body, other="refuse"):
        """The operations of a PATCH body in an applied spelling; None for the other spelling
        when `other` is "ignore" (the server says yes and does nothing)."""
        schemas = body.get("schemas")
        unknown = sorted(set(body) - set(PATCH_FIELDS))
        if unknown or ("Operations" in body and "operations" in body):
            raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "invalidSyntax"))
        if "Operations" in body and self.patch_dialect in ("any", "rfc"):
            operations = body["Operations"]
        elif "operations" in body and self.patch_dialect in ("any", "spec"):
            operations = body["operations"]
        elif other == "ignore" and ("Operations" in body or "operations" in body):
            return None
        else:
            raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "invalidSyntax"))
        if schemas is not None and PATCH_SCHEMA not in schemas:
            raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "invalidSyntax"))
        if not isinstance(operations, list) or not operations or not all(
                isinstance(operation, dict) and set(operation) <= set(OPERATION_FIELDS) for operation in operations):
            raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "invalidSyntax"))
        return operations

    def _patch_user(self, user, body):
        updates = {}
        for operation in self._operations(body, self.patch_other) or []:
            if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("replace", "add"):
                raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "invalidSyntax"))
            path = operation.get("path")
            value = operation.get("value")
            if path:
                updates[path] = value
            elif isinstance(value, dict):
                updates.update(value)
            else:
                raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "noTarget"))
        for key, value in updates.items():
            if key in READ_ONLY:
                raise BadRequest(scim_error(400, "Attribute %s is read-only" % key, "mutability"))
            if key == "active" and not isinstance(value, bool):
                raise BadRequest(scim_error(400, "active must be a boolean", "invalidValue"))
        if updates:
            user.update(updates)
            user["meta"]["lastModified"] = now()

    # --- groups -------------------------------------------------------------------------------
    def _groups(self, request, directory_id, directory, group_id):
        groups = directory["groups"]
        if group_id is None:
            if request.method == "GET":
                self._list_query(request)
                items = list(groups.values())
                if request.arg("filter") is not None:
                    attribute, value = parse_filter(request.arg("filter"), "groups")
                    items = [group for group in items if group.get(attribute) == value]
                return self._page(request, copy.deepcopy(items))
            if request.method == "POST":
                body = self._body(request)
                if not body.get("displayName"):
                    return scim_error(400, "displayName is required", "invalidValue")
                if any(group.get("displayName") == body["displayName"] for group in groups.values()):
                    return scim_error(409, "Group already exists.", "uniqueness")
                group = self._store_group(directory_id, directory, dict(
                    (key, value) for key, value in body.items() if key not in READ_ONLY))
                return Response(201, copy.deepcopy(group), content_type="application/scim+json")
            return scim_error(405, "Method not allowed")
        group = groups.get(group_id)
        if group is None:
            return scim_error(404, "The directory or group does not exist.")
        if request.method == "GET":
            return Response(200, copy.deepcopy(group), content_type="application/scim+json")
        if request.method == "DELETE":
            del groups[group_id]
            return Response(204)
        if request.method == "PATCH":
            for operation in self._operations(self._body(request)):
                self._patch_members(directory, group, operation)
            return Response(200, copy.deepcopy(group), content_type="application/scim+json")
        return scim_error(405, "Method not allowed")

    @staticmethod
    def _patch_members(directory, group, operation):
        op = str(operation.get("op", "")).lower()
        path = operation.get("path") or ""
        members = group.setdefault("members", [])
        if op == "add" and path == "members":
            for member in operation.get("value") or []:
                if member.get("value") not in directory["users"]:
                    raise BadRequest(scim_error(404, "The directory, group, or user does not exist."))
                if all(one.get("value") != member["value"] for one in members):
                    members.append({"type": "User", "value": member["value"], "display": member.get("display")})
        elif op == "remove" and MEMBER_PATH.match(path):
            value = json.loads(MEMBER_PATH.match(path).group(1))
            group["members"] = [one for one in members if one.get("value") != value]
        elif op == "remove" and path == "members":
            gone = set(member.get("value") for member in operation.get("value") or [])
            group["members"] = [one for one in members if one.get("value") not in gone]
        else:
            raise BadRequest(scim_error(400, "Invalid payload for patch operation.", "invalidSyntax"))
