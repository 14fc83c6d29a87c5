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
  - With O(tenants) and O(state=absent), the leaver's Orchestrator user in each tenant is removed before the
    organization user; see O(tenants). Each removed user's result lists in RV(users[].leftover) what was removed
    beyond the organization user, and in RV(users[].manual_follow_up) what no API call of this module removes
    (personal access tokens, personal workspaces left as they are, and with O(state=disabled) the tenant users
    left as they are).
options:
  tenants:
    description:
      - Names of Orchestrator tenants of the organization (as in the URL C({base_url}/{organization}/{tenant})).
        With O(state=absent), in each tenant the leaver's Orchestrator user (found by the organization user's
        user name or e-mail, with C(GET /odata/Users) and an exact C($filter), matched again here as the identity
        server compares names) is removed with C(DELETE /odata/Users({key})) before the organization user is
        deleted; its personal workspace is handled as O(personal_workspace) says.
      - Before any change anywhere, every tenant is read for every user of the task, and each found user's robots
        are checked with C(GET /odata/Users/UiPath.Server.Configuration.OData.Validate(userIds=[...])). A tenant
        that cannot be read (unknown tenant, missing scopes or role), a name that matches several Orchestrator
        users, or robots that are busy fail that user with nothing removed anywhere.
      - Orchestrator refuses a C($filter) of more than 100 nodes (OData's C(MaxNodeCount), "The maximum number of
        expressions is 100" in its API definition), so the reads are split for each filter to stay within it with a
        margin (4 users with a user name and a different e-mail, or 14 Orchestrator ids, a read).
      - If a tenant step fails, the user fails naming the tenant, what was done and what is left, and the
        organization user is not deleted; running the task again continues.
      - A user already absent from the organization but given by O(user_name) is still looked for in the tenants,
        and what is found is removed (message C(already absent; its Orchestrator users were removed)). A user
        given by O(user_id) that no longer exists cannot be looked for by name; its RV(users[].manual_follow_up)
        says so.
      - With O(state=disabled), nothing is read or changed in the tenants; each user's
        RV(users[].manual_follow_up) says that the tenant users were not touched. With O(state=enabled), it is
        not used (a warning says so).
      - Needs O(base_url) and O(organization) (not O(identity_url)), and a token with the Orchestrator API Access
        scopes C(OR.Users) and C(OR.Folders), or C(OR.Users.Read), C(OR.Users.Write), C(OR.Folders.Read) and
        C(OR.Folders.Write) (only the C(.Read) ones in check mode). With the default O(scope), these are asked for
        as well. An explicit O(scope) that lacks them fails before any request.
      - Not set (the default), or an empty list, no tenant is read or changed.
    type: list
    elements: str
  personal_workspace:
    description:
      - What happens to the personal workspace of each Orchestrator user removed through O(tenants). It is part of
        each step's text in RV(users[].actions), so that a plan approved with one value does not cover another.
      - V(keep) leaves it as it is, with what it holds. The Orchestrator user is removed, then the workspace is read
        again (UiPath does not document what becomes of a workspace whose owner is removed; if it is gone, the user
        fails, saying so, and the organization user is kept), and RV(users[].manual_follow_up) names it with its
        tenant and what to do in Orchestrator (convert it to a folder, or delete it). No API call this module may
        make keeps what a workspace holds (see V(convert)).
      - V(convert) turns it into a standard folder named after it (C(<workspace name> (<id>))), with
        C(POST /odata/PersonalWorkspaces({key})/UiPath.Server.Configuration.OData.ConvertToFolder), before any
        Orchestrator user is removed in any tenant. UiPath's published API definition says this call does not
        support OAuth authentication, and every token this module uses is OAuth (client credentials, personal access
        tokens), so this is for an Orchestrator that accepts it anyway. A refusal fails the user with nothing removed anywhere.
      - V(delete) deletes it with C(DELETE /odata/Folders({key})) after its owner is removed (Orchestrator deletes a
        folder only when no entities and no user associations are left in it, and the owner is one). A workspace
        other users are exploring fails the user before any change; one that still holds entities is refused by
        Orchestrator after its owner was removed, and the user fails naming the workspace, left without its owner,
        and what to do, with the organization user kept.
    type: str
    choices: [keep, convert, delete]
    default: keep
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.uipath
  - identity.lifecycle.users
  - identity.lifecycle.users.approval
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

- name: Offboard leavers from the organization and from two Orchestrator tenants, keeping their workspaces
  identity.lifecycle.uipath_user:
    organization: acme
    user_name: "{{ leavers }}"
    state: absent
    tenants:
      - DefaultTenant
      - Production
    personal_workspace: keep  # each workspace is named in users[].manual_follow_up, for a person to convert
  delegate_to: localhost
  register: offboarding

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
    leftover:
      description:
        - What was removed (or converted) beyond the organization user (in check mode, what would be), one item per
          step, in order. Empty without O(tenants). A workspace left as it is is never here (see
          RV(users[].manual_follow_up)).
      type: list
      elements: dict
      returned: always
      contains:
        kind:
          description: What it is, V(Orchestrator user) or V(personal workspace).
          type: str
        id:
          description: Its Orchestrator id.
          type: str
        name:
          description: The Orchestrator user's user name, or the workspace's name.
          type: str
        where:
          description: The tenant, as C(tenant <name>).
          type: str
        done:
          description: V(removed), V(converted to a folder) or V(deleted).
          type: str
        action:
          description: The step's entry in RV(users[].actions), which names it in O(approved_actions).
          type: str
      sample:
        - kind: personal workspace
          id: "620795"
          name: dana.lee@example.com's workspace
          where: tenant DefaultTenant
          done: converted to a folder
        - kind: Orchestrator user
          id: "1475514"
          name: dana.lee@example.com
          where: tenant DefaultTenant
          done: removed
    manual_follow_up:
      description:
        - What this task found and no API call of it removes, for a person to act on. For a deleted user (or, in
          check mode, a user who would be deleted), its personal access tokens; with O(personal_workspace=keep),
          each personal workspace left as it is (kind V(personal workspace), with its tenant); with
          O(state=disabled) and O(tenants), the Orchestrator users left in the tenants; for a user given by id that
          no longer exists, that its Orchestrator users were not looked for.
      type: list
      elements: dict
      returned: always
      contains:
        kind:
          description: What it is about, such as V(personal access tokens), V(personal workspace) or
            V(Orchestrator users).
          type: str
        where:
          description: The organization or tenants it concerns.
          type: str
        detail:
          description: What remains and what to do.
          type: str
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
