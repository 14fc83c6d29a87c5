#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: alibaba_cloudsso_user_info
short_description: Read users of an Alibaba Cloud CloudSSO directory
version_added: 0.1.0
description:
  - Returns users of an Alibaba Cloud CloudSSO directory as CloudSSO user objects.
  - By O(user_id) (C(GetUser)), by O(user_name) (C(ListUsers) with C(Filter=UserName eq <name>), compared
    exactly), or, with neither, every user, paged with C(NextToken) to the end.
  - With O(include_dependencies=true), each user also gets what blocks its deletion, and the RAM user
    provisionings that O(identity.lifecycle.alibaba_cloudsso_user#module:force=true) would remove.
  - Never changes anything.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
options:
  include_dependencies:
    description:
      - Add to each user C(MFADevices) (C(ListMFADevicesForUser)), C(JoinedGroups) (C(ListJoinedGroupsForUser)),
        C(AccessAssignments), the access assignments made to the user directly (C(ListAccessAssignments)
        with C(PrincipalType=User)), and C(UserProvisionings), the RAM user provisionings made for the user
        directly (C(ListUserProvisionings) with C(PrincipalType=User)).
      - Four to six more requests per user.
    type: bool
    default: false
extends_documentation_fragment:
  - identity.lifecycle.alibaba
  - identity.lifecycle.users.info
  - identity.lifecycle.common
  - identity.lifecycle.attributes.info
"""

EXAMPLES = r"""
- name: See what keeps two leavers from being deleted
  identity.lifecycle.alibaba_cloudsso_user_info:
    directory_id: d-00fc2p61xxxx
    access_key_id: "{{ alibaba_access_key_id }}"
    access_key_secret: "{{ vault_alibaba_access_key_secret }}"
    user_name:
      - dana.lee@example.com
      - omar.haddad@example.com
    include_dependencies: true
  delegate_to: localhost
  register: leavers

- name: Show the groups of each leaver
  ansible.builtin.debug:
    msg: "{{ item.UserName }}: {{ item.JoinedGroups | map(attribute='GroupName') | list }}"
  loop: "{{ leavers.users }}"

- name: Export every user of the directory (credentials from the environment)
  identity.lifecycle.alibaba_cloudsso_user_info:
  delegate_to: localhost
  register: directory_users
"""

RETURN = r"""
users:
  description:
    - The CloudSSO user objects found, in the order asked for (by id or name), or in the directory's order.
    - Each user appears once.
  returned: always
  type: list
  elements: dict
  contains:
    UserId:
      description: The user's id.
      type: str
    UserName:
      description: The user name.
      type: str
    Status:
      description: V(Enabled) or V(Disabled).
      type: str
    ProvisionType:
      description: V(Manual), or V(Synchronized) for a user synchronized by SCIM.
      type: str
    MFADevices:
      description: The user's MFA devices.
      type: list
      elements: dict
      returned: with O(include_dependencies=true)
    JoinedGroups:
      description: The groups the user belongs to.
      type: list
      elements: dict
      returned: with O(include_dependencies=true)
    AccessAssignments:
      description: The access assignments made to the user directly (not through a group).
      type: list
      elements: dict
      returned: with O(include_dependencies=true)
    UserProvisionings:
      description:
        - The RAM user provisionings made for the user directly (not through a group), as
          C(ListUserProvisionings) returns them; each one has CloudSSO keep a RAM user for the user in the
          member account C(TargetId).
      type: list
      elements: dict
      returned: with O(include_dependencies=true)
  sample:
    - UserId: u-00q8wbq42wiltcrkxxxx
      UserName: dana.lee@example.com
      DisplayName: Dana Lee
      Email: dana.lee@example.com
      Status: Enabled
      ProvisionType: Manual
      CreateTime: "2024-05-06T03:03:42Z"
      MFADevices: [{DeviceId: mfa-00ujhet8pycljj7jxxxx, DeviceName: Dana phone, DeviceType: TOTP}]
      JoinedGroups: [{GroupId: g-00jqzghi2n3o5hkhxxxx, GroupName: engineering}]
      AccessAssignments:
        - AccessConfigurationId: ac-00jhtfl8thteu6ujxxxx
          AccessConfigurationName: ReadOnlyAccess
          TargetType: RD-Account
          TargetId: "1142405247840000"
          PrincipalType: User
      UserProvisionings:
        - UserProvisioningId: up-002axzhapcbz6e63xxxx
          PrincipalType: User
          PrincipalId: u-00q8wbq42wiltcrkxxxx
          TargetType: RD-Account
          TargetId: "1142405247840000"
          DeletionStrategy: Delete
          DuplicationStrategy: KeepBoth
          Status: Enabled
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._alibaba import AlibabaCloudSsoDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_info_module


def main():
    run_info_module(AlibabaCloudSsoDirectory)


if __name__ == "__main__":
    main()
