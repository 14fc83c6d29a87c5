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
import subprocess

from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator

from .conftest import BIN

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


def private_data_dir(tmp_path, guard, credentials, extravars):
    """The layout AWX hands to ansible-runner: env/, inventory/ and project/."""
    root = tmp_path / "runner"
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
    (root / "env" / "envvars").write_text(json.dumps(envvars), encoding="utf-8")
    (root / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
    (root / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
        encoding="utf-8")
    # A project playbook that runs the collection's playbook by its FQCN.
    (root / "project" / "offboard.yml").write_text(
        "---\n- name: Offboard\n  ansible.builtin.import_playbook: identity.lifecycle.offboard\n", encoding="utf-8")
    # env/envvars is the job's input: it holds the injected credentials by design.
    guard.inputs.add(os.path.realpath(str(root / "env" / "envvars")))
    return root


def run(root, ident, guard):
    """ansible-runner run, as the AWX task manager calls it; returns the artifact directory."""
    env = dict((name, value) for name, value in os.environ.items()
               if not name.startswith(("ATLASSIAN_SCIM_", "UIPATH_", "ALIBABA_CLOUD_", "ALICLOUD_", "ANSIBLE_")))
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    completed = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", str(root), "-p", "offboard.yml",
                                "--ident", ident], capture_output=True, text=True, env=env, timeout=600, check=False)
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
                         "offboard_plan_digest", "offboard_report_digest"}
    assert stats["failures"] == {} and stats["ok"]["localhost"] > 0
    with open(json_report, encoding="utf-8") as handle:
        assert json.load(handle)["summary"] == data["offboard_summary"]
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
