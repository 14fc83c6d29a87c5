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

With `tenants`, the leaver's Orchestrator user in each tenant (`{base_url}/{organization}/{tenant}/orchestrator_`)
is removed before the organization user (`TenantSweep`): found, and its robots checked, with reads only before
any change; its personal workspace left as it is and named for a person (or converted to a folder first, or
deleted after it).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
import threading
import time
import unicodedata
from urllib.parse import unquote, urlsplit

from ._batch import RateLimiter
from ._http import (
    AuthenticationError,
    HttpTransport,
    InputError,
    NotFoundError,
    ProviderError,
    body_excerpt,
    encode_path_segment,
    header_retry_after,
    response_json,
    status_error,
)
from ._lifecycle import (
    ALREADY_GONE,
    Step,
    UserDirectory,
    checked_identifier,
    confirm_gone,
    env,
    fail_unfinished,
    follow_up_item,
    leftover_item,
    record_request_id,
)
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

# --- Orchestrator tenants (the sweep) ---
ORCHESTRATOR = "UiPath Orchestrator"
# The Orchestrator API Access scopes the sweep needs (the API definition's "OAuth required scopes"): users (find,
# check robots, remove) and folders (personal workspaces). Asked for with the default scope only when tenants are
# given; the smaller sets that are enough follow, as for the identity scopes.
TENANT_SCOPES = "OR.Users OR.Users.Read OR.Users.Write OR.Folders OR.Folders.Read OR.Folders.Write"
TENANT_SCOPE_FALLBACKS = ("PM.User OR.Users OR.Folders",
                          "PM.User.Read PM.User.Write OR.Users.Read OR.Users.Write OR.Folders.Read OR.Folders.Write")
TENANT_READ_SCOPE_FALLBACK = "PM.User.Read OR.Users.Read OR.Folders.Read"
TENANT_RESOURCES = ("OR.Users", "OR.Folders")
# keep (the default): the workspace stays as it is, named in manual_follow_up; convert: ConvertToFolder, which the
# API definition says OAuth tokens (all of this module's) may not call; delete: DELETE Folders({key}).
WORKSPACE_MODES = ("keep", "convert", "delete")
DEFAULT_WORKSPACE_MODE = "keep"
# Orchestrator user types that are people (UserType: User, Robot, DirectoryUser, DirectoryGroup, DirectoryRobot,
# DirectoryExternalApplication; numbers in that order where an answer gives numbers).
PERSON_TYPES = ("User", "DirectoryUser", 0, 2)
# Orchestrator's API definition says of every $filter "The maximum number of expressions is 100": ASP.NET Core
# OData's MaxNodeCount (ODataValidationSettings, 100 by default), which counts the nodes of the filter's syntax tree
# (see odata_filter_nodes) and answers HTTP 400 beyond it. The sweep splits its filters to fit, with a margin.
ODATA_MAX_NODES = 100
INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1
# Orchestrator's $top allows at most 1000.
ORCHESTRATOR_PAGE = 1000
# Folder names are kept short; the longest Orchestrator accepts is not documented.
FOLDER_NAME_MAX = 100
HINT_TENANT_AUTH = ("the token may not do this in the tenant: an external application needs the Orchestrator API "
                    "Access application scopes OR.Users and OR.Folders (or OR.Users.Read, OR.Users.Write, "
                    "OR.Folders.Read and OR.Folders.Write; the .Read ones alone in check mode) and, in the tenant, a "
                    "role allowing Users View and Delete and Folders View, Edit and Delete; a personal access token "
                    "needs the same scopes and a user with that role")
HINT_TENANT_URL = ("check the tenant name (as in the URL {base_url}/{organization}/{tenant}/orchestrator_) and that "
                   "Orchestrator is enabled in that tenant")
HINT_CONVERT_AUTH = ("UiPath's published API definition says ConvertToFolder does not support OAuth authentication, "
                     "and every token of this module is OAuth (client credentials, personal access tokens): set "
                     "personal_workspace: keep (the default), which leaves the workspace as it is and names it for a "
                     "person, or convert it in Orchestrator (Tenant > Folders > Personal Workspaces > Convert to "
                     "folder) and run the task again")
NOTHING_REMOVED = "nothing was removed for this user, in any tenant or at the organization"


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


# --- Orchestrator: pure helpers -------------------------------------------------------------------

def odata_literal(value):
    """An OData literal: a string in single quotes with each quote doubled (`O'Brien` -> `'O''Brien'`), an
    integer as it is. Anything else is refused: a filter built from it could mean something else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError("an OData filter value must be text or an integer, got %r" % (value,))
    if isinstance(value, int):
        return str(value)
    return "'%s'" % value.replace("'", "''")


def odata_any_equal(fields, values):
    """A `$filter` true when any field equals any value: `UserName eq 'a' or EmailAddress eq 'a' or ...`."""
    if not fields or not values:
        raise InputError("an OData filter needs at least one field and one value")
    return " or ".join("%s eq %s" % (field, odata_literal(value)) for value in values for field in fields)


def odata_comparison_nodes(value):
    """The nodes of `Field eq value` in OData's filter tree: the `eq` operator, the property access and its source
    (the range variable `$it`), and the constant; an integer that fits in 32 bits is parsed as an Int32 literal and,
    compared with one of Orchestrator's Int64 keys (Id, OwnerId: the only integers the sweep filters by), wrapped in
    a conversion node (OData/odata.net, MetadataBindingUtils.ConvertToTypeIfNeeded)."""
    return 5 if isinstance(value, int) and INT32_MIN <= value <= INT32_MAX else 4


def odata_filter_nodes(fields, values):
    """The nodes of odata_any_equal(fields, values) as ASP.NET Core OData counts them against MaxNodeCount
    (OData/AspNetCoreOData, FilterQueryValidator.ValidateQueryNode counts every node it visits): each comparison
    (odata_comparison_nodes) and each `or` between two of them."""
    comparisons = [value for value in values for _field in fields]
    return sum(odata_comparison_nodes(value) for value in comparisons) + len(comparisons) - 1


def planned_filter_nodes(fields, values):
    """odata_filter_nodes with a margin of one node for each comparison (a conversion the count does not foresee,
    should Orchestrator declare a property otherwise): the sweep keeps this within ODATA_MAX_NODES."""
    return odata_filter_nodes(fields, values) + len(fields) * len(values)


def chunk_values(chunk):
    """The values of a chunk of groups, each once, in order."""
    values = []
    for group in chunk:
        values.extend(value for value in group if value not in values)
    return values


def filter_chunks(groups, fields):
    """`groups` (the values of one person, or one id each) in order, in as few chunks as fit: each chunk's filter
    (odata_any_equal over its values) stays within ODATA_MAX_NODES with its margin (planned_filter_nodes)."""
    chunks = []
    for group in groups:
        if chunks and planned_filter_nodes(fields, chunk_values(chunks[-1] + [group])) <= ODATA_MAX_NODES:
            chunks[-1].append(group)
            continue
        if planned_filter_nodes(fields, chunk_values([group])) > ODATA_MAX_NODES:
            raise InputError("%d values cannot be looked for in one Orchestrator filter (at most %d nodes)"
                             % (len(group), ODATA_MAX_NODES))
        chunks.append([group])
    return chunks


def orchestrator_id(value, what="Orchestrator user"):
    """An Orchestrator key (int64); a clear error for anything else, so that no request addresses a guess."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        raise ProviderError(ORCHESTRATOR, "answered a %s without a numeric Id (%r)" % (what, value))
    return value


def person_names(user):
    """The names an organization user may have in a tenant: its user name and e-mail, each once."""
    names = []
    for field in ("userName", "email"):
        value = user.get(field)
        if isinstance(value, str) and value.strip() and name_key(value) not in [name_key(name) for name in names]:
            names.append(value.strip())
    return names


def tenant_matches(users, names):
    """The Orchestrator users that are people and whose `UserName` or `EmailAddress` equals one of the names
    as the identity server compares names (upper-cased one character to one); each once. Orchestrator's own
    filter may compare more loosely, so its answer is never taken as it is."""
    wanted = set(name_key(name) for name in names)
    found = []
    for user in users:
        if not isinstance(user, dict) or user.get("Type", "User") not in PERSON_TYPES:
            continue
        fields = [user.get(field) for field in ("UserName", "EmailAddress")]
        if any(isinstance(value, str) and name_key(value) in wanted for value in fields):
            if all(other.get("Id") != user.get("Id") for other in found):
                found.append(user)
    return found


def busy_flags(body):
    """{Orchestrator user id (str): whether its robots are busy} from the answer of
    `Users/UiPath.Server.Configuration.OData.Validate(userIds=[...])`.

    The API definition gives the answer as an OData value of a dictionary from id to boolean and says the call
    "validates if the robots for the given users are busy"; that `true` means busy is inferred. `value` is read
    as an object ({"11": true}) or as a list of {"Key": 11, "Value": true} pairs; anything else is an error."""
    value = body.get("value") if isinstance(body, dict) else None
    pairs = None
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(item, dict) and "Key" in item for item in value):
        pairs = [(item["Key"], item.get("Value")) for item in value]
    if pairs is None or any(not isinstance(flag, bool) for _key, flag in pairs):
        raise ProviderError(ORCHESTRATOR, "the check of the users' robots (Validate) answered %s, not a map from "
                            "user id to true or false" % json.dumps(body)[:200])
    return dict((str(key).strip(), flag) for key, flag in pairs)


def missing_tenant_scopes(scope, reads_only=False, changes_folders=True):
    """The Orchestrator scopes a scope string lacks for the sweep: for users and for folders, the full scope,
    or its .Read scope and (unless only reading) its .Write scope; folders are only read when the workspaces are
    kept (`changes_folders` false). An empty list when nothing is missing."""
    granted = set((scope or "").split())
    missing = []
    for resource in TENANT_RESOURCES:
        writes = not reads_only and (changes_folders or resource != "OR.Folders")
        parts = [resource + ".Read"] + ([resource + ".Write"] if writes else [])
        if resource not in granted and not all(part in granted for part in parts):
            missing.append("%s (or %s)" % (resource, " and ".join(parts)))
    return missing


def converted_folder_name(workspace):
    """The name of the folder a personal workspace becomes: its own name and id, so that it is unique and
    says whose it was (`dana@example.com's workspace (620795)`)."""
    workspace_id = workspace.get("Id")
    name = workspace.get("Name") or ("%s's workspace" % workspace.get("OwnerName")
                                     if workspace.get("OwnerName") else "personal workspace")
    name = re.sub(r"[/\\]", "-", " ".join(str(name).split()))
    suffix = " (%s)" % workspace_id
    return name[:FOLDER_NAME_MAX - len(suffix)].rstrip() + suffix


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


ITEM_ROUTE = re.compile(r"/odata/\w+\(\d+\)")


def parse_orchestrator_error(response):
    """The typed error of an Orchestrator answer, or None for a success.

    Orchestrator answers `{"message", "errorCode", "traceId"}` (or an OData `{"error": {"code", "message"}}`).
    A 404 is "this item is gone" only on a route that addresses one item (`Users(11)`, `Folders(5)`, ...): the
    sweep reaches those only after the tenant answered its reads. On any other route it is a wrong tenant (or
    Orchestrator not enabled there). 401 and 403 name the scopes and the tenant role the sweep needs.
    """
    status = response.status_code
    body = response_json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        body = dict((key, value) for key, value in body.items() if key != "error")
        body.update(message=error.get("message"), errorCode=error.get("code"))
    message, code, request_id = error_details(body)
    if not message and status == 401:
        message = www_authenticate_text(response)
    message = message or body_excerpt(response)
    url = getattr(getattr(response, "request", None), "url", None) or ""
    html = body is None and "html" in body_excerpt(response).lower()
    not_found = status == 404 and ITEM_ROUTE.search(unquote(urlsplit(url).path)) is not None and not html
    if status in (401, 403):
        message += " (%s)" % HINT_TENANT_AUTH
    elif status == 404 and not not_found:
        message += " (%s)" % HINT_TENANT_URL
    return status_error(ORCHESTRATOR, response, message, code=code, request_id=request_id, not_found=not_found)


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

    @classmethod
    def extra_user_options(cls):
        return dict(
            tenants=dict(type="list", elements="str"),
            personal_workspace=dict(type="str", default=DEFAULT_WORKSPACE_MODE, choices=list(WORKSPACE_MODES)),
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
        # The tenants named by `tenants` (any state), and their sweep (state absent only).
        self.tenants = []
        self.sweep = None

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
        self._validate_tenants()

    def _validate_tenants(self):
        """`tenants`: names, each once (tenant names in URLs ignore letter case); the sweep for state absent."""
        params = self.module.params
        for tenant in params.get("tenants") or []:
            name = checked_identifier(tenant, "tenants")
            encode_path_segment(name, option="tenants")
            if name.lower() not in [known.lower() for known in self.tenants]:
                self.tenants.append(name)
        if not self.tenants:
            return
        if params["state"] == "enabled":
            self.module.warn("tenants is not used with state enabled: the Orchestrator users in the tenants are "
                             "neither looked for nor changed")
            return
        if params["state"] != "absent":
            return  # disabled: the tenants are named in each user's manual_follow_up (plan_change)
        if params["identity_url"]:
            raise InputError("tenants needs base_url and organization instead of identity_url: a tenant's Orchestrator "
                             "is at {base_url}/{organization}/{tenant}/orchestrator_, which identity_url does not tell")
        identity_base(params["base_url"], params["organization"], None)  # the same checks of both options
        scope = " ".join((params["scope"] or "").split())
        if self.token_transport is not None and scope != DEFAULT_SCOPE:
            missing = missing_tenant_scopes(scope, reads_only=self.check_mode,
                                            changes_folders=params["personal_workspace"] != "keep")
            if missing:
                raise InputError("scope %r lacks %s, which tenants needs to find and remove the leaver's Orchestrator "
                                 "users and personal workspaces; add them to scope and grant them to the external "
                                 "application (Orchestrator API Access), or leave scope at its default"
                                 % (scope, ", ".join(missing)))
        self.sweep = TenantSweep(self, self.tenants, params["personal_workspace"])

    def orchestrator_transport(self):
        """A transport for the tenants' Orchestrator: the same token, its own errors, and its own pacing, since
        the identity server's quotas do not count Orchestrator's requests."""
        params = self.module.params
        limiter = RateLimiter(rate=params["rate_limit"], burst=max(1, self.parallelism),
                              adaptive=params["rate_limit"] is None)
        return HttpTransport(
            ORCHESTRATOR, parse_orchestrator_error, timeout=params["timeout"], retries=params["retries"],
            validate_certs=params["validate_certs"], ca_path=params["ca_path"], pool_size=self.parallelism,
            limiter=limiter, redactor=self.redact, auth=self.auth, headers={"Accept": "application/json"},
            deadline=self.deadline, warn=self.module.warn)

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
        """The scope as given; for the default scope, also the smaller sets that are enough (with the
        Orchestrator scopes when tenants are swept)."""
        scope = " ".join(self.module.params["scope"].split())
        if self._scope or scope != DEFAULT_SCOPE:
            return [self._scope or scope]
        if self.sweep is not None:
            return ([scope + " " + TENANT_SCOPES] + list(TENANT_SCOPE_FALLBACKS)
                    + ([TENANT_READ_SCOPE_FALLBACK] if self.check_mode else []))
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
        if self.sweep is not None:
            self.sweep.transport.session.close()
            transport = self.sweep.transport
            if transport.stats["retries"]:
                self.module.warn("%s: %d of %d requests were retried (%s)" % (
                    ORCHESTRATOR, transport.stats["retries"], transport.stats["requests"],
                    ", ".join("%s: %d" % item for item in sorted(transport.retry_reasons.items()))))

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
        """The users by id; with the tenant sweep, also what each found user has in the tenants (reads)."""
        found = self._lookup_ids_in_organization(user_ids)
        self._survey_tenants(found.values(), ())
        return found

    def lookup_names(self, user_names):
        """The users by name; with the tenant sweep, also what each found user, and each name that matches
        nobody in the organization, has in the tenants (reads)."""
        found = self._lookup_names_in_organization(user_names)
        absent = [name for name in user_names if found.get(name) == []]
        self._survey_tenants([users[0] for users in found.values() if isinstance(users, list) and len(users) == 1],
                             absent)
        return found

    def _survey_tenants(self, users, absent_names):
        if self.sweep is None:
            return
        people = {}
        for user in users:
            if isinstance(user, dict):
                people[self._person_key(user)] = person_names(user)
        for name in absent_names:
            people["name:" + name] = [name]
        self.sweep.survey(people)

    @staticmethod
    def _person_key(user):
        return "id:%s" % str(user.get("id")).lower()

    def _lookup_ids_in_organization(self, user_ids):
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

    def _lookup_names_in_organization(self, user_names):
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
        found = self._lookup_names_in_organization([user_name])[user_name]
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
            "tenants": self.sweep.describe(self._person_key(user)) if self.sweep is not None else None,
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

    def plan_change(self, entry, role):
        steps = super().plan_change(entry, role)
        if role == "disabled" and self.tenants:
            entry.follow_up.append(follow_up_item(
                "Orchestrator users", "not touched: a disabled organization user cannot sign in, but its Orchestrator "
                "users in these tenants keep their roles, robots (with any unattended credentials) and personal "
                "workspaces; the users are removed when the user is offboarded with state absent (its workspaces "
                "as personal_workspace says)", where=tenants_text(self.tenants)))
        return steps

    def plan_delete(self, entry):
        """With the tenant sweep, the leaver's Orchestrator users (and their personal workspaces) go first,
        then the organization user; a tenant that cannot be read, an ambiguous name or busy robots fail the user
        before anything is removed anywhere."""
        steps = []
        if self.sweep is not None:
            steps = self.sweep.plan(self._person_key(entry.user), self.user_name_of(entry.user), entry)
        steps.extend(super().plan_delete(entry))
        if self.check_mode:
            entry.follow_up.append(self.tokens_follow_up())
        return steps

    def plan_absent(self, entry):
        """A leaver already absent from the organization may still have Orchestrator users: those found by the
        requested name are removed; a user given by id cannot be looked for by name, which is said."""
        if self.sweep is None:
            return []
        if entry.by == "id":
            entry.follow_up.append(follow_up_item(
                "Orchestrator users", "not looked for: the organization user %s no longer exists, and Orchestrator "
                "users are found by user name or e-mail, which this task does not know for it; look for the leaver "
                "under Tenant > Manage Access > Users in each tenant, or run the task again with user_name"
                % entry.key, where=tenants_text(self.tenants)))
            return []
        steps = self.sweep.plan("name:" + entry.key, entry.key, entry)
        if steps and self.check_mode:
            # A real run says what was removed once its answers prove it (TenantSweep.apply).
            entry.msg = "already absent; its Orchestrator users would be removed"
        return steps

    def tokens_follow_up(self):
        return follow_up_item(
            "personal access tokens", "UiPath documents revoking a user's personal access tokens in the admin UI "
            "only: Admin > External Applications > Personal Access Token lists every token of the organization with "
            "its owner; revoke the leaver's there (only local users have them; whether deleting the user ends them "
            "is not confirmed)", where="organization %s" % (self.module.params["organization"] or self.identity_url))

    def set_enabled(self, user, enabled):
        """PUT with `isActive` alone: every other attribute stays as it is."""
        return self._change("PUT", self._user_url(user["id"]), json={"isActive": bool(enabled)})

    def apply(self, entries):
        """The tenant sweep first (users whose sweep fails keep their organization user); then several deletions
        go to the bulk `DELETE /api/User`, BULK_DELETE_SIZE users a call."""
        absent = self.module.params["state"] == "absent"
        if absent and self.sweep is not None:
            entries = self.sweep.apply(entries)
        if not absent or len(entries) < 2 or not self.partition_global_id:
            super().apply(entries)
        else:
            fail_unfinished(self.run(chunked(entries, BULK_DELETE_SIZE), self._delete_together))
        for entry in entries if absent else ():
            if not entry.failed:
                entry.follow_up.append(self.tokens_follow_up())

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


def tenants_text(tenants):
    return ", ".join("tenant %s" % tenant for tenant in tenants)


def retold(error, message):
    """`error` with another message, and everything else it knew (status, code, request id, lost answer)."""
    copy = error.__class__(error.provider, message, status=error.status, code=error.code, request_id=error.request_id,
                           retryable=error.retryable, retry_after=error.retry_after, method=error.method, url=error.url)
    copy.lost_answer = error.lost_answer
    return copy


# --- Orchestrator tenants ---------------------------------------------------------------------

class TenantSweep:
    """The leaver's Orchestrator users in the named tenants, removed before the organization user.

    `survey` reads, for every person of the task and every tenant (tenants concurrently): the Orchestrator users
    named like the person (`GET /odata/Users?$filter=UserName eq ... or EmailAddress eq ...`, matched again
    here), whether their robots are busy (`Users/...Validate(userIds=[...])`) and their personal workspaces
    (`GET /odata/PersonalWorkspaces?$filter=OwnerId eq ...`), each filter within Orchestrator's node limit
    (filter_chunks). `plan` turns that into steps, or fails the person before any change anywhere. `apply` runs each
    person's tenant steps in order; a person whose step fails keeps everything after it, the organization user
    included.

    A personal workspace is, by `workspace_mode`: kept (its owner is removed, then a read proves it is still there,
    and manual_follow_up names it: no call this module may make keeps what it holds), converted to a folder before
    any user is removed anywhere (ConvertToFolder, which the API definition says OAuth tokens may not call), or
    deleted after its owner is removed (Orchestrator deletes a folder only without user associations, and the owner
    is one).
    """

    def __init__(self, directory, tenants, workspace_mode):
        self.directory = directory
        self.tenants = list(tenants)
        self.workspace_mode = workspace_mode
        params = directory.module.params
        host = params["base_url"].strip().rstrip("/")
        organization = encode_path_segment(params["organization"].strip(), option="organization")
        self.bases = dict((tenant, "%s/%s/%s/orchestrator_" % (host, organization,
                                                               encode_path_segment(tenant, option="tenants")))
                          for tenant in self.tenants)
        self.transport = directory.orchestrator_transport()
        # {tenant: {"users": {person key: [Orchestrator users]}, "busy": {id: bool}, "workspaces": {id: [...]}}
        # or the ProviderError that kept the tenant from being read}
        self.findings = {}

    # --- reads ----------------------------------------------------------------------------------
    def survey(self, people):
        """`people`: {person key: [names]}. Reads only."""
        if not people:
            return
        outcomes = self.directory.run(self.tenants, lambda tenant: self._survey_tenant(tenant, people))
        for outcome in outcomes:
            self.findings[outcome.item] = outcome.error if outcome.error is not None else outcome.value

    def _survey_tenant(self, tenant, people):
        found = {}
        keys = list(people)
        names_fields = ("UserName", "EmailAddress")
        position = 0
        for chunk in filter_chunks([people[key] for key in keys], names_fields):
            names = chunk_values(chunk)
            listed = self._read_all(tenant, "Users", odata_any_equal(names_fields, names)) if names else []
            for key in keys[position:position + len(chunk)]:
                found[key] = tenant_matches(listed, people[key])
            position += len(chunk)
        ids = sorted(set(orchestrator_id(user.get("Id")) for users in found.values() for user in users))
        busy, workspaces = {}, {}
        # Validate takes the ids in its path, not in a $filter; the same chunks keep its address as short.
        for chunk in filter_chunks([[one] for one in ids], ("OwnerId",)):
            chunk = chunk_values(chunk)
            busy.update(self._busy(tenant, chunk))
            for workspace in self._read_all(tenant, "PersonalWorkspaces", odata_any_equal(("OwnerId",), chunk)):
                owner = orchestrator_id(workspace.get("OwnerId"), "personal workspace owner")
                workspaces.setdefault(str(owner), []).append(workspace)
        return {"users": found, "busy": busy, "workspaces": workspaces}

    def _json(self, response, url):
        body = response_json(response)
        if not isinstance(body, dict):
            raise ProviderError(ORCHESTRATOR, "answered %s where a JSON object was expected (%s)"
                                % (body_excerpt(response) if body is None else "JSON that is not an object",
                                   HINT_TENANT_URL), status=response.status_code, method="GET", url=url)
        return body

    def _read_all(self, tenant, entity, odata_filter):
        """Every item of an OData collection matching the filter, page by page."""
        url = "%s/odata/%s" % (self.bases[tenant], entity)
        items = []
        while True:
            response = self.transport.request("GET", url, params={
                "$filter": odata_filter, "$top": ORCHESTRATOR_PAGE, "$skip": len(items), "$count": "true"})
            body = self._json(response, url)
            page = body.get("value")
            if not isinstance(page, list):
                raise ProviderError(ORCHESTRATOR, "the %s list has no value array (%s)" % (entity, HINT_TENANT_URL),
                                    status=response.status_code, method="GET", url=url)
            items.extend(page)
            total = body.get("@odata.count")
            counted = isinstance(total, int) and not isinstance(total, bool)
            if not page or (counted and len(items) >= total) or (not counted and len(page) < ORCHESTRATOR_PAGE):
                return items

    def _read_by_ids(self, tenant, entity, ids):
        """The items of an OData collection with these ids, in reads that fit the node limit."""
        items = []
        for chunk in filter_chunks([[one] for one in ids], ("Id",)):
            items.extend(self._read_all(tenant, entity, odata_any_equal(("Id",), chunk_values(chunk))))
        return items

    def _busy(self, tenant, ids):
        url = "%s/odata/Users/UiPath.Server.Configuration.OData.Validate(userIds=[%s])" % (
            self.bases[tenant], ",".join(str(one) for one in ids))
        flags = busy_flags(self._json(self.transport.request("GET", url), url))
        return flags

    def describe(self, key):
        """What a person has in each tenant, for diff mode: {tenant: {orchestrator_user, personal_workspaces}}."""
        described = {}
        for tenant in self.tenants:
            finding = self.findings.get(tenant)
            if not isinstance(finding, dict):
                continue
            for user in finding["users"].get(key, []):
                workspaces = finding["workspaces"].get(str(user.get("Id")), [])
                described[tenant] = {"orchestrator_user": "%s (%s)" % (user.get("UserName"), user.get("Id")),
                                     "personal_workspaces": ["%s (%s)" % (one.get("Name"), one.get("Id"))
                                                             for one in workspaces]}
        return described or None

    # --- plan -----------------------------------------------------------------------------------
    def plan(self, key, who, entry):
        """The tenant steps of one person. Raises a ProviderError, before any change anywhere, for a tenant that
        could not be read, a name that matches several Orchestrator users, robots that are busy (or whose state was
        not reported), or a workspace to delete that other users are exploring.

        Tenant by tenant, the Orchestrator user then, with delete, its workspaces; with convert, every conversion in
        every tenant comes first, so that a refused one (the API definition says OAuth may not convert) leaves
        everything as it was. In check mode, the workspaces that would be kept are named in the entry's follow-up."""
        conversions, steps, kept = [], [], []
        for tenant in self.tenants:
            finding = self.findings.get(tenant)
            if isinstance(finding, Exception):
                if not isinstance(finding, ProviderError):
                    finding = ProviderError(ORCHESTRATOR, str(finding))
                raise retold(finding, "tenant %s could not be read: %s; %s" % (tenant, finding.message, NOTHING_REMOVED))
            if finding is None:
                raise ProviderError(ORCHESTRATOR, "tenant %s was not read for %s; %s" % (tenant, who, NOTHING_REMOVED))
            matches = finding["users"].get(key, [])
            if len(matches) > 1:
                raise ProviderError(ORCHESTRATOR, "%s matches %d Orchestrator users in tenant %s (%s): which one is the "
                                    "leaver's would be a guess, so %s; remove the right one by hand, or give each its "
                                    "own user name and e-mail" % (shown(who), len(matches), tenant, ", ".join(
                                        "%s %s" % (user.get("Id"), shown(user.get("UserName"))) for user in matches),
                                        NOTHING_REMOVED))
            if not matches:
                continue
            user = matches[0]
            user_id = orchestrator_id(user.get("Id"))
            busy = finding["busy"].get(str(user_id))
            if busy is not False:
                raise ProviderError(ORCHESTRATOR, "Orchestrator user %s (%s) in tenant %s %s: %s; let the user's "
                                    "running jobs finish or stop them in Orchestrator, then run the task again"
                                    % (shown(user.get("UserName")), user_id, tenant,
                                       "has busy robots" if busy else
                                       "was not reported by the check of its robots (Validate), so whether they are "
                                       "busy is not known", NOTHING_REMOVED))
            workspaces = finding["workspaces"].get(str(user_id), [])
            if self.workspace_mode == "convert":
                conversions.extend(self._convert_step(tenant, workspace) for workspace in workspaces)
                steps.append(self._user_step(tenant, user, user_id))
            elif self.workspace_mode == "delete":
                self._check_deletable(tenant, workspaces)
                steps.append(self._user_step(tenant, user, user_id))
                steps.extend(self._delete_step(tenant, workspace) for workspace in workspaces)
            else:
                steps.append(self._user_step(tenant, user, user_id, kept=workspaces))
                kept.extend(kept_item(tenant, workspace, user, "would be") for workspace in workspaces)
        if self.directory.check_mode:
            # Only for a person the plan does not fail: a failed one keeps everything.
            entry.follow_up.extend(kept)
        return conversions + steps

    def _step(self, tenant, description, call, leftover, after=None):
        step = Step(description, call, leftover=leftover)
        step.tenant = tenant
        # Run once the step is done, with the entry; a ProviderError fails the entry there.
        step.after = after
        return step

    @staticmethod
    def _check_deletable(tenant, workspaces):
        """A workspace other users explore has user associations this task does not end: Orchestrator would refuse
        to delete it, after its owner was removed."""
        for workspace in workspaces:
            explorers = [str(one) for one in workspace.get("ExploringUserIds") or []]
            if explorers:
                raise ProviderError(ORCHESTRATOR, "personal workspace %s in tenant %s is being explored by "
                                    "Orchestrator users %s: Orchestrator deletes a folder only when no user is associated with it, "
                                    "and this task does not end another user's exploring; stop exploring it in "
                                    "Orchestrator (Tenant > Folders > Personal Workspaces), or set personal_workspace: "
                                    "keep; %s" % (workspace_text(workspace), tenant, ", ".join(explorers),
                                                  NOTHING_REMOVED))

    def _delete_step(self, tenant, workspace):
        workspace_id = orchestrator_id(workspace.get("Id"), "personal workspace")
        return self._step(tenant, "deleted personal workspace %s in tenant %s" % (workspace_text(workspace), tenant),
                          lambda: self._delete_workspace(tenant, workspace),
                          leftover_item("personal workspace", "deleted", id=str(workspace_id),
                                        name=workspace.get("Name"), where="tenant %s" % tenant))

    def _convert_step(self, tenant, workspace):
        workspace_id = orchestrator_id(workspace.get("Id"), "personal workspace")
        folder = converted_folder_name(workspace)
        return self._step(tenant, "converted personal workspace %s to the folder %s in tenant %s"
                          % (workspace_text(workspace), json.dumps(folder), tenant),
                          lambda: self._convert_workspace(tenant, workspace_id, folder),
                          leftover_item("personal workspace", "converted to a folder", id=str(workspace_id),
                                        name=workspace.get("Name"), where="tenant %s" % tenant))

    def _user_step(self, tenant, user, user_id, kept=()):
        name = user.get("UserName") or user.get("EmailAddress")
        description = "removed Orchestrator user %s (%s) from tenant %s" % (json.dumps(name), user_id, tenant)
        after = None
        if kept:
            # What is done to the workspace is part of what an approval compares.
            description += ", leaving its personal workspace%s %s as it is" % (
                "s" if len(kept) > 1 else "", ", ".join(workspace_text(workspace) for workspace in kept))
            after = functools.partial(self._confirm_kept, tenant, user, kept)
        return self._step(tenant, description, lambda: self._remove_user(tenant, user_id),
                          leftover_item("Orchestrator user", "removed", id=str(user_id), name=name,
                                        where="tenant %s" % tenant), after=after)

    # --- changes --------------------------------------------------------------------------------
    def _convert_workspace(self, tenant, workspace_id, folder):
        url = "%s/odata/PersonalWorkspaces(%d)/UiPath.Server.Configuration.OData.ConvertToFolder" % (
            self.bases[tenant], workspace_id)
        try:
            # The body (a folder name) is the API definition's request model.
            response = self.transport.request("POST", url, json={"folderName": folder})
        except NotFoundError as exc:
            if exc.lost_answer:
                return exc.lost_answer.get("request_id")  # the first attempt converted it
            raise retold(exc, "%s; the personal workspace is no longer there, so whether its automations were kept "
                         "is not known: run the task again, which reads the workspaces again" % exc.message)
        except AuthenticationError as exc:
            raise retold(exc, "%s; %s" % (exc.message, HINT_CONVERT_AUTH))
        return trace_id(response_json(response))

    def _delete_workspace(self, tenant, workspace):
        workspace_id = orchestrator_id(workspace.get("Id"), "personal workspace")
        try:
            return self._delete(tenant, "%s/odata/Folders(%d)" % (self.bases[tenant], workspace_id))
        except ProviderError as exc:
            raise retold(exc, "personal workspace %s was not deleted: %s; its owner is no longer a user of the tenant "
                         "(Orchestrator deletes a folder only without user associations, so the owner was removed "
                         "first), so the workspace is left in tenant %s without its owner, with what it holds: in "
                         "Orchestrator (Tenant > Folders > Personal Workspaces), convert it to a folder, or empty it "
                         "and delete it; a later run cannot find it by the leaver's name"
                         % (workspace_text(workspace), exc.message, tenant))

    def _remove_user(self, tenant, user_id):
        return self._delete(tenant, "%s/odata/Users(%d)" % (self.bases[tenant], user_id))

    def _delete(self, tenant, url):
        try:
            response = self.transport.request("DELETE", url)
        except NotFoundError as exc:
            # Gone: by the first attempt of this request when its answer was lost, else by someone else.
            return exc.lost_answer.get("request_id") if exc.lost_answer else ALREADY_GONE
        return trace_id(response_json(response))

    def _confirm_kept(self, tenant, owner, workspaces, entry):
        """After the owner's removal: read the kept workspaces again, and name each for a person. What Orchestrator
        does to a workspace whose owner is removed is not documented; one that is gone is a loud failure, never a
        workspace named as left."""
        ids = [orchestrator_id(workspace.get("Id"), "personal workspace") for workspace in workspaces]
        try:
            listed = self._read_by_ids(tenant, "PersonalWorkspaces", ids)
        except ProviderError as exc:
            raise retold(exc, "the personal workspaces %s could not be read again after their owner was removed, so "
                         "whether they are still there is not known: %s" % (
                             ", ".join(workspace_text(one) for one in workspaces), exc.message))
        present = set(str(one.get("Id")) for one in listed if isinstance(one, dict))
        gone = [workspace for workspace in workspaces if str(workspace.get("Id")) not in present]
        if gone:
            raise ProviderError(ORCHESTRATOR, "personal workspace %s is no longer listed after its owner was removed: "
                                "Orchestrator may remove a workspace with its owner (UiPath does not document what "
                                "becomes of it), so what it held may be gone; look for it in Orchestrator (Tenant > "
                                "Folders > Personal Workspaces) and in the tenant's audit log"
                                % ", ".join(workspace_text(one) for one in gone))
        entry.follow_up.extend(kept_item(tenant, workspace, owner, "was") for workspace in workspaces)

    def apply(self, entries):
        """Run every entry's tenant steps; return the entries whose organization user is to be deleted now."""
        fail_unfinished(self.directory.run(entries, self._run_steps))
        remaining = []
        for entry in entries:
            if entry.failed:
                continue
            if not entry.found:
                # Already absent from the organization: only its tenants were swept, and only what this run's
                # answers prove is said.
                if any(item.get("kind") == "Orchestrator user" for item in entry.leftover):
                    entry.msg = "already absent; its Orchestrator users were removed"
                elif entry.changed:
                    entry.msg = "already absent; %s" % "; ".join(entry.actions)
                continue
            entry.steps = [step for step in entry.steps if getattr(step, "tenant", None) is None]
            remaining.append(entry)
        return remaining

    def _run_steps(self, entry):
        tenant_steps = [step for step in entry.steps if getattr(step, "tenant", None) is not None]
        for index, step in enumerate(tenant_steps):
            try:
                outcome = step.call()
            except ProviderError as exc:
                self._fail(entry, step, exc, tenant_steps[index:])
                return
            if outcome is not ALREADY_GONE:
                entry.done(step, outcome)
            if step.after is not None:
                try:
                    step.after(entry)
                except ProviderError as exc:
                    self._fail(entry, step, exc, tenant_steps[index + 1:])
                    return

    @staticmethod
    def _fail(entry, step, exc, left):
        """Fail the entry at a tenant step: what this run did for it, what it did not, and the organization user."""
        organization = ("the organization user was kept (not deleted), so the task can run again once this is fixed"
                        if entry.found else "the organization user was already absent")
        entry.fail(retold(exc, "tenant %s: %s. Done for this user before: %s. Not done: %s; %s"
                          % (step.tenant, exc.message, "; ".join(entry.actions) or "nothing",
                             "; ".join(one.description for one in left) or "nothing else in the tenants",
                             organization)))


def workspace_text(workspace):
    """A personal workspace as actions and messages name it: its name in quotes and its id."""
    return "%s (%s)" % (json.dumps(workspace.get("Name")), workspace.get("Id"))


def kept_item(tenant, workspace, owner, done):
    """The manual_follow_up item of a personal workspace left as it is (`done`: "was", or "would be")."""
    return follow_up_item("personal workspace", "%s, the personal workspace of Orchestrator user %s (%s), %s left as "
                          "it is, with what it holds: UiPath's API definition does not let OAuth tokens (this module's) "
                          "convert it to a folder (ConvertToFolder). In Orchestrator, Tenant > Folders > Personal "
                          "Workspaces: Convert to folder to keep its automations, or delete it if nothing in it is "
                          "needed; once its owner is removed, a later run cannot find it by the leaver's name"
                          % (workspace_text(workspace), json.dumps(owner.get("UserName") or owner.get("EmailAddress")),
                             owner.get("Id"), done), where="tenant %s" % tenant)
