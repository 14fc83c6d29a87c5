#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: uipath_user_info
short_description: Read users of a UiPath organization
version_added: 0.1.0
description:
  - Returns users of a UiPath organization as the identity server's user objects (C(UserDto)).
  - By O(user_id) (one id with C(GET /api/User/{userId}); several through the user list), by O(user_name)
    (C(userName) or C(email), compared as the identity server compares names; a name that only looks like
    a user's name fails naming it), or, with neither, every user, paged through
    C(GET /api/User/users/{partitionGlobalId}) 1000 users at a time.
  - C(type) is returned as the server sends it (the live API sends numbers, C(0) for a user).
  - Never changes anything.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.uipath
  - identity.lifecycle.users.info
  - identity.lifecycle.common
  - identity.lifecycle.attributes.info
"""

EXAMPLES = r"""
- name: Check that leavers are gone
  identity.lifecycle.uipath_user_info:
    user_name:
      - dana.lee@example.com
      - omar.haddad@example.com
  delegate_to: localhost
  register: leftovers

- name: Fail if any leaver still has an account
  ansible.builtin.assert:
    that: leftovers.users | length == 0

- name: Export every user of the organization
  identity.lifecycle.uipath_user_info:
    organization: acme
    client_id: "{{ uipath_client_id }}"
    client_secret: "{{ vault_uipath_client_secret }}"
  delegate_to: localhost
  register: organization_users
"""

RETURN = r"""
users:
  description:
    - The user objects found, in the order asked for (by id or name), or in the order of the list (by id).
    - Each user appears once.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
      userName: dana.lee@example.com
      email: dana.lee@example.com
      name: Dana
      surname: Lee
      displayName: Dana Lee
      isActive: true
      type: 0
      category: 0
      groupIDs: []
      creationTime: "2024-03-01T09:00:00Z"
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_info_module
from ansible_collections.identity.lifecycle.plugins.module_utils._uipath import UiPathDirectory


def main():
    run_info_module(UiPathDirectory)


if __name__ == "__main__":
    main()
