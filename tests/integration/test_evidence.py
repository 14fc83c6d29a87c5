# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tamper evidence with real ansible-playbook runs: identity.lifecycle.offboard_report writes chains of
reports (signed and unsigned, in check mode too), identity.lifecycle.verify_reports checks them, passes on
a sound directory and names every report that was tampered with, had its Markdown edited, was removed,
renamed or signed with another key. Keys are made here with cryptography; the signing key lives in one file
of the test (where a user keeps it) and must show in no output (-vvvv included) and no other file.
"""

from __future__ import annotations

import base64
import json
import os
import shutil

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.evidence_oracle import fingerprint, report_digest

VERIFY = "identity.lifecycle.verify_reports"


def run_id(index, suffix=""):
    return "20261204T10%02d00.%03dZ%s" % (index, index * 7 % 1000, suffix)


def name_of(index, suffix=""):
    return "offboard-" + run_id(index, suffix)


class Keys:
    """An Ed25519 signing key kept in <tmp>/keys/offboard-signing.pem, its public key published beside it."""

    def __init__(self, tmp_path, guard, name="offboard-signing"):
        key = ed25519.Ed25519PrivateKey.generate()
        self.private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()
        self.public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        directory = tmp_path / "keys"
        directory.mkdir(exist_ok=True)
        self.private_file = str(directory / (name + ".pem"))
        self.public_file = str(directory / (name + ".pub"))
        with open(self.private_file, "w", encoding="ascii") as handle:
            handle.write(self.private)
        with open(self.public_file, "w", encoding="ascii") as handle:
            handle.write(self.public)
        guard_secret(guard, self.private, "the signing key %s" % name)
        guard.inputs.add(os.path.realpath(self.private_file))


def guard_secret(guard, pem, what):
    """The whole PEM and its base64 body (the key material itself) are secrets for the suite's scan."""
    guard.given[pem] = what
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    guard.given[body] = what + " (its base64 body)"


@pytest.fixture
def keys(tmp_path, suite_guard):
    return Keys(tmp_path, suite_guard)


def report(index, suffix=""):
    return {"report": "identity.lifecycle offboarding report", "run_id": run_id(index, suffix),
            "check_mode": suffix == "-check", "state": "absent",
            "leavers": [{"email": "zoe.%d@example.com" % index, "name": "Zoë Ångström"}],
            "summary": {"removed": index}}


def write_task(directory, index, suffix="", signing_key=None):
    task = {"name": "Write report %d%s" % (index, suffix),
            "identity.lifecycle.offboard_report": {
                "path": directory, "name": run_id(index, suffix), "report": report(index, suffix),
                "markdown": "# Offboarding report %s\n\n| Leaver | Outcome |\n|---|---|\n| Zoë | removed |\n"
                            % run_id(index, suffix)}}
    if signing_key:
        task["identity.lifecycle.offboard_report"]["signing_key"] = signing_key
    return task


def write_reports(ansible, directory, indexes, env_key=None, signing_key=None, **kwargs):
    """Writes one report per index, in that order, in one playbook run; the key from OFFBOARD_SIGNING_KEY
    (env_key, or empty: unsigned) or the task's signing_key."""
    result = ansible.tasks([write_task(directory, index, signing_key=signing_key) for index in indexes],
                           env={"OFFBOARD_SIGNING_KEY": env_key or ""}, **kwargs)
    assert result.returncode == 0, result.output[-3000:]
    return [result.task("Write report %d" % index) for index in indexes]


def verify_reports(ansible, directory, public_key=None, **kwargs):
    extra_vars = {"offboard_report_dir": directory}
    if public_key is not None:
        extra_vars["offboard_verify_public_key"] = public_key
    result = ansible.run(VERIFY, extra_vars=extra_vars, **kwargs)
    lines = result.task("Show one line per report")["msg"] if result.returncode == 0 or \
        "Show one line per report" in result.stdout else []
    return result, lines


def failure_message(result):
    return result.task("Fail naming each report that does not verify")["msg"]


def line_of(lines, name):
    found = [line for line in lines if line.startswith(name + ":")]
    assert len(found) == 1, (name, lines)
    return found[0]


def test_signed_chain_verifies_and_every_damage_is_named(ansible, tmp_path, keys):
    directory = str(tmp_path / "reports")
    # A rehearsal writes its report in check mode (it is evidence) and it counts as no change.
    rehearsal = ansible.tasks([write_task(directory, 0, "-check")], env={"OFFBOARD_SIGNING_KEY": keys.private},
                              check=True)
    assert rehearsal.returncode == 0, rehearsal.output[-3000:]
    first = rehearsal.task("Write report 0-check")
    assert first["changed"] is False and first["signed"] is True and first["previous_report_digest"] is None
    assert os.path.isfile(os.path.join(directory, name_of(0, "-check") + ".json"))
    # The key from the environment (as AWX injects it), then from the task (as from a vault), with -vvvv.
    written = write_reports(ansible, directory, range(1, 5), env_key=keys.private)
    verbose = ansible.tasks([write_task(directory, index, signing_key="{{ lookup('ansible.builtin.file', %r) }}"
                                        % keys.private_file) for index in range(5, 8)],
                            env={"OFFBOARD_SIGNING_KEY": ""}, verbosity=4, callback="default")
    assert verbose.returncode == 0, verbose.output[-3000:]
    stored = {}
    for index in range(0, 8):
        name = name_of(index, "-check" if index == 0 else "")
        with open(os.path.join(directory, name + ".json"), encoding="utf-8") as handle:
            stored[index] = json.load(handle)
    for index in range(8):
        # Each digest is its report's content's, computed here without the collection (tests/evidence_oracle.py).
        assert stored[index]["report_digest"] == report_digest(stored[index])
    for index in range(1, 8):
        assert stored[index]["previous_report_digest"] == stored[index - 1]["report_digest"]
        assert stored[index]["signature"]["public_key"] == keys.public
    returned = [entry["report_digest"] for entry in [first] + written]
    assert returned == [stored[index]["report_digest"] for index in range(5)]

    # A signature verifies with the published public key alone (plain cryptography, nothing of the collection).
    with open(keys.public_file, "rb") as handle:
        published = serialization.load_pem_public_key(handle.read())
    for index in range(8):
        published.verify(base64.b64decode(stored[index]["signature"]["value"]),
                         stored[index]["report_digest"].encode("utf-8"))

    result, lines = verify_reports(ansible, directory, keys.public)
    assert result.returncode == 0, result.output[-3000:]
    assert len(lines) == 8
    assert line_of(lines, name_of(0, "-check")).endswith(
        "OK - first report of the chain; signature verified with the given public key %s" % fingerprint(keys.public))
    assert line_of(lines, name_of(3)).startswith("%s: OK - follows %s;" % (name_of(3), name_of(2)))
    verbose = ansible.run(VERIFY, extra_vars={"offboard_report_dir": directory,
                                              "offboard_verify_public_key": keys.public},
                          verbosity=4, callback="default")
    assert verbose.returncode == 0 and all(line in verbose.stdout for line in lines), verbose.output[-3000:]

    # Damage, each of its own kind, to a copy of the directory.
    damaged = str(tmp_path / "damaged")
    shutil.copytree(directory, damaged)
    path = os.path.join(damaged, name_of(1) + ".json")
    with open(path, encoding="utf-8") as handle:
        stored = json.load(handle)
    stored["summary"]["removed"] = 0
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(stored, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    with open(os.path.join(damaged, name_of(2) + ".md"), "a", encoding="utf-8") as handle:
        handle.write("| Omar | kept |\n")
    for suffix in (".json", ".md"):
        os.unlink(os.path.join(damaged, name_of(4) + suffix))
    for suffix in (".json", ".md"):
        one, other = (os.path.join(damaged, name_of(index) + suffix) for index in (6, 7))
        os.rename(one, one + ".swap")
        os.rename(other, one)
        os.rename(one + ".swap", other)
    other_key = Keys(tmp_path, ansible.guard, "another-key")
    write_reports(ansible, damaged, [8], env_key=other_key.private)

    result, lines = verify_reports(ansible, damaged, keys.public)
    assert result.returncode != 0
    assert len(lines) == 8
    failing = [name_of(index) for index in (1, 2, 5, 6, 7, 8)]
    for index in (0, 3):
        name = name_of(index, "-check" if index == 0 else "")
        assert line_of(lines, name).startswith(name + ": OK")
    assert line_of(lines, name_of(1)).startswith(name_of(1) + ": FAILED - tampered: its content digests to")
    assert line_of(lines, name_of(2)).startswith(name_of(2) + ": FAILED - Markdown changed: %s.md" % name_of(2))
    assert line_of(lines, name_of(5)) == (
        "%s: FAILED - missing before this one: no report here has the report_digest %s that it names as its "
        "previous (that report was removed or changed)" % (name_of(5), written[3]["report_digest"]))
    for index, other in ((6, 7), (7, 6)):
        assert "renamed or out of order: the file is %s.json but its run_id says %s" % (
            name_of(index), name_of(other)) in line_of(lines, name_of(index))
    assert "signed with another key (%s), not the given public key (%s)" % (
        other_key_fingerprint(damaged), fingerprint(keys.public)) in line_of(lines, name_of(8))
    message = failure_message(result)
    assert message.startswith("6 of 8 report(s) in %s do not verify: " % damaged)
    for name in failing:
        assert "%s (" % name in message

    # Without the public key, only the signatures' own consistency is checked: the other key passes then.
    result, lines = verify_reports(ansible, damaged)
    assert result.returncode != 0
    assert "no public key given" in line_of(lines, name_of(8)) and ": OK" in line_of(lines, name_of(8))


def other_key_fingerprint(directory):
    with open(os.path.join(directory, name_of(8) + ".json"), encoding="utf-8") as handle:
        signature = json.load(handle)["signature"]
    return fingerprint(signature["public_key"])


def test_unsigned_chain_verifies_without_a_key_and_fails_with_one(ansible, tmp_path, keys):
    # Relative to where ansible-playbook runs, as the role takes offboard_report_dir.
    written = write_reports(ansible, "reports", range(3))
    assert [entry["signed"] for entry in written] == [False] * 3
    assert written[0]["json_file"] == os.path.join(ansible.workdir, "reports", name_of(0) + ".json")
    env = {"PWD": ansible.workdir}
    result, lines = verify_reports(ansible, "reports", env=env)
    assert result.returncode == 0, result.output[-3000:]
    assert [line.split(":")[0] for line in lines] == [name_of(index) for index in range(3)]
    assert all(line.endswith("; unsigned") for line in lines), lines
    result, lines = verify_reports(ansible, "reports", keys.public, env=env)
    assert result.returncode != 0
    message = failure_message(result)
    for index in range(3):
        assert "%s (unsigned, but a public key was given: every report must be signed)" % name_of(index) in message


def test_a_report_is_never_overwritten_and_a_wrong_key_writes_nothing(ansible, tmp_path, keys):
    directory = str(tmp_path / "reports")
    write_reports(ansible, directory, [1], env_key=keys.private)
    before = open(os.path.join(directory, name_of(1) + ".json"), "rb").read()
    again = ansible.tasks([write_task(directory, 1)], env={"OFFBOARD_SIGNING_KEY": keys.private})
    assert again.returncode != 0
    assert "already exists (another run with the same run id?); a report is never overwritten" in \
        again.task("Write report 1")["msg"]
    assert open(os.path.join(directory, name_of(1) + ".json"), "rb").read() == before

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    guard_secret(ansible.guard, rsa_key, "an RSA key given as the signing key")
    refused = ansible.tasks([write_task(directory, 2)], env={"OFFBOARD_SIGNING_KEY": rsa_key}, verbosity=4,
                            callback="default")
    assert refused.returncode != 0
    assert "the signing key is an RSA key, not an Ed25519 key (make one with: openssl genpkey -algorithm ed25519)" \
        in refused.stdout
    assert not os.path.exists(os.path.join(directory, name_of(2) + ".json"))
    assert not os.path.exists(os.path.join(directory, name_of(2) + ".md"))


def test_verify_reports_refuses_an_empty_directory_and_a_private_key(ansible, tmp_path, keys):
    directory = tmp_path / "empty"
    directory.mkdir()
    result, _lines = verify_reports(ansible, str(directory))
    assert result.returncode != 0
    assert "no offboarding reports (offboard-*.json) in %s" % directory in \
        result.task("Check every report in the directory")["msg"]
    write_reports(ansible, str(directory), [1], env_key=keys.private)
    # From a vars file: ansible-playbook -vvvv itself prints what -e gives on the command line.
    mistaken = str(tmp_path / "keys" / "verify-vars.json")
    with open(mistaken, "w", encoding="ascii") as handle:
        json.dump({"offboard_report_dir": str(directory), "offboard_verify_public_key": keys.private}, handle)
    ansible.guard.inputs.add(os.path.realpath(mistaken))
    result = ansible.run(VERIFY, args=["-e", "@" + mistaken], verbosity=4, callback="default")
    assert result.returncode != 0
    assert "offboard_verify_public_key is a private key; give the public key only" in result.stdout


def test_the_public_key_is_given_as_a_file_the_way_a_shell_passes_it(ansible, tmp_path, keys):
    # A PEM key in a key=value extra var is split at its spaces by ansible-playbook: the file variable is
    # what a shell command line can pass.
    directory = str(tmp_path / "reports")
    write_reports(ansible, directory, [0, 1], env_key=keys.private)
    # A relative file is where ansible-playbook was started, as offboard_report_dir is.
    shutil.copy(keys.public_file, os.path.join(ansible.workdir, "offboard-signing.pub"))
    result = ansible.run(VERIFY, env={"PWD": ansible.workdir},  # a shell sets PWD to where it runs the command
                         args=["-e", "offboard_report_dir=%s" % directory,
                               "-e", "offboard_verify_public_key_file=offboard-signing.pub"])
    assert result.returncode == 0, result.output[-3000:]
    lines = result.task("Show one line per report")["msg"]
    assert len(lines) == 2 and all("signature verified with the given public key" in line for line in lines)


def role_run(ansible, env, check=False, **extra_vars):
    from .test_offboard_role import LEAVERS
    variables = {"offboard_users": LEAVERS}
    variables.update(extra_vars)
    return ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir),
                       check=check)


def test_a_signing_key_that_cannot_sign_stops_the_run_before_any_request(ansible, serve, keys):
    # Issue 18, finding 11: the public key given as OFFBOARD_SIGNING_KEY (a plausible mix-up) was found only
    # when the report was written, after every account change.
    from .test_offboard_role import atlassian, names
    simulator, env = atlassian(serve)
    before = names(simulator)
    # Given where a secret goes, the public key counts as one for the suite's scan: its own file is an input.
    ansible.guard.inputs.add(os.path.realpath(keys.public_file))
    refused = role_run(ansible, dict(env, OFFBOARD_SIGNING_KEY=keys.public))
    assert refused.returncode != 0
    assert "the signing key is a public key or certificate, not an Ed25519 private key in PEM" in refused.output, \
        refused.output[-3000:]
    assert "nothing was sent to any provider" in refused.output
    assert simulator.requests() == [] and names(simulator) == before
    assert not glob_reports(ansible.workdir)
    # In an approved run too: before the pass with reads only.
    rehearsal = role_run(ansible, env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output[-3000:]
    mark = len(simulator.requests())
    approved = role_run(ansible, dict(env, OFFBOARD_SIGNING_KEY=keys.public),
                        offboard_approved_plan=glob_reports(ansible.workdir)[0])
    assert approved.returncode != 0 and "the signing key is a public key" in approved.output
    assert simulator.requests()[mark:] == [] and names(simulator) == before


def glob_reports(workdir):
    directory = os.path.join(workdir, "offboard-reports")
    return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                  if name.startswith("offboard-") and name.endswith(".json")) if os.path.isdir(directory) else []


def test_a_report_directory_whose_history_or_lock_cannot_be_used_stops_the_run_before_any_request(ansible, serve):
    # Issue 18, finding 12: a malformed report in the directory crashed the writer after the changes, without
    # naming the file; a lock file that cannot be opened raised an unhandled error.
    from .test_offboard_role import atlassian, names
    simulator, env = atlassian(serve)
    before = names(simulator)
    directory = os.path.join(ansible.workdir, "offboard-reports")
    os.mkdir(directory)
    nested = os.path.join(directory, "offboard-20261201T000000.000Z.json")
    with open(nested, "w", encoding="ascii") as handle:
        handle.write("[" * 100000 + "]" * 100000)
    refused = role_run(ansible, env)
    assert refused.returncode != 0
    assert "offboard-20261201T000000.000Z.json cannot be read as a report (nested deeper than" in refused.output, \
        refused.output[-3000:]
    assert "nothing was sent to any provider" in refused.output
    assert simulator.requests() == []
    os.unlink(nested)
    # The lock file cannot be opened (here a directory in its place; a file of another user in a shared
    # directory with the sticky bit fails the same way).
    os.unlink(os.path.join(directory, ".offboard-reports.lock"))  # left by the check, as by any writer
    os.mkdir(os.path.join(directory, ".offboard-reports.lock"))
    locked = role_run(ansible, env)
    assert locked.returncode != 0
    assert "cannot open the lock file %s/.offboard-reports.lock" % directory in locked.output, locked.output[-3000:]
    assert simulator.requests() == [] and names(simulator) == before
    assert not glob_reports(ansible.workdir)


def test_verify_reports_names_every_report_it_cannot_read(ansible, tmp_path):
    # Issue 18, finding 15: a lone surrogate or deep nesting in one report stopped the verifier with a codec
    # or recursion error and no line per report.
    directory = str(tmp_path / "reports")
    write_reports(ansible, directory, [1, 2])
    with open(os.path.join(directory, name_of(3) + ".json"), "w", encoding="ascii") as handle:
        handle.write('{"report": "\\ud800", "run_id": "%s"}' % run_id(3))
    with open(os.path.join(directory, name_of(4) + ".json"), "w", encoding="ascii") as handle:
        handle.write("[" * 100000 + "]" * 100000)
    with open(os.path.join(directory, name_of(5) + ".json"), "w", encoding="ascii") as handle:
        handle.write('{"a": ' * 200 + "1" + "}" * 200)
    result, lines = verify_reports(ansible, directory)
    assert result.returncode != 0
    assert len(lines) == 5, result.output[-3000:]
    assert line_of(lines, name_of(1)).startswith(name_of(1) + ": OK")
    assert line_of(lines, name_of(2)).startswith(name_of(2) + ": OK")
    assert line_of(lines, name_of(3)).startswith(
        "%s: FAILED - %s.json is not a readable JSON report (a string at $.report is not Unicode text: a lone "
        "surrogate" % (name_of(3), name_of(3)))
    for index in (4, 5):
        assert line_of(lines, name_of(index)).startswith(
            "%s: FAILED - %s.json is not a readable JSON report (nested deeper than" % (name_of(index), name_of(index)))
    message = failure_message(result)
    assert message.startswith("3 of 5 report(s) in %s do not verify: " % directory)


@pytest.mark.parametrize("variables", [{"offboard_verify_public_key": None}, {"offboard_verify_public_key": ""},
                                       {"offboard_verify_public_key_file": None}])
def test_verify_reports_refuses_a_public_key_given_as_null_or_empty(ansible, tmp_path, keys, variables):
    # Issue 18, finding 16: a public key given as null read as "no public key given", and every line read OK.
    directory = str(tmp_path / "reports")
    write_reports(ansible, directory, [1], env_key=keys.private)
    result = ansible.run(VERIFY, extra_vars=dict(variables, offboard_report_dir=directory))
    assert result.returncode != 0
    name = list(variables)[0]
    assert "%s is given but empty" % name in result.output, result.output[-3000:]
    assert "no public key given" not in result.output
