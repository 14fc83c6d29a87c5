# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the three provider simulators share: a loopback HTTP(S) server, request parsing,
a request log, switchable faults and the `/_sim/` control endpoints.

A simulator subclass implements `handle(request)` for the provider's routes and
`seed(data)` / `snapshot()` for its state. Tests drive faults either in-process
(`simulator.add_fault(...)`) or over HTTP (`POST /_sim/faults`), which is how a playbook,
the demo or Molecule, running in other processes, reach a simulator.
"""

from __future__ import annotations

import collections
import json
import math
import random
import re
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

CONTROL_PREFIX = "/_sim/"


class Request:
    """One parsed request. `segments` are the path segments, each percent-decoded on its own,
    so that an encoded `/` inside an id never becomes a path separator."""

    def __init__(self, method, target, headers, body, client):
        self.method = method.upper()
        self.target = target
        # The target exactly as sent (a simulator may rewrite `target` for its log).
        self.sent_target = target
        parts = urlsplit(target)
        self.raw_path = parts.path
        self.raw_query = parts.query
        self.segments = [unquote(segment) for segment in parts.path.split("/") if segment != ""]
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.client = client
        # When the request arrived; the log's `time` is when it was answered, which a delay fault postpones.
        self.received = time.time()

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Received:
    """Everything one request carried, as it arrived: method, target (path and query as sent), headers and
    body, and the status it was answered with (or "dropped"). Secrets included: the test suite's guard
    (tests/integration/conftest.py) scans these for a secret out of its proper place. Never shown: the
    repr names the method and the path only, and no control endpoint serves them."""

    __slots__ = ("method", "target", "headers", "body", "status")

    def __init__(self, request, status):
        self.method = request.method
        self.target = getattr(request, "sent_target", request.target)
        headers = request.headers
        self.headers = [(str(name), str(value)) for name, value in (headers.items() if headers is not None else ())]
        self.body = request.body or b""
        self.status = status

    def header(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def __repr__(self):
        return "<Received %s %s: %d headers, %d bytes of body, answered %s>" % (
            self.method, urlsplit(self.target).path, len(self.headers), len(self.body), self.status)

    __str__ = __repr__


class Response:
    def __init__(self, status=200, body=None, headers=None, content_type="application/json", raw=None):
        self.status = status
        self.headers = dict(headers or {})
        if raw is not None:
            self.payload = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        elif body is None:
            self.payload = b""
        else:
            self.payload = json.dumps(body).encode("utf-8")
        if self.payload and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type


FAULT_ACTIONS = ("respond", "drop", "delay", "process_then_respond", "process_then_drop", "process_then_delay")


class Fault:
    """A switchable misbehaviour for requests matching `method` and the `path` regex.

    action: "respond" (answer `status`, `headers`, `body` instead of the simulator), "drop" (close
    the connection without an answer), "delay" (wait `delay` seconds, then answer normally).
    The "process_then_..." actions let the simulator carry the request out (its state changes) and
    then lose the answer, as a gateway or a network can: "process_then_respond" answers `status`
    (a 502, say) instead, "process_then_drop" closes the connection, "process_then_delay" waits
    `delay` seconds before answering (longer than the client's timeout).
    `skip` matching requests pass first; then `times` of them are affected (None: all), each with
    `probability` (drawn from the simulator's seeded random generator).
    """

    def __init__(self, action="respond", method=None, path=None, status=503, headers=None, body=None,
                 times=1, skip=0, delay=0.0, probability=1.0):
        if action not in FAULT_ACTIONS:
            raise ValueError("unknown fault action %r" % action)
        if not 0.0 < float(probability) <= 1.0:
            raise ValueError("probability must be in (0, 1]")
        self.action = action
        self.method = method.upper() if method else None
        self.path = re.compile(path) if path else None
        self.status = int(status)
        self.headers = dict(headers or {})
        self.body = body
        self.times = times
        self.skip = int(skip)
        self.delay = float(delay)
        self.probability = float(probability)

    def matches(self, request):
        if self.method and request.method != self.method:
            return False
        return not (self.path and not self.path.search(request.target))

    def take(self, rng):
        """Called under the simulator lock for a matching request: does it apply to this one?"""
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.probability < 1.0 and rng.random() >= self.probability:
            return False
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True

    @property
    def spent(self):
        return self.times is not None and self.times <= 0 and self.skip <= 0


class Simulator:
    """Base of the provider simulators: state lock, request log, faults, control endpoints."""

    name = "simulator"

    def __init__(self):
        self.lock = threading.RLock()
        self.faults = []
        self.log = []
        # The entries clear_log() took out of `log`, oldest first, and every request in full as it arrived
        # (`Received`; never cleared): what the test suite's guard scans for secrets.
        self.cleared = []
        self.received = []
        self.started = time.time()
        self.in_flight = 0
        self.max_in_flight = 0
        self.random = random.Random(0)
        # Seconds every request takes before it is handled (a network round trip and server time).
        self.latency = 0.0
        # An enforced but unpublished limit: at most this many requests in any one-second window; the
        # others are answered 429 with Retry-After, as a provider that publishes no limit may do.
        self.enforced_limit = None
        self._window = collections.deque()

    # --- to implement -------------------------------------------------------------------------
    def handle(self, request):
        raise NotImplementedError

    def seed(self, data):
        raise NotImplementedError

    def snapshot(self):
        raise NotImplementedError

    def credentials(self):
        """What a client needs besides the URL (shown in the endpoints file of the CLI)."""
        return {}

    def client_environment(self, url):
        """The modules' environment variables that point them at this simulator."""
        return {}

    # --- faults and log -----------------------------------------------------------------------
    def add_fault(self, **spec):
        fault = Fault(**spec)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def seed_faults(self, seed):
        """Make the draws of faults with a probability repeatable."""
        with self.lock:
            self.random = random.Random(seed)

    def is_changing(self, request):
        """Whether a request changes the simulator's state (every method but GET and HEAD by default;
        a simulator whose API reads with POST says more)."""
        return request.method not in ("GET", "HEAD")

    def requests(self, method=None, path=None):
        """The logged requests, optionally filtered by method and a path regex."""
        pattern = re.compile(path) if path else None
        with self.lock:
            entries = list(self.log)
        return [entry for entry in entries
                if (method is None or entry["method"] == method.upper())
                and (pattern is None or pattern.search(entry["path"]))]

    def clear_log(self):
        """Start the request log afresh; the entries it held stay in `cleared` (and every request in
        `received`) for the test suite's guard."""
        with self.lock:
            self.cleared.extend(self.log)
            self.log = []

    def every_entry(self):
        """Every entry the request log held: those clear_log() took out, then the current ones."""
        with self.lock:
            return self.cleared + self.log

    def every_request(self):
        """Every request in full (`Received`), in the order they were answered."""
        with self.lock:
            return list(self.received)

    def proper_places(self, received):
        """Where this request may carry a credential, as the provider defines it: [("header", name),
        ("query", parameter), ("form", field)]. The test suite's guard accepts one whole secret there and flags
        a secret anywhere else (another header, the URL, the body)."""
        return []

    def _fault_for(self, request):
        with self.lock:
            for fault in self.faults:
                if fault.matches(request) and fault.take(self.random):
                    self.faults = [one for one in self.faults if not one.spent]
                    return fault
        return None

    # --- dispatch -----------------------------------------------------------------------------
    def dispatch(self, request):
        """Returns a Response, or None to drop the connection."""
        if request.raw_path.startswith(CONTROL_PREFIX):
            return self._control(request)
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._dispatch(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _handle(self, request):
        try:
            return self.handle(request)
        except BadRequest as exc:
            return exc.response

    def configure_load(self, latency=None, enforced_limit=None):
        """Set the per-request latency (seconds) and the enforced limit (requests per second, 0 for none)."""
        with self.lock:
            if latency is not None:
                self.latency = max(0.0, float(latency))
            if enforced_limit is not None:
                self.enforced_limit = float(enforced_limit) or None
                self._window.clear()

    def _over_limit(self):
        """Seconds until a request fits in the enforced limit's window, or None when it fits now."""
        with self.lock:
            if not self.enforced_limit:
                return None
            now = time.monotonic()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.enforced_limit:
                return self._window[0] + 1.0 - now
            self._window.append(now)
            return None

    def _dispatch(self, request):
        if self.latency:
            time.sleep(self.latency)
        wait = self._over_limit()
        if wait is not None:
            response = Response(429, {"error": "Too Many Requests"},
                                headers={"Retry-After": str(max(1, int(math.ceil(wait))))})
            self._record(request, 429, fault="enforced_limit")
            return response
        fault = self._fault_for(request)
        action = fault.action if fault is not None else None
        if action == "delay":
            time.sleep(fault.delay)
            fault = action = None
        if action == "drop":
            self._record(request, "dropped", fault=action)
            return None
        if action == "respond":
            response = Response(fault.status, body=fault.body, headers=fault.headers)
            self._record(request, response.status, fault=action)
            return response
        response = self._handle(request)
        if action is None:
            self._record(request, response.status)
            return response
        # The request was carried out; its answer is lost on the way back.
        self._record(request, response.status, fault=action)
        if action == "process_then_drop":
            return None
        if action == "process_then_delay":
            time.sleep(fault.delay)
            return response
        return Response(fault.status, body=fault.body, headers=fault.headers)

    def log_entry(self, request, status):
        """What the request log keeps of one request; simulators add their own fields."""
        return {"method": request.method, "path": request.target, "status": status, "time": time.time(),
                "changing": self.is_changing(request)}

    def _record(self, request, status, fault=None):
        entry = self.log_entry(request, status)
        entry.setdefault("received", getattr(request, "received", entry["time"]))
        if fault:
            entry["fault"] = fault
        received = Received(request, status)
        with self.lock:
            self.log.append(entry)
            self.received.append(received)

    def _control(self, request):
        action = request.raw_path[len(CONTROL_PREFIX):].strip("/")
        if action == "faults" and request.method == "POST":
            spec = request.json() or {}
            self.add_fault(**spec)
            return Response(201, {"faults": len(self.faults)})
        if action == "faults" and request.method == "DELETE":
            self.clear_faults()
            return Response(204)
        if action == "load" and request.method == "POST":
            spec = request.json() or {}
            self.configure_load(latency=spec.get("latency"), enforced_limit=spec.get("enforced_limit"))
            return Response(204)
        if action == "faults/seed" and request.method == "POST":
            self.seed_faults((request.json() or {}).get("seed", 0))
            return Response(204)
        if action == "requests" and request.method == "GET":
            return Response(200, {"requests": self.requests(request.arg("method"), request.arg("path"))})
        if action == "requests" and request.method == "DELETE":
            self.clear_log()
            return Response(204)
        if action == "state" and request.method == "GET":
            with self.lock:
                return Response(200, self.snapshot())
        if action == "seed" and request.method == "POST":
            with self.lock:
                self.seed(request.json() or {})
            return Response(204)
        return Response(404, {"error": "unknown control endpoint %s %s" % (request.method, request.raw_path)})


class BadRequest(Exception):
    """Raised inside a handler to answer with a ready response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def new_id():
    return str(uuid.uuid4())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately; without TCP_NODELAY every keep-alive answer waits
    # for the client's delayed ACK (about 40 ms), which would distort every timing.
    disable_nagle_algorithm = True
    server_version = "identity-lifecycle-simulator"
    sys_version = ""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # the simulator keeps its own request log

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body, self.client_address)
        response = self.server.simulator.dispatch(request)
        if response is None:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.payload)))
        self.end_headers()
        if response.payload and self.command != "HEAD":
            self.wfile.write(response.payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


# Callables told of every SimServer this process starts (the test suite's guard registers one for each test,
# so that it sees simulators started outside its fixtures, such as the benchmark harness's); empty otherwise.
STARTED_SERVER_OBSERVERS = []


class SimServer:
    """A simulator on 127.0.0.1 (a free port unless one is given), served from a thread."""

    def __init__(self, simulator, host="127.0.0.1", port=0, certfile=None, keyfile=None):
        self.simulator = simulator
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.simulator = simulator
        self.scheme = "http"
        if certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile, keyfile)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return "%s://%s:%d" % (self.scheme, host, port)

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=self.simulator.name,
                                        daemon=True)
        self._thread.start()
        for observer in list(STARTED_SERVER_OBSERVERS):
            observer(self)
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
