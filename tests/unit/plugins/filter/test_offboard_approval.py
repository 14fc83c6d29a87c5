# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plans, approval and the read after the change, in the offboard role's filters: what a plan holds and
its digest, the checks of an approval before any request, the comparison of a run's changes with the
approved plan, a refused run's report, the targets of an approved run, and the verification rows."""

from __future__ import annotations

import hashlib
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.identity.lifecycle.plugins.filter import offboard
from ansible_collections.identity.lifecycle.plugins.filter.offboard_approval import (
    offboard_approval, offboard_approval_decision)
from tests.evidence_oracle import canonical_text, digest, report_digest

LEAVERS = [{"name": "Dana Lee", "email": "dana.lee@example.com"},
           {"email": "omar.haddad@example.com", "uipath_user_id": "u-omar"},
           {"email": "gone@example.com"}]


def user(user_id, name, changed=True, found=True, actions=("deleted",), state="absent"):
    return {"user_id": user_id, "user_name": name, "found": found, "changed": changed, "state": state,
            "actions": list(actions) if changed else [], "msg": "deleted" if changed else "already absent"}


def outcomes(provider, check_mode, by_name_users, by_id_users=(), leavers=None, planned=None):
    targets = offboard.offboard_targets(leavers or LEAVERS, provider, planned)
    by_id = {"users": list(by_id_users)} if targets["user_ids"] else {"skipped": True}
    by_name = {"users": list(by_name_users)} if targets["user_names"] else {"skipped": True}
    return offboard.offboard_outcomes(targets, by_id, by_name, "absent", check_mode, "2026-12-04T10:00:00Z")


def planned_results(dana_id="a-dana"):
    """What a rehearsal (or the reads of a real run) finds: Dana and Omar to delete, the third already gone."""
    return {"localhost": {"error": None, "outcomes": {
        "atlassian": outcomes("atlassian", True, [user(dana_id, "dana.lee@example.com"),
                                                  user("a-omar", "omar.haddad@example.com"),
                                                  user(None, "gone@example.com", changed=False, found=False)]),
        "uipath": outcomes("uipath", True, [user("u-dana", "dana.lee@example.com"),
                                            user(None, "gone@example.com", changed=False, found=False)],
                           [user("u-omar", "omar")])}}}


DIRECTORIES = [{"key": provider, "host": "localhost", "provider": provider, "title": provider, "directory_id": "d",
                "status": "run", "problems": []} for provider in ("atlassian", "uipath")]


def rehearsal_report(**kwargs):
    return offboard.offboard_report(LEAVERS, planned_results(**kwargs), DIRECTORIES, "absent", True, "s", "f",
                                    "20261204T100000.000Z-check")


def test_a_plan_is_one_item_per_change_in_the_interface_order_with_its_digest():
    report = rehearsal_report()
    assert [(item["provider"], item["directory"], item["user_id"], item["leaver"], item["actions"])
            for item in report["plan"]] == [
        ("atlassian", "localhost", "a-dana", "dana.lee@example.com", ["deleted"]),
        ("atlassian", "localhost", "a-omar", "omar.haddad@example.com", ["deleted"]),
        ("uipath", "localhost", "u-dana", "dana.lee@example.com", ["deleted"]),
        ("uipath", "localhost", "u-omar", "omar.haddad@example.com", ["deleted"])]
    assert set(report["plan"][0]) == {"provider", "directory", "leaver", "user_id", "user_name", "actions"}
    # The interface's formula, and a second implementation of it (tests/evidence_oracle.py): both must give the
    # digest the report carries.
    canonical = json.dumps(report["plan"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical == canonical_text(report["plan"]) and len(canonical) > 100
    assert report["plan_digest"] == "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert report["plan_digest"] == digest(report["plan"])
    assert report["approval"] is None


def approval(plan, **kwargs):
    return offboard_approval(plan, **kwargs)


def test_an_approval_is_checked_before_any_request(tmp_path):
    plan = rehearsal_report()["plan"]
    assert approval(None) == {"given": False, "plan": None, "digest": None, "source": None, "problems": []}
    good = approval(plan, approved_digest=digest(plan))
    assert good["plan"] == plan and good["problems"] == [] and good["source"] == "offboard_approved_plan"
    assert "not to offboard_approved_plan_digest sha256:00" in approval(plan, approved_digest="sha256:00")["problems"][0]
    assert approval(None, approved_digest=digest(plan))["problems"][0].startswith(
        "offboard_approved_plan_digest is given, but offboard_approved_plan is not")
    assert approval(None, require_approval=True)["problems"][0].startswith("offboard_require_approval is true")
    assert approval(None, require_approval=True, check_mode=True)["problems"] == []
    # An empty plan is a plan: nothing may change.
    assert approval([])["plan"] == [] and approval([])["given"] is True
    broken = approval([{"provider": "okta", "directory": "x", "user_id": "", "actions": "deleted"}, "x"])
    assert broken["plan"] is None
    assert broken["problems"] == ["offboard_approved_plan[0] has no valid actions, provider, user_id",
                                  "offboard_approved_plan[1] is not a plan item (a dict)"]


def write(path, report):
    path.write_text(json.dumps(report), encoding="utf-8")
    return str(path)


def test_an_approved_plan_from_a_rehearsals_report(tmp_path):
    report = rehearsal_report()
    report["report_digest"] = report_digest(report)
    path = write(tmp_path / "rehearsal.json", report)
    found = approval("rehearsal.json", base_dir=str(tmp_path))
    assert found["plan"] == report["plan"] and found["source"] == "report %s" % path
    assert approval(path, state="disabled")["problems"][0].endswith("this run asks for 'disabled'")
    real = dict(report, check_mode=False)
    real["report_digest"] = report_digest(real)
    assert "is not a rehearsal's report" in approval(write(tmp_path / "real.json", real))["problems"][0]
    edited = dict(report, plan=report["plan"][:1])
    problems = approval(write(tmp_path / "edited.json", edited))["problems"]
    assert "was changed: its plan digests to" in problems[0] and "after it was written" in problems[1]
    assert "does not exist" in approval(str(tmp_path / "nothing.json"))["problems"][0]
    (tmp_path / "dup.json").write_text('{"plan": [], "plan": []}', encoding="utf-8")
    assert "duplicate key" in approval(str(tmp_path / "dup.json"))["problems"][0]


def test_an_approved_report_must_carry_its_digest_and_with_a_verifying_key_its_signature(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import sign

    def pems():
        key = ed25519.Ed25519PrivateKey.generate()
        return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode(),
                key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    private, public = pems()
    other_private, _other_public = pems()
    report = rehearsal_report()
    # Issue 18, finding 3: the plan grown, its digest recomputed, report_digest deleted.
    grown = dict(report, plan=report["plan"] + [dict(report["plan"][0], user_id="a-sam")])
    grown["plan_digest"] = digest(grown["plan"])
    path = write(tmp_path / "grown.json", grown)
    assert approval(path)["problems"] == [
        "offboard_approved_plan %s has no report_digest: a report without its digest is evidence of nothing (it was "
        "removed, or the report was not written by the offboard role); approve the report as the rehearsal wrote it"
        % path]
    assert approval(path)["plan"] is None
    signed = dict(report, report_digest=report_digest(report))
    signed["signature"] = sign(signed["report_digest"], private)
    key = {"offboard_verify_public_key": public}
    assert approval(write(tmp_path / "signed.json", signed), verify_key=key)["problems"] == []
    assert approval(write(tmp_path / "signed.json", signed), verify_key=key)["plan"] == report["plan"]
    grown["report_digest"] = report_digest(grown)
    grown["signature"] = sign(grown["report_digest"], other_private)
    problems = approval(write(tmp_path / "forged.json", grown), verify_key=key)["problems"]
    assert problems[0].startswith("offboard_approved_plan %s is not signed by offboard_verify_public_key: signed "
                                  "with another key" % (tmp_path / "forged.json"))
    grown["signature"] = signed["signature"]
    assert "signature invalid" in approval(write(tmp_path / "stale.json", grown), verify_key=key)["problems"][0]
    del grown["signature"]
    assert "is not signed, but offboard_verify_public_key is given" in approval(
        write(tmp_path / "unsigned.json", grown), verify_key=key)["problems"][0]
    # Without a key, a report's own digest is enough (its signature is for verify_reports).
    assert approval(str(tmp_path / "unsigned.json"))["problems"] == []
    # The key as a file, relative to where ansible-playbook started; null, empty or not a public key: refused.
    (tmp_path / "offboard-signing.pub").write_text(public)
    assert approval(str(tmp_path / "signed.json"), base_dir=str(tmp_path),
                    verify_key={"offboard_verify_public_key_file": "offboard-signing.pub"})["problems"] == []
    for given, expected in (({"offboard_verify_public_key": None}, "offboard_verify_public_key is given but empty (null)"),
                            ({"offboard_verify_public_key_file": ""}, "offboard_verify_public_key_file is given but "
                                                                      "empty (blank)"),
                            ({"offboard_verify_public_key": private}, "offboard_verify_public_key is a private key"),
                            ({"offboard_verify_public_key_file": "nowhere.pub"}, "offboard_verify_public_key_file %s "
                             "cannot be read (No such file or directory)" % (tmp_path / "nowhere.pub"))):
        checked = approval(None, base_dir=str(tmp_path), verify_key=given)
        assert checked["problems"] and checked["problems"][0].startswith(expected), checked["problems"]
    # A rehearsal needs no plan, but a wrong verifying key stops it too.
    assert approval(None, check_mode=True, verify_key={"offboard_verify_public_key": ""})["problems"]


def test_a_change_outside_the_plan_refuses_the_run_and_its_report_says_so():
    approved = approval(rehearsal_report()["plan"])
    # Dana's name now leads to another user at Atlassian.
    drifted = planned_results(dana_id="a-dana-2")
    decision = offboard_approval_decision(LEAVERS, approved, drifted, DIRECTORIES, "absent")
    assert decision["approved"] is False
    assert [item["user_id"] for item in decision["not_approved"]] == ["a-dana-2"]
    report = offboard.offboard_report(LEAVERS, drifted, DIRECTORIES, "absent", False, "s", "f", "r", decision)
    dana = report["leavers"][0]["results"]
    assert dana["atlassian"]["outcome"] == "not approved" and "a-dana-2" in dana["atlassian"]["msg"]
    assert dana["uipath"]["outcome"] == "would remove" and dana["uipath"]["note"].startswith("approved, but not done")
    assert report["plan"] == [] and report["failed"] is True
    assert [(failure["leaver"], failure["provider"]) for failure in report["failures"]] == [
        ("dana.lee@example.com", "atlassian")]
    assert report["summary"]["not approved"] == 1 and report["result"].startswith("REFUSED: 1 change(s)")
    assert report["approval"]["result"] == "refused"
    markdown = offboard.offboard_markdown(report)
    assert "REFUSED, nothing was changed anywhere" in markdown and "### Not approved" in markdown


def test_changes_of_the_plan_already_done_are_fine():
    approved = approval(rehearsal_report()["plan"])
    # Dana is gone at both providers since the rehearsal: only Omar's changes remain, all approved.
    results = {"localhost": {"error": None, "outcomes": {
        "atlassian": outcomes("atlassian", True, [user(None, "dana.lee@example.com", changed=False, found=False),
                                                  user("a-omar", "omar.haddad@example.com"),
                                                  user(None, "gone@example.com", changed=False, found=False)]),
        "uipath": outcomes("uipath", True, [user(None, "dana.lee@example.com", changed=False, found=False),
                                            user(None, "gone@example.com", changed=False, found=False)],
                           [user("u-omar", "omar")])}}}
    decision = offboard_approval_decision(LEAVERS, approved, results, DIRECTORIES, "absent")
    assert decision["approved"] is True and decision["already_done"] == 2 and decision["not_approved"] == []
    # Different actions for the same user are a different change.
    other = [dict(item, actions=["disabled"]) for item in approved["plan"]]
    decision = offboard_approval_decision(LEAVERS, approval(other), results, DIRECTORIES, "absent")
    assert decision["approved"] is False and len(decision["not_approved"]) == 2
    with pytest.raises(AnsibleFilterError):
        offboard_approval_decision(LEAVERS, approval(None), results, DIRECTORIES, "absent")


def test_an_approved_run_addresses_only_the_planned_changes_by_the_ids_found():
    planned = planned_results()["localhost"]["outcomes"]["atlassian"]
    approved_plan = rehearsal_report()["plan"]
    targets = offboard.offboard_targets(LEAVERS, "atlassian", planned, approved_plan, "localhost")
    assert (targets["user_ids"], targets["user_names"]) == (["a-dana", "a-omar"], [])
    assert targets["approved_actions"] == {"id": {"a-dana": ["deleted"], "a-omar": ["deleted"]}, "name": {}}
    # A user the approved plan does not name is addressed with nothing approved: the module refuses every action.
    without_omar = [item for item in approved_plan if item["user_id"] != "a-omar"]
    assert offboard.offboard_targets(LEAVERS, "atlassian", planned, without_omar, "localhost")[
        "approved_actions"]["id"] == {"a-dana": ["deleted"], "a-omar": []}
    # Nor the approved plan of another directory.
    assert offboard.offboard_targets(LEAVERS, "atlassian", planned, approved_plan, "elsewhere")[
        "approved_actions"]["id"] == {"a-dana": [], "a-omar": []}
    with pytest.raises(AnsibleFilterError, match="needs the approved plan"):
        offboard.offboard_targets(LEAVERS, "atlassian", planned)
    real = offboard.offboard_outcomes(targets, {"users": [user("a-dana", None), user("a-omar", None)]},
                                      {"skipped": True}, "absent", False, "t")
    assert [row["outcome"] for row in real] == ["removed", "removed", "already absent"]
    # The planned name and how the leaver was found stay in the report.
    assert (real[0]["user_name"], real[0]["by"], real[0]["requested"]) == (
        "dana.lee@example.com", "name", "dana.lee@example.com")
    with pytest.raises(AnsibleFilterError, match="do not match the leavers"):
        offboard.offboard_targets(LEAVERS, "atlassian", planned[:1], approved_plan, "localhost")
    without_id = [dict(planned[0], user_id=None)] + planned[1:]
    with pytest.raises(AnsibleFilterError, match="has no user id"):
        offboard.offboard_targets(LEAVERS, "atlassian", without_id, approved_plan, "localhost")


def removed(user_id, outcome="removed"):
    return {"outcome": outcome, "user_id": user_id, "user_name": user_id, "actions": ["deleted"], "msg": "",
            "error": None}


def test_every_change_is_read_again():
    rows = [removed("a-1"), removed("A-2"), removed(None, "already absent"), removed("a-3")]
    assert offboard.offboard_changed_ids(rows) == ["a-1", "A-2", "a-3"]
    verified = offboard.offboard_verified(rows, {"users": [{"id": "a-2"}]}, "atlassian")
    assert [(row["outcome"], row.get("verified_absent")) for row in verified] == [
        ("removed", True), ("failed", False), ("already absent", None), ("removed", True)]
    assert verified[1]["msg"].startswith("still present after delete: user A-2")
    failed_read = offboard.offboard_verified(rows[:1], {"failed": True, "msg": "HTTP 500"}, "atlassian")
    assert failed_read[0]["outcome"] == "failed" and failed_read[0]["verified_absent"] is None
    assert "the read after the change failed (HTTP 500)" in failed_read[0]["msg"]


@pytest.mark.parametrize("provider, found, verified, message", [
    ("alibaba", [{"UserId": "u-1", "Status": "Disabled"}], True, None),
    ("alibaba", [{"UserId": "u-1", "Status": "Enabled"}], False, "still enabled after disable"),
    ("uipath", [{"id": "u-1", "isActive": False}], True, None),
    ("atlassian", [{"id": "u-1", "active": True}], False, "still enabled after disable"),
    ("atlassian", [], False, "not found after disable"),
])
def test_disabled_users_must_be_found_disabled(provider, found, verified, message):
    row = dict(removed("u-1", "disabled"), actions=["disabled"])
    (result,) = offboard.offboard_verified([row], {"users": found}, provider)
    assert result["verified_disabled"] is verified
    assert result["outcome"] == ("disabled" if verified else "failed")
    assert message is None or result["msg"].startswith(message)


def swept_while_absent(check_mode=True):
    """Dana is already absent from the UiPath organization; her Orchestrator user is left and is removed."""
    action = 'removed Orchestrator user "dana.lee@example.com" (11) from tenant DefaultTenant'
    leftover = {"kind": "Orchestrator user", "id": "11", "name": "dana.lee@example.com",
                "where": "tenant DefaultTenant", "done": "removed", "action": action}
    dana = dict(user(None, "dana.lee@example.com", found=False, actions=[action]),
                msg="already absent; its Orchestrator users would be removed", leftover=[leftover])
    return {"localhost": {"error": None, "outcomes": {
        "uipath": outcomes("uipath", check_mode, [dana, user(None, "gone@example.com", changed=False, found=False)],
                           [user(None, "u-omar", changed=False, found=False)])}}}


UIPATH_ONLY = [directory for directory in DIRECTORIES if directory["provider"] == "uipath"]


def test_a_change_the_run_makes_is_never_counted_as_already_done():
    rehearsal = offboard.offboard_report(LEAVERS, swept_while_absent(), UIPATH_ONLY, "absent", True, "s", "f", "r")
    assert [item["user_id"] for item in rehearsal["plan"]] == ["dana.lee@example.com"]
    decision = offboard_approval_decision(LEAVERS, approval(rehearsal["plan"]), swept_while_absent(), UIPATH_ONLY,
                                          "absent")
    # Dana's row is "already absent", but the removal of her Orchestrator user is this run's own change.
    assert decision["approved"] is True and decision["already_done"] == 0 and decision["not_proven_done"] == []


def test_an_approved_item_whose_row_could_not_be_read_is_not_proven_done():
    rehearsal = offboard.offboard_report(LEAVERS, swept_while_absent(), UIPATH_ONLY, "absent", True, "s", "f", "r")
    unread = {"localhost": {"error": None, "outcomes": {"uipath": outcomes(
        "uipath", True, [dict(user(None, "dana.lee@example.com", changed=False, found=None), failed=True,
                              error={"message": "tenant DefaultTenant could not be read"}),
                         user(None, "gone@example.com", changed=False, found=False)],
        [user(None, "u-omar", changed=False, found=False)])}}}
    decision = offboard_approval_decision(LEAVERS, approval(rehearsal["plan"]), unread, UIPATH_ONLY, "absent")
    assert decision["already_done"] == 0 and decision["not_proven_done"] == rehearsal["plan"]


def test_a_refused_run_reports_nothing_removed_and_names_what_stays():
    planned = swept_while_absent()
    decision = offboard_approval_decision(LEAVERS, approval([]), planned, UIPATH_ONLY, "absent")
    assert decision["approved"] is False
    report = offboard.offboard_report(LEAVERS, planned, UIPATH_ONLY, "absent", False, "s", "f", "r", decision)
    dana = report["leavers"][0]["results"]["uipath"]
    assert dana["outcome"] == "not approved" and dana["leftover"] == []
    assert report["plan"] == [] and report["leftover_summary"]["removed"] == 0
    [held] = [item for item in dana["manual_follow_up"] if item["kind"] == "leftover access not removed"]
    assert "removed: Orchestrator user dana.lee@example.com (11) in tenant DefaultTenant" in held["detail"]
    markdown = offboard.offboard_markdown(report)
    assert "No change was made: the run was refused" in markdown and "change(s) this run made" not in markdown
    assert "leftover access removed" not in markdown
