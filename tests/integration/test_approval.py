# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plans, approval and evidence in the offboard role, with real ansible-playbook runs against the Atlassian
simulator: a rehearsal's plan and digest, a real run bound to it (exactly the plan removed; a drift refused
with nothing changed; offboard_require_approval; a wrong digest; a partial run that converges when run
again), every change read again afterwards, and signed reports that verify_reports checks with the public
key alone, the signing key never shown."""

from __future__ import annotations

import glob
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.evidence_oracle import digest, fingerprint, report_digest

from .test_offboard_role import DIRECTORY, LEAVERS, atlassian, names, person

EVERYONE = ["dana.lee@example.com", "mei.chen@example.com", "omar.haddad@example.com", "sam.taylor@example.com"]


def offboard(ansible, env, check=False, verbosity=0, **extra_vars):
    variables = {"offboard_users": LEAVERS}
    variables.update(extra_vars)
    return ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir),
                       check=check, verbosity=verbosity, callback="json" if not verbosity else "default")


def report_files(workdir):
    return sorted(glob.glob(os.path.join(workdir, "offboard-reports", "offboard-*.json")))


def newest(workdir):
    """(path, JSON report, Markdown text) of the report written last."""
    path = max(report_files(workdir), key=os.path.getmtime)
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    with open(path[:-len(".json")] + ".md", encoding="utf-8") as handle:
        return path, report, handle.read()


def rehearse(ansible, env):
    result = offboard(ansible, env, check=True)
    assert result.returncode == 0, result.output
    return newest(ansible.workdir)


def changing(simulator, since=0):
    return [(entry["method"], entry["path"]) for entry in simulator.requests()[since:] if entry.get("changing")]


def results(report, outcome=None):
    """{leaver email: the Atlassian result} of a report."""
    return dict((leaver["email"], leaver["results"]["atlassian"]) for leaver in report["leavers"]
                if outcome is None or leaver["results"]["atlassian"]["outcome"] == outcome)


def reassign(simulator, old_id, new_id, user_name):
    """Between approval and the real run, the name comes to mean another person."""
    with simulator.lock:
        directory = simulator.directories[DIRECTORY]
        del directory["users"][old_id]
        simulator._store_user(DIRECTORY, directory, person(new_id, user_name))  # pylint: disable=protected-access


def test_a_rehearsal_plans_and_the_approved_run_removes_exactly_the_plan(ansible, serve):
    simulator, env = atlassian(serve)
    path, rehearsal, markdown = rehearse(ansible, env)
    assert [(item["user_id"], item["leaver"], item["actions"]) for item in rehearsal["plan"]] == [
        ("a-dana", "dana.lee@example.com", ["deleted"]), ("a-mei", "mei.chen@example.com", ["deleted"]),
        ("a-omar", "omar.haddad@example.com", ["deleted"])]
    assert {item["provider"] for item in rehearsal["plan"]} == {"atlassian"}
    assert rehearsal["plan_digest"] == digest(rehearsal["plan"])
    # The digest is what the approver signs off: first thing in the Markdown.
    assert markdown.splitlines()[2] == "**Plan digest: %s**" % rehearsal["plan_digest"]

    mark = len(simulator.requests())
    real = offboard(ansible, env, offboard_approved_plan=path, offboard_approved_plan_digest=rehearsal["plan_digest"])
    assert real.returncode == 0, real.output
    assert names(simulator) == ["sam.taylor@example.com"]
    # The changes went to the ids the rehearsal found, and only to them.
    assert sorted(changing(simulator, mark)) == [("DELETE", "/scim/directory/%s/Users/%s" % (DIRECTORY, user_id))
                                                 for user_id in ("a-dana", "a-mei", "a-omar")]
    _path, report, markdown = newest(ansible.workdir)
    assert report["check_mode"] is False
    assert [(item["user_id"], item["actions"]) for item in report["plan"]] == [
        (item["user_id"], item["actions"]) for item in rehearsal["plan"]]
    assert report["approval"]["result"] == "approved"
    assert report["approval"]["approved_plan_digest"] == rehearsal["plan_digest"]
    assert report["approval"]["not_approved"] == [] and report["approval"]["changed_outside_plan"] == []
    assert {email: result["verified_absent"] for email, result in results(report, "removed").items()} == {
        "dana.lee@example.com": True, "omar.haddad@example.com": True, "mei.chen@example.com": True}
    assert "verified_absent" not in results(report)["gone@example.com"]
    assert "**Approved plan: %s**" % rehearsal["plan_digest"] in markdown


def test_a_name_given_to_another_person_after_approval_is_refused_and_nothing_changes(ansible, serve):
    simulator, env = atlassian(serve)
    _path, rehearsal, _markdown = rehearse(ansible, env)
    reassign(simulator, "a-dana", "a-dana-2", "dana.lee@example.com")
    mark = len(simulator.requests())
    # The plan as AWX hands it on from the rehearsal's set_stats: the list and its digest.
    real = offboard(ansible, env, offboard_approved_plan=rehearsal["plan"],
                    offboard_approved_plan_digest=rehearsal["plan_digest"])
    assert real.returncode != 0
    assert changing(simulator, mark) == []
    assert names(simulator) == EVERYONE
    assert real.parsed["stats"]["localhost"]["changed"] == 0
    failure = real.task("Fail when any leaver could not be offboarded")["msg"]
    assert "dana.lee@example.com at atlassian (not in the approved plan" in failure
    assert "a-dana-2" in failure and "omar" not in failure
    _path, report, markdown = newest(ansible.workdir)
    assert report["approval"]["result"] == "refused"
    assert [item["user_id"] for item in report["approval"]["not_approved"]] == ["a-dana-2"]
    assert results(report)["dana.lee@example.com"]["outcome"] == "not approved"
    held = results(report, "would remove")
    assert sorted(held) == ["mei.chen@example.com", "omar.haddad@example.com"]
    assert all(result["note"].startswith("approved, but not done") for result in held.values())
    assert report["plan"] == [] and report["summary"] == {"would remove": 2, "already absent": 1, "not approved": 1}
    assert report["result"].startswith("REFUSED: 1 change(s) not in the approved plan")
    assert "### Not approved" in markdown and "a-dana-2" in markdown


def test_offboard_require_approval_stops_a_real_run_without_a_plan(ansible, serve):
    simulator, env = atlassian(serve)
    refused = offboard(ansible, env, offboard_require_approval=True)
    assert refused.returncode != 0
    assert "offboard_require_approval is true, but no offboard_approved_plan was given" in refused.output
    assert simulator.requests() == [] and report_files(ansible.workdir) == []
    # A rehearsal needs no approval.
    path, rehearsal, _markdown = rehearse(ansible, env)
    approved = offboard(ansible, env, offboard_require_approval=True, offboard_approved_plan=path)
    assert approved.returncode == 0, approved.output
    assert names(simulator) == ["sam.taylor@example.com"]
    assert newest(ansible.workdir)[1]["approval"]["approved_plan_digest"] == rehearsal["plan_digest"]


def test_a_plan_that_is_not_the_approved_one_is_refused_before_any_request(ansible, serve):
    simulator, env = atlassian(serve)
    path, rehearsal, _markdown = rehearse(ansible, env)
    mark = len(simulator.requests())
    wrong = offboard(ansible, env, offboard_approved_plan=path, offboard_approved_plan_digest="sha256:" + "0" * 64)
    assert wrong.returncode != 0
    assert "the approved plan digests to %s, not to offboard_approved_plan_digest sha256:%s" % (
        rehearsal["plan_digest"], "0" * 64) in wrong.output
    # A plan list with one more item than the approver saw.
    longer = rehearsal["plan"] + [dict(rehearsal["plan"][0], user_id="a-sam", leaver="sam.taylor@example.com")]
    grown = offboard(ansible, env, offboard_approved_plan=longer, offboard_approved_plan_digest=rehearsal["plan_digest"])
    assert grown.returncode != 0 and "not to offboard_approved_plan_digest" in grown.output
    # The rehearsal's report edited afterwards: its own digests no longer match.
    with open(path, encoding="utf-8") as handle:
        edited = json.load(handle)
    edited["plan"].append(longer[-1])
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(edited, handle)
    tampered = offboard(ansible, env, offboard_approved_plan=path)
    assert tampered.returncode != 0 and "was changed: its plan digests to" in tampered.output
    assert simulator.requests()[mark:] == [] and names(simulator) == EVERYONE


def test_an_approved_plan_run_again_after_a_partial_run_converges(ansible, serve):
    simulator, env = atlassian(serve)
    path, rehearsal, _markdown = rehearse(ansible, env)
    simulator.add_fault(action="respond", method="DELETE", path="/Users/a-omar$", status=400,
                        body={"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                              "detail": "refused for the test"})
    partial = offboard(ansible, env, offboard_approved_plan=path, offboard_approved_plan_digest=rehearsal["plan_digest"])
    assert partial.returncode != 0
    assert names(simulator) == ["omar.haddad@example.com", "sam.taylor@example.com"]
    assert results(newest(ansible.workdir)[1])["omar.haddad@example.com"]["outcome"] == "failed"

    again = offboard(ansible, env, offboard_approved_plan=path, offboard_approved_plan_digest=rehearsal["plan_digest"])
    assert again.returncode == 0, again.output
    assert names(simulator) == ["sam.taylor@example.com"]
    _path, report, _markdown = newest(ansible.workdir)
    assert report["summary"] == {"removed": 1, "already absent": 3}
    assert [item["user_id"] for item in report["plan"]] == ["a-omar"]
    assert report["approval"]["result"] == "approved" and report["approval"]["already_done"] == 2


def test_every_change_is_read_again_and_one_that_did_not_hold_fails(ansible, serve):
    simulator, env = atlassian(serve)
    # The provider says the delete was done, but the user stays.
    simulator.add_fault(action="respond", method="DELETE", path="/Users/a-dana$", status=204, body="")
    result = offboard(ansible, env)
    assert result.returncode != 0
    failure = result.task("Fail when any leaver could not be offboarded")["msg"]
    assert "dana.lee@example.com at atlassian (still present after delete" in failure
    _path, report, markdown = newest(ansible.workdir)
    dana = results(report)["dana.lee@example.com"]
    assert (dana["outcome"], dana["verified_absent"], dana["actions"]) == ("failed", False, ["deleted"])
    assert results(report)["omar.haddad@example.com"]["verified_absent"] is True
    # The delete was sent: the plan of the run shows it, though it did not hold.
    assert "a-dana" in [item["user_id"] for item in report["plan"]]
    assert "read again afterwards, absent: NO" in markdown
    assert "dana.lee@example.com" in names(simulator)


def test_disabled_users_are_read_again(ansible, serve):
    simulator, env = atlassian(serve)
    result = offboard(ansible, env, offboard_state="disabled")
    assert result.returncode == 0, result.output
    _path, report, _markdown = newest(ansible.workdir)
    assert {email: row["verified_disabled"] for email, row in results(report, "disabled").items()} == {
        "dana.lee@example.com": True, "omar.haddad@example.com": True, "mei.chen@example.com": True}
    assert [item["actions"] for item in report["plan"]] == [["disabled"]] * 3
    # Dana was addressed by name: a read of her id is the read after the change.
    assert simulator.requests("GET", r"/Users/a-dana$"), "the disabled users were not read again"
    assert all(not user["active"] for user in simulator.users(DIRECTORY) if user["id"] != "a-sam")


def signing_key(tmp_path, guard):
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    guard.given[private] = "the signing key"
    body = "".join(line for line in private.strip().splitlines() if not line.startswith("-----"))
    guard.given[body] = "the signing key's base64 body"
    return private, public


def test_signed_reports_verify_with_the_public_key_alone_and_the_key_is_never_shown(ansible, serve, tmp_path,
                                                                                    suite_guard):
    simulator, env = atlassian(serve)
    private, public = signing_key(tmp_path, suite_guard)
    # The key from the environment (as an AWX credential injects it), the output at -vvvv.
    rehearsal = offboard(ansible, dict(env, OFFBOARD_SIGNING_KEY=private), check=True, verbosity=4)
    assert rehearsal.returncode == 0, rehearsal.output[-3000:]
    # The key as the role variable, from a vars file (as from Ansible Vault).
    secrets = tmp_path / "signing.yml"
    secrets.write_text(json.dumps({"offboard_signing_key": private}), encoding="utf-8")
    suite_guard.inputs.add(os.path.realpath(str(secrets)))
    path = report_files(ansible.workdir)[0]
    real = ansible.run("identity.lifecycle.offboard", extra_vars={"offboard_users": LEAVERS,
                                                                  "offboard_approved_plan": path},
                       env=dict(env, PWD=ansible.workdir), verbosity=4, callback="default",
                       args=("-e", "@" + str(secrets)))
    assert real.returncode == 0, real.output[-3000:]
    assert names(simulator) == ["sam.taylor@example.com"]
    reports = [json.load(open(name, encoding="utf-8")) for name in report_files(ansible.workdir)]
    assert [report["signature"]["public_key"] for report in reports] == [public, public]
    (rehearsed,) = [report for report in reports if report["check_mode"]]
    (done,) = [report for report in reports if not report["check_mode"]]
    # Each report's digest is its own content's (computed here independently), and the real run's report links to
    # the rehearsal's: a report that named itself, or no report, as its previous would fail here.
    for report in reports:
        assert report["report_digest"] == report_digest(report)
        assert fingerprint(report["signature"]["public_key"]) == fingerprint(public)
    assert rehearsed["previous_report_digest"] is None
    assert done["previous_report_digest"] == rehearsed["report_digest"] != done["report_digest"]

    verify = ansible.run("identity.lifecycle.verify_reports", callback="default", env={"PWD": ansible.workdir},
                         extra_vars={"offboard_report_dir": "offboard-reports", "offboard_verify_public_key": public})
    assert verify.returncode == 0, verify.output[-3000:]
    assert verify.stdout.count("signature verified with the given public key") == 2

    with open(path, encoding="utf-8") as handle:
        tampered = json.load(handle)
    tampered["plan"] = tampered["plan"][:1]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(tampered, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    failed = ansible.run("identity.lifecycle.verify_reports", callback="default", env={"PWD": ansible.workdir},
                         extra_vars={"offboard_report_dir": "offboard-reports", "offboard_verify_public_key": public})
    assert failed.returncode != 0
    assert "%s: FAILED - tampered" % os.path.basename(path)[:-len(".json")] in failed.stdout


def grown_report(path, rehearsal, sign_with=None, keep_digest=False):
    """The rehearsal's report at `path` with one more plan item (Sam) and its plan_digest recomputed, as someone
    who can write the report directory would edit it; `report_digest` deleted unless `keep_digest` (then
    recomputed), and the signature left as it was or, with `sign_with`, made again with that key."""
    from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import report_digest, sign
    edited = dict(rehearsal)
    edited["plan"] = rehearsal["plan"] + [dict(rehearsal["plan"][0], user_id="a-sam", leaver="sam.taylor@example.com",
                                               user_name="sam.taylor@example.com")]
    edited["plan_digest"] = digest(edited["plan"])
    edited.pop("report_digest", None)
    if keep_digest:
        edited["report_digest"] = report_digest(edited)
        if sign_with:
            edited["signature"] = sign(edited["report_digest"], sign_with)
    else:
        edited.pop("signature", None)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(edited, handle)


def test_an_approved_report_without_its_report_digest_is_refused_before_any_request(ansible, serve):
    # Issue 18, finding 3: a report edited and stripped of its report_digest is evidence of nothing.
    simulator, env = atlassian(serve)
    path, rehearsal, _markdown = rehearse(ansible, env)
    mark = len(simulator.requests())
    grown_report(path, rehearsal)
    refused = offboard(ansible, env, offboard_require_approval=True, offboard_approved_plan=path)
    assert refused.returncode != 0
    assert "offboard_approved_plan %s has no report_digest" % path in refused.output, refused.output[-3000:]
    assert simulator.requests()[mark:] == [] and names(simulator) == EVERYONE


def test_with_a_verifying_key_an_approved_report_must_carry_its_valid_signature(ansible, serve, tmp_path, suite_guard):
    simulator, env = atlassian(serve)
    private, public = signing_key(tmp_path, suite_guard)
    other_private, _other_public = signing_key(tmp_path, suite_guard)
    path, rehearsal, _markdown = rehearse(ansible, dict(env, OFFBOARD_SIGNING_KEY=private))
    mark = len(simulator.requests())
    # Signed again with another key after the edit: its digests match, its signature is not the published key's.
    grown_report(path, rehearsal, sign_with=other_private, keep_digest=True)
    forged = offboard(ansible, env, offboard_approved_plan=path, offboard_verify_public_key=public)
    assert forged.returncode != 0
    assert "offboard_approved_plan %s is not signed by offboard_verify_public_key: signed with another key" % path \
        in forged.output, forged.output[-3000:]
    # The digest recomputed, the old signature kept: the signature is over another digest.
    grown_report(path, rehearsal, keep_digest=True)
    with open(path, encoding="utf-8") as handle:
        edited = json.load(handle)
    edited["signature"] = rehearsal["signature"]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(edited, handle)
    stale = offboard(ansible, env, offboard_approved_plan=path, offboard_verify_public_key=public)
    assert stale.returncode != 0 and "signature invalid" in stale.output, stale.output[-3000:]
    # Unsigned.
    edited.pop("signature")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(edited, handle)
    unsigned = offboard(ansible, env, offboard_approved_plan=path, offboard_verify_public_key=public)
    assert unsigned.returncode != 0
    assert "offboard_approved_plan %s is not signed, but offboard_verify_public_key is given" % path in unsigned.output
    # A verifying key given as null is an error, never "no key".
    null = offboard(ansible, env, offboard_approved_plan=path, offboard_verify_public_key=None)
    assert null.returncode != 0 and "offboard_verify_public_key is given but empty (null)" in null.output, \
        null.output[-3000:]
    assert simulator.requests()[mark:] == [] and names(simulator) == EVERYONE
    # The report as written, with its signature: approved, exactly the plan removed.
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(rehearsal, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    approved = offboard(ansible, env, offboard_approved_plan=path, offboard_verify_public_key=public)
    assert approved.returncode == 0, approved.output[-3000:]
    assert names(simulator) == ["sam.taylor@example.com"]
