# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role at Alibaba Cloud CloudSSO alone, against the simulator seeded with the demo directory: an
approval covers what deprovision_access does, and the report never claims a removal someone else made."""

from __future__ import annotations

import copy
import json
import os

from simulators.alibaba import AlibabaCloudSsoSimulator

from .test_approval import changing, newest, offboard

SEED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "simulators",
                    "seeds", "alibaba-demo.json")
DIRECTORY = "d-00fc2p61xxxx"
DANA = [{"name": "Dana Lee", "email": "dana.lee@example.com"}]
ADMIN_ON_SHARED = ["1142405247840001", "ac-00demoadmin0000001"]  # Dana's is its only assignment there


def demo(serve, change_seed=None, **settings):
    with open(SEED, encoding="utf-8") as handle:
        seed = json.load(handle)
    if change_seed:
        change_seed(seed)
    settings.setdefault("task_delay", 0.1)
    settings.setdefault("conflict_lag", 0.2)
    simulator = AlibabaCloudSsoSimulator(seed, **settings)
    return simulator, simulator.client_environment(serve(simulator).url)


def provisioned(simulator):
    configs = simulator.directory_state(DIRECTORY)["provisioned_access_configurations"]
    return sorted([account, config] for account, ids in configs.items() for config in ids)


def user_names(simulator):
    return sorted(user["UserName"] for user in simulator.directory_state(DIRECTORY)["users"])


def alibaba_row(report):
    (leaver,) = report["leavers"]
    return leaver["results"]["alibaba"]


def test_a_plan_rehearsed_without_deprovisioning_does_not_approve_a_run_that_deprovisions(ansible, serve):
    simulator, env = demo(serve)
    before = (user_names(simulator), provisioned(simulator))
    assert ADMIN_ON_SHARED in before[1]
    rehearsal = offboard(ansible, env, check=True, offboard_users=DANA, offboard_force=True,
                         offboard_alibaba_deprovision_access=False)
    assert rehearsal.returncode == 0, rehearsal.output
    path, rehearsed, _markdown = newest(ansible.workdir)
    (item,) = rehearsed["plan"]
    assert ("removed access assignment AdministratorAccess on RD-Account 1142405247840001, leaving "
            "AdministratorAccess provisioned on the account") in item["actions"]
    assert [entry["kind"] for entry in alibaba_row(rehearsed)["leftover"]] == ["RAM user provisioning"]

    # The same plan, run with the default deprovision_access (true): not what was approved.
    mark = len(simulator.requests())
    refused = offboard(ansible, env, offboard_users=DANA, offboard_force=True, offboard_approved_plan=path,
                       offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert refused.returncode != 0
    assert changing(simulator, mark) == []
    assert (user_names(simulator), provisioned(simulator)) == before
    _path, report, _markdown = newest(ansible.workdir)
    assert report["approval"]["result"] == "refused"
    (not_approved,) = report["approval"]["not_approved"]
    assert ("removed access assignment AdministratorAccess on RD-Account 1142405247840001, de-provisioning "
            "AdministratorAccess from the account if no other assignment of it is left there") in not_approved["actions"]
    assert alibaba_row(report)["outcome"] == "not approved"

    # Run as rehearsed, it is approved and the access configuration stays on the account.
    mark = len(simulator.requests())
    approved = offboard(ansible, env, offboard_users=DANA, offboard_force=True, offboard_approved_plan=path,
                        offboard_approved_plan_digest=rehearsed["plan_digest"], offboard_alibaba_deprovision_access=False)
    assert approved.returncode == 0, approved.output
    _path, report, _markdown = newest(ansible.workdir)
    assert report["approval"]["result"] == "approved"
    assert "dana.lee@example.com" not in user_names(simulator) and ADMIN_ON_SHARED in provisioned(simulator)
    assert [entry["kind"] for entry in alibaba_row(report)["leftover"]] == ["RAM user provisioning"]
    strategies = [entry["path"] for entry in simulator.requests()[mark:] if entry["action"] == "DeleteAccessAssignment"]
    assert len(strategies) == 1 and "DeprovisionStrategy=None" in strategies[0]


def test_a_deprovisioned_access_configuration_is_planned_approved_and_reported(ansible, serve):
    simulator, env = demo(serve)
    rehearsal = offboard(ansible, env, check=True, offboard_users=DANA, offboard_force=True)
    assert rehearsal.returncode == 0, rehearsal.output
    path, rehearsed, markdown = newest(ansible.workdir)
    leftover = [(entry["kind"], entry["id"], entry["done"]) for entry in alibaba_row(rehearsed)["leftover"]]
    assert leftover[0] == ("access configuration", "ac-00demoadmin0000001", "de-provisioned from the account")
    assert "de-provisioned from the account: access configuration AdministratorAccess" in markdown

    real = offboard(ansible, env, offboard_users=DANA, offboard_force=True, offboard_approved_plan=path,
                    offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert real.returncode == 0, real.output
    _path, report, markdown = newest(ansible.workdir)
    assert report["approval"]["result"] == "approved"
    row = alibaba_row(report)
    assert [(entry["kind"], entry["id"], entry["done"]) for entry in row["leftover"]] == leftover
    # What the report says is what the directory shows: the configuration left the account, the RAM user of the
    # deleted provisioning goes in the background, which the report says it did not see finish.
    assert ADMIN_ON_SHARED not in provisioned(simulator)
    assert "not confirmed by this run" in row["leftover"][1]["done"]
    assert simulator.directory_state(DIRECTORY)["ram_users"] in ({}, {"1142405247840001": ["dana.lee"]})


def test_a_provisioning_someone_else_deleted_is_not_reported_as_swept(ansible, serve):
    """Mei, deleted without force, left a RAM user provisioning; another administrator deletes it (keeping its RAM
    user) just before the sweep's delete: the sweep removed nothing, and the report says so."""
    def with_provisioning(seed):
        mei = [user for user in seed["directories"][0]["users"] if user["UserName"] == "mei.chen@example.com"][0]
        mei["ram_user_provisionings"] = [{"UserProvisioningId": "up-00demomeichen0001", "target_id": "1142405247840002",
                                          "ram_users": ["mei.chen"]}]

    simulator, env = demo(serve, with_provisioning)
    other = simulator.meanwhile(r"Action=DeleteUserProvisioning&.*UserProvisioningId=up-00demomeichen0001(&|$)",
                                "DeleteUserProvisioning", UserProvisioningId="up-00demomeichen0001",
                                DeletionStrategy="Keep")
    mei = [{"name": "Mei Chen", "email": "mei.chen@example.com"}]
    real = offboard(ansible, env, offboard_users=mei)
    assert real.returncode == 0, real.output
    assert other["answers"] == [{}]
    _path, report, markdown = newest(ansible.workdir)
    row = alibaba_row(report)
    assert row["outcome"] == "removed" and row["leftover"] == []
    assert row["sweep"]["status"] != "swept" and row["sweep"]["leftover"] == []
    assert any("up-00demomeichen0001" in entry["detail"] and "already gone" in entry["detail"]
               for entry in row["manual_follow_up"])
    assert report["leftover_summary"]["removed"] == 0
    assert "none found by the sweep" not in markdown and "leftover access removed" not in markdown
    # The RAM user stays: nothing in the report says otherwise.
    assert simulator.directory_state(DIRECTORY)["ram_users"]["1142405247840002"] == ["mei.chen"]
    assert copy.deepcopy(row["sweep"]["request_ids"]) == []
