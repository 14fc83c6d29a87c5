# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the AWX tests need of AWX: its rules for custom credential types, the way a job's environment is
built from a credential, a local stand-in of `/api/v2/credential_types/`, and the real awx.awx collection.

The rules and the injection follow AWX's documented behaviour (docs/credentials/custom_credential_types.md
and the credential type model): a field not given, or given empty, is left out of the template namespace,
and an `env` injector is rendered all the same, so an optional field left empty injects an empty variable.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDENTIAL_TYPES = os.path.join(ROOT, "extensions", "awx", "credential_types")

# The last awx.awx release (24.6.1) ships inside the community `ansible` package on PyPI.
AWX_COLLECTION_VERSION = "24.6.1"
ANSIBLE_PACKAGE = "ansible==12.3.0"
AWX_CACHE = os.path.join(ROOT, ".cache", "awx.awx-%s" % AWX_COLLECTION_VERSION)

FIELD_KEYS = frozenset(("id", "label", "type", "format", "choices", "help_text", "multiline", "secret",
                        "ask_at_runtime", "default"))
NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
# Variables AWX refuses in an env injector besides every ANSIBLE_* one (a few it sets itself).
ENV_BLOCKED = frozenset(("PATH", "PYTHONPATH", "VIRTUAL_ENV", "JOB_ID", "INVENTORY_ID", "AWX_HOST",
                         "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"))


def credential_types():
    """{file stem: definition} of the shipped credential types."""
    found = {}
    for path in sorted(glob.glob(os.path.join(CREDENTIAL_TYPES, "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            found[os.path.splitext(os.path.basename(path))[0]] = yaml.safe_load(handle)
    return found


def credential_type_errors(definition):
    """What AWX would refuse in a custom credential type (an empty list when it would accept it)."""
    errors = []
    if definition.get("kind") not in ("cloud", "net"):
        errors.append("kind must be cloud or net for a custom credential type")
    inputs, injectors = definition.get("inputs") or {}, definition.get("injectors") or {}
    errors += ["inputs: %r is not allowed" % key for key in inputs if key not in ("fields", "required")]
    ids, labels = [], []
    for field in inputs.get("fields") or []:
        errors += ["field %r: %r is not allowed" % (field.get("id"), key) for key in field if key not in FIELD_KEYS]
        if not isinstance(field.get("id"), str) or not NAME.match(field["id"]) or field["id"] == "tower":
            errors.append("field id %r is not a valid variable name" % field.get("id"))
        if not isinstance(field.get("label"), str) or not field["label"]:
            errors.append("field %r has no label" % field.get("id"))
        kind = field.get("type", "string")
        if kind not in ("string", "boolean"):
            errors.append("field %r: type %r" % (field.get("id"), kind))
        for key in ("choices", "multiline", "format", "secret"):
            if key in field and kind != "string":
                errors.append("field %r: %s is only for strings" % (field.get("id"), key))
        for key in ("secret", "multiline", "ask_at_runtime"):
            if key in field and not isinstance(field[key], bool):
                errors.append("field %r: %s must be a boolean" % (field.get("id"), key))
        if "help_text" in field and not isinstance(field["help_text"], str):
            errors.append("field %r: help_text must be a string" % field.get("id"))
        ids.append(field.get("id"))
        labels.append(field.get("label"))
    if len(set(ids)) != len(ids) or len(set(labels)) != len(labels):
        errors.append("field ids and labels must be unique")
    required = inputs.get("required") or []
    errors += ["required %r is not a field" % name for name in required if name not in ids]
    errors += ["injectors: %r is not allowed" % key for key in injectors if key not in ("env", "extra_vars", "file")]
    namespace = dict((field_id, "EXAMPLE") for field_id in ids)
    for kind, templates in injectors.items():
        for key, template in (templates or {}).items():
            if kind == "env" and (not NAME.match(key) or key.startswith("ANSIBLE_") or key in ENV_BLOCKED):
                errors.append("env %s is not allowed" % key)
            if not isinstance(template, str) or (kind == "env" and not template.isascii()):
                errors.append("%s %s must be an ASCII string" % (kind, key))
                continue
            try:
                ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(namespace)
            except (UndefinedError, TemplateSyntaxError) as exc:
                errors.append("%s %s uses an undefined field (%s)" % (kind, key, exc))
    return errors


def injected_environment(definition, inputs):
    """The environment variables a job gets from a credential of this type with these inputs."""
    namespace = dict((key, value) for key, value in inputs.items() if value not in ("", None))
    sandbox = ImmutableSandboxedEnvironment()
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in (definition.get("injectors") or {}).get("env", {}).items())


# --- the real awx.awx -----------------------------------------------------------------------------------

def awx_collections_path():
    """A collections path holding awx.awx, taken once from the `ansible` package on PyPI (the only registry
    this project reaches) and kept under .cache/."""
    target = os.path.join(AWX_CACHE, "ansible_collections", "awx", "awx", "MANIFEST.json")
    if not os.path.exists(target):
        download = tempfile.mkdtemp(prefix="awx-download-")
        fetched = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                  "--disable-pip-version-check", "-q", "-d", download, ANSIBLE_PACKAGE],
                                 capture_output=True, text=True, timeout=900, check=False)
        if fetched.returncode != 0:
            raise AssertionError("could not fetch %s from PyPI for awx.awx: %s" % (ANSIBLE_PACKAGE, fetched.stderr[-2000:]))
        (wheel,) = glob.glob(os.path.join(download, "*.whl"))
        # Unpacked beside the cache and renamed into place, so that a parallel worker never sees half of it.
        os.makedirs(os.path.dirname(AWX_CACHE), exist_ok=True)
        staging = tempfile.mkdtemp(prefix="awx-", dir=os.path.dirname(AWX_CACHE))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(staging, [name for name in archive.namelist()
                                         if name.startswith("ansible_collections/awx/awx/")])
        try:
            os.rename(staging, AWX_CACHE)
        except OSError:
            pass  # another worker was first
    with open(target, encoding="utf-8") as handle:
        version = json.load(handle)["collection_info"]["version"]
    assert version == AWX_COLLECTION_VERSION, version
    return AWX_CACHE


# --- a stand-in of AWX's credential type API ------------------------------------------------------------

class CredentialTypeApi:
    """`/api/v2/credential_types/` as AWX answers it: bearer token, list by name, create, update, delete,
    and AWX's validation of inputs and injectors. Every request is logged."""

    PREFIX = "/api/v2/credential_types/"

    def __init__(self, token):
        self.token = token
        self.items = {}
        self.log = []
        self.lock = threading.Lock()
        self._next_id = 100
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8")) if length else None
                status, payload = api.handle(self.command, self.path, self.headers.get("Authorization"), body)
                data = json.dumps(payload).encode("utf-8") if payload is not None else b""
                self.send_response(status)
                self.send_header("X-API-Product-Name", "AWX")
                self.send_header("X-API-Product-Version", AWX_COLLECTION_VERSION)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def changes(self):
        return [entry for entry in self.log if entry["method"] != "GET"]

    def handle(self, method, target, authorization, body):
        parts = urlsplit(target)
        with self.lock:
            self.log.append({"method": method, "path": parts.path, "query": parts.query, "body": body})
            if authorization != "Bearer %s" % self.token:
                return 401, {"detail": "Authentication credentials were not provided."}
            if not parts.path.startswith(self.PREFIX):
                return 404, {"detail": "Not found."}
            rest = parts.path[len(self.PREFIX):].strip("/")
            if not rest and method == "GET":
                query = parse_qs(parts.query)
                found = [item for item in self.items.values()
                         if all(str(item.get(key)) == values[0] for key, values in query.items())]
                return 200, {"count": len(found), "next": None, "previous": None, "results": found}
            if not rest and method == "POST":
                return self._save(None, body)
            item = self.items.get(int(rest)) if rest.isdigit() else None
            if item is None:
                return 404, {"detail": "Not found."}
            if method == "PATCH":
                return self._save(item, body)
            if method == "DELETE":
                del self.items[item["id"]]
                return 204, None
            return 405, {"detail": "Method not allowed."}

    def _save(self, existing, body):
        item = dict(existing or {}, **body)
        errors = credential_type_errors(item)
        if any(other["name"] == item["name"] and other["kind"] == item["kind"] and other is not existing
               for other in self.items.values()):
            errors.append("Credential type with this Name and Kind already exists.")
        if errors:
            return 400, {"__all__": errors}
        if existing is None:
            self._next_id += 1
            item.update(id=self._next_id, type="credential_type", namespace=None,
                        url="%s%d/" % (self.PREFIX, self._next_id))
            item.setdefault("description", "")
            self.items[item["id"]] = item
            return 201, item
        existing.update(item)
        return 200, existing
