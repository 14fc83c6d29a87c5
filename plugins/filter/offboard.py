# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the identity.lifecycle.offboard role: the checks made before any request (for one inventory
host, and for every directory of the run), who to address at each provider, what happened to each leaver,
and the audit report in JSON and Markdown."""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from ansible.errors import AnsibleFilterError

from ansible_collections.identity.lifecycle.plugins.module_utils._alibaba import (
    AlibabaCloudSsoDirectory,
    base_url as alibaba_base_url,
)
from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian import AtlassianScimDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian_admin import AtlassianAdminDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import plan_digest, plan_items
from ansible_collections.identity.lifecycle.plugins.module_utils._http import InputError
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import common_options
from ansible_collections.identity.lifecycle.plugins.module_utils._uipath import UiPathDirectory, identity_base

PROVIDERS = ("atlassian", "uipath", "alibaba")
PROVIDER_TITLES = {"atlassian": "Atlassian Cloud", "uipath": "UiPath", "alibaba": "Alibaba Cloud CloudSSO"}
OUTCOMES = ("removed", "disabled", "would remove", "would disable", "already absent", "already disabled", "failed",
            "not approved")
# Outcomes of a change made (or, in a rehearsal, that would be made): the rows of the plan.
CHANGES = ("removed", "disabled", "would remove", "would disable")
# Outcomes that fail a leaver at a directory.
FAILING = ("failed", "not approved")
# How a provider's user object (as its info module returns it) gives its id and says it is enabled.
USER_ID_FIELDS = {"atlassian": "id", "uipath": "id", "alibaba": "UserId"}
ENABLED = {
    "atlassian": lambda user: user.get("active", True) is not False,
    "uipath": lambda user: user.get("isActive", True) is not False,
    "alibaba": lambda user: user.get("Status") != "Disabled",
}

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
    # The sweep after the directory changes: Atlassian's needs the organization admin API (atlassian_account).
    "atlassian_admin": {
        "org_id": ("ATLASSIAN_ORG_ID",),
        "admin_api_key": ("ATLASSIAN_ADMIN_API_KEY",),
    },
}
# A provider needs every group; a group is met by any one of its alternatives, an alternative by all its settings.
REQUIREMENTS = {
    "atlassian": ((("directory_id",),), (("api_key",),)),
    "uipath": ((("organization",), ("identity_url",)), (("client_id", "client_secret"), ("access_token",))),
    "alibaba": ((("directory_id",),), (("access_key_id",),), (("access_key_secret",),)),
    "atlassian_admin": ((("org_id",),), (("admin_api_key",),)),
}
# The settings that say where a provider's API is (with the modules' defaults): two directories are the same
# when their provider, location and id are.
LOCATIONS = {
    "atlassian": (("base_url", ("ATLASSIAN_SCIM_BASE_URL",), "https://api.atlassian.com/scim"),),
    "uipath": (("base_url", ("UIPATH_URL",), "https://cloud.uipath.com"),),
    "alibaba": (("endpoint", ("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT",), None),
                ("region", ("ALIBABA_CLOUD_REGION_ID", "ALICLOUD_REGION"), "cn-shanghai")),
}
# The modules each settings dict of the role reaches through module_defaults (the role variable
# offboard_<name>): the keys it may have are those modules' connection options and common options, as the
# modules define them. Any other key would fail a module task, or (a key the role's tasks set themselves, such
# as state or force) be overridden without a word, so it is refused before any request.
SETTINGS_MODULES = {
    "atlassian": AtlassianScimDirectory,
    "uipath": UiPathDirectory,
    "alibaba": AlibabaCloudSsoDirectory,
    "atlassian_admin": AtlassianAdminDirectory,
}
ENVIRONMENT_NAMES = tuple(name for provider in PROVIDERS + ("atlassian_admin",) for names in SETTINGS[provider].values()
                          for name in names) + \
    tuple(name for provider in PROVIDERS for _key, names, _default in LOCATIONS[provider] for name in names)

LEAVER_KEYS = ("name", "email") + tuple("%s_user_%s" % (provider, kind) for provider in PROVIDERS
                                        for kind in ("name", "id")) + ("atlassian_account_id",)
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


def _plain_text(value):
    """`value` as a str made anew: no subclass, so no template trust (ansible-core 2.19 and later tag the strings
    of extra vars and vars files as templates) goes with it."""
    return str(value).encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def data_as_text(value):
    """Any data (dicts, lists, scalars) with every string, keys too, as plain text (`_plain_text`)."""
    if isinstance(value, str):
        return _plain_text(value)
    if isinstance(value, dict):
        return dict((data_as_text(key), data_as_text(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [data_as_text(item) for item in value]
    return value


def _kind(value):
    """The kind of a value in words, the same on every ansible-core (2.19 and later hand tagged subclasses)."""
    for kind, types in (("a bool", bool), ("a dict", dict), ("a list", (list, tuple)), ("text", str),
                        ("a number", (int, float))):
        if isinstance(value, types):
            return kind
    return "a %s" % type(value).__name__.lstrip("_")


def leavers_as_text(leavers):
    """The leavers as they were given, every field's value as text and nothing else.

    The leaver list comes from an HR export: it is data, never a template. The offboard_leavers action plugin
    hands this the variable offboard_users as it is stored, before any templating, and the role works on what
    it returns, which ansible-core never renders (AnsibleUnsafeText on 2.16, untrusted text on 2.19 and later):
    a name such as "{{ lookup('ansible.builtin.env', 'KEY') }}" stays that text in every task and report.
    A leaver that is not a dict, a key that is not a leaver field, or a value that is not text (a number is
    taken as its text) fails before any request, naming the leaver's position and the key.
    """
    if not isinstance(leavers, (list, tuple)):
        raise AnsibleFilterError("offboard_users must be a list of leavers (dicts), got %s" % _kind(leavers))
    taken = []
    for index, leaver in enumerate(leavers):
        if not isinstance(leaver, dict):
            raise AnsibleFilterError("offboard_users[%d] is not a dict (a leaver with the fields %s), got %s"
                                     % (index, ", ".join(LEAVER_KEYS), _kind(leaver)))
        fields = {}
        for key, value in leaver.items():
            if key not in LEAVER_KEYS:
                raise AnsibleFilterError("offboard_users[%d] has the key %r, which is not a leaver field; the fields "
                                         "are %s" % (index, _plain_text(key), ", ".join(LEAVER_KEYS)))
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
                raise AnsibleFilterError("offboard_users[%d].%s must be text, got %s" % (index, key, _kind(value)))
            fields[_plain_text(key)] = None if value is None else _plain_text(value)
        taken.append(fields)
    return taken


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
    # As in the modules, an empty variable counts as unset and the next one applies (AWX injects optional
    # inputs left empty as empty variables); the first empty one is named when none is set.
    empty = None
    for name in SETTINGS[provider][key]:
        if environment.get(name) is not None:
            if _text(environment[name]):
                return True, None
            empty = empty or name
    return False, empty


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
    """A setting as the module would get it: the role variable's key, else the first environment variable set
    and not empty, else the default."""
    role_settings = settings.get(provider) or {}
    if key in role_settings:
        return _text(role_settings[key])
    for name in names:
        if _text(environment.get(name)):
            return _text(environment[name])
    return default or ""


_DEFAULT_PORTS = {"http": 80, "https": 443}
# A CloudSSO regional endpoint, public or VPC (docs: providers' endpoints page; the SDK's endpoint rule).
_ALIBABA_REGIONAL_HOST = re.compile(r"cloudsso(?:-vpc)?\.([a-z0-9]+(?:-[a-z0-9]+)*)\.aliyuncs\.com")


def _url_key(url):
    """A URL as the server sees it: scheme and host without case, no default port, no trailing slash, the path
    percent-decoded (and, as before, compared without case)."""
    text = _text(url)
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.scheme or not parts.hostname:
        return unquote(text).rstrip("/").lower()
    scheme = parts.scheme.lower()
    host = "[%s]" % parts.hostname if ":" in parts.hostname else parts.hostname
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host += ":%d" % port
    return "%s://%s%s" % (scheme, host.lower(), unquote(parts.path).rstrip("/").lower())


def _location(provider, value):
    """Where the module sends its requests for a directory, in the form that tells two spellings of one place
    apart from two places: the module's own derivation of its base URL, then `_url_key`."""
    if provider == "atlassian":
        return _url_key(value("base_url"))
    if provider == "uipath":
        try:
            base = identity_base(value("base_url"), value("organization"), value("identity_url"))
        except InputError:  # the module fails on it before any request; compared as written
            base = value("identity_url") or "%s/%s/identity_" % (value("base_url").rstrip("/"), value("organization"))
        return _url_key(base)
    # Alibaba: an endpoint wins over the region; a regional endpoint (public or VPC) is its region.
    try:
        base = alibaba_base_url(value("endpoint"), value("region"))
    except InputError:
        base = value("endpoint") or value("region")
    host = urlsplit(base).hostname or ""
    regional = _ALIBABA_REGIONAL_HOST.fullmatch(host)
    return "region " + regional.group(1) if regional else _url_key(base)


def _directory(provider, settings, environment, host, key):
    """The directory `provider` addresses with these settings: its own id (as the report shows it) and the
    identity that tells two directories apart (provider, where the module sends its requests and the directory
    id, compared without case: see `_location`)."""
    def value(name):
        names = SETTINGS[provider].get(name, ())
        default = None
        for location_name, location_names, location_default in LOCATIONS[provider]:
            if location_name == name:
                names, default = location_names, location_default
        return _value(provider, name, names, default, settings, environment)
    if provider == "uipath":
        directory_id = value("identity_url") or value("organization")
        identity = "uipath|%s" % _location(provider, value)
    else:
        directory_id = value("directory_id")
        identity = "%s|%s|%s" % (provider, _location(provider, value), directory_id.rstrip("/"))
    return {"key": key, "host": host, "provider": provider, "title": PROVIDER_TITLES[provider],
            "directory_id": directory_id or None, "identity": identity.lower(), "status": "run", "problems": []}


def settings_keys(name):
    """The keys the role variable offboard_<name> may have: the options of the modules it is module_defaults
    for, other than those the role's tasks set (SETTINGS_MODULES)."""
    return sorted(set(SETTINGS_MODULES[name].connection_options()) | set(common_options()))


def _unknown_settings(settings, directory=None):
    """A problem for each key of a settings dict that no module of the role takes from it. Keys only, never
    values."""
    where = "directory %s: " % directory if directory else ""
    problems = []
    for name in SETTINGS_MODULES:
        values = settings.get(name)
        if values is None or values == "":
            continue
        if not isinstance(values, dict):
            problems.append("%soffboard_%s must be a dict of module options, got %s." % (
                where, name, _kind(values)))
            continue
        valid = settings_keys(name)
        for key in values:
            if key in valid:
                continue
            near = difflib.get_close_matches(_text(key), valid, n=1)
            problems.append("%soffboard_%s has the key %s, which no module of the role takes from it%s; the valid "
                            "keys are %s." % (
                                where, name, _text(key) if _text(key).isidentifier() else repr(key),
                                " (did you mean %s?)" % near[0] if near else "", ", ".join(valid)))
    return problems


def _tenants(settings):
    tenants = settings.get("uipath_tenants")
    if tenants is None or tenants == "":
        return []
    if not isinstance(tenants, list) or not all(isinstance(tenant, str) and tenant.strip() for tenant in tenants):
        raise AnsibleFilterError("offboard_uipath_tenants must be a list of UiPath tenant names")
    return tenants


def _sweeps(providers, settings, environment, sweep, directory=None):
    """(the providers whose leftover access the run sweeps, problems). `sweep` is offboard_sweep: None sweeps
    wherever a sweep's settings are present, true requires them at every provider of the run, false sweeps
    nowhere. Settings given only in part are a problem either way, as for a provider."""
    if sweep not in (None, True, False):
        raise AnsibleFilterError("offboard_sweep must be true, false or not set, got %r" % (sweep,))
    where = "directory %s: " % directory if directory else ""
    swept, problems = [], []
    if "atlassian" in providers:
        configured, problem = _check_provider("atlassian_admin", settings, environment, False, directory)
        if problem:
            problems.append(problem.replace("%satlassian_admin is" % where, "%sthe Atlassian sweep (the organization "
                                            "admin API) is" % where))
        elif configured and sweep is not False:
            swept.append("atlassian")
        elif sweep:
            problems.append("%soffboard_sweep is true, but the Atlassian sweep is not configured: it needs "
                            "offboard_atlassian_admin.org_id (ATLASSIAN_ORG_ID) and offboard_atlassian_admin."
                            "admin_api_key (ATLASSIAN_ADMIN_API_KEY), an organization admin API key without scopes."
                            % where)
    if "uipath" in providers:
        if _tenants(settings) and sweep is not False:
            swept.append("uipath")
        elif sweep:
            problems.append("%soffboard_sweep is true, but the UiPath sweep has no tenants: set "
                            "offboard_uipath_tenants to the Orchestrator tenants whose users to remove." % where)
    if "alibaba" in providers and sweep is not False:
        swept.append("alibaba")
    return swept, problems


def _leaver_problems(leavers, providers):
    return [_no_identifier(leavers, index, provider) for provider in providers
            for index, leaver in enumerate(leavers) if _identifier(leaver, provider) is None]


def _host_directory(leavers, settings, environment, requested, host, provider, sweep):
    """The preflight of an inventory host that is one directory (it has offboard_provider)."""
    if provider not in PROVIDERS:
        directory = {"key": host, "host": host, "provider": _text(provider), "title": _text(provider),
                     "directory_id": None, "identity": None, "status": "run",
                     "problems": ["directory %s has offboard_provider %r, which is not one of %s; nothing was sent "
                                  "to it." % (host, _text(provider), ", ".join(PROVIDERS))]}
        return {"providers": [], "problems": [], "directories": [directory], "inventory": True, "sweeps": []}
    directory = _directory(provider, settings, environment, host, host)
    if requested is not None and provider not in requested:
        directory["status"] = "left out"
        return {"providers": [], "problems": [], "directories": [directory], "inventory": True, "sweeps": []}
    configured, problem = _check_provider(provider, settings, environment, True, host)
    sweeps, sweep_problems = _sweeps([provider] if configured else [], settings, environment, sweep, host)
    for problem in _unknown_settings(settings, host) + ([problem] if problem else []) + sweep_problems:
        directory["problems"].append(problem + " Nothing was sent to this directory.")
    return {"providers": [provider] if configured else [], "problems": _leaver_problems(leavers, [provider]),
            "directories": [directory], "inventory": True, "sweeps": sweeps}


def offboard_preflight(leavers, settings, environment, requested=None, host=None, provider=None, sweep=None):
    """Decide the providers of the run and list every problem that must stop it before any request.

    `settings` holds the role variables per provider, `environment` the values of ENVIRONMENT_NAMES (None
    when unset), `requested` the role's `offboard_providers` (None: every configured provider). A provider
    is configured when all its required settings are present, left out when none is, and a problem when
    only some are (or when it is requested and not configured). Values are never put in a message.

    `sweep` is offboard_sweep; `sweeps` lists the providers of the run whose leftover access is swept (see
    `_sweeps`), from `settings["atlassian_admin"]` and `settings["uipath_tenants"]` too.

    `host` is the inventory host. Given `provider` (the host's offboard_provider), the host is one directory
    of that provider: problems of its settings are the directory's own (`directories[0].problems`: it fails,
    the others go on), problems of the leavers are the run's (`problems`: nothing starts anywhere).
    """
    _check_leavers(leavers)
    settings = settings or {}
    environment = environment or {}
    named = list(requested) if requested is not None else None
    if provider is not None:
        return _host_directory(leavers, settings, environment, named, host, provider, sweep)
    problems = _unknown_settings(settings)
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
    sweeps, sweep_problems = _sweeps(providers, settings, environment, sweep)
    problems.extend(sweep_problems)
    problems.extend(_leaver_problems(leavers, providers))
    return {"providers": providers, "problems": problems, "inventory": False, "sweeps": sweeps,
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
                "host %s addresses the same %s directory (%s) as host %s: each reaches %s, however its settings "
                "spell it. A directory must be one inventory host, so nothing was sent to it from any of them; keep "
                "one of these hosts." % (directory["host"], directory["title"], directory["directory_id"],
                                         ", ".join(same), directory["identity"].split("|", 1)[1].replace(
                                             "|", ", directory ")))
    return {"inventory": inventory, "problems": _unique(problems), "directories": directories}


# --- who to address, and what happened ------------------------------------------------------------------

def approved_actions_of(approved_plan, provider, directory):
    """{user id of a plan item: the actions the approved plan has for it} at one directory."""
    if not isinstance(approved_plan, list):
        raise AnsibleFilterError("an approved run needs the approved plan to bind its changes to")
    found = {}
    for item in approved_plan:
        if item.get("provider") == provider and item.get("directory") == directory:
            found[item.get("user_id")] = _unique(found.get(item.get("user_id"), []) + list(item.get("actions") or []))
    return found


def _planned_targets(leavers, provider, planned, approved_plan, directory):
    """The approved changes of a plan worked out with reads only, addressed by the user id found then: a name
    that comes to mean another user after that read can never reach the change. `approved_actions` binds each
    target, at the moment of its change, to the actions that pass found and the approved plan has for that user
    at this directory: the module refuses any other action (a name read again that now means another user), and
    every action of a user the approved plan does not name (a leaver whose row failed in the rehearsal)."""
    if not isinstance(planned, list) or len(planned) != len(leavers):
        raise AnsibleFilterError("offboard_targets: the planned outcomes at %s do not match the leavers" % provider)
    in_plan = approved_actions_of(approved_plan, provider, directory)
    lists = {"id": [], "name": []}
    approved = {"id": {}, "name": {}}
    rows = []
    for index, outcome in enumerate(planned):
        if outcome.get("outcome") in CHANGES:
            if not _text(outcome.get("user_id")):
                raise AnsibleFilterError("offboard_targets: the planned change of offboard_users[%d] at %s has no "
                                         "user id" % (index, provider))
            by, key = "id", outcome["user_id"]
        elif _swept_while_absent(outcome):
            # Only what an absent user left behind: addressed as the reads addressed it (the user is gone, so
            # no other user can come to have its id; a name is read again, and the approved actions keep
            # whatever it now means from any change).
            by, key = outcome.get("by"), outcome.get("requested")
            if by not in lists or not _text(key):
                raise AnsibleFilterError("offboard_targets: the planned sweep of offboard_users[%d] at %s has no "
                                         "user to address" % (index, provider))
        else:
            continue
        rows.append({"leaver": index, "by": by, "position": len(lists[by]), "key": key})
        lists[by].append(key)
        allowed = in_plan.get(key, [])
        approved[by][key] = _unique(approved[by].get(key, []) + [action for action in outcome.get("actions") or []
                                                                 if action in allowed])
    return {"provider": provider, "user_ids": lists["id"], "user_names": lists["name"], "rows": rows,
            "planned": planned, "approved_actions": approved}


def _swept_while_absent(result):
    """Whether the directory task removed (or in a rehearsal would remove) what an already absent user left."""
    return result.get("outcome") == "already absent" and bool(result.get("actions"))


def offboard_targets(leavers, provider, planned=None, approved_plan=None, directory=None):
    """Split the leavers into those addressed by id and by name at `provider`.

    A leaver's `<provider>_user_id` wins over `<provider>_user_name`, which wins over `email`. A leaver
    with none of them is an error, never skipped (offboard_preflight reports it before any request).

    With `planned` (the outcomes at `provider` of the pass that worked out the changes with reads only, one
    per leaver), only the leavers with a planned change are addressed, by the user id that pass found; the
    others keep their planned outcome (offboard_outcomes), and `approved_actions` (by id, by name) binds each
    addressed user to the actions that pass found which `approved_plan` (the approved plan's items) has for it at
    `directory` (the plan items' directory: the inventory host); without `planned` it is None.
    """
    if provider not in PROVIDERS:
        raise AnsibleFilterError("offboard_targets: unknown provider %r" % provider)
    _check_leavers(leavers)
    if planned is not None:
        return _planned_targets(leavers, provider, planned, approved_plan, directory)
    lists = {"id": [], "name": []}
    rows = []
    for index, leaver in enumerate(leavers):
        found = _identifier(leaver, provider)
        if found is None:
            raise AnsibleFilterError(_no_identifier(leavers, index, provider))
        by, key = found
        rows.append({"leaver": index, "by": by, "position": len(lists[by]), "key": key})
        lists[by].append(key)
    return {"provider": provider, "user_ids": lists["id"], "user_names": lists["name"], "rows": rows,
            "approved_actions": None}


# The error code of a user the module refused to change: its actions were not the approved ones
# (approved_actions).
NOT_APPROVED_CODE = "not approved"


def _refused(result):
    """Whether a module refused a user for want of approval (approved_actions)."""
    return (result.get("error") or {}).get("code") == NOT_APPROVED_CODE


def _outcome(user, state, check_mode):
    """The outcome of one user result, or None when the result proves neither a change nor the state."""
    if user.get("failed"):
        return "not approved" if _refused(user) else "failed"
    if user.get("changed") and _text(user.get("msg")).startswith("already absent"):
        # The user was already absent (from the start, or gone before this run's delete came): what this run
        # removed is in the row's actions and leftover, but the user was not removed by it.
        return "already absent"
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
    """One outcome per leaver at one provider, from the registered results of the id and name tasks.

    With targets of planned changes (offboard_targets with `planned`), the leavers that were not addressed
    keep their planned outcome, and an addressed leaver keeps the planned user name and how it was found.
    """
    outcomes = _addressed_outcomes(targets, by_id, by_name, state, check_mode, finished)
    if "planned" not in targets:
        return outcomes
    merged = [dict(outcome) for outcome in targets["planned"]]
    for row, outcome in zip(targets["rows"], outcomes):
        planned = merged[row["leaver"]]
        outcome.update(by=planned.get("by"), requested=planned.get("requested"),
                       user_name=outcome.get("user_name") or planned.get("user_name"))
        merged[row["leaver"]] = outcome
    return merged


def _addressed_outcomes(targets, by_id, by_name, state, check_mode, finished):
    outcomes = []
    for row in targets["rows"]:
        entry = {"outcome": "failed", "by": row["by"], "requested": row["key"], "user_id": None,
                 "user_name": None, "actions": [], "request_ids": [], "msg": "", "note": "", "error": None,
                 "time": finished, "leftover": [], "manual_follow_up": []}
        result = by_id if row["by"] == "id" else by_name
        users = (result.get("users") or []) if isinstance(result, dict) else []
        if not isinstance(result, dict) or result.get("skipped"):
            entry.update(msg="the provider task did not run", error={"message": "not run"})
        elif row["position"] < len(users):
            user = users[row["position"]]
            outcome = _outcome(user, state, check_mode)
            entry.update(user_id=user.get("user_id"), user_name=user.get("user_name"),
                         actions=list(user.get("actions") or []), request_ids=list(user.get("request_ids") or []),
                         msg=user.get("msg", ""), error=user.get("error"),
                         leftover=list(user.get("leftover") or []),
                         manual_follow_up=list(user.get("manual_follow_up") or []))
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


# --- reading the changed users again ------------------------------------------------------------------

def offboard_changed_ids(outcomes):
    """The user ids of the changes a real run made at one directory: the users to read again."""
    return _unique([outcome["user_id"] for outcome in outcomes
                    if outcome.get("outcome") in ("removed", "disabled") and _text(outcome.get("user_id"))])


def _verify_one(outcome, users, provider, error):
    """`outcome` with `verified_absent` or `verified_disabled`; failed when the change did not hold.
    `users` is what the second read returned, None when it failed (`error` says why)."""
    key = "verified_absent" if outcome["outcome"] == "removed" else "verified_disabled"
    user_id = _text(outcome.get("user_id"))
    if users is None or not user_id:
        why = error if user_id else "there is no user id to read it by"
        return dict(outcome, **{key: None, "outcome": "failed", "error": {"message": why},
                                "msg": "%s, but whether the change held is not proven: %s; read the user with the "
                                       "info module" % (outcome["outcome"], why)})
    # Ids compared without case: a user shown in another case must never read as gone.
    found = [user for user in users if _text(user.get(USER_ID_FIELDS[provider])).lower() == user_id.lower()]
    if outcome["outcome"] == "removed":
        if not found:
            return dict(outcome, verified_absent=True)
        msg = "still present after delete: user %s was read again after its delete and is still there" % user_id
        return dict(outcome, verified_absent=False, outcome="failed", msg=msg, error={"message": msg})
    if found and not any(ENABLED[provider](user) for user in found):
        return dict(outcome, verified_disabled=True)
    msg = ("still enabled after disable: user %s was read again after it was disabled and is enabled" % user_id
           if found else "not found after disable: user %s was disabled but cannot be read again (deleted "
                         "meanwhile, or the read addressed another directory)" % user_id)
    return dict(outcome, verified_disabled=False, outcome="failed", msg=msg, error={"message": msg})


def offboard_verified(outcomes, reread, provider):
    """The outcomes at one directory of a real run, each change checked against a second read of its user.

    `reread` is the registered result of the provider's info module run with `offboard_changed_ids`. A
    removed user must be absent (`verified_absent`), a disabled one present and disabled
    (`verified_disabled`); a change that did not hold, or that could not be read again, fails its row.
    """
    if provider not in PROVIDERS:
        raise AnsibleFilterError("offboard_verified: unknown provider %r" % provider)
    users = None
    error = "the read after the change did not run"
    if isinstance(reread, dict) and not reread.get("skipped"):
        if reread.get("failed") or reread.get("unreachable") or not isinstance(reread.get("users"), list):
            error = "the read after the change failed (%s)" % (reread.get("msg") or "no message")
        else:
            users = reread["users"]
    verified = []
    for outcome in outcomes:
        if outcome.get("outcome") not in ("removed", "disabled"):
            verified.append(outcome)
            continue
        verified.append(_verify_one(outcome, users, provider, error))
    return verified


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


def _result_line(leavers, failures, inventory, approval=None):
    unit = "directory" if inventory else "provider"
    if approval and approval["result"] == "refused":
        return ("REFUSED: %d change(s) not in the approved plan %s; nothing was changed anywhere"
                % (len(approval["not_approved"]), approval["approved_plan_digest"]))
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


def _swept(results, directory):
    """(whether the run swept the directory's leftover access, the run's offboard_sweep)."""
    host = results.get(directory["host"]) if directory["host"] is not None else None
    if not isinstance(host, dict):
        return False, None
    return directory["provider"] in (host.get("sweeps") or []), host.get("sweep")


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
            "request_ids": [], "msg": why, "note": "", "error": {"message": why}, "time": finished,
            "leftover": [], "manual_follow_up": []}


# --- leftover access ------------------------------------------------------------------------------------

# The longest a CloudSSO sign-in can outlast the user's delete: an access configuration's SessionDuration is at
# most 12 hours, a RAM-user logon's session duration at most 24 hours (leftover-access.md).
ALIBABA_SESSION_BOUND = datetime.timedelta(hours=24)
NOT_SWEPT = {
    "atlassian": ("the organization admin API is not configured (offboard_atlassian_admin, or ATLASSIAN_ORG_ID and "
                  "ATLASSIAN_ADMIN_API_KEY): the account's personal API tokens (they outlive its deactivation) and, "
                  "for an account the organization does not manage, its access to the organization were not checked"),
    "uipath": ("offboard_uipath_tenants is not set: the leaver's Orchestrator users (roles, robot credentials) and "
               "personal workspaces in the organization's tenants were not checked"),
    "alibaba": "",
}


# uipath_user's manual_follow_up kinds that say a tenant was not searched ("Orchestrator users") or what the sweep
# found there and left (a "personal workspace" kept as it is).
UIPATH_FOUND_LEFT = ("Orchestrator users", "personal workspace")


def _follow_up(kind, detail, where=None, until=None):
    item = {"kind": kind, "where": where, "detail": detail}
    if until:
        item["until"] = until
    return item


def _later(finished, delta):
    try:
        moment = datetime.datetime.strptime(finished, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return None
    return (moment + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fixed_follow_up(provider, result, finished, swept, sweep_setting):
    """What no API of the provider removes, for one leaver at one directory, with the longest time it can
    last where the provider documents one; and why the leftover access was not swept, when it was not."""
    if result["outcome"] in FAILING:
        return []  # the failure says what is left and what to do
    changed = result["outcome"] in CHANGES
    sweep = result.get("sweep") or {}
    items = []
    if provider == "atlassian":
        items.append(_follow_up("sessions", "Atlassian has no API that ends sessions (AX-229). A deactivated managed "
                                "account cannot sign in again; a session already open ends when it has been idle "
                                "for the authentication policy's idle session duration (30 days by default) or at "
                                "its session expiration, if the policy sets one; mobile app sessions follow the "
                                "mobile session expiration. End them in Atlassian Administration if they must end "
                                "sooner."))
        if sweep.get("managed") is False:
            items.append(_follow_up("unmanaged account", "the organization does not manage this Atlassian account: "
                                    "the sweep could only suspend or remove its access to this organization; the "
                                    "account, its API tokens and its access to other organizations stay with its "
                                    "owner"))
    elif provider == "alibaba":
        until = _later(finished, ALIBABA_SESSION_BOUND) if changed else None
        items.append(_follow_up("sessions", "CloudSSO has no action that ends sessions: a sign-in lasts until its "
                                "access configuration's SessionDuration (at most 12 hours) or, for a RAM-user "
                                "logon, the session duration of the user provisioning (at most 24 hours) ends it%s"
                                % ("" if changed else ", counted from the user's delete"), until=until))
        items.append(_follow_up("RAM access outside CloudSSO", "RAM users, AccessKeys and policies made in member "
                                "accounts outside CloudSSO are not linked to the CloudSSO user, and no CloudSSO call "
                                "finds them: review the member accounts' RAM for the leaver"))
    elif provider == "uipath" and result["outcome"] in ("removed", "would remove"):
        items.append(_follow_up("license", "whether deleting the user releases its license is not confirmed; check "
                                "the organization's license allocation"))
    if sweep_setting is False:
        items.append(_follow_up("sweep not run", "offboard_sweep is false: the leftover access at %s was not checked"
                                % PROVIDER_TITLES[provider]))
    elif not swept and NOT_SWEPT[provider]:
        items.append(_follow_up("sweep not run", NOT_SWEPT[provider]))
    elif sweep.get("status") == "not swept":
        items.append(_follow_up("sweep not run", sweep["why"]))
    return items


def _leftover_text(item):
    """One leftover item as a plan action: what was done, to what, where."""
    what = "%s %s" % (_text(item.get("kind")), _text(item.get("name")) or _text(item.get("id")))
    if _text(item.get("name")) and _text(item.get("id")):
        what += " (%s)" % _text(item["id"])
    return "%s: %s%s" % (_text(item.get("done")), what, " in %s" % _text(item["where"]) if _text(item.get("where"))
                         else "")


def _leftover_summary(rows):
    """How much leftover access the run removed (or would remove), and how many items remain for a person."""
    results = [result for row in rows for result in row["results"].values()]
    return {"removed": sum(len(result.get("leftover") or []) for result in results),
            "manual_follow_up": sum(len(result.get("manual_follow_up") or []) for result in results)}


def _with_leftover(result, state, finished, swept, sweep_setting):
    """The result with `leftover` (what the directory task and the sweep removed, or in a rehearsal would) and
    `manual_follow_up` (what remains for a person); a failed sweep fails the pair."""
    result = dict(result)
    if (result["provider"] == "uipath" and swept and state == "absent" and result["outcome"] not in FAILING
            and not result.get("leftover") and not set(UIPATH_FOUND_LEFT) & set(
                item.get("kind") for item in result.get("manual_follow_up") or [])):
        # uipath_user read every tenant for the leaver (no item says it could not, or names what it left there)
        # and found nothing to remove.
        result["sweep"] = {"status": "nothing left"}
    sweep = result.get("sweep") or {}
    result["leftover"] = list(result.get("leftover") or []) + list(sweep.get("leftover") or [])
    result["manual_follow_up"] = (list(result.get("manual_follow_up") or []) + list(sweep.get("manual_follow_up") or [])
                                  + _fixed_follow_up(result["provider"], result, finished, swept, sweep_setting))
    if sweep.get("status") == "failed" and result["outcome"] not in FAILING:
        why = _text((sweep.get("error") or {}).get("message")) or _text(sweep.get("msg")) or "no message"
        if _refused(sweep):
            msg = "%s, but the sweep of leftover access was refused: %s" % (result["outcome"], why)
        else:
            msg = ("%s, but the sweep of leftover access failed: %s; what it names is left: run again, or remove it "
                   "by hand" % (result["outcome"], why))
        result.update(outcome="not approved" if _refused(sweep) else "failed", msg=msg,
                      error=dict(sweep.get("error") or {}, message=msg))
    return result


def plan_key(item):
    """What an approval compares: the same provider, directory, user id and actions."""
    return (item.get("provider"), item.get("directory"), item.get("user_id"), tuple(item.get("actions") or ()))


def _plan_leaver(leaver):
    """The leaver in a plan item: the email, else the first identifier."""
    for key in ("email",) + LEAVER_KEYS[2:]:
        if _text(leaver.get(key)):
            return _text(leaver.get(key))
    return _leaver_ref(leaver)


def _in_plan(result, check_mode):
    """Whether a result is a change of the run's plan: made (a real run; a failed user whose steps were
    partly done too) or, in a rehearsal, that would be made."""
    if _swept_while_absent(result):
        return True
    if check_mode:
        return result["outcome"] in ("would remove", "would disable")
    return result["outcome"] in ("removed", "disabled") or (result["outcome"] == "failed" and bool(result["actions"]))


def _sweep_items(leaver, result):
    """The sweep's changes of one leaver at one directory as plan items, one per thing removed: a real run
    that finds one of them already gone (an account the directory delete deactivated) stays inside the plan."""
    sweep = result.get("sweep") or {}
    return [{"provider": result["provider"], "directory": result["directory"], "leaver": _plan_leaver(leaver),
             "user_id": sweep.get("user_id"), "user_name": sweep.get("user_name"), "actions": [_leftover_text(item)]}
            for item in sweep.get("leftover") or []]


def _plan(leavers, columns, check_mode):
    items = [{"provider": result["provider"], "directory": result["directory"],
              "leaver": _plan_leaver(leaver), "user_id": result["user_id"] or result["requested"],
              "user_name": result["user_name"], "actions": list(result["actions"])}
             for index, leaver in enumerate(leavers) for column in columns.values()
             for result in [column[index]] if _in_plan(result, check_mode)]
    items += [item for index, leaver in enumerate(leavers) for column in columns.values()
              for item in _sweep_items(leaver, column[index])]
    return plan_items(items)


def _refuse(leavers, columns, approval):
    """A run whose changes are not all approved changes nothing: its changes outside the plan (a directory change,
    or one thing its sweep would remove) are `not approved`, the others approved but held back."""
    refused = set(plan_key(item) for item in approval["not_approved"])
    for column in columns.values():
        for index, result in enumerate(column):
            sweeps = [item for item in _sweep_items(leavers[index], result) if plan_key(item) in refused]
            if result["outcome"] not in CHANGES and not sweeps and not _swept_while_absent(result):
                continue
            actions = "; ".join(result["actions"]) or "a change"
            own = plan_key(dict(result, user_id=result["user_id"] or result["requested"])) in refused
            if own or sweeps:
                what = ("%s of user %s (%s)" % (actions, result["user_id"] or result["requested"],
                                                result["user_name"] or "no user name")
                        if own else "the sweep's %s" % "; ".join(
                            action for item in sweeps for action in item["actions"]))
                msg = ("not in the approved plan (%s): %s was found with reads only; nothing was changed anywhere"
                       % (approval["approved_plan_digest"], what))
                column[index] = dict(result, outcome="not approved", msg=msg, error={"message": msg})
            else:
                column[index] = dict(result, note="approved, but not done: the run was refused because other "
                                                  "changes are not in the approved plan")
    for column in columns.values():
        for index, result in enumerate(column):
            column[index] = _held_back(result)


def _held_back(result):
    """A result of a refused run: what its reads found to remove stays, and the row says so, never that it was
    removed."""
    leftover = result.get("leftover") or []
    if not leftover:
        return result
    held = dict(result, leftover=[])
    if result.get("sweep"):
        held["sweep"] = dict(result["sweep"], leftover=[])
    held["manual_follow_up"] = list(result.get("manual_follow_up") or []) + [_follow_up(
        "leftover access not removed", "the run was refused, so nothing was removed: %s" % "; ".join(
            _leftover_text(item) for item in leftover))]
    return held


def _approval_section(approval, plan, failures, rows):
    """The report's record of the approval the run was bound to, any change made outside it, and the changes
    refused at the moment they were to be made (their actions were no longer the approved ones)."""
    if not approval:
        return None
    refused_at_change = [{"provider": result["provider"], "directory": result["directory"],
                          "leaver": row["email"] or row["label"], "user_id": result["user_id"] or result["requested"],
                          "msg": result["msg"]}
                         for row in rows for result in row["results"].values()
                         if result["outcome"] == "not approved" and _refused(result)]
    approved = set(plan_key(item) for item in approval["approved_plan"])
    outside = [item for item in plan if approval["approved"] and plan_key(item) not in approved]
    for item in outside:
        msg = ("changed outside the approved plan: %s of user %s, which the plan does not have; the change was "
               "made (the user's state changed between the reads and the change)"
               % ("; ".join(item["actions"]), item["user_id"]))
        failures.append({"leaver": item["leaver"], "provider": item["provider"], "directory": item["directory"],
                         "directory_id": None, "error": {"message": msg}, "msg": msg})
    return {"result": "approved" if approval["approved"] else "refused",
            "approved_plan_digest": approval["approved_plan_digest"], "source": approval["source"],
            "approved_changes": len(approval["approved_plan"]), "already_done": approval["already_done"],
            "not_proven_done": approval.get("not_proven_done") or [],
            "not_approved": approval["not_approved"], "refused_at_change": refused_at_change,
            "changed_outside_plan": outside}


def offboard_report(leavers, results, directories, state, check_mode, started, finished, run_id, approval=None):
    """The audit report: one row per leaver with the outcome at every directory, and a summary.

    `directories` is the `directories` list of offboard_directories (or provider names: one directory each,
    whose outcomes are `results[provider]`); `results` maps each inventory host to `{"outcomes": {provider:
    offboard_outcomes}, "error": message or None}`, or to None when the host stopped before it recorded them.
    A directory with a problem, or without outcomes, fails every leaver there; it is never left out silently.

    `approval` is the result of offboard_approval_decision for a run bound to an approved plan (else None).
    When it refused the run, `results` are those of the reads only, and the changes outside the plan are
    `not approved`. The report has `plan` (the changes made, or in a rehearsal that would be made) and
    `plan_digest`.
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
        swept, sweep_setting = _swept(results or {}, directory)
        columns[directory["key"]] = [_with_leftover(dict(outcome, **where), state, finished, swept, sweep_setting)
                                     for outcome in outcomes]
    refused = bool(approval) and not approval["approved"]
    if refused:
        _refuse(leavers, columns, approval)
    rows = []
    failures = []
    for index, leaver in enumerate(leavers):
        row_results = dict((key, column[index]) for key, column in columns.items())
        for key, result in row_results.items():
            summary[result["outcome"]] += 1
            if result["outcome"] in FAILING:
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
    # A refused run changed nothing: its reads' changes are no plan of it.
    plan = [] if refused else _plan(leavers, columns, check_mode)
    approval_section = _approval_section(approval, plan, failures, rows)
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
        "result": _result_line(leavers, failures, inventory, approval_section),
        "summary": dict((key, value) for key, value in summary.items() if value),
        "failed": bool(failures),
        "failures": failures,
        "leavers": rows,
        "plan": plan,
        "plan_digest": plan_digest(plan),
        "leftover_summary": _leftover_summary(rows),
        "approval": approval_section,
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
    for key, label in (("verified_absent", "read again afterwards, absent"),
                       ("verified_disabled", "read again afterwards, disabled")):
        if key in result:
            lines.append("  - %s: %s" % (label, {True: "yes", False: "NO", None: "not proven"}[result[key]]))
    if result.get("request_ids"):
        lines.append("  - request ids: %s" % ", ".join(_md(request_id) for request_id in result["request_ids"]))
    lines += _leftover_lines(report, result)
    if result["outcome"] == "failed":
        lines.append("  - reason: %s" % _md(result.get("msg")))
    if result.get("note"):
        lines.append("  - note: %s" % _md(result["note"]))
    return lines


def _leftover_lines(report, result):
    """The leftover-access part of one leaver at one directory: what was removed beyond the directory user, and
    what a person must still do."""
    lines = []
    leftover = result.get("leftover") or []
    if leftover:
        lines.append("  - leftover access %s:" % ("that would be removed" if report["check_mode"] else "removed"))
        lines += ["    - %s" % _md(_leftover_text(item)) for item in leftover]
    sweep = result.get("sweep") or {}
    if sweep.get("status") == "nothing left":
        lines.append("  - leftover access: none found by the sweep")
    follow_up = result.get("manual_follow_up") or []
    if follow_up:
        lines.append("  - manual follow-up:")
        lines += ["    - %s%s: %s%s" % (_md(item.get("kind")), " (%s)" % _md(item["where"]) if item.get("where") else "",
                                        _md(item.get("detail")), "; may last until %s" % _md(item["until"])
                                        if item.get("until") else "") for item in follow_up]
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


def _plan_digest_lines(report):
    """The digest first, as the one value an approver signs off (and a real run names the one it ran)."""
    approval = report.get("approval")
    count = len(report.get("plan") or [])
    if report["check_mode"]:
        what = ("It covers the %d change(s) this rehearsal would make, listed under Plan. Approve this digest to "
                "let a real run make exactly these changes." % count)
    elif approval and approval["result"] == "refused":
        what = "No change was made: the run was refused, so its plan is empty."
    else:
        what = "It covers the %d change(s) this run made, listed under Plan." % count
    lines = ["**Plan digest: %s**" % _md(report.get("plan_digest")), "", what, ""]
    if approval:
        if approval["result"] == "refused":
            verdict = "REFUSED, nothing was changed anywhere"
        elif approval["changed_outside_plan"]:
            verdict = "changes were made outside it, see Failures"
        else:
            verdict = "this run made only approved changes"
            if approval.get("refused_at_change"):
                verdict += "; %d user(s) were refused at the change, see Not approved" % len(
                    approval["refused_at_change"])
        lines += ["**Approved plan: %s** (%s): %s." % (
            _md(approval["approved_plan_digest"]), _md(approval["source"]), verdict), ""]
    return lines


def _plan_section(report):
    lines = ["## Plan", ""]
    plan = report.get("plan") or []
    if not plan:
        lines += ["No change %s." % ("would be made" if report["check_mode"] else "was made"), ""]
    else:
        lines += _table(["Provider", "Directory", "Leaver", "User id", "User name", "Actions"], [
            [_md(item["provider"]), _md(item["directory"]), _md(item["leaver"]), _md(item["user_id"]),
             _md(item["user_name"] or ""), _md("; ".join(item["actions"]))] for item in plan]) + [""]
    approval = report.get("approval")
    if approval:
        lines += ["The run was bound to the approved plan %s (%s) of %d change(s); %d of them were already done "
                  "before this run." % (_md(approval["approved_plan_digest"]), _md(approval["source"]),
                                        approval["approved_changes"], approval["already_done"]), ""]
        for title, items in (("Not approved", approval["not_approved"]),
                             ("Changed outside the approved plan", approval["changed_outside_plan"]),
                             ("Approved, neither made nor proven done", approval.get("not_proven_done") or [])):
            if items:
                lines += ["### %s" % title, ""] + _table(["Provider", "Directory", "Leaver", "User id", "Actions"], [
                    [_md(item["provider"]), _md(item["directory"]), _md(item["leaver"]), _md(item["user_id"]),
                     _md("; ".join(item["actions"]))] for item in items]) + [""]
        if approval.get("refused_at_change"):
            lines += ["### Refused at the change", ""] + _table(["Provider", "Directory", "Leaver", "User", "Why"], [
                [_md(item["provider"]), _md(item["directory"]), _md(item["leaver"]), _md(item["user_id"]),
                 _md(item["msg"])] for item in approval["refused_at_change"]]) + [""]
    return lines


def offboard_markdown(report):
    """The auditor's view of one run, from the output of offboard_report. Every value is escaped with `_md`."""
    titles = [_md(provider["title"]) for provider in report["providers"]]
    shown = [directory for directory in report["directories"] if directory["status"] != "left out"]
    state = ("absent (accounts deleted)" if report["state"] == "absent"
             else "disabled (accounts deactivated, kept)")
    lines = ["# Offboarding report %s" % _md(report["run_id"]), ""]
    lines += _plan_digest_lines(report)
    lines += _table(["", ""], [
        ["Run", _md(report["mode"])], ["Requested state", state], ["Started (UTC)", _md(report["started"])],
        ["Finished (UTC)", _md(report["finished"])], ["Providers", ", ".join(titles)]]
        + ([["Directories", str(len(shown))]] if report["inventory"] else []) + [
        ["Leavers", str(len(report["leavers"]))], ["Result", _md(report["result"])]]
        + ([["Leftover access", "%d item(s) %s, %d manual follow-up item(s), listed under Details" % (
            report["leftover_summary"]["removed"], "would be removed" if report["check_mode"] else "removed",
            report["leftover_summary"]["manual_follow_up"])]] if report.get("leftover_summary") else []))
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
    lines += _plan_section(report)
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
            "offboard_changed_ids": offboard_changed_ids,
            "offboard_verified": offboard_verified,
        }
