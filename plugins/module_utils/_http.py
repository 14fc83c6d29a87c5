# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""The one HTTP layer of the collection.

Every provider client sends its requests through `HttpTransport`: one `requests.Session`
(one connection pool) per task, TLS settings, timeouts, the shared rate limiter, retries
with exponential back-off and jitter that honour `Retry-After`, typed errors, and
redaction of every secret from every message that can leave the module.
"""

from __future__ import annotations

import random
import re
import threading
import time
import traceback

try:
    import requests
    from urllib3.util.retry import Retry
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

REDACTED = "********"
RETRYABLE_STATUS = frozenset((429, 500, 502, 503, 504))
# A provider may ask for a long pause (UiPath counts per 5-minute window); never sleep longer.
MAX_RETRY_AFTER = 300.0


class InputError(Exception):
    """A bad option value, found before any request is sent."""


class ProviderError(Exception):
    """A request that failed, with everything the provider told us about it."""

    def __init__(self, provider, message, status=None, code=None, request_id=None,
                 retryable=False, retry_after=None, method=None, url=None):
        super().__init__(message)
        self.provider = provider
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.method = method
        self.url = url

    def __str__(self):
        parts = [self.provider]
        if self.method and self.url:
            parts.append("%s %s" % (self.method, self.url))
        if self.status is not None:
            parts.append("answered HTTP %s" % self.status)
        if self.code:
            parts.append("(%s)" % self.code)
        # "Provider: GET url answered HTTP 404 (Code): message", or "Provider: message".
        text = parts[0] + (": " + " ".join(parts[1:]) if len(parts) > 1 else "") + ": " + (self.message or "no message")
        if self.request_id:
            text += " [request id %s]" % self.request_id
        return text

    def to_dict(self):
        return {
            "provider": self.provider,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
        }


class NotFoundError(ProviderError):
    """The provider says the addressed user does not exist."""


class AuthenticationError(ProviderError):
    """The credentials were refused (HTTP 401/403 or the provider's equivalent)."""


class ConnectionFailure(ProviderError):
    """No HTTP answer at all: refused, reset, dropped, TLS failure or timeout."""


class Redactor:
    """Replaces every registered secret (and any bearer/signature header value) by a mask."""

    _PATTERNS = (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|acs3-hmac-sha256\s+)?[^'\",\s}]+"),
        re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
        re.compile(r"(?i)((?:signature|x-acs-security-token|securitytoken|access_token|client_secret)"
                   r"['\"]?\s*[:=]\s*['\"]?)[^&'\",\s}]+"),
    )

    def __init__(self, secrets=()):
        self._secrets = set()
        self._lock = threading.Lock()
        self.add(*secrets)

    def add(self, *secrets):
        with self._lock:
            for secret in secrets:
                # Short values would mask ordinary words; options validate that secrets are long enough.
                if secret and len(str(secret)) >= 4:
                    self._secrets.add(str(secret))

    @property
    def secrets(self):
        with self._lock:
            return frozenset(self._secrets)

    def __call__(self, value):
        if value is None:
            return None
        if isinstance(value, dict):
            return dict((key, self(item)) for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return [self(item) for item in value]
        if not isinstance(value, str):
            return value
        text = value
        # Longest first, so that a secret containing another one is masked whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern in self._PATTERNS:
            text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
        return text


def parse_retry_after(value):
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date); None if unusable.

    urllib3's own parser does the work; values are capped at MAX_RETRY_AFTER.
    """
    if value is None or not HAS_REQUESTS:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = Retry().parse_retry_after(value)
    except Exception:  # urllib3 raises InvalidHeader for garbage; treat it as absent
        return None
    return min(max(0.0, float(seconds)), MAX_RETRY_AFTER)


def backoff_delay(attempt, base=0.5, cap=30.0, rand=random.random):
    """Exponential back-off with jitter: base * 2**attempt capped, plus up to 50% jitter."""
    delay = min(cap, base * (2 ** attempt))
    return delay + delay * 0.5 * rand()


def retry_delay(attempt, retries, error, base=0.5, cap=30.0, rand=random.random):
    """Seconds to sleep before trying again after `error`, or None when we must give up."""
    if attempt >= retries or not getattr(error, "retryable", False):
        return None
    if error.retry_after is not None:
        # Honour the provider's request, with a little jitter so that parallel workers do not
        # come back in lockstep.
        return min(MAX_RETRY_AFTER, error.retry_after) + 0.1 * rand()
    return backoff_delay(attempt, base=base, cap=cap, rand=rand)


def encode_path_segment(value, option="user_id"):
    """Percent-encode one path segment so that it can never address another resource."""
    from urllib.parse import quote

    text = str(value)
    if not text.strip():
        raise InputError("%s must not be empty" % option)
    if text.strip(".") == "":
        raise InputError("%s %r is not a valid id" % (option, text))
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise InputError("%s %r contains control characters" % (option, text))
    return quote(text, safe="")


class HttpTransport:
    """Sends requests for one provider with retries, rate limiting and typed errors.

    `parse_error(response)` is the provider's knowledge of its error shapes: given an answer that
    is not a 2xx success, it returns a `ProviderError` (a `NotFoundError` where the provider says
    "not found"), with `retryable` and `retry_after` set for throttling and server faults.
    """

    def __init__(self, provider, parse_error, timeout=30.0, retries=5, validate_certs=True,
                 ca_path=None, pool_size=8, limiter=None, redactor=None, auth=None,
                 headers=None, backoff_base=0.5, backoff_cap=30.0, sleep=time.sleep):
        if not HAS_REQUESTS:
            raise RuntimeError("the requests library is required")
        self.provider = provider
        self.parse_error = parse_error
        self.timeout = timeout
        self.retries = retries
        self.limiter = limiter
        self.redact = redactor or Redactor()
        self.auth = auth
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self.session = requests.Session()
        # One pool sized to the parallelism, so that concurrent workers reuse connections.
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.verify = (ca_path or True) if validate_certs else False
        self.session.trust_env = True
        self.session.headers.update({"User-Agent": "identity.lifecycle (Ansible collection)"})
        if headers:
            self.session.headers.update(headers)
        self._stats_lock = threading.Lock()
        self.stats = {"requests": 0, "retries": 0}
        self.retry_reasons = {}

    def _count(self, key, reason=None):
        with self._stats_lock:
            self.stats[key] += 1
            if reason:
                self.retry_reasons[reason] = self.retry_reasons.get(reason, 0) + 1

    def request(self, method, url, params=None, json=None, data=None, headers=None, display_url=None):
        """Send one logical request; returns the `requests.Response` of a success.

        Each attempt is prepared again, so that signatures, nonces and tokens are fresh.
        """
        shown_url = display_url or url
        renewed_auth = False
        attempt = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire(method)
            prepared = self.session.prepare_request(requests.Request(
                method, url, params=params, json=json, data=data, headers=headers, auth=self.auth))
            self._count("requests")
            try:
                response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                error = self._connection_error(exc, method, shown_url)
            else:
                error = self._response_error(response, method, shown_url)
                if error is None:
                    return response
                # Only 401 says the token is no good; a new token cannot fix a 403 (missing scope or role).
                if (isinstance(error, AuthenticationError) and error.status == 401 and not renewed_auth
                        and getattr(self.auth, "renew", None) is not None and self.auth.renew(prepared)):
                    # An expired token is renewed once per request, not counted as a retry.
                    renewed_auth = True
                    continue
            delay = retry_delay(attempt, self.retries, error, base=self.backoff_base,
                                cap=self.backoff_cap)
            if delay is None:
                raise error
            self._count("retries", reason=str(error.status or error.code or "connection error"))
            self._sleep(delay)
            attempt += 1

    def _connection_error(self, exc, method, url):
        if isinstance(exc, requests.exceptions.SSLError):
            message = ("TLS verification failed (%s); set ca_path to the CA bundle that signed the "
                       "server certificate, or validate_certs: false for a test endpoint") % exc
        elif isinstance(exc, requests.exceptions.Timeout):
            message = "no answer within %s seconds (%s)" % (self.timeout, exc.__class__.__name__)
        else:
            # requests wraps the cause in urllib3's MaxRetryError; its reason is the useful part.
            cause = exc.args[0] if exc.args else exc
            message = "connection failed: %s" % getattr(cause, "reason", cause)
        # Sent requests may have been acted on; a retry of a DELETE then answers "not found",
        # which the caller treats as done.
        return ConnectionFailure(self.provider, self.redact(message),
                                 retryable=not isinstance(exc, requests.exceptions.SSLError),
                                 method=method, url=self.redact(url))

    def _response_error(self, response, method, url):
        # Only a 2xx answer is a success; redirects are not followed, so a 3xx is an error too.
        if 200 <= response.status_code < 300:
            return None
        error = self.parse_error(response)
        error.provider = error.provider or self.provider
        error.message = self.redact(error.message)
        error.method = method
        error.url = self.redact(url)
        return error


def response_json(response):
    """The JSON body of a response, or None when it has none or is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def header_retry_after(response):
    """`Retry-After` in seconds from a response, or None."""
    return parse_retry_after(response.headers.get("Retry-After"))


def status_error(provider, response, message, code=None, request_id=None, not_found=False,
                 retry_after=None):
    """Build the typed error for an HTTP status, marking 429/5xx as retryable."""
    status = response.status_code
    cls = ProviderError
    if not_found:
        cls = NotFoundError
    elif status in (401, 403):
        cls = AuthenticationError
    if retry_after is None:
        retry_after = header_retry_after(response)
    return cls(provider, message, status=status, code=code, request_id=request_id,
               retryable=status in RETRYABLE_STATUS, retry_after=retry_after)


def body_excerpt(response, limit=300):
    """A short, single-line excerpt of a non-JSON body, for error messages."""
    text = (response.text or "").strip()
    if "<html" in text[:200].lower() or "<!doctype" in text[:200].lower():
        return "an HTML page instead of JSON"
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "..."
    return text or "an empty body"
