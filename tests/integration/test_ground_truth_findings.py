# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The smallest role runs in which the ground-truth checker (ground_truth.py) found a contradiction of the code of
issue 18's time, one per finding it reproduced; each failed then, and passes since the finding was fixed. These
tests check their runs with a RunWatch of their own and assert that it found nothing."""

from __future__ import annotations

import re

import pytest

from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.atlassian_admin import AtlassianAdminSimulator
from simulators.uipath import UiPathIdentitySimulator

from .conftest import Ansible
from .ground_truth import RunWatch
from .test_offboard_role import reports
from .test_offboard_sweep import admin_seed, atlassian, offboard

DANA = {"name": "Dana Lee", "email": "dana.lee@example.com"}


class HiringUiPath(UiPathIdentitySimulator):
    """The UiPath simulator, where a new user can be hired the moment a request matching a pattern has been answered
    (between the reads of an approved run's planning pass and its real pass, say)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hires = []  # (method, path regex, organization, user)

    def hire_after(self, method, path, organization, user):
        with self.lock:
            self.hires.append((method, re.compile(path), organization, user))

    def _record(self, request, status, fault=None):
        super()._record(request, status, fault)
        with self.lock:
            for hire in list(self.hires):
                method, path, organization, user = hire
                if request.method == method and path.search(request.target):
                    self.hires.remove(hire)
                    self._store_user(self.organizations[organization], dict(user))


class Checked:
    """An Ansible runner whose role runs the test's own RunWatch checks, and `serve` that shows it the simulators."""

    def __init__(self, tmp_path, suite_guard, serve):
        self.watch = RunWatch()
        self.ansible = Ansible(str(tmp_path), guard=suite_guard, truth=self.watch)
        self._serve = serve

    def serve(self, simulator):
        server = self._serve(simulator)
        self.watch.add_server(server)
        return server


@pytest.fixture
def checked(tmp_path, suite_guard, serve):
    return Checked(tmp_path, suite_guard, serve)


def contradictions(watch):
    """Every contradiction the checker found in the test's role runs, known kinds included."""
    return ["%s: %s" % (label, one) for label, verdict in watch.runs for one in verdict.contradictions]


def newest(workdir):
    return sorted(reports(workdir).items())[-1][1][0]


def run(ansible, env, check=False, **extra_vars):
    variables = {"offboard_users": [DANA]}
    variables.update(extra_vars)
    return ansible.run("identity.lifecycle.offboard", extra_vars=variables, env=dict(env, PWD=ansible.workdir),
                       check=check)


def atlassian_with_sweep(serve, account):
    """One SCIM directory with Dana, and an organization with two directories (the sweep's is od-main) whose
    only account is `account` (Dana's); the environment for both."""
    scim = AtlassianScimSimulator({"d-findings": {"api_key": "ATSCIM-findings-key-3e1f", "users": [
        {"id": "s-dana", "userName": "dana.lee@example.com", "emails": [{"value": "dana.lee@example.com"}]}]}})
    admin = AtlassianAdminSimulator({"org_id": "org-findings", "api_keys": {"ATADMIN-findings-key-8c2d": {}},
                                     "directories": [{"id": "od-main"}, {"id": "od-other"}],
                                     "accounts": [dict(account, account_id="acc-dana", email="dana.lee@example.com")]})
    env = {"ATLASSIAN_SCIM_BASE_URL": serve(scim).url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": "d-findings",
           "ATLASSIAN_SCIM_API_KEY": "ATSCIM-findings-key-3e1f", "ATLASSIAN_ADMIN_BASE_URL": serve(admin).url,
           "ATLASSIAN_ORG_ID": "org-findings", "ATLASSIAN_ADMIN_API_KEY": "ATADMIN-findings-key-8c2d",
           "ATLASSIAN_ORG_DIRECTORY_ID": "od-main"}
    return scim, admin, env


def uipath_absent_leaver(serve):
    """Dana left the organization earlier; her Orchestrator user in DefaultTenant is left."""
    uipath = HiringUiPath({"acme": {
        "clients": {"findings-app": {"secret": "uipath-findings-secret-1", "scopes": [
            "PM.User", "PM.User.Read", "PM.User.Write", "OR.Users", "OR.Folders"]}},
        "users": [], "tenants": {"DefaultTenant": {"users": [
            {"Id": 11, "UserName": "dana.lee@example.com", "EmailAddress": "dana.lee@example.com"}]}}}})
    return uipath, uipath.client_environment(serve(uipath).url)


UIPATH_SWEEP = {"offboard_uipath_tenants": ["DefaultTenant"]}


def test_an_approved_run_never_deletes_a_new_hire_given_the_leavers_email(checked):
    uipath, env = uipath_absent_leaver(checked.serve)
    assert run(checked.ansible, env, check=True, **UIPATH_SWEEP).returncode == 0
    # The new hire joins once the approved run's pass with reads only has read the tenant (its reads of the
    # organization came first): between that pass and the real one.
    uipath.hire_after("GET", r"/DefaultTenant/orchestrator_/odata/Users\?", "acme", {
        "id": "00000000-0000-4000-8000-00000000beef", "userName": "dana.lee@example.com",
        "email": "dana.lee@example.com"})
    run(checked.ansible, env, offboard_approved_plan=newest(checked.ansible.workdir)["plan"], **UIPATH_SWEEP)
    assert not uipath.hires, "the tenant was never read"
    assert contradictions(checked.watch) == [], "\n".join(contradictions(checked.watch))


def test_the_atlassian_sweep_never_misses_an_account_active_elsewhere_in_the_organization(checked):
    # An account the organization does not manage, active in the organization's other directory.
    _scim, _admin, env = atlassian_with_sweep(checked.serve, {"managed": False, "memberships": {"od-other": "active"}})
    run(checked.ansible, env, check=True)
    run(checked.ansible, env)
    assert contradictions(checked.watch) == [], "\n".join(contradictions(checked.watch))


def test_an_approved_run_changes_nobody_its_plan_left_out(checked):
    # The organization refuses to read Dana's API tokens: the sweep fails, her row fails, and the plan has no item
    # for her, in the rehearsal and in the approved run's pass with reads only alike (so the approval holds). The
    # run bound to that plan must not delete her SCIM user, which that pass found.
    scim, admin, env = atlassian_with_sweep(checked.serve, {"memberships": {"od-main": "active"}})
    admin.add_fault(method="GET", path=r"/api-tokens", status=400, times=None)
    run(checked.ansible, env, check=True)
    rehearsed = newest(checked.ansible.workdir)
    assert rehearsed["plan"] == [] and rehearsed["leavers"][0]["results"]["atlassian"]["outcome"] == "failed"
    run(checked.ansible, env, offboard_approved_plan=rehearsed["plan"])
    assert contradictions(checked.watch) == [], "\n".join(contradictions(checked.watch))
    assert [user["id"] for user in scim.users("d-findings")] == ["s-dana"]


def test_a_deprovisioning_assignment_delete_is_in_the_plan_and_the_report(checked):
    # Rehearsed without de-provisioning, run with the default: the access configuration provisioned on the account
    # goes, although the approved plan does not say so.
    simulator = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": "LTAI5tFindingTwoKey01", "access_key_secret": "finding-two-secret-0123"}],
        "directories": [{"DirectoryId": "d-00finding2", "access_configurations": [
            {"AccessConfigurationId": "ac-00admin", "AccessConfigurationName": "Admin"}],
            "users": [{"UserId": "u-00dana", "UserName": "dana.lee@example.com",
                       "access_assignments": [{"access_configuration": "Admin", "target_id": "111"}]}]}]},
        task_delay=0.1, conflict_lag=0.2)
    env = simulator.client_environment(checked.serve(simulator).url)
    rehearsal = run(checked.ansible, env, check=True, offboard_force=True, offboard_alibaba_deprovision_access=False)
    assert rehearsal.returncode == 0, rehearsal.output
    provisioned = simulator.directory_state("d-00finding2")["provisioned_access_configurations"]
    assert provisioned
    approved = run(checked.ansible, env, offboard_force=True,
                   offboard_approved_plan=newest(checked.ansible.workdir)["plan"])
    # De-provisioning is an action the approved plan does not have: the run is refused and changes nothing.
    assert approved.returncode != 0 and newest(checked.ansible.workdir)["approval"]["result"] == "refused"
    assert simulator.directory_state("d-00finding2")["provisioned_access_configurations"] == provisioned
    assert contradictions(checked.watch) == [], "\n".join(contradictions(checked.watch))


def test_already_done_counts_no_change_of_the_run(checked):
    # The approved run removes the Orchestrator user an earlier run left.
    uipath, env = uipath_absent_leaver(checked.serve)
    assert run(checked.ansible, env, check=True, **UIPATH_SWEEP).returncode == 0
    approved = run(checked.ansible, env, offboard_approved_plan=newest(checked.ansible.workdir)["plan"],
                   **UIPATH_SWEEP)
    assert approved.returncode == 0, approved.output
    assert uipath.tenant("DefaultTenant")["users"] == []
    assert contradictions(checked.watch) == [], "\n".join(contradictions(checked.watch))


def test_a_refused_run_reports_no_leftover_access_removed(checked):
    _scim, admin, env = atlassian(checked.serve)
    assert offboard(checked.ansible, env, check=True).returncode == 0
    rehearsed = newest(checked.ansible.workdir)
    # A token made after the rehearsal: the approved run is refused and changes nothing.
    admin.seed(admin_seed(mei_tokens=[{"id": "tok-late", "label": "late"}]))
    refused = offboard(checked.ansible, env, offboard_approved_plan=rehearsed["plan"])
    assert refused.returncode != 0 and newest(checked.ansible.workdir)["approval"]["result"] == "refused"
    assert contradictions(checked.watch) == [], "\n".join(contradictions(checked.watch))
