# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role's JSON report, proven against what the simulators saw (issue 18, "the report proven
against what happened").

`check_report(report, world, approved_plan)` takes one run's report and a `World`: for every simulator of the
test, its state before and after the run and the requests the run sent it. It proves that

- every claim of every row is true of this run's requests and of the state: `removed` (this run's delete of
  that user id was carried out, its answer lost or not, and the user is gone), `disabled`, `already absent`
  (the state before the run had no user the row's lookup finds, and no change addressed one), `already
  disabled`, `would remove`, each action, each `leftover` item (a token revoked, an Orchestrator user removed,
  a RAM user provisioning deleted: by a request of this run that was carried out, and gone afterwards), the
  sweep's `nothing left` / `not found` / `swept by the delete`, and `verified_absent` / `verified_disabled`;
- every changing request of the run is in the report: a change carried out as an action or a leftover item of
  the row it belongs to, a refused one at least named by a row;
- in an approved run, every changing request is covered by an item of the approved plan (same provider,
  directory, user id, and an action of the item that describes it);
- in a refused run or in check mode, no changing request was made and nothing is reported as done.

It is written independently of the collection: it reads the report as JSON and the simulators' logs and
state, and decides what is true itself (one small adapter per simulator turns a log entry into what it changed,
and reads the state). `RunWatch` runs it on every role-level run of the integration tests (conftest.py).
"""

from __future__ import annotations

import collections
import json
import os
import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlsplit

# Faults that keep the request from the simulator's handler: nothing was carried out.
NOT_CARRIED_OUT = ("respond", "drop", "enforced_limit")
# Outcomes that say the directory user was changed by this run, and the rehearsal's ones.
DONE_OUTCOMES = ("removed", "disabled")
WOULD_OUTCOMES = ("would remove", "would disable")
LEFTOVER_KINDS = ("Atlassian account", "API token", "Orchestrator user", "personal workspace",
                  "RAM user provisioning", "access configuration")
# What an Alibaba leftover item says was done, written here (not imported) so that the checker holds the module
# to these words: a provisioning's RAM users are deleted by CloudSSO in the background, which no run confirms.
PROVISIONING_DELETED = "deleted; CloudSSO deletes its RAM users in the background (not confirmed by this run)"
PROVISIONING_DELETED_KEPT = "deleted, its RAM users kept"
DEPROVISIONED = "de-provisioned from the account"
ROLE = re.compile(r"identity\.lifecycle\.offboard(?![\w.])")


def carried_out(entry):
    """Whether the simulator carried the request out: it reached the handler (a lost answer still did) and the
    handler answered 2xx without an error code."""
    status = entry.get("status")
    return (entry.get("fault") not in NOT_CARRIED_OUT and isinstance(status, int) and 200 <= status < 300
            and not entry.get("code"))


def answered(entry):
    """Whether the client was told the request was done: a 2xx answer, whatever the simulator did (a `respond`
    fault's status is what the client got; a lost answer's logged status is the simulator's, never sent)."""
    status = entry.get("status")
    return (not str(entry.get("fault") or "").startswith("process_then_") and isinstance(status, int)
            and 200 <= status < 300 and not entry.get("code"))


def folded(text):
    """A name as the providers compare them here: composed, then without case."""
    return unicodedata.normalize("NFC", str(text or "")).casefold()


def segments_of(path):
    return [unquote(part) for part in urlsplit(path).path.split("/") if part]


def entity_key(segment):
    """("Users", "11") of an OData segment `Users(11)`, or (segment, None)."""
    match = re.match(r"^(\w+)\((\d+)\)$", segment)
    return (match.group(1), match.group(2)) if match else (segment, None)


class Change:
    """What one changing request did (or tried to do): at `provider` (as the report names it) and `directory`
    (the report's directory_id: SCIM directory, UiPath organization, CloudSSO directory; None for the Atlassian
    organization admin API), `kind` of change to `target`, which belongs to directory user `owner` (or, for an
    Orchestrator user or workspace, to the names in `names`), in `where`."""

    def __init__(self, observed, entry, provider, directory, kind, target=None, owner=None, where=None,
                 effective=None, **detail):
        self.observed = observed
        self.entry = entry
        self.provider = provider
        self.directory = directory
        self.kind = kind
        self.target = None if target is None else str(target)
        self.owner = None if owner is None else str(owner)
        self.where = where
        self.effective = carried_out(entry) if effective is None else effective
        self.detail = detail

    def mentions(self):
        """The names by which a report can refer to what this change addressed."""
        names = [name for name in (self.target,) if name]
        if self.kind == "delete access assignment":
            config = AlibabaAdapter.config_name(self.observed.before, self.directory, self.target)
            names += [config] if config else []
        return names

    def request(self):
        entry = self.entry
        text = "%s %s (HTTP %s%s%s)" % (entry.get("method"), entry.get("path"), entry.get("status"),
                                        ", %s" % entry["code"] if entry.get("code") else "",
                                        ", fault %s" % entry["fault"] if entry.get("fault") else "")
        return "%s at %s" % (text, self.observed.name)

    def __repr__(self):
        return "<%s %s %s%s: %s>" % (self.kind, self.target, "owned by %s " % self.owner if self.owner else "",
                                     "carried out" if self.effective else "not carried out", self.request())


def leftover_from_text(text):
    """A plan action written as a leftover item ("revoked: API token ci (tok-1) in account acc-1") as the item's
    kind, id, done and where; None for any other action."""
    match = re.match(r"^(?P<done>.+?): (?P<kind>%s) (?P<what>.+)$" % "|".join(map(re.escape, LEFTOVER_KINDS)),
                     text or "")
    if not match:
        return None
    what, where = match.group("what"), None
    found = re.search(r" in ((?:account|tenant|directory) \S.*)$", what)
    if found:
        what, where = what[:found.start()], found.group(1)
    ident = re.search(r"\(([^()]*)\)$", what)
    return {"kind": match.group("kind"), "done": match.group("done"), "where": where,
            "id": ident.group(1) if ident else what}


# --- one adapter per simulator ----------------------------------------------------------------------------------

class Adapter:
    """Reads a simulator's state and turns its log entries into `Change`s. `provider` is the report's name of
    the provider whose rows the simulator's changes belong to."""

    provider = None

    def read(self, simulator):
        raise NotImplementedError

    def changes(self, observed, entry):
        raise NotImplementedError

    def holds(self, state, directory_id, url):
        """Whether the report's directory id (at the simulator served at `url`) is one of this simulator's."""
        return False


class ScimAdapter(Adapter):
    """Atlassian Cloud SCIM (simulators/atlassian.py)."""

    provider = "atlassian"

    def read(self, simulator):
        snapshot = simulator.snapshot()
        return {"directories": dict(
            (directory_id, {"users": dict((user["id"], {"userName": user.get("userName"),
                                                        "active": user.get("active", True) is not False})
                                          for user in spec["users"])})
            for directory_id, spec in snapshot["directories"].items())}

    def holds(self, state, directory_id, url):
        return directory_id in state["directories"]

    def changes(self, observed, entry):
        parts = segments_of(entry["path"])
        if len(parts) < 4 or parts[:2] != ["scim", "directory"]:
            return [Change(observed, entry, self.provider, None, "unknown")]
        directory, collection, rest = parts[2], parts[3], parts[4:]
        method = entry["method"]
        if collection == "Users" and len(rest) == 1 and method == "DELETE":
            return [Change(observed, entry, self.provider, directory, "delete user", rest[0], owner=rest[0])]
        if collection == "Users" and len(rest) == 1 and method in ("PATCH", "PUT"):
            active = entry.get("active")
            kind = {False: "disable user", True: "enable user"}.get(active, "update user")
            return [Change(observed, entry, self.provider, directory, kind, rest[0], owner=rest[0])]
        if collection == "Users" and not rest and method == "POST":
            return [Change(observed, entry, self.provider, directory, "create user")]
        return [Change(observed, entry, self.provider, directory, "change group" if collection == "Groups"
                       else "unknown", rest[0] if rest else None)]

    @staticmethod
    def lookup(state, directory, by, key):
        users = state["directories"].get(directory, {}).get("users", {})
        if by == "id":
            return [key] if key in users else []
        # A SCIM userName is not case-exact.
        return [user_id for user_id, user in users.items() if folded(user["userName"]) == folded(key)]

    @staticmethod
    def user(state, directory, user_id):
        return state["directories"].get(directory, {}).get("users", {}).get(user_id)


class AdminAdapter(Adapter):
    """The Atlassian organization admin APIs of the sweep (simulators/atlassian_admin.py)."""

    provider = "atlassian"
    LIFECYCLE = {"disable": "deactivate account", "delete": "delete account", "enable": "enable account",
                 "cancel-delete": "cancel deletion"}
    MEMBERSHIP = {"suspend": "suspend access", "restore": "restore access"}

    def read(self, simulator):
        snapshot = simulator.snapshot()
        return {"org_id": snapshot["org_id"], "directories": [one["id"] for one in snapshot["directories"]],
                "accounts": dict((account["account_id"], {
                    "email": account.get("email"), "managed": bool(account.get("managed")),
                    "status": account.get("account_status"), "for_deletion": bool(account.get("for_deletion")),
                    "memberships": dict(account.get("memberships") or {}),
                    "tokens": [token["id"] for token in account.get("tokens") or []]})
                    for account in snapshot["accounts"])}

    def changes(self, observed, entry):
        parts = segments_of(entry["path"])
        method = entry["method"]
        if parts[:3] == ["admin", "v2", "orgs"] and len(parts) >= 8 and parts[4] == "directories" \
                and parts[6] == "users":
            account, directory, action = parts[7], parts[5], parts[8:]
            where = "directory %s" % directory
            if not action and method == "DELETE":
                return [Change(observed, entry, self.provider, None, "remove access", account, owner=account,
                               where=where)]
            if len(action) == 1 and action[0] in self.MEMBERSHIP and method == "POST":
                return [Change(observed, entry, self.provider, None, self.MEMBERSHIP[action[0]], account,
                               owner=account, where=where)]
        if parts[:4] == ["admin", "api-access", "v1", "orgs"] and parts[5:] == ["api-tokens"]:
            return [Change(observed, entry, self.provider, None, "revoke every token", parts[4])]
        if parts[:1] == ["users"] and len(parts) == 5 and parts[2:4] == ["manage", "api-tokens"] and method == "DELETE":
            return [Change(observed, entry, self.provider, None, "revoke token", parts[4], owner=parts[1],
                           where="account %s" % parts[1])]
        if parts[:1] == ["users"] and len(parts) == 5 and parts[2:4] == ["manage", "lifecycle"] \
                and parts[4] in self.LIFECYCLE:
            return [Change(observed, entry, self.provider, None, self.LIFECYCLE[parts[4]], parts[1], owner=parts[1])]
        return [Change(observed, entry, self.provider, None, "unknown")]

    @staticmethod
    def visible(account):
        return account["managed"] or bool(account["memberships"])

    @staticmethod
    def left_access(account):
        """What of an account still gives access to the organization, as text; "" when nothing does."""
        left = []
        if account["managed"]:
            if account["status"] == "active" and not account["for_deletion"]:
                left.append("the account is active")
            if account["tokens"]:
                left.append("API tokens %s" % ", ".join(account["tokens"]))
        active = sorted(directory for directory, status in account["memberships"].items() if status == "active")
        if active and not account["managed"]:
            left.append("active in directories %s" % ", ".join(active))
        return "; ".join(left)


class UiPathAdapter(Adapter):
    """UiPath identity server and Orchestrator tenants (simulators/uipath.py)."""

    provider = "uipath"

    def read(self, simulator):
        snapshot = simulator.snapshot()
        with simulator.lock:
            standalone = simulator.settings.get("standalone")
        organizations = {}
        for name, organization in snapshot["organizations"].items():
            tenants = {}
            for tenant_name, tenant in organization["tenants"].items():
                tenants[tenant_name.lower()] = {
                    "name": tenant_name,
                    "users": dict((str(user["Id"]), {"UserName": user.get("UserName"),
                                                     "EmailAddress": user.get("EmailAddress")})
                                  for user in tenant["users"]),
                    "workspaces": dict((str(one["Id"]), {"OwnerId": str(one.get("OwnerId")), "Name": one.get("Name"),
                                                         "OwnerName": one.get("OwnerName")})
                                       for one in tenant["personal_workspaces"]),
                    "folders": dict((str(one["Id"]), {"DisplayName": one.get("DisplayName"),
                                                      "converted_from": one.get("converted_from")})
                                    for one in tenant["folders"])}
            organizations[name] = {
                "users": dict((user["id"].lower(), {"id": user["id"], "userName": user.get("userName"),
                                                    "email": user.get("email"),
                                                    "active": user.get("isActive", True) is not False})
                              for user in organization["users"]),
                "tenants": tenants}
        return {"organizations": organizations, "standalone": standalone}

    def organization_of(self, state, directory_id, url):
        """The organization the report's directory id names: the organization, or an identity URL of it."""
        if directory_id in state["organizations"]:
            return directory_id
        parts = urlsplit(directory_id or "")
        if not parts.scheme or not url or not directory_id.lower().startswith(url.lower()):
            return None
        path = [part for part in parts.path.split("/") if part]
        if path == ["identity"]:
            return state["standalone"]
        if len(path) == 2 and path[1] == "identity_" and path[0] in state["organizations"]:
            return path[0]
        return None

    def holds(self, state, directory_id, url):
        return self.organization_of(state, directory_id, url) is not None

    def changes(self, observed, entry):
        parts = segments_of(entry["path"])
        method = entry["method"]
        if len(parts) >= 3 and parts[2] == "orchestrator_":
            return self._orchestrator(observed, entry, parts[0], parts[1], parts[3:])
        if len(parts) >= 2 and parts[1] == "identity_":
            organization, rest = parts[0], parts[2:]
        elif parts[:1] == ["identity"]:
            organization, rest = observed.before["standalone"], parts[1:]
        else:
            return [Change(observed, entry, self.provider, None, "unknown")]
        lowered = [part.lower() for part in rest]
        if lowered == ["api", "user"] and method == "DELETE":
            return [self._delete(observed, entry, organization, one) for one in entry.get("user_ids") or [None]]
        if lowered[:2] == ["api", "user"] and len(rest) == 3 and method == "DELETE":
            return [self._delete(observed, entry, organization, rest[2])]
        if lowered[:2] == ["api", "user"] and len(rest) == 3 and method == "PUT":
            kind = {False: "disable user", True: "enable user"}.get(entry.get("is_active"), "update user")
            return [Change(observed, entry, self.provider, organization, kind, rest[2].lower(), owner=rest[2].lower())]
        return [Change(observed, entry, self.provider, organization, "unknown")]

    def _delete(self, observed, entry, organization, user_id):
        """A delete of one user (alone or in a bulk delete): carried out when the answer was a success and the
        simulator did not log the id as not deleted (an unknown or protected user, answered 204 or 200 in some of
        its settings)."""
        if user_id is None:
            return Change(observed, entry, self.provider, organization, "delete user")
        user_id = user_id.lower()
        kept = set(one.lower() for one in entry.get("not_deleted") or [])
        return Change(observed, entry, self.provider, organization, "delete user", user_id, owner=user_id,
                      effective=carried_out(entry) and user_id not in kept)

    def _orchestrator(self, observed, entry, organization, tenant, rest):
        method = entry["method"]
        entity, key = entity_key(rest[1]) if len(rest) >= 2 and rest[0] == "odata" else (None, None)
        action = rest[2] if len(rest) == 3 else ""
        tenant_state = observed.before["organizations"].get(organization, {}).get("tenants", {}).get(tenant.lower())
        where = "tenant %s" % tenant
        if entity == "Users" and key and method == "DELETE" and not action:
            names = self.orchestrator_names(tenant_state, key)
            return [Change(observed, entry, self.provider, organization, "remove orchestrator user", key, where=where,
                           names=names)]
        if entity == "PersonalWorkspaces" and key and method == "POST" and action.endswith(".ConvertToFolder"):
            return [Change(observed, entry, self.provider, organization, "convert workspace", key, where=where,
                           names=self.workspace_owner_names(tenant_state, key))]
        if entity == "Folders" and key and method == "DELETE" and not action:
            return [Change(observed, entry, self.provider, organization, "delete folder", key, where=where,
                           names=self.workspace_owner_names(tenant_state, key))]
        return [Change(observed, entry, self.provider, organization, "unknown", key, where=where)]

    @staticmethod
    def orchestrator_names(tenant, user_id):
        user = (tenant or {}).get("users", {}).get(str(user_id)) or {}
        return set(folded(name) for name in (user.get("UserName"), user.get("EmailAddress")) if name)

    def workspace_owner_names(self, tenant, workspace_id):
        workspace = (tenant or {}).get("workspaces", {}).get(str(workspace_id)) or {}
        names = self.orchestrator_names(tenant, workspace.get("OwnerId"))
        if workspace.get("OwnerName"):
            names.add(folded(workspace["OwnerName"]))
        return names

    @staticmethod
    def lookup(state, organization, by, key):
        users = state["organizations"].get(organization, {}).get("users", {})
        if by == "id":
            return [key.lower()] if key and key.lower() in users else []
        # A user name is the user name or the e-mail, compared without case.
        return [user_id for user_id, user in users.items()
                if folded(key) in (folded(user.get("userName")), folded(user.get("email")))]

    @staticmethod
    def user(state, organization, user_id):
        return state["organizations"].get(organization, {}).get("users", {}).get((user_id or "").lower())


class AlibabaAdapter(Adapter):
    """Alibaba Cloud CloudSSO (simulators/alibaba.py)."""

    provider = "alibaba"
    DEPROVISION = "DeprovisionForLastAccessAssignmentOnAccount"

    def read(self, simulator):
        snapshot = simulator.snapshot()
        directories = {}
        for directory_id, spec in snapshot["directories"].items():
            with simulator.lock:
                owners = dict((account, dict(users)) for account, users in
                              simulator.directories[directory_id]["ram_users"].items() if users)
            directories[directory_id] = {
                "users": dict((user["UserId"], {"UserName": user["UserName"],
                                                "active": user.get("Status") != "Disabled"}) for user in spec["users"]),
                "mfa": dict(spec["mfa_devices"]),
                "memberships": dict(spec["memberships"]),
                "assignments": [{"config_id": one["AccessConfigurationId"],
                                 "config_name": one["AccessConfigurationName"], "target": one["TargetId"],
                                 "principal_type": one["PrincipalType"], "principal_id": one["PrincipalId"]}
                                for one in spec["access_assignments"]],
                "provisionings": dict((one["UserProvisioningId"], {
                    "principal_type": one["PrincipalType"], "principal_id": one["PrincipalId"],
                    "target": one["TargetId"], "strategy": one["DeletionStrategy"]})
                    for one in spec["user_provisionings"]),
                "ram_users": owners,
                "provisioned": dict(spec["provisioned_access_configurations"])}
        return {"directories": directories}

    def holds(self, state, directory_id, url):
        return directory_id in state["directories"]

    def changes(self, observed, entry):
        action = entry.get("action") or ""
        params = entry.get("params")
        if params is None:
            params = dict(parse_qsl(urlsplit(entry["path"]).query, keep_blank_values=True))
        directory = params.get("DirectoryId")
        user_id = params.get("UserId")
        if action == "DeleteUser":
            return [Change(observed, entry, self.provider, directory, "delete user", user_id, owner=user_id)]
        if action == "UpdateUserStatus":
            kind = {"Disabled": "disable user", "Enabled": "enable user"}.get(params.get("NewStatus"), "update user")
            return [Change(observed, entry, self.provider, directory, kind, user_id, owner=user_id)]
        if action == "DeleteMFADeviceForUser":
            return [Change(observed, entry, self.provider, directory, "remove MFA device", params.get("MFADeviceId"),
                           owner=user_id)]
        if action == "RemoveUserFromGroup":
            return [Change(observed, entry, self.provider, directory, "remove group membership", params.get("GroupId"),
                           owner=user_id)]
        if action == "DeleteAccessAssignment":
            owner = params.get("PrincipalId") if params.get("PrincipalType") == "User" else None
            return [Change(observed, entry, self.provider, directory, "delete access assignment",
                           params.get("AccessConfigurationId"), owner=owner, where=params.get("TargetId"),
                           principal_type=params.get("PrincipalType"), principal_id=params.get("PrincipalId"),
                           deprovision=params.get("DeprovisionStrategy") == self.DEPROVISION)]
        if action == "DeleteUserProvisioning":
            provisioning_id = params.get("UserProvisioningId")
            provisionings = observed.before["directories"].get(directory, {}).get("provisionings", {})
            known = provisionings.get(provisioning_id) or {}
            owner = known.get("principal_id") if known.get("principal_type") == "User" else None
            return [Change(observed, entry, self.provider, directory, "delete provisioning", provisioning_id,
                           owner=owner, where=known.get("target"),
                           strategy=params.get("DeletionStrategy") or known.get("strategy"))]
        return [Change(observed, entry, self.provider, directory, "unknown", user_id)]

    @staticmethod
    def lookup(state, directory, by, key):
        users = state["directories"].get(directory, {}).get("users", {})
        if by == "id":
            return [key] if key in users else []
        return [user_id for user_id, user in users.items() if user["UserName"] == key]

    @staticmethod
    def user(state, directory, user_id):
        return state["directories"].get(directory, {}).get("users", {}).get(user_id)

    @staticmethod
    def config_name(state, directory, config_id):
        for assignment in state["directories"].get(directory, {}).get("assignments", []):
            if assignment["config_id"] == config_id:
                return assignment["config_name"]
        return None


ADAPTERS = {"atlassian-scim": ScimAdapter, "atlassian-admin": AdminAdapter, "uipath-identity": UiPathAdapter,
            "alibaba-cloudsso": AlibabaAdapter}


def adapter_for(simulator):
    cls = ADAPTERS.get(simulator.name)
    return cls() if cls else None


# --- what a run did, as the simulators saw it ------------------------------------------------------------------

class Observed:
    """One simulator during one run: its state before and after, and the requests the run sent it."""

    def __init__(self, name, adapter, before, after, entries, url=None):
        self.name = name
        self.adapter = adapter
        self.before = before
        self.after = after
        self.entries = entries
        self.url = url
        self._changes = None

    def changes(self):
        if self._changes is None:
            self._changes = [change for entry in self.entries if entry.get("changing")
                             for change in self.adapter.changes(self, entry)]
        return self._changes

    def holds(self, directory_id):
        return any(self.adapter.holds(state, directory_id, self.url) for state in (self.before, self.after))


class World:
    """Every simulator of a test during one run."""

    def __init__(self, observed):
        self.observed = list(observed)

    def changes(self):
        return [change for one in self.observed for change in one.changes()]

    def of(self, adapter_class, directory_id=None):
        return [one for one in self.observed if isinstance(one.adapter, adapter_class)
                and (directory_id is None or one.holds(directory_id))]


# --- the checker -----------------------------------------------------------------------------------------------

class Contradiction:
    """A claim the run's requests or the simulators' state contradict: `kind` (a short class name), `where`
    (the row: leaver and directory, or the run), `claim` and `evidence` (what the log or the state shows)."""

    def __init__(self, kind, where, claim, evidence):
        self.kind = kind
        self.where = where
        self.claim = claim
        self.evidence = evidence

    def __str__(self):
        return "[%s] %s: the report claims %s, but %s" % (self.kind, self.where, self.claim, self.evidence)

    __repr__ = __str__


class Verdict:
    def __init__(self):
        self.contradictions = []
        self.claims = collections.Counter()  # claims checked, per provider
        self.scenarios = collections.Counter()  # rows (leaver and directory) checked, per provider
        self.unchecked = []  # rows whose directory no simulator of the test holds

    def merge(self, other):
        self.contradictions += other.contradictions
        self.claims.update(other.claims)
        self.scenarios.update(other.scenarios)
        self.unchecked += other.unchecked

    def figures(self):
        return {"scenarios": dict(self.scenarios), "claims": dict(self.claims),
                "contradictions": len(self.contradictions), "unchecked rows": len(self.unchecked)}


class Row:
    """One leaver at one directory of the report, with where its directory lives in the simulators."""

    def __init__(self, leaver, key, result, observed, directory):
        self.leaver = leaver
        self.key = key
        self.result = result
        self.observed = observed  # the simulator of the directory users (None: no simulator holds it)
        self.directory = directory  # the directory's id in that simulator (UiPath: the organization)
        self.provider = result.get("provider")
        self.outcome = result.get("outcome")
        self.user_id = result.get("user_id")
        who = leaver.get("email") or leaver.get("label") or leaver.get("name")
        self.label = "%s at %s (%s %s)" % (who, result.get("directory") or key, self.provider,
                                           result.get("directory_id"))

    @property
    def adapter(self):
        return self.observed.adapter

    @property
    def owner_id(self):
        """The directory user the row's changes address: the id found, else the id the leaver was given by."""
        if self.user_id:
            return self.user_id
        return self.result.get("requested") if self.result.get("by") == "id" else None

    def names(self):
        """The leaver's names at this directory: what the row looked up, the user name found, and the user
        name and e-mail the state before the run gave the user found."""
        names = set(folded(name) for name in (self.result.get("requested"), self.result.get("user_name")) if name)
        if self.provider == "uipath" and self.user_id:
            user = UiPathAdapter.user(self.observed.before, self.directory, self.user_id) or {}
            names.update(folded(name) for name in (user.get("userName"), user.get("email")) if name)
        return names


class Checker:
    def __init__(self, report, world, approved_plan=None):
        self.report = report
        self.world = world
        self.approved_plan = approved_plan
        self.verdict = Verdict()
        self.changes = world.changes()
        approval = report.get("approval") or {}
        self.refused = approval.get("result") == "refused"
        self.approved = approval.get("result") == "approved"
        self.check_mode = report.get("check_mode") is True
        self.real = not self.check_mode and not self.refused
        self.rows = []

    # --- bookkeeping ------------------------------------------------------------------------------------------
    def claim(self, provider, holds, kind, where, claim, evidence):
        """Count one claim checked; record a contradiction when it does not hold."""
        self.verdict.claims[provider or "run"] += 1
        if not holds:
            self.verdict.contradictions.append(Contradiction(kind, where, claim, evidence))
        return holds

    def run(self):
        self.collect_rows()
        self.check_mode_and_refusal()
        for row in self.rows:
            if row.observed is None:
                self.verdict.unchecked.append(row.label)
                continue
            self.verdict.scenarios[row.provider] += 1
            getattr(self, "check_%s_row" % row.provider)(row)
            self.check_leftover(row)
            self.check_sweep(row)
        self.check_every_change_reported()
        if self.approved:
            self.check_approved_changes()
        return self.verdict

    def collect_rows(self):
        adapters = {"atlassian": ScimAdapter, "uipath": UiPathAdapter, "alibaba": AlibabaAdapter}
        for leaver in self.report.get("leavers") or []:
            for key, result in (leaver.get("results") or {}).items():
                observed, directory = None, None
                adapter = adapters.get(result.get("provider"))
                found = self.world.of(adapter, result.get("directory_id")) if adapter else []
                if found:
                    observed = found[0]
                    directory = result.get("directory_id")
                    if adapter is UiPathAdapter:
                        directory = next(filter(None, (observed.adapter.organization_of(state, directory, observed.url)
                                                       for state in (observed.before, observed.after))))
                self.rows.append(Row(leaver, key, result, observed, directory))

    def run_label(self):
        return "run %s" % self.report.get("run_id")

    # --- check mode and refused runs -------------------------------------------------------------------------
    def check_mode_and_refusal(self):
        if not (self.check_mode or self.refused):
            return
        why = "in check mode" if self.check_mode else "in a refused run (approval.result refused)"
        self.verdict.claims["run"] += 1  # no changing request at all
        for change in self.changes:
            self.verdict.contradictions.append(Contradiction(
                "changed while not allowed to", self.run_label(), "that nothing was changed %s" % why,
                "this run sent %s" % change.request()))
        for row in self.rows:
            self.claim(row.provider, row.outcome not in DONE_OUTCOMES, "done while not allowed to", row.label,
                       "outcome %r %s" % (row.outcome, why), "nothing may be reported as done %s" % why)
            if self.refused:
                items = row.result.get("leftover") or []
                self.claim(row.provider, not items, "refused run reports leftover removed", row.label,
                           "leftover access removed: %s" % "; ".join(describe_item(item) for item in items),
                           "nothing was changed in a refused run")
        if self.refused:
            self.claim("run", not self.report.get("plan"), "refused run reports leftover removed", self.run_label(),
                       "a plan of %d change(s) made" % len(self.report.get("plan") or []),
                       "a refused run made no change, so its plan is empty")
            removed = (self.report.get("leftover_summary") or {}).get("removed")
            self.claim("run", not removed, "refused run reports leftover removed", self.run_label(),
                       "leftover_summary.removed %r" % removed, "a refused run removed nothing")

    # --- the directory user ----------------------------------------------------------------------------------
    def user_changes(self, row, kinds, user_id=None):
        """This run's changes of `kinds` to the row's directory user (`user_id`, else the row's)."""
        user_id = user_id or row.user_id
        if row.provider == "uipath":
            user_id = (user_id or "").lower()
        return [change for change in row.observed.changes() if change.kind in kinds and change.target == user_id
                and change.directory == row.directory]

    def looked_up(self, row, state):
        by, key = row.result.get("by"), row.result.get("requested")
        if by not in ("id", "name") or not key:
            return None
        return row.adapter.lookup(state, row.directory, by, key)

    def check_directory_user(self, row):
        """The outcome's claim about the directory user, common to the three providers."""
        adapter, before, after = row.adapter, row.observed.before, row.observed.after
        outcome, user_id = row.outcome, row.user_id
        if outcome in DONE_OUTCOMES and self.real:
            kind = "delete user" if outcome == "removed" else "disable user"
            done = [change for change in self.user_changes(row, (kind,)) if change.effective]
            self.claim(row.provider, bool(done), "claim without its change", row.label,
                       "%r of user %s" % (outcome, user_id),
                       "no %s of that user by this run was carried out (its requests: %s)" % (
                           kind, requests_text(self.user_changes(row, (kind,)))))
            now = adapter.user(after, row.directory, user_id)
            holds = now is None if outcome == "removed" else (now is not None and now["active"] is False)
            self.claim(row.provider, holds, "state contradicts the claim", row.label,
                       "%r of user %s" % (outcome, user_id), "after the run the user is %s" % user_text(now))
        elif outcome in ("already absent", "already disabled"):
            found = self.looked_up(row, before)
            if found is not None:
                if outcome == "already absent":
                    self.claim(row.provider, not found, "claim contradicted by the state before", row.label,
                               "'already absent' (%s %s)" % (row.result.get("by"), row.result.get("requested")),
                               "before the run the directory had user(s) %s found that way" % ", ".join(found))
                else:
                    users = [adapter.user(before, row.directory, one) for one in found]
                    self.claim(row.provider, len(found) == 1 and users[0]["active"] is False,
                               "claim contradicted by the state before", row.label, "'already disabled'",
                               "before the run the lookup found %s" % (", ".join(
                                   "%s (%s)" % (one, user_text(user)) for one, user in zip(found, users)) or "nobody"))
                # A delete by id answered "not found" proves the absence; one that was carried out does not.
                kinds = ("delete user", "disable user", "enable user", "update user")
                touched = [change for one in set(found + [row.owner_id]) if one
                           for change in self.user_changes(row, kinds, one) if change.effective]
                self.claim(row.provider, not touched, "claim with a change", row.label, repr(outcome),
                           "this run changed the user: %s" % requests_text(touched))
        elif outcome in WOULD_OUTCOMES:
            found = self.looked_up(row, before)
            if found is not None and (user_id is None or row.result.get("by") == "name"):
                self.claim(row.provider, bool(found), "claim contradicted by the state before", row.label,
                           repr(outcome), "before the run no user was found by %s %s" % (
                               row.result.get("by"), row.result.get("requested")))
            elif user_id:
                self.claim(row.provider, adapter.user(before, row.directory, user_id) is not None,
                           "claim contradicted by the state before", row.label,
                           "%r of user %s" % (outcome, user_id), "before the run there was no such user")
        self.check_verified(row)

    def check_verified(self, row):
        now = row.adapter.user(row.observed.after, row.directory, row.user_id) if row.user_id else None
        if row.result.get("verified_absent") is True:
            self.claim(row.provider, now is None, "state contradicts the claim", row.label,
                       "verified_absent true of user %s" % row.user_id, "after the run the user is %s" % user_text(now))
        elif row.result.get("verified_absent") is False:
            self.claim(row.provider, now is not None, "state contradicts the claim", row.label,
                       "verified_absent false (still present) of user %s" % row.user_id, "after the run it is absent")
        if row.result.get("verified_disabled") is True:
            self.claim(row.provider, now is not None and now["active"] is False, "state contradicts the claim",
                       row.label, "verified_disabled true of user %s" % row.user_id,
                       "after the run the user is %s" % user_text(now))

    def check_actions(self, row, describes):
        """Each action of a real run's row claims a change this run carried out; a row whose read after the change
        says it did not hold (verified_absent or verified_disabled false) claims only that the change was sent
        and answered as done."""
        if not self.real or row.outcome in ("not approved",):
            return
        did_not_hold = {"deleted": row.result.get("verified_absent") is False,
                        "disabled": row.result.get("verified_disabled") is False}
        for action in row.result.get("actions") or []:
            matching = [change for change in row.observed.changes() if change.directory == row.directory
                        and describes(row, change, action)]
            if did_not_hold.get(action):
                self.claim(row.provider, any(answered(change.entry) for change in matching), "claim without its change",
                           row.label, "the action %r (which did not hold)" % action,
                           "no request of this run for it was answered as done")
                continue
            self.claim(row.provider, any(change.effective for change in matching), "claim without its change",
                       row.label, "the action %r" % action, "no request of this run that was carried out did that "
                       "(its requests: %s)" % requests_text(matching))

    def check_atlassian_row(self, row):
        self.check_directory_user(row)
        self.check_actions(row, lambda row, change, action: change.owner == row.owner_id
                           and directory_user_action(change, action))

    def check_uipath_row(self, row):
        self.check_directory_user(row)
        self.check_actions(row, self.uipath_action)

    def uipath_action(self, row, change, action):
        if change.kind in ("remove orchestrator user", "convert workspace", "delete folder"):
            return orchestrator_action(change, action) and bool(change.detail["names"] & row.names())
        return change.owner == (row.owner_id or "").lower() and directory_user_action(change, action)

    def check_alibaba_row(self, row):
        self.check_directory_user(row)
        # Whether the action says all the change did is the question of check_every_change_reported.
        self.check_actions(row, lambda row, change, action: alibaba_action(change, action, row.observed.before,
                                                                           exact=False)
                           and self.alibaba_owner(row, change))
        if not self.real or not row.owner_id:
            return
        after = row.observed.after["directories"].get(row.directory, {})
        for action in row.result.get("actions") or []:
            gone = self.alibaba_gone(after, row.owner_id, action)
            if gone is not None:
                self.claim(row.provider, gone[0], "state contradicts the claim", row.label, "the action %r" % action,
                           gone[1])

    @staticmethod
    def alibaba_owner(row, change):
        return change.owner is not None and change.owner == row.owner_id

    @staticmethod
    def alibaba_gone(after, user_id, action):
        """(holds, evidence) for an action whose effect the state after shows, else None."""
        match = re.match(r"^removed MFA device (\S+)$", action)
        if match:
            return (match.group(1) not in after.get("mfa", {}).get(user_id, []),
                    "MFA device %s is still there after the run" % match.group(1))
        match = re.match(r"^removed from group (\S+)", action)
        if match:
            return (match.group(1) not in after.get("memberships", {}).get(user_id, []),
                    "the user is still a member of group %s after the run" % match.group(1))
        match = re.match(r"^removed access assignment (.+) on (\S+) (\S+?)(?:[,;].*)?$", action)
        if match:
            left = [one for one in after.get("assignments", []) if one["principal_id"] == user_id
                    and one["target"] == match.group(3) and match.group(1) in (one["config_name"], one["config_id"])]
            return not left, "the assignment is still there after the run"
        return None

    # --- leftover access --------------------------------------------------------------------------------------
    def check_leftover(self, row):
        for item in row.result.get("leftover") or []:
            if self.check_mode or self.refused:
                self.check_would_leftover(row, item)
            else:
                self.check_done_leftover(row, item)

    def item_changes(self, row, item):
        return [change for change in self.observed_for_item(row, item) if leftover_matches(change, item)]

    def observed_for_item(self, row, item):
        if row.provider == "atlassian":
            return [change for one in self.world.of(AdminAdapter) for change in one.changes()]
        return [change for change in row.observed.changes() if change.directory == row.directory]

    def check_done_leftover(self, row, item):
        matching = self.item_changes(row, item)
        done = [change for change in matching if change.effective]
        self.claim(row.provider, bool(done), "claim without its change", row.label,
                   "leftover %s" % describe_item(item),
                   "no request of this run that was carried out did that (matching requests: %s)" % requests_text(
                       matching))
        gone = self.leftover_gone(row, item)
        if gone is not None:
            self.claim(row.provider, gone[0], "state contradicts the claim", row.label,
                       "leftover %s" % describe_item(item), gone[1])

    def leftover_gone(self, row, item):
        """(holds, evidence) of what the state after the run shows of a leftover item done, or None."""
        kind, ident, done = item.get("kind"), str(item.get("id")), item.get("done") or ""
        if kind in ("Atlassian account", "API token"):
            account_id = ident if kind == "Atlassian account" else (item.get("where") or "").replace("account ", "", 1)
            admins = [one for one in self.world.of(AdminAdapter) if account_id in one.after["accounts"]]
            if not admins:
                return False, "no simulator of the organization has account %s after the run" % account_id
            account = admins[0].after["accounts"][account_id]
            if kind == "API token":
                return ident not in account["tokens"], "the token is still there after the run"
            directory = (item.get("where") or "").replace("directory ", "", 1)
            expected = {"deactivated": account["status"] in ("inactive", "closed") or account["for_deletion"],
                        "suspended": account["memberships"].get(directory) == "suspended",
                        "removed from the directory": directory not in account["memberships"]}
            holds = account["for_deletion"] if done.startswith("deleted") else expected.get(done)
            return bool(holds), "after the run the account is %s" % account_text(account)
        if kind in ("Orchestrator user", "personal workspace"):
            tenant = self.tenant(row, row.observed.after, item.get("where"))
            if tenant is None:
                return False, "the organization has no %s" % item.get("where")
            if kind == "Orchestrator user":
                return ident not in tenant["users"], "the Orchestrator user is still in the %s" % item.get("where")
            if done == "converted to a folder":
                now = "still a workspace" if ident in tenant["workspaces"] else "no folder either"
                return (ident not in tenant["workspaces"] and ident in tenant["folders"],
                        "after the run the workspace is %s" % now)
            return (ident not in tenant["workspaces"] and ident not in tenant["folders"],
                    "the workspace (or a folder with its id) is still there after the run")
        if kind == "RAM user provisioning":
            before = row.observed.before["directories"].get(row.directory, {})
            after = row.observed.after["directories"].get(row.directory, {})
            if ident in after.get("provisionings", {}):
                return False, "the RAM user provisioning is still there after the run"
            owned = dict((account, sorted(name for name, owner in users.items() if owner == ident))
                         for account, users in before.get("ram_users", {}).items())
            left = sorted("%s in account %s" % (name, account) for account, names in owned.items() for name in names
                          if name in after.get("ram_users", {}).get(account, {}))
            if done in (PROVISIONING_DELETED, PROVISIONING_DELETED_KEPT):
                return True, ""  # the RAM users' delete is not claimed (it runs in the background), or they are kept
            return not left, "its RAM users %s are still there after the run" % ", ".join(left)
        if kind == "access configuration" and done == DEPROVISIONED:
            account = (item.get("where") or "").replace("account ", "", 1)
            after = row.observed.after["directories"].get(row.directory, {})
            return (ident not in after.get("provisioned", {}).get(account, []),
                    "the access configuration is still provisioned on account %s after the run" % account)
        return None

    def tenant(self, row, state, where):
        name = (where or "").replace("tenant ", "", 1).lower()
        return state["organizations"].get(row.directory, {}).get("tenants", {}).get(name)

    def check_would_leftover(self, row, item):
        """A rehearsal's leftover item claims that the thing exists now."""
        kind, ident = item.get("kind"), str(item.get("id"))
        before = row.observed.before
        if kind in ("Atlassian account", "API token"):
            accounts = [one.before["accounts"] for one in self.world.of(AdminAdapter)]
            account_id = ident if kind == "Atlassian account" else (item.get("where") or "").replace("account ", "", 1)
            account = next((one[account_id] for one in accounts if account_id in one), None)
            holds = account is not None and (kind == "Atlassian account" or ident in account["tokens"])
        elif kind in ("Orchestrator user", "personal workspace"):
            tenant = self.tenant(row, before, item.get("where")) or {"users": {}, "workspaces": {}}
            holds = ident in tenant["users" if kind == "Orchestrator user" else "workspaces"]
        elif kind == "RAM user provisioning":
            holds = ident in before["directories"].get(row.directory, {}).get("provisionings", {})
        elif kind == "access configuration":
            account = (item.get("where") or "").replace("account ", "", 1)
            holds = ident in before["directories"].get(row.directory, {}).get("provisioned", {}).get(account, [])
        else:
            holds = False
        self.claim(row.provider, holds, "claim contradicted by the state before", row.label,
                   "leftover %s (would be done)" % describe_item(item), "before the run there was no such thing")

    # --- the sweep ---------------------------------------------------------------------------------------------
    def check_sweep(self, row):
        sweep = row.result.get("sweep") or {}
        status = sweep.get("status")
        if row.provider == "atlassian" and status in ("nothing left", "not found"):
            self.check_atlassian_sweep(row, sweep, status)
        elif row.provider == "uipath" and status == "nothing left" and self.real:
            self.check_uipath_nothing_left(row)
        elif row.provider == "alibaba" and status in ("nothing left", "swept by the delete") and self.real \
                and row.outcome not in ("failed", "not approved"):
            user_id = sweep.get("user_id") or row.user_id
            if user_id:
                after = row.observed.after["directories"].get(row.directory, {})
                left = sorted(one for one, spec in after.get("provisionings", {}).items()
                              if spec["principal_type"] == "User" and spec["principal_id"] == user_id)
                self.claim(row.provider, not left, "alibaba sweep claim contradicted", row.label,
                           "sweep %r for user %s" % (status, user_id),
                           "after the run its RAM user provisionings %s are there" % ", ".join(left))

    def check_atlassian_sweep(self, row, sweep, status):
        admins = self.world.of(AdminAdapter)
        if len(admins) != 1:
            return  # which organization the sweep read is not known
        admin = admins[0]
        email = folded(sweep.get("user_name") or row.leaver.get("email"))
        if status == "not found":
            state = admin.before
            found = sorted(account_id for account_id, account in state["accounts"].items()
                           if AdminAdapter.visible(account) and folded(account["email"]) == email)
            self.claim(row.provider, not found, "atlassian sweep claim contradicted", row.label,
                       "sweep 'not found' for %s" % (sweep.get("user_name") or sweep.get("user_id")),
                       "before the run the organization had account(s) %s with that email" % ", ".join(found))
            return
        if not self.real:
            return
        state = admin.after
        accounts = set(one for one in [sweep.get("user_id")] if one in state["accounts"])
        accounts.update(account_id for account_id, account in state["accounts"].items()
                        if email and folded(account["email"]) == email and AdminAdapter.visible(account))
        left = ["account %s: %s" % (one, AdminAdapter.left_access(state["accounts"][one])) for one in sorted(accounts)
                if AdminAdapter.left_access(state["accounts"][one])]
        self.claim(row.provider, not left, "atlassian sweep claim contradicted", row.label,
                   "sweep 'nothing left' for %s" % (sweep.get("user_name") or sweep.get("user_id")),
                   "after the run %s" % "; ".join(left))

    def check_uipath_nothing_left(self, row):
        names = row.names()
        tenants = row.observed.after["organizations"].get(row.directory, {}).get("tenants", {})
        left = sorted("%s (%s) in tenant %s" % (user.get("UserName"), user_id, tenant["name"])
                      for tenant in tenants.values() for user_id, user in tenant["users"].items()
                      if names & UiPathAdapter.orchestrator_names(tenant, user_id))
        self.claim(row.provider, not left, "uipath sweep claim contradicted", row.label,
                   "sweep 'nothing left' (none found by the sweep)",
                   "after the run the leaver's Orchestrator users %s are there" % ", ".join(left))

    # --- every change in the report ----------------------------------------------------------------------------
    def directories_for(self, change):
        """The report's directories a change belongs to (the organization admin API's: every Atlassian one)."""
        found = []
        for directory in self.report.get("directories") or []:
            if directory.get("provider") != change.provider:
                continue
            if change.directory is None and isinstance(change.observed.adapter, AdminAdapter):
                found.append(directory)
            elif change.observed.holds(directory.get("directory_id")) and self.same_directory(change, directory):
                found.append(directory)
        return found

    @staticmethod
    def same_directory(change, directory):
        adapter = change.observed.adapter
        if isinstance(adapter, UiPathAdapter):
            return any(adapter.organization_of(state, directory.get("directory_id"), change.observed.url)
                       == change.directory for state in (change.observed.before, change.observed.after))
        return directory.get("directory_id") == change.directory

    def rows_for(self, change):
        """The rows of the directories a change belongs to (a row's key is its directory's key)."""
        keys = set(directory.get("key") for directory in self.directories_for(change))
        return [row for row in self.rows if row.key in keys]

    def reported(self, row, change, exact=True):
        """Whether the row reports `change` as done: an action or a leftover item that describes it (`exact`: all
        it did)."""
        if any(leftover_matches(change, item) for item in row.result.get("leftover") or []):
            return True
        if row.observed is None:
            return False
        for action in row.result.get("actions") or []:
            if row.provider == "uipath" and self.uipath_action(row, change, action):
                return True
            if row.provider == "alibaba" and alibaba_action(change, action, change.observed.before, exact) \
                    and self.alibaba_owner(row, change):
                return True
            if row.provider == "atlassian" and change.owner == row.owner_id and directory_user_action(change, action):
                return True
        return False

    def check_every_change_reported(self):
        if not self.real:
            return  # check_mode_and_refusal: no change at all
        for change in self.changes:
            rows = self.rows_for(change)
            if not rows:
                self.claim(change.provider, False, "change not in the report", self.run_label(),
                           "nothing about %s %s" % (change.kind, change.target),
                           "this run sent %s to a directory the report does not list" % change.request())
            elif change.effective:
                kind = "change not in the report"
                if change.kind == "delete access assignment" and any(self.reported(row, change, exact=False)
                                                                     for row in rows):
                    kind = "de-provisioning not in the report"
                self.claim(change.provider, any(self.reported(row, change) for row in rows), kind,
                           self.run_label(), "no action or leftover item for %s %s%s" % (
                               change.kind, change.target, deprovision_text(change)),
                           "this run sent %s, which was carried out" % change.request())
            elif not any(other.effective and (other.kind, other.target, other.directory) ==
                         (change.kind, change.target, change.directory) for other in self.changes):
                names = change.mentions()
                mentioned = any(name in json.dumps(row.result, ensure_ascii=False) for name in names for row in rows)
                self.claim(change.provider, mentioned, "change not in the report", self.run_label(),
                           "no row names %s %s" % (change.kind, change.target),
                           "this run sent %s (not carried out, and never retried with success)" % change.request())

    # --- approved runs -------------------------------------------------------------------------------------------
    def check_approved_changes(self):
        if self.approved_plan is None:
            self.claim("run", False, "approval not checkable", self.run_label(), "an approved run",
                       "the approved plan was not found among the run's extra vars")
            return
        covered_items = set()
        for change in self.changes:
            # A plan item names its directory by the host (inventory host, or localhost).
            hosts = set(directory.get("directory") for directory in self.directories_for(change))
            covering = [index for index, item in enumerate(self.approved_plan)
                        if self.covers(item, change, hosts)]
            if change.effective:
                covered_items.update(covering)
            kind = "change outside the approved plan"
            if not covering and change.kind == "delete access assignment" and any(
                    self.covers(item, change, hosts, exact=False) for item in self.approved_plan):
                kind = "de-provisioning outside the approved plan"
            elif not covering and self.named_by_plan(change, hosts):
                kind = "a user the plan names by name changed by its new id"
            self.claim(change.provider, bool(covering), kind, self.run_label(),
                       "approval.result 'approved'", "this run sent %s (%s %s), which no item of the approved plan "
                       "covers" % (change.request(), change.kind, change.target))
        approval = self.report.get("approval") or {}
        done_now = len(covered_items)
        already = approval.get("already_done")
        if isinstance(already, int) and isinstance(approval.get("approved_changes"), int):
            self.claim("run", already + done_now <= approval["approved_changes"], "already done by this run",
                       self.run_label(), "approval.already_done %d of %d approved changes" % (
                           already, approval["approved_changes"]),
                       "this run itself made changes of %d item(s) of the approved plan" % done_now)

    def named_by_plan(self, change, hosts):
        """Whether the approved plan names the user a change addresses by a name (a leaver absent when rehearsed
        has no id in the plan) and not by the id the change used: another person may have that name now."""
        if change.kind not in ("delete user", "disable user"):
            return False
        adapter, before = change.observed.adapter, change.observed.before
        user = adapter.user(before, change.directory, change.target) or {}
        names = set(folded(user.get(field)) for field in ("userName", "email", "UserName") if user.get(field))
        # A user who came after the run started is known by the rows that found it.
        names.update(folded(row.result.get(field)) for row in self.rows_for(change)
                     for field in ("user_name", "requested")
                     if (row.user_id or "").lower() == (change.target or "").lower() and row.result.get(field))
        return any(item.get("provider") == change.provider and item.get("directory") in hosts
                   and folded(item.get("user_id")) in names for item in self.approved_plan)

    def covers(self, item, change, hosts, exact=True):
        if item.get("provider") != change.provider or item.get("directory") not in hosts:
            return False
        user_id = str(item.get("user_id") or "")
        before = change.observed.before
        for action in item.get("actions") or []:
            if change.kind in ("remove orchestrator user", "convert workspace", "delete folder"):
                owner_names = set([folded(user_id)])
                user = UiPathAdapter.user(before, change.directory, user_id)
                if user:
                    owner_names.update(folded(name) for name in (user.get("userName"), user.get("email")) if name)
                if orchestrator_action(change, action) and change.detail["names"] & owner_names:
                    return True
            elif change.provider == "alibaba":
                if alibaba_action(change, action, before, exact) and change.owner == user_id:
                    return True
            elif change.provider == "uipath":
                if change.owner == user_id.lower() and directory_user_action(change, action):
                    return True
            elif change.owner == user_id and (directory_user_action(change, action)
                                              or leftover_matches(change, leftover_from_text(action))):
                return True
        return False


# --- what an action or a leftover item says was done -----------------------------------------------------------

def directory_user_action(change, action):
    return {"delete user": "deleted", "disable user": "disabled", "enable user": "enabled"}.get(change.kind) == action


def orchestrator_action(change, action):
    """Whether an action of uipath_user (or its leftover text) describes an Orchestrator change."""
    tenant = (change.where or "").replace("tenant ", "", 1)
    patterns = {
        # A kept workspace is named after the tenant (", leaving its personal workspace ... as it is").
        "remove orchestrator user": (r"^removed Orchestrator user .* \((\d+)\) from tenant ([^,\s]+)(?:, .*)?$",
                                     "removed", "Orchestrator user"),
        "convert workspace": (r"^converted personal workspace .* \((\d+)\) to the folder .* in tenant (.+)$",
                              "converted to a folder", "personal workspace"),
        "delete folder": (r"^deleted personal workspace .* \((\d+)\) in tenant (.+)$", "deleted", "personal workspace"),
    }
    pattern, done, kind = patterns[change.kind]
    match = re.match(pattern, action or "", re.S)
    if match:
        return match.group(1) == change.target and match.group(2).lower() == tenant.lower()
    item = leftover_from_text(action)
    return bool(item) and item["kind"] == kind and item["done"] == done and item["id"] == change.target \
        and (item["where"] or "").lower() == ("tenant %s" % tenant).lower()


def alibaba_action(change, action, before, exact=True):
    """Whether an action of alibaba_cloudsso_user describes a CloudSSO change (`exact`: all it did)."""
    action = action or ""
    if change.kind in ("delete user", "disable user", "enable user"):
        return directory_user_action(change, action)
    if change.kind == "remove MFA device":
        return action == "removed MFA device %s" % change.target
    if change.kind == "remove group membership":
        group = re.escape(change.target or "")
        return re.match(r"^removed from group %s(?: \(.*\))?$" % group, action, re.S) is not None
    if change.kind == "delete access assignment":
        name = AlibabaAdapter.config_name(before, change.directory, change.target)
        match = re.match(r"^removed access assignment (.+?) on RD-Account (\S+?)(?P<rest>[,;:(].*)?$", action, re.S)
        if not match or match.group(1) not in (name, change.target) or match.group(2) != change.where:
            return False
        # What the request de-provisions must be what the action says (issue 18, finding 2).
        says = re.search(r"de-?provision", match.group("rest") or "", re.I) is not None
        return says == change.detail["deprovision"] or not exact
    if change.kind == "delete provisioning":
        wording = ", deleting its RAM users" if change.detail["strategy"] == "Delete" else ", keeping its RAM users"
        prefix = "removed RAM user provisioning %s in account " % change.target
        return (action.startswith(prefix) and action.endswith(wording)) or leftover_matches(
            change, leftover_from_text(action))
    return False


def leftover_matches(change, item):
    """Whether a leftover item (from a row, or parsed from a plan action) is what `change` did."""
    if not item:
        return False
    kind, ident, done = item.get("kind"), str(item.get("id")), item.get("done") or ""
    where = item.get("where") or ""
    if change.kind in ("deactivate account", "delete account", "suspend access", "remove access"):
        expected = {"deactivate account": done == "deactivated", "delete account": done.startswith("deleted"),
                    "suspend access": done == "suspended" and where == change.where,
                    "remove access": done == "removed from the directory" and where == change.where}
        return kind == "Atlassian account" and ident == change.target and expected[change.kind]
    if change.kind == "revoke token":
        return kind == "API token" and ident == change.target and done == "revoked" and where == change.where
    if change.kind in ("remove orchestrator user", "convert workspace", "delete folder"):
        wanted = {"remove orchestrator user": ("Orchestrator user", "removed"),
                  "convert workspace": ("personal workspace", "converted to a folder"),
                  "delete folder": ("personal workspace", "deleted")}[change.kind]
        return (kind, done) == wanted and ident == change.target and where.lower() == (change.where or "").lower()
    if change.kind == "delete provisioning":
        # CloudSSO deletes the RAM users in the background: the module claims only the provisioning's delete.
        wanted = (PROVISIONING_DELETED if change.detail.get("strategy") == "Delete" else PROVISIONING_DELETED_KEPT)
        return kind == "RAM user provisioning" and ident == change.target and done == wanted
    if change.kind == "delete access assignment" and change.detail.get("deprovision"):
        return kind == "access configuration" and ident == change.target and done == DEPROVISIONED \
            and where == "account %s" % change.where
    return False


def deprovision_text(change):
    if change.kind != "delete access assignment":
        return ""
    return " (with DeprovisionStrategy %s)" % ("DeprovisionForLastAccessAssignmentOnAccount"
                                               if change.detail["deprovision"] else "None")


def describe_item(item):
    text = "%s: %s %s" % (item.get("done"), item.get("kind"), item.get("id"))
    return text + (" in %s" % item["where"] if item.get("where") else "")


def requests_text(changes):
    return "; ".join(change.request() for change in changes) or "none"


def user_text(user):
    if user is None:
        return "absent"
    return "present (%s)" % ("active" if user.get("active") else "inactive")


def account_text(account):
    return "%s%s, memberships %s, tokens %s" % (account["status"], ", scheduled for deletion" if account["for_deletion"]
                                                else "", account["memberships"] or "none", account["tokens"] or "none")


def check_report(report, world, approved_plan=None):
    """The `Verdict` of one run's JSON report against `world` (see the module's docstring)."""
    return Checker(report, world, approved_plan).run()


# --- the hook: every role-level run of the integration tests ----------------------------------------------------

class LogMark:
    """Where a simulator's log stood before a run. The entries themselves are kept (and compared by identity,
    else by content), so that a test's clear_log() between runs never shifts what counts as the run's."""

    def __init__(self, simulator):
        self.entries = simulator.requests()

    def since(self, simulator):
        now = simulator.requests()
        count = len(self.entries)
        if len(now) >= count and (not count or now[count - 1] is self.entries[-1]):
            return now[count:]
        seen = collections.Counter(json.dumps(entry, sort_keys=True, default=str) for entry in self.entries)
        fresh = []
        for entry in now:
            text = json.dumps(entry, sort_keys=True, default=str)
            if seen[text]:
                seen[text] -= 1
            else:
                fresh.append(entry)
        return fresh


def report_files(roots):
    found = {}
    for root in roots:
        for directory, _subdirs, files in os.walk(root):
            for name in files:
                if name.startswith("offboard-") and name.endswith(".json"):
                    path = os.path.join(directory, name)
                    found[path] = os.stat(path).st_mtime_ns
    return found


def is_role_run(plays):
    """Whether a playbook (a collection playbook name, YAML text or plays) runs the offboard role."""
    text = plays if isinstance(plays, str) else json.dumps(plays)
    return ROLE.search(text or "") is not None


class RunWatch:
    """What the `ground_truth` fixture keeps for one test: its simulators, and the verdicts of its role runs."""

    def __init__(self):
        self.servers = []
        self.runs = []  # (label, verdict)
        self.problems = []  # contradictions (they fail the test)

    def add_server(self, server):
        self.servers.append(server)

    def observables(self):
        return [(server, adapter_for(server.simulator)) for server in self.servers
                if adapter_for(server.simulator) is not None]

    def before(self, workdir, plays, extra_vars, env):
        """What to compare a run against, taken before it starts; None when the run is not the offboard role's."""
        if not is_role_run(plays):
            return None
        roots = [workdir] + [path for path in [(extra_vars or {}).get("offboard_report_dir")]
                             if isinstance(path, str) and os.path.isabs(path) and os.path.isdir(path)]
        return {"roots": roots, "reports": report_files(roots),
                "simulators": [(server, adapter, adapter.read(server.simulator), LogMark(server.simulator))
                               for server, adapter in self.observables()],
                "extra_vars": extra_vars or {}, "base": (env or {}).get("PWD") or workdir}

    def after(self, label, taken, check_mode):
        if taken is None:
            return
        observed = [Observed(server.simulator.name, adapter, state, adapter.read(server.simulator),
                             mark.since(server.simulator), url=server.url)
                    for server, adapter, state, mark in taken["simulators"]]
        world = World(observed)
        written = report_files(taken["roots"])
        fresh = sorted(path for path, stamp in written.items() if taken["reports"].get(path) != stamp)
        verdict = Verdict()
        if not fresh:
            made = [change for change in world.changes() if change.effective]
            if made:
                verdict.contradictions.append(Contradiction(
                    "changes without a report", label, "nothing (no report was written)",
                    "the run changed %s" % requests_text(made)))
        for path in fresh:
            try:
                with open(path, encoding="utf-8") as handle:
                    report = json.load(handle)
            except (OSError, ValueError) as error:
                verdict.contradictions.append(Contradiction("unreadable report", label, path, str(error)))
                continue
            if check_mode and report.get("check_mode") is not True:
                verdict.contradictions.append(Contradiction(
                    "check mode not reported", label, "check_mode %r" % report.get("check_mode"),
                    "the run was started with --check"))
            verdict.merge(check_report(report, world, approved_plan(taken["extra_vars"], taken["base"])))
        self.runs.append((label, verdict))
        self.problems += ["%s: %s" % (label, one) for one in verdict.contradictions]

    def finish(self):
        """The contradictions that fail the test."""
        return self.problems

    def figures(self):
        total = Verdict()
        for _label, verdict in self.runs:
            total.merge(verdict)
        return total.figures()


def approved_plan(extra_vars, base):
    """The approved plan a run was given (offboard_approved_plan: a plan list, a report, or a report's path)."""
    given = extra_vars.get("offboard_approved_plan")
    if isinstance(given, str) and given:
        path = given if os.path.isabs(given) else os.path.join(base, given)
        try:
            with open(path, encoding="utf-8") as handle:
                given = json.load(handle)
        except (OSError, ValueError):
            return None
    if isinstance(given, dict):
        given = given.get("plan")
    return given if isinstance(given, list) else None
