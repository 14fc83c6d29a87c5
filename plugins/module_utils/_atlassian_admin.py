# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""Atlassian accounts through the organization admin APIs: the organizations API (v2 directories and
directory users: details, search by email, suspend, restore, remove) and the user management API
(lifecycle disable, enable, delete, cancel-delete; a managed account's API tokens).

An account the organization manages is deactivated or deleted for every site; one it does not manage can
only lose its access to this organization, directory by directory (suspended, or removed from a directory).
Every read covers the whole organization (the directory `-`): an account that is not in one directory may
still have access through another, so "not in this directory" is never taken as done.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from ._http import (
    InputError,
    NotFoundError,
    ProviderError,
    body_excerpt,
    encode_path_segment,
    response_json,
    status_error,
)
from ._lifecycle import Step, UserDirectory, env, follow_up_item, leftover_item
from ._names import lookalike_key, shown, upper_invariant

PROVIDER = "Atlassian admin"
ALL_DIRECTORIES = "-"  # documented for the v2 user search and user details: every directory of the org
# The user search sends no `limit`: its only documented value is the default (50 a page, "Defaults to 50" in
# the organizations API's MultiDirectoryUserSearchRequest); more matches come page by page with the cursor.
TRACE_HEADERS = ("ATL-TraceId", "X-Trace-Id", "X-Request-Id")
# What a refused lifecycle call means, by the `reason.key` Atlassian gives (GET /users/{id}/manage and the
# 403 `forbidden.action` answer share these keys).
REASONS = {
    "externalDirectory.google": (
        "the account is synced from Google Workspace, and Atlassian refuses lifecycle changes to such accounts "
        "through the API (Atlassian issue AX-186): deactivate it in Atlassian Administration, or ask Atlassian "
        "support to unlink it from Google Workspace and run the task again"),
    "externalDirectory.scim": (
        "the account is provisioned by an identity provider (SCIM): deactivate or delete it there, or with "
        "identity.lifecycle.atlassian_scim_user"),
    "authPolicy.saml": "an authentication policy with SAML single sign-on keeps this account under the identity provider",
    "blocked.exportControl": "the account is blocked for US export control; only Atlassian support can change it",
    "managedAccount": "only an account the organization manages can be changed this way",
}
SCOPED_KEY = (
    "the admin API key was refused by the user management API (HTTP 403). An organization API key created with "
    "scopes cannot call the lifecycle and API token endpoints (no scope grants them; Atlassian issue AX-228): "
    "create an organization API key without scopes (Atlassian Administration, Settings, API keys) for admin_api_key")
SAML_WARNING = (
    "%s: managed accounts were deactivated or removed (%s). If the organization uses SAML single sign-on, "
    "remove these users from the identity provider too: Atlassian may re-activate an account that still signs in "
    "through it")
# The sentinel a step returns when a read proved that the change was already made (by someone else, or by an
# earlier attempt whose answer was lost).
ALREADY = object()


def trace_id(response, body=None):
    for header in TRACE_HEADERS:
        if response.headers.get(header):
            return response.headers[header]
    if isinstance(body, dict) and isinstance(body.get("traceId"), str):
        return body["traceId"]
    return None


def error_details(body):
    """(code, message, reason key) of the documented error shapes: the organizations API's
    `{"errors": [{code, status, title, detail}]}`, the user management API's `{"key", "context": {"reason":
    {"key"}}}` and `[{"code", "message"}]`, and a plain `{"code"|"message"}`."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        return None, None, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return (text_or_none(first.get("code")), text_or_none(first.get("detail") or first.get("title")), None)
    context = body.get("context") if isinstance(body.get("context"), dict) else {}
    reason = context.get("reason") if isinstance(context.get("reason"), dict) else {}
    code = text_or_none(body.get("key") or body.get("code"))
    message = text_or_none(body.get("message") or body.get("detail") or body.get("error"))
    return code, message, text_or_none(reason.get("key"))


def text_or_none(value):
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def parse_error(response):
    body = response_json(response)
    code, message, reason = error_details(body)
    message = message or code or body_excerpt(response)
    if response.status_code == 401:
        message += (" (check admin_api_key: it must be an organization API key from Atlassian Administration, "
                    "not a SCIM directory key or a personal API token)")
    error = status_error(PROVIDER, response, str(message), code=code, request_id=trace_id(response, body),
                         not_found=response.status_code == 404)
    error.reason = reason
    return error


def refusal(error, what):
    """A 403 of the user management API, explained: an action Atlassian forbids for this account, or a key
    that may not call the API at all."""
    if error.status != 403:
        return error
    reason = getattr(error, "reason", None)
    if error.code == "forbidden.action" or reason:
        explanation = REASONS.get(reason) or "Atlassian forbids this action for the account (reason %s)" % (reason or "not given")
        text = "%s: %s" % (what, explanation)
    else:
        text = "%s: %s" % (what, SCOPED_KEY)
    return retold(error, "%s. Atlassian said: %s" % (text, error.message))


def retold(error, message):
    """`error` with another message, and everything else it knew (status, code, request id, lost answer)."""
    copy = error.__class__(error.provider, message, status=error.status, code=error.code, request_id=error.request_id,
                           retryable=error.retryable, retry_after=error.retry_after, method=error.method, url=error.url)
    copy.lost_answer = error.lost_answer
    copy.reason = getattr(error, "reason", None)
    return copy


def permitted_actions(permissions):
    """The names of the permissions `GET /users/{id}/manage` grants (`{"allowed": true}`)."""
    if not isinstance(permissions, dict):
        return None
    return sorted(name for name, value in permissions.items() if isinstance(value, dict) and value.get("allowed") is True)


def refused_reason(permissions, name):
    """The reason key when `GET /users/{id}/manage` says the permission is not granted, else None."""
    value = permissions.get(name) if isinstance(permissions, dict) else None
    if isinstance(value, dict) and value.get("allowed") is False:
        reason = value.get("reason")
        return (reason.get("key") if isinstance(reason, dict) else None) or "not given"
    return None


NOT_IN_ORGANIZATION = "not in the organization"


def access_status(memberships):
    """An unmanaged account's access to the organization from its membership in each directory, as the
    organizations API sums it up for the directory `-` (`membershipStatus`: active in one or more directories,
    suspended in all of them, or in none)."""
    states = set(memberships.values())
    return "active" if "active" in states else "suspended" if states else NOT_IN_ORGANIZATION


def account_status(account):
    """What the account is, in the module's words: active, deactivated, suspended, pending deletion, deleted,
    not in the organization; None when Atlassian's answers do not tell, or disagree."""
    data = account["directory_user"]
    if data.get("accountStatus") == "closed":
        # "The account is closed and can't be used" (the organizations API's accountStatus): deleted.
        return "deleted"
    if account["managed"]:
        if data.get("forDeletion") is True or data.get("status") == "for_deletion":
            return "pending deletion"
        return {"active": "active", "inactive": "deactivated"}.get(data.get("accountStatus"))
    if account["managed"] is False and account.get("memberships") is not None:
        status = access_status(account["memberships"])
        summed = {"active": "active", "suspended": "suspended",
                  "no_membership": NOT_IN_ORGANIZATION}.get(data.get("membershipStatus"))
        return status if summed == status else None
    return None


# The module's state (deactivated, removed, active) that each status satisfies.
STATUS_STATE = {"active": "active", "deactivated": "deactivated", "suspended": "deactivated",
                "pending deletion": "removed", "deleted": "removed", NOT_IN_ORGANIZATION: "removed"}
# Which statuses of a managed account already satisfy each wanted state.
SATISFIES = {
    "deactivated": ("deactivated", "pending deletion", "deleted"),
    "removed": ("pending deletion", "deleted"),
    "active": ("active",),
}


class AtlassianAdminDirectory(UserDirectory):
    provider = PROVIDER
    # Atlassian publishes no per-endpoint numbers; 429 answers lower the adaptive pace.
    default_rate_limit = None
    secret_options = ("admin_api_key",)
    id_option = "account_id"
    name_option = "email"
    state_roles = {"deactivated": "disabled", "removed": "absent", "active": "enabled"}

    @classmethod
    def connection_options(cls):
        return dict(
            base_url=dict(type="str", default="https://api.atlassian.com", fallback=env("ATLASSIAN_ADMIN_BASE_URL")),
            org_id=dict(type="str", required=True, fallback=env("ATLASSIAN_ORG_ID")),
            admin_api_key=dict(type="str", required=True, no_log=True, fallback=env("ATLASSIAN_ADMIN_API_KEY")),
            directory_id=dict(type="str", fallback=env("ATLASSIAN_ORG_DIRECTORY_ID")),
        )

    @classmethod
    def extra_user_options(cls):
        return dict(revoke_api_tokens=dict(type="bool"))

    def __init__(self, module):
        super().__init__(module)
        self.base_url = None
        self.directories_url = None
        self.revoke_tokens = True  # the info module always counts tokens
        # Per account id: what GET /users/{id}/manage granted, and the task's plan (kept out of the account
        # objects, which the module returns).
        self.permissions = {}
        self.plans = {}
        self.saml_accounts = []

    # --- set-up -------------------------------------------------------------------------------
    def validate(self):
        params = self.module.params
        base_url = (params["base_url"] or "").rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("base_url must be an http(s) URL such as https://api.atlassian.com, got %r" % params["base_url"])
        if parts.query or parts.fragment:
            raise InputError("base_url must not contain a query or fragment")
        if not (params["admin_api_key"] or "").strip():
            raise InputError("admin_api_key must not be empty")
        org = encode_path_segment(params["org_id"], option="org_id")
        if params.get("directory_id") is not None:
            if params["directory_id"].strip() == ALL_DIRECTORIES:
                raise InputError("directory_id must name one directory; leave it unset to act in every directory of "
                                 "the organization (%r)" % ALL_DIRECTORIES)
            encode_path_segment(params["directory_id"], option="directory_id")
        if "revoke_api_tokens" in params:
            self.revoke_tokens = self._revoke_tokens(params)
        self.base_url = base_url
        self.directories_url = "%s/admin/v2/orgs/%s/directories" % (base_url, org)
        self.make_transport(parse_error, headers={
            "Authorization": "Bearer %s" % params["admin_api_key"], "Accept": "application/json"})

    @staticmethod
    def _revoke_tokens(params):
        wanted = params.get("revoke_api_tokens")
        if params["state"] == "active":
            if wanted:
                raise InputError("revoke_api_tokens applies to state deactivated or removed, not active")
            return False
        return wanted is not False

    def validate_user_id(self, user_id):
        encode_path_segment(user_id, option="account_id")

    def _segment(self, value, option="account_id"):
        try:
            return encode_path_segment(value, option=option)
        except InputError as exc:
            raise ProviderError(PROVIDER, "Atlassian listed an account whose id can not be addressed safely: %s" % exc)

    def _directory_url(self, directory):
        return "%s/%s" % (self.directories_url, self._segment(directory, option="directory_id"))

    def _manage_url(self, account_id, *rest):
        return "/".join(["%s/users/%s/manage" % (self.base_url, self._segment(account_id))] + list(rest))

    def _directory_pages(self, query=None):
        """The organization's directories (`GET /admin/v2/orgs/{org_id}/directories`), page by page: a page
        after the first sends only its cursor ("if present, all other parameters are discarded")."""
        query = dict(query or {})
        while True:
            page = response_json(self.transport.request("GET", self.directories_url, params=query or None)) or {}
            yield [str(directory.get("directoryId") or directory.get("id")) for directory in page.get("data") or []
                   if isinstance(directory, dict)]
            cursor = next_cursor(page)
            if not cursor:
                return
            query = {"cursor": cursor}

    def preflight(self):
        """List the organization's directories: proves the key and org_id, and directory_id when given."""
        wanted = self.module.params.get("directory_id")
        seen = []
        try:
            for page in self._directory_pages():
                seen.extend(page)
                if wanted is None or wanted in seen:
                    break
        except NotFoundError as exc:
            raise ProviderError(PROVIDER, "organization %r was not found (HTTP 404 on its directories); check org_id "
                                "and base_url" % self.module.params["org_id"], status=exc.status, code=exc.code,
                                request_id=exc.request_id, method="GET", url=self.directories_url)
        if wanted is not None and wanted not in seen:
            raise ProviderError(PROVIDER, "directory_id %r is not a directory of organization %r (its directories: %s)"
                                % (wanted, self.module.params["org_id"], ", ".join(seen) or "none"))

    # --- reads --------------------------------------------------------------------------------
    def _directory_user(self, account_id, directory=ALL_DIRECTORIES):
        """The v2 user details, in every directory of the organization (`-`) unless one is named."""
        url = "%s/users/%s" % (self._directory_url(directory), self._segment(account_id))
        body = response_json(self.transport.request("GET", url))
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ProviderError(PROVIDER, "the user details answer has no `data` object")
        return data

    def _memberships(self, account_id):
        """{directory id: active or suspended} for every directory of the organization the account is a member of:
        the directories listed for it (`accountId`), each read for the account's membership there."""
        memberships = {}
        for page in self._directory_pages({"accountId": account_id}):
            for directory in page:
                try:
                    membership = self._directory_user(account_id, directory).get("membershipStatus")
                except NotFoundError:
                    continue  # listed a moment ago, not a member now
                if membership not in ("active", "suspended", "no_membership"):
                    raise ProviderError(PROVIDER, "Atlassian's answer does not tell the membership of account %s in "
                                        "directory %s (membershipStatus %r)" % (account_id, directory, membership))
                if membership != "no_membership":
                    memberships[directory] = membership
        return memberships

    def get_user(self, user_id):
        data = self._directory_user(user_id)
        claim = data.get("claimStatus")
        closed = data.get("accountStatus") == "closed"
        account = {
            "account_id": data.get("accountId") or user_id,
            "email": data.get("email"),
            "name": data.get("name"),
            "managed": {"managed": True, "unmanaged": False}.get(claim),
            "account_status": data.get("accountStatus"),
            "membership_status": data.get("membershipStatus"),
            "memberships": None,
            "management_source": data.get("managementSource"),
            "permitted_actions": None,
            "api_token_count": None,
            "api_tokens": None,
            "directory_user": data,
        }
        if account["managed"] is False:
            account["memberships"] = self._memberships(account["account_id"])
        permissions = None
        # A closed account "can't be used": nothing can be done to it, so what may be done is not asked
        # (Atlassian may refuse to say), and its tokens are not listed (its deletion revoked them).
        if account["managed"] is not False and not closed:
            permissions = self._permissions(account["account_id"])
            account["permitted_actions"] = permitted_actions(permissions)
        self.permissions[account["account_id"]] = permissions
        if account["managed"] and not closed and self._wants_tokens():
            tokens = self.list_tokens(account)
            if tokens is not None:
                account["api_tokens"] = tokens
                account["api_token_count"] = len(tokens)
        account["status"] = account_status(account)
        return account

    def _wants_tokens(self):
        return self.revoke_tokens or self.module.params.get("revoke_api_tokens") is False

    def _permissions(self, account_id):
        try:
            return response_json(self.transport.request("GET", self._manage_url(account_id))) or {}
        except ProviderError as exc:
            raise refusal(exc, "reading what may be done to account %s" % account_id)

    def list_tokens(self, account):
        """The account's API tokens (id, label, dates; never a token value), or None when the tokens of an
        account pending deletion can no longer be listed."""
        try:
            tokens = response_json(self.transport.request("GET", self._manage_url(account["account_id"], "api-tokens")))
        except ProviderError as exc:
            if exc.status in (403, 404) and account_status(account) in ("pending deletion", "deleted"):
                # Atlassian revokes a deleted account's tokens itself; it need not list them any more.
                return None
            raise refusal(exc, "listing the API tokens of account %s" % account["account_id"])
        if not isinstance(tokens, list):
            raise ProviderError(PROVIDER, "the API token list of account %s is not a list" % account["account_id"])
        return [{"id": str(token.get("id")), "label": token.get("label"), "created_at": token.get("createdAt"),
                 "last_access": token.get("lastAccess"), "expiry": token.get("expiry")}
                for token in tokens if isinstance(token, dict) and token.get("id") is not None]

    def _search_pages(self, email):
        """The user search in every directory of the organization, page by page (the cursor of each page)."""
        url = "%s/users/search" % self._directory_url(ALL_DIRECTORIES)
        body = {"emails": [email]}
        while True:
            page = response_json(self.transport.request("POST", url, json=body, changing=False)) or {}
            yield from (item for item in page.get("data") or [] if isinstance(item, dict))
            cursor = next_cursor(page)
            if not cursor:
                return
            body = {"emails": [email], "cursor": cursor}

    def find_users(self, user_name):
        # The search matches full email addresses exactly; letter case aside, one character to one, is taken;
        # a look-alike (full case folding, compatibility characters) is another person or a typo, and an error.
        candidates = list(self._search_pages(user_name))
        wanted = upper_invariant(user_name)
        same = [item for item in candidates
                if item.get("email") is None or upper_invariant(item.get("email")) == wanted]
        if not same:
            near = [item for item in candidates if lookalike_key(item.get("email", "")) == lookalike_key(user_name)]
            if near:
                raise ProviderError(PROVIDER, "email %s matches no account as spelled (letter case aside), but looks "
                                    "like %s; nothing was done for it: give the exact email or account_id" % (
                                        shown(user_name), ", ".join("email %s of account %s" % (
                                            shown(item.get("email")), item.get("accountId")) for item in near)))
            return []
        ids = []
        for item in same:
            if item.get("accountId") and item["accountId"] not in ids:
                ids.append(item["accountId"])
        return [self.get_user(one) for one in ids]

    def list_users(self):
        raise ProviderError(PROVIDER, "give account_id or email: listing every account of an organization is not "
                            "what this module is for")

    # --- attributes ---------------------------------------------------------------------------
    def user_id_of(self, user):
        return user.get("account_id")

    def user_name_of(self, user):
        return user.get("email")

    def is_enabled(self, user):
        return user.get("status") == "active"

    def state_of(self, user):
        return STATUS_STATE.get(user.get("status"), user.get("status") or "unknown")

    def describe(self, user):
        return {"account_id": user.get("account_id"), "email": user.get("email"), "managed": user.get("managed"),
                "status": user.get("status"), "memberships": user.get("memberships"),
                "api_tokens": user.get("api_token_count")}

    def describe_after(self, user, state):
        after = self.describe(user)
        plan = self.plans.get(user.get("account_id"))
        if plan is not None:
            after.update(status=plan.status_after, memberships=plan.memberships_after)
            if plan.tokens_revoked:
                after["api_tokens"] = after["api_tokens"] - plan.tokens_revoked
        return after

    def result_fields(self, entry):
        user = entry.user or {}
        fields = {"account_id": user.get("account_id") or (entry.key if entry.by == "id" else None),
                  "email": user.get("email") or (entry.key if entry.by == "name" else None),
                  "managed": user.get("managed"), "status": user.get("status"),
                  "api_tokens_revoked": sum(1 for action in entry.actions if action.startswith("revoked API token"))}
        plan = self.plans.get(user.get("account_id"))
        if plan is None or entry.failed:
            return fields
        if not entry.steps and user.get("status") == "deleted":
            fields["msg"] = "already deleted (the account is closed)"
        elif entry.steps and (self.check_mode or entry.changed):
            fields["status"] = plan.status_after
            fields["state"] = STATUS_STATE.get(plan.status_after, entry.state)
            fields["msg"] = plan.message(self.check_mode, entry)
        return fields

    # --- changes ------------------------------------------------------------------------------
    def plan_change(self, entry, role):
        account = entry.user
        state = self.module.params["state"]
        status = account.get("status")
        plan = Plan(account)
        self.plans[account["account_id"]] = plan
        if account.get("managed") is None or status is None:
            raise ProviderError(PROVIDER, "Atlassian's answers do not tell whether account %s is managed by the "
                                "organization or what its status is (claimStatus %r, accountStatus %r, "
                                "membershipStatus %r, directory memberships %r); nothing was done for it" % (
                                    account["account_id"], account["directory_user"].get("claimStatus"),
                                    account["directory_user"].get("accountStatus"),
                                    account["directory_user"].get("membershipStatus"), account.get("memberships")))
        if status == "deleted":
            if state == "active":
                raise InputError("account %s is deleted; it cannot be made active again" % account["account_id"])
            return []  # closed: nothing is left to change, and nothing can be
        if not account["managed"]:
            return self._access_steps(account, state, plan)
        steps = []
        if status not in SATISFIES[state]:
            steps.append(self._lifecycle_step(account, state, status, plan))
            if state != "active":
                self.saml_accounts.append(account.get("email") or account["account_id"])
        tokens = account.get("api_tokens") or []
        if state != "active" and self.revoke_tokens:
            revocations = [self._token_step(account, token, plan) for token in tokens]
            # Removed: the tokens go first, while the account can still be managed; deactivated: the sign-in is
            # blocked first.
            steps = revocations + steps if state == "removed" else steps + revocations
        elif tokens:
            entry.follow_up.append(follow_up_item("API token", "revoke_api_tokens is false: the account's %d API "
                                                  "token(s) (%s) were left as they are" % (len(tokens), ", ".join(
                                                      token_name(token) for token in tokens)),
                                                  where="account %s" % account["account_id"]))
        return steps

    def _lifecycle_step(self, account, state, status, plan):
        account_id = account["account_id"]
        if state == "active":
            action = "cancel-delete" if status == "pending deletion" else "enable"
        else:
            action = "disable" if state == "deactivated" else "delete"
        permission = "lifecycle.delete" if action in ("delete", "cancel-delete") else "lifecycle.enablement"
        reason = refused_reason(self.permissions.get(account_id), permission)
        if reason is not None:
            raise ProviderError(PROVIDER, "account %s cannot be %s through the API: %s (%s is not allowed; nothing was "
                                "done)" % (account_id, state, REASONS.get(reason, "reason %s" % reason), permission),
                                code="forbidden.action")
        plan.status_after = ACTION_STATUS[action]
        plan.changes.append(ACTION_WORDS[action])
        return AccountStep(ACTION_WORDS[action], lambda: self._change(account, action),
                           left="account %s %s" % (account_id, ACTION_LEFT[action]),
                           leftover=leftover_item("Atlassian account", ACTION_WORDS[action], id=account_id,
                                                  name=account.get("email")))

    def _access_steps(self, account, state, plan):
        """An account the organization does not manage: its membership in each directory of the organization
        that does not have the wanted state yet, one step each; within directory_id only when it is given, and
        then a membership elsewhere that would keep access fails the account before anything is changed."""
        account_id = account["account_id"]
        memberships = account["memberships"]
        chosen = self.module.params.get("directory_id")
        if state == "active":
            if chosen is None:
                raise InputError("account %s is not managed by the organization: only its access can be restored, "
                                 "and that needs directory_id (the organization directory to restore it in)"
                                 % account_id)
            if chosen not in memberships:
                raise InputError("account %s is not in directory %s: invite it to the organization again"
                                 % (account_id, chosen))
            action, targets = "restore", [chosen] if memberships[chosen] == "suspended" else []
        else:
            action = "suspend" if state == "deactivated" else "remove"
            targets = sorted(directory for directory, membership in memberships.items()
                             if action == "remove" or membership == "active")
            outside = [directory for directory in targets if chosen is not None and directory != chosen]
            if outside:
                raise InputError(
                    "account %s is not managed by the organization and is a member of %s, outside directory_id %s: "
                    "nothing was done for it, as that membership would stay. Leave directory_id unset to %s it in "
                    "every directory of the organization it is a member of, or %s it there in Atlassian "
                    "Administration" % (account_id, ", ".join("directory %s (%s)" % (directory, memberships[directory])
                                                              for directory in outside), chosen, action, action))
        after = dict(memberships)
        for directory in targets:
            if action == "remove":
                del after[directory]
            else:
                after[directory] = "active" if action == "restore" else "suspended"
        plan.status_after, plan.memberships_after = access_status(after), after
        steps = [self._directory_step(account, action, directory) for directory in targets]
        plan.changes.extend(step.description for step in steps)
        return steps

    def _directory_step(self, account, action, directory):
        account_id = account["account_id"]
        return AccountStep("%s directory %s" % (DIRECTORY_ACTIONS[action], directory),
                           lambda: self._change(account, action, directory),
                           left=DIRECTORY_LEFT[action] % directory,
                           leftover=leftover_item("Atlassian account", DIRECTORY_DONE[action], id=account_id,
                                                  name=account.get("email"), where="directory %s" % directory))

    def _token_step(self, account, token, plan):
        reason = refused_reason(self.permissions.get(account["account_id"]), "apiToken.delete")
        if reason is not None:
            raise ProviderError(PROVIDER, "the API tokens of account %s cannot be revoked through the API: %s"
                                % (account["account_id"], REASONS.get(reason, "reason %s" % reason)), code="forbidden.action")
        plan.tokens_revoked += 1
        return AccountStep("revoked %s" % token_name(token), lambda: self._revoke(account, token),
                           left="%s not revoked" % token_name(token),
                           leftover=leftover_item("API token", "revoked", id=token["id"], name=token.get("label"),
                                                  where="account %s" % account["account_id"]))

    def _change(self, account, action, directory=None):
        account_id = account["account_id"]
        if directory is not None:
            url = "%s/users/%s" % (self._directory_url(directory), self._segment(account_id))
            method, body = ("DELETE", None) if action == "remove" else ("POST", {})
            url = url if action == "remove" else "%s/%s" % (url, action)
            what = "%s account %s in directory %s" % (action, account_id, directory)
        else:
            url, method = self._manage_url(account_id, "lifecycle", action), "POST"
            body = {}
            what = "%s account %s" % (action, account_id)
        try:
            # A POST without a JSON body is refused (415) by the organizations API; an empty object is fine.
            response = self.transport.request(method, url, json=body)
        except ProviderError as exc:
            if exc.status in (400, 404) or exc.lost_answer:
                proven = self._read_proof(exc, lambda: self._done(account, action, directory))
                if proven is not None:
                    return proven
            raise refusal(exc, what) if directory is None else exc
        return trace_id(response)

    def _done(self, account, action, directory):
        """Whether a fresh read shows the change made (after a refusal, a 404 or a lost answer)."""
        try:
            fresh = self.get_user(account["account_id"])
        except NotFoundError:
            return action in ("remove", "suspend", "delete")  # not in the organization at all any more
        except ProviderError:
            return False
        if directory is not None:
            membership = (fresh.get("memberships") or {}).get(directory)
            return membership in {"suspend": ("suspended", None), "remove": (None,), "restore": ("active",)}[action]
        return fresh.get("status") in ACTION_DONE[action]

    @staticmethod
    def _read_proof(error, done):
        """After a refused, not-found or unanswered change: LOST_THEN_DONE when a read proves it made and an
        attempt of this task may have made it (its answer was lost), ALREADY when a read proves it made by
        someone else, None when nothing proves it."""
        if not done():
            return None
        return LostThenDone(error.lost_answer) if error.lost_answer else ALREADY

    def _revoke(self, account, token):
        url = self._manage_url(account["account_id"], "api-tokens", self._segment(token["id"], option="token id"))
        try:
            response = self.transport.request("DELETE", url)
        except ProviderError as exc:
            if exc.status in (400, 404) or exc.lost_answer:
                proven = self._read_proof(exc, lambda: self._token_gone(account, token))
                if proven is not None:
                    return proven
            raise refusal(exc, "revoking API token %s of account %s" % (token["id"], account["account_id"]))
        return trace_id(response)

    def _token_gone(self, account, token):
        try:
            remaining = self.list_tokens(account)
        except ProviderError:
            return False
        return remaining is not None and all(one["id"] != token["id"] for one in remaining)

    def run_steps(self, entry):
        """Each step in order; a step a read proved already done is noted, not counted as this task's change; a
        failure names what this task did for the account and what is left."""
        plan = self.plans[entry.user["account_id"]]
        for index, step in enumerate(entry.steps):
            try:
                outcome = step.call()
            except (ProviderError, InputError) as exc:
                entry.fail(self._unfinished(exc, entry, plan, entry.steps[index:]))
                return
            if outcome is ALREADY:
                plan.already.append(step.description)
                continue
            if isinstance(outcome, LostThenDone):
                plan.confirmed.append(step.description)
                outcome = outcome.request_id
            entry.done(step, outcome)

    def _unfinished(self, error, entry, plan, left):
        """The error of a failed step, telling what was done for the account before it and what is left."""
        done = list(entry.actions) + ["already done before: %s" % one for one in plan.already]
        text = "%s. Done for this account before: %s. Not done: %s" % (
            error.message if isinstance(error, ProviderError) else error, "; ".join(done) or "nothing",
            "; ".join(getattr(step, "left", step.description) for step in left))
        if not plan.changes:
            text += ". The account was %s when read, and its status was not to change" % entry.user.get("status")
        return retold(error, text) if isinstance(error, ProviderError) else InputError(text)

    def close(self):
        # Called once the users are done (in check mode too: the warning is about what the task does).
        if self.saml_accounts:
            self.module.warn(SAML_WARNING % (PROVIDER, ", ".join(sorted(set(map(str, self.saml_accounts))))))
            self.saml_accounts = []
        super().close()


def token_name(token):
    return "API token %s (%s)" % (json.dumps(token.get("label")), token["id"])


class AccountStep(Step):
    """A step with the words for it when it is left undone (`left`), for the message of a failed account."""

    def __init__(self, description, call, left, leftover=None):
        super().__init__(description, call, leftover=leftover)
        self.left = left


class LostThenDone:
    """A change whose answer was lost and which a read then showed made: this task's, with the lost attempt's
    request id."""

    def __init__(self, lost_answer):
        self.request_id = lost_answer.get("request_id")


ACTION_WORDS = {"disable": "deactivated", "enable": "activated", "delete": "deleted (Atlassian's 14-day grace period)",
                "cancel-delete": "deletion cancelled"}
ACTION_STATUS = {"disable": "deactivated", "enable": "active", "delete": "pending deletion", "cancel-delete": "active"}
ACTION_DONE = {"disable": ("deactivated", "pending deletion", "deleted"), "enable": ("active",),
               "delete": ("pending deletion", "deleted"), "cancel-delete": ("active", "deactivated")}
ACTION_LEFT = {"disable": "not deactivated", "enable": "not activated", "delete": "not deleted",
               "cancel-delete": "still pending deletion"}
# An unmanaged account, per directory: the action's words in `actions` ("suspended in directory d-1") and in
# the leftover item.
DIRECTORY_ACTIONS = {"suspend": "suspended in", "remove": "removed from", "restore": "access restored in"}
DIRECTORY_DONE = {"suspend": "suspended", "remove": "removed from the directory", "restore": "access restored"}
DIRECTORY_LEFT = {"suspend": "access through directory %s not suspended", "remove": "not removed from directory %s",
                  "restore": "access in directory %s not restored"}


class Plan:
    """What the task does to one account: the status and memberships it ends in, and the words for it."""

    def __init__(self, account):
        self.status_after = account.get("status")
        self.memberships_after = account.get("memberships")
        self.changes = []  # the descriptions of the steps that change the account's status or access
        self.tokens_revoked = 0
        self.already = []  # steps a read proved done by someone else
        self.confirmed = []  # steps a read proved done after their answer was lost

    def message(self, check_mode, entry):
        actions = [step.description for step in entry.steps] if check_mode else entry.actions
        tokens = sum(1 for action in actions if action.startswith("revoked API token"))
        parts = [change for change in self.changes if change in actions]
        if tokens:
            parts.append("%d API token%s revoked" % (tokens, "" if tokens == 1 else "s"))
        if self.confirmed:
            parts.append("confirmed by a read after the answer was lost: %s" % "; ".join(self.confirmed))
        if self.already:
            parts.append("already done: %s" % "; ".join(self.already))
        text = ", ".join(parts) or "unchanged"
        return ("would be: " + text) if check_mode else text


def next_cursor(page):
    """The cursor of the next page: `links.next` is either a cursor or a URL with a `cursor` parameter."""
    links = page.get("links") if isinstance(page, dict) else None
    value = links.get("next") if isinstance(links, dict) else None
    if not value or not isinstance(value, str):
        return None
    if "?" in value or value.startswith(("http://", "https://", "/")):
        cursor = parse_qs(urlsplit(value).query).get("cursor")
        return cursor[0] if cursor else None
    return value
