# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the integration tests: real `ansible-playbook` runs against simulators on loopback.

Every test is also watched by `suite_guard` (autouse): after the test, the output of each playbook run
(stdout and stderr, -vvvv runs included), the request log (cleared entries included) and every request in full
of each simulator the test started (through `serve` or not; a credential is accepted in its proper place only),
and every file the runs wrote (the test's `tmp_path`, which holds their temporary directories, and report
directories outside it) are scanned for each secret the test used, in full, encoded or in part (see
docs/development.md, "The secret scan of the integration suite"), and every run in check
mode must have left no changing request in any of those simulators. Check mode is also watched task by task,
however the run was started: callback_plugins/check_mode_tasks.py writes every task's window and check mode
(`--check`, a task's `check_mode: true`, an include's `apply`), and no changing request may reach a simulator
during a task in check mode (`Guard.check_task_windows`; ansible-runner jobs pass the same environment in
env/envvars). A hit fails the test, naming the place, never the secret.
"""

from __future__ import annotations

import atexit
import base64
import bisect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

import pytest
import yaml

from simulators import _base as simulators_base
from simulators._base import SimServer

from .ground_truth import RunWatch

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")

# Module options and environment variables that carry a secret. Not secrets: access_key_id, client_id,
# directory ids, organization names.
SECRET_OPTIONS = frozenset(("api_key", "client_secret", "access_token", "access_key_secret", "security_token",
                            "admin_api_key", "signing_key", "offboard_signing_key"))
SECRET_ENVIRONMENT = frozenset((
    "ATLASSIAN_SCIM_API_KEY", "UIPATH_CLIENT_SECRET", "UIPATH_ACCESS_TOKEN", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_SECRET_KEY", "ALIBABA_CLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN", "ATLASSIAN_ADMIN_API_KEY",
    "OFFBOARD_SIGNING_KEY"))
# Simulator credentials() keys whose values (or, for a mapping, whose members' values) are secrets.
SECRET_CREDENTIALS = SECRET_OPTIONS | frozenset(("secret", "clients", "personal_access_tokens"))
# Shorter values would match ordinary text; every secret the tests use is longer.
MIN_SECRET_LENGTH = 8
# Files larger than this are build artefacts (archives), not output.
MAX_SCANNED_FILE = 20 * 1024 * 1024
# A secret of one word longer than this is also sought by its first and by its last this many characters (a
# truncated form), unless another secret begins (ends) the same way (a PEM body's or a JWT's fixed start); shorter
# parts would match ordinary text.
PARTIAL_LENGTH = 12
# Places named per secret in a failure; the others are counted.
MAX_SHOWN_PLACES = 5
# Between two scanned texts joined into one (no secret holds it).
SEPARATOR = "\n\x00\n"


class PlaybookResult:
    def __init__(self, returncode, stdout, stderr, elapsed, parsed):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.parsed = parsed

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name):
        """The localhost result of the task with this name (the last one, if it ran twice)."""
        found = None
        for play in (self.parsed or {}).get("plays", []):
            for task in play["tasks"]:
                # Role tasks are named "<role> : <task>".
                if task["task"]["name"] == name or task["task"]["name"].endswith(" : " + name):
                    found = task["hosts"]["localhost"]
        if found is None:
            raise AssertionError("task %r not in the playbook output:\n%s" % (name, self.output[-4000:]))
        return found

    def __repr__(self):
        return "<PlaybookResult rc=%s elapsed=%.1fs>" % (self.returncode, self.elapsed)


class Ansible:
    """Writes a playbook into a temporary directory and runs it with ansible-playbook."""

    def __init__(self, workdir, guard=None, truth=None):
        self.workdir = workdir
        self.guard = guard
        self.truth = truth
        self.inventory = os.path.join(workdir, "inventory.yml")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            # The modules need `requests` from this virtual environment, and interpreter discovery
            # may find an unrelated Python.
            handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
        self.runs = 0
        self.tmpdir = None

    def environment(self, extra=None, callback="json"):
        """`callback="json"` prints a JSON document that `PlaybookResult.task()` reads."""
        env = dict(os.environ)
        for name in list(env):
            # Never let the caller's credentials leak into a test.
            if name.startswith(("ATLASSIAN_SCIM_", "ATLASSIAN_ADMIN_", "ATLASSIAN_ORG_", "UIPATH_", "ALIBABA_CLOUD_",
                                "ALICLOUD_", "OFFBOARD_")):
                del env[name]
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": os.environ["IDENTITY_LIFECYCLE_COLLECTIONS_ROOT"],
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_HOME": os.path.join(self.workdir, ".ansible"),
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.workdir, ".ansible", "tmp"),
            # Where the run's modules and temporary files go: inside the test's directory, which the guard scans.
            "ANSIBLE_REMOTE_TMP": os.path.join(self.workdir, ".ansible", "remote-tmp"),
            "TMPDIR": self.temporary_directory(),
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_STDOUT_CALLBACK": "test_results" if callback == "json" else callback,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_CONFIG": os.path.join(self.workdir, "no-ansible.cfg"),
        })
        env.update(extra or {})
        return env

    def temporary_directory(self):
        """The runs' TMPDIR: a short path of its own, not under the test's directory, because ansible-core 2.21
        opens a Unix socket there (its local RPC server), and a socket's path must fit in 107 bytes. The guard
        scans it like the test's directory and removes it after the test."""
        if self.tmpdir is None:
            self.tmpdir = tempfile.mkdtemp(prefix="il-tmp-")
            if self.guard is not None:
                self.guard.roots.add(self.tmpdir)
                self.guard.temporaries.append(self.tmpdir)
            else:
                atexit.register(shutil.rmtree, self.tmpdir, True)
        return self.tmpdir

    def run(self, plays, extra_vars=None, env=None, check=False, diff=False, verbosity=0,
            callback="json", args=(), timeout=900):
        """Run `plays` (a list of plays, YAML text, or the name of a collection playbook)."""
        self.runs += 1
        if isinstance(plays, str) and plays.startswith("identity.lifecycle."):
            path = plays
        else:
            path = os.path.join(self.workdir, "playbook-%d.yml" % self.runs)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(plays if isinstance(plays, str) else json.dumps(plays, indent=1))
            if self.guard is not None:
                # The playbook is the test's input: it may hold a key in module_defaults by design.
                self.guard.inputs.add(os.path.realpath(path))
        command = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, path]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        command += list(args)
        in_check_mode = check or is_check(args)
        label = "ansible-playbook run %d (%s%s)" % (self.runs, os.path.basename(path), ", check mode" if in_check_mode else "")
        marks = None
        if self.guard is not None:
            self.guard.note_run(label, plays, extra_vars, env, args)
            if in_check_mode:
                marks = self.guard.log_marks()
        # The offboard role's runs: their reports are proven against the simulators (ground_truth.py).
        taken = self.truth.before(self.workdir, plays, extra_vars, env) if self.truth is not None else None
        task_log, run_env = None, env
        if self.guard is not None:
            task_log = os.path.join(self.workdir, "task-log-%d.jsonl" % self.runs)
            run_env = dict(self.guard.task_log_environment(task_log), **(env or {}))
        since = time.time()
        started = time.monotonic()
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                   env=self.environment(run_env, callback), cwd=self.workdir, check=False)
        elapsed = time.monotonic() - started
        parsed = None
        if callback == "json":
            try:
                parsed = json.loads(completed.stdout)
            except ValueError:
                parsed = None
        result = PlaybookResult(completed.returncode, completed.stdout, completed.stderr, elapsed, parsed)
        if self.guard is not None:
            self.guard.outputs.append((label, result))
            self.guard.note_tokens()
            if marks is not None:
                self.guard.check_no_changes(label, marks)
            self.guard.check_task_windows(label, task_log, since)
        if taken is not None:
            self.truth.after(label, taken, in_check_mode)
        return result

    def tasks(self, tasks, module_defaults=None, play_vars=None, **kwargs):
        """Run one play on localhost with these tasks."""
        play = {"name": "test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
        if module_defaults:
            play["module_defaults"] = module_defaults
        if play_vars:
            play["vars"] = play_vars
        return self.run([play], **kwargs)


def is_check(args):
    return any(arg in ("--check", "-C") for arg in args or ())


def secret_values(value, secret_keys, place, found, inside=False):
    """Every string under a key in `secret_keys` (at any depth) of a parsed document, into `found`."""
    if isinstance(value, dict):
        for key, item in value.items():
            secret_values(item, secret_keys, "%s.%s" % (place, key), found, inside or str(key) in secret_keys)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            secret_values(item, secret_keys, "%s[%d]" % (place, index), found, inside)
    elif inside and isinstance(value, str) and "{{" not in value:
        found.setdefault(value, place)


class Guard:
    """What one test used and produced: its simulators, its playbook runs and their secrets."""

    def __init__(self):
        self.servers = []
        self.started = []  # servers started in this process outside `serve` (the benchmark harness, say)
        self.roots = set()  # directories outside the test's own that its runs write to (a report directory)
        self.temporaries = []  # of those, the ones the fixtures made, removed after the scan
        self.outputs = []  # (label, PlaybookResult)
        self.inputs = set()  # files the fixtures wrote as the test's input
        self.given = {}  # secret -> where the test gave it
        self.check_mode_changes = []

    # --- what the test used -------------------------------------------------------------------
    def note_run(self, label, plays, extra_vars, env, args):
        if isinstance(plays, str) and not plays.startswith("identity.lifecycle."):
            try:
                plays = yaml.safe_load(plays)
            except yaml.YAMLError:
                plays = None
        self.note_written_places(plays, extra_vars, args)
        secret_values(plays, SECRET_OPTIONS | SECRET_ENVIRONMENT, "%s: playbook" % label, self.given)
        secret_values(extra_vars, SECRET_OPTIONS, "%s: extra vars" % label, self.given)
        for name, value in (env or {}).items():
            if name in SECRET_ENVIRONMENT:
                self.given.setdefault(value, "%s: environment %s" % (label, name))
        for index, arg in enumerate(args or ()):
            if index and args[index - 1] in ("-e", "--extra-vars") and not arg.startswith("@"):
                try:
                    secret_values(json.loads(arg), SECRET_OPTIONS, "%s: -e" % label, self.given)
                except ValueError:
                    pass

    def add_server(self, server):
        self.servers.append(server)
        # Credentials as seeded now; a test may seed others later (read again at the end).
        secret_values(server.simulator.credentials(), SECRET_CREDENTIALS, "%s credentials" % server.simulator.name,
                      self.given)

    def simulators(self):
        return [server.simulator for server in self.servers]

    def note_tokens(self):
        """Tokens the UiPath simulator issued so far (and its personal access tokens): a later seed forgets them."""
        for simulator in self.simulators():
            with simulator.lock:
                tokens = list(getattr(simulator, "tokens", None) or {})
            for token in tokens:
                self.given.setdefault(token, "a token issued by %s" % simulator.name)

    def secrets(self):
        """{secret: description}: the simulators' credentials and issued tokens, and what the runs were given."""
        found = {}
        self.note_tokens()
        for simulator in self.scanned_simulators():
            secret_values(simulator.credentials(), SECRET_CREDENTIALS, "%s credentials" % simulator.name, found)
        for value, place in self.given.items():
            found.setdefault(value, place)
        secrets = {}
        for value, place in found.items():
            for variant in (value, value.strip()):
                if len(variant) >= MIN_SECRET_LENGTH:
                    secrets.setdefault(variant, place)
        return secrets

    # --- check mode ---------------------------------------------------------------------------
    def log_marks(self):
        return [(simulator, len(simulator.requests())) for simulator in self.simulators()]

    def check_no_changes(self, label, marks):
        for simulator, mark in marks:
            for entry in simulator.requests()[mark:]:
                if entry.get("changing"):
                    self.check_mode_changes.append("%s made a changing request to %s in check mode: %s %s (HTTP %s)" % (
                        label, simulator.name, entry["method"], entry["path"], entry.get("status")))

    # --- check mode, task by task ---------------------------------------------------------------
    @staticmethod
    def task_log_environment(path):
        """What a run needs (in its environment, or a runner's env/envvars) to write its task log: every task's
        window and check mode, by callback_plugins/check_mode_tasks.py."""
        return {"ANSIBLE_CALLBACK_PLUGINS": CALLBACKS, "ANSIBLE_CALLBACKS_ENABLED": "check_mode_tasks",
                "IDENTITY_LIFECYCLE_TASK_LOG": path}

    def check_task_windows(self, label, path, since):
        """A changing request that reached a simulator while a task ran in check mode (`--check`, a task's
        `check_mode: true`, an include's `apply`), however the run was started, is a finding. A run whose task
        log is missing, while a simulator got a request during it, is one too: the guard could not watch it."""
        arrived = [(simulator, entry) for simulator in self.simulators() for entry in simulator.requests()
                   if entry.get("received", entry.get("time", 0)) >= since]
        windows = task_windows(path, since)
        if windows is None:
            if arrived:
                self.check_mode_changes.append(
                    "%s: no task log (%s), so its check-mode tasks could not be watched; %d requests reached the "
                    "simulators during it" % (label, os.path.basename(path), len(arrived)))
            return
        for simulator, entry in arrived:
            if not entry.get("changing"):
                continue
            received = entry.get("received", entry.get("time"))
            for window in windows:
                if window["check_mode"] is True and window["started"] <= received <= window["ended"]:
                    self.check_mode_changes.append(
                        "%s made a changing request to %s during task %r on %s, which ran in check mode: %s %s "
                        "(HTTP %s)" % (label, simulator.name, window["task"], window["host"], entry["method"],
                                       entry["path"], entry.get("status")))
                    break

    # --- the scan -----------------------------------------------------------------------------
    def note_started(self, server):
        """A SimServer started in this process while the test ran (SimServer.start tells every observer)."""
        self.started.append(server)

    def note_written_places(self, plays, extra_vars, args):
        """An absolute `offboard_report_dir` a run is given is scanned too (a relative one is in the test's
        directory, where ansible-playbook runs)."""
        found = {}
        secret_values(plays, ("offboard_report_dir",), "plays", found)
        secret_values(extra_vars, ("offboard_report_dir",), "extra vars", found)
        for index, arg in enumerate(args or ()):
            if index and args[index - 1] in ("-e", "--extra-vars") and not arg.startswith("@"):
                try:
                    secret_values(json.loads(arg), ("offboard_report_dir",), "-e", found)
                except ValueError:
                    name, _equals, value = arg.partition("=")
                    if name.strip() == "offboard_report_dir":
                        found[value.strip()] = "-e"
        for path in found:
            if os.path.isabs(path):
                self.roots.add(path)

    def scanned_simulators(self):
        """The simulators started through `serve`, and those started outside it during the test."""
        found = self.simulators()
        for server in self.started:
            if all(server.simulator is not known for known in found):
                found.append(server.simulator)
        return found

    def places(self, tmp_path, secrets=None):
        """(place, text) of everything the test produced."""
        for label, result in self.outputs:
            yield "stdout of %s" % label, result.stdout
            yield "stderr of %s" % label, result.stderr
        for simulator in self.scanned_simulators():
            cleared = len(simulator.cleared)
            for index, entry in enumerate(simulator.every_entry()):
                yield "request log of %s (entry %d%s)" % (simulator.name, index + 1, ", since cleared by clear_log()"
                                                          if index < cleared else ""), json.dumps(entry)
            for index, received in enumerate(simulator.every_request()):
                yield ("request %d received by %s (%s %s)" % (index + 1, simulator.name, received.method,
                                                              urlsplit(received.target).path),
                       received_text(received, simulator.proper_places(received), secrets or {}))
        roots = [str(tmp_path)] if tmp_path is not None else []
        seen = set()
        for root in roots + sorted(self.roots):
            for path in written_files(root, self.inputs):
                if os.path.realpath(path) in seen:
                    continue
                seen.add(os.path.realpath(path))
                with open(path, "rb") as handle:
                    shown = os.path.relpath(path, roots[0]) if roots and root == roots[0] else path
                    yield "file %s" % shown, handle.read().decode("utf-8", "replace")

    def findings(self, tmp_path):
        problems = list(self.check_mode_changes)
        secrets = self.secrets()
        problems.extend(scan(list(self.places(tmp_path, secrets)), secrets))
        return problems


def task_windows(path, since):
    """The tasks of a task log (check_mode_tasks.py) with their windows, or None when there is no log. A task
    whose start was not seen starts where the task before it ended (or the run began)."""
    if not path or not os.path.exists(path):
        return None
    windows = []
    previous_end = since
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("event") != "task":
                continue
            started = record["started"] if record.get("started") is not None else previous_end
            windows.append(dict(record, started=started))
            previous_end = record["ended"]
    return windows


def secret_forms(secret):
    """[(form, how)]: the ways a secret can show in text, most specific first: as is, JSON-escaped,
    percent-encoded, in base64 (standard and URL-safe, at each of the three alignments of a longer text that
    holds it) and, for a secret of one word longer than PARTIAL_LENGTH, its first and its last PARTIAL_LENGTH
    characters (a secret with white space, a PEM text, has structure there that is no secret).
    A handful of precomputed strings per secret: the scan stays one pass of str.find per form."""
    forms = {}
    for form, how in ((secret, ""), (json.dumps(secret)[1:-1], " (JSON-escaped)"),
                      (quote(secret, safe=""), " (percent-encoded)"), (quote_plus(secret, safe=""), " (percent-encoded)")):
        forms.setdefault(form, how)
    raw = secret.encode("utf-8")
    for shift in range(3):
        # The characters of base64(x + secret), len(x) % 3 == shift, that depend on the secret's bits alone.
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        core = encoded[-(-8 * shift // 6):8 * (shift + len(raw)) // 6]
        for form in (core, core.replace("+", "-").replace("/", "_")):
            if len(form) >= MIN_SECRET_LENGTH:
                forms.setdefault(form, " (in base64)")
    if len(secret) > PARTIAL_LENGTH and len(secret.split()) == 1 and secret == secret.strip():
        forms.setdefault(secret[:PARTIAL_LENGTH], " (its first %d characters)" % PARTIAL_LENGTH)
        forms.setdefault(secret[-PARTIAL_LENGTH:], " (its last %d characters)" % PARTIAL_LENGTH)
    return list(forms.items())


def scan(places, secrets):
    """Every (secret, place) where a form of the secret shows, once each, naming the place and never the secret.
    The texts are joined and each form sought with str.find, so the cost is linear in what the test produced."""
    texts = [text for _place, text in places]
    joined = SEPARATOR.join(texts)
    starts = []
    position = 0
    for text in texts:
        starts.append(position)
        position += len(text) + len(SEPARATOR)
    problems = []
    reported = set()
    forms = dict((secret, secret_forms(secret)) for secret in secrets)
    # A part two secrets share says nothing of either (every Ed25519 key's PEM body, every JWT begins alike).
    owners = {}
    for secret, found in forms.items():
        for form, how in found:
            if how.startswith(" (its "):
                owners.setdefault(form, set()).add(secret.strip())
    for secret, source in secrets.items():
        hits = []
        for form, how in forms[secret]:
            if how.startswith(" (its ") and len(owners[form]) > 1:
                continue
            at = joined.find(form)
            while at != -1:
                index = bisect.bisect_right(starts, at) - 1
                offset = at - starts[index]
                if offset + len(form) <= len(texts[index]) and (secret, index) not in reported:
                    reported.add((secret, index))
                    hits.append("a secret (%s)%s is in the %s, line %d" % (
                        source, how, places[index][0], texts[index][:offset].count("\n") + 1))
                following = starts[index + 1] if index + 1 < len(starts) else len(joined)
                at = joined.find(form, max(following, at + 1))
        problems.extend(hits[:MAX_SHOWN_PLACES])
        if len(hits) > MAX_SHOWN_PLACES:
            problems.append("the same secret (%s) is in %d more places" % (source, len(hits) - MAX_SHOWN_PLACES))
    return problems


def received_text(received, places, secrets):
    """A request as the simulator received it (method and target, headers, body), for the scan, without the
    credential in its proper place (`Simulator.proper_places`) when that is one whole secret of the test; a
    secret anywhere else (another header, the URL, the body, or more than the credential in its place) stays.
    Percent-encoded parts are also given decoded."""
    headers = set(name.lower() for kind, name in places if kind == "header")
    parameters = set(name for kind, name in places if kind == "query")
    fields = set(name for kind, name in places if kind == "form")
    target = received.target
    if parameters:
        parts = urlsplit(target)
        target = urlunsplit(parts._replace(query=without_credentials(parts.query, parameters, secrets)))
    lines = ["%s %s" % (received.method, target)]
    for name, value in received.headers:
        if name.lower() in headers and is_one_credential(value, secrets):
            lines.append("%s: (its credential)" % name)
        else:
            lines.append("%s: %s" % (name, value))
    body = received.body.decode("utf-8", "replace")
    if fields:
        body = without_credentials(body, fields, secrets)
    text = "\n".join(lines) + "\n\n" + body
    decoded = unquote_plus(text)
    return text if decoded == text else text + "\n" + decoded


def is_one_credential(value, secrets):
    """`<secret>` or `<scheme> <secret>` (Bearer, say): one whole secret and nothing else."""
    value = value.strip()
    return value in secrets or value.partition(" ")[2].strip() in secrets


def without_credentials(encoded, names, secrets):
    """A query or form without its `name=<one whole secret>` pairs for these names."""
    kept = []
    for pair in encoded.split("&"):
        name, _equals, value = pair.partition("=")
        if not (unquote_plus(name) in names and unquote_plus(value).strip() in secrets):
            kept.append(pair)
    return "&".join(kept)


def written_files(root, inputs):
    """The files under `root`, except the fixtures' inputs, archives and unchanged copies of repository files."""
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            # Only regular files: a killed run leaves its local RPC server's Unix socket in TMPDIR (ansible-core 2.21).
            if os.path.islink(path) or not os.path.isfile(path) or os.path.realpath(path) in inputs:
                continue
            if os.path.getsize(path) > MAX_SCANNED_FILE or is_repository_copy(root, path):
                continue
            yield path


def is_repository_copy(root, path):
    """A file identical to the repository file at the same place below an `identity/lifecycle` tree: the built
    or installed collection's copy of a test's source (which names its own keys), not output of a run."""
    parts = os.path.relpath(path, root).split(os.sep)
    for index in range(len(parts) - 2):
        if parts[index:index + 2] == ["identity", "lifecycle"]:
            original = os.path.join(ROOT, *parts[index + 2:])
            if os.path.isfile(original):
                with open(original, "rb") as one, open(path, "rb") as other:
                    return one.read() == other.read()
    return False


@pytest.fixture(autouse=True)
def suite_guard(request):
    """Fails the test when a secret it used shows in its output, its simulators' logs or its files, or
    when a run in check mode made a changing request."""
    guard = Guard()
    simulators_base.STARTED_SERVER_OBSERVERS.append(guard.note_started)
    try:
        yield guard
    finally:
        simulators_base.STARTED_SERVER_OBSERVERS.remove(guard.note_started)
    problems = guard.findings(request.node.funcargs.get("tmp_path"))
    for path in guard.temporaries:
        shutil.rmtree(path, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def ground_truth():
    """Fails the test when a report written by one of its offboard role runs claims what the simulators' logs
    and state contradict (ground_truth.py)."""
    watch = RunWatch()
    yield watch
    problems = watch.finish()
    if problems:
        pytest.fail("the report contradicts what happened:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def ansible(tmp_path, suite_guard, ground_truth):
    return Ansible(str(tmp_path), guard=suite_guard, truth=ground_truth)


@pytest.fixture
def serve(suite_guard, ground_truth):
    """Start simulators on free loopback ports; they are stopped after the test."""
    servers = []

    def start(simulator, **kwargs):
        server = SimServer(simulator, **kwargs).start()
        servers.append(server)
        suite_guard.add_server(server)
        ground_truth.add_server(server)
        return server

    yield start
    for server in servers:
        server.stop()
