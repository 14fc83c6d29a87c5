# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the identity.lifecycle.offboard role that bind a real run to an approved plan: the checks of
the approval before any request (offboard_approval), and the comparison of the changes the run worked out
with reads only against the approved plan (offboard_approval_decision)."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.identity.lifecycle.plugins.filter.offboard import (
    FAILING, PROVIDERS, _plan_leaver, offboard_report, plan_key)
from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import (
    MAX_KEY_BYTES, EvidenceError, check_given_key, plan_digest, read_bounded, read_report_file, report_digest,
    verify_signature)

VERIFY_KEY = "offboard_verify_public_key"
VERIFY_KEY_FILE = "offboard_verify_public_key_file"

DONE = ("already absent", "already disabled")


def _item_problems(plan, where):
    """What makes `plan` unusable as an approved plan (the interface's items), each problem named."""
    if not isinstance(plan, list):
        return ["%s is not a list of plan items" % where]
    problems = []
    for index, item in enumerate(plan):
        if not isinstance(item, dict):
            problems.append("%s[%d] is not a plan item (a dict)" % (where, index))
            continue
        wrong = [key for key in ("provider", "directory", "user_id") if not isinstance(item.get(key), str)
                 or not item[key].strip()]
        if item.get("provider") not in PROVIDERS:
            wrong.append("provider")
        actions = item.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(action, str) for action in actions):
            wrong.append("actions")
        if wrong:
            problems.append("%s[%d] has no valid %s" % (where, index, ", ".join(sorted(set(wrong)))))
    return problems


def _read_report(path, state, verifying_key=None):
    """(plan, problems) of a rehearsal's JSON report at `path`. `verifying_key`: (name, PEM) of the key the
    report must be signed with, or None."""
    try:
        report = read_report_file(path)
    except FileNotFoundError:
        return None, ["offboard_approved_plan %s does not exist" % path]
    except (OSError, ValueError) as error:
        return None, ["offboard_approved_plan %s cannot be read as a JSON report (%s)" % (path, error)]
    problems = []
    if report.get("check_mode") is not True:
        problems.append("offboard_approved_plan %s is not a rehearsal's report (check_mode is not true); approve "
                        "the report of a run with --check" % path)
    if report.get("state") != state:
        problems.append("offboard_approved_plan %s rehearsed offboard_state %r, this run asks for %r"
                        % (path, report.get("state"), state))
    plan = report.get("plan")
    if "plan" not in report or not isinstance(plan, list):
        return None, problems + ["offboard_approved_plan %s has no plan (a report written before plans?)" % path]
    if report.get("plan_digest") != plan_digest(plan):
        problems.append("offboard_approved_plan %s was changed: its plan digests to %s, not to its plan_digest %s"
                        % (path, plan_digest(plan), report.get("plan_digest")))
    # A report without its digest (or, with a verifying key, without a valid signature) is evidence of nothing:
    # anyone who can write the file can change its plan and plan_digest together.
    if not isinstance(report.get("report_digest"), str):
        problems.append("offboard_approved_plan %s has no report_digest: a report without its digest is evidence of "
                        "nothing (it was removed, or the report was not written by the offboard role); approve the "
                        "report as the rehearsal wrote it" % path)
    elif report_digest(report) != report["report_digest"]:
        problems.append("offboard_approved_plan %s was changed after it was written: it digests to %s, not to its "
                        "report_digest %s" % (path, report_digest(report), report["report_digest"]))
    elif verifying_key is not None:
        name, pem = verifying_key
        if report.get("signature") is None:
            problems.append("offboard_approved_plan %s is not signed, but %s is given: only a report signed with that "
                            "key is approved evidence" % (path, name))
        else:
            ok, detail = verify_signature(report["report_digest"], report["signature"], pem)
            if not ok:
                problems.append("offboard_approved_plan %s is not signed by %s: %s" % (path, name, detail))
    return plan, problems


def verifying_key(given, base_dir=None):
    """`((name, PEM) or None, problems)` of the verifying key given to the role: `given` holds
    offboard_verify_public_key and/or offboard_verify_public_key_file when they are defined (a value of null or
    empty is an error, never "no key"; a relative file is taken from `base_dir`)."""
    given = given or {}
    if not isinstance(given, dict):
        raise AnsibleFilterError("the verifying key settings must be a dict")
    if VERIFY_KEY in given and VERIFY_KEY_FILE in given:
        return None, ["give %s or %s, not both" % (VERIFY_KEY, VERIFY_KEY_FILE)]
    if VERIFY_KEY in given:
        name, pem = VERIFY_KEY, given[VERIFY_KEY]
    elif VERIFY_KEY_FILE in given:
        path = given[VERIFY_KEY_FILE]
        if path is None or not str(path).strip():
            name, pem = VERIFY_KEY_FILE, path
        else:
            path = str(path).strip()
            path = os.path.realpath(path if os.path.isabs(path) else os.path.join(base_dir or os.getcwd(), path))
            name = "%s %s" % (VERIFY_KEY_FILE, path)
            try:
                pem = read_bounded(path, MAX_KEY_BYTES).decode("ascii", "replace")
            except (OSError, ValueError) as error:
                return None, ["%s cannot be read (%s)" % (name, getattr(error, "strerror", None) or error)]
    else:
        return None, []
    try:
        check_given_key(pem, name)
    except EvidenceError as error:
        return None, [str(error)]
    return (name, pem), []


def offboard_approval(approved_plan, approved_digest=None, require_approval=False, check_mode=False,
                      state="absent", base_dir=None, verify_key=None):
    """Checks the approval a run is given, before any request.

    `approved_plan` is a path to a rehearsal's JSON report (relative to `base_dir`), a plan list as a
    rehearsal published it, or None/"" when none is given (an empty list is an approved empty plan).
    `approved_digest`, when given, must be the digest of that plan. A report must carry its report_digest, and
    with a verifying key (`verify_key`: offboard_verify_public_key or offboard_verify_public_key_file, as
    `verifying_key` takes them) a valid signature by that key. Returns `given`, `plan`, `digest` (of the plan),
    `source` and `problems` (each stops the run before any request).
    """
    key, problems = verifying_key(verify_key, base_dir)
    given = approved_plan is not None and approved_plan != ""
    digest_given = approved_digest is not None and str(approved_digest).strip() != ""
    plan = None
    source = None
    if isinstance(approved_plan, str) and given:
        path = approved_plan if os.path.isabs(approved_plan) else os.path.join(base_dir or os.getcwd(), approved_plan)
        source = "report %s" % os.path.realpath(path)
        plan, read_problems = _read_report(os.path.realpath(path), state, key)
        problems += read_problems
    elif given:
        source = "offboard_approved_plan"
        plan = approved_plan
    if given and plan is not None:
        problems += _item_problems(plan, "the approved plan" if source.startswith("report") else "offboard_approved_plan")
    digest = plan_digest(plan) if isinstance(plan, list) else None
    if digest_given and not given:
        problems.append("offboard_approved_plan_digest is given, but offboard_approved_plan is not: give the plan "
                        "(or the rehearsal's report) that the digest was approved for")
    elif digest_given and digest is not None and str(approved_digest).strip() != digest:
        problems.append("the approved plan digests to %s, not to offboard_approved_plan_digest %s: this is not the "
                        "plan that was approved; nothing was sent to any provider" % (digest, str(approved_digest).strip()))
    if require_approval and not check_mode and not given:
        problems.append("offboard_require_approval is true, but no offboard_approved_plan was given: rehearse with "
                        "--check, have its plan approved, then run with offboard_approved_plan (the rehearsal's JSON "
                        "report or its offboard_plan); nothing was sent to any provider")
    return {"given": given, "plan": plan if given and not problems else None, "digest": digest,
            "source": source, "problems": problems}


def offboard_approval_decision(leavers, approval, results, directories, state):
    """Compares the changes a real run worked out with reads only against the approved plan.

    `results` and `directories` are as for offboard_report, from the pass in check mode. A change is
    approved when the plan has an item with the same provider, directory, user id and actions. Returns
    `approved` (no change outside the plan), `not_approved` (those changes, as plan items), `planned` (the
    run's plan), `approved_plan`, `approved_plan_digest`, `source`, `already_done` (how many items of the plan
    this run does not make because its reads prove them done before the run: the user is already absent or
    disabled, or the sweep found the leftover gone) and `not_proven_done` (the approved items this run neither
    makes nor proves done).
    """
    if not isinstance(approval, dict) or approval.get("plan") is None:
        raise AnsibleFilterError("offboard_approval_decision needs an approval with a plan (offboard_approval)")
    planned_report = offboard_report(leavers, results, directories, state, True, "", "", "planned")
    planned = planned_report["plan"]
    approved = set(plan_key(item) for item in approval["plan"])
    not_approved = [item for item in planned if plan_key(item) not in approved]
    planned_keys = set(plan_key(item) for item in planned)
    rows = {}
    for row, leaver in zip(planned_report["leavers"], leavers):
        for result in row["results"].values():
            rows[(result["provider"], result["directory"], _plan_leaver(leaver))] = result
    # An approved item this run does not plan is already done only where its reads prove it; the rest were not
    # read again (a sweep that did not run, a failed read) and are neither done nor made.
    not_planned = [item for item in approval["plan"] if plan_key(item) not in planned_keys]
    already_done = [item for item in not_planned
                    if _proven_done(item, rows.get((item["provider"], item["directory"], item.get("leaver"))))]
    return {"approved": not not_approved, "not_approved": not_approved, "planned": planned,
            "approved_plan": approval["plan"], "approved_plan_digest": approval["digest"],
            "source": approval["source"], "already_done": len(already_done),
            "not_proven_done": [item for item in not_planned if item not in already_done]}


# Sweep statuses whose reads saw the leaver's leftover access (what they did not plan is gone).
SWEEP_READ = ("would sweep", "nothing left", "swept by the delete")


def _proven_done(item, result):
    """Whether the reads of the pass that worked out the changes prove an approved item that they did not plan
    done. The item addresses the directory user, who is in the end state; or the account the row's sweep read,
    which no longer has what the item removes. A row whose sweep did not read (it failed, did not run, or found
    no account) proves nothing."""
    if result is None or result["outcome"] in FAILING:
        return False
    sweep = result.get("sweep")
    # A user given by name and found by nobody is absent (the interface's rule for names), so an item of the row
    # that is not the sweep's addresses the directory user the name meant.
    directory_user = item["user_id"] in (result.get("user_id"), result.get("requested")) or (
        not result.get("user_id") and (sweep is None or item["user_id"] != sweep.get("user_id")))
    if sweep is not None:
        if sweep.get("status") not in SWEEP_READ:
            return False
        if item["user_id"] == sweep.get("user_id") and not directory_user:
            return True
    return directory_user and result["outcome"] in DONE


class FilterModule:
    def filters(self):
        return {
            "offboard_approval": offboard_approval,
            "offboard_approval_decision": offboard_approval_decision,
        }
