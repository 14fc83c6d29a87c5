#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: offboard_report_verify
short_description: Verify every offboarding report in a directory, its digests, the chain and the signatures
version_added: 0.1.0
description:
  - Checks every report pair (C(offboard-<run id>.json) and C(.md)) in O(path), as written by
    M(identity.lifecycle.offboard_report) and the P(identity.lifecycle.offboard#role) role. Other files are
    not looked at.
  - For each report it checks these things. The JSON parses, with no duplicate keys. The file name matches
    the report's C(run_id); a renamed report fails. C(report_digest) matches the report's content; a changed
    value fails as tampered. The JSON file's bytes are as written; a file whose content is the same but whose
    layout was changed fails as rewritten. The Markdown file exists and matches C(markdown_sha256). The
    signature is valid.
  - It also checks the chain. Each C(previous_report_digest) must be the C(report_digest) of a report in
    O(path); otherwise a report before it is missing or was changed. Only the first report may have a
    C(null) previous. No two reports may follow the same one; otherwise they are out of order, or the
    chain branches.
  - With O(public_key), every report must be signed with that key. Without it, a signature is checked
    against the public key it carries. That shows the report was not changed after it was signed, not who
    signed it. The result says which check was made.
  - Fails if any report does not verify, naming each one and what is wrong, and returns the results
    (RV(lines), RV(reports), RV(failures)) then too. Fails without results if O(path) has no report, or if
    O(public_key) is not an Ed25519 public key.
  - A report file larger than 128 MiB, nested deeper than 64 levels or holding text that is not Unicode (a lone
    surrogate) fails as that report, named; whatever one report holds, every other report still gets its line.
  - The chain cannot show that the newest reports were removed. Compare the newest RV(reports[].report_digest)
    with one kept elsewhere, such as the AWX job's artifacts.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
options:
  path:
    description:
      - The report directory, on the host the module runs on.
    type: path
    required: true
  public_key:
    description:
      - The Ed25519 public key in PEM (C(-----BEGIN PUBLIC KEY-----)) that the reports must be signed with.
        Take it from where it was published, not from the reports.
      - A private key here is refused without being used, and the value is kept out of the output (C(no_log))
        in case one is given by mistake.
    type: str
  public_key_given_as:
    description:
      - The name the key was given under, such as C(offboard_verify_public_key), for the messages. When set,
        O(public_key) must be a key. Null or empty fails, naming this name; it never reads as no public key given.
        The playbook C(identity.lifecycle.verify_reports) sets it whenever a key variable is given.
    type: str
    version_added: 0.2.0
requirements:
  - cryptography (a dependency of ansible-core), to check signatures
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - This module only reads and behaves the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details:
      - This module never changes anything.
seealso:
  - module: identity.lifecycle.offboard_report
"""

EXAMPLES = r"""
- name: Verify a year of reports against the published public key
  identity.lifecycle.offboard_report_verify:
    path: /srv/audit/offboard-reports-2026
    public_key: "{{ lookup('ansible.builtin.file', 'offboard-signing.pub') }}"
  delegate_to: localhost
  register: verification

- name: Show one line per report
  ansible.builtin.debug:
    msg: "{{ verification.lines }}"
"""

RETURN = r"""
lines:
  description: One line per report, in name order (the order the runs started).
  returned: always
  type: list
  elements: str
  sample:
    - "offboard-20261203T090000.001Z-check: OK - first report of the chain; signature verified with the given
      public key sha256:3b1f..."
    - "offboard-20261204T101112.123Z: FAILED - Markdown changed: offboard-20261204T101112.123Z.md has sha256 9c1e...,
      the report says 41aa..."
failures:
  description: One entry per problem, the report's name, a colon and what is wrong.
  returned: always
  type: list
  elements: str
verified:
  description: How many reports verified.
  returned: always
  type: int
reports:
  description: One entry per report, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The report's name, C(offboard-<run id>).
      type: str
    run_id:
      description: The report's C(run_id), or C(null) if it cannot be read.
      type: str
    ok:
      description: Whether the report verified.
      type: bool
    problems:
      description: What is wrong with it.
      type: list
      elements: str
    notes:
      description: What is worth knowing and is not wrong (the first report, overlapping runs).
      type: list
      elements: str
    report_digest:
      description: The C(report_digest) the report carries.
      type: str
    previous_report_digest:
      description: The C(previous_report_digest) the report carries.
      type: str
    previous_report:
      description: The name of the report it follows, or C(null).
      type: str
    signature:
      description: What was checked of the signature, or C(unsigned).
      type: str
    key_fingerprint:
      description: C(sha256:) and the hex SHA-256 of the raw public key the report is signed with, or C(null).
      type: str
    line:
      description: The report's line of RV(lines).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.identity.lifecycle.plugins.module_utils._evidence import EvidenceError, verify_directory


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            # Public, but a private key given here by mistake must never be shown.
            public_key=dict(type="str", no_log=True),
            public_key_given_as=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        reports = verify_directory(module.params["path"], module.params["public_key"],
                                   module.params["public_key_given_as"])
    except EvidenceError as error:
        module.fail_json(msg=str(error))
    failed = [report for report in reports if not report["ok"]]
    result = dict(changed=False, reports=reports, lines=[report["line"] for report in reports],
                  failures=["%s: %s" % (report["name"], problem) for report in failed for problem in report["problems"]],
                  verified=len(reports) - len(failed))
    if failed:
        module.fail_json(msg="%d of %d report(s) in %s do not verify: %s" % (
            len(failed), len(reports), module.params["path"],
            "; ".join("%s (%s)" % (report["name"], "; ".join(report["problems"])) for report in failed)), **result)
    module.exit_json(msg="all %d report(s) in %s verify" % (len(reports), module.params["path"]), **result)


if __name__ == "__main__":
    main()
