#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: atlassian_scim_user_info
short_description: Read users of an Atlassian Cloud SCIM directory
version_added: 0.1.0
description:
  - Returns users of an Atlassian Cloud user provisioning (SCIM 2.0) directory as SCIM user objects.
  - By O(user_id) (C(GET /Users/{id})), by O(user_name) (C(filter=userName eq "..."), exact apart from
    case), or, with neither, every user, paged with C(startIndex) and C(count) to the end.
  - Never changes anything.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.atlassian
  - identity.lifecycle.users.info
  - identity.lifecycle.common
  - identity.lifecycle.attributes.info
"""

EXAMPLES = r"""
- name: Check that leavers are gone
  identity.lifecycle.atlassian_scim_user_info:
    user_name:
      - alice@example.com
      - bob@example.com
  delegate_to: localhost
  register: leftovers

- name: Fail if any leaver still has a SCIM record
  ansible.builtin.assert:
    that: leftovers.users | length == 0

- name: Export every user of the directory
  identity.lifecycle.atlassian_scim_user_info:
    directory_id: "{{ atlassian_directory_id }}"
    api_key: "{{ vault_atlassian_scim_api_key }}"
  delegate_to: localhost
  register: directory_users
"""

RETURN = r"""
users:
  description:
    - The SCIM user objects found, in the order asked for (by id or name), or in the directory's order.
    - Each user appears once.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 7d4a39b6-0b4c-4d93-9c1e-0f3c1b1b2a11
      userName: alice@example.com
      active: true
      displayName: Alice Example
      emails: [{value: alice@example.com, type: work, primary: true}]
      groups: [{value: 5b2b6f0e-1111-4a4a-9d9d-2c2c2c2c2c2c, display: engineering}]
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian import AtlassianScimDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_info_module


def main():
    run_info_module(AtlassianScimDirectory)


if __name__ == "__main__":
    main()
