#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: offboard_report
short_description: Write one offboarding run's report pair, hash-chained and optionally signed
version_added: 0.1.0
description:
  - Writes C(offboard-<name>.md) and then C(offboard-<name>.json) into the report directory O(path), as the
    P(identity.lifecycle.offboard#role) role does at the end of each run.
  - Adds the evidence fields to the JSON report before writing it. C(markdown_sha256) is the hex SHA-256 of
    the Markdown bytes. C(previous_report_digest) is the C(report_digest) of the newest earlier report in
    O(path), or C(null) for the first one.
    C(report_digest) is C(sha256:) and the hex SHA-256 of the canonical JSON of the report without
    C(report_digest) and C(signature). With O(signing_key) it also adds C(signature).
  - The newest earlier report is the report written last before this one. The module holds an exclusive lock
    on O(path) (C(flock) of C(.offboard-reports.lock)) while it finds that report and writes its own, so two
    runs that end together still form one chain. Writers that share O(path) over a network filesystem need
    a filesystem where C(flock) works across machines.
  - Never overwrites a report. If either file of O(name) exists, the module fails and writes nothing, so two
    runs with the same run id cannot replace each other's evidence.
  - Each file is written to a temporary file in O(path), flushed to disk, then linked to its name, so a
    reader never sees half a report. If the JSON cannot be written, the Markdown file written just before it
    is removed.
  - Creates O(path) (mode C(0750)) if it does not exist. The report files get mode C(0640).
  - M(identity.lifecycle.offboard_report_verify) and the playbook C(identity.lifecycle.verify_reports) check
    such a directory.
  - With O(check_only=true), writes nothing and checks everything that could keep it from writing the report of
    O(name) later, so that a run can find it before it changes anything. The signing key must sign. O(path) must
    be a directory this user can write files into (it is created if it does not exist). Its lock must be
    available to this user. Every report in it must be readable and within the bounds a report has (128 MiB,
    nested 64 levels, Unicode text), because the module reads every report to find the one to chain to. No
    report of O(name) may exist yet. The task fails naming each problem, the file or the key, never the key's
    text. The P(identity.lifecycle.offboard#role) role runs this check before its first request.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
options:
  path:
    description:
      - The report directory (the role's C(offboard_report_dir)), on the host the module runs on.
    type: path
    required: true
  name:
    description:
      - The run id, such as C(20261204T101112.123Z) or C(20261204T101112.123Z-awx42-check). The files are
        C(offboard-<name>.json) and C(offboard-<name>.md).
      - Letters, digits, C(.), C(_) and C(-), starting with a letter or digit, at most 200 characters.
      - If O(report) has a C(run_id), it must be this name; if it has none, C(run_id) is set to it.
    type: str
    required: true
  report:
    description:
      - The JSON report of the run, without the evidence fields C(report_digest), C(previous_report_digest),
        C(markdown_sha256) and C(signature). If any of them is present, the module fails.
      - Required unless O(check_only=true).
    type: dict
  markdown:
    description:
      - The Markdown report of the run, written as UTF-8 exactly as given.
      - Required unless O(check_only=true).
    type: str
  check_only:
    description:
      - Write nothing; check that the report of O(name) can be written into O(path) with O(signing_key) (see
        the description).
    type: bool
    default: false
    version_added: 0.2.0
  signing_key:
    description:
      - An Ed25519 private key in PEM (PKCS#8, C(-----BEGIN PRIVATE KEY-----), unencrypted), such as
        C(openssl genpkey -algorithm ed25519) makes. When set, the report gets C(signature).
      - If not set, the environment variable E(OFFBOARD_SIGNING_KEY) is used. If neither is set, the report is
        not signed.
      - A key that is not an Ed25519 private key fails the task before anything is written. The key is never
        returned, logged or written.
    type: str
requirements:
  - cryptography (a dependency of ansible-core), only with O(signing_key)
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Writes the report in check mode too, because a rehearsal's report is evidence (the approver signs
        off its plan). Writing a report never counts as a change, in either mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - The chain shows a report that was removed or changed between two others. It cannot show that the newest
    reports were removed. Keep each run's RV(report_digest) somewhere else too, such as the AWX job's
    artifacts. See the guide C(docs/approvals-and-evidence.md).
seealso:
  - module: identity.lifecycle.offboard_report_verify
"""

EXAMPLES = r"""
- name: Write the run's report pair, signed with the key from OFFBOARD_SIGNING_KEY
  identity.lifecycle.offboard_report:
    path: /var/lib/offboarding/reports
    name: "{{ run_id }}"
    report: "{{ report }}"
    markdown: "{{ report | identity.lifecycle.offboard_markdown }}"
  delegate_to: localhost
  register: written

- name: Keep the report digest with the job (an anchor outside the directory)
  ansible.builtin.set_stats:
    data:
      offboard_report_digest: "{{ written.report_digest }}"

- name: Write a report signed with a key from Ansible Vault
  identity.lifecycle.offboard_report:
    path: ./offboard-reports
    name: 20261204T101112.123Z
    report:
      report: identity.lifecycle offboarding report
      leavers: []
    markdown: "# Offboarding report 20261204T101112.123Z\n"
    signing_key: "{{ vault_offboard_signing_key }}"
  delegate_to: localhost
"""

RETURN = r"""
report_file:
  description: The path of the report without its suffix.
  returned: success
  type: str
  sample: /var/lib/offboarding/reports/offboard-20261204T101112.123Z
json_file:
  description: The path of the JSON report.
  returned: success
  type: str
  sample: /var/lib/offboarding/reports/offboard-20261204T101112.123Z.json
markdown_file:
  description: The path of the Markdown report.
  returned: success
  type: str
  sample: /var/lib/offboarding/reports/offboard-20261204T101112.123Z.md
report_digest:
  description: The C(report_digest) of the report written.
  returned: success
  type: str
  sample: sha256:5d41402abc4b2a76b9719d911017c592ae0f8f1d2c0e3f8b6d1f4b0f9a8e7c6d
previous_report_digest:
  description: The C(report_digest) of the report it follows, or C(null) for the first report in O(path).
  returned: success
  type: str
previous_report:
  description: The name (C(offboard-<run id>)) of the report it follows, or C(null).
  returned: success
  type: str
  sample: offboard-20261203T090000.001Z-check
markdown_sha256:
  description: The hex SHA-256 of the Markdown file.
  returned: success
  type: str
signed:
  description: Whether the report was signed.
  returned: success
  type: bool
public_key:
  description: The public key of the signing key in PEM (publish it for the auditors), or C(null).
  returned: success
  type: str
key_fingerprint:
  description: C(sha256:) and the hex SHA-256 of the raw public key, or C(null) when not signed.
  returned: success
  type: str
checked:
  description: With O(check_only=true), true when the report can be written. A failed check fails the task.
  returned: success and O(check_only=true)
  type: bool
problems:
  description: With O(check_only=true), each problem found (empty on success).
  returned: O(check_only=true)
  type: list
  elements: str
reports:
  description: With O(check_only=true), how many reports O(path) holds.
  returned: O(check_only=true)
  type: int
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import (
    EvidenceError, check_report_directory, write_report)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            name=dict(type="str", required=True),
            report=dict(type="dict"),
            markdown=dict(type="str"),
            check_only=dict(type="bool", default=False),
            signing_key=dict(type="str", no_log=True, fallback=(env_fallback, ["OFFBOARD_SIGNING_KEY"])),
        ),
        required_if=[("check_only", False, ("report", "markdown"))],
        supports_check_mode=True,
    )
    params = module.params
    if params["check_only"]:
        problems, details = check_report_directory(params["path"], params["name"], params["signing_key"] or None)
        if problems:
            module.fail_json(msg="the report of this run could not be written: %s" % "; ".join(problems),
                             problems=problems, **details)
        module.exit_json(changed=False, checked=True, problems=[], **details)
    try:
        written = write_report(params["path"], params["name"], params["report"], params["markdown"],
                               params["signing_key"] or None)
    except EvidenceError as error:
        module.fail_json(msg=str(error))
    for warning in written.pop("warnings"):
        module.warn(warning)
    # Writing the run's audit trail is not a change to anything the play manages (and is done in check mode).
    module.exit_json(changed=False, **written)


if __name__ == "__main__":
    main()
