# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""identity.lifecycle.offboard over many directories in one run: one inventory host per directory
(offboard_provider), directories in parallel under --forks, one report, against the simulators."""

from __future__ import annotations

import glob
import json
import os

from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

LEAVERS = [{"name": "Dana Lee", "email": "dana.lee@example.com"},
           {"name": "Omar Haddad", "email": "omar.haddad@example.com"}]
LEAVER_NAMES = [leaver["email"] for leaver in LEAVERS]
STAYER = "sam.taylor@example.com"
PEOPLE = LEAVER_NAMES + [STAYER]

ATLASSIAN_KEYS = {"d-north": "ATSCIM-north-key-5b1c9e", "d-south": "ATSCIM-south-key-7f3a2d"}
UIPATH_CLIENTS = {"acme": ("a1c0ffee-0000-4000-8000-00000000ac3e", "kq7Vw2-acme-Xs9Qw2Lp"),
                  "globex": ("a1c0ffee-0000-4000-8000-0000000610be", "r3Zt8-globex-Mw2Kp5Jd")}
ALIBABA_KEY = ("LTAI-many-directories", "alibaba-many-directories-secret-6Tn4")
ALIBABA_DIRECTORY = "d-alimain01"


class Estate:
    """Two Atlassian directories, two UiPath organizations and one Alibaba directory, each one inventory host."""

    def __init__(self, serve):
        self.atlassian = AtlassianScimSimulator(dict(
            (directory, {"api_key": key, "users": [
                {"id": "%s-%d" % (directory, index), "userName": name, "emails": [{"value": name, "primary": True}]}
                for index, name in enumerate(PEOPLE)]})
            for directory, key in ATLASSIAN_KEYS.items()))
        self.uipath = UiPathIdentitySimulator(dict(
            (organization, {
                "partition_global_id": "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f1%d" % index,
                "clients": {client_id: {"secret": secret, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
                "users": [{"id": "0000000%d-0000-4000-8000-00000000000%d" % (index, number), "userName": name,
                           "email": name, "isActive": True, "type": 0} for number, name in enumerate(PEOPLE)]})
            for index, (organization, (client_id, secret)) in enumerate(UIPATH_CLIENTS.items())))
        self.alibaba = AlibabaCloudSsoSimulator({
            "access_keys": [{"access_key_id": ALIBABA_KEY[0], "access_key_secret": ALIBABA_KEY[1]}],
            "directories": [{"DirectoryId": ALIBABA_DIRECTORY, "users": [
                {"UserId": "u-0%d" % index, "UserName": name} for index, name in enumerate(PEOPLE)]}],
        }, task_delay=0.1, conflict_lag=0.2)
        atlassian_url = serve(self.atlassian).url + "/scim"
        uipath_url = serve(self.uipath).url
        alibaba_url = serve(self.alibaba).url
        self.hosts = {}
        for directory, key in ATLASSIAN_KEYS.items():
            self.hosts["atlassian-" + directory[2:]] = {"offboard_provider": "atlassian", "offboard_atlassian": {
                "base_url": atlassian_url, "directory_id": directory, "api_key": key}}
        for organization, (client_id, secret) in UIPATH_CLIENTS.items():
            self.hosts["uipath-" + organization] = {"offboard_provider": "uipath", "offboard_uipath": {
                "base_url": uipath_url, "organization": organization, "client_id": client_id, "client_secret": secret}}
        self.hosts["alibaba-main"] = {"offboard_provider": "alibaba", "offboard_alibaba": {
            "endpoint": alibaba_url, "directory_id": ALIBABA_DIRECTORY, "access_key_id": ALIBABA_KEY[0],
            "access_key_secret": ALIBABA_KEY[1]}}

    def people(self, host):
        """The user names left in the directory of `host`."""
        if host.startswith("atlassian-"):
            return sorted(user["userName"] for user in self.atlassian.users("d-" + host[len("atlassian-"):]))
        if host.startswith("uipath-"):
            return sorted(user["userName"] for user in self.uipath.users(host[len("uipath-"):]))
        return sorted(user["UserName"] for user in self.alibaba.directories[ALIBABA_DIRECTORY]["users"].values())

    def inventory(self, ansible, hosts=None):
        """An inventory file in the test's directory with the group offboard_directories."""
        path = os.path.join(ansible.workdir, "directories-%d.yml" % (ansible.runs + 1))
        inventory = {"offboard_directories": {
            "hosts": self.hosts if hosts is None else hosts,
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(inventory, handle, indent=1)
        # The inventory is the test's input: it holds the directories' credentials by design.
        ansible.guard.inputs.add(os.path.realpath(path))
        return path

    def offboard(self, ansible, hosts=None, check=False, forks=5, **extra_vars):
        variables = {"offboard_users": LEAVERS, "offboard_hosts": "offboard_directories"}
        variables.update(extra_vars)
        return ansible.run("identity.lifecycle.offboard", extra_vars=variables, env={"PWD": ansible.workdir},
                           check=check, args=("-i", self.inventory(ansible, hosts), "--forks", str(forks)))


def reports(workdir):
    found = []
    for path in sorted(glob.glob(os.path.join(workdir, "offboard-reports", "offboard-*.json"))):
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        with open(path[:-len(".json")] + ".md", encoding="utf-8") as handle:
            found.append((report, handle.read()))
    return found


def host_results(result, name):
    """{host: result} of the task with this name (role tasks are named "<role> : <task>")."""
    for play in result.parsed["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(" : " + name):
                return task["hosts"]
    raise AssertionError("task %r not in the output:\n%s" % (name, result.output[-4000:]))


def outcomes(report):
    """{(leaver email, directory host): outcome} of a report."""
    return dict(((leaver["email"], key), result["outcome"]) for leaver in report["leavers"]
                for key, result in leaver["results"].items())


def test_every_directory_in_one_run_with_one_report(ansible, serve):
    estate = Estate(serve)
    hosts = sorted(estate.hosts)

    rehearsal = estate.offboard(ansible, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    for host in hosts:
        assert estate.people(host) == sorted(PEOPLE), host

    # Each Atlassian directory's first request answers after 3 s: run in parallel, those two waits overlap.
    mark = len(estate.atlassian.requests())
    for directory in ATLASSIAN_KEYS:
        estate.atlassian.add_fault(action="delay", method="GET", path="/directory/%s/" % directory, delay=3.0)
    real = estate.offboard(ansible)
    assert real.returncode == 0, real.output
    for host in hosts:
        assert estate.people(host) == [STAYER], host
    log = estate.atlassian.requests()[mark:]
    delayed = [[entry["time"] for entry in log if "/directory/%s/" % directory in entry["path"]][0]
               for directory in ATLASSIAN_KEYS]
    assert abs(delayed[0] - delayed[1]) < 3.0, delayed
    # One report per run, for every directory: the rehearsal's and the real run's.
    (rehearsed, _markdown), (report, markdown) = reports(ansible.workdir)
    assert rehearsed["check_mode"] and set(outcomes(rehearsed).values()) == {"would remove"}
    assert report["inventory"] is True and report["failed"] is False
    assert report["result"] == "every leaver was handled at every directory"
    assert [(directory["directory"], directory["provider"], directory["directory_id"], directory["status"])
            for directory in report["directories"]] == [
        ("atlassian-north", "atlassian", "d-north", "run"), ("atlassian-south", "atlassian", "d-south", "run"),
        ("uipath-acme", "uipath", "acme", "run"), ("uipath-globex", "uipath", "globex", "run"),
        ("alibaba-main", "alibaba", ALIBABA_DIRECTORY, "run")]
    assert outcomes(report) == dict(((email, host), "removed") for email in LEAVER_NAMES for host in hosts)
    assert report["summary"] == {"removed": 10}
    dana = report["leavers"][0]["results"]
    assert (dana["uipath-globex"]["directory"], dana["uipath-globex"]["directory_id"]) == ("uipath-globex", "globex")
    assert dana["atlassian-south"]["user_id"] == "d-south-0"
    assert "## Directories" in markdown
    assert "| atlassian-north | Atlassian Cloud | d-north | run |" in markdown
    assert "| Leaver | atlassian-north (Atlassian Cloud) | atlassian-south (Atlassian Cloud) |" in markdown
    # The report is written once, on the controller, while every directory ran its own module task.
    assert list(host_results(real, "Write the JSON and Markdown reports")) == ["atlassian-north"]
    assert set(host_results(real, "Offboard at Atlassian Cloud, users given by name")) == {
        "atlassian-north", "atlassian-south"}

    again = estate.offboard(ansible)
    assert again.returncode == 0, again.output
    assert all(stats["changed"] == 0 for stats in again.parsed["stats"].values()), again.parsed["stats"]
    latest = reports(ansible.workdir)[-1][0]
    assert set(outcomes(latest).values()) == {"already absent"} and len(outcomes(latest)) == 10


def test_failing_directories_are_reported_while_the_others_finish_then_the_play_fails(ansible, serve):
    estate = Estate(serve)
    hosts = dict(estate.hosts)
    # A wrong key: the directory answers 401 to every request.
    hosts["atlassian-south"] = {"offboard_provider": "atlassian", "offboard_atlassian": dict(
        hosts["atlassian-south"]["offboard_atlassian"], api_key="ATSCIM-a-wrong-key-0000")}
    # A second host for the north directory: neither may send anything.
    hosts["atlassian-north-again"] = hosts["atlassian-north"]
    # A typo in the provider, a half-configured provider, and a host that fails the role's argument checks.
    hosts["okta-eu"] = {"offboard_provider": "okta"}
    hosts["alibaba-half"] = {"offboard_provider": "alibaba", "offboard_alibaba": {"directory_id": "d-other"}}
    hosts["broken"] = {"offboard_provider": "uipath", "offboard_uipath": "not a dict"}

    result = estate.offboard(ansible, hosts=hosts, forks=4)
    assert result.returncode != 0
    # The healthy directories finished.
    for host in ("uipath-acme", "uipath-globex", "alibaba-main"):
        assert estate.people(host) == [STAYER], host
    # Nothing was removed where a directory failed, and nothing at all was sent to the duplicated one.
    assert estate.people("atlassian-north") == sorted(PEOPLE)
    assert estate.people("atlassian-south") == sorted(PEOPLE)
    assert not [entry for entry in estate.atlassian.requests() if "/d-north/" in entry["path"]]
    assert not [entry for entry in estate.atlassian.requests() if entry["method"] != "GET"]

    ((report, markdown),) = reports(ansible.workdir)
    assert report["failed"] is True
    status = dict((directory["directory"], directory["status"]) for directory in report["directories"])
    assert status == {"atlassian-north": "failed", "atlassian-south": "failed", "uipath-acme": "run",
                      "uipath-globex": "run", "alibaba-main": "run", "atlassian-north-again": "failed",
                      "okta-eu": "failed", "alibaba-half": "failed", "broken": "failed"}
    found = outcomes(report)
    for email in LEAVER_NAMES:
        for host in ("uipath-acme", "uipath-globex", "alibaba-main"):
            assert found[(email, host)] == "removed"
        for host in ("atlassian-north", "atlassian-south", "atlassian-north-again", "okta-eu", "alibaba-half",
                     "broken"):
            assert found[(email, host)] == "failed", (email, host)
    reasons = dict((directory["directory"], directory["reason"]) for directory in report["directories"])
    assert "same Atlassian Cloud directory (d-north) as host atlassian-north-again" in reasons["atlassian-north"]
    assert "'okta', which is not one of atlassian, uipath, alibaba" in reasons["okta-eu"]
    assert "alibaba is only partly configured" in reasons["alibaba-half"]
    assert "stopped before its checks" in reasons["broken"]
    south = [failure for failure in report["failures"] if failure["directory"] == "atlassian-south"]
    assert [failure["error"]["status"] for failure in south] == [401, 401]
    assert report["summary"] == {"removed": 6, "failed": 12}
    assert "ATSCIM-a-wrong-key-0000" not in result.output + markdown + json.dumps(report)
    # Every failing directory's host fails; the healthy ones do not.
    stats = result.parsed["stats"]
    assert sorted(host for host, counts in stats.items() if counts["failures"]) == [
        "alibaba-half", "atlassian-north", "atlassian-north-again", "atlassian-south", "broken", "okta-eu"]
    failed = host_results(result, "Fail when any leaver could not be offboarded")
    assert "dana.lee@example.com at atlassian directory atlassian-south" in failed["atlassian-south"]["msg"]
    assert "HTTP 401" in failed["atlassian-south"]["msg"] or "401" in failed["atlassian-south"]["msg"]


def test_a_leaver_problem_stops_every_directory_before_any_request(ansible, serve):
    estate = Estate(serve)
    leavers = LEAVERS + [{"name": "No Email", "email": "", "uipath_user_name": "noemail"}]
    result = estate.offboard(ansible, offboard_users=leavers)
    assert result.returncode != 0
    stop = host_results(result, "Stop before any request when a leaver or a provider cannot be handled")
    assert set(stop) == set(estate.hosts)
    message = stop["alibaba-main"]["msg"]
    assert "offboard_users[2] (name 'No Email', uipath_user_name 'noemail') has nothing to address the leaver by " \
           "at atlassian" in message
    assert message.count("offboard_users[2]") == 2  # once per provider, not once per directory
    for simulator in (estate.atlassian, estate.uipath, estate.alibaba):
        assert simulator.requests() == []
    assert reports(ansible.workdir) == []


def changing_requests(estate, marks):
    return [(simulator.name, entry["method"], entry["path"])
            for simulator, mark in zip((estate.atlassian, estate.uipath, estate.alibaba), marks)
            for entry in simulator.requests()[mark:] if entry.get("changing")]


def marks(estate):
    return [len(simulator.requests()) for simulator in (estate.atlassian, estate.uipath, estate.alibaba)]


def test_an_approved_plan_binds_every_directory_and_a_drift_at_one_changes_nothing_anywhere(ansible, serve):
    estate = Estate(serve)
    rehearsal = estate.offboard(ansible, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    ((rehearsed, _markdown),) = reports(ansible.workdir)
    assert sorted({(item["directory"], item["provider"]) for item in rehearsed["plan"]}) == sorted(
        (host, variables["offboard_provider"]) for host, variables in estate.hosts.items())
    assert len(rehearsed["plan"]) == 10

    # Dana's name at the south directory now belongs to another user.
    with estate.atlassian.lock:
        south = estate.atlassian.directories["d-south"]
        del south["users"]["d-south-0"]
        estate.atlassian._store_user("d-south", south, {  # pylint: disable=protected-access
            "id": "d-south-9", "userName": LEAVER_NAMES[0], "emails": [{"value": LEAVER_NAMES[0], "primary": True}]})
    before = marks(estate)
    refused = estate.offboard(ansible, offboard_approved_plan=rehearsed["plan"],
                              offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert refused.returncode != 0
    assert changing_requests(estate, before) == []
    for host in estate.hosts:
        assert estate.people(host) == sorted(PEOPLE), host
    report = reports(ansible.workdir)[-1][0]
    assert [(item["directory"], item["user_id"]) for item in report["approval"]["not_approved"]] == [
        ("atlassian-south", "d-south-9")]
    assert outcomes(report)[(LEAVER_NAMES[0], "atlassian-south")] == "not approved"
    assert report["summary"] == {"would remove": 9, "not approved": 1}
    # Only the directory with the change that is not approved fails its host.
    assert sorted(host for host, counts in refused.parsed["stats"].items() if counts["failures"]) == [
        "atlassian-south"]

    # The drift undone by a new rehearsal and approval: the run changes exactly the new plan, everywhere.
    rehearsal = estate.offboard(ansible, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    approved = reports(ansible.workdir)[-1][0]
    assert "d-south-9" in [item["user_id"] for item in approved["plan"]]
    real = estate.offboard(ansible, offboard_approved_plan=approved["plan"],
                           offboard_approved_plan_digest=approved["plan_digest"])
    assert real.returncode == 0, real.output
    for host in estate.hosts:
        assert estate.people(host) == [STAYER], host
    report = reports(ansible.workdir)[-1][0]
    assert [(item["directory"], item["user_id"]) for item in report["plan"]] == [
        (item["directory"], item["user_id"]) for item in approved["plan"]]
    assert report["approval"]["result"] == "approved"
    assert all(result.get("verified_absent") is True for leaver in report["leavers"]
               for result in leaver["results"].values())
