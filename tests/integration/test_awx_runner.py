# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""identity.lifecycle.offboard run the way AWX runs a job: by ansible-runner, in a private data directory,
with the credentials in env/envvars (as a credential type's injector sets them), the leavers in
env/extravars, and the outcome read from the run's artifacts (status, rc, job events and the set_stats
data that AWX shows on the job and hands to the next workflow node)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import time

from tests.evidence_oracle import digest
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

from .conftest import BIN, ROOT, is_check

WORKFLOW = os.path.join(ROOT, "examples", "awx-workflow")

LEAVERS = [{"name": "Dana Lee", "email": "dana.lee@example.com"},
           {"name": "Omar Haddad", "email": "omar.haddad@example.com"},
           {"email": "gone@example.com"}]
PEOPLE = ["dana.lee@example.com", "omar.haddad@example.com", "sam.taylor@example.com"]
ATLASSIAN_KEY = "ATSCIM-runner-key-2e8d4c"
UIPATH_CLIENT = ("5d0c6f1e-8a4d-4e2b-9c7f-5d1a2e3f4b61", "uipath-runner-secret-8Kp1")


def simulators(serve):
    """An Atlassian directory and a UiPath organization, and the environment AWX credentials would inject."""
    atlassian = AtlassianScimSimulator({"d-runner": {"api_key": ATLASSIAN_KEY, "users": [
        {"id": "a-%d" % index, "userName": name, "emails": [{"value": name, "primary": True}]}
        for index, name in enumerate(PEOPLE)]}})
    uipath = UiPathIdentitySimulator({"acme": {
        "partition_global_id": "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f14",
        "clients": {UIPATH_CLIENT[0]: {"secret": UIPATH_CLIENT[1],
                                       "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
        "users": [{"id": "00000000-0000-4000-8000-00000000000%d" % index, "userName": name, "email": name,
                   "isActive": True, "type": 0} for index, name in enumerate(PEOPLE)]}})
    environment = atlassian.client_environment(serve(atlassian).url)
    environment.update(uipath.client_environment(serve(uipath).url))
    return atlassian, uipath, environment


def private_data_dir(tmp_path, guard, credentials, extravars, name="runner", cmdline=None):
    """The layout AWX hands to ansible-runner: env/, inventory/ and project/ (with the example workflow's node
    playbooks beside offboard.yml). `cmdline`: what a job template adds to the command, such as --check."""
    root = tmp_path / name
    for name in ("env", "inventory", "project"):
        (root / name).mkdir(parents=True)
    envvars = dict(credentials)
    envvars.update({
        # The collection as an execution environment or a project's collections/ would provide it.
        "ANSIBLE_COLLECTIONS_PATH": os.environ["IDENTITY_LIFECYCLE_COLLECTIONS_ROOT"],
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_HOME": str(tmp_path / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible" / "tmp"),
        "ANSIBLE_CONFIG": str(tmp_path / "no-ansible.cfg"),
    })
    # Every task's window and check mode, for suite_guard: no changing request during a task in check mode.
    envvars.update(guard.task_log_environment(str(root / "task-log.jsonl")))
    (root / "env" / "envvars").write_text(json.dumps(envvars), encoding="utf-8")
    (root / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
    if cmdline:
        (root / "env" / "cmdline").write_text(cmdline, encoding="utf-8")
    for playbook in glob.glob(os.path.join(WORKFLOW, "*.yml")):
        shutil.copy(playbook, str(root / "project"))
    (root / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
        encoding="utf-8")
    # A project playbook that runs the collection's playbook by its FQCN.
    (root / "project" / "offboard.yml").write_text(
        "---\n- name: Offboard\n  ansible.builtin.import_playbook: identity.lifecycle.offboard\n", encoding="utf-8")
    # env/envvars is the job's input: it holds the injected credentials by design.
    guard.inputs.add(os.path.realpath(str(root / "env" / "envvars")))
    return root


def run(root, ident, guard, playbook="offboard.yml"):
    """ansible-runner run, as the AWX task manager calls it; returns the artifact directory."""
    env = dict((name, value) for name, value in os.environ.items()
               if not name.startswith(("ATLASSIAN_SCIM_", "UIPATH_", "ALIBABA_CLOUD_", "ALICLOUD_", "ANSIBLE_")))
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    label = "ansible-runner job %s (%s)" % (ident, playbook)
    cmdline = root / "env" / "cmdline"
    # A job of type Check (--check in env/cmdline): no changing request at all, whatever its tasks say.
    marks = guard.log_marks() if cmdline.exists() and is_check(cmdline.read_text().split()) else None
    since = time.time()
    completed = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", str(root), "-p", playbook,
                                "--ident", ident], capture_output=True, text=True, env=env, timeout=600, check=False)
    if marks is not None:
        guard.check_no_changes(label, marks)
    guard.check_task_windows(label, str(root / "task-log.jsonl"), since)
    artifacts = root / "artifacts" / ident
    # ansible-runner keeps its own record of the command and the environment it was given (the credentials
    # among them): input, like env/envvars. Everything else in the artifacts is scanned for secrets.
    guard.inputs.add(os.path.realpath(str(artifacts / "command")))
    assert (artifacts / "status").exists(), completed.stdout + completed.stderr
    return artifacts, completed


def events(artifacts):
    found = []
    for path in glob.glob(str(artifacts / "job_events" / "*.json")):
        with open(path, encoding="utf-8") as handle:
            found.append(json.load(handle))
    return sorted(found, key=lambda event: event["counter"])


def stats_event(artifacts):
    (event,) = [event for event in events(artifacts) if event["event"] == "playbook_on_stats"]
    return event["event_data"]


def test_an_awx_style_run_publishes_its_outcome_as_artifacts(tmp_path, serve, suite_guard):
    atlassian, uipath, credentials = simulators(serve)
    report_dir = tmp_path / "reports"
    # AWX adds the job's own variables to the extra vars; awx_job_id names the report (slices never collide).
    root = private_data_dir(tmp_path, suite_guard, credentials,
                            {"offboard_users": LEAVERS, "offboard_report_dir": str(report_dir),
                             "awx_job_id": 4711, "awx_job_template_name": "Offboard leavers"})
    artifacts, completed = run(root, "job-1", suite_guard)

    assert (artifacts / "status").read_text() == "successful", completed.stdout[-3000:]
    assert (artifacts / "rc").read_text() == "0"
    stats = stats_event(artifacts)
    data = stats["artifact_data"]
    assert data["offboard_summary"] == {"removed": 4, "already absent": 2}
    assert data["offboard_failures"] == []
    (json_report,) = glob.glob(str(report_dir / "offboard-*.json"))
    assert data["offboard_report_file"] == json_report[:-len(".json")]
    assert data["offboard_report_file"].endswith("Z-awx4711")
    assert os.path.exists(data["offboard_report_file"] + ".md")
    assert set(data) == {"offboard_summary", "offboard_failures", "offboard_report_file", "offboard_plan",
                         "offboard_plan_digest", "offboard_report_digest", "offboard_leftover"}
    assert stats["failures"] == {} and stats["ok"]["localhost"] > 0
    with open(json_report, encoding="utf-8") as handle:
        written = json.load(handle)
    assert written["summary"] == data["offboard_summary"]
    assert written["leftover_summary"] == data["offboard_leftover"] and data["offboard_leftover"]["manual_follow_up"] > 0
    assert sorted(user["userName"] for user in atlassian.users("d-runner")) == ["sam.taylor@example.com"]
    assert sorted(user["userName"] for user in uipath.users("acme")) == ["sam.taylor@example.com"]
    # The job's stdout, as AWX shows it, says what happened.
    assert "Report: " + data["offboard_report_file"] + ".md" in (artifacts / "stdout").read_text()


def test_an_awx_style_run_that_fails_still_publishes_the_report_and_the_failures(tmp_path, serve, suite_guard):
    atlassian, uipath, credentials = simulators(serve)
    credentials["ATLASSIAN_SCIM_API_KEY"] = "ATSCIM-runner-wrong-key-77"
    suite_guard.given["ATSCIM-runner-wrong-key-77"] = "the wrong key in env/envvars"
    report_dir = tmp_path / "reports"
    root = private_data_dir(tmp_path, suite_guard, credentials,
                            {"offboard_users": LEAVERS, "offboard_report_dir": str(report_dir)})
    artifacts, completed = run(root, "job-2", suite_guard)

    assert (artifacts / "status").read_text() == "failed"
    assert (artifacts / "rc").read_text() == "2"
    stats = stats_event(artifacts)
    data = stats["artifact_data"]
    assert data["offboard_summary"] == {"removed": 2, "already absent": 1, "failed": 3}
    assert sorted((failure["leaver"], failure["provider"], failure["error"]["status"])
                  for failure in data["offboard_failures"]) == [
        ("dana.lee@example.com", "atlassian", 401), ("gone@example.com", "atlassian", 401),
        ("omar.haddad@example.com", "atlassian", 401)]
    assert glob.glob(data["offboard_report_file"] + ".json") and glob.glob(data["offboard_report_file"] + ".md")
    assert stats["failures"] == {"localhost": 1}
    assert sorted(user["userName"] for user in uipath.users("acme")) == ["sam.taylor@example.com"]
    assert len(atlassian.users("d-runner")) == 3


def workflow(tmp_path, serve, suite_guard, between=None):
    """The example AWX workflow: the rehearsal node (job type Check), then (after the approval node, which
    only lets the workflow go on) the real run fed the rehearsal's artifacts as extra variables."""
    atlassian, uipath, credentials = simulators(serve)
    report_dir = str(tmp_path / "reports")
    variables = {"offboard_users": LEAVERS, "offboard_report_dir": report_dir}
    rehearsal_dir = private_data_dir(tmp_path, suite_guard, credentials, dict(variables, awx_job_id=41),
                                     name="rehearsal", cmdline="--check")
    artifacts, completed = run(rehearsal_dir, "job-41", suite_guard, playbook="rehearse.yml")
    assert (artifacts / "status").read_text() == "successful", completed.stdout[-3000:]
    # The rehearsal changed nothing (suite_guard checks it too, task by task): whatever the real run does below
    # is measured against the estate the rehearsal saw.
    assert changes_since(atlassian, uipath, (0, 0)) == []
    assert sorted(user["userName"] for user in atlassian.users("d-runner")) == PEOPLE
    assert sorted(user["userName"] for user in uipath.users("acme")) == PEOPLE
    handed_on = stats_event(artifacts)["artifact_data"]
    if between:
        between(atlassian, uipath)
    marks = (len(atlassian.requests()), len(uipath.requests()))
    real_dir = private_data_dir(tmp_path, suite_guard, credentials, dict(variables, awx_job_id=43, **handed_on),
                                name="real")
    artifacts, completed = run(real_dir, "job-43", suite_guard, playbook="offboard_approved.yml")
    return atlassian, uipath, handed_on, artifacts, completed, changes_since(atlassian, uipath, marks)


def changes_since(atlassian, uipath, marks):
    """The changing requests both simulators logged after `marks` (UiPath's token requests change nothing)."""
    return [(entry["method"], entry["path"]) for simulator, mark in zip((atlassian, uipath), marks)
            for entry in simulator.requests()[mark:] if entry.get("changing") and "/token" not in entry["path"]]


def test_the_awx_workflow_rehearses_then_runs_the_approved_plan(tmp_path, serve, suite_guard):
    atlassian, uipath, handed_on, artifacts, completed, changes = workflow(tmp_path, serve, suite_guard)
    assert [(item["provider"], item["leaver"]) for item in handed_on["offboard_plan"]] == [
        ("atlassian", "dana.lee@example.com"), ("atlassian", "omar.haddad@example.com"),
        ("uipath", "dana.lee@example.com"), ("uipath", "omar.haddad@example.com")]
    assert handed_on["offboard_plan_digest"] == digest(handed_on["offboard_plan"])
    assert (artifacts / "status").read_text() == "successful", completed.stdout[-3000:]
    data = stats_event(artifacts)["artifact_data"]
    assert [(item["provider"], item["user_id"]) for item in data["offboard_plan"]] == [
        (item["provider"], item["user_id"]) for item in handed_on["offboard_plan"]]
    # Atlassian's users one by one, UiPath's together in one bulk delete.
    assert sorted(changes) == [("DELETE", "/acme/identity_/api/User"), ("DELETE", "/scim/directory/d-runner/Users/a-0"),
                               ("DELETE", "/scim/directory/d-runner/Users/a-1")]
    with open(data["offboard_report_file"] + ".json", encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["approval"]["approved_plan_digest"] == handed_on["offboard_plan_digest"]
    assert report["previous_report_digest"] == handed_on["offboard_report_digest"]
    assert sorted(user["userName"] for user in atlassian.users("d-runner")) == ["sam.taylor@example.com"]
    assert sorted(user["userName"] for user in uipath.users("acme")) == ["sam.taylor@example.com"]


def test_the_awx_workflow_refuses_a_drift_between_rehearsal_and_real_run(tmp_path, serve, suite_guard):
    def reassign(atlassian, _uipath):
        # Omar's user is gone and his name now belongs to someone else.
        with atlassian.lock:
            users = atlassian.directories["d-runner"]["users"]
            del users["a-1"]
            atlassian._store_user("d-runner", atlassian.directories["d-runner"], {  # pylint: disable=protected-access
                "id": "a-new", "userName": "omar.haddad@example.com",
                "emails": [{"value": "omar.haddad@example.com", "primary": True}]})

    atlassian, uipath, _handed_on, artifacts, completed, changes = workflow(tmp_path, serve, suite_guard, reassign)
    assert (artifacts / "status").read_text() == "failed", completed.stdout[-3000:]
    assert changes == []
    data = stats_event(artifacts)["artifact_data"]
    assert [(failure["leaver"], failure["provider"]) for failure in data["offboard_failures"]] == [
        ("omar.haddad@example.com", "atlassian")]
    assert "not in the approved plan" in data["offboard_failures"][0]["msg"]
    assert data["offboard_plan"] == [] and data["offboard_summary"]["not approved"] == 1
    assert sorted(user["userName"] for user in atlassian.users("d-runner")) == PEOPLE
    assert sorted(user["userName"] for user in uipath.users("acme")) == PEOPLE
