# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the identity.lifecycle.offboard role: the checks made before any request, who to address
at each provider, what happened to each leaver, and the audit report in JSON and Markdown."""

from __future__ import annotations

import unicodedata

from ansible.errors import AnsibleFilterError

PROVIDERS = ("atlassian", "uipath", "alibaba")
PROVIDER_TITLES = {"atlassian": "Atlassian Cloud", "uipath": "UiPath", "alibaba": "Alibaba Cloud CloudSSO"}
OUTCOMES = ("removed", "disabled", "would remove", "would disable", "already absent", "already disabled", "failed")

# The settings that decide whether a provider is configured, with the environment variables the modules
# fall back to (the first one that is set wins, as in the modules' argument specs).
SETTINGS = {
    "atlassian": {
        "directory_id": ("ATLASSIAN_SCIM_DIRECTORY_ID",),
        "api_key": ("ATLASSIAN_SCIM_API_KEY",),
    },
    "uipath": {
        "organization": ("UIPATH_ORGANIZATION",),
        "identity_url": ("UIPATH_IDENTITY_URL",),
        "client_id": ("UIPATH_CLIENT_ID",),
        "client_secret": ("UIPATH_CLIENT_SECRET",),
        "access_token": ("UIPATH_ACCESS_TOKEN",),
    },
    "alibaba": {
        "directory_id": ("ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID",),
        "access_key_id": ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY"),
        "access_key_secret": ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"),
    },
}
# A provider needs every group; a group is met by any one of its alternatives, an alternative by all its settings.
REQUIREMENTS = {
    "atlassian": ((("directory_id",),), (("api_key",),)),
    "uipath": ((("organization",), ("identity_url",)), (("client_id", "client_secret"), ("access_token",))),
    "alibaba": ((("directory_id",),), (("access_key_id",),), (("access_key_secret",),)),
}
ENVIRONMENT_NAMES = tuple(name for provider in PROVIDERS for names in SETTINGS[provider].values() for name in names)

LEAVER_KEYS = ("name", "email") + tuple("%s_user_%s" % (provider, kind) for provider in PROVIDERS
                                        for kind in ("name", "id"))
# Module messages that say no more than the outcome; any other message is shown as a note.
PLAIN_MESSAGES = ("", "deleted", "disabled", "would be deleted", "would be disabled", "already absent",
                  "already disabled")


def _text(value):
    return str(value).strip() if value is not None else ""


# --- checks before any request --------------------------------------------------------------------------

def _describe_leaver(leavers, index):
    """The leaver's position and every non-empty field it has (repr: control characters show escaped)."""
    fields = ", ".join("%s %r" % (key, _text(leavers[index].get(key))) for key in LEAVER_KEYS
                       if _text(leavers[index].get(key)))
    return "offboard_users[%d]%s" % (index, " (%s)" % fields if fields else "")


def _identifier(leaver, provider):
    """("id", value) or ("name", value) to address the leaver at the provider, or None."""
    user_id = _text(leaver.get(provider + "_user_id"))
    if user_id:
        return "id", user_id
    user_name = _text(leaver.get(provider + "_user_name")) or _text(leaver.get("email"))
    return ("name", user_name) if user_name else None


def _no_identifier(leavers, index, provider):
    return ("%s has nothing to address the leaver by at %s: give email, %s_user_name or %s_user_id."
            % (_describe_leaver(leavers, index), provider, provider, provider))


def _check_leavers(leavers):
    if not isinstance(leavers, list):
        raise AnsibleFilterError("offboard_users must be a list of leavers")
    for index, leaver in enumerate(leavers):
        if not isinstance(leaver, dict):
            raise AnsibleFilterError("offboard_users[%d] is not a dict" % index)


def _setting(provider, key, settings, environment):
    """(present, where it is set but empty or None) for one setting, as the module would see it."""
    role_settings = settings.get(provider) or {}
    if key in role_settings:
        # module_defaults passes the role's key to the module, so the environment is not consulted.
        present = bool(_text(role_settings[key]))
        return present, None if present else "offboard_%s.%s" % (provider, key)
    for name in SETTINGS[provider][key]:
        if environment.get(name) is not None:
            present = bool(_text(environment[name]))
            return present, None if present else name
    return False, None


def _setting_names(provider, key, empty):
    names = "offboard_%s.%s (%s)" % (provider, key, " or ".join(SETTINGS[provider][key]))
    return names + (", %s is set but empty" % empty if empty else "")


def _missing(provider, status):
    """What is missing for every unmet group, or [] when the provider is fully configured."""
    missing = []
    for group in REQUIREMENTS[provider]:
        if any(all(status[key][0] for key in alternative) for alternative in group):
            continue
        # Name only what completes an alternative already begun; else every alternative.
        begun = [alternative for alternative in group if any(status[key][0] for key in alternative)] or group
        missing.append(", or ".join(" and ".join(_setting_names(provider, key, status[key][1]) for key in alternative
                                                 if not status[key][0]) for alternative in begun))
    return missing


def _check_provider(provider, settings, environment, named):
    status = dict((key, _setting(provider, key, settings, environment)) for key in SETTINGS[provider])
    present = [key for key in SETTINGS[provider] if status[key][0]]
    missing = _missing(provider, status)
    if not missing:
        return True, None
    if not present and not named:
        return False, None
    where = ("The role reads offboard_%s and the environment of ansible-playbook, not module_defaults or a "
             "play's environment keyword." % provider)
    if not present:
        return False, ("offboard_providers names %s, but it is not configured: missing %s. %s"
                       % (provider, "; and ".join(missing), where))
    return False, ("%s is only partly configured: %s %s set, but missing %s. Set the missing settings, or remove "
                   "the others to leave %s out. %s" % (provider, ", ".join(present), "is" if len(present) == 1 else "are",
                                                       "; and ".join(missing), provider, where))


def offboard_preflight(leavers, settings, environment, requested=None):
    """Decide the providers of the run and list every problem that must stop it before any request.

    `settings` holds the role variables per provider, `environment` the values of ENVIRONMENT_NAMES (None
    when unset), `requested` the role's `offboard_providers` (None: every configured provider). A provider
    is configured when all its required settings are present, left out when none is, and a problem when
    only some are (or when it is requested and not configured). Values are never put in a message.
    """
    _check_leavers(leavers)
    settings = settings or {}
    environment = environment or {}
    named = list(requested) if requested is not None else None
    problems = []
    providers = []
    for provider in PROVIDERS if named is None else [name for name in PROVIDERS if name in named]:
        configured, problem = _check_provider(provider, settings, environment, named is not None)
        if problem:
            problems.append(problem)
        if configured or named is not None:
            providers.append(provider)
    if not providers and not problems:
        problems.append("No provider is configured: set all the credentials of at least one provider (the "
                        "ATLASSIAN_SCIM_*, UIPATH_* or ALIBABA_CLOUD_* environment variables, or offboard_atlassian, "
                        "offboard_uipath or offboard_alibaba), see docs/offboarding.md.")
    for provider in providers:
        problems.extend(_no_identifier(leavers, index, provider) for index, leaver in enumerate(leavers)
                        if _identifier(leaver, provider) is None)
    return {"providers": providers, "problems": problems}


# --- who to address, and what happened ------------------------------------------------------------------

def offboard_targets(leavers, provider):
    """Split the leavers into those addressed by id and by name at `provider`.

    A leaver's `<provider>_user_id` wins over `<provider>_user_name`, which wins over `email`. A leaver
    with none of them is an error, never skipped (offboard_preflight reports it before any request).
    """
    if provider not in PROVIDERS:
        raise AnsibleFilterError("offboard_targets: unknown provider %r" % provider)
    _check_leavers(leavers)
    lists = {"id": [], "name": []}
    rows = []
    for index, leaver in enumerate(leavers):
        found = _identifier(leaver, provider)
        if found is None:
            raise AnsibleFilterError(_no_identifier(leavers, index, provider))
        by, key = found
        rows.append({"leaver": index, "by": by, "position": len(lists[by]), "key": key})
        lists[by].append(key)
    return {"provider": provider, "user_ids": lists["id"], "user_names": lists["name"], "rows": rows}


def _outcome(user, state, check_mode):
    """The outcome of one user result, or None when the result proves neither a change nor the state."""
    if user.get("failed"):
        return "failed"
    if user.get("changed"):
        # A change this run made (or would make), also when it was confirmed only after a retry.
        if state == "absent":
            return "would remove" if check_mode else "removed"
        return "would disable" if check_mode else "disabled"
    if not user.get("found") or user.get("state") == "absent":
        return "already absent"
    if state == "disabled" and user.get("state") == "disabled":
        return "already disabled"
    return None


def _note(user, outcome):
    """What the report must show beside the outcome: a message that says more than the outcome, or that
    an earlier attempt of a failed change may have been carried out."""
    if outcome == "failed":
        lost = (user.get("error") or {}).get("lost_answer") or {}
        if not lost:
            return ""
        note = "an earlier attempt may have been carried out by the provider (%s)" % _text(lost.get("message"))
        return note + ("; its request id: %s" % lost["request_id"] if lost.get("request_id") else "")
    msg = _text(user.get("msg"))
    return "" if msg in PLAIN_MESSAGES else msg


def _task_error(result):
    return result.get("msg") or "the task failed without a message"


def offboard_outcomes(targets, by_id, by_name, state, check_mode, finished):
    """One outcome per leaver at one provider, from the registered results of the id and name tasks."""
    outcomes = []
    for row in targets["rows"]:
        entry = {"outcome": "failed", "by": row["by"], "requested": row["key"], "user_id": None,
                 "user_name": None, "actions": [], "request_ids": [], "msg": "", "note": "", "error": None,
                 "time": finished}
        result = by_id if row["by"] == "id" else by_name
        users = (result.get("users") or []) if isinstance(result, dict) else []
        if not isinstance(result, dict) or result.get("skipped"):
            entry.update(msg="the provider task did not run", error={"message": "not run"})
        elif row["position"] < len(users):
            user = users[row["position"]]
            outcome = _outcome(user, state, check_mode)
            entry.update(user_id=user.get("user_id"), user_name=user.get("user_name"),
                         actions=list(user.get("actions") or []), request_ids=list(user.get("request_ids") or []),
                         msg=user.get("msg", ""), error=user.get("error"))
            if outcome is None:
                outcome = "failed"
                entry["msg"] = ("the module reported no change and the state %r, not %r: %s"
                                % (user.get("state"), state, user.get("msg", "")))
            entry.update(outcome=outcome, note=_note(user, outcome))
            if outcome == "failed" and not entry["error"]:
                entry["error"] = {"message": entry["msg"]}
        else:
            # The whole task failed before any user (bad credentials, unreachable provider).
            entry.update(msg=_task_error(result), error=result.get("error") or {"message": _task_error(result)})
        outcomes.append(entry)
    return outcomes


# --- the report ------------------------------------------------------------------------------------------

def _leaver_ref(leaver):
    """The leaver in one value: the email, else the name, else the first identifier."""
    for key in ("email", "name") + LEAVER_KEYS[2:]:
        if _text(leaver.get(key)):
            return _text(leaver.get(key))
    return ""


def _leaver_label(leaver):
    name, email = _text(leaver.get("name")), _text(leaver.get("email"))
    return "%s (%s)" % (name, email) if name and email else _leaver_ref(leaver)


def _result_line(leavers, failures):
    if not leavers:
        return "no leavers given"
    if failures:
        return "FAILED: %d leaver/provider pair(s) need attention" % len(failures)
    return "every leaver was handled at every provider"


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
        rows.append({"email": leaver.get("email"), "name": leaver.get("name"), "label": _leaver_label(leaver),
                     "results": results})
    failures = [{"leaver": _leaver_ref(leaver), "provider": provider, "error": result["error"], "msg": result["msg"]}
                for leaver, row in zip(leavers, rows) for provider, result in row["results"].items()
                if result["outcome"] == "failed"]
    return {
        "report": "identity.lifecycle offboarding report",
        "run_id": run_id,
        "mode": "rehearsal (check mode, nothing was changed)" if check_mode else "offboarding",
        "check_mode": bool(check_mode),
        "state": state,
        "started": started,
        "finished": finished,
        "providers": [{"name": provider, "title": PROVIDER_TITLES[provider]} for provider in providers],
        "result": _result_line(leavers, failures),
        "summary": dict((key, value) for key, value in summary.items() if value),
        "failed": bool(failures),
        "failures": failures,
        "leavers": rows,
    }


# --- Markdown --------------------------------------------------------------------------------------------

# Characters that start Markdown structure inline (code spans, emphasis, links and images, tables,
# headings, strikethrough) and the backslash itself; "&", "<" and ">" become entities (HTML, autolinks).
_MARKDOWN_ESCAPES = dict((char, "\\" + char) for char in "\\`*_[]|#~")
_MARKDOWN_ESCAPES.update({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_VISIBLE = {"\n": "\\\\n", "\r": "\\\\r", "\t": "\\\\t"}


def _md(value):
    """Any value as inline Markdown text that reads as the value and adds no structure.

    Control and format characters (line breaks, bidirectional overrides, zero-width characters) are
    written as visible escapes such as \\n or \\u202e, so a value can neither start a new line nor hide text.
    """
    out = []
    for char in "" if value is None else str(value):
        if char in _MARKDOWN_ESCAPES:
            out.append(_MARKDOWN_ESCAPES[char])
        elif char in _VISIBLE:
            out.append(_VISIBLE[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(("\\\\u%04x" if ord(char) <= 0xFFFF else "\\\\U%08x") % ord(char))
        else:
            out.append(char)
    return "".join(out)


def _row(cells):
    return "|%s|" % "|".join(" %s " % cell if cell else " " for cell in cells)


def _table(header, rows):
    return [_row(header), "|%s" % ("---|" * len(header))] + [_row(cells) for cells in rows]


def _details(report, provider, result):
    if not result:
        return ["- **%s**: not run" % _md(provider["title"])]
    lines = ["- **%s**: %s at %s" % (_md(provider["title"]), _md(result["outcome"]), _md(result.get("time")))]
    if result.get("user_id"):
        user = "  - user id: %s" % _md(result["user_id"])
        lines.append(user + (", user name: %s" % _md(result["user_name"]) if result.get("user_name") else ""))
    elif result.get("requested"):
        lines.append("  - looked up by %s: %s" % (_md(result["by"]), _md(result["requested"])))
    if result.get("actions"):
        lines.append("  - %s: %s" % ("would be done" if report["check_mode"] else "done",
                                     "; ".join(_md(action) for action in result["actions"])))
    if result.get("request_ids"):
        lines.append("  - request ids: %s" % ", ".join(_md(request_id) for request_id in result["request_ids"]))
    if result["outcome"] == "failed":
        lines.append("  - reason: %s" % _md(result.get("msg")))
    if result.get("note"):
        lines.append("  - note: %s" % _md(result["note"]))
    return lines


def offboard_markdown(report):
    """The auditor's view of one run, from the output of offboard_report. Every value is escaped with `_md`."""
    titles = [_md(provider["title"]) for provider in report["providers"]]
    state = ("absent (accounts deleted)" if report["state"] == "absent"
             else "disabled (accounts deactivated, kept)")
    lines = ["# Offboarding report %s" % _md(report["run_id"]), ""]
    lines += _table(["", ""], [
        ["Run", _md(report["mode"])], ["Requested state", state], ["Started (UTC)", _md(report["started"])],
        ["Finished (UTC)", _md(report["finished"])], ["Providers", ", ".join(titles)],
        ["Leavers", str(len(report["leavers"]))], ["Result", _md(report["result"])]])
    lines += ["", "## Summary", ""]
    lines += ["- %s: %d" % (_md(outcome), count) for outcome, count in report["summary"].items()] or ["- no leavers given"]
    lines += ["", "## Leavers", ""]
    if not report["leavers"]:
        lines.append("No leavers given.")
    else:
        lines += _table(["Leaver"] + titles, [
            [_md(leaver["label"])] + [_md(leaver["results"].get(provider["name"], {}).get("outcome", "not run"))
                                      for provider in report["providers"]]
            for leaver in report["leavers"]])
    lines += ["", "## Details", ""]
    for leaver in report["leavers"]:
        lines += ["### %s" % _md(leaver["label"]), ""]
        for provider in report["providers"]:
            lines += _details(report, provider, leaver["results"].get(provider["name"]))
        lines.append("")
    if report["failed"]:
        lines += ["## Failures", ""]
        lines += _table(["Leaver", "Provider", "HTTP status", "Error code", "Message", "Request id"], [
            [_md(failure["leaver"]), _md(failure["provider"]), _md((failure["error"] or {}).get("status") or ""),
             _md((failure["error"] or {}).get("code") or ""),
             _md((failure["error"] or {}).get("message") or failure["msg"]),
             _md((failure["error"] or {}).get("request_id") or "")]
            for failure in report["failures"]])
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


class FilterModule:
    def filters(self):
        return {
            "offboard_preflight": offboard_preflight,
            "offboard_targets": offboard_targets,
            "offboard_outcomes": offboard_outcomes,
            "offboard_report": offboard_report,
            "offboard_markdown": offboard_markdown,
        }
