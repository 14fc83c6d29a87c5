# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""Atlassian Cloud user provisioning (SCIM 2.0): the users of one SCIM directory."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from ._http import (
    InputError,
    NotFoundError,
    ProviderError,
    body_excerpt,
    encode_path_segment,
    response_json,
    status_error,
)
from ._lifecycle import UserDirectory, env
from ._names import lookalike_key, shown, upper_invariant

PROVIDER = "Atlassian SCIM"
SCIM_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
PAGE_SIZE = 100  # Atlassian documents pages of 100 users; a larger count is not confirmed.
TRACE_HEADERS = ("ATL-TraceId", "X-Trace-Id", "X-Request-Id")


def scim_eq_filter(attribute, value):
    """`attribute eq "value"`, the value written as a JSON string so that quotes and
    backslashes in it stay part of the value (RFC 7644 compValue)."""
    return "%s eq %s" % (attribute, json.dumps(value, ensure_ascii=False))


# How each PATCH body below is named in messages.
PATCH_FORMS = ('"Operations" with a value object', 'lower-case "operations" with path "active"')


def patch_bodies(active):
    """The PATCH bodies that set `active`, most standard first (see PATCH_FORMS).

    Atlassian's own example uses RFC 7644 `Operations` with a value object; its OpenAPI spec and
    several clients spell `operations` with a `path`. Which the server applies is unconfirmed, and a
    server may answer 2xx to a body it did not apply, so the client tries the next form whenever
    one is refused with HTTP 400 or leaves `active` as it was.
    """
    return (
        {"schemas": [SCIM_PATCH_SCHEMA],
         "Operations": [{"op": "replace", "value": {"active": active}}]},
        {"schemas": [SCIM_PATCH_SCHEMA],
         "operations": [{"op": "replace", "path": "active", "value": active}]},
    )


def user_id_segment(user_id):
    """The percent-encoded path segment of a user id.

    Atlassian documents no id format, so any printable text is taken. encode_path_segment refuses
    empty ids, ids of dots only, control characters and the core's length limit; unprintable
    characters beyond those (line separators, zero-width and other format characters) are refused
    here, as no id is made of them.
    """
    segment = encode_path_segment(user_id, option="user_id")
    text = str(user_id)
    if not text.isprintable():
        raise InputError("user_id %s contains unprintable characters (such as a line separator or a zero-width "
                         "space)" % ascii(text[:80]))
    return segment


def trace_id(response, body=None):
    if isinstance(body, dict) and body.get("traceId"):
        return str(body["traceId"])
    for header in TRACE_HEADERS:
        if response.headers.get(header):
            return response.headers[header]
    return None


def parse_error(response):
    """SCIM errors carry `detail`; the 401/403 `Failure` shape `error`; a seen 401 `message`."""
    status = response.status_code
    body = response_json(response)
    message = None
    code = None
    if isinstance(body, dict):
        message = body.get("detail") or body.get("error") or body.get("message")
        code = body.get("scimType") or (body.get("code") if isinstance(body.get("code"), str) else None)
    if not message:
        message = body_excerpt(response)
    if status == 401:
        message += " (check api_key: it must be the SCIM directory's own API key)"
    elif status == 403:
        message += " (the API key is not allowed to use this directory)"
    return status_error(PROVIDER, response, str(message), code=code,
                        request_id=trace_id(response, body), not_found=status == 404)


class AtlassianScimDirectory(UserDirectory):
    provider = PROVIDER
    # No SCIM rate limit is documented: no fixed cap, only `parallelism` and the limiter's
    # adaptive pace, which 429 answers lower (see RateLimiter).
    default_rate_limit = None
    secret_options = ("api_key",)
    # DELETE answers 404 for a user the directory does not have.
    deletes_by_id = True

    @classmethod
    def connection_options(cls):
        return dict(
            base_url=dict(type="str", default="https://api.atlassian.com/scim",
                          fallback=env("ATLASSIAN_SCIM_BASE_URL")),
            directory_id=dict(type="str", required=True, fallback=env("ATLASSIAN_SCIM_DIRECTORY_ID")),
            api_key=dict(type="str", required=True, no_log=True, fallback=env("ATLASSIAN_SCIM_API_KEY")),
        )

    def __init__(self, module):
        super().__init__(module)
        self._patch_form = 0
        self.users_url = None

    def validate(self):
        params = self.module.params
        base_url = (params["base_url"] or "").rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("base_url must be an http(s) URL such as https://api.atlassian.com/scim, got %r"
                             % params["base_url"])
        if parts.query or parts.fragment:
            raise InputError("base_url must not contain a query or fragment")
        if not (params["api_key"] or "").strip():
            raise InputError("api_key must not be empty")
        directory = encode_path_segment(params["directory_id"], option="directory_id")
        self.users_url = "%s/directory/%s/Users" % (base_url, directory)
        self.make_transport(parse_error, headers={
            "Authorization": "Bearer %s" % params["api_key"],
            "Accept": "application/scim+json, application/json",
        })

    def validate_user_id(self, user_id):
        user_id_segment(user_id)

    def _user_url(self, user_id):
        try:
            return "%s/%s" % (self.users_url, user_id_segment(user_id))
        except InputError as exc:
            # Requested ids were checked before any request; this one came from Atlassian itself.
            raise ProviderError(PROVIDER, "Atlassian listed a user whose id can not be addressed safely: %s" % exc)

    def preflight(self):
        try:
            self.transport.request("GET", self.users_url, params={"startIndex": 1, "count": 1})
        except NotFoundError as exc:
            raise ProviderError(
                PROVIDER, "directory %r does not exist (HTTP 404 on the directory's Users list); check "
                "directory_id and base_url" % self.module.params["directory_id"],
                status=exc.status, code=exc.code, request_id=exc.request_id,
                method="GET", url=self.users_url)

    # --- reads --------------------------------------------------------------------------------
    def get_user(self, user_id):
        return self.transport.request("GET", self._user_url(user_id)).json()

    def _pages(self, params=None):
        start = 1
        while True:
            query = dict(params or {}, startIndex=start, count=PAGE_SIZE)
            page = self.transport.request("GET", self.users_url, params=query).json()
            resources = page.get("Resources") or []
            yield from resources
            start += len(resources)
            total = page.get("totalResults")
            if not resources or (isinstance(total, int) and start > total):
                return

    def find_users(self, user_name):
        # SCIM userName is not case-exact (RFC 7643), so the server may match another casing. Only the
        # same name letter case aside (one character to one) is taken; a look-alike (full case folding,
        # compatibility characters: `straße` for `strasse`) is another person or a typo, and an error.
        candidates = list(self._pages({"filter": scim_eq_filter("userName", user_name)}))
        wanted = upper_invariant(user_name)
        same = [user for user in candidates if upper_invariant(user.get("userName", "")) == wanted]
        if same:
            return same
        near = [user for user in candidates if lookalike_key(user.get("userName", "")) == lookalike_key(user_name)]
        if near:
            raise ProviderError(PROVIDER, "user_name %s matches no user as spelled (letter case aside), but looks like "
                                "%s; nothing was done for it: give the exact user name or user_id" % (
                                    shown(user_name), ", ".join("user name %s of user %s" % (
                                        shown(user.get("userName")), user.get("id")) for user in near)))
        return []

    def list_users(self):
        return self._pages()

    # --- attributes ---------------------------------------------------------------------------
    def user_stub(self, user_id):
        return {"id": user_id}

    def user_id_of(self, user):
        return user.get("id")

    def user_name_of(self, user):
        return user.get("userName")

    def is_enabled(self, user):
        # SCIM: active defaults to true when not given.
        return user.get("active", True) is not False

    def describe(self, user):
        emails = user.get("emails") or []
        primary = [email.get("value") for email in emails if isinstance(email, dict) and email.get("primary")]
        return {
            "user_id": user.get("id"),
            "user_name": user.get("userName"),
            "display_name": user.get("displayName"),
            "email": primary[0] if primary else (emails[0].get("value") if emails and isinstance(emails[0], dict) else None),
            "external_id": user.get("externalId"),
            "state": "enabled" if self.is_enabled(user) else "disabled",
        }

    # --- changes ------------------------------------------------------------------------------
    def delete_user(self, user):
        response = self.transport.request("DELETE", self._user_url(user["id"]))
        return trace_id(response)

    def set_enabled(self, user, enabled):
        """PATCH `active`, trying each body form until one is proven to have taken effect."""
        url = self._user_url(user["id"])
        bodies = patch_bodies(enabled)
        # The form that worked last goes first; the others follow.
        first = self._patch_form
        forms = [first] + [form for form in range(len(bodies)) if form != first]
        outcomes = []
        refused = None
        request_id = None
        for form in forms:
            try:
                response = self.transport.request(
                    "PATCH", url, data=json.dumps(bodies[form]),
                    headers={"Content-Type": "application/scim+json; charset=utf-8"})
            except ProviderError as exc:
                if exc.status != 400 or isinstance(exc, NotFoundError):
                    raise
                outcomes.append("%s was refused (HTTP 400: %s)" % (PATCH_FORMS[form], exc.message))
                refused, request_id = exc, exc.request_id
                continue
            body = response_json(response)
            request_id = trace_id(response, body)
            active = body.get("active") if isinstance(body, dict) else None
            shown = "its answer"
            if not isinstance(active, bool):
                # 204, or a body without `active`: only a fresh read proves the change.
                fresh = self.get_user(user["id"])
                active = fresh.get("active") if isinstance(fresh, dict) else None
                shown = "a read of the user after it"
            if active is enabled:
                self._patch_form = form
                return request_id
            outcomes.append("%s was answered HTTP %s%s, but %s shows %s"
                            % (PATCH_FORMS[form], response.status_code,
                               " [request id %s]" % request_id if request_id else "", shown,
                               "active is still %s" % json.dumps(active) if isinstance(active, bool)
                               else "no active flag"))
            refused = None
        raise ProviderError(
            PROVIDER, "the user was not %s: %s. No form of the SCIM PATCH took effect; %s the user in Atlassian "
            "Administration" % ("enabled" if enabled else "disabled", "; ".join(outcomes),
                                "re-activate" if enabled else "deactivate"),
            status=refused and refused.status, code=refused and refused.code, request_id=request_id,
            method="PATCH", url=url)
