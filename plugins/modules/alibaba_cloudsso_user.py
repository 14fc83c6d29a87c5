#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: alibaba_cloudsso_user
short_description: Delete, disable or enable users of an Alibaba Cloud CloudSSO directory
version_added: 0.1.0
description:
  - Brings users of an Alibaba Cloud CloudSSO directory to O(state).
  - V(absent) calls C(DeleteUser). CloudSSO refuses to delete a user that still has MFA devices, group
    memberships or access assignments made to the user directly; without O(force) such a user fails with
    Alibaba's C(DeletionConflict.User.*) code, and the message lists what remains and names O(force).
  - With O(force=true), the module first removes, in this order and each reported in RV(users[].actions),
    the user's MFA devices (C(ListMFADevicesForUser), C(DeleteMFADeviceForUser) with C(MfaType) set to the
    device's listed C(DeviceType), which passkeys may need), group memberships
    (C(ListJoinedGroupsForUser), C(RemoveUserFromGroup)) and direct access assignments (C(ListAccessAssignments)
    with C(PrincipalType=User), C(DeleteAccessAssignment) with C(DeprovisionStrategy=None), then
    C(GetTaskStatus) until the task succeeds or fails, for at most 300 seconds), then deletes the user.
    C(DeleteUser) is retried for up to 300 seconds while CloudSSO still answers
    C(DeletionConflict.User.AccessAssigment), because removed assignments take a while to go.
  - Assignments that a user has through a group are not removed; they end with the group membership.
  - A user synchronized from an identity provider by SCIM (C(ProvisionType=Synchronized)) is refused before
    anything is removed while SCIM synchronization is enabled, because CloudSSO does not delete it; remove it
    in the identity provider instead.
  - V(disabled) and V(enabled) call C(UpdateUserStatus), only when the status differs.
  - O(user_name) is the C(UserName), looked up with C(ListUsers) and C(Filter=UserName eq <name>) and compared
    exactly. CloudSSO user names contain only letters, digits and C(@ _ - .); any other name fails before
    a request is sent. A name that matches no user exactly but another user apart from letter case fails
    for that user, so that a leaver is never reported absent because of a typo in case.
  - O(user_id) is a CloudSSO user id, C(u-) followed by letters and digits, at most 64 characters; any other
    id fails before a request is sent.
  - Check mode sends only reads. Without O(force), it reads the user's MFA devices, groups and direct
    assignments, and fails for a user whose deletion would be refused, saying why.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
options:
  force:
    description:
      - With O(state=absent), remove the user's MFA devices, group memberships and direct access assignments
        before deleting the user, waiting for the asynchronous assignment tasks.
      - Ignored for the other states.
    type: bool
    default: false
extends_documentation_fragment:
  - identity.lifecycle.alibaba
  - identity.lifecycle.users
  - identity.lifecycle.common
  - identity.lifecycle.attributes
"""

EXAMPLES = r"""
- name: Offboard two leavers from CloudSSO, removing what blocks the deletion
  identity.lifecycle.alibaba_cloudsso_user:
    directory_id: d-00fc2p61xxxx
    access_key_id: "{{ alibaba_access_key_id }}"
    access_key_secret: "{{ vault_alibaba_access_key_secret }}"
    region: cn-shanghai
    user_name:
      - dana.lee@example.com
      - omar.haddad@example.com
    state: absent
    force: true
  delegate_to: localhost
  register: offboarding

- name: Keep the CloudSSO request ids for the audit trail
  ansible.builtin.debug:
    var: offboarding.request_ids

- name: Disable a user by id, keeping the account
  identity.lifecycle.alibaba_cloudsso_user:
    user_id: u-00q8wbq42wiltcrkxxxx
    state: disabled
  delegate_to: localhost
  # directory_id and credentials from ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID, ALIBABA_CLOUD_ACCESS_KEY_ID,
  # ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials)

- name: Rehearse with module_defaults, in check mode
  module_defaults:
    group/identity.lifecycle.alibaba:
      directory_id: d-00fc2p61xxxx
      region: ap-southeast-1
  block:
    - name: Show what would be removed
      identity.lifecycle.alibaba_cloudsso_user:
        user_name: "{{ leavers | map(attribute='email') | list }}"
        state: absent
        force: true
      check_mode: true
      delegate_to: localhost
      register: rehearsal

    - name: List every planned action
      ansible.builtin.debug:
        msg: "{{ rehearsal.users | map(attribute='actions') | list }}"
"""

RETURN = r"""
changed:
  description: Whether any user changed (or, in check mode, would change).
  returned: always
  type: bool
users:
  description: One entry per requested user, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    user_id:
      description: The CloudSSO C(UserId) (the requested id when the user was not found).
      type: str
      sample: u-00q8wbq42wiltcrkxxxx
    user_name:
      description: The C(UserName) (the requested name when the user was not found).
      type: str
      sample: dana.lee@example.com
    found:
      description:
        - Whether the user existed when the task started.
        - Null when the user was deleted without being read first and neither the delete nor its retry could tell
          (see the retries option), or when such a delete failed.
      type: bool
    changed:
      description: Whether this user changed (or would change in check mode).
      type: bool
    state:
      description: The user's state after the task (V(absent), V(disabled) or V(enabled)); in check mode, the state it would have.
      type: str
      sample: absent
    actions:
      description: What was done to the user or, in check mode, what would be done, in order.
      type: list
      elements: str
      sample:
        - removed MFA device mfa-00ujhet8pycljj7jxxxx
        - removed from group g-00jqzghi2n3o5hkhxxxx (engineering)
        - removed access assignment ReadOnlyAccess on RD-Account 1142405247840000
        - deleted
    msg:
      description: What happened, in a few words.
      type: str
      sample: deleted
    request_ids:
      description: The C(RequestId) of each changing call made for this user.
      type: list
      elements: str
      returned: when a changing call was made
    failed:
      description: Present and true when this user failed.
      type: bool
      returned: when this user failed
    error:
      description: Why this user failed.
      type: dict
      returned: when this user failed
      contains:
        provider:
          description: The provider that answered.
          type: str
        status:
          description: The HTTP status, or null when no answer came or the module refused before a call.
          type: int
        code:
          description: Alibaba's error C(Code), for example C(DeletionConflict.User.AccessAssigment).
          type: str
        message:
          description: Alibaba's message, with what to do.
          type: str
        request_id:
          description: Alibaba's C(RequestId) of the failed call, if any.
          type: str
user:
  description: The CloudSSO user object (as C(GetUser) returns it) before the task; null when it did not exist.
  returned: when exactly one user was requested
  type: dict
  sample:
    UserId: u-00q8wbq42wiltcrkxxxx
    UserName: dana.lee@example.com
    DisplayName: Dana Lee
    Email: dana.lee@example.com
    Status: Enabled
    ProvisionType: Manual
request_ids:
  description: The C(RequestId) of every changing call of the task (C(DeleteMFADeviceForUser), C(RemoveUserFromGroup),
    C(DeleteAccessAssignment), C(DeleteUser), C(UpdateUserStatus)), for audit.
  returned: when a changing call was made
  type: list
  elements: str
  sample: [EE598602-AC67-56EF-B7CC-2927C30AA0A8]
msg:
  description: A count of the outcomes.
  returned: always
  type: str
  sample: "already absent: 1, deleted: 2"
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._alibaba import AlibabaCloudSsoDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_user_module


def main():
    run_user_module(AlibabaCloudSsoDirectory)


if __name__ == "__main__":
    main()
