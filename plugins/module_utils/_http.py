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

import ipaddress
import random
import re
import threading
import time
import traceback
from urllib.parse import urlsplit

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
# Methods that never change anything; every other request is treated as changing unless its
# caller says otherwise (a POST that only reads).
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
# The longest error text taken from a provider's answer (after redaction).
EXCERPT_LIMIT = 300
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
        # Set by the transport on the error of a changing request one of whose earlier attempts may
        # have been carried out although its answer was lost: {"message": ..., "request_id": ...}.
        self.lost_answer = None

    @property
    def is_throttling(self):
        """The provider refused the request for its rate (HTTP 429 or a throttling code)."""
        return self.status == 429 or (self.code or "").startswith(("Throttling", "Rejected.Throttling"))

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
        result = {
            "provider": self.provider,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
        }
        if self.lost_answer:
            result["lost_answer"] = dict(self.lost_answer)
        return result


class NotFoundError(ProviderError):
    """The provider says the addressed user does not exist."""


class AuthenticationError(ProviderError):
    """The credentials were refused (HTTP 401/403 or the provider's equivalent)."""


class ConnectionFailure(ProviderError):
    """No HTTP answer at all: refused, reset, dropped, TLS failure or timeout."""


class DeadlineReached(ProviderError):
    """The task's deadline passed before this request could be (re)tried."""


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


MAX_VALUE_LENGTH = 1024


def has_control_characters(text):
    """C0 controls (CR, LF, TAB, NUL...), DEL and C1 controls, none of which belong in an id, a name,
    a header or a secret."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return any(ord(char) < 32 or 127 <= ord(char) < 160 for char in str(text))


def encode_path_segment(value, option="user_id"):
    """Percent-encode one path segment so that it can never address another resource."""
    from urllib.parse import quote

    text = str(value)
    if not text.strip():
        raise InputError("%s must not be empty" % option)
    if has_control_characters(text):
        raise InputError("%s %s contains control characters" % (option, ascii(text[:80])))
    if len(text) > MAX_VALUE_LENGTH:
        raise InputError("%s is %d characters long; at most %d are accepted" % (option, len(text), MAX_VALUE_LENGTH))
    if text.strip(".") == "":
        raise InputError("%s %r is not a valid id" % (option, text))
    return quote(text, safe="")


def is_loopback(host):
    if (host or "").lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


def cleartext_warning(url):
    """A warning for a plain-http URL that leaves this machine (credentials would travel in clear), else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or is_loopback(parts.hostname):
        return None
    return ("%s://%s is not encrypted: the credentials and every answer travel in clear text; use https"
            % (parts.scheme, parts.netloc))


class _NoNetrc:
    """An auth that adds nothing: a session without auth would take credentials from ~/.netrc,
    which would replace a provider's Authorization header."""

    def __call__(self, prepared):
        return prepared


class HttpTransport:
    """Sends requests for one provider with retries, rate limiting and typed errors.

    `parse_error(response)` is the provider's knowledge of its error shapes: given an answer that
    is not a 2xx success, it returns a `ProviderError` (a `NotFoundError` where the provider says
    "not found"), with `retryable` and `retry_after` set for throttling and server faults.
    """

    def __init__(self, provider, parse_error, timeout=30.0, retries=5, validate_certs=True,
                 ca_path=None, pool_size=8, limiter=None, redactor=None, auth=None,
                 headers=None, backoff_base=0.5, backoff_cap=30.0, sleep=time.sleep,
                 deadline=None, clock=time.monotonic, warn=None):
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
        # `deadline`: a time on `clock` after which no request is sent or retried.
        self.deadline = deadline
        self._clock = clock
        self._warn = warn
        self._warned = set()
        # Whether any server has answered yet: before that, an address that refuses connections
        # is a wrong URL, not a busy provider, and retrying it only makes the user wait.
        self._answered = False
        self.session = requests.Session()
        # One pool sized to the parallelism, so that concurrent workers reuse connections.
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.verify = (ca_path or True) if validate_certs else False
        # Proxies and CA bundles from the environment are honoured; ~/.netrc credentials never are.
        self.session.trust_env = True
        self.session.auth = _NoNetrc()
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

    def request(self, method, url, params=None, json=None, data=None, headers=None, display_url=None,
                changing=None):
        """Send one logical request; returns the `requests.Response` of a success.

        Each attempt is prepared again, so that signatures, nonces and tokens are fresh.
        `changing`: whether the request changes something (default: every method but GET, HEAD
        and OPTIONS). When an attempt of a changing request may have been carried out although its
        answer was lost (a 5xx, a timeout, a dropped connection), the error finally raised carries
        `lost_answer`, so that a caller whose retry finds the user gone knows this run removed it.
        """
        shown_url = display_url or url
        if changing is None:
            changing = method.upper() not in READ_METHODS
        self._check_cleartext(url)
        renewed_auth = False
        lost_answer = None
        attempt = 0
        while True:
            self._check_deadline(method, shown_url, lost_answer)
            sent_at = None
            if self.limiter is not None:
                sent_at = self.limiter.acquire(method, deadline=self.deadline)
                if sent_at is None:
                    raise self._deadline_error(method, shown_url, lost_answer,
                                               "the provider's rate limit or quota allows no request before it")
            response = None
            try:
                prepared = self.session.prepare_request(requests.Request(
                    method, url, params=params, json=json, data=data, headers=headers, auth=self.auth))
                # An auth callable sets its header after requests' own check, and http.client lets a folded
                # line break through: no header value may carry a control character.
                if any(has_control_characters(value) for value in prepared.headers.values()):
                    raise ValueError("header value with control characters")
                self._count("requests")
                response = self.session.send(prepared, timeout=self._attempt_timeout(), allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                error = self._connection_error(exc, method, shown_url)
            except Exception as exc:  # pylint: disable=broad-except
                # Anything else (a header value requests refuses, an encoding error) is this request's
                # error, redacted like every other, never a traceback that could carry a secret.
                raise self._unexpected_error(exc, method, shown_url, lost_answer)
            else:
                self._answered = True
                error = self._response_error(response, method, shown_url)
                if self.limiter is not None:
                    throttled = error is not None and error.is_throttling
                    self.limiter.answered(throttled, sent_at, retry_after=error.retry_after if throttled else None)
                if error is None:
                    return response
                # Only 401 says the token is no good; a new token cannot fix a 403 (missing scope or role).
                if (isinstance(error, AuthenticationError) and error.status == 401 and not renewed_auth
                        and getattr(self.auth, "renew", None) is not None and self.auth.renew(prepared)):
                    # An expired token is renewed once per request, not counted as a retry.
                    renewed_auth = True
                    continue
            if changing and lost_answer is None and self._may_have_been_processed(error, response):
                lost_answer = {"message": str(error), "request_id": error.request_id}
            delay = retry_delay(attempt, self.retries, error, base=self.backoff_base,
                                cap=self.backoff_cap)
            if delay is not None and self.deadline is not None and self._clock() + delay > self.deadline:
                error.message = "%s (no retry: the task's deadline would pass first)" % error.message
                delay = None
            if delay is None:
                if error.retryable and attempt and attempt >= self.retries:
                    error.message = "%s (gave up after %d retries)" % (error.message, attempt)
                raise self._with_lost_answer(error, lost_answer)
            self._count("retries", reason=str(error.status or error.code or "connection error"))
            self._sleep(delay)
            attempt += 1

    @staticmethod
    def _may_have_been_processed(error, response):
        """Whether the failed attempt may have reached the provider and been carried out."""
        if response is not None:
            # 503 says the server could not take the request on (RFC 9110); other 5xx answers (a gateway's 502
            # or 504, a 500) may come after the work was done.
            return response.status_code >= 500 and response.status_code != 503
        # A connection that was never made (refused, no such host, connect timeout) sent nothing.
        return isinstance(error, ConnectionFailure) and not getattr(error, "not_sent", False)

    @staticmethod
    def _with_lost_answer(error, lost_answer):
        if lost_answer is not None and error.lost_answer is None:
            error.lost_answer = lost_answer
        return error

    def _attempt_timeout(self):
        if self.deadline is None:
            return self.timeout
        return max(0.001, min(self.timeout, self.deadline - self._clock()))

    def _check_deadline(self, method, url, lost_answer):
        if self.deadline is not None and self._clock() >= self.deadline:
            raise self._deadline_error(method, url, lost_answer, "it has passed")

    def _deadline_error(self, method, url, lost_answer, why):
        error = DeadlineReached(self.provider, "the task's deadline was reached before this request could be "
                                "sent (%s); nothing more is tried (raise deadline, or run the task again)" % why,
                                method=method, url=self.redact(url))
        return self._with_lost_answer(error, lost_answer)

    def _check_cleartext(self, url):
        if self._warn is None or url[:8].lower() == "https://":
            return
        warning = cleartext_warning(url)
        if warning and warning not in self._warned:
            self._warned.add(warning)
            self._warn("%s: %s" % (self.provider, self.redact(warning)))

    def _unexpected_error(self, exc, method, url, lost_answer):
        if isinstance(exc, ValueError) and "header" in str(exc).lower():
            # requests quotes the refused header value, which may be a credential: never repeat it.
            message = "a header value contains characters that HTTP does not allow (such as a newline)"
        else:
            message = "the request could not be sent: %s: %s" % (exc.__class__.__name__, exc)
        error = ProviderError(self.provider, self.redact(message), method=method, url=self.redact(url))
        return self._with_lost_answer(error, lost_answer)

    def _connection_error(self, exc, method, url):
        not_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or _is_new_connection_error(exc)
        retryable = not isinstance(exc, requests.exceptions.SSLError)
        if isinstance(exc, requests.exceptions.SSLError):
            message = ("TLS verification failed (%s); set ca_path to the CA bundle that signed the "
                       "server certificate, or validate_certs: false for a test endpoint") % exc
        elif isinstance(exc, requests.exceptions.Timeout):
            message = "no answer within %s seconds (%s)" % (self.timeout, exc.__class__.__name__)
        else:
            # requests wraps the cause in urllib3's MaxRetryError; its reason is the useful part.
            cause = exc.args[0] if exc.args else exc
            message = "connection failed: %s" % getattr(cause, "reason", cause)
        if not_sent and not self._answered:
            # Nothing has ever answered at this address: a wrong URL (or host) is far likelier than
            # a busy provider, and retrying would only keep the user waiting.
            message += "; nothing has answered at this address yet, so it is not retried: check the URL options"
            retryable = False
        error = ConnectionFailure(self.provider, self.redact(message), retryable=retryable,
                                  method=method, url=self.redact(url))
        # A request that never left this machine cannot have been carried out.
        error.not_sent = not_sent
        return error

    def _response_error(self, response, method, url):
        # Only a 2xx answer is a success; redirects are not followed, so a 3xx is an error too.
        if 200 <= response.status_code < 300:
            return None
        self._redact_body(response)
        error = self.parse_error(response)
        error.provider = error.provider or self.provider
        error.message = self.redact(error.message)
        error.method = method
        error.url = self.redact(url)
        return error

    def _redact_body(self, response):
        """Mask secrets in an error answer before anything reads it, so that no excerpt can cut a
        secret in two and keep half of it."""
        text = response.text or ""
        clean = self.redact(text)
        if clean != text:
            response._content = clean.encode("utf-8")  # pylint: disable=protected-access
            response.encoding = "utf-8"


def _is_new_connection_error(exc):
    """Whether requests could not even open the connection (refused, no such host)."""
    from urllib3.exceptions import NewConnectionError

    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError) or isinstance(cause, NewConnectionError)


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


def body_excerpt(response, limit=EXCERPT_LIMIT):
    """A short, single-line excerpt of a non-JSON body, for error messages."""
    text = (response.text or "").strip()
    if "<html" in text[:200].lower() or "<!doctype" in text[:200].lower():
        return "an HTML page instead of JSON"
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit] + "..."
    return text or "an empty body"
