#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: offboard_leavers
short_description: Take the offboard role's leavers and approved plan as text, never as templates
version_added: 0.1.0
description:
  - Used by the P(identity.lifecycle.offboard#role) role as its first task. Returns the variable C(offboard_users)
    as it was given, with every field's value as text.
  - The leaver list comes from an HR export; it is data, never a template. A field such as
    C({{ lookup('ansible.builtin.env', 'KEY') }}) stays that text in every task, module argument and report of the
    role, whether the list came as extra vars (C(-e @leavers.yml)), a vars file, a play or inventory variable. The
    module reads the variable as it is stored, before any templating; what it returns is never rendered
    (C(AnsibleUnsafeText) on ansible-core 2.16, untrusted text on 2.19 and later).
  - A C(offboard_users) that is itself a string is the playbook's own template that builds the list (such as a list
    made from a survey's e-mail addresses); it is rendered once, and its result is then taken as text.
  - The same for C(offboard_approved_plan), whose plan items name the leavers (as AWX hands a rehearsal's plan to the
    next node of a workflow, in extra vars). A path to a rehearsal's report is rendered, as the playbook's own
    template.
  - Fails, naming the leaver's position and the key, when C(offboard_users) is missing or not a list of dicts, when
    a leaver has a key that is not a leaver field, or a value that is not text (a number is taken as its text).
  - Runs on the controller as an action plugin; it sends no request anywhere.
author: identity.lifecycle contributors (@identity-lifecycle)
options: {}
attributes:
  check_mode:
    support: full
    description: Reads a variable only, in check mode too.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: posix
    description: An action plugin; runs on the controller.
"""

EXAMPLES = r"""
- name: Take the leavers as text
  identity.lifecycle.offboard_leavers:
  register: leavers
"""

RETURN = r"""
leavers:
  description:
    - The leavers of C(offboard_users), in order, each a dict of its fields (C(email), C(name),
      C(<provider>_user_name), C(<provider>_user_id), C(atlassian_account_id)) with text or null values.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "Dana Lee", "email": "dana.lee@example.com"}]
approved_plan:
  description:
    - C(offboard_approved_plan) with every string as text (a plan list), the path of a rehearsal's report, or
      null when it is not given.
  returned: success
  type: raw
  sample: offboard-reports/offboard-20261204T101112.123Z-check.json
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.fail_json(msg="offboard_leavers runs as an action plugin on the controller; it is not a module to run on "
                         "a host on its own")


if __name__ == "__main__":
    main()
