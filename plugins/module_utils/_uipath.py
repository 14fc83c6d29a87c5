# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""UiPath identity server ("Platform Management" user API): the users of one organization.

Authentication is an OAuth2 client-credentials token from `{identity base}/connect/token` (one per
task, renewed before it expires and once after a 401) or a given bearer token such as a personal
access token. The identity server allows only 300 GETs and 160 PUTs/DELETEs per 5 minutes per
organization, so users are found by paging the organization's user list (1000 a page) instead of
one GET each, and several users are deleted with the bulk `DELETE /api/User`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import time
import unicodedata
from urllib.parse import unquote, urlsplit

from ._http import (
    AuthenticationError,
    InputError,
    NotFoundError,
    ProviderError,
    body_excerpt,
    encode_path_segment,
    header_retry_after,
    response_json,
    status_error,
)
from ._lifecycle import UserDirectory, confirm_gone, env, fail_unfinished, record_request_id
from ._names import lookalike_key, shown, upper_invariant

PROVIDER = "UiPath Identity"
DEFAULT_BASE_URL = "https://cloud.uipath.com"
DEFAULT_SCOPE = "PM.User PM.User.Read PM.User.Write"
# When an application is not granted all of the default scope, the smaller sets that are enough,
# in order: PM.User alone, or the read and write scopes (DOC-SCOPE). An info module only reads.
SCOPE_FALLBACKS = ("PM.User", "PM.User.Read PM.User.Write")
READ_SCOPE_FALLBACK = "PM.User.Read"
# The list endpoint documents `top` from 0 to 1000.
PAGE_SIZE = 1000
# The largest bulk delete is not documented; a refused chunk is split in halves (see apply).
BULK_DELETE_SIZE = 50
# Refusals of a bulk delete that may concern one user only (a vanished or protected user, too
# many ids): the chunk is split in halves until each user has its own answer.
SPLIT_STATUSES = (400, 403, 404, 409, 413)
# Identity 429 answers are not documented to carry Retry-After; the quota is counted per 5-minute
# window, so five retries a minute apart span a whole window.
UNTOLD_RETRY_AFTER = 60.0
# A token is renewed this long before it expires (at most a tenth of its lifetime).
TOKEN_RENEWAL_MARGIN = 60.0
WINDOW = 300
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The live API answers numbers although the published spec says strings.
USER_TYPES = ("user", "robot", "directoryUser", "directoryGroup", "robotAccount", "application")
NOT_FOUND_TEXT = re.compile(r"(?i)not\s+found|does\s*n[o']t\s+exist|could\s*n[o']t\s+(?:be\s+)?(?:found|resolved)"
                            r"|cannot\s+resolve|no\s+such\s+user|unknown\s+user")
# A "not found" about these is a wrong URL or partition, never an absent user.
NOT_ABOUT_A_USER = re.compile(r"(?i)partition|organi[sz]ation|tenant|group|route|endpoint")
# The identity server's answer for a token without a needed scope: "Scope(s) '...' is(are) invalid".
SCOPE_ERROR = re.compile(r"(?i)\bscope\(?s?\)?\b.*\binvalid|insufficient[_ ]scope")
# No hint may put a word right after "client_secret:" or "access_token=": the redaction would mask it.
TOKEN_HINTS = {
    "invalid_client": "check client_id (the App ID) and client_secret (the App Secret) of a confidential "
                      "external application of this organization",
    "invalid_scope": "check scope: every scope asked for must be granted to the external application as an "
                     "application scope",
    "unauthorized_client": "the external application may not use the client credentials grant; it must be a "
                           "confidential application with application scopes",
}
HINT_401 = ("the token was refused: check client_id and client_secret, or that access_token is valid, "
            "not expired and issued for this organization")
HINT_403 = ("the credentials may not do this: an external application needs the PM.User scope (or PM.User.Read "
            "and PM.User.Write); a personal access token needs an organization administrator")
URL_HINT = "check base_url and organization, or identity_url"


def is_guid(value):
    return isinstance(value, str) and GUID.match(value) is not None


def jwt_claims(token):
    """The payload of a JWT-shaped token (base64url JSON), or {} for any other token.

    The signature is not checked: the claims only tell which organization the token is for.
    """
    parts = str(token or "").split(".")
    if len(parts) != 3 or not parts[1]:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_partition(token):
    """The organization GUID in the token's `prt_id` claim, or None."""
    value = jwt_claims(token).get("prt_id")
    return value if is_guid(value) else None


def identity_base(base_url, organization, identity_url):
    """The identity API base: `identity_url`, else `{base_url}/{organization}/identity_` (never a tenant)."""
    if identity_url:
        url = identity_url.strip().rstrip("/")
        option = "identity_url"
        example = "https://host/identity"
    else:
        url = (base_url or "").strip().rstrip("/")
        option = "base_url"
        example = DEFAULT_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError("%s must be an http(s) URL such as %s, got %r" % (option, example, url))
    if parts.query or parts.fragment:
        raise InputError("%s must not contain a query or fragment" % option)
    if identity_url:
        return url
    if "identity" in parts.path.lower():
        raise InputError("base_url is the address of the host only (such as %s); give a full identity base "
                         "such as https://host/identity as identity_url instead" % DEFAULT_BASE_URL)
    if not (organization or "").strip():
        raise InputError("organization is required (the organization name in the URL, UIPATH_ORGANIZATION) "
                         "unless identity_url is given")
    return "%s/%s/identity_" % (url, encode_path_segment(organization.strip(), option="organization"))


def chunked(items, size):
    items = list(items)
    return [items[start:start + size] for start in range(0, len(items), size)]


def name_key(text):
    """A user name or e-mail as the identity server compares them (ASP.NET Identity's lookup
    normalizer): composed (NFC), then upper-cased (upper_invariant). NFC makes the Kelvin sign K."""
    return upper_invariant(unicodedata.normalize("NFC", str(text)))


def _matches(users, names, key):
    """{name: [(user, field)]}: the users whose `userName` or `email` has the name's key, each once."""
    wanted = {}
    for name in names:
        wanted.setdefault(key(name), []).append(name)
    found = dict((name, []) for name in names)
    for user in users:
        for field in ("userName", "email"):
            for name in wanted.get(key(user[field]), ()) if user.get(field) else ():
                if all(other.get("id") != user.get("id") for other, _field in found[name]):
                    found[name].append((user, field))
    return found


def users_by_name(users, names):
    """{name: [users]} where `userName` or `email` equals the name as UiPath compares names.

    Two or more such users are returned all (the name is ambiguous). One user is taken only when
    spelled as given, letter case aside; a name that only composition (NFC: a Kelvin sign for K)
    makes equal, or that matches nobody but looks like a user's name or e-mail (full case folding,
    NFKC), is an error naming them instead: which user is meant, or whether the leaver is gone, is
    then a guess.
    """
    same = _matches(users, names, name_key)
    result = dict((name, [user for user, _field in same[name]]) for name in names)
    missing = [name for name in names if not same[name]]
    near = _matches(users, missing, lookalike_key)
    for name in names:
        if len(same[name]) == 1:
            user, field = same[name][0]
            if upper_invariant(name) != upper_invariant(user[field]):
                # Equal only once composed: the one user is not taken on that alone.
                near[name] = same[name]
        if near.get(name):
            result[name] = ProviderError(PROVIDER, "user_name %s matches no user as spelled (letter case aside), but "
                                         "looks like %s; nothing was done for it: give the exact user name or user_id"
                                         % (shown(name), ", ".join(
                                             "the %s %s of user %s" % ("user name" if field == "userName" else "e-mail",
                                                                       shown(user[field]), user.get("id"))
                                             for user, field in near[name])))
    return result


def pages_left(total, listed):
    """How many more pages of PAGE_SIZE the list has, or None when the server gave no total."""
    if not isinstance(total, int) or isinstance(total, bool):
        return None
    return int(math.ceil(max(0, total - listed) / float(PAGE_SIZE)))


# --- errors -----------------------------------------------------------------------------------

def _text(value):
    return value.strip() if isinstance(value, str) and value.strip() else None


def error_details(body):
    """(message, code, request_id) from any of the identity server's error shapes.

    ProblemDetails (`title`, `detail`, `errors` {field: [text]}, `traceId`), IdentityResult
    (`succeeded`, `errors` [{code, description}]), the `{StatusCode, StatusDescription, Message}`
    envelope, scope errors (`errorMessage`), Orchestrator-style `{message, errorCode}` and OAuth
    (`error`, `error_description`).
    """
    if not isinstance(body, dict):
        return None, None, None
    parts = []
    codes = []
    for key in ("title", "detail", "Message", "message", "errorMessage", "error_description"):
        text = _text(body.get(key))
        if text and text not in parts:
            parts.append(text)
    errors = body.get("errors")
    if isinstance(errors, dict):
        for field, texts in errors.items():
            texts = texts if isinstance(texts, list) else [texts]
            parts.append("%s: %s" % (field, "; ".join(str(text) for text in texts)))
    elif isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict):
                if _text(error.get("code")):
                    codes.append(error["code"].strip())
                text = _text(error.get("description")) or _text(error.get("code"))
                if text:
                    parts.append(text)
            elif _text(error):
                parts.append(error.strip())
    for key in ("error", "errorCode", "StatusDescription"):
        value = body.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            codes.append(str(value).strip())
    request_id = _text(body.get("traceId"))
    return ("; ".join(parts) or None), (codes[0] if codes else None), request_id


def is_user_not_found(status, body, message, bare_404_is_user=False):
    """Whether an answer says "this user does not exist" (and nothing else).

    The status for an unknown user id is not documented: a 404 with a JSON body (ProblemDetails),
    a 400 whose message says the user was not found, or the `{"StatusCode": 404, ...,
    "Message": "Cannot resolve users=[...]"}` envelope all count. A 404 with an empty body is an
    unknown route (a wrong URL), unless `bare_404_is_user`: the caller knows that the identity
    routes answer and that the request addressed one user.
    """
    message = message or ""
    if NOT_ABOUT_A_USER.search(message):
        return False
    if body is None and status == 404 and bare_404_is_user:
        return True
    if not isinstance(body, dict):
        return False
    if str(body.get("StatusCode", "")) == "404" or status == 404:
        return True
    return status == 400 and "user" in message.lower() and NOT_FOUND_TEXT.search(message) is not None


def www_authenticate_text(response):
    """`error_description` (or `error`) of a `WWW-Authenticate: Bearer ...` header."""
    header = response.headers.get("WWW-Authenticate") or ""
    for name in ("error_description", "error"):
        match = re.search(r'%s="([^"]*)"' % name, header)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return None


class MissingScope(AuthenticationError):
    """HTTP 403 because the token lacks a scope: the same for every user, so never split a bulk call for it."""


def is_scope_error(response, message):
    header = response.headers.get("WWW-Authenticate") or ""
    return "insufficient_scope" in header or SCOPE_ERROR.search(message or "") is not None


def parse_error(response, user_route=False):
    """The typed error of an identity API answer, or None for a success.

    `user_route`: the request addressed one user (`/api/User/{id}`) and the identity routes have
    answered before, so that even a 404 with an empty body says this user does not exist.
    """
    status = response.status_code
    body = response_json(response)
    message, code, request_id = error_details(body)
    if not message and status == 401:
        message = www_authenticate_text(response)
    message = message or body_excerpt(response)
    bare = not (response.text or "").strip()
    not_found = is_user_not_found(status, body, message, bare_404_is_user=user_route and bare)
    if status == 403 and is_scope_error(response, message):
        return MissingScope(PROVIDER, "%s (%s)" % (message, HINT_403), status=status, code=code,
                            request_id=request_id)
    if status == 401:
        message += " (%s)" % HINT_401
    elif status == 403:
        message += " (%s)" % HINT_403
    elif status == 404 and not not_found:
        message += " (%s)" % URL_HINT
    retry_after = header_retry_after(response)
    if status == 429 and retry_after is None:
        retry_after = UNTOLD_RETRY_AFTER
    return status_error(PROVIDER, response, message, code=code, request_id=request_id, not_found=not_found,
                        retry_after=retry_after)


def parse_token_error(response):
    """The typed error of a refused token request (OAuth `error`), or None for a success."""
    status = response.status_code
    body = response_json(response)
    message, code, request_id = error_details(body)
    # OAuth errors often carry only the code (`{"error": "invalid_client"}`).
    message = message or code or body_excerpt(response)
    hint = TOKEN_HINTS.get(code)
    if hint is None and status in (401, 403):
        hint = TOKEN_HINTS["invalid_client"]
    if hint is None and status == 404:
        hint = URL_HINT
    text = "the token request was refused: %s" % message
    if hint:
        text += " (%s)" % hint
    return status_error(PROVIDER, response, text, code=code, request_id=request_id)


def read_token(response, url):
    """(access_token, lifetime in seconds or None) of a token answer; a clear error for anything else,
    such as the HTML page a wrong token URL answers with HTTP 200."""
    body = response_json(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip():
        found = body_excerpt(response) if body is None else "JSON without an access_token"
        raise ProviderError(PROVIDER, "the token URL answered %s; %s (the identity base ends in /identity_ on "
                            "Automation Cloud and Automation Suite, /identity on a standalone server)"
                            % (found, URL_HINT), status=response.status_code, method="POST", url=url)
    lifetime = body.get("expires_in")
    if isinstance(lifetime, str) and lifetime.isdigit():
        lifetime = int(lifetime)
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = None
    return token.strip(), lifetime


def trace_id(body):
    """The request id UiPath gives: `traceId` of a ProblemDetails body."""
    return _text(body.get("traceId")) if isinstance(body, dict) else None


# --- authentication ---------------------------------------------------------------------------

class BearerAuth:
    """Sets `Authorization: Bearer` on every attempt (requests calls it once per prepared request).

    With `fetch` (client credentials) the token is fetched when first needed, again shortly
    before it expires, and again when the server refuses it (`renew`, called by the transport on a
    401). Renewal is serialized: workers that were refused the same token share one new token.
    Without `fetch` the token is fixed (a personal access token) and a 401 is final.
    """

    def __init__(self, token=None, fetch=None, clock=time.monotonic):
        self._token = token
        self._fetch = fetch
        self._clock = clock
        self._renew_at = None
        self._lock = threading.Lock()
        self.fetches = 0

    @property
    def renewable(self):
        return self._fetch is not None

    def token(self):
        with self._lock:
            if self._token is None or (self._renew_at is not None and self._clock() >= self._renew_at):
                self._fetch_locked()
            return self._token

    def _fetch_locked(self):
        token, lifetime = self._fetch()
        self.fetches += 1
        self._token = token
        self._renew_at = None
        if lifetime:
            self._renew_at = self._clock() + lifetime - min(TOKEN_RENEWAL_MARGIN, lifetime / 10.0)

    def __call__(self, prepared):
        prepared.headers["Authorization"] = "Bearer %s" % self.token()
        return prepared

    def renew(self, prepared):
        """After a 401: fetch a new token unless another worker already replaced the refused one."""
        if not self.renewable:
            return False
        refused = prepared.headers.get("Authorization")
        with self._lock:
            if self._token is None or refused == "Bearer %s" % self._token:
                self._fetch_locked()
        return True


# --- the directory ----------------------------------------------------------------------------

class UiPathDirectory(UserDirectory):
    provider = PROVIDER
    # UiPath documents quotas per 5-minute window, no rate per second: the quotas are hard caps, and below
    # them the pace adapts to refusals (other clients of the organization share the quotas).
    window_quotas = {"GET": (300, WINDOW), "PUT": (160, WINDOW), "DELETE": (160, WINDOW)}
    secret_options = ("client_secret", "access_token")

    @classmethod
    def connection_options(cls):
        return dict(
            base_url=dict(type="str", default=DEFAULT_BASE_URL, fallback=env("UIPATH_URL")),
            organization=dict(type="str", fallback=env("UIPATH_ORGANIZATION")),
            identity_url=dict(type="str", fallback=env("UIPATH_IDENTITY_URL")),
            client_id=dict(type="str", fallback=env("UIPATH_CLIENT_ID")),
            client_secret=dict(type="str", no_log=True, fallback=env("UIPATH_CLIENT_SECRET")),
            scope=dict(type="str", default=DEFAULT_SCOPE, fallback=env("UIPATH_SCOPE")),
            access_token=dict(type="str", no_log=True, fallback=env("UIPATH_ACCESS_TOKEN")),
            partition_global_id=dict(type="str", fallback=env("UIPATH_PARTITION_GLOBAL_ID")),
        )

    def __init__(self, module):
        super().__init__(module)
        self.identity_url = None
        self.users_url = None
        self.auth = None
        self.token_transport = None
        self.token_partition = None
        self._first_page = None
        # The scope a token was granted for (the default scope may fall back to a smaller set).
        self._scope = None
        # Whether the identity routes have answered (a page of the user list was read).
        self.routes_proven = False
        # The organization's number of users when its list was last read.
        self._listed_total = None

    # --- set-up -------------------------------------------------------------------------------
    def validate(self):
        params = self.module.params
        self.identity_url = identity_base(params["base_url"], params["organization"], params["identity_url"])
        self.users_url = self.identity_url + "/api/User"
        partition = params["partition_global_id"]
        if partition is not None and not is_guid(partition.strip()):
            raise InputError("partition_global_id must be the organization's GUID (such as "
                             "3fa85f64-5717-4562-b3fc-2c963f66afa6), got %r" % partition)
        access_token = (params["access_token"] or "").strip()
        client_id = (params["client_id"] or "").strip()
        client_secret = params["client_secret"] or ""
        if access_token:
            if client_id or client_secret:
                self.module.warn("access_token is set, so client_id and client_secret are not used")
            self.token_partition = token_partition(access_token)
            self.auth = BearerAuth(token=access_token)
        elif client_id and client_secret:
            if not (params["scope"] or "").strip():
                raise InputError("scope must not be empty")
            # The token endpoint gets its own transport: a form body and no bearer token.
            self.token_transport = self.make_transport(parse_token_error)
            self.auth = BearerAuth(fetch=self._fetch_token)
        elif client_id or client_secret:
            raise InputError("client_id and client_secret must be given together (or access_token instead)")
        else:
            raise InputError("give client_id and client_secret (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET) of an "
                             "external application, or access_token (UIPATH_ACCESS_TOKEN)")
        # The documentation shows Content-Type on every call, GETs included.
        self.make_transport(self._parse_error, auth=self.auth,
                            headers={"Accept": "application/json", "Content-Type": "application/json"})

    def validate_user_id(self, user_id):
        if not is_guid(str(user_id).strip()):
            raise InputError("user_id %r is not a UiPath user id; user ids are GUIDs such as "
                             "3fa85f64-5717-4562-b3fc-2c963f66afa6" % (user_id,))

    @property
    def partition_global_id(self):
        return (self.module.params["partition_global_id"] or "").strip() or self.token_partition

    def _parse_error(self, response):
        return parse_error(response, user_route=self.routes_proven and self._is_user_route(response))

    def _is_user_route(self, response):
        """Whether the answered request addressed one user: `{identity base}/api/User/{GUID}`."""
        url = getattr(getattr(response, "request", None), "url", None) or ""
        path, base = unquote(urlsplit(url).path), unquote(urlsplit(self.users_url).path) + "/"
        return path.startswith(base) and is_guid(path[len(base):])

    def _scopes_to_try(self):
        """The scope as given; for the default scope, also the smaller sets that are enough."""
        scope = " ".join(self.module.params["scope"].split())
        if self._scope or scope != DEFAULT_SCOPE:
            return [self._scope or scope]
        # The info module has no state: reading is all it needs.
        reads_only = "state" not in self.module.params
        return [scope] + list(SCOPE_FALLBACKS) + ([READ_SCOPE_FALLBACK] if reads_only else [])

    def _fetch_token(self):
        scopes = self._scopes_to_try()
        for scope in scopes:
            try:
                answer = self._request_token(scope)
            except ProviderError as exc:
                if exc.code == "invalid_scope" and scope != scopes[-1]:
                    continue
                if exc.code == "invalid_scope" and len(scopes) > 1:
                    exc.message += ("; the default scope and the smaller sets that are enough were each refused: %s"
                                    % ", ".join("'%s'" % one for one in scopes))
                raise
            if scope != scopes[0]:
                self.module.warn("the token request for the default scope '%s' was refused (invalid_scope): the "
                                 "external application is not granted all of it; the token was requested with "
                                 "'%s' instead (set scope: %s to ask for it at once)" % (scopes[0], scope, scope))
            self._scope = scope
            return answer

    def _request_token(self, scope):
        params = self.module.params
        url = self.identity_url + "/connect/token"
        # A token request changes nothing at the provider, although it is a POST.
        response = self.token_transport.request("POST", url, data={
            "grant_type": "client_credentials",
            "client_id": params["client_id"].strip(),
            "client_secret": params["client_secret"],
            "scope": scope,
        }, headers={"Accept": "application/json"}, changing=False)
        try:
            token, lifetime = read_token(response, url)
        except ProviderError as exc:
            exc.message = self.redact(exc.message)
            raise
        self.add_secret(token)
        self.token_partition = token_partition(token)
        return token, lifetime

    def _wants_list(self):
        """Whether this task reads the organization's user list (names, several ids, or everyone)."""
        params = self.module.params
        if params.get("user_id") is not None:
            return len(set(str(user_id).lower() for user_id in params["user_id"])) > 1
        return True

    def _needs_list(self):
        """Whether only the list can answer: names, or the info module's "every user"."""
        params = self.module.params
        return params.get("user_name") is not None or params.get("user_id") is None

    def preflight(self):
        """Fetch the token (proving the identity URL and the credentials), check the partition, and
        read the first page of users (proving the route and the partition; reused by the lookups)."""
        if self.auth.renewable:
            self.auth.token()
        given = (self.module.params["partition_global_id"] or "").strip()
        if given and self.token_partition and given.lower() != self.token_partition.lower():
            raise ProviderError(PROVIDER, "partition_global_id %s is not the organization of these credentials "
                                "(their token is for %s)" % (given, self.token_partition))
        wants_list = self._wants_list()
        if not self.partition_global_id:
            if self._needs_list():
                raise ProviderError(PROVIDER, "partition_global_id (UIPATH_PARTITION_GLOBAL_ID) is needed to list "
                                    "the organization's users and the access token carries no prt_id claim; set it "
                                    "to the organization GUID")
            return
        try:
            page = self._fetch_page(0, PAGE_SIZE if wants_list else 1)
        except ProviderError as exc:
            if exc.retryable or exc.status not in (400, 404):
                raise
            raise ProviderError(PROVIDER, "%s (check partition_global_id: it must be the GUID of the organization "
                                "in the URL)" % exc.message, status=exc.status, code=exc.code,
                                request_id=exc.request_id, method=exc.method, url=exc.url)
        if wants_list:
            self._first_page = page

    def close(self):
        super().close()
        if self.token_transport is not None:
            self.token_transport.session.close()

    # --- reads --------------------------------------------------------------------------------
    def _json(self, response, method, url):
        body = response_json(response)
        if not isinstance(body, dict):
            found = body_excerpt(response) if body is None else "JSON that is not an object"
            raise ProviderError(PROVIDER, "answered %s where a JSON object was expected; %s" % (found, URL_HINT),
                                status=response.status_code, method=method, url=url)
        return body

    def _user_url(self, user_id):
        return "%s/%s" % (self.users_url, encode_path_segment(str(user_id).strip()))

    def _fetch_page(self, skip, top):
        partition = encode_path_segment(self.partition_global_id, option="partition_global_id")
        url = "%s/users/%s" % (self.users_url, partition)
        # Sorted by id so that the pages stay in one order while they are read.
        response = self.transport.request("GET", url, params={"top": top, "skip": skip, "sortBy": "Id",
                                                              "sortOrder": "asc"})
        page = self._json(response, "GET", url)
        if not isinstance(page.get("results"), list):
            raise ProviderError(PROVIDER, "the user list has no results array", status=response.status_code,
                                method="GET", url=url)
        self.routes_proven = True
        total = page.get("totalCount")
        if isinstance(total, int) and not isinstance(total, bool):
            self._listed_total = total
        return page

    def _take_first_page(self):
        page, self._first_page = self._first_page, None
        return page if page is not None else self._fetch_page(0, PAGE_SIZE)

    def _list_all(self, first=None):
        """Every user of the organization, page by page (see _read_list)."""
        users, consistent = self._read_list(first)
        if not consistent:
            self.module.warn("the organization's users changed while they were listed (twice); a user added or "
                             "removed at the same time may have been missed")
        return users

    def _read_list(self, first=None):
        """(every user of the organization, whether the reading was consistent).

        If the total changes while the pages are read (someone else adds or deletes users), the
        offsets move and a user could be skipped, so the list is read once more.
        """
        users = {}
        for attempt in (1, 2):
            page = first if (first is not None and attempt == 1) else self._fetch_page(0, PAGE_SIZE)
            users, totals, listed = {}, set(), 0
            while True:
                results = page["results"]
                total = page.get("totalCount")
                totals.add(total)
                before = len(users)
                for user in results:
                    if isinstance(user, dict):
                        users.setdefault(str(user.get("id")).lower(), user)
                listed += len(results)
                left = pages_left(total, listed)
                if not results or len(users) == before or left == 0 or (left is None and len(results) < PAGE_SIZE):
                    break
                page = self._fetch_page(listed, PAGE_SIZE)
            complete = pages_left(total, 0) is None or len(users) == total
            if len(totals) == 1 and complete:
                return list(users.values()), True
        return list(users.values()), False

    def get_user(self, user_id):
        url = self._user_url(user_id)
        return self._json(self.transport.request("GET", url), "GET", url)

    def lookup_ids(self, user_ids):
        """One GET for one id; for several, the user list: its first page, then whichever needs fewer
        requests, the remaining pages or one GET per id still missing."""
        if len(set(str(user_id).lower() for user_id in user_ids)) < 2 or not self.partition_global_id:
            return super().lookup_ids(user_ids)
        try:
            first = self._take_first_page()
            found = index_by_id(first["results"])
            missing = [user_id for user_id in user_ids if str(user_id).strip().lower() not in found]
            left = pages_left(first.get("totalCount"), len(first["results"]))
            if missing and left is not None and len(missing) <= left:
                fetched = super().lookup_ids(missing)
                return dict((user_id, fetched[user_id] if user_id in fetched else found[str(user_id).strip().lower()])
                            for user_id in user_ids)
            if missing and left != 0:
                found = index_by_id(self._list_all(first))
        except ProviderError as exc:
            return dict((user_id, exc) for user_id in user_ids)
        return dict((user_id, found.get(str(user_id).strip().lower())) for user_id in user_ids)

    def lookup_names(self, user_names):
        """All names from one read of the user list, matched as UiPath compares them (see users_by_name).

        `searchTerm` is never used: its matching rules are not documented, so only the full list
        proves that a name matches nobody, or only one user.
        """
        try:
            everyone = self._list_all(self._take_first_page())
        except ProviderError as exc:
            return dict((name, exc) for name in user_names)
        return users_by_name(everyone, user_names)

    def find_users(self, user_name):
        found = self.lookup_names([user_name])[user_name]
        if isinstance(found, Exception):
            raise found
        return found

    def list_users(self):
        return self._list_all(self._take_first_page())

    # --- attributes ---------------------------------------------------------------------------
    def user_id_of(self, user):
        return user.get("id")

    def user_name_of(self, user):
        return user.get("userName") or user.get("email")

    def is_enabled(self, user):
        return user.get("isActive", True) is not False

    def describe(self, user):
        kind = user.get("type")
        if isinstance(kind, int) and not isinstance(kind, bool) and 0 <= kind < len(USER_TYPES):
            kind = USER_TYPES[kind]
        return {
            "user_id": user.get("id"),
            "user_name": user.get("userName"),
            "email": user.get("email"),
            "display_name": user.get("displayName"),
            "type": kind,
            "state": "enabled" if self.is_enabled(user) else "disabled",
        }

    # --- changes ------------------------------------------------------------------------------
    def _refusal(self, response, method, url):
        """The error of a 2xx answer whose IdentityResult says `succeeded: false`, else None."""
        body = response_json(response)
        if not (isinstance(body, dict) and body.get("succeeded") is False):
            return None
        message, code, request_id = error_details(body)
        message = self.redact(message or "the server answered succeeded: false without a reason")
        cls = NotFoundError if is_user_not_found(400, body, message) else ProviderError
        return cls(PROVIDER, message, status=response.status_code, code=code, request_id=request_id,
                   method=method, url=url)

    def _change(self, method, url, json=None):
        """A changing request to one user: a refusal inside a 2xx answer is an error too."""
        response = self.transport.request(method, url, json=json)
        refused = self._refusal(response, method, url)
        if refused is not None:
            raise refused
        return trace_id(response_json(response))

    def delete_user(self, user):
        return self._change("DELETE", self._user_url(user["id"]))

    def set_enabled(self, user, enabled):
        """PUT with `isActive` alone: every other attribute stays as it is."""
        return self._change("PUT", self._user_url(user["id"]), json={"isActive": bool(enabled)})

    def apply(self, entries):
        """Several deletions go to the bulk `DELETE /api/User`, BULK_DELETE_SIZE users a call."""
        if self.module.params["state"] != "absent" or len(entries) < 2 or not self.partition_global_id:
            super().apply(entries)
            return
        fail_unfinished(self.run(chunked(entries, BULK_DELETE_SIZE), self._delete_together))

    def _delete_together(self, entries, settled=False):
        """One bulk delete; when it is refused, split in halves until each user has its own answer.

        A chunk of n costs at most 2n - 1 DELETEs. When the call may have been carried out although
        it failed (a lost answer, or `succeeded: false`), each user is marked so that a later "not
        found" counts as deleted by this run; if one read of the user list costs fewer requests than
        splitting, the list says at once who is gone.
        """
        if len(entries) == 1:
            self.run_steps(entries[0])
            return
        request_id = None
        try:
            response = self.transport.request("DELETE", self.users_url, json={
                "partitionGlobalId": self.partition_global_id,
                "userIds": [self.user_id_of(entry.user) for entry in entries],
            })
        except ProviderError as exc:
            error = exc
            lost = exc.lost_answer
        else:
            request_id = trace_id(response_json(response))
            error = self._refusal(response, "DELETE", self.users_url)
            lost = None
            if error is not None and not isinstance(error, NotFoundError):
                # How much of a refused bulk call was carried out is not said ("not found" is about a
                # user who was gone before, as with a 404).
                lost = {"message": "the bulk delete answered HTTP %s with succeeded: false (%s)"
                                   % (error.status, error.message), "request_id": error.request_id}
        if error is None:
            for entry in entries:
                entry.changed = True
                entry.actions.extend(step.description for step in entry.steps)
                record_request_id(entry, request_id)
            return
        split = self._worth_splitting(error)
        if lost:
            for entry in entries:
                entry.lost_answer = entry.lost_answer or lost
            remaining = None if settled else self._settle(entries)
            settled = True
            if remaining is not None and len(remaining) < len(entries):
                # The call deleted some users, and may have been refused because of them: the others
                # are tried together again (or fail as it did, when the failure is not about users).
                if split and remaining:
                    self._delete_together(remaining, settled=True)
                elif not split:
                    for entry in remaining:
                        entry.fail(error)
                return
        if split:
            middle = len(entries) // 2
            self._delete_together(entries[:middle], settled)
            self._delete_together(entries[middle:], settled)
            return
        for entry in entries:
            entry.fail(error)

    @staticmethod
    def _worth_splitting(error):
        """Whether a refused bulk call may concern some of its users only (a vanished, protected or
        refused user, too many ids), never the caller (a missing scope, a bad token, throttling)."""
        if isinstance(error, MissingScope) or error.retryable:
            return False
        return isinstance(error, NotFoundError) or error.status in SPLIT_STATUSES or 200 <= (error.status or 0) < 300

    def _settle(self, entries):
        """After a bulk delete that may have been carried out: record the users now gone as deleted by
        this run, and return the others; None when reading the list costs more than splitting or fails."""
        pages = pages_left(self._listed_total, 0)
        if pages is None or pages >= len(entries):
            return None
        try:
            users, consistent = self._read_list()
        except ProviderError:
            return None
        if not consistent:
            # A user skipped by moving offsets would look deleted.
            return None
        present = index_by_id(users)
        remaining = []
        for entry in entries:
            if str(self.user_id_of(entry.user)).lower() in present:
                # Still there after the call: it did not delete this user.
                entry.lost_answer = None
                remaining.append(entry)
            else:
                confirm_gone(entry, entry.steps[-1].description, entry.lost_answer)
        return remaining


def index_by_id(users):
    return dict((str(user.get("id")).lower(), user) for user in users if isinstance(user, dict))
