# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The randomized end-to-end test of the offboard role against the ground-truth checker (ground_truth.py).

Each example is an estate of six directory hosts (two Atlassian SCIM directories, one of them swept through
an organization with two directories; two UiPath organizations with Orchestrator tenants; two CloudSSO
directories) and several leavers, each in a random state at every directory and sweep (present, absent,
disabled, closed, in another directory, with API tokens, Orchestrator tenant users, personal workspaces, MFA
devices, group memberships, access assignments, RAM user provisionings), random faults (lost answers,
refusals, delays) and a random drift between the rehearsal and the approved run (a new hire reusing a leaver's
e-mail, an added token or membership, a setting changed). The role rehearses with --check, then runs bound to
the rehearsal's report (sometimes with offboard_require_approval); the checker proves both reports against the
simulators. Zero claims contradicted is the bar.

GROUND_TRUTH_EXAMPLES (default 2) sets the number of examples and GROUND_TRUTH_SEED the seed (the same seed
draws the same examples); the figures (examples, scenarios per provider, claims checked, contradictions) are
printed at the end of the pytest run. Every example runs; each contradiction is listed with its example, whose
estate is written to .hypothesis/ground-truth/ so that GROUND_TRUTH_REPLAY=<that file> runs it alone.
"""

from __future__ import annotations

import collections
import json
import os
import time

from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st

from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.atlassian_admin import AtlassianAdminSimulator
from .conftest import ROOT, Ansible
from .ground_truth import RunWatch
from .test_ground_truth_findings import HiringUiPath

EXAMPLES = int(os.environ.get("GROUND_TRUTH_EXAMPLES", "2"))
SEED = int(os.environ.get("GROUND_TRUTH_SEED", "18002"))
# Where an example that contradicted a claim is written, to be run again alone with GROUND_TRUTH_REPLAY.
REPLAYS = os.path.join(ROOT, ".hypothesis", "ground-truth")

SCIM_KEYS = {"d-north": "ATSCIM-random-north-key-41d8", "d-south": "ATSCIM-random-south-key-9c2e"}
ORG = "org-random"
ADMIN_KEY = "ATADMIN-random-unscoped-key-77b1"
ORG_DIRECTORIES = ("od-main", "od-other")
UIPATH_SCOPES = ["PM.User", "PM.User.Read", "PM.User.Write", "OR.Users", "OR.Users.Read", "OR.Users.Write",
                 "OR.Folders", "OR.Folders.Read", "OR.Folders.Write"]
UIPATH = {  # organization: (partition, client id, secret, tenants)
    "acme": ("7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f21", "a1c0ffee-0000-4000-8000-0000000000a1",
             "uipath-random-acme-secret-5Vb2", ("DefaultTenant", "Production")),
    "globex": ("7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f22", "a1c0ffee-0000-4000-8000-0000000000b2",
               "uipath-random-globex-secret-8Kd4", ("Default",)),
}
ALIBABA_KEY = ("LTAI-random-ground-truth", "alibaba-random-ground-truth-secret-2Qx7")
ALIBABA_DIRECTORIES = ("d-alione", "d-alitwo")
ACCOUNTS = ("1142405247840001", "1142405247840002")
HOSTS = {  # host: (provider, directory)
    "atlassian-north": ("atlassian", "d-north"), "atlassian-south": ("atlassian", "d-south"),
    "uipath-acme": ("uipath", "acme"), "uipath-globex": ("uipath", "globex"),
    "alibaba-one": ("alibaba", "d-alione"), "alibaba-two": ("alibaba", "d-alitwo"),
}
STAYER = "stayer@example.com"


# --- the random estate -------------------------------------------------------------------------------------------

def weighted(*pairs):
    """A strategy that picks each value with its weight. Hypothesis tries the first value of each first (its
    simplest example), so the first pair is the common case worth checking."""
    return st.sampled_from([value for value, weight in pairs for _copy in range(weight)])


@st.composite
def leaver(draw):
    return {
        "scim_by_id": draw(weighted((False, 4), (True, 1))),
        "account_id_given": draw(weighted((False, 1), (True, 1))),
        "uipath_name": draw(weighted((False, 3), (True, 1))),
        "uipath_by_id": draw(weighted((False, 5), (True, 1))),
        "alibaba_by_id": draw(weighted((False, 2), (True, 1))),
        "scim": dict((directory, draw(weighted(("active", 5), ("absent", 2), ("inactive", 1), ("twin", 1))))
                     for directory in SCIM_KEYS),
        "account": draw(weighted(("managed", 4), ("none", 2), ("managed-inactive", 1), ("managed-closed", 1),
                                 ("managed-for-deletion", 1), ("unmanaged-main", 2), ("unmanaged-other", 1),
                                 ("managed-other", 1))),
        "tokens": draw(weighted((1, 2), (0, 1), (2, 1))),
        "uipath": dict((organization, {
            "user": draw(weighted(("active", 5), ("absent", 2), ("inactive", 1))),
            "tenants": dict((tenant, draw(weighted(("user", 3), ("none", 3), ("workspace", 2), ("busy", 1))))
                            for tenant in UIPATH[organization][3])}) for organization in UIPATH),
        "alibaba": dict((directory, {
            "user": draw(weighted(("enabled", 5), ("absent", 2), ("disabled", 1))),
            "mfa": draw(weighted((True, 1), (False, 1))), "group": draw(weighted((True, 1), (False, 1))),
            "assignment": draw(weighted((True, 1), (False, 1))),
            "provisioning": draw(weighted(("Delete", 2), (None, 2), ("Keep", 1))),
            "orphan": draw(weighted((True, 1), (False, 2))),
        }) for directory in ALIBABA_DIRECTORIES),
    }


FAULTS = (
    # (simulator, what; the fault's keywords)
    ("atlassian", "lost SCIM delete answers", dict(action="process_then_respond", method="DELETE", path=r"/Users/",
                                                   status=502, times=None, probability=0.3)),
    ("atlassian", "a refused SCIM delete", dict(action="respond", method="DELETE", path=r"/Users/", status=403,
                                                times=1, skip=1)),
    ("admin", "lost lifecycle answers", dict(action="process_then_respond", method="POST", path=r"/lifecycle/",
                                             status=502, times=None, probability=0.4)),
    ("admin", "a refused token revocation", dict(action="respond", method="DELETE", path=r"/api-tokens/",
                                                 status=400, times=1, body={"key": "bad.request", "message": "no"})),
    ("uipath", "lost identity delete answers", dict(action="process_then_respond", method="DELETE",
                                                    path=r"/identity_/api/User", status=502, times=None,
                                                    probability=0.4)),
    ("uipath", "dropped Orchestrator deletes", dict(action="process_then_drop", method="DELETE",
                                                    path=r"/odata/Users\(", times=None, probability=0.3)),
    ("uipath", "a refused Orchestrator delete", dict(action="respond", method="DELETE", path=r"/odata/Users\(",
                                                     status=409, times=1,
                                                     body={"message": "conflict", "errorCode": 0})),
    ("alibaba", "lost DeleteUser answers", dict(action="process_then_respond", path=r"Action=DeleteUser(&|$)",
                                                status=502, times=None, probability=0.4)),
    ("alibaba", "lost DeleteUserProvisioning answers", dict(action="process_then_respond",
                                                            path=r"Action=DeleteUserProvisioning(&|$)", status=503,
                                                            times=None, probability=0.5)),
    ("any", "slow reads", dict(action="delay", method="GET", delay=0.2, times=None, probability=0.1)),
)

DRIFTS = ("none", "scim new hire", "uipath new hire", "uipath new hire during the run", "admin token",
          "alibaba membership", "deprovision setting", "workspace setting")


@st.composite
def estates(draw):
    leavers = draw(st.lists(leaver(), min_size=10, max_size=14))
    return {
        "leavers": leavers,
        "state": draw(weighted(("absent", 5), ("disabled", 1))),
        "force": draw(weighted((True, 1), (False, 1))),
        "ram_users": draw(weighted(("delete", 3), ("keep", 1))),
        "deprovision": draw(weighted((True, 1), (False, 1))),
        "workspace": draw(weighted(("convert", 2), ("delete", 1))),
        "faults": sorted(draw(st.lists(st.integers(0, len(FAULTS) - 1), min_size=1, max_size=3, unique=True))),
        "drift": draw(st.sampled_from(DRIFTS)),
        "drift_leaver": draw(st.integers(0, len(leavers) - 1)),
        "require_approval": draw(weighted((True, 1), (False, 1))),
        "fault_seed": draw(st.integers(0, 2 ** 16)),
    }


# --- the estate as simulator seeds --------------------------------------------------------------------------------

def email(index):
    return "leaver%d@example.com" % index


def scim_seed(estate):
    directories = {}
    for directory, key in SCIM_KEYS.items():
        users = [{"id": "%s-stayer" % directory, "userName": STAYER, "emails": [{"value": STAYER}]}]
        for index, spec in enumerate(estate["leavers"]):
            state = spec["scim"][directory]
            if state == "absent":
                continue
            user_id = "scim-%d" % index if spec["scim_by_id"] else "%s-%d" % (directory, index)
            users.append({"id": user_id, "userName": email(index), "emails": [{"value": email(index)}],
                          "active": state != "inactive"})
            if state == "twin":  # the same name apart from case: the lookup must refuse to guess
                users.append({"id": user_id + "-twin", "userName": email(index).upper(),
                              "emails": [{"value": email(index).upper()}]})
        directories[directory] = {"api_key": key, "users": users}
    return {"directories": directories}


def admin_seed(estate):
    accounts = [{"account_id": "acc-stayer", "email": STAYER, "memberships": {"od-main": "active"},
                 "tokens": [{"id": "tok-stayer", "label": "stayer"}]}]
    for index, spec in enumerate(estate["leavers"]):
        kind = spec["account"]
        if kind == "none":
            continue
        account = {"account_id": "acc-%d" % index, "email": email(index), "managed": kind.startswith("managed"),
                   "memberships": {"od-other" if kind.endswith("-other") else "od-main": "active"}}
        if account["managed"]:
            account["tokens"] = [{"id": "tok-%d-%d" % (index, number), "label": "token %d" % number}
                                 for number in range(spec["tokens"])]
            account["account_status"] = {"managed-inactive": "inactive", "managed-closed": "closed"}.get(kind, "active")
            account["for_deletion"] = kind == "managed-for-deletion"
            if account["for_deletion"]:
                account["account_status"] = "inactive"
        accounts.append(account)
    return {"org_id": ORG, "api_keys": {ADMIN_KEY: {}},
            "directories": [{"id": one, "name": one} for one in ORG_DIRECTORIES], "accounts": accounts}


def uipath_user_name(spec, index):
    return "l%d" % index if spec["uipath_name"] else email(index)


def uipath_seed(estate):
    organizations = {}
    for number, (organization, (partition, client_id, secret, tenants)) in enumerate(UIPATH.items()):
        users = [{"id": "00000000-0000-4000-8%03d-000000000999" % number, "userName": STAYER, "email": STAYER}]
        tenant_users = dict((tenant, [{"Id": 900, "UserName": STAYER, "EmailAddress": STAYER}]) for tenant in tenants)
        for index, spec in enumerate(estate["leavers"]):
            here = spec["uipath"][organization]
            name = uipath_user_name(spec, index)
            if here["user"] != "absent":
                users.append({"id": uipath_id(number, index), "userName": name, "email": email(index),
                              "isActive": here["user"] == "active"})
            for tenant, state in here["tenants"].items():
                if state != "none":
                    tenant_users[tenant].append({"Id": 100 + index, "UserName": name, "EmailAddress": email(index),
                                                 "personal_workspace": state == "workspace", "busy": state == "busy"})
        organizations[organization] = {
            "partition_global_id": partition, "clients": {client_id: {"secret": secret, "scopes": UIPATH_SCOPES}},
            "users": users, "tenants": dict((tenant, {"users": tenant_users[tenant]}) for tenant in tenants)}
    return {"organizations": organizations}


def uipath_id(number, index):
    return "00000000-0000-4000-8%03d-%012d" % (number, index)


def alibaba_seed(estate):
    directories = []
    for number, directory in enumerate(ALIBABA_DIRECTORIES):
        users = [{"UserId": "u-stayer", "UserName": STAYER}]
        orphans = []
        for index, spec in enumerate(estate["leavers"]):
            here = spec["alibaba"][directory]
            user_id = "u-%d" % index
            provisioning = None
            if here["provisioning"]:
                provisioning = {"UserProvisioningId": "up-%d-%d" % (number, index), "target_id": ACCOUNTS[index % 2],
                                "deletion_strategy": here["provisioning"], "ram_users": ["ram-%d" % index]}
            if here["user"] == "absent":
                if here["orphan"] and provisioning:
                    orphans.append(dict(provisioning, principal_id=user_id, principal_name=email(index)))
                continue
            user = {"UserId": user_id, "UserName": email(index),
                    "Status": "Disabled" if here["user"] == "disabled" else "Enabled"}
            if here["mfa"]:
                user["mfa_devices"] = [{"DeviceId": "mfa-%d-%d" % (number, index)}]
            if here["group"]:
                user["groups"] = ["engineering"]
            if here["assignment"]:
                user["access_assignments"] = [{"access_configuration": "Admin", "target_id": ACCOUNTS[index % 2]}]
            if provisioning:
                user["ram_user_provisionings"] = [provisioning]
            users.append(user)
        directories.append({
            "DirectoryId": directory, "DirectoryName": directory,
            "access_configurations": [{"AccessConfigurationId": "ac-admin-%d" % number,
                                       "AccessConfigurationName": "Admin"}],
            "groups": [{"GroupId": "g-eng-%d" % number, "GroupName": "engineering"},
                       {"GroupId": "g-fin-%d" % number, "GroupName": "finance"}],
            "users": users, "user_provisionings": orphans})
    return {"access_keys": [{"access_key_id": ALIBABA_KEY[0], "access_key_secret": ALIBABA_KEY[1]}],
            "directories": directories}


def leavers_of(estate):
    found = []
    for index, spec in enumerate(estate["leavers"]):
        one = {"name": "Leaver %d" % index, "email": email(index)}
        if spec["scim_by_id"]:
            one["atlassian_user_id"] = "scim-%d" % index
        if spec["account_id_given"] and spec["account"] != "none":
            one["atlassian_account_id"] = "acc-%d" % index
        if spec["uipath_by_id"]:
            one["uipath_user_id"] = uipath_id(0, index)
        elif spec["uipath_name"]:
            one["uipath_user_name"] = uipath_user_name(spec, index)
        if spec["alibaba_by_id"] or any(here["orphan"] for here in spec["alibaba"].values()):
            one["alibaba_user_id"] = "u-%d" % index
        found.append(one)
    return found


# --- drift between the rehearsal and the approved run ------------------------------------------------------------

def drift(estate, simulators, variables):
    """Changes the estate after the rehearsal, at the first leaver it applies to from `drift_leaver` on; returns
    what was done (or that it applied to nobody)."""
    kind = estate["drift"]
    if kind == "none":
        return kind
    if kind == "deprovision setting":
        variables["offboard_alibaba_deprovision_access"] = not variables["offboard_alibaba_deprovision_access"]
        return "deprovision setting: now %s" % variables["offboard_alibaba_deprovision_access"]
    if kind == "workspace setting":
        variables["offboard_uipath_personal_workspace"] = (
            "delete" if variables["offboard_uipath_personal_workspace"] == "convert" else "convert")
        return "workspace setting: now %s" % variables["offboard_uipath_personal_workspace"]
    count = len(estate["leavers"])
    for index in [(estate["drift_leaver"] + step) % count for step in range(count)]:
        done = DRIFT_ONE.get(kind, lambda *_args: None)(estate["leavers"][index], index, simulators)
        if done:
            return "%s: %s" % (kind, done)
    return "%s: applies to no leaver" % kind


def scim_new_hire(spec, index, simulators):
    """The leaver's user name at d-north now belongs to a new user."""
    if spec["scim"]["d-north"] in ("absent", "twin") or spec["scim_by_id"]:
        return None
    scim = simulators["atlassian"]
    with scim.lock:
        directory = scim.directories["d-north"]
        directory["users"].pop("d-north-%d" % index, None)
        scim._store_user("d-north", directory, {  # pylint: disable=protected-access
            "id": "d-north-new-%d" % index, "userName": email(index), "emails": [{"value": email(index)}]})
    return "%s is now d-north-new-%d" % (email(index), index)


def uipath_new_hire(spec, index, simulators, during_run=False):
    """A leaver absent from an organization, whose Orchestrator user the plan removes: a new hire gets the e-mail
    (issue 18, finding 1), now or, `during_run`, once the approved run's pass with reads only has read the
    leaver's tenant (between that pass and the real one)."""
    if spec["uipath_by_id"]:
        return None
    for number, (organization, here) in enumerate(spec["uipath"].items()):
        tenants = [tenant for tenant, state in here["tenants"].items() if state != "none"]
        if here["user"] != "absent" or not tenants:
            continue
        simulator = simulators["uipath"]
        hire = {"id": "00000000-0000-4000-9%03d-%012d" % (number, index), "userName": uipath_user_name(spec, index),
                "email": email(index)}
        if during_run:
            simulator.hire_after("GET", r"/%s/%s/orchestrator_/odata/Users\?" % (organization, tenants[0]),
                                 organization, hire)
            return "%s joins %s during the approved run" % (email(index), organization)
        with simulator.lock:
            simulator._store_user(simulator.organizations[organization], hire)  # pylint: disable=protected-access
        return "%s joined %s" % (email(index), organization)
    return None


def admin_token(spec, index, simulators):
    account = simulators["admin"].accounts.get("acc-%d" % index)
    if account is None or not account["managed"]:
        return None
    with simulators["admin"].lock:
        account["tokens"].append({"id": "tok-late-%d" % index, "label": "late",
                                  "createdAt": "2025-06-01T00:00:00.000Z"})
    return "tok-late-%d" % index


def alibaba_membership(spec, index, simulators):
    simulator = simulators["alibaba"]
    with simulator.lock:
        directory = simulator.directories["d-alione"]
        user_id = "u-%d" % index
        if user_id not in directory["users"]:
            return None
        directory["memberships"].setdefault(user_id, collections.OrderedDict())["g-fin-0"] = "2025-06-01T00:00:00Z"
    return "%s joined finance" % user_id


DRIFT_ONE = {"scim new hire": scim_new_hire, "uipath new hire": uipath_new_hire,
             "uipath new hire during the run": lambda *args: uipath_new_hire(*args, during_run=True),
             "admin token": admin_token, "alibaba membership": alibaba_membership}


# --- one example --------------------------------------------------------------------------------------------------

class Estate:
    """The simulators of the test, started once and seeded again for every example."""

    def __init__(self, serve, watch):
        self.simulators = {"atlassian": AtlassianScimSimulator(), "admin": AtlassianAdminSimulator(),
                           "uipath": HiringUiPath(),
                           "alibaba": AlibabaCloudSsoSimulator(task_delay=0.1, conflict_lag=0.2)}
        self.urls = {}
        for name, simulator in self.simulators.items():
            server = serve(simulator)
            watch.add_server(server)
            self.urls[name] = server.url

    def seed(self, estate):
        for name, seed_of in (("atlassian", scim_seed), ("admin", admin_seed), ("uipath", uipath_seed),
                              ("alibaba", alibaba_seed)):
            simulator = self.simulators[name]
            simulator.clear_faults()
            simulator.seed(seed_of(estate))
            simulator.seed_faults(estate["fault_seed"])
        self.simulators["uipath"].hires = []
        for number in estate["faults"]:
            target, _what, spec = FAULTS[number]
            for name in (("atlassian", "admin", "uipath", "alibaba") if target == "any" else (target,)):
                self.simulators[name].add_fault(**spec)

    def hosts(self):
        hosts = {}
        for directory, key in SCIM_KEYS.items():
            host = {"offboard_provider": "atlassian", "offboard_atlassian": {
                "base_url": self.urls["atlassian"] + "/scim", "directory_id": directory, "api_key": key}}
            if directory == "d-north":
                host["offboard_atlassian_admin"] = {"base_url": self.urls["admin"], "org_id": ORG,
                                                    "admin_api_key": ADMIN_KEY, "directory_id": "od-main"}
            hosts["atlassian-" + directory[2:]] = host
        for organization, (_partition, client_id, secret, tenants) in UIPATH.items():
            hosts["uipath-" + organization] = {
                "offboard_provider": "uipath", "offboard_uipath_tenants": list(tenants), "offboard_uipath": {
                    "base_url": self.urls["uipath"], "organization": organization, "client_id": client_id,
                    "client_secret": secret}}
        for number, directory in enumerate(ALIBABA_DIRECTORIES):
            hosts[("alibaba-one", "alibaba-two")[number]] = {"offboard_provider": "alibaba", "offboard_alibaba": {
                "endpoint": self.urls["alibaba"], "directory_id": directory, "access_key_id": ALIBABA_KEY[0],
                "access_key_secret": ALIBABA_KEY[1]}}
        return hosts


class Figures:
    def __init__(self):
        self.examples = 0
        self.runs = 0
        self.scenarios = collections.Counter()
        self.claims = collections.Counter()
        self.found = []  # (example, kind, contradiction text)
        self.started = time.monotonic()

    def text(self):
        return ("seed %d: %d example(s), %d role run(s) in %.0f s; scenarios (a leaver at a directory) per provider "
                "%s; claims checked %d (%s); contradictions %d" % (
                    SEED, self.examples, self.runs, time.monotonic() - self.started, dict(self.scenarios),
                    sum(self.claims.values()), dict(self.claims), len(self.found)))

    def by_kind(self, shown=2):
        """Each kind of contradiction found, how often, and its first `shown` instances."""
        found = collections.OrderedDict()
        for where, kind, text in self.found:
            found.setdefault(kind, []).append("%s: %s" % (where, text))
        return "\n".join("%s (%d):\n  %s" % (kind, len(texts), "\n  ".join(texts[:shown]))
                         for kind, texts in found.items())


def run_example(estate, simulators, ansible, watch, figures):
    figures.examples += 1
    number = figures.examples
    simulators.seed(estate)
    inventory = os.path.join(ansible.workdir, "directories-%d.json" % number)
    with open(inventory, "w", encoding="utf-8") as handle:
        json.dump({"offboard_directories": {"hosts": simulators.hosts(), "vars": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}, handle)
    ansible.guard.inputs.add(os.path.realpath(inventory))  # it holds the directories' credentials by design
    reports = os.path.join(ansible.workdir, "reports-%d" % number)
    variables = {"offboard_users": leavers_of(estate), "offboard_hosts": "offboard_directories",
                 "offboard_report_dir": reports, "offboard_state": estate["state"], "offboard_force": estate["force"],
                 "offboard_alibaba_provisioned_ram_users": estate["ram_users"],
                 "offboard_alibaba_deprovision_access": estate["deprovision"],
                 "offboard_uipath_personal_workspace": estate["workspace"]}
    args = ("-i", inventory, "--forks", str(len(HOSTS)))
    first = len(watch.runs)
    ansible.run("identity.lifecycle.offboard", extra_vars=variables, env={"PWD": ansible.workdir}, check=True,
                args=args)
    rehearsals = sorted(name for name in os.listdir(reports) if name.endswith(".json")) \
        if os.path.isdir(reports) else []
    drifted = drift(estate, simulators.simulators, variables)
    found = []
    if rehearsals:
        variables["offboard_approved_plan"] = os.path.join(reports, rehearsals[-1])
        variables["offboard_require_approval"] = estate["require_approval"]
        ansible.run("identity.lifecycle.offboard", extra_vars=variables, env={"PWD": ansible.workdir}, args=args)
    else:
        found.append(("no report", "the rehearsal wrote no report"))
    for label, verdict in watch.runs[first:]:
        figures.runs += 1
        figures.scenarios.update(verdict.scenarios)
        figures.claims.update(verdict.claims)
        found += [(one.kind, "%s: %s" % (label, one)) for one in verdict.contradictions]
    if found:
        where = "example %d (drift: %s; replay with GROUND_TRUTH_REPLAY=%s)" % (number, drifted, save(estate, number))
        figures.found += [(where, kind, text) for kind, text in found]


def save(estate, number):
    """Writes an estate that contradicted a claim where GROUND_TRUTH_REPLAY can read it again; returns the path."""
    os.makedirs(REPLAYS, exist_ok=True)
    path = os.path.join(REPLAYS, "seed-%d-example-%d.json" % (SEED, number))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(estate, handle, indent=1)
    return path


def replayed():
    """The estate GROUND_TRUTH_REPLAY names, as an explicit example (or no example)."""
    path = os.environ.get("GROUND_TRUTH_REPLAY")
    if not path:
        return lambda test: test
    with open(path, encoding="utf-8") as handle:
        return example(json.load(handle))


def test_random_estates_faults_and_drift_contradict_no_claim(serve, tmp_path, suite_guard, request):
    watch = RunWatch()
    simulators = Estate(serve, watch)
    ansible = Ansible(str(tmp_path), guard=suite_guard, truth=watch)
    figures = Figures()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=(Phase.explicit,) if os.environ.get("GROUND_TRUTH_REPLAY") else (Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @seed(SEED)
    @replayed()
    @given(estates())
    def one_estate(estate):
        run_example(estate, simulators, ansible, watch, figures)

    try:
        one_estate()
    finally:
        request.node.user_properties.append(("ground truth", "%s\n%s" % (figures.text(), figures.by_kind())))
    listing = "\n".join("%s: %s" % (where, text) for where, _kind, text in figures.found)
    assert not figures.found, "%s\n%s" % (figures.text(), listing)
