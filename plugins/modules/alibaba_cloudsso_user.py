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
    (C(ListJoinedGroupsForUser), C(RemoveUserFromGroup)), direct access assignments (C(ListAccessAssignments)
    with C(PrincipalType=User), C(DeleteAccessAssignment) with the C(DeprovisionStrategy) that
    O(deprovision_access) chooses, then C(GetTaskStatus) until the task succeeds or fails, for at most 300
    seconds) and RAM user provisionings (C(ListUserProvisionings) with C(PrincipalType=User), then
    C(DeleteUserProvisioning) with the C(DeletionStrategy) that O(provisioned_ram_users) chooses), then deletes
    the user. C(DeleteUser) is retried for up to 300 seconds while CloudSSO still answers
    C(DeletionConflict.User.AccessAssigment), because removed assignments take a while to go, or a
    C(DeletionConflict.User.*) code that names provisioning.
  - Only what this task did is reported as done. A removal that answers that its target is gone already
    (C(EntityNotExists.*), removed by someone else since it was read) is neither in RV(users[].actions) nor in
    RV(users[].leftover), unless this task's own earlier attempt, whose answer was lost, removed it. A user that
    is gone when its C(DeleteUser) comes, after this task removed some of what it had, is changed but not deleted
    by this task, and its RV(users[].msg) starts with C(already absent), never C(deleted).
  - Each setting that changes what is done is in the action texts, which an approved plan binds. The
    C(DeprovisionStrategy) of O(deprovision_access) is in each assignment's removal, the C(DeletionStrategy) of
    O(provisioned_ram_users) in each provisioning's.
  - A RAM user provisioning makes CloudSSO create a RAM user for the user in a member account, who can sign
    in there with it; it survives the CloudSSO user unless removed. Each removed provisioning is listed in
    RV(users[].leftover). Whether C(DeleteUser) refuses a user who still has provisionings is not documented
    (unconfirmed); if it does, without O(force) the message lists them and names O(force).
  - With O(force=true), each provisioning's failed provisioning events (C(ListUserProvisioningEvents)) are
    reported in RV(users[].manual_follow_up), never retried or deleted. Any list or removal that fails fails
    the user before C(DeleteUser), naming what is left.
  - With O(force=true), a user given by O(user_id) who is already absent is swept too, for provisionings an
    earlier delete left behind; the user stays RV(users[].found=false) and counts as changed, with a message
    that starts C(already absent;) and counts the provisionings removed. Without O(force), an absent user costs
    no request beyond its lookup or delete.
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
    assignments, and fails for a user whose deletion would be refused, saying why. With O(force), it lists
    every action, leftover item and follow-up the real run would have.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
options:
  force:
    description:
      - With O(state=absent), remove the user's MFA devices, group memberships, direct access assignments and
        RAM user provisionings before deleting the user, waiting for the asynchronous assignment tasks, and
        sweep the RAM user provisionings of a O(user_id) already absent.
      - Ignored for the other states.
    type: bool
    default: false
  provisioned_ram_users:
    description:
      - With O(force=true), what C(DeleteUserProvisioning) does with the RAM users that CloudSSO provisioned for
        the user in member accounts.
      - V(delete) sends C(DeletionStrategy=Delete), which deletes them. CloudSSO does this in the background
        after answering, and no CloudSSO read shows it finished, so the leftover item says the deletion is pending
        and RV(users[].manual_follow_up) asks a person to confirm it; a failure shows as a failed provisioning
        event (C(UserProvisioningDeletionClearing)) in the CloudSSO console.
      - V(keep) sends C(DeletionStrategy=Keep), which leaves them, no longer managed by CloudSSO; each account
        with kept RAM users is listed in RV(users[].manual_follow_up), because their access keys and policies,
        granted outside CloudSSO, still work.
      - The strategy is always sent, so the one set when the provisioning was created does not apply.
    type: str
    choices: [delete, keep]
    default: delete
  deprovision_access:
    description:
      - With O(force=true), C(DeleteAccessAssignment) is sent with
        C(DeprovisionStrategy=DeprovisionForLastAccessAssignmentOnAccount), so that CloudSSO also removes the
        access configuration from the account (the C(AliyunReservedSSO-*) role and policies it deployed there)
        when the removed assignment was the last one of that access configuration on that account, as
        Terraform does by default. Accounts where others still have it keep it.
      - V(false) sends C(DeprovisionStrategy=None), Alibaba's default, which leaves the access configuration
        deployed on the account.
      - Each assignment's action says which (C(de-provisioning <name> from the account if no other assignment of it
        is left there), or C(leaving <name> provisioned on the account)), so that a plan approved with one is
        refused for a run with the other.
      - With V(true), after the assignment's task the module reads C(ListAccessConfigurationProvisionings) (waiting
        up to 300 seconds while the configuration is still listed and nothing else is assigned it there); a
        configuration proven gone from the account is an item of RV(users[].leftover), one that failed to go, did
        not go in time or could not be read is an item of RV(users[].manual_follow_up). A task that fails fails
        the user with Alibaba's C(FailureReason) before C(DeleteUser).
    type: bool
    default: true
extends_documentation_fragment:
  - identity.lifecycle.alibaba
  - identity.lifecycle.users
  - identity.lifecycle.users.approval
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
    provisioned_ram_users: delete
  delegate_to: localhost
  register: offboarding

- name: Show what a person still has to do (kept RAM users, failed provisioning events)
  ansible.builtin.debug:
    msg: "{{ offboarding.users | map(attribute='manual_follow_up') | flatten | map(attribute='detail') | list }}"

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
        - Whether the user existed when the task started. False for an absent O(user_id) whose leftovers were
          swept (RV(users[].changed) is then true).
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
        - >-
          removed access assignment ReadOnlyAccess on RD-Account 1142405247840000, de-provisioning ReadOnlyAccess
          from the account if no other assignment of it is left there
        - removed RAM user provisioning up-002axzhapcbz6e63xxxx in account 1142405247840000, deleting its RAM users
        - deleted
    leftover:
      description:
        - The access beyond the CloudSSO user that this task removed (in check mode, would remove), one item per
          removal, in order; empty when there was none.
        - Here, with O(force=true), RAM user provisionings, and access configurations de-provisioned from an account
          (O(deprovision_access=true)); the MFA devices, groups and assignments are part of the CloudSSO user and
          appear only in RV(users[].actions).
      type: list
      elements: dict
      returned: always
      contains:
        kind:
          description: What was removed, V(RAM user provisioning) or V(access configuration).
          type: str
        id:
          description: Its id, the C(UserProvisioningId) or C(AccessConfigurationId).
          type: str
        name:
          description: Its name (the access configuration's); null for a provisioning, which has none.
          type: str
        where:
          description: Where it was, C(account <member account id>).
          type: str
        done:
          description:
            - What was done, V(deleted; CloudSSO deletes its RAM users in the background (not confirmed by this run)),
              V(deleted, its RAM users kept) or V(de-provisioned from the account).
          type: str
        action:
          description: The step's entry in RV(users[].actions), which names it in O(approved_actions).
          type: str
      sample:
        - kind: RAM user provisioning
          id: up-002axzhapcbz6e63xxxx
          name: null
          where: account 1142405247840000
          done: "deleted; CloudSSO deletes its RAM users in the background (not confirmed by this run)"
    manual_follow_up:
      description:
        - Access this task found and did not remove, for a person to deal with; empty when there is none.
        - Here, with O(force=true), the RAM users kept by O(provisioned_ram_users=keep), those whose deletion by
          O(provisioned_ram_users=delete) CloudSSO finishes in the background (to be confirmed), the failed
          provisioning events of the user's provisionings, a provisioning that was already gone when it was to be
          deleted (its RAM users' fate is not known), and an access configuration whose de-provisioning failed, did
          not finish in time or could not be read.
      type: list
      elements: dict
      returned: always
      contains:
        kind:
          description: V(RAM user), V(failed RAM user provisioning event) or V(access configuration).
          type: str
        where:
          description: The member account, C(account <id>).
          type: str
        detail:
          description: What remains, and what to do.
          type: str
      sample:
        - kind: failed RAM user provisioning event
          where: account 1142405247840000
          detail: >-
            event upe-wjKyNDmZvyZOiRcJxxxx (StartProvisioning) of RAM user provisioning up-002axzhapcbz6e63xxxx in
            account 1142405247840000 failed 3 times; OperationConflict.UserProvisioning.Process.fail.ImsUserExists;
            the RAM user it concerns may not be as CloudSSO intends: retry the event (RetryUserProvisioningEvent) or
            delete it (DeleteUserProvisioningEvent) in the CloudSSO console or API
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
    C(DeleteAccessAssignment), C(DeleteUserProvisioning), C(DeleteUser), C(UpdateUserStatus)), for audit.
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
