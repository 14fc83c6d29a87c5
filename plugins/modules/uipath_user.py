#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: uipath_user
short_description: Delete, disable or enable users of a UiPath organization
version_added: 0.1.0
description:
  - Brings users of a UiPath organization (Automation Cloud, Automation Suite or a standalone Orchestrator's
    identity server) to O(state), through the identity server's Platform Management user API.
  - V(absent) deletes the user from the organization. One user is deleted with C(DELETE /api/User/{userId});
    several are deleted together with the bulk C(DELETE /api/User) (body C(partitionGlobalId) and C(userIds)),
    50 users a call. If a bulk call is refused for what may concern some of its users only (HTTP 400, 403,
    404, 409 or 413, or a 2xx answer saying C(succeeded) false), it is split in halves until every user has
    its own answer, so that only a refused user fails, with UiPath's error; a chunk of n users costs at most
    2n-1 calls. A missing scope is never split. Deleting cannot be undone through the API.
  - When an answer was lost (a 5xx, a timeout or a dropped connection after the server may have acted) and
    the users then turn out to be gone, they are reported as deleted by this task, with the message
    C(deleted (confirmed after a retry ...)); one read of the user list settles a bulk call when that costs
    fewer requests than splitting it.
  - V(disabled) and V(enabled) send C(PUT /api/User/{userId}) with C(isActive) alone, only when it differs,
    so that no other attribute of the user changes.
  - O(user_name) matches the user's C(userName) or C(email) in the organization's user list as the identity
    server compares names, upper-cased one character to one (C(ß) stays C(ß); never full case folding).
    A name that matches two users (one's user name is the other's e-mail) fails for that user. A name that
    matches nobody so, but looks like a user's name (equal under full case folding or Unicode compatibility,
    such as C(strasse) for C(straße) or a Kelvin sign for C(K)), fails for that user naming the look-alike,
    instead of being reported as already absent.
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.uipath
  - identity.lifecycle.users
  - identity.lifecycle.common
  - identity.lifecycle.attributes
"""

EXAMPLES = r"""
- name: Offboard leavers from a UiPath Automation Cloud organization
  identity.lifecycle.uipath_user:
    organization: acme
    client_id: "{{ uipath_client_id }}"
    client_secret: "{{ vault_uipath_client_secret }}"
    user_name:
      - dana.lee@example.com
      - omar.haddad@example.com
    state: absent
  delegate_to: localhost

- name: Deactivate a user by id, keeping the account
  identity.lifecycle.uipath_user:
    user_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    state: disabled
  delegate_to: localhost
  # connection and credentials from UIPATH_URL, UIPATH_ORGANIZATION, UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET

- name: Standalone Orchestrator with a personal access token, in check mode
  identity.lifecycle.uipath_user:
    identity_url: https://orchestrator.example.com/identity
    access_token: "{{ vault_uipath_pat }}"
    partition_global_id: 0b7f2f3c-6a51-4c7e-9d57-2f1d8f4a9e01
    user_name: "{{ leavers | map(attribute='email') | list }}"
    state: absent
  check_mode: true
  delegate_to: localhost
  register: rehearsal
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
      description: The user's id, a GUID (the requested id when the user was not found).
      type: str
      sample: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    user_name:
      description: The user's C(userName), else C(email) (the requested name when the user was not found).
      type: str
      sample: dana.lee@example.com
    found:
      description: Whether the user existed when the task started.
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
    msg:
      description: What happened, in a few words.
      type: str
      sample: already absent
    request_ids:
      description: The C(traceId) values UiPath gave for the changing calls, when it gave any.
      type: list
      elements: str
      returned: when UiPath gave trace ids
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
          description: The provider's own error code (IdentityResult C(code), OAuth C(error)), if any.
          type: str
        message:
          description: The provider's message.
          type: str
        request_id:
          description: The C(traceId) of the answer, if any.
          type: str
user:
  description: The UiPath user object as it was before the task; null when it did not exist.
  returned: when exactly one user was requested
  type: dict
  sample:
    id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    userName: dana.lee@example.com
    email: dana.lee@example.com
    name: Dana
    surname: Lee
    displayName: Dana Lee
    isActive: true
    type: 0
    groupIDs: []
request_ids:
  description: All trace ids of the changing calls, when UiPath gave any.
  returned: when UiPath gave trace ids
  type: list
  elements: str
msg:
  description: A count of the outcomes.
  returned: always
  type: str
  sample: "already absent: 1, deleted: 2"
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_user_module
from ansible_collections.identity.lifecycle.plugins.module_utils._uipath import UiPathDirectory


def main():
    run_user_module(UiPathDirectory)


if __name__ == "__main__":
    main()
