# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the identity.lifecycle.offboard role: the checks made before any request (for one inventory
host, and for every directory of the run), who to address at each provider, what happened to each leaver,
and the audit report in JSON and Markdown."""

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
# The settings that say where a provider's API is (with the modules' defaults): two directories are the same
# when their provider, location and id are.
LOCATIONS = {
    "atlassian": (("base_url", ("ATLASSIAN_SCIM_BASE_URL",), "https://api.atlassian.com/scim"),),
    "uipath": (("base_url", ("UIPATH_URL",), "https://cloud.uipath.com"),),
    "alibaba": (("endpoint", ("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT",), None),
                ("region", ("ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION"), "cn-shanghai")),
}
ENVIRONMENT_NAMES = tuple(name for provider in PROVIDERS for names in SETTINGS[provider].values() for name in names) + \
    tuple(name for provider in PROVIDERS for _key, names, _default in LOCATIONS[provider] for name in names)

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


def _check_provider(provider, settings, environment, named, directory=None):
    """(configured, problem or None). `named`: the provider must be configured (offboard_providers names it,
    or it is the offboard_provider of the inventory host `directory`)."""
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
        subject = ("directory %s has offboard_provider %s" % (directory, provider) if directory
                   else "offboard_providers names %s" % provider)
        return False, ("%s, but it is not configured: missing %s. %s"
                       % (subject, "; and ".join(missing), where))
    return False, ("%s%s is only partly configured: %s %s set, but missing %s. Set the missing settings, or remove "
                   "the others to leave %s out. %s" % ("directory %s: " % directory if directory else "", provider,
                                                       ", ".join(present), "is" if len(present) == 1 else "are",
                                                       "; and ".join(missing), provider, where))


def _value(provider, key, names, default, settings, environment):
    """A setting as the module would get it: the role variable's key, else the first environment variable set."""
    role_settings = settings.get(provider) or {}
    if key in role_settings:
        return _text(role_settings[key])
    for name in names:
        if environment.get(name) is not None:
            return _text(environment[name])
    return default or ""


def _directory(provider, settings, environment, host, key):
    """The directory `provider` addresses with these settings: its own id (as the report shows it) and the
    identity that tells two directories apart (provider, API location and id, compared without case)."""
    def value(name, names=(), default=None):
        return _value(provider, name, names or SETTINGS[provider].get(name, ()), default, settings, environment)
    if provider == "uipath" and value("identity_url"):
        directory_id, location = value("identity_url"), ""
    else:
        directory_id = value("organization" if provider == "uipath" else "directory_id")
        location = "|".join(value(name, names, default) for name, names, default in LOCATIONS[provider])
    identity = "%s|%s|%s" % (provider, location.rstrip("/"), directory_id.rstrip("/"))
    return {"key": key, "host": host, "provider": provider, "title": PROVIDER_TITLES[provider],
            "directory_id": directory_id or None, "identity": identity.lower(), "status": "run", "problems": []}


def _leaver_problems(leavers, providers):
    return [_no_identifier(leavers, index, provider) for provider in providers
            for index, leaver in enumerate(leavers) if _identifier(leaver, provider) is None]


def _host_directory(leavers, settings, environment, requested, host, provider):
    """The preflight of an inventory host that is one directory (it has offboard_provider)."""
    if provider not in PROVIDERS:
        directory = {"key": host, "host": host, "provider": _text(provider), "title": _text(provider),
                     "directory_id": None, "identity": None, "status": "run",
                     "problems": ["directory %s has offboard_provider %r, which is not one of %s; nothing was sent "
                                  "to it." % (host, _text(provider), ", ".join(PROVIDERS))]}
        return {"providers": [], "problems": [], "directories": [directory], "inventory": True}
    directory = _directory(provider, settings, environment, host, host)
    if requested is not None and provider not in requested:
        directory["status"] = "left out"
        return {"providers": [], "problems": [], "directories": [directory], "inventory": True}
    configured, problem = _check_provider(provider, settings, environment, True, host)
    if problem:
        directory["problems"].append(problem + " Nothing was sent to this directory.")
    return {"providers": [provider] if configured else [], "problems": _leaver_problems(leavers, [provider]),
            "directories": [directory], "inventory": True}


def offboard_preflight(leavers, settings, environment, requested=None, host=None, provider=None):
    """Decide the providers of the run and list every problem that must stop it before any request.

    `settings` holds the role variables per provider, `environment` the values of ENVIRONMENT_NAMES (None
    when unset), `requested` the role's `offboard_providers` (None: every configured provider). A provider
    is configured when all its required settings are present, left out when none is, and a problem when
    only some are (or when it is requested and not configured). Values are never put in a message.

    `host` is the inventory host. Given `provider` (the host's offboard_provider), the host is one directory
    of that provider: problems of its settings are the directory's own (`directories[0].problems`: it fails,
    the others go on), problems of the leavers are the run's (`problems`: nothing starts anywhere).
    """
    _check_leavers(leavers)
    settings = settings or {}
    environment = environment or {}
    named = list(requested) if requested is not None else None
    if provider is not None:
        return _host_directory(leavers, settings, environment, named, host, provider)
    problems = []
    providers = []
    for name in PROVIDERS if named is None else [name for name in PROVIDERS if name in named]:
        configured, problem = _check_provider(name, settings, environment, named is not None)
        if problem:
            problems.append(problem)
        if configured or named is not None:
            providers.append(name)
    if not providers and not problems:
        problems.append("No provider is configured: set all the credentials of at least one provider (the "
                        "ATLASSIAN_SCIM_*, UIPATH_* or ALIBABA_CLOUD_* environment variables, or offboard_atlassian, "
                        "offboard_uipath or offboard_alibaba), see docs/offboarding.md.")
    problems.extend(_leaver_problems(leavers, providers))
    return {"providers": providers, "problems": problems, "inventory": False,
            "directories": [_directory(name, settings, environment, host, name) for name in providers]}


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def offboard_directories(preflights):
    """Every directory of the run, from the offboard_preflight result of each inventory host of the play.

    `preflights` maps each host of the play (ansible_play_hosts_all) to its result, or None when the host
    stopped before it (a failed task, such as the role's argument validation). Returns `problems` (the
    leavers' problems, once each: the run must not start), `directories` (each with `problems` of its own:
    it sends nothing, is reported failed, and the others go on) and `inventory` (whether the hosts are
    directories, offboard_provider, rather than one host that addresses the configured providers).
    """
    if not isinstance(preflights, dict):
        raise AnsibleFilterError("offboard_directories expects a dict of inventory host to preflight result")
    inventory = any(result and result.get("inventory") for result in preflights.values())
    problems = []
    directories = []
    for host, result in preflights.items():
        if result is None:
            directories.append({"key": host, "host": host, "provider": None, "title": host, "directory_id": None,
                                "identity": None, "status": "run", "problems": [
                                    "directory %s stopped before its checks (see its failed task in the play output); "
                                    "nothing was sent to it." % host]})
            continue
        problems.extend(result["problems"])
        host_directories = [dict(directory, problems=list(directory["problems"]))
                            for directory in result["directories"]]
        if inventory and not result.get("inventory"):
            host_directories = [{"key": host, "host": host, "provider": None, "title": host, "directory_id": None,
                                 "identity": None, "status": "run", "problems": [
                                     "host %s has no offboard_provider, but other hosts of the play are directories; "
                                     "nothing was sent from it." % host]}]
        directories.extend(host_directories)
    for directory in directories:
        same = [other["host"] for other in directories if other is not directory and directory["identity"]
                and other["identity"] == directory["identity"] and other["status"] == "run"]
        if same and directory["status"] == "run":
            directory["problems"].append(
                "host %s addresses the same %s directory (%s) as host %s; a directory must be one inventory host, "
                "so nothing was sent to it from any of them."
                % (directory["host"], directory["title"], directory["directory_id"], ", ".join(same)))
    return {"inventory": inventory, "problems": _unique(problems), "directories": directories}


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


def _result_line(leavers, failures, inventory):
    unit = "directory" if inventory else "provider"
    pairs = [failure for failure in failures if failure["leaver"] is not None]
    whole = [failure["directory"] or failure["provider"] for failure in failures if failure["leaver"] is None]
    if failures:
        parts = (["%d leaver/%s pair(s)" % (len(pairs), unit)] if pairs else []) + \
            (["%d directory(ies) (%s)" % (len(whole), ", ".join(whole))] if whole else [])
        return "FAILED: %s need attention" % " and ".join(parts)
    if not leavers:
        return "no leavers given"
    return "every leaver was handled at every %s" % unit


def _directory_entry(directory):
    """A directory of the report; a provider name stands for the one directory of that provider on the host."""
    if isinstance(directory, dict):
        return directory
    if directory not in PROVIDERS:
        raise AnsibleFilterError("offboard_report: unknown provider %r" % directory)
    return {"key": directory, "host": None, "provider": directory, "title": PROVIDER_TITLES[directory],
            "directory_id": None, "status": "run", "problems": []}


def _directory_outcomes(results, directory):
    """(the outcomes of every leaver at the directory, or None; why there are none)."""
    if directory["problems"]:
        return None, " ".join(directory["problems"])
    if directory["host"] is None:
        return results.get(directory["key"]), "the provider's tasks did not run"
    host = results.get(directory["host"])
    if not isinstance(host, dict):
        return None, ("host %s stopped before its directory's outcomes were recorded (see its failed task in the "
                      "play output); what was done there is unknown: read the leavers there with the info modules"
                      % directory["host"])
    error = host.get("error")
    return (host.get("outcomes") or {}).get(directory["provider"]), (
        "the directory's tasks stopped (%s); what was done there is unknown: read the leavers there with the info "
        "modules" % error if error else "the directory's tasks did not run")


def _not_run(why, finished):
    return {"outcome": "failed", "by": None, "requested": None, "user_id": None, "user_name": None, "actions": [],
            "request_ids": [], "msg": why, "note": "", "error": {"message": why}, "time": finished}


def offboard_report(leavers, results, directories, state, check_mode, started, finished, run_id):
    """The audit report: one row per leaver with the outcome at every directory, and a summary.

    `directories` is the `directories` list of offboard_directories (or provider names: one directory each,
    whose outcomes are `results[provider]`); `results` maps each inventory host to `{"outcomes": {provider:
    offboard_outcomes}, "error": message or None}`, or to None when the host stopped before it recorded them.
    A directory with a problem, or without outcomes, fails every leaver there; it is never left out silently.
    """
    directories = [_directory_entry(directory) for directory in directories]
    inventory = any(directory["host"] is not None and directory["key"] == directory["host"]
                    for directory in directories)
    running = [directory for directory in directories if directory["status"] == "run"]
    summary = dict((outcome, 0) for outcome in OUTCOMES)
    columns = {}
    failed_keys = {}  # directory key -> why, for a directory that failed as a whole
    for directory in running:
        outcomes, why = _directory_outcomes(results or {}, directory)
        if outcomes is None or len(outcomes) != len(leavers):
            why = why if outcomes is None else "the recorded outcomes do not match the leavers"
            failed_keys[directory["key"]] = why
            outcomes = [_not_run(why, finished) for _leaver in leavers]
        where = {"provider": directory["provider"], "directory": directory["host"],
                 "directory_id": directory["directory_id"]}
        columns[directory["key"]] = [dict(outcome, **where) for outcome in outcomes]
    rows = []
    failures = []
    for index, leaver in enumerate(leavers):
        row_results = dict((key, column[index]) for key, column in columns.items())
        for key, result in row_results.items():
            summary[result["outcome"]] += 1
            if result["outcome"] == "failed":
                failed_keys.setdefault(key, None)
                failures.append({"leaver": _leaver_ref(leaver), "provider": result["provider"],
                                 "directory": result["directory"], "directory_id": result["directory_id"],
                                 "error": result["error"], "msg": result["msg"]})
        rows.append({"email": leaver.get("email"), "name": leaver.get("name"), "label": _leaver_label(leaver),
                     "results": row_results})
    report_directories = []
    for directory in directories:
        failed = directory["key"] in failed_keys
        if failed and not leavers:
            why = failed_keys[directory["key"]]
            failures.append({"leaver": None, "provider": directory["provider"], "directory": directory["host"],
                             "directory_id": directory["directory_id"], "error": {"message": why}, "msg": why})
        report_directories.append({
            "key": directory["key"], "directory": directory["host"], "provider": directory["provider"],
            "title": directory["title"], "directory_id": directory["directory_id"],
            "status": "failed" if failed else directory["status"], "reason": failed_keys.get(directory["key"])})
    providers = _unique([directory["provider"] for directory in running if directory["provider"] in PROVIDERS])
    return {
        "report": "identity.lifecycle offboarding report",
        "run_id": run_id,
        "mode": "rehearsal (check mode, nothing was changed)" if check_mode else "offboarding",
        "check_mode": bool(check_mode),
        "state": state,
        "started": started,
        "finished": finished,
        "inventory": inventory,
        "providers": [{"name": provider, "title": PROVIDER_TITLES[provider]} for provider in providers],
        "directories": report_directories,
        "result": _result_line(leavers, failures, inventory),
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


def _column(report, directory):
    """A directory's name in the Markdown report: the provider, or with inventory directories the host too."""
    if report["inventory"]:
        return "%s (%s)" % (_md(directory["directory"]), _md(directory["title"]))
    return _md(directory["title"])


def _details(report, directory, result):
    title = _column(report, directory)
    if report["inventory"] and directory.get("directory_id"):
        title += ", directory id %s" % _md(directory["directory_id"])
    if not result:
        return ["- **%s**: not run" % title]
    lines = ["- **%s**: %s at %s" % (title, _md(result["outcome"]), _md(result.get("time")))]
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


def _directories_section(report):
    lines = ["", "## Directories", ""]
    return lines + _table(["Directory", "Provider", "Directory id", "Result"], [
        [_md(directory["directory"]), _md(directory["title"]), _md(directory["directory_id"] or ""),
         _md(directory["status"] + (": %s" % directory["reason"] if directory.get("reason") else ""))]
        for directory in report["directories"]])


def _failures_section(report):
    inventory = report["inventory"]
    header = ["Leaver", "Provider"] + (["Directory"] if inventory else []) + [
        "HTTP status", "Error code", "Message", "Request id"]
    rows = []
    for failure in report["failures"]:
        error = failure["error"] or {}
        rows.append([_md(failure["leaver"] or "(every leaver)"), _md(failure["provider"])]
                    + ([_md(failure["directory"])] if inventory else [])
                    + [_md(error.get("status") or ""), _md(error.get("code") or ""),
                       _md(error.get("message") or failure["msg"]), _md(error.get("request_id") or "")])
    return ["## Failures", ""] + _table(header, rows) + [""]


def offboard_markdown(report):
    """The auditor's view of one run, from the output of offboard_report. Every value is escaped with `_md`."""
    titles = [_md(provider["title"]) for provider in report["providers"]]
    shown = [directory for directory in report["directories"] if directory["status"] != "left out"]
    state = ("absent (accounts deleted)" if report["state"] == "absent"
             else "disabled (accounts deactivated, kept)")
    lines = ["# Offboarding report %s" % _md(report["run_id"]), ""]
    lines += _table(["", ""], [
        ["Run", _md(report["mode"])], ["Requested state", state], ["Started (UTC)", _md(report["started"])],
        ["Finished (UTC)", _md(report["finished"])], ["Providers", ", ".join(titles)]]
        + ([["Directories", str(len(shown))]] if report["inventory"] else []) + [
        ["Leavers", str(len(report["leavers"]))], ["Result", _md(report["result"])]])
    if report["inventory"]:
        lines += _directories_section(report)
    lines += ["", "## Summary", ""]
    lines += ["- %s: %d" % (_md(outcome), count) for outcome, count in report["summary"].items()] or ["- no leavers given"]
    lines += ["", "## Leavers", ""]
    if not report["leavers"]:
        lines.append("No leavers given.")
    else:
        lines += _table(["Leaver"] + [_column(report, directory) for directory in shown], [
            [_md(leaver["label"])] + [_md(leaver["results"].get(directory["key"], {}).get("outcome", "not run"))
                                      for directory in shown]
            for leaver in report["leavers"]])
    lines += ["", "## Details", ""]
    for leaver in report["leavers"]:
        lines += ["### %s" % _md(leaver["label"]), ""]
        for directory in shown:
            lines += _details(report, directory, leaver["results"].get(directory["key"]))
        lines.append("")
    if report["failed"]:
        lines += _failures_section(report)
    return "\n".join(lines).rstrip("\n") + "\n"


class FilterModule:
    def filters(self):
        return {
            "offboard_preflight": offboard_preflight,
            "offboard_directories": offboard_directories,
            "offboard_targets": offboard_targets,
            "offboard_outcomes": offboard_outcomes,
            "offboard_report": offboard_report,
            "offboard_markdown": offboard_markdown,
        }
