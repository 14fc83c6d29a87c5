# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A second implementation of the evidence formulas (the interface's canonical JSON, `sha256:` digests, a
report's digest, an Ed25519 public key's fingerprint), written without `json.dumps` and without `cryptography`,
so that a test's expected digest or fingerprint never comes from the collection's own code
(plugins/module_utils/_evidence.py). Only what the reports hold is supported: dicts with string keys, lists,
strings, integers, finite floats, booleans and None."""

from __future__ import annotations

import base64
import hashlib
import math

# The DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, SEQUENCE { OID 1.3.101.112 },
# BIT STRING of 33 bytes (no unused bits), then the 32 raw bytes of the key.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
# What JSON writes for the control characters it names (RFC 8259); the others are \u00XX.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _string(text):
    out = ['"']
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)  # everything else as itself (ensure_ascii=False)
    out.append('"')
    return "".join(out)


def canonical_text(value):
    """The canonical JSON of `value` as text: keys sorted by code point, no spaces, non-ASCII as itself."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return "%d" % value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("no canonical form for %r" % value)
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_text(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("only string keys have a canonical form")
        return "{" + ",".join(_string(key) + ":" + canonical_text(value[key]) for key in sorted(value)) + "}"
    raise TypeError("no canonical form for %s" % type(value).__name__)


def canonical(value):
    return canonical_text(value).encode("utf-8")


def digest(value):
    return "sha256:" + hashlib.sha256(canonical(value)).hexdigest()


def report_digest(report):
    """A report's digest: of everything but `report_digest` and `signature`."""
    return digest(dict((key, item) for key, item in report.items() if key not in ("report_digest", "signature")))


def fingerprint(public_key_pem):
    """`sha256:` + hex of the 32 raw bytes of an Ed25519 public key, read from its PEM by hand."""
    lines = [line.strip() for line in public_key_pem.strip().splitlines()]
    if lines[0] != "-----BEGIN PUBLIC KEY-----" or lines[-1] != "-----END PUBLIC KEY-----":
        raise ValueError("not a PEM public key")
    der = base64.b64decode("".join(lines[1:-1]), validate=True)
    if len(der) != 44 or not der.startswith(ED25519_SPKI_PREFIX):
        raise ValueError("not an Ed25519 public key")
    return "sha256:" + hashlib.sha256(der[len(ED25519_SPKI_PREFIX):]).hexdigest()
