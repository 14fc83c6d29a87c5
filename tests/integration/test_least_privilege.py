# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The least-privilege files of docs/least-privilege/ grant exactly what the modules use.

Alibaba: every path of the modules runs against the simulator, and the actions in its request log are the
actions of the RAM policies (read-only, without force, with force); every action the code can send is in
the policy with force. UiPath: applications granted only the scopes of the file do every job.
"""

from __future__ import annotations

import ast
import json
import os

import yaml

from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.uipath import UiPathIdentitySimulator

from .conftest import ROOT

FILES = os.path.join(ROOT, "docs", "least-privilege")
DIRECTORY = "d-00leastprivilege1"
KEY_ID = "LTAI5tLeastPrivilege01"
SECRET = "least-privilege-secret-0123456789"
USER = "identity.lifecycle.alibaba_cloudsso_user"
INFO = "identity.lifecycle.alibaba_cloudsso_user_info"


def policy_actions(name):
    with open(os.path.join(FILES, name), encoding="utf-8") as handle:
        policy = json.load(handle)
    assert policy["Version"] == "1"
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert statement["Action"] == sorted(statement["Action"]) and all(
        action.startswith("cloudsso:") for action in statement["Action"])
    return set(action.split(":", 1)[1] for action in statement["Action"])


def actions_in_code():
    """Every CloudSSO action named in a call of the Alibaba client (`self.call(...)` or `self.pages(...)`)."""
    with open(os.path.join(ROOT, "plugins", "module_utils", "_alibaba.py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("call", "pages")
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def alibaba_simulator():
    return AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{
            "DirectoryId": DIRECTORY, "scim_synchronization": "Enabled",
            "access_configurations": [{"AccessConfigurationId": "ac-00readonly", "AccessConfigurationName": "ReadOnly"}],
            "groups": [{"GroupId": "g-00eng", "GroupName": "engineering"}],
            "users": [
                {"UserId": "u-00plain", "UserName": "plain.user"},
                {"UserId": "u-00bulk1", "UserName": "bulk.one"},
                {"UserId": "u-00bulk2", "UserName": "bulk.two"},
                {"UserId": "u-00toggle", "UserName": "toggle.user"},
                {"UserId": "u-00synced", "UserName": "synced.user", "ProvisionType": "Synchronized"},
                {"UserId": "u-00blocked", "UserName": "blocked.user", "mfa_devices": [{"DeviceId": "mfa-00blocked"}],
                 "groups": ["engineering"], "access_assignments": [{"access_configuration": "ReadOnly", "target_id": "111"}],
                 "ram_user_provisionings": [{"target_id": "111", "failed_events": [{"ErrorCount": 1}]}]},
            ],
            # Left behind by an earlier delete: swept by id with force.
            "user_provisionings": [{"principal_id": "u-00gone", "target_id": "222"}]}]}, task_delay=0.2, conflict_lag=0.3)


def logged_actions(simulator, since):
    return set(entry["action"] for entry in simulator.requests()[since:])


def test_the_alibaba_ram_policies_list_exactly_the_actions_the_modules_send(ansible, serve):
    simulator = alibaba_simulator()
    server = serve(simulator)
    env = {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": server.url, "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": DIRECTORY,
           "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}

    def run(tasks, **kwargs):
        return ansible.tasks([dict(task, name="task %d" % index) for index, task in enumerate(tasks)],
                             env=env, **kwargs)

    # Reads only: the info module (all users, by name, with what blocks a delete) and rehearsals.
    reads = run([{INFO: {}}, {INFO: {"user_name": ["blocked.user"], "include_dependencies": True}},
                 {INFO: {"user_id": ["u-00plain", "u-00nobody"]}},
                 {USER: {"user_name": ["blocked.user", "synced.user", "plain.user"], "state": "absent"},
                  "ignore_errors": True},
                 {USER: {"user_name": ["blocked.user", "plain.user"], "state": "absent", "force": True}}], check=True)
    assert reads.returncode == 0, reads.output
    read_actions = logged_actions(simulator, 0)
    assert read_actions == policy_actions("alibaba-ram-policy-read-only.json")

    # Changes without force: deletes by name and by id (with and without a read first), a user that
    # something blocks and a SCIM-synchronized one (both refused), disabling and enabling.
    mark = len(simulator.requests())
    changes = run([{USER: {"user_name": ["plain.user"], "state": "absent"}},
                   {USER: {"user_id": ["u-00bulk1", "u-00bulk2", "u-00nobody"], "state": "absent"}},
                   {USER: {"user_id": "u-00toggle", "state": "disabled"}},
                   {USER: {"user_name": "toggle.user", "state": "enabled"}},
                   {USER: {"user_name": ["blocked.user", "synced.user"], "state": "absent"}, "ignore_errors": True}])
    assert changes.returncode == 0, changes.output
    assert [user.get("failed", False) for user in changes.task("task 4")["users"]] == [True, True]
    assert simulator.find_user("blocked.user") and simulator.find_user("synced.user")
    without_force = read_actions | logged_actions(simulator, mark)
    assert without_force == policy_actions("alibaba-ram-policy.json")

    mark = len(simulator.requests())
    forced = run([{USER: {"user_name": "blocked.user", "state": "absent", "force": True}},
                  {USER: {"user_id": ["u-00gone"], "state": "absent", "force": True, "provisioned_ram_users": "keep"}}])
    assert forced.returncode == 0, forced.output
    assert simulator.find_user("blocked.user") is None
    assert simulator.directory_state(DIRECTORY)["user_provisionings"] == []
    with_force = without_force | logged_actions(simulator, mark)
    assert with_force == policy_actions("alibaba-ram-policy-force.json")
    # Nothing the code can send is missing from the runs above, nor from the policy with force.
    assert actions_in_code() == with_force


def uipath_applications():
    with open(os.path.join(FILES, "uipath-external-application.yml"), encoding="utf-8") as handle:
        applications = yaml.safe_load(handle)["applications"]
    for application in applications:
        resources = application["application_scopes"]
        assert application["type"] == "confidential" and list(resources)[0] == "Platform Management"
        # The tenant sweep's applications add Orchestrator's scopes (tested in test_uipath_tenants.py).
        assert set(resources) <= {"Platform Management", "Orchestrator API Access"}
        assert application["scope"].split() == [scope for scopes in resources.values() for scope in scopes]
    return dict((application["name"], application) for application in applications)


def test_the_uipath_applications_need_no_other_scope(ansible, serve):
    applications = uipath_applications()
    offboarding, rehearsal = applications["identity.lifecycle offboarding"], applications["identity.lifecycle rehearsal"]
    simulator = UiPathIdentitySimulator({"acme": {
        "clients": {"offboarding-app": {"secret": "uipath-least-privilege-secret-1", "scopes": offboarding["scope"].split()},
                    "rehearsal-app": {"secret": "uipath-least-privilege-secret-2", "scopes": rehearsal["scope"].split()}},
        "users": [{"userName": name, "email": name + "@example.com"} for name in ("ana", "ben", "cleo", "dev")]}})
    server = serve(simulator)
    ids = dict((user["userName"], user["id"]) for user in simulator.users("acme"))

    def env(client, secret, scope):
        return {"UIPATH_URL": server.url, "UIPATH_ORGANIZATION": "acme", "UIPATH_CLIENT_ID": client,
                "UIPATH_CLIENT_SECRET": secret, "UIPATH_SCOPE": scope}

    rehearse = ansible.tasks([
        {"name": "read", "identity.lifecycle.uipath_user_info": {"user_name": ["ana@example.com", "ben"]}},
        {"name": "plan", "identity.lifecycle.uipath_user": {"user_name": ["ana", "ben"], "state": "absent"}},
    ], env=env("rehearsal-app", "uipath-least-privilege-secret-2", rehearsal["scope"]), check=True)
    assert rehearse.returncode == 0, rehearse.output
    assert [user["changed"] for user in rehearse.task("plan")["users"]] == [True, True]
    refused = ansible.tasks([{"name": "delete", "identity.lifecycle.uipath_user": {"user_name": "dev", "state": "absent"}}],
                            env=env("rehearsal-app", "uipath-least-privilege-secret-2", rehearsal["scope"]))
    assert refused.returncode != 0, "the simulator enforces scopes: a read-only application deletes no one"

    offboard = ansible.tasks([
        {"name": "delete", "identity.lifecycle.uipath_user": {"user_name": ["ana", "ben"], "state": "absent"}},
        {"name": "disable", "identity.lifecycle.uipath_user": {"user_id": ids["cleo"], "state": "disabled"}},
        {"name": "enable", "identity.lifecycle.uipath_user": {"user_name": "cleo", "state": "enabled"}},
        {"name": "read", "identity.lifecycle.uipath_user_info": {}},
    ], env=env("offboarding-app", "uipath-least-privilege-secret-1", offboarding["scope"]))
    assert offboard.returncode == 0, offboard.output
    assert sorted(user["userName"] for user in simulator.users("acme")) == ["cleo", "dev"]
