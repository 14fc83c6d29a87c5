# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_evidence: canonical digests, plans, signatures, writing chained reports and verifying a directory.

Reports are written and verified on real files in a temporary directory; keys are made here with
cryptography. The property tests (hypothesis) cover: digests do not depend on key order; any single-byte
change to a report's JSON or Markdown file is detected; in a chain of any length, a removed report (other
than the newest, which the chain alone cannot show) or two swapped names are detected and named.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.identity.lifecycle.plugins.module_utils import _evidence
from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import EvidenceError
from tests import evidence_oracle as oracle

from .hypothesis_profile import prop

PROPERTY = prop(40)  # the seed and the example database: hypothesis_profile.py


def private_pem(key, password=None):
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def signing_key():
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def other_key():
    return ed25519.Ed25519PrivateKey.generate()


def run_id(index, suffix=""):
    return "20261204T1011%02d.%03dZ%s" % (index // 1000 % 60, index % 1000, suffix)


def report_of(index, **extra):
    return dict({"report": "identity.lifecycle offboarding report", "run_id": run_id(index),
                 "leavers": [{"email": "leaver%d@example.com" % index, "name": "Zoë Ångström"}],
                 "summary": {"removed": index}}, **extra)


def write_chain(directory, count, key=None, start=0):
    written = []
    for index in range(start, start + count):
        written.append(_evidence.write_report(str(directory), run_id(index), report_of(index),
                                              "# Offboarding report %d\n\nZoë\n" % index,
                                              private_pem(key) if key else None))
    return written


def verify(directory, public_key=None):
    return {result["name"]: result for result in _evidence.verify_directory(str(directory), public_key)}


def failing(results):
    return dict((name, result["problems"]) for name, result in results.items() if not result["ok"])


def name_of(index):
    return "offboard-" + run_id(index)


# --- digests and plans ------------------------------------------------------------------------------------

def test_canonical_json_is_the_interface_formula():
    value = {"b": [1, 2.5, None, True], "a": "Zoë \u202e", "c": {"y": 1, "x": "\U0001f600"}}
    assert _evidence.canonical_json(value) == (
        '{"a":"Zoë \u202e","b":[1,2.5,null,true],"c":{"x":"\U0001f600","y":1}}'.encode("utf-8"))
    literal = '{"a":"Zoë \u202e","b":[1,2.5,null,true],"c":{"x":"\U0001f600","y":1}}'.encode("utf-8")
    assert _evidence.digest(value) == "sha256:" + hashlib.sha256(literal).hexdigest()
    assert oracle.canonical(value) == literal and oracle.digest(value) == _evidence.digest(value)


def test_plan_items_are_sorted_by_provider_directory_and_user_id():
    items = [
        {"provider": "uipath", "directory": "localhost", "user_id": "b", "actions": ["delete"]},
        {"provider": "atlassian", "directory": "site-b", "user_id": "a"},
        {"provider": "atlassian", "directory": "site-a", "user_id": "z"},
        {"provider": "atlassian", "directory": "site-a", "user_id": None},
        {"provider": "uipath", "directory": "localhost", "user_id": "a"},
    ]
    ordered = _evidence.plan_items(items)
    assert [(item["provider"], item["directory"], item["user_id"]) for item in ordered] == [
        ("atlassian", "site-a", None), ("atlassian", "site-a", "z"), ("atlassian", "site-b", "a"),
        ("uipath", "localhost", "a"), ("uipath", "localhost", "b")]
    assert _evidence.plan_digest(ordered) == oracle.digest(ordered)
    assert _evidence.plan_digest(_evidence.plan_items(reversed(items))) == _evidence.plan_digest(ordered)


def test_report_digest_covers_everything_but_itself_and_the_signature():
    report = report_of(1, previous_report_digest=None, markdown_sha256="0" * 64)
    sealed = dict(report, report_digest="sha256:" + "1" * 64, signature={"value": "x"})
    assert _evidence.report_digest(sealed) == oracle.digest(report) == oracle.report_digest(sealed)
    for field in ("previous_report_digest", "markdown_sha256", "run_id", "leavers"):
        changed = dict(sealed, **{field: "something else"})
        assert _evidence.report_digest(changed) != _evidence.report_digest(sealed), field


# --- keys and signatures ----------------------------------------------------------------------------------

def test_a_signature_verifies_with_the_public_key_alone(signing_key):
    digest = _evidence.digest({"a": 1})
    signature = _evidence.sign(digest, private_pem(signing_key))
    assert signature["algorithm"] == "ed25519"
    assert signature["public_key"] == public_pem(signing_key)
    # Plain cryptography, nothing of _evidence: the published public key and the report_digest's bytes.
    published = serialization.load_pem_public_key(public_pem(signing_key).encode())
    published.verify(base64.b64decode(signature["value"]), digest.encode("utf-8"))
    assert _evidence.verify_signature(digest, signature, public_pem(signing_key))[0]
    ok, detail = _evidence.verify_signature(digest, signature)
    assert ok and "no public key given" in detail


def test_a_signature_fails_on_another_digest_key_or_value(signing_key, other_key):
    digest = _evidence.digest({"a": 1})
    signature = _evidence.sign(digest, private_pem(signing_key))
    ok, detail = _evidence.verify_signature(_evidence.digest({"a": 2}), signature, public_pem(signing_key))
    assert not ok and detail.startswith("signature invalid")
    ok, detail = _evidence.verify_signature(digest, signature, public_pem(other_key))
    assert not ok and "signed with another key" in detail
    forged = dict(signature, public_key=public_pem(other_key))
    ok, detail = _evidence.verify_signature(digest, forged)
    assert not ok and detail.startswith("signature invalid")
    ok, detail = _evidence.verify_signature(digest, dict(signature, value="not base64!"))
    assert not ok and "base64" in detail
    ok, detail = _evidence.verify_signature(digest, dict(signature, algorithm="rsa"))
    assert not ok and "algorithm" in detail


@pytest.mark.parametrize("kind, make, expected", [
    ("rsa", lambda: private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)), "is an RSA key"),
    ("ec", lambda: private_pem(ec.generate_private_key(ec.SECP256R1())), "is an EC key"),
    ("ed448", lambda: private_pem(ed448.Ed448PrivateKey.generate()), "is an Ed448 key"),
    ("public", lambda: public_pem(ed25519.Ed25519PrivateKey.generate()), "a public key"),
    ("encrypted", lambda: private_pem(ed25519.Ed25519PrivateKey.generate(), b"passphrase"), "encrypted"),
    ("garbage", lambda: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "cannot be read"),
    ("text", lambda: "not a key at all, just text", "not PEM"),
    ("empty", lambda: "  ", "is empty"),
])
def test_a_key_that_is_not_an_ed25519_private_key_is_refused_without_showing_it(kind, make, expected, tmp_path):
    key = make()
    with pytest.raises(EvidenceError) as refused:
        _evidence.write_report(str(tmp_path), run_id(1), report_of(1), "# r\n", key)
    message = str(refused.value)
    assert expected in message, kind
    for line in key.strip().splitlines():
        if len(line) >= 8:
            assert line not in message
    assert os.listdir(str(tmp_path)) == [], "a refused key writes nothing"


def test_a_private_key_given_as_the_public_key_is_refused(signing_key):
    with pytest.raises(EvidenceError, match="is a private key; give the public key only"):
        _evidence.load_public_key(private_pem(signing_key))


# --- writing ----------------------------------------------------------------------------------------------

def test_reports_are_chained_signed_and_verify(tmp_path, signing_key):
    written = write_chain(tmp_path, 3, signing_key)
    assert written[0]["previous_report_digest"] is None and written[0]["previous_report"] is None
    for before, after in zip(written, written[1:]):
        assert after["previous_report_digest"] == before["report_digest"]
        assert after["previous_report"] == os.path.basename(before["report_file"])
    for entry in written:
        with open(entry["json_file"], "rb") as handle:
            stored = json.loads(handle.read())
        with open(entry["markdown_file"], "rb") as handle:
            markdown = handle.read()
        assert stored["report_digest"] == entry["report_digest"] == oracle.report_digest(stored)
        assert stored["markdown_sha256"] == entry["markdown_sha256"] == hashlib.sha256(markdown).hexdigest()
        assert stored["signature"]["public_key"] == entry["public_key"] == public_pem(signing_key)
        assert oct(os.stat(entry["json_file"]).st_mode & 0o777) == oct(0o640)
    results = verify(tmp_path, public_pem(signing_key))
    assert failing(results) == {}
    assert "first report of the chain" in results[name_of(0)]["line"]
    assert "follows %s" % name_of(0) in results[name_of(1)]["line"]
    assert "verified with the given public key" in results[name_of(2)]["signature"]
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")]


def test_without_a_public_key_signatures_are_only_self_consistent_and_unsigned_is_said(tmp_path, signing_key):
    write_chain(tmp_path, 1, signing_key)
    write_chain(tmp_path, 1, None, start=1)
    results = verify(tmp_path)
    assert failing(results) == {}
    assert "self-consistent" in results[name_of(0)]["signature"]
    assert results[name_of(1)]["signature"] == "unsigned"


def test_a_report_is_never_overwritten(tmp_path):
    first = write_chain(tmp_path, 1)[0]
    with open(first["json_file"], "rb") as handle:
        before = handle.read()
    with pytest.raises(EvidenceError, match="already exists .* never overwritten and nothing was written"):
        _evidence.write_report(str(tmp_path), run_id(0), report_of(0, leavers=[]), "# other\n")
    with open(first["json_file"], "rb") as handle:
        assert handle.read() == before
    os.unlink(first["json_file"])  # only the Markdown left: still never overwritten
    with pytest.raises(EvidenceError, match="already exists"):
        _evidence.write_report(str(tmp_path), run_id(0), report_of(0), "# other\n")


@pytest.mark.parametrize("report, name, expected", [
    (report_of(1, report_digest="sha256:" + "0" * 64), run_id(1), "already has report_digest"),
    (report_of(1, signature={}), run_id(1), "already has signature"),
    (report_of(1), run_id(2), "is not the name"),
    (report_of(1), "../escape", "is not a run id"),
    (report_of(1), ".hidden", "is not a run id"),
    (report_of(1, value=float("nan")), run_id(1), "cannot be written as JSON"),
    (report_of(1, value={1, 2}), run_id(1), "cannot be written as JSON"),
])
def test_a_report_that_cannot_be_written_writes_nothing(tmp_path, report, name, expected):
    with pytest.raises(EvidenceError, match=expected):
        _evidence.write_report(str(tmp_path), name, report, "# r\n")
    assert [entry for entry in os.listdir(str(tmp_path)) if not entry.startswith(".offboard-reports.lock")] == []


def test_a_report_without_run_id_gets_the_name_and_a_missing_directory_is_made(tmp_path):
    directory = tmp_path / "new" / "reports"
    report = report_of(1)
    del report["run_id"]
    written = _evidence.write_report(str(directory), run_id(1), report, "# r\n")
    with open(written["json_file"], encoding="utf-8") as handle:
        assert json.load(handle)["run_id"] == run_id(1)
    assert oct(os.stat(str(directory)).st_mode & 0o777) == oct(0o750)


def test_concurrent_writers_form_one_chain(tmp_path):
    names = [run_id(index) for index in range(12)]
    random.Random(7).shuffle(names)
    errors = []

    def write(name):
        try:
            _evidence.write_report(str(tmp_path), name, {"run_id": name}, "# %s\n" % name)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    results = verify(tmp_path)
    assert failing(results) == {}
    # One linear chain: every report but the first follows a different report.
    previous = [result["previous_report"] for result in results.values()]
    assert previous.count(None) == 1 and len(set(previous)) == len(previous)


def test_a_run_that_started_first_and_ended_last_follows_the_other_and_verifies(tmp_path):
    write_chain(tmp_path, 1, start=5)
    late = write_chain(tmp_path, 1, start=3)[0]
    assert late["previous_report"] == name_of(5)
    results = verify(tmp_path)
    assert failing(results) == {}
    assert "written after %s, which started later (overlapping runs)" % name_of(5) in results[name_of(3)]["notes"]


def test_a_broken_chain_is_still_continued_with_a_warning(tmp_path):
    written = write_chain(tmp_path, 3)
    os.unlink(written[1]["json_file"])
    os.unlink(written[1]["markdown_file"])
    last = write_chain(tmp_path, 1, start=3)[0]
    assert last["previous_report"] == name_of(2)
    assert any("2 ends" in warning for warning in last["warnings"])
    (tmp_path / (name_of(4) + ".json")).write_text("{")
    following = write_chain(tmp_path, 1, start=5)[0]
    assert following["previous_report"] == name_of(3)
    assert any(warning.startswith("1 report(s) here cannot be chained to") for warning in following["warnings"])


def test_a_directory_of_reports_without_evidence_starts_a_chain_with_a_warning(tmp_path):
    (tmp_path / (name_of(0) + ".json")).write_text(json.dumps({"run_id": run_id(0)}))
    first = write_chain(tmp_path, 1, start=1)[0]
    assert first["previous_report_digest"] is None
    assert first["warnings"] == ["1 report(s) here cannot be chained to (unreadable, only a Markdown file, or "
                                 "without report_digest: %s); run identity.lifecycle.verify_reports; the new report "
                                 "starts a chain" % name_of(0)]


# --- verifying --------------------------------------------------------------------------------------------

def rewrite_json(path, change):
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    change(report)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def test_a_changed_value_is_tampered(tmp_path):
    written = write_chain(tmp_path, 3)
    rewrite_json(written[1]["json_file"], lambda report: report["summary"].update(removed=0))
    assert list(failing(verify(tmp_path))) == [name_of(1)]
    assert failing(verify(tmp_path))[name_of(1)][0].startswith("tampered: its content digests to")


def test_a_recomputed_digest_breaks_the_link_of_the_next_report(tmp_path):
    written = write_chain(tmp_path, 3)

    def forge(report):
        report["summary"]["removed"] = 0
        report["report_digest"] = _evidence.report_digest(report)
    rewrite_json(written[1]["json_file"], forge)
    problems = failing(verify(tmp_path))
    assert list(problems) == [name_of(2)]
    assert problems[name_of(2)][0].startswith("missing before this one")


def test_a_changed_markdown_is_named(tmp_path):
    written = write_chain(tmp_path, 2)
    with open(written[0]["markdown_file"], "ab") as handle:
        handle.write(b"removed nobody\n")
    problems = failing(verify(tmp_path))
    assert list(problems) == [name_of(0)]
    assert problems[name_of(0)][0].startswith("Markdown changed: %s.md has sha256" % name_of(0))


def test_a_removed_report_is_missing_before_the_next(tmp_path):
    written = write_chain(tmp_path, 4)
    os.unlink(written[1]["json_file"])
    os.unlink(written[1]["markdown_file"])
    problems = failing(verify(tmp_path))
    assert list(problems) == [name_of(2)]
    assert problems[name_of(2)] == [
        "missing before this one: no report here has the report_digest %s that it names as its previous "
        "(that report was removed or changed)" % written[1]["report_digest"]]


def test_a_removed_json_or_markdown_file_is_named(tmp_path):
    written = write_chain(tmp_path, 3)
    os.unlink(written[0]["markdown_file"])
    os.unlink(written[1]["json_file"])
    problems = failing(verify(tmp_path))
    assert problems[name_of(0)] == ["its Markdown %s.md is missing" % name_of(0)]
    assert problems[name_of(1)] == ["its JSON report %s.json is missing (only the Markdown is here)" % name_of(1)]
    assert problems[name_of(2)][0].startswith("missing before this one")


def test_swapped_names_are_renamed(tmp_path):
    write_chain(tmp_path, 3)
    for suffix in (".json", ".md"):
        first, second = (str(tmp_path / (name_of(index) + suffix)) for index in (0, 2))
        os.rename(first, first + ".swap")
        os.rename(second, first)
        os.rename(first + ".swap", second)
    problems = failing(verify(tmp_path))
    assert sorted(problems) == [name_of(0), name_of(2)]
    assert "renamed or out of order: the file is %s.json but its run_id says %s" % (name_of(0), name_of(2)) in \
        problems[name_of(0)]


def test_a_chain_that_restarts_or_branches_is_named(tmp_path):
    written = write_chain(tmp_path, 2)
    # A report written as if the directory were empty, and one following the first again: both by hand,
    # as a writer without the lock (or a forger) would.
    for index, previous in ((2, None), (3, written[0]["report_digest"])):
        sealed = _evidence.seal(report_of(index), b"# r\n", previous)
        (tmp_path / (name_of(index) + ".md")).write_bytes(b"# r\n")
        (tmp_path / (name_of(index) + ".json")).write_bytes(_evidence.report_json_bytes(sealed))
    problems = failing(verify(tmp_path))
    assert sorted(problems) == [name_of(2), name_of(3)]
    assert problems[name_of(2)][0].startswith("the chain restarts here")
    assert problems[name_of(3)] == ["out of order: %s already follows %s; two reports follow the same one (the "
                                    "chain branches)" % (name_of(1), name_of(0))]


def test_signatures_against_a_given_key(tmp_path, signing_key, other_key):
    write_chain(tmp_path, 1, signing_key)
    write_chain(tmp_path, 1, other_key, start=1)
    write_chain(tmp_path, 1, None, start=2)
    problems = failing(verify(tmp_path, public_pem(signing_key)))
    assert sorted(problems) == [name_of(1), name_of(2)]
    assert problems[name_of(1)][0].startswith("signed with another key")
    assert problems[name_of(2)] == ["unsigned, but a public key was given: every report must be signed"]


def test_a_removed_or_replaced_signature_is_named(tmp_path, signing_key, other_key):
    written = write_chain(tmp_path, 2, signing_key)
    rewrite_json(written[0]["json_file"], lambda report: report.pop("signature"))
    forged = _evidence.sign(written[1]["report_digest"], private_pem(other_key))
    rewrite_json(written[1]["json_file"], lambda report: report["signature"].update(value=forged["value"]))
    problems = failing(verify(tmp_path, public_pem(signing_key)))
    assert problems[name_of(0)] == ["unsigned, but a public key was given: every report must be signed"]
    assert problems[name_of(1)][0].startswith("signature invalid")
    assert failing(verify(tmp_path)) == {name_of(1): problems[name_of(1)]}


def test_unreadable_and_legacy_reports_are_named(tmp_path):
    write_chain(tmp_path, 1)
    (tmp_path / (name_of(1) + ".json")).write_text('{"run_id": "a", "run_id": "b"}')
    (tmp_path / (name_of(1) + ".md")).write_text("# r\n")
    (tmp_path / (name_of(2) + ".json")).write_text(json.dumps({"run_id": run_id(2), "leavers": []}))
    (tmp_path / (name_of(2) + ".md")).write_text("# r\n")
    (tmp_path / "notes.json").write_text("{}")  # not a report: not looked at
    problems = failing(verify(tmp_path))
    assert sorted(problems) == [name_of(1), name_of(2)]
    assert "duplicate key 'run_id'" in problems[name_of(1)][0]
    assert problems[name_of(2)][0].startswith("no report_digest")


def test_a_directory_without_reports_is_an_error(tmp_path):
    with pytest.raises(EvidenceError, match="no offboarding reports"):
        _evidence.verify_directory(str(tmp_path))
    with pytest.raises(EvidenceError, match="does not exist"):
        _evidence.verify_directory(str(tmp_path / "nowhere"))


def test_a_wrong_public_key_fails_before_any_report(tmp_path, signing_key):
    write_chain(tmp_path, 1, signing_key)
    with pytest.raises(EvidenceError, match="is a private key"):
        _evidence.verify_directory(str(tmp_path), private_pem(signing_key))
    with pytest.raises(EvidenceError, match="is empty"):
        _evidence.verify_directory(str(tmp_path), "")


# --- properties -------------------------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers(-10 ** 12, 10 ** 12) | TEXT | st.floats(allow_nan=False,
                                                                                          allow_infinity=False)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                      max_leaves=20)


def reordered(value, rng):
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return dict((key, reordered(value[key], rng)) for key in keys)
    if isinstance(value, list):
        return [reordered(item, rng) for item in value]
    return value


@PROPERTY
@given(value=VALUES, seed=st.integers(0, 2 ** 32))
def test_property_digests_do_not_depend_on_key_order(value, seed):
    assert _evidence.digest(reordered(value, random.Random(seed))) == _evidence.digest(value)
    # What a reader parses back from the written form digests the same.
    assert _evidence.digest(json.loads(json.dumps(value))) == _evidence.digest(value)
    # The same digest as a second implementation of the interface's formula (tests/evidence_oracle.py).
    assert _evidence.digest(value) == oracle.digest(value)


@PROPERTY
@given(data=st.data(), which=st.sampled_from([".json", ".md"]), extra=VALUES)
def test_property_any_single_byte_change_is_detected(tmp_path_factory, data, which, extra):
    directory = tmp_path_factory.mktemp("reports")
    write_chain(directory, 1)
    _evidence.write_report(str(directory), run_id(1), report_of(1, extra=extra), "# report 1 \u00e9\n")
    path = str(directory / (name_of(1) + which))
    with open(path, "rb") as handle:
        content = bytearray(handle.read())
    position = data.draw(st.integers(0, len(content) - 1), label="position")
    content[position] = data.draw(st.integers(0, 255).filter(lambda byte: byte != content[position]), label="byte")
    with open(path, "wb") as handle:
        handle.write(bytes(content))
    problems = failing(verify(directory))
    assert name_of(1) in problems, "byte %d of %s changed and not detected" % (position, which)
    assert name_of(0) not in problems


@PROPERTY
@given(length=st.integers(2, 8), data=st.data())
def test_property_a_removed_report_is_detected_but_the_newest(tmp_path_factory, length, data):
    directory = tmp_path_factory.mktemp("reports")
    written = write_chain(directory, length)
    removed = data.draw(st.integers(0, length - 1), label="removed")
    os.unlink(written[removed]["json_file"])
    os.unlink(written[removed]["markdown_file"])
    problems = failing(verify(directory))
    if removed == length - 1:
        # The documented limit: the chain alone cannot show that its newest reports are gone.
        assert problems == {}
    else:
        assert list(problems) == [name_of(removed + 1)]
        assert problems[name_of(removed + 1)][0].startswith("missing before this one")


@PROPERTY
@given(length=st.integers(2, 8), data=st.data())
def test_property_two_swapped_reports_are_detected(tmp_path_factory, length, data):
    directory = tmp_path_factory.mktemp("reports")
    write_chain(directory, length)
    first = data.draw(st.integers(0, length - 2), label="first")
    second = data.draw(st.integers(first + 1, length - 1), label="second")
    for suffix in (".json", ".md"):
        one, other = (str(directory / (name_of(index) + suffix)) for index in (first, second))
        os.rename(one, one + ".swap")
        os.rename(other, one)
        os.rename(one + ".swap", other)
    problems = failing(verify(directory))
    assert sorted(problems) == sorted([name_of(first), name_of(second)])
    for index in (first, second):
        assert any(problem.startswith("renamed or out of order") for problem in problems[name_of(index)])


# --- bounds, and the checks before a run changes anything ----------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("[" * 100000 + "]" * 100000, "nested deeper than 64 levels"),
    ('{"a": ' * 65 + "1" + "}" * 65, "nested deeper than 64 levels (at $.a.a."),
    ('{"report": "\\ud800"}', "a string at $.report is not Unicode text: a lone surrogate (\\ud800)"),
    ('{"\\udfff": 1}', "a key at $ is not Unicode text: a lone surrogate (\\udfff)"),
    ('{"a": [1, {"b": "\\ud83d"}]}', "a string at $.a[1].b is not Unicode text"),
])
def test_a_report_beyond_the_bounds_or_not_unicode_is_refused_saying_why(text, expected):
    with pytest.raises(ValueError) as raised:
        _evidence.parse_report(text.encode("ascii"))
    assert expected in str(raised.value)
    str(raised.value).encode("utf-8")  # the message itself can be shown
    # A surrogate pair is a character, and 64 levels are a report's.
    assert _evidence.parse_report(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    _evidence.parse_report(('{"a": ' * 63 + "1" + "}" * 63).encode("ascii"))


def test_a_file_larger_than_a_report_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_evidence, "MAX_REPORT_BYTES", 100)
    path = tmp_path / (name_of(0) + ".json")
    path.write_text(json.dumps({"run_id": run_id(0), "padding": "x" * 200}))
    with pytest.raises(ValueError, match="larger than 100 bytes"):
        _evidence.read_report_file(str(path))
    results = _evidence.verify_reports(_evidence.read_directory(str(tmp_path)))
    assert results[0]["line"].startswith("%s: FAILED - %s.json is not a readable JSON report (larger than 100 bytes"
                                         % (name_of(0), name_of(0)))


def test_the_verifier_names_every_report_it_cannot_read_and_checks_the_others(tmp_path):
    write_chain(tmp_path, 2)
    (tmp_path / (name_of(2) + ".json")).write_text('{"report": "\\ud800", "run_id": "%s"}' % run_id(2))
    (tmp_path / (name_of(3) + ".json")).write_text("[" * 100000 + "]" * 100000)
    results = _evidence.verify_directory(str(tmp_path))
    assert [result["ok"] for result in results] == [True, True, False, False]
    assert "a lone surrogate (\\ud800)" in results[2]["line"] and "nested deeper than" in results[3]["line"]
    for result in results:
        result["line"].encode("utf-8")


def test_a_public_key_given_as_null_or_blank_is_an_error(tmp_path, signing_key):
    write_chain(tmp_path, 1, signing_key)
    for value, said in ((None, "null"), ("", "blank"), ("  \n", "blank")):
        with pytest.raises(EvidenceError, match="offboard_verify_public_key is given but empty \\(%s\\)" % said):
            _evidence.verify_directory(str(tmp_path), value, "offboard_verify_public_key")
    assert _evidence.verify_directory(str(tmp_path), public_pem(signing_key), "offboard_verify_public_key")[0]["ok"]
    # Not given at all: each signature is checked against the key it carries, and the line says so.
    assert "no public key given" in _evidence.verify_directory(str(tmp_path))[0]["line"]


def test_the_check_before_a_run_finds_what_would_keep_its_report_from_being_written(tmp_path, signing_key):
    directory = tmp_path / "reports"
    problems, details = _evidence.check_report_directory(str(directory), run_id(5), private_pem(signing_key))
    assert problems == [] and directory.is_dir() and details["reports"] == 0
    assert oct(os.stat(str(directory)).st_mode & 0o777) == oct(_evidence.DIRECTORY_MODE)
    assert details["key_fingerprint"] == _evidence.key_fingerprint(signing_key.public_key())
    assert not [name for name in os.listdir(str(directory)) if name != _evidence.LOCK_NAME]
    write_chain(directory, 2)
    assert _evidence.check_report_directory(str(directory), run_id(5))[0] == []
    # A public key where the signing key belongs, a report that cannot be read, this run's name taken.
    (directory / (name_of(2) + ".json")).write_text("[" * 100000 + "]" * 100000)
    problems, _details = _evidence.check_report_directory(str(directory), run_id(1), public_pem(signing_key))
    assert problems[0] == "the signing key is a public key or certificate, not an Ed25519 private key in PEM"
    assert problems[1].startswith("%s cannot be read as a report (nested deeper than 64 levels"
                                  % (directory / (name_of(2) + ".json")))
    assert problems[2] == ("%s already exists (another run with the same run id?); a report is never overwritten"
                           % (directory / (name_of(1) + ".json")))
    assert len(problems) == 4
    (directory / (name_of(2) + ".json")).unlink()
    # A lock file that cannot be opened: written nothing, named.
    (directory / _evidence.LOCK_NAME).unlink()
    (directory / _evidence.LOCK_NAME).mkdir()
    problems, _details = _evidence.check_report_directory(str(directory), run_id(5))
    assert problems == ["cannot open the lock file %s (Is a directory); the reports' chain needs it, writable by "
                        "this user: remove it or make it writable by this user (in a shared directory with the "
                        "sticky bit, only its owner can)" % (directory / _evidence.LOCK_NAME)]
    with pytest.raises(EvidenceError, match="cannot open the lock file"):
        _evidence.write_report(str(directory), run_id(5), report_of(5), "# r\n")
    assert not (directory / (name_of(5) + ".md")).exists()
    # Not a directory.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _evidence.check_report_directory(str(blocker))[0] == ["the report directory %s is not a directory" % blocker]
