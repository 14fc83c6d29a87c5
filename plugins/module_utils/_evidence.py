# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""Tamper evidence for the offboarding reports: digests, the hash chain, Ed25519 signatures.

Every digest is `"sha256:" + hexdigest` of the canonical JSON of a value (`canonical_json`). A report
directory holds one pair per run, `offboard-<run_id>.json` and `offboard-<run_id>.md`. Each JSON report
carries `markdown_sha256` (hex SHA-256 of the Markdown bytes), `previous_report_digest` (the
`report_digest` of the report written just before it in the same directory, null for the first),
`report_digest` (the digest of the report without `report_digest` and `signature`) and, when a signing
key is given, `signature` (Ed25519 over the UTF-8 bytes of `report_digest`).

Order. The chain is in the order the reports were written. `write_report` holds an exclusive lock on
the directory (`flock` of `.offboard-reports.lock`) while it finds the newest earlier report and writes
its own, so "the newest earlier report" is the report written last before this one: the head of the chain,
the one report that no other report names as its previous. Names sort by run id (the run's UTC start time
to the millisecond, then `-awx<job id>`, then `-check`), which is the order runs started; a run that
started before another but finished after it follows it in the chain, and the verifier notes that without
failing. Two runs with the same run id cannot both write: the second fails and overwrites nothing.

Only the standard library is needed for digests and for verifying a chain; `cryptography` (a dependency
of ansible-core) only for signing and verifying signatures.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import re
import tempfile
import time
import traceback

try:
    import fcntl
except ImportError:  # not on Windows, where no Ansible controller runs
    fcntl = None

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

PREFIX = "offboard-"
LOCK_NAME = ".offboard-reports.lock"
LOCK_TIMEOUT = 120.0
FILE_MODE = 0o640
DIRECTORY_MODE = 0o750
EVIDENCE_FIELDS = ("report_digest", "previous_report_digest", "markdown_sha256", "signature")
UNDIGESTED_FIELDS = ("report_digest", "signature")
SIGNATURE_ALGORITHM = "ed25519"
# A run id is a file name part: letters, digits, ".", "_", "-", not starting with "." or "-".
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_HEX = re.compile(r"[0-9a-f]{64}\Z")
# The bounds of a report file that is read: a report of 10,000 leavers at three providers is some tens of MB and
# nests about ten levels deep. Anything beyond is not a report, and is refused naming its file, never read on.
MAX_REPORT_BYTES = 128 * 1024 * 1024
MAX_DEPTH = 64
# A public key in PEM is a few hundred bytes.
MAX_KEY_BYTES = 64 * 1024


class EvidenceError(Exception):
    """A report cannot be written, or a key or directory cannot be used. Never carries a key."""


# --- digests -------------------------------------------------------------------------------------------

def canonical_json(value):
    """The bytes every digest is taken over (the interface's definition, exactly)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def digest(value):
    return "sha256:" + sha256_hex(canonical_json(value))


def _sort_text(value):
    return "" if value is None else str(value)


def plan_sort_key(item):
    return (_sort_text(item.get("provider")), _sort_text(item.get("directory")), _sort_text(item.get("user_id")))


def plan_items(items):
    """The plan items in the interface's order: by provider, directory, user_id (a stable sort; None first)."""
    return sorted((dict(item) for item in items), key=plan_sort_key)


def plan_digest(plan):
    """The digest of `plan` as given; build `plan` with `plan_items` so that its order is the interface's."""
    return digest(list(plan))


def report_digest(report):
    """The digest of a report without `report_digest` and `signature` (everything else is covered)."""
    return digest(dict((key, value) for key, value in report.items() if key not in UNDIGESTED_FIELDS))


# --- keys and signatures ---------------------------------------------------------------------------------

def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise EvidenceError("the Python library cryptography (a dependency of ansible-core) is needed for "
                            "signatures and is not importable by the Python that runs this module")


def _pem_bytes(pem, what):
    if not isinstance(pem, (str, bytes)) or not pem.strip():
        raise EvidenceError("%s is empty" % what)
    if isinstance(pem, str):
        try:
            pem = pem.encode("ascii")
        except UnicodeEncodeError:
            raise EvidenceError("%s is not a PEM key (it has characters other than ASCII)" % what) from None
    return pem.strip() + b"\n"


def load_private_key(pem, what="the signing key"):
    """An Ed25519 private key from PEM. Errors name the problem, never the key's text."""
    _require_cryptography()
    data = _pem_bytes(pem, what)
    if b"PRIVATE KEY" not in data:
        kind = "a public key or certificate" if b"-----BEGIN" in data else "not PEM"
        raise EvidenceError("%s is %s, not an Ed25519 private key in PEM" % (what, kind))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise EvidenceError("%s is encrypted with a passphrase; give it unencrypted (keep it in Ansible Vault "
                            "or an AWX credential instead)" % what) from None
    except (ValueError, UnsupportedAlgorithm):
        raise EvidenceError("%s cannot be read as a PEM private key" % what) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise EvidenceError("%s is %s, not an Ed25519 key (make one with: openssl genpkey -algorithm "
                            "ed25519)" % (what, _key_kind(key)))
    return key


def load_public_key(pem, what="the public key"):
    _require_cryptography()
    data = _pem_bytes(pem, what)
    if b"PRIVATE KEY" in data:
        # A private key given where a public one is published: refuse rather than use or echo it.
        raise EvidenceError("%s is a private key; give the public key only" % what)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise EvidenceError("%s cannot be read as a PEM public key" % what) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise EvidenceError("%s is %s, not an Ed25519 key" % (what, _key_kind(key)))
    return key


def _key_kind(key):
    """'an RSA key' and so on: what a refused key is, never its content."""
    kinds = (("an RSA", (rsa.RSAPrivateKey, rsa.RSAPublicKey)), ("a DSA", (dsa.DSAPrivateKey, dsa.DSAPublicKey)),
             ("an EC", (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)),
             ("an Ed448", (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)),
             ("an X25519", (x25519.X25519PrivateKey, x25519.X25519PublicKey)),
             ("an X448", (x448.X448PrivateKey, x448.X448PublicKey)))
    for kind, classes in kinds:
        if isinstance(key, classes):
            return kind + " key"
    return "another kind of key"


def public_key_pem(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_fingerprint(public_key):
    """`sha256:` + hex of the 32 raw bytes of an Ed25519 public key: a short name for a key in messages."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + sha256_hex(raw)


def sign(digest_text, private_key_pem):
    """The `signature` of a report: Ed25519 over the UTF-8 bytes of its `report_digest`."""
    key = load_private_key(private_key_pem)
    value = key.sign(digest_text.encode("utf-8"))
    return {"algorithm": SIGNATURE_ALGORITHM, "public_key": public_key_pem(key.public_key()),
            "value": base64.b64encode(value).decode("ascii")}


def verify_signature(digest_text, signature, public_key_pem=None):
    """Checks a report's `signature` over `digest_text`. Returns `(ok, detail)`.

    With `public_key_pem` (the key the signer published) the signature must be made with that key. Without
    it, the signature is checked against the public key it carries: that proves only that the report was
    not changed after someone signed it, not who signed it (`detail` says which).
    """
    if not isinstance(signature, dict):
        return False, "signature is not an object"
    if signature.get("algorithm") != SIGNATURE_ALGORITHM:
        return False, "signature algorithm is %r, not %r" % (signature.get("algorithm"), SIGNATURE_ALGORITHM)
    try:
        value = base64.b64decode(str(signature.get("value", "")).encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return False, "signature value is not base64"
    try:
        carried = load_public_key(signature.get("public_key") or "", "the signature's public_key")
    except EvidenceError as error:
        return False, str(error)
    key = carried
    if public_key_pem is not None:
        key = load_public_key(public_key_pem)
        if key_fingerprint(carried) != key_fingerprint(key):
            return False, "signed with another key (%s), not the given public key (%s)" % (
                key_fingerprint(carried), key_fingerprint(key))
    try:
        key.verify(value, digest_text.encode("utf-8"))
    except InvalidSignature:
        return False, "signature invalid: it was not made over this report_digest with key %s" % key_fingerprint(key)
    if public_key_pem is not None:
        return True, "signature verified with the given public key %s" % key_fingerprint(key)
    return True, ("signature self-consistent with the key it carries (%s); no public key given, so who signed "
                  "is not checked" % key_fingerprint(key))


def check_given_key(public_key_pem, given_as):
    """A public key that was given (under the name `given_as`) must be there: null or blank is an error."""
    if public_key_pem is None or (isinstance(public_key_pem, str) and not public_key_pem.strip()):
        raise EvidenceError("%s is given but empty (%s): a key given as null or empty is an error, never \"no "
                            "key\"; give the Ed25519 public key in PEM, or leave the variable out to check each "
                            "signature only against the key it carries"
                            % (given_as, "null" if public_key_pem is None else "blank"))
    return load_public_key(public_key_pem, given_as)


# --- the report directory --------------------------------------------------------------------------------

def natural_key(name):
    """Sort key of a report name: text in order, digit runs as numbers (`-awx9` before `-awx10`)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


def _strict_object(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            # Two values for one key: a reader may show one while the digest covers the other.
            raise ValueError("duplicate key %r" % key)
        seen[key] = value
    return seen


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def parse_report(data):
    """A report from its JSON bytes: strict (no duplicate keys, no NaN or Infinity), an object at the top,
    bounded (at most MAX_REPORT_BYTES, nested at most MAX_DEPTH levels) and Unicode text throughout (a lone
    surrogate such as a `\\ud800` escape can be neither digested nor shown). Raises ValueError saying why."""
    if len(data) > MAX_REPORT_BYTES:
        raise ValueError("larger than %d bytes, which no report is" % MAX_REPORT_BYTES)
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_strict_object, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested deeper than %d levels, which no report is" % MAX_DEPTH) from None
    if not isinstance(value, dict):
        raise ValueError("the top level is not a JSON object")
    _check_tree(value)
    return value


def _text_problem(text):
    """Why `text` cannot be UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return "a lone surrogate (%s)" % ascii(text[error.start])[1:-1]
    return None


def _path_part(key):
    return "." + key.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_tree(value):
    """Depth and text of a parsed value, without recursion (the value may be as deep as the parser allowed)."""
    pending = [(value, 1, "$")]
    while pending:
        item, depth, where = pending.pop()
        if isinstance(item, (dict, list)) and depth > MAX_DEPTH:
            raise ValueError("nested deeper than %d levels (at %s), which no report is" % (MAX_DEPTH, where))
        if isinstance(item, dict):
            for key, member in item.items():
                problem = _text_problem(key)
                if problem:
                    raise ValueError("a key at %s is not Unicode text: %s" % (where, problem))
                pending.append((member, depth + 1, where + _path_part(key)))
        elif isinstance(item, list):
            pending.extend((member, depth + 1, "%s[%d]" % (where, index)) for index, member in enumerate(item))
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                raise ValueError("a string at %s is not Unicode text: %s" % (where, problem))


def read_bounded(path, limit=MAX_REPORT_BYTES):
    """The bytes of the file at `path`, refused (ValueError) when larger than `limit`, never read whole then."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise ValueError("larger than %d bytes, which no report is" % limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError("larger than %d bytes, which no report is" % limit)
    return data


def read_report_file(path):
    """A report from the file at `path` (`parse_report`); OSError, or ValueError saying why it is not one."""
    return read_report_file_bytes(read_bounded(path))


def read_report_file_bytes(data):
    try:
        return parse_report(data)
    except UnicodeDecodeError as error:
        raise ValueError("not UTF-8 (%s)" % error) from None


class StoredReport:
    """One run's files in a report directory: `name` is `offboard-<run_id>`; either file may be missing."""

    def __init__(self, name, report=None, markdown=None, json_present=False, error=None, raw=None):
        self.name = name
        self.report = report  # the parsed JSON object, or None
        self.raw = raw  # the JSON file's bytes, or None
        self.markdown = markdown  # the Markdown bytes, or None
        self.json_present = json_present
        self.error = error  # why the JSON could not be read
        self.reason = None  # the same, without the words around it

    @property
    def stored_digest(self):
        value = (self.report or {}).get("report_digest")
        return value if isinstance(value, str) else None

    @property
    def previous(self):
        return (self.report or {}).get("previous_report_digest")


def _read(path):
    return read_bounded(path)


def report_names(directory):
    """{name: (has JSON, has Markdown)} of the `offboard-*` report files in `directory`."""
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        raise EvidenceError("report directory %s does not exist" % directory) from None
    except NotADirectoryError:
        raise EvidenceError("%s is not a directory" % directory) from None
    except PermissionError:
        raise EvidenceError("report directory %s cannot be read by this user" % directory) from None
    names = {}
    for entry in entries:
        stem, suffix = os.path.splitext(entry)
        if not stem.startswith(PREFIX) or suffix not in (".json", ".md"):
            continue
        if not os.path.isfile(os.path.join(directory, entry)):
            continue
        has_json, has_markdown = names.get(stem, (False, False))
        names[stem] = (has_json or suffix == ".json", has_markdown or suffix == ".md")
    return names


def read_directory(directory, with_markdown=True):
    """Every report of `directory` as `StoredReport`s, sorted by name (run id)."""
    reports = []
    for name, (has_json, has_markdown) in report_names(directory).items():
        stored = StoredReport(name, json_present=has_json)
        base = os.path.join(directory, name)
        if has_json:
            try:
                stored.raw = _read(base + ".json")
                stored.report = read_report_file_bytes(stored.raw)
            except ValueError as error:
                stored.reason = str(error)
                stored.error = "not a readable JSON report (%s)" % error
            except OSError as error:
                stored.reason = str(error.strerror or error)
                stored.error = "cannot be read (%s)" % (error.strerror or error)
        if has_markdown and with_markdown:
            try:
                stored.markdown = _read(base + ".md")
            except (OSError, ValueError):
                stored.markdown = None
        reports.append(stored)
    reports.sort(key=lambda stored: natural_key(stored.name))
    return reports


def chain_head(reports):
    """`(head, warnings)`: the report written last (the one no report names as its previous), or None.

    In a sound chain there is exactly one. With several (a report removed, or a chain that branched) the
    newest by name is taken and a warning says so; the verifier names what is wrong.
    """
    chained = [stored for stored in reports if stored.stored_digest]
    unchained = [stored.name for stored in reports if not stored.stored_digest]
    unchained_warning = ("%d report(s) here cannot be chained to (unreadable, only a Markdown file, or without "
                         "report_digest: %s); run identity.lifecycle.verify_reports"
                         % (len(unchained), ", ".join(unchained[:10]) + (", ..." if len(unchained) > 10 else "")))
    if not chained:
        return None, [unchained_warning + "; the new report starts a chain"] if reports else []
    followed = set(stored.previous for stored in chained)
    heads = [stored for stored in chained if stored.stored_digest not in followed]
    warnings = []
    if len(heads) != 1:
        heads = heads or chained
        warnings.append(
            "the report chain here has %d ends (%s), not one: a report was removed or changed, or written "
            "without the lock; chaining to the newest, %s; run identity.lifecycle.verify_reports"
            % (len(heads), ", ".join(stored.name for stored in heads), heads[-1].name))
    if unchained:
        warnings.append(unchained_warning)
    return heads[-1], warnings


# --- verification ----------------------------------------------------------------------------------------

def _check_fields(report):
    """Problems with the evidence fields' presence and form."""
    problems = []
    if not isinstance(report.get("report_digest"), str):
        problems.append("no report_digest: written before reports carried evidence, or the field was removed")
    elif not _DIGEST.match(report["report_digest"]):
        problems.append("report_digest %r is not sha256:<64 hex digits>" % report["report_digest"])
    previous = report.get("previous_report_digest", "absent")
    if previous == "absent":
        problems.append("no previous_report_digest")
    elif previous is not None and not (isinstance(previous, str) and _DIGEST.match(previous)):
        problems.append("previous_report_digest %r is neither null nor sha256:<64 hex digits>" % (previous,))
    if not (isinstance(report.get("markdown_sha256"), str) and _HEX.match(report["markdown_sha256"])):
        problems.append("no markdown_sha256 of 64 hex digits")
    return problems


def _check_content(stored):
    """Problems of one report on its own: name, digest, Markdown."""
    report = stored.report
    problems = _check_fields(report)
    run_id = report.get("run_id")
    if not isinstance(run_id, str):
        problems.append("no run_id")
    elif stored.name != PREFIX + run_id:
        problems.append("renamed or out of order: the file is %s.json but its run_id says %s%s"
                        % (stored.name, PREFIX, run_id))
    if isinstance(report.get("report_digest"), str):
        actual = report_digest(report)
        if actual != report["report_digest"]:
            problems.append("tampered: its content digests to %s, not to its report_digest %s"
                            % (actual, report["report_digest"]))
        elif stored.raw is not None and stored.raw != report_json_bytes(report):
            # The digest covers the parsed content; this covers the bytes, so that no edit goes unseen.
            problems.append("the JSON file was rewritten: its bytes are not as written, though its content "
                            "still matches its report_digest (only layout or escaping changed)")
    if stored.markdown is None:
        problems.append("its Markdown %s.md is missing" % stored.name)
    elif isinstance(report.get("markdown_sha256"), str):
        actual = sha256_hex(stored.markdown)
        if actual != report["markdown_sha256"]:
            problems.append("Markdown changed: %s.md has sha256 %s, the report says %s"
                            % (stored.name, actual, report["markdown_sha256"]))
    return problems


def _check_signature(stored, public_key_pem):
    """`(problems, note, fingerprint)` for one report's signature."""
    signature = stored.report.get("signature")
    if signature is None:
        if public_key_pem is not None:
            return ["unsigned, but a public key was given: every report must be signed"], "unsigned", None
        return [], "unsigned", None
    digest_text = stored.report.get("report_digest")
    if not isinstance(digest_text, str):
        return ["signed, but there is no report_digest to check it against"], "signature unchecked", None
    ok, detail = verify_signature(digest_text, signature, public_key_pem)
    fingerprint = None
    if isinstance(signature, dict) and HAS_CRYPTOGRAPHY:
        try:
            fingerprint = key_fingerprint(load_public_key(signature.get("public_key") or ""))
        except EvidenceError:
            fingerprint = None
    return ([] if ok else [detail]), detail, fingerprint


def _check_links(reports, results):
    """The chain: each report's previous is the report_digest of a report here, no two reports follow the
    same one, and only the first report (by name) starts the chain."""
    by_digest = {}
    for stored in reports:
        if stored.stored_digest:
            by_digest.setdefault(stored.stored_digest, stored)
    followers = {}
    started = None
    for stored in reports:
        if stored.report is None or "previous_report_digest" not in stored.report:
            continue
        result = results[stored.name]
        previous = stored.previous
        if previous is None:
            if started is None:
                started = stored
                result["notes"].append("first report of the chain")
            else:
                result["problems"].append(
                    "the chain restarts here: previous_report_digest is null, but %s already starts the "
                    "chain (the reports before this one were cut off from it)" % started.name)
            continue
        if not isinstance(previous, str):
            continue
        before = by_digest.get(previous)
        if before is None:
            result["problems"].append(
                "missing before this one: no report here has the report_digest %s that it names as its "
                "previous (that report was removed or changed)" % previous)
            continue
        result["previous_report"] = before.name
        if before is stored:
            result["problems"].append("names itself as its previous report")
            continue
        followers.setdefault(previous, []).append(stored)
        if natural_key(before.name) > natural_key(stored.name):
            # Runs that overlapped: this one started first and finished last. Not a fault of the chain.
            result["notes"].append("written after %s, which started later (overlapping runs)" % before.name)
    for previous, after in followers.items():
        for stored in after[1:]:
            results[stored.name]["problems"].append(
                "out of order: %s already follows %s; two reports follow the same one (the chain branches)"
                % (after[0].name, by_digest[previous].name))


def _line(result):
    head = "%s: %s" % (result["name"], "OK" if result["ok"] else "FAILED")
    parts = []
    if result["ok"]:
        if result["previous_report"]:
            parts.append("follows %s" % result["previous_report"])
        parts += result["notes"]
        parts.append(result["signature"])
    else:
        parts += result["problems"]
    return head + (" - " + "; ".join(parts) if parts else "")


def _printable(text):
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_report(stored, result, public_key_pem):
    """One report's own checks (content and signature) into its `result`."""
    if not stored.json_present:
        result["problems"].append("its JSON report %s.json is missing (only the Markdown is here)" % stored.name)
        return
    if stored.report is None:
        result["problems"].append("%s.json is %s" % (stored.name, stored.error))
        return
    result["run_id"] = stored.report.get("run_id")
    result["previous_report_digest"] = stored.previous
    result["problems"] += _check_content(stored)
    problems, note, fingerprint = _check_signature(stored, public_key_pem)
    result["problems"] += problems
    result["signature"] = note
    result["key_fingerprint"] = fingerprint


def verify_reports(reports, public_key_pem=None):
    """Checks `StoredReport`s (from `read_directory`) and returns one result dict per report, in name order:
    `name`, `run_id`, `ok`, `problems` (what is wrong, each named), `notes`, `report_digest`,
    `previous_report_digest`, `previous_report` (the name of the report it follows), `signature` (what was
    checked), `key_fingerprint` (of the key the report is signed with), `line` (one line for a person).
    """
    if public_key_pem is not None:
        load_public_key(public_key_pem)  # a wrong key fails the whole check, before any report
    results = {}
    ordered = []
    for stored in reports:
        result = {"name": stored.name, "run_id": None, "ok": False, "problems": [], "notes": [],
                  "report_digest": stored.stored_digest, "previous_report_digest": None, "previous_report": None,
                  "signature": "not checked", "key_fingerprint": None}
        results[stored.name] = result
        ordered.append(result)
        try:
            _check_report(stored, result, public_key_pem)
        except Exception as error:  # pylint: disable=broad-exception-caught
            # Whatever one report holds, it fails that report, named, and the others are still checked.
            result["problems"].append("%s.json cannot be checked (%s: %s)" % (stored.name, type(error).__name__,
                                                                              _printable(str(error))[:300]))
    _check_links(reports, results)
    for result in ordered:
        result["ok"] = not result["problems"]
        result["line"] = _line(result)
    return ordered


def verify_directory(directory, public_key_pem=None, public_key_given_as=None):
    """`verify_reports` over every report in `directory`. No report at all is an error: a wrong path must
    never read as a verified directory. With `public_key_given_as` (the name the key was given under), a key
    that is null or blank is an error, never "no public key given"."""
    if public_key_given_as:
        check_given_key(public_key_pem, public_key_given_as)
    reports = read_directory(directory)
    if not reports:
        raise EvidenceError("no offboarding reports (%s*.json) in %s" % (PREFIX, directory))
    return verify_reports(reports, public_key_pem)


# --- writing ---------------------------------------------------------------------------------------------

def seal(report, markdown_bytes, previous_report_digest, signing_key_pem=None):
    """The report as written: with `previous_report_digest`, `markdown_sha256`, `report_digest` and, with a
    key, `signature`. The report goes through JSON first, so the digest is of exactly what a reader parses."""
    sealed = json.loads(json.dumps(report, allow_nan=False))
    sealed["previous_report_digest"] = previous_report_digest
    sealed["markdown_sha256"] = sha256_hex(markdown_bytes)
    sealed["report_digest"] = report_digest(sealed)
    if signing_key_pem:
        sealed["signature"] = sign(sealed["report_digest"], signing_key_pem)
    return sealed


def report_json_bytes(sealed):
    return (json.dumps(sealed, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


class DirectoryLock:
    """An exclusive `flock` on `<directory>/.offboard-reports.lock`, held while one report is written."""

    def __init__(self, directory, timeout=LOCK_TIMEOUT):
        self.path = os.path.join(directory, LOCK_NAME)
        self.timeout = timeout
        self.handle = None

    def __enter__(self):
        if fcntl is None:
            return self
        self.handle = self._open()
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    self.__exit__()
                    raise EvidenceError("cannot lock %s (%s); the reports' chain needs one writer at a time"
                                        % (self.path, error.strerror or error)) from None
            if time.monotonic() > deadline:
                self.__exit__()
                raise EvidenceError("another run has held %s for %d seconds; nothing was written"
                                    % (self.path, self.timeout))
            time.sleep(0.05)

    def _open(self):
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as error:
            # A lock file of another user in a shared directory with the sticky bit, a directory in its place...
            raise EvidenceError("cannot open the lock file %s (%s); the reports' chain needs it, writable by this "
                                "user: remove it or make it writable by this user (in a shared directory with the "
                                "sticky bit, only its owner can)" % (self.path, error.strerror or error)) from None

    def probe(self):
        """Proves that the lock can be taken, without waiting: held by another writer is fine."""
        if fcntl is None:
            return
        handle = self._open()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise EvidenceError("cannot lock %s (%s); the reports' chain needs one writer at a time"
                                    % (self.path, error.strerror or error)) from None
        finally:
            os.close(handle)

    def __exit__(self, *exc):
        if self.handle is not None:
            os.close(self.handle)  # closing releases the lock
            self.handle = None


def _write_new(path, data):
    """Writes `data` to `path`, which must not exist: a temporary file in the same directory, flushed to
    disk, then hard-linked to its name (atomic, and fails if the name exists). Filesystems without hard
    links get an exclusive create instead (still never an overwrite)."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
            output.flush()
            os.fsync(output.fileno())
        os.chmod(temporary, FILE_MODE)
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise EvidenceError("%s already exists; a report is never overwritten" % path) from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            _write_exclusive(path, data)
    finally:
        os.unlink(temporary)


def _write_exclusive(path, data):
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        raise EvidenceError("%s already exists; a report is never overwritten" % path) from None
    with os.fdopen(handle, "wb") as output:
        output.write(data)
        output.flush()
        os.fsync(output.fileno())


def _sync_directory(directory):
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def check_run_id(run_id):
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise EvidenceError("report name %r is not a run id: 1 to 200 letters, digits, '.', '_' or '-', "
                            "starting with a letter or digit" % (run_id,))


def _ensure_directory(directory):
    """The absolute path of the report directory, created (mode 0750) when it does not exist."""
    directory = os.path.abspath(directory)
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise EvidenceError("the report directory %s is not a directory" % directory)
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, DIRECTORY_MODE)
            os.chmod(directory, DIRECTORY_MODE)  # as given, whatever the umask
        except FileExistsError:
            pass
        except OSError as error:
            raise EvidenceError("cannot create the report directory %s (%s)"
                                % (directory, error.strerror or error)) from None
    return directory


def check_signing_key(signing_key_pem):
    """The signing key signs: loaded, made to sign, and its signature verified. Returns its public key."""
    key = load_private_key(signing_key_pem)
    probe = b"identity.lifecycle offboard_report: the signing key signs"
    try:
        key.public_key().verify(key.sign(probe), probe)
    except (InvalidSignature, ValueError):
        raise EvidenceError("the signing key cannot make a signature that verifies") from None
    return key.public_key()


def check_report_directory(directory, run_id=None, signing_key_pem=None):
    """Everything that can keep `write_report` from writing this run's report, checked before the run changes
    anything, so that no run makes changes and then cannot record them: the signing key signs; the report
    directory exists (it is created when missing) and is a directory this user can write files into; its lock
    can be taken; every report in it can be read and is within the bounds (`parse_report`), since each run
    reads them all to find the one to chain to; and no report of `run_id` is there yet.

    Returns `(problems, details)`: each problem names what is wrong (the file, the key), never a key's text;
    `details` has `directory`, `reports` (how many) and `key_fingerprint`."""
    problems = []
    details = {"directory": os.path.abspath(directory), "reports": 0, "key_fingerprint": None}
    if run_id is not None:
        try:
            check_run_id(run_id)
        except EvidenceError as error:
            problems.append(str(error))
            run_id = None
    if signing_key_pem:
        try:
            details["key_fingerprint"] = key_fingerprint(check_signing_key(signing_key_pem))
        except EvidenceError as error:
            problems.append(str(error))
    try:
        directory = _ensure_directory(directory)
    except EvidenceError as error:
        return problems + [str(error)], details
    details["directory"] = directory
    try:
        handle, probe = tempfile.mkstemp(prefix=".offboard-write-check.", suffix=".tmp", dir=directory)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return problems + ["the report directory %s is not writable by this user (%s)"
                           % (directory, error.strerror or error)], details
    try:
        DirectoryLock(directory).probe()
    except EvidenceError as error:
        problems.append(str(error))
    try:
        reports = read_directory(directory, with_markdown=False)
    except EvidenceError as error:
        return problems + [str(error)], details
    details["reports"] = len(reports)
    for stored in reports:
        if stored.json_present and stored.report is None:
            problems.append("%s cannot be read as a report (%s): each run reads every report of the directory to "
                            "chain its own; move it out of the directory, or restore it from a copy"
                            % (os.path.join(directory, stored.name + ".json"), _printable(stored.reason or "")))
    if run_id is not None:
        for suffix in (".json", ".md"):
            path = os.path.join(directory, PREFIX + run_id + suffix)
            if os.path.lexists(path):
                problems.append("%s already exists (another run with the same run id?); a report is never "
                                "overwritten" % path)
    return problems, details


def write_report(directory, run_id, report, markdown, signing_key_pem=None):
    """Writes one run's `offboard-<run_id>.md` and then `offboard-<run_id>.json` into `directory`, chained
    to the newest earlier report and signed when a key is given. Never overwrites a report.

    Returns `report_file` (path without suffix), `json_file`, `markdown_file`, `report_digest`,
    `previous_report_digest`, `previous_report` (its name, or None), `markdown_sha256`, `signed`,
    `public_key` (PEM, or None), `key_fingerprint` and `warnings`. Raises EvidenceError, having written
    nothing (or, if the JSON could not be written, having removed the Markdown it wrote).
    """
    check_run_id(run_id)
    if not isinstance(report, dict):
        raise EvidenceError("the report must be a dict (a JSON object)")
    given = [field for field in EVIDENCE_FIELDS if field in report]
    if given:
        raise EvidenceError("the report already has %s; pass the report without its evidence fields"
                            % ", ".join(given))
    if report.get("run_id", run_id) != run_id:
        raise EvidenceError("the report's run_id %r is not the name %r; the file name must be the run id"
                            % (report.get("run_id"), run_id))
    if not isinstance(markdown, str):
        raise EvidenceError("the Markdown report must be text")
    if signing_key_pem:
        signing_public = load_private_key(signing_key_pem).public_key()  # a bad key fails before any file
    report = dict(report, run_id=run_id)
    markdown_bytes = markdown.encode("utf-8")
    directory = _ensure_directory(directory)
    base = os.path.join(directory, PREFIX + run_id)
    with DirectoryLock(directory):
        for path in (base + ".json", base + ".md"):
            if os.path.lexists(path):
                raise EvidenceError("%s already exists (another run with the same run id?); a report is never "
                                    "overwritten and nothing was written" % path)
        head, warnings = chain_head(read_directory(directory, with_markdown=False))
        previous = head.stored_digest if head else None
        try:
            sealed = seal(report, markdown_bytes, previous, signing_key_pem)
            data = report_json_bytes(sealed)
        except (TypeError, ValueError) as error:
            raise EvidenceError("the report cannot be written as JSON (%s)" % error) from None
        _write_new(base + ".md", markdown_bytes)
        try:
            _write_new(base + ".json", data)
        except BaseException:
            os.unlink(base + ".md")
            raise
        _sync_directory(directory)
    return {
        "report_file": base, "json_file": base + ".json", "markdown_file": base + ".md",
        "report_digest": sealed["report_digest"], "previous_report_digest": previous,
        "previous_report": head.name if head else None, "markdown_sha256": sealed["markdown_sha256"],
        "signed": "signature" in sealed,
        "public_key": sealed["signature"]["public_key"] if "signature" in sealed else None,
        "key_fingerprint": key_fingerprint(signing_public) if signing_key_pem else None,
        "warnings": warnings,
    }
