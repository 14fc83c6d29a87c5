#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: atlassian_scim_user
short_description: Delete, disable or enable users of an Atlassian Cloud SCIM directory
version_added: 0.1.0
description:
  - Brings users of an Atlassian Cloud user provisioning (SCIM 2.0) directory to O(state).
  - V(absent) sends C(DELETE /Users/{id}). Atlassian then deletes the SCIM record, removes the user's
    group memberships and deactivates the Atlassian account if the organization manages it. This cannot
    be undone through the API; an admin can re-activate the account in Atlassian Administration.
  - V(disabled) and V(enabled) send a SCIM C(PATCH) that replaces C(active), only when it differs.
    Atlassian's own example and its API specification spell the PATCH body differently (C(Operations) with
    a value object, lower-case C(operations) with C(path=active)), so when one form is refused with HTTP 400
    or answered without changing C(active), the other form is sent. A change is reported only when the
    answer shows the new C(active) value, or, for an answer without it (such as HTTP 204), when reading
    the user again does; otherwise the user fails, naming what each form got.
  - O(user_id) is the SCIM C(id). Atlassian documents no format, so any printable id is accepted and sent as
    one percent-encoded path segment; an id with control or other unprintable characters, made only of dots,
    or longer than 1024 characters fails before any request.
  - O(user_name) is the SCIM C(userName), looked up with C(filter=userName eq "...") and compared
    exactly (SCIM user names are not case-sensitive, so only the case may differ).
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.atlassian
  - identity.lifecycle.users
  - identity.lifecycle.users.approval
  - identity.lifecycle.common
  - identity.lifecycle.attributes
"""

EXAMPLES = r"""
- name: Offboard two leavers from Atlassian Cloud
  identity.lifecycle.atlassian_scim_user:
    directory_id: "{{ atlassian_directory_id }}"
    api_key: "{{ vault_atlassian_scim_api_key }}"
    user_name:
      - alice@example.com
      - bob@example.com
    state: absent
  delegate_to: localhost

- name: Deactivate a user by SCIM id, keeping the record
  identity.lifecycle.atlassian_scim_user:
    user_id: 7d4a39b6-0b4c-4d93-9c1e-0f3c1b1b2a11
    state: disabled
  delegate_to: localhost
  # directory_id and api_key from ATLASSIAN_SCIM_DIRECTORY_ID and ATLASSIAN_SCIM_API_KEY

- name: Rehearse with module_defaults, in check mode
  module_defaults:
    group/identity.lifecycle.atlassian:
      directory_id: "{{ atlassian_directory_id }}"
      api_key: "{{ vault_atlassian_scim_api_key }}"
  block:
    - name: Show who would be removed
      identity.lifecycle.atlassian_scim_user:
        user_name: "{{ leavers | map(attribute='email') | list }}"
        state: absent
      check_mode: true
      delegate_to: localhost
      register: rehearsal

    - name: List the users that would change
      ansible.builtin.debug:
        msg: "{{ rehearsal.users | selectattr('changed') | map(attribute='user_name') | list }}"
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
      description: The SCIM id of the user (the requested id when the user was not found).
      type: str
      sample: 7d4a39b6-0b4c-4d93-9c1e-0f3c1b1b2a11
    user_name:
      description: The SCIM userName (the requested name when the user was not found).
      type: str
      sample: alice@example.com
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
      description: What was done to the user or, in check mode, what would be done.
      type: list
      elements: str
      sample: [deleted]
    leftover:
      description:
        - What this task removed beyond the directory user (in check mode, would remove); each item has C(kind),
          C(id), C(name), C(where), C(done) and C(action) (the step's entry in RV(users[].actions)).
        - Always empty here; the SCIM API removes nothing else. M(identity.lifecycle.atlassian_account) sweeps what a
          SCIM delete leaves.
      type: list
      elements: dict
    manual_follow_up:
      description: What the task found and no call of it removed (C(kind), C(where), C(detail)); always empty here.
      type: list
      elements: dict
    msg:
      description: What happened, in a few words.
      type: str
      sample: already absent
    request_ids:
      description: Trace ids that Atlassian sent with the changing calls, when it sent any.
      type: list
      elements: str
      returned: when Atlassian sent trace ids
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
          description: The HTTP status, or null when no answer came.
          type: int
        code:
          description: The provider's own error code (SCIM C(scimType)), if any.
          type: str
        message:
          description: The provider's message.
          type: str
        request_id:
          description: The provider's request or trace id, if any.
          type: str
user:
  description: The SCIM user object as it was before the task; null when it did not exist.
  returned: when exactly one user was requested
  type: dict
  sample:
    id: 7d4a39b6-0b4c-4d93-9c1e-0f3c1b1b2a11
    userName: alice@example.com
    active: true
    emails: [{value: alice@example.com, primary: true}]
request_ids:
  description: All trace ids of the changing calls, when Atlassian sent any.
  returned: when Atlassian sent trace ids
  type: list
  elements: str
msg:
  description: A count of the outcomes.
  returned: always
  type: str
  sample: "already absent: 1, deleted: 2"
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian import AtlassianScimDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_user_module


def main():
    run_user_module(AtlassianScimDirectory)


if __name__ == "__main__":
    main()
