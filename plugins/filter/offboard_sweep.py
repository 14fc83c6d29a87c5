# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the identity.lifecycle.offboard role for the sweep of leftover access after the directory
changes: who the sweep task addresses at a provider (offboard_sweep_targets), and what it did to each
leaver (offboard_swept). The report (offboard.offboard_report) turns them into each row's `leftover` and
`manual_follow_up`."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.identity.lifecycle.plugins.filter.offboard import _leftover_text, _text, approved_actions_of

# The providers whose sweep is a task of its own after the directory changes (UiPath's tenants are swept
# by uipath_user itself, before the organization user is deleted).
SWEEP_TASKS = ("atlassian", "alibaba")
# Directory outcomes after which the leaver's leftover access is swept.
SWEPT_AFTER = ("removed", "disabled", "would remove", "would disable", "already absent", "already disabled")


def _not_swept(why):
    return {"status": "not swept", "why": why}


def _atlassian_key(leaver):
    """("id", account id) or ("name", email) to find the leaver's Atlassian account by, or None."""
    account_id = _text(leaver.get("atlassian_account_id"))
    if account_id:
        return "id", account_id
    email = _text(leaver.get("email"))
    return ("name", email) if email else None


def _planned_sweep(planned, index):
    sweep = (planned[index] or {}).get("sweep") if index < len(planned) else None
    return sweep if isinstance(sweep, dict) else None


def offboard_sweep_targets(outcomes, leavers, provider, state, force=False, planned=None, approved_plan=None,
                           directory=None):
    """Who the sweep task addresses at `provider` after the directory changes, one row per leaver swept.

    A leaver is swept when the directory change held or was not needed (never after a failure: the report
    says the sweep did not run, and why). At Atlassian the account is found by the leaver's
    `atlassian_account_id`, else by `email`. At Alibaba the sweep removes what a delete left (RAM user
    provisionings), so it runs for `state` absent only, by the CloudSSO user id the directory task found, and
    not at all with `force`, whose delete already removed them.

    With `planned` (the outcomes of the pass that worked out an approved run's changes with reads only), only
    the leavers whose planned sweep had something to remove are addressed, by the id that pass found.
    Returns `user_ids`, `user_names`, `rows` (`leaver`, `by`, `position`, `key`), `skipped` (leaver index to
    the reason it is not swept; a leaver whose planned sweep found nothing keeps that sweep) and
    `approved_actions` (with `planned`: by id, the actions of the leftover that pass found and `approved_plan` has
    at `directory`, which bind the sweep task; else None).
    """
    if provider not in SWEEP_TASKS:
        raise AnsibleFilterError("offboard_sweep_targets: %r has no sweep task" % provider)
    if not isinstance(outcomes, list) or len(outcomes) != len(leavers or []):
        raise AnsibleFilterError("offboard_sweep_targets: the outcomes at %s do not match the leavers" % provider)
    lists = {"id": [], "name": []}
    approved = {"id": {}, "name": {}} if planned is not None else None
    in_plan = approved_actions_of(approved_plan, provider, directory) if planned is not None else {}
    rows, skipped = [], {}
    for index, (outcome, leaver) in enumerate(zip(outcomes, leavers)):
        found = None
        if outcome.get("outcome") not in SWEPT_AFTER:
            skipped[index] = _not_swept("the change at the directory did not succeed (%s)" % outcome.get("outcome"))
        elif planned is not None:
            sweep = _planned_sweep(planned, index)
            if sweep and sweep.get("leftover") and _text(sweep.get("user_id")):
                found = ("id", _text(sweep["user_id"]))
                # Only the removals of leftover access that pass found and the approved plan has: the sweep task
                # may do nothing else.
                allowed = in_plan.get(found[1], [])
                approved["id"][found[1]] = [item.get("action") for item in sweep["leftover"]
                                            if item.get("action") and _leftover_text(item) in allowed]
            else:
                skipped[index] = dict(sweep) if sweep else _not_swept("the approved plan has no sweep for this leaver")
        elif provider == "atlassian":
            found = _atlassian_key(leaver)
            if found is None:
                skipped[index] = _not_swept("the leaver has no email or atlassian_account_id to find the Atlassian "
                                            "account by")
        elif state != "absent":
            skipped[index] = _not_swept("the CloudSSO user was disabled, not deleted: the RAM users it provisioned "
                                        "stay while the user can be enabled again")
        elif not _text(outcome.get("user_id")):
            skipped[index] = _not_swept("the user was already absent and was given by name, so its id (which its "
                                        "RAM user provisionings name) is unknown; give alibaba_user_id to sweep "
                                        "what an earlier delete left")
        elif force:
            # The delete with force removed the provisionings first (of an absent id too): its result lists them.
            skipped[index] = {"status": "swept by the delete", "why": "offboard_force: the delete removed them first"}
        else:
            found = ("id", _text(outcome["user_id"]))
        if found is not None:
            by, key = found
            rows.append({"leaver": index, "by": by, "position": len(lists[by]), "key": key})
            lists[by].append(key)
    return {"provider": provider, "user_ids": lists["id"], "user_names": lists["name"], "rows": rows,
            "skipped": skipped, "approved_actions": approved}


def _sweep_of(user, check_mode, provider):
    """The sweep of one leaver from one user result of the sweep task."""
    leftover = list(user.get("leftover") or [])
    sweep = {"user_id": user.get("user_id"), "user_name": user.get("user_name"), "leftover": leftover,
             "manual_follow_up": list(user.get("manual_follow_up") or []),
             "request_ids": list(user.get("request_ids") or []), "msg": _text(user.get("msg")),
             "managed": user.get("managed"), "error": None}
    if user.get("failed"):
        sweep.update(status="failed", error=user.get("error") or {"message": sweep["msg"]})
    elif leftover:
        sweep["status"] = "would sweep" if check_mode else "swept"
    elif user.get("changed") and not check_mode:
        # A change that removed no leftover access is not what a sweep makes: never count it as nothing left.
        sweep.update(status="failed", error={"message": "the sweep changed the user without naming what it "
                                                        "removed: %s" % sweep["msg"]})
    elif provider == "atlassian" and user.get("found") is False:
        # Proven only for the email searched: an account under another email is not proven gone.
        sweep["status"] = "not found"
        sweep["manual_follow_up"].append({
            "kind": "Atlassian account", "where": None,
            "detail": "no account with the email %s is in the organization, so none was swept; if the leaver's "
                      "account uses another email, give atlassian_account_id" % _text(user.get("user_name"))})
    elif sweep["manual_follow_up"]:
        # It found something it did not remove (gone already, by someone else): what may be left is for a person,
        # never "nothing left".
        sweep["status"] = "nothing removed"
    else:
        sweep["status"] = "nothing left"
    return sweep


def offboard_swept(outcomes, targets, by_id, by_name, check_mode):
    """The outcomes at one provider, each with `sweep`: `status` (swept, would sweep, nothing left, nothing removed,
    failed, not swept), `leftover`, `manual_follow_up`, `user_id`, `user_name`, `request_ids`, `msg`, `error` (and `why` when
    not swept), from the registered results of the sweep task by id and by name."""
    swept = [dict(outcome) for outcome in outcomes]
    for index, why in (targets.get("skipped") or {}).items():
        swept[int(index)]["sweep"] = dict(why)
    for row in targets["rows"]:
        result = by_id if row["by"] == "id" else by_name
        users = (result.get("users") or []) if isinstance(result, dict) else []
        if not isinstance(result, dict) or result.get("skipped"):
            sweep = {"status": "failed", "error": {"message": "the sweep task did not run"}, "leftover": [],
                     "manual_follow_up": []}
        elif row["position"] < len(users):
            sweep = _sweep_of(users[row["position"]], check_mode, targets["provider"])
        else:
            message = result.get("msg") or "the sweep task failed without a message"
            sweep = {"status": "failed", "error": result.get("error") or {"message": message}, "msg": message,
                     "leftover": [], "manual_follow_up": []}
        swept[row["leaver"]]["sweep"] = sweep
    return swept


class FilterModule:
    def filters(self):
        return {
            "offboard_sweep_targets": offboard_sweep_targets,
            "offboard_swept": offboard_swept,
        }
