# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""Alibaba Cloud request signatures, written from the published algorithm (no SDK at run time).

V3 `ACS3-HMAC-SHA256` is what the official SDK sends for RPC APIs such as CloudSSO: POST to `/`,
the business parameters in the query string, an empty body, and `host` plus the `x-acs-*`
headers signed. V1 (`HMAC-SHA1`, `SignatureVersion=1.0`) is the legacy RPC signature; the
collection never sends it, but the CloudSSO simulator verifies it and the tests pin it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from urllib.parse import parse_qsl, quote, urlsplit

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value):
    """RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay as they are; a space is %20."""
    return quote(str(value), safe="~")


def canonical_query(params):
    """`key=value` pairs sorted by key, both percent-encoded, joined with `&`; None values dropped.

    The same string is sent as the URL query, so that what is signed is exactly what is sent.
    """
    pairs = sorted((str(key), value) for key, value in params.items() if value is not None)
    return "&".join("%s=%s" % (percent_encode(key), percent_encode(value)) for key, value in pairs)


def sha256_hex(data):
    return hashlib.sha256(data or b"").hexdigest()


def v3_string_to_sign(method, path, query, headers, payload_hash):
    """The V3 string to sign, and the `SignedHeaders` list, for these (already chosen) headers."""
    canonical = {}
    for name, value in headers.items():
        key = name.lower().strip()
        text = str(value).strip()
        canonical[key] = canonical[key] + "," + text if key in canonical else text
    names = sorted(canonical)
    canonical_headers = "".join("%s:%s\n" % (name, canonical[name]) for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join((method.upper(), path or "/", query, canonical_headers,
                                   signed_headers, payload_hash))
    string_to_sign = V3_ALGORITHM + "\n" + sha256_hex(canonical_request.encode("utf-8"))
    return string_to_sign, signed_headers


def v3_authorization(access_key_id, access_key_secret, method, path, query, headers, payload_hash):
    """The `Authorization` header value for a V3 request signing exactly `headers`."""
    string_to_sign, signed_headers = v3_string_to_sign(method, path, query, headers, payload_hash)
    signature = hmac.new(access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"),
                         hashlib.sha256).hexdigest()
    return "%s Credential=%s,SignedHeaders=%s,Signature=%s" % (
        V3_ALGORITHM, access_key_id, signed_headers, signature)


def v1_string_to_sign(method, params):
    """V1: METHOD & %2F & pct(canonical query of every parameter except Signature)."""
    query = canonical_query(dict((key, value) for key, value in params.items() if key != "Signature"))
    return "%s&%s&%s" % (method.upper(), percent_encode("/"), percent_encode(query))


def v1_signature(access_key_secret, method, params):
    digest = hmac.new((access_key_secret + "&").encode("utf-8"),
                      v1_string_to_sign(method, params).encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def utc_timestamp(now=None):
    """ISO 8601 UTC to the second, the format both signatures use."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))


def host_of(url):
    """The Host header value for a URL: the host, and the port unless it is the scheme's default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = "[%s]" % host
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default_port:
        host += ":%d" % parts.port
    return host


class AcsV3Signer:
    """Signs a `requests.PreparedRequest` in place with ACS3-HMAC-SHA256 (a requests auth hook).

    The transport prepares every attempt again, so each retry gets a fresh date and nonce. The
    request must already carry `x-acs-action` and `x-acs-version`; the query is canonicalised from
    the URL, so the URL should carry exactly `canonical_query(params)`.
    """

    def __init__(self, access_key_id, access_key_secret, security_token=None, clock=time.time,
                 nonce=None):
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self._token = security_token or None
        self._clock = clock
        self._nonce = nonce or (lambda: uuid.uuid4().hex)

    def __repr__(self):
        # Never show the secret or the token, even in a traceback.
        return "<AcsV3Signer %s>" % self.access_key_id

    def __call__(self, prepared):
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        payload_hash = sha256_hex(body)
        prepared.headers["host"] = host_of(prepared.url)
        prepared.headers["x-acs-date"] = utc_timestamp(self._clock())
        prepared.headers["x-acs-signature-nonce"] = self._nonce()
        prepared.headers["x-acs-content-sha256"] = payload_hash
        if self._token:
            prepared.headers["x-acs-accesskey-id"] = self.access_key_id
            prepared.headers["x-acs-security-token"] = self._token
        signed = dict((name.lower(), value) for name, value in prepared.headers.items()
                      if name.lower() == "host" or name.lower().startswith("x-acs-"))
        if body and prepared.headers.get("content-type"):
            signed["content-type"] = prepared.headers["content-type"]
        parts = urlsplit(prepared.url)
        query = canonical_query(dict(parse_qsl(parts.query, keep_blank_values=True)))
        prepared.headers["Authorization"] = v3_authorization(
            self.access_key_id, self._secret, prepared.method, parts.path or "/", query, signed, payload_hash)
        return prepared
