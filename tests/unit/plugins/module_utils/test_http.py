# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import email.utils
import time

import pytest

from ansible_collections.identity.lifecycle.plugins.module_utils import _http
from ansible_collections.identity.lifecycle.plugins.module_utils._batch import RateLimiter
from simulators._base import Response, SimServer, Simulator


# --- Retry-After and back-off decisions -----------------------------------------------------------

@pytest.mark.parametrize("value, expected", [("5", 5.0), ("0", 0.0), (" 12 ", 12.0), ("100000", _http.MAX_RETRY_AFTER)])
def test_retry_after_seconds(value, expected):
    assert _http.parse_retry_after(value) == expected


def test_retry_after_http_date_is_relative_to_now():
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _http.parse_retry_after(future) <= 30


def test_retry_after_date_in_the_past_means_no_wait():
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert _http.parse_retry_after(past) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-3", "1.5.2"])
def test_retry_after_unusable_values(value):
    assert _http.parse_retry_after(value) is None


def test_backoff_grows_exponentially_and_is_capped():
    no_jitter = [_http.backoff_delay(attempt, base=0.5, cap=4, rand=lambda: 0.0) for attempt in range(6)]
    assert no_jitter == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_adds_at_most_half():
    assert _http.backoff_delay(2, base=0.5, cap=30, rand=lambda: 1.0) == pytest.approx(3.0)


def retryable(retry_after=None):
    return _http.ProviderError("p", "busy", status=503, retryable=True, retry_after=retry_after)


def test_retry_delay_gives_up_after_the_last_retry():
    assert _http.retry_delay(3, 3, retryable(), rand=lambda: 0.0) is None
    assert _http.retry_delay(2, 3, retryable(), rand=lambda: 0.0) == 2.0


def test_retry_delay_never_retries_a_client_error():
    error = _http.ProviderError("p", "bad", status=400, retryable=False)
    assert _http.retry_delay(0, 5, error) is None


def test_retry_delay_honours_retry_after_over_backoff():
    assert _http.retry_delay(0, 5, retryable(retry_after=7.0), rand=lambda: 0.0) == 7.0


# --- Redaction ---------------------------------------------------------------------------------

def test_redactor_masks_registered_secrets_everywhere():
    redact = _http.Redactor(["s3cr3t-key-value"])
    assert redact("key s3cr3t-key-value in text") == "key ******** in text"
    assert redact({"a": ["x s3cr3t-key-value"], "b": 1}) == {"a": ["x ********"], "b": 1}


def test_redactor_masks_longest_secret_first():
    redact = _http.Redactor(["abcd1234", "abcd1234-extended"])
    assert redact("abcd1234-extended") == "********"


@pytest.mark.parametrize("text", [
    "Authorization: Bearer eyJhbGciOi.payload.sig",
    "{'Authorization': 'ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=abc'}",
    "https://host/?Signature=XOHkv7MGnI34Gv3GyazvnosWqnc%3D&Action=DeleteUser",
    "x-acs-security-token: CAIS-token-value",
    "client_secret=abcdef&grant_type=client_credentials",
])
def test_redactor_masks_credentials_it_was_not_told_about(text):
    redacted = _http.Redactor()(text)
    for secret in ("eyJhbGciOi", "Credential=id", "XOHkv7MGnI34", "CAIS-token-value", "abcdef&"):
        assert secret not in redacted


def test_redactor_ignores_values_too_short_to_be_secrets():
    assert _http.Redactor(["ab", None, ""])("ab cd") == "ab cd"


# --- Path segments -------------------------------------------------------------------------------

def test_path_segment_encodes_separators():
    assert _http.encode_path_segment("../Groups/g-1") == "..%2FGroups%2Fg-1"
    assert _http.encode_path_segment("a b?c#d") == "a%20b%3Fc%23d"
    assert _http.encode_path_segment("zoë") == "zo%C3%AB"


@pytest.mark.parametrize("value", ["", " ", ".", "..", "...", "a\nb", "a\x00"])
def test_path_segment_refuses_values_that_cannot_be_ids(value):
    with pytest.raises(_http.InputError, match="user_id"):
        _http.encode_path_segment(value)


# --- The transport against a real loopback server --------------------------------------------------

class Scripted(Simulator):
    """Answers from a script of responses, then 200."""

    name = "scripted"

    def __init__(self, script=()):
        super().__init__()
        self.script = list(script)

    def handle(self, request):
        with self.lock:
            if self.script:
                return self.script.pop(0)
        return Response(200, {"ok": True, "auth": request.header("Authorization")})


def parse_error(response):
    body = _http.response_json(response) or {}
    return _http.status_error("Test", response, body.get("message", _http.body_excerpt(response)),
                              code=body.get("code"), not_found=response.status_code == 404)


@pytest.fixture
def server():
    servers = []

    def start(simulator):
        servers.append(SimServer(simulator).start())
        return servers[-1]

    yield start
    for one in servers:
        one.stop()


def transport(sleeps, **kwargs):
    kwargs.setdefault("retries", 3)
    return _http.HttpTransport("Test", parse_error, timeout=5, sleep=sleeps.append, **kwargs)


def test_retries_429_and_503_honouring_retry_after(server):
    sim = Scripted([Response(429, {"message": "slow"}, headers={"Retry-After": "2"}),
                    Response(503, {"message": "busy"})])
    srv = server(sim)
    sleeps = []
    response = transport(sleeps).request("GET", srv.url + "/x")
    assert response.status_code == 200
    assert len(sim.requests()) == 3
    assert 2.0 <= sleeps[0] <= 2.1  # Retry-After, plus at most 0.1 s of jitter
    assert 1.0 <= sleeps[1] <= 1.5  # second try: back-off of 1 s plus at most 50% jitter


def test_gives_up_after_retries_with_a_typed_error(server):
    srv = server(Scripted([Response(503, {"message": "down", "code": "Busy"})] * 5))
    sleeps = []
    with pytest.raises(_http.ProviderError) as caught:
        transport(sleeps, retries=2).request("DELETE", srv.url + "/users/1")
    assert caught.value.status == 503
    assert caught.value.code == "Busy"
    assert "DELETE" in str(caught.value) and "down" in str(caught.value)
    assert len(sleeps) == 2


def test_client_errors_are_not_retried(server):
    sim = Scripted([Response(404, {"message": "no such user"})])
    srv = server(sim)
    with pytest.raises(_http.NotFoundError):
        transport([]).request("GET", srv.url + "/users/1")
    assert len(sim.requests()) == 1


def test_dropped_connection_is_retried(server):
    sim = Scripted()
    sim.add_fault(action="drop", times=2)
    srv = server(sim)
    sleeps = []
    assert transport(sleeps).request("GET", srv.url + "/x").status_code == 200
    assert len(sleeps) == 2
    assert [entry["status"] for entry in sim.requests()] == ["dropped", "dropped", 200]


def test_refused_connection_fails_with_connection_failure():
    with pytest.raises(_http.ConnectionFailure, match="connection failed"):
        transport([], retries=0).request("GET", "http://127.0.0.1:9/")


def test_timeout_is_reported(server):
    sim = Scripted()
    sim.add_fault(action="delay", delay=1.5)
    srv = server(sim)
    t = _http.HttpTransport("Test", parse_error, timeout=0.3, retries=0, sleep=lambda _: None)
    with pytest.raises(_http.ConnectionFailure, match="no answer within 0.3 seconds"):
        t.request("GET", srv.url + "/slow")


class RenewingAuth:
    def __init__(self):
        self.token = "old-token-1"
        self.renewals = 0

    def __call__(self, request):
        request.headers["Authorization"] = "Bearer " + self.token
        return request

    def renew(self, request):
        self.renewals += 1
        self.token = "new-token-2"
        return True


def test_expired_token_is_renewed_once(server):
    sim = Scripted([Response(401, {"message": "expired"})])
    srv = server(sim)
    auth = RenewingAuth()
    response = transport([], auth=auth).request("GET", srv.url + "/x")
    assert response.json()["auth"] == "Bearer new-token-2"
    assert auth.renewals == 1


def test_a_second_401_after_renewal_fails(server):
    srv = server(Scripted([Response(401, {"message": "expired"})] * 3))
    auth = RenewingAuth()
    with pytest.raises(_http.AuthenticationError):
        transport([], auth=auth).request("GET", srv.url + "/x")
    assert auth.renewals == 1


def test_a_403_is_not_answered_with_a_new_token(server):
    sim = Scripted([Response(403, {"message": "missing scope"})])
    srv = server(sim)
    auth = RenewingAuth()
    with pytest.raises(_http.AuthenticationError) as caught:
        transport([], auth=auth).request("DELETE", srv.url + "/x")
    assert caught.value.status == 403
    assert auth.renewals == 0
    assert len(sim.requests()) == 1


def test_every_attempt_passes_the_rate_limiter(server):
    srv = server(Scripted([Response(503, {"message": "busy"})] * 2))
    methods = []

    class Recorder(RateLimiter):
        def acquire(self, method=None, deadline=None):
            methods.append(method)
            return super().acquire(method, deadline)

    transport([], limiter=Recorder()).request("PATCH", srv.url + "/x")
    assert methods == ["PATCH", "PATCH", "PATCH"]


def test_secrets_never_reach_error_messages(server):
    srv = server(Scripted([Response(400, {"message": "bad key topsecret-api-key echoed back"})]))
    t = transport([], redactor=_http.Redactor(["topsecret-api-key"]))
    with pytest.raises(_http.ProviderError) as caught:
        t.request("GET", srv.url + "/x?token=topsecret-api-key")
    assert "topsecret-api-key" not in str(caught.value)
    assert "********" in str(caught.value)


def test_only_2xx_is_a_success_and_redirects_are_not_followed(server):
    seen = []

    def strict_parse_error(response):
        seen.append(response.status_code)
        return parse_error(response)

    sim = Scripted([Response(201, {"created": True}), Response(302, headers={"Location": "/login"})])
    srv = server(sim)
    t = _http.HttpTransport("Test", strict_parse_error, timeout=5, retries=0, sleep=lambda _seconds: None)
    assert t.request("POST", srv.url + "/x").status_code == 201
    with pytest.raises(_http.ProviderError) as caught:
        t.request("GET", srv.url + "/x")
    assert caught.value.status == 302
    assert seen == [302]  # the provider's parser never sees a success
    assert len(sim.requests()) == 2


def test_html_answer_is_described_not_dumped(server):
    srv = server(Scripted([Response(500, raw="<!DOCTYPE html><html><body>" + "x" * 5000, content_type="text/html")]))
    with pytest.raises(_http.ProviderError) as caught:
        transport([], retries=0).request("GET", srv.url + "/x")
    assert "an HTML page instead of JSON" in str(caught.value)


# --- Lost answers, deadlines, wrong URLs and other ways to be silently wrong -------------------------

class Users(Simulator):
    """DELETE /users/<id> removes a user (204) or answers 404; GET reads one."""

    name = "users"

    def __init__(self, ids=("u1",)):
        super().__init__()
        self.users = set(ids)

    def handle(self, request):
        user_id = request.segments[-1]
        with self.lock:
            if user_id not in self.users:
                return Response(404, {"message": "no such user"})
            if request.method == "DELETE":
                self.users.discard(user_id)
                return Response(204)
        return Response(200, {"id": user_id})


@pytest.mark.parametrize("fault", [
    {"action": "process_then_respond", "status": 502, "body": {"message": "bad gateway"}},
    {"action": "process_then_drop"},
    {"action": "process_then_delay", "delay": 1.0},
])
def test_a_delete_whose_answer_was_lost_says_so_when_the_retry_finds_nothing(server, fault):
    sim = Users()
    sim.add_fault(method="DELETE", **fault)
    srv = server(sim)
    t = _http.HttpTransport("Test", parse_error, timeout=0.5, retries=3, sleep=lambda _: None)
    with pytest.raises(_http.NotFoundError) as caught:
        t.request("DELETE", srv.url + "/users/u1")
    assert sim.users == set()
    assert caught.value.lost_answer is not None
    assert [entry["status"] for entry in sim.requests()] == [204, 404]


@pytest.mark.parametrize("status", [429, 503])  # a 503 says the request was not taken on (RFC 9110)
def test_an_answer_that_proves_nothing_was_done_is_not_a_lost_answer(server, status):
    sim = Users(ids=())
    sim.add_fault(method="DELETE", action="respond", status=status, headers={"Retry-After": "0"})
    srv = server(sim)
    with pytest.raises(_http.NotFoundError) as caught:
        transport([]).request("DELETE", srv.url + "/users/u1")
    assert caught.value.lost_answer is None


def test_reads_never_carry_a_lost_answer(server):
    sim = Users(ids=())
    sim.add_fault(action="process_then_respond", status=502)
    srv = server(sim)
    with pytest.raises(_http.NotFoundError) as caught:
        transport([]).request("GET", srv.url + "/users/u1")
    assert caught.value.lost_answer is None
    sim.add_fault(action="process_then_respond", status=502)
    with pytest.raises(_http.NotFoundError) as caught:
        transport([]).request("POST", srv.url + "/users/u1", changing=False)
    assert caught.value.lost_answer is None


def test_a_lost_answer_stays_on_the_final_error_when_retries_run_out(server):
    sim = Users()
    sim.add_fault(method="DELETE", action="process_then_respond", status=502, body={"message": "gateway"})
    sim.add_fault(method="DELETE", action="respond", status=503, times=None)
    srv = server(sim)
    sleeps = []
    with pytest.raises(_http.ProviderError) as caught:
        transport(sleeps, retries=2).request("DELETE", srv.url + "/users/u1")
    assert caught.value.status == 503
    assert "gave up after 2 retries" in str(caught.value)
    assert "gateway" in caught.value.lost_answer["message"]
    assert caught.value.to_dict()["lost_answer"] == caught.value.lost_answer


def test_a_refused_address_that_never_answered_fails_at_once():
    sleeps = []
    with pytest.raises(_http.ConnectionFailure, match="nothing has answered at this address yet") as caught:
        transport(sleeps, retries=5).request("GET", "http://127.0.0.1:9/")
    assert sleeps == []
    assert caught.value.retryable is False


def test_a_refused_connection_after_answers_is_retried(server):
    srv = server(Users())
    sleeps = []
    t = transport(sleeps, retries=2)
    t.request("GET", srv.url + "/users/u1")
    with pytest.raises(_http.ConnectionFailure, match="gave up after 2 retries"):
        t.request("GET", "http://127.0.0.1:9/users/u1")
    assert len(sleeps) == 2


def test_nothing_is_sent_after_the_deadline(server):
    sim = Users()
    srv = server(sim)
    clock = [100.0]
    t = _http.HttpTransport("Test", parse_error, timeout=5, retries=3, sleep=lambda _: None,
                            deadline=100.0, clock=lambda: clock[0])
    with pytest.raises(_http.DeadlineReached, match="deadline was reached"):
        t.request("DELETE", srv.url + "/users/u1")
    assert sim.requests() == []


def test_no_retry_is_started_that_would_end_after_the_deadline(server):
    sim = Users()
    sim.add_fault(method="DELETE", action="respond", status=503, headers={"Retry-After": "30"})
    srv = server(sim)
    sleeps = []
    t = _http.HttpTransport("Test", parse_error, timeout=5, retries=3, sleep=sleeps.append,
                            deadline=time.monotonic() + 5)
    with pytest.raises(_http.ProviderError, match="deadline would pass first"):
        t.request("DELETE", srv.url + "/users/u1")
    assert sleeps == []
    assert len(sim.requests()) == 1


def test_a_secret_cut_at_the_excerpt_edge_leaves_no_part_behind(server):
    secret = "Zq9-secret-value-that-is-long-1234567890"
    filler = "x" * (_http.EXCERPT_LIMIT - 10)
    srv = server(Scripted([Response(400, raw=filler + " " + secret + " tail", content_type="text/plain")]))
    t = transport([], redactor=_http.Redactor([secret]))
    with pytest.raises(_http.ProviderError) as caught:
        t.request("GET", srv.url + "/x")
    text = str(caught.value)
    assert secret[:8] not in text
    assert "********" in text


def test_a_header_value_with_a_newline_becomes_a_redacted_provider_error(server):
    sim = Scripted()
    srv = server(sim)
    secret = "header-secret-value-42"
    t = transport([], redactor=_http.Redactor([secret + "\n"]), headers={"Authorization": "Bearer " + secret + "\n"})
    with pytest.raises(_http.ProviderError) as caught:
        t.request("GET", srv.url + "/x")
    assert secret not in str(caught.value)
    assert "header value" in str(caught.value)
    assert sim.requests() == []


@pytest.mark.parametrize("value", ["Bearer /\r folded-token-value", b"Bearer raw\n\tbytes-token-value"])
def test_a_header_value_that_http_client_would_fold_is_never_sent(server, value):
    """An auth callable sets its header after requests' own header check, and http.client lets a CR or
    LF followed by a space or tab through (obsolete line folding): a token from a hostile token endpoint
    would reach the wire. The transport checks every header itself."""
    sim = Scripted()
    srv = server(sim)

    def auth(prepared):
        prepared.headers["Authorization"] = value
        return prepared

    with pytest.raises(_http.ProviderError, match="header value"):
        transport([], auth=auth).request("GET", srv.url + "/x")
    assert sim.requests() == []


def test_netrc_never_replaces_the_configured_authorization(server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    srv = server(Scripted())
    response = transport([], headers={"Authorization": "Bearer configured-key"}).request("GET", srv.url + "/x")
    assert response.json()["auth"] == "Bearer configured-key"


@pytest.mark.parametrize("url, warns", [
    ("http://127.0.0.1:8080/scim", False),
    ("http://localhost/x", False),
    ("http://[::1]:9/x", False),
    ("https://api.atlassian.com/scim", False),
    ("http://api.example.com/scim", True),
    ("HTTP://api.example.com/scim", True),
])
def test_cleartext_urls_that_leave_the_machine_warn(url, warns):
    assert (_http.cleartext_warning(url) is not None) is warns


def test_the_transport_warns_once_per_cleartext_address(server):
    warnings = []
    srv = server(Scripted())
    t = _http.HttpTransport("Test", parse_error, timeout=5, retries=0, warn=warnings.append)
    t.request("GET", srv.url + "/x")
    assert warnings == []
    t._check_cleartext("http://api.example.com/a")
    t._check_cleartext("http://api.example.com/b")
    assert len(warnings) == 1 and "not encrypted" in warnings[0]
