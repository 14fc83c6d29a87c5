# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the identity.lifecycle.offboard role: who to address at each provider, what
happened to each leaver, and the audit report."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

PROVIDERS = ("atlassian", "uipath", "alibaba")
PROVIDER_TITLES = {"atlassian": "Atlassian Cloud", "uipath": "UiPath", "alibaba": "Alibaba Cloud CloudSSO"}
OUTCOMES = ("removed", "disabled", "would remove", "would disable", "already absent", "already disabled",
            "skipped", "failed")


def _text(value):
    return str(value).strip() if value is not None else ""


def offboard_targets(leavers, provider):
    """Split the leavers into those addressed by id and by name at `provider`.

    A leaver's `<provider>_user_id` wins over `<provider>_user_name`, which wins over `email`.
    """
    if provider not in PROVIDERS:
        raise AnsibleFilterError("offboard_targets: unknown provider %r" % provider)
    if not isinstance(leavers, list):
        raise AnsibleFilterError("offboard_targets: expected a list of leavers")
    user_ids, user_names, rows = [], [], []
    for index, leaver in enumerate(leavers):
        if not isinstance(leaver, dict):
            raise AnsibleFilterError("offboard_targets: leaver %d is not a dict" % (index + 1))
        user_id = _text(leaver.get(provider + "_user_id"))
        user_name = _text(leaver.get(provider + "_user_name")) or _text(leaver.get("email"))
        if user_id:
            rows.append({"leaver": index, "by": "id", "position": len(user_ids), "key": user_id})
            user_ids.append(user_id)
        elif user_name:
            rows.append({"leaver": index, "by": "name", "position": len(user_names), "key": user_name})
            user_names.append(user_name)
        else:
            rows.append({"leaver": index, "by": None, "position": None, "key": None})
    return {"provider": provider, "user_ids": user_ids, "user_names": user_names, "rows": rows}


def _outcome(user, state, check_mode):
    if user.get("failed"):
        return "failed"
    if not user.get("found"):
        return "already absent"
    if user.get("changed"):
        if state == "absent":
            return "would remove" if check_mode else "removed"
        return "would disable" if check_mode else "disabled"
    return "already disabled" if user.get("state") == "disabled" else "already absent"


def _task_error(result):
    return result.get("msg") or "the task failed without a message"


def offboard_outcomes(targets, by_id, by_name, state, check_mode, finished):
    """One outcome per leaver at one provider, from the registered results of the id and name tasks."""
    outcomes = []
    for row in targets["rows"]:
        entry = {"outcome": "skipped", "by": row["by"], "requested": row["key"], "user_id": None,
                 "user_name": None, "actions": [], "request_ids": [], "msg": "", "error": None,
                 "time": finished}
        result = by_id if row["by"] == "id" else by_name
        if row["by"] is None:
            entry["msg"] = "no %s_user_id, %s_user_name or email given" % (targets["provider"], targets["provider"])
        elif not isinstance(result, dict) or result.get("skipped"):
            entry.update(outcome="failed", msg="the provider task did not run", error={"message": "not run"})
        else:
            users = result.get("users") or []
            if row["position"] < len(users):
                user = users[row["position"]]
                entry.update(outcome=_outcome(user, state, check_mode), user_id=user.get("user_id"),
                             user_name=user.get("user_name"), actions=list(user.get("actions") or []),
                             request_ids=list(user.get("request_ids") or []), msg=user.get("msg", ""),
                             error=user.get("error"))
                if entry["outcome"] == "failed" and not entry["error"]:
                    entry["error"] = {"message": user.get("msg", "")}
            else:
                # The whole task failed before any user (bad credentials, unreachable provider).
                entry.update(outcome="failed", msg=_task_error(result),
                             error=result.get("error") or {"message": _task_error(result)})
        outcomes.append(entry)
    return outcomes


def offboard_report(leavers, outcomes, providers, state, check_mode, started, finished, run_id):
    """The audit report: one row per leaver with the outcome at every provider, and a summary."""
    summary = dict((outcome, 0) for outcome in OUTCOMES)
    rows = []
    for index, leaver in enumerate(leavers):
        results = {}
        for provider in providers:
            provider_outcomes = outcomes.get(provider) or []
            if index < len(provider_outcomes):
                results[provider] = provider_outcomes[index]
                summary[results[provider]["outcome"]] += 1
        rows.append({"email": leaver.get("email"), "name": leaver.get("name"), "results": results})
    failures = [{"leaver": row["email"] or row["name"], "provider": provider, "error": result["error"],
                 "msg": result["msg"]}
                for row in rows for provider, result in row["results"].items() if result["outcome"] == "failed"]
    return {
        "report": "identity.lifecycle offboarding report",
        "run_id": run_id,
        "mode": "rehearsal (check mode, nothing was changed)" if check_mode else "offboarding",
        "check_mode": bool(check_mode),
        "state": state,
        "started": started,
        "finished": finished,
        "providers": [{"name": provider, "title": PROVIDER_TITLES[provider]} for provider in providers],
        "summary": dict((key, value) for key, value in summary.items() if value),
        "failed": bool(failures),
        "failures": failures,
        "leavers": rows,
    }


class FilterModule:
    def filters(self):
        return {
            "offboard_targets": offboard_targets,
            "offboard_outcomes": offboard_outcomes,
            "offboard_report": offboard_report,
        }
