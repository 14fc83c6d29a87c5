#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: atlassian_account
short_description: Deactivate, remove or re-activate Atlassian accounts and revoke their API tokens
version_added: 0.2.0
description:
  - Brings Atlassian accounts to O(state) through the organization admin APIs, and revokes the API tokens of
    the accounts the organization manages. This is the sweep after a SCIM delete, which deactivates only managed
    accounts and leaves their API tokens.
  - For an account the organization B(manages), V(deactivated) sends C(POST /users/{account_id}/manage/lifecycle/disable)
    (the account can no longer sign in to any site), V(removed) sends C(.../lifecycle/delete) (Atlassian keeps the
    account deactivated for a 14-day grace period, then deletes it; C(.../lifecycle/cancel-delete) undoes it until
    then), and V(active) sends C(.../lifecycle/enable), or C(.../lifecycle/cancel-delete) for an account whose
    deletion is pending.
  - For an account the organization does B(not) manage, only its access to this organization can change, in
    O(directory_id). V(deactivated) suspends it (C(POST .../users/{account_id}/suspend)), V(removed) removes it from
    the directory (C(DELETE .../users/{account_id})), V(active) restores a suspended account. The account itself,
    its other organizations and its API tokens stay; the result says C(managed=false).
  - Whether an account is managed and its status are read first (C(GET /admin/v2/orgs/{org_id}/directories/{directory_id}/users/{account_id})),
    then, for a managed account, what may be done to it (C(GET /users/{account_id}/manage)) and its API tokens.
    A change is sent only when the status differs; an account that is not found in the organization is
    unchanged for V(deactivated) and V(removed) (C(state=absent)), and an error for V(active).
  - An account synced from Google Workspace cannot be deactivated or deleted through the API (Atlassian answers
    C(forbidden.action)); the account fails with what to do instead. The same holds for other reasons Atlassian gives.
  - A warning reminds, whenever managed accounts are deactivated or removed, that an account still in a SAML
    identity provider may be re-activated at its next sign-in.
options:
  state:
    description:
      - The state every given account must end in. There is no default, so that removing is asked for explicitly.
    type: str
    required: true
    choices: [deactivated, removed, active]
  account_id:
    description:
      - The Atlassian account id of each account (the C(aaid)). A single string is one account.
      - Exactly one of O(account_id) and O(email) is required.
    type: list
    elements: str
  email:
    description:
      - The email address of each account, looked up with the organizations API user search (C(emails), an exact
        match), within O(directory_id) or all directories of the organization.
      - Only the letter case may differ. An address that matches more than one account fails for that address; the
        module never picks one. An address that matches none as spelled but looks like one (full case folding,
        compatibility characters) fails too, naming the look-alike.
    type: list
    elements: str
  revoke_api_tokens:
    description:
      - With V(deactivated) or V(removed), list the API tokens of each managed account
        (C(GET /users/{account_id}/manage/api-tokens)) and revoke each one (C(DELETE .../api-tokens/{token_id})).
        The organization-wide revocation, which would revoke every managed user's tokens, is never used.
      - Defaults to V(true) with V(deactivated) and V(removed). V(true) with V(active) is an error.
      - Tokens survive a deactivation (they answer HTTP 401 until the account is deleted), so they are revoked
        even for an account that is already deactivated. Tokens of unmanaged accounts cannot be listed by the
        organization.
    type: bool
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.atlassian_admin
  - identity.lifecycle.users.approval
  - identity.lifecycle.common
  - identity.lifecycle.attributes
notes:
  - Several accounts in one task are processed concurrently (O(parallelism), O(rate_limit)). One account's
    failure does not stop the others; the task fails at the end and names the accounts that failed.
  - Check mode sends only reads (the user search is a C(POST) that reads) and reports what would change.
  - When a change answers HTTP 404, or its answer was lost, the account is read again; the change counts as
    already made only when that read shows it.
  - Active sessions cannot be ended through any Atlassian API; they are not touched.
"""

EXAMPLES = r"""
- name: Sweep leavers after the SCIM delete, by email
  identity.lifecycle.atlassian_account:
    org_id: "{{ atlassian_org_id }}"
    admin_api_key: "{{ vault_atlassian_admin_api_key }}"
    directory_id: "{{ atlassian_org_directory_id }}"
    email:
      - alice@example.com
      - bob@example.com
    state: deactivated
  delegate_to: localhost

- name: Delete a managed account (14-day grace period) and revoke its API tokens
  identity.lifecycle.atlassian_account:
    account_id: 5b10ac8d82e05b22cc7d4ef5
    state: removed
  delegate_to: localhost
  # org_id and admin_api_key from ATLASSIAN_ORG_ID and ATLASSIAN_ADMIN_API_KEY

- name: Rehearse with module_defaults, in check mode
  module_defaults:
    group/identity.lifecycle.atlassian_admin:
      org_id: "{{ atlassian_org_id }}"
      admin_api_key: "{{ vault_atlassian_admin_api_key }}"
  block:
    - name: Show what would be done
      identity.lifecycle.atlassian_account:
        email: "{{ leavers | map(attribute='email') | list }}"
        state: removed
      check_mode: true
      delegate_to: localhost
      register: rehearsal

    - name: List the accounts that would change
      ansible.builtin.debug:
        msg: "{{ rehearsal.users | selectattr('changed') | map(attribute='email') | list }}"
"""

RETURN = r"""
changed:
  description: Whether any account changed (or, in check mode, would change).
  returned: always
  type: bool
users:
  description: One entry per requested account, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    user_id:
      description: The account id (the requested id when the account was not found), as in the other user modules.
      type: str
      sample: 5b10ac8d82e05b22cc7d4ef5
    user_name:
      description: The account's email (the requested email when the account was not found).
      type: str
      sample: alice@example.com
    account_id:
      description: The account id, as O(account_id) names it.
      type: str
    email:
      description: The account's email.
      type: str
    managed:
      description: Whether the organization manages the account; null when it was not found.
      type: bool
    status:
      description:
        - The account's status after the task (in check mode, the status it would have) as this module reads it
          (V(active), V(deactivated), V(suspended), V(pending deletion), V(deleted), V(not in the directory)).
        - V(pending deletion) is a managed account in Atlassian's 14-day grace period.
      type: str
      sample: pending deletion
    found:
      description: Whether the account was found in the organization.
      type: bool
    changed:
      description: Whether this account changed (or would change in check mode).
      type: bool
    state:
      description: The module's state the account is in after the task (V(deactivated), V(removed), V(active)), or V(absent) when not found.
      type: str
      sample: removed
    actions:
      description: What was done or, in check mode, what would be done.
      type: list
      elements: str
      sample: [deactivated, 'revoked API token "ci" (tok-1)']
    leftover:
      description:
        - What this task removed beyond the organization directory (in check mode, would remove); each item has
          C(kind) (V(Atlassian account) or V(API token)), C(id), C(name), C(where), C(done) (what was done, such as
          V(deactivated) or V(revoked)) and C(action) (the step's entry in RV(users[].actions)).
        - The offboard role builds each report row's leftover access from it.
      type: list
      elements: dict
      sample: [{kind: API token, id: tok-1, name: ci, where: account 5b10ac8d82e05b22cc7d4ef5, done: revoked}]
    manual_follow_up:
      description: What the task found and no call of it removed (C(kind), C(where), C(detail)).
      type: list
      elements: dict
    api_tokens_revoked:
      description: How many API tokens this task revoked (in check mode, would revoke) for the account.
      type: int
    msg:
      description: What happened, in a few words.
      type: str
      sample: deactivated, 2 API tokens revoked
    request_ids:
      description: Trace ids Atlassian sent with the changing calls, when it sent any.
      type: list
      elements: str
      returned: when Atlassian sent trace ids
    failed:
      description: Present and true when this account failed.
      type: bool
      returned: when this account failed
    error:
      description: Why this account failed (provider, status, code such as C(forbidden.action), message, request_id).
      type: dict
      returned: when this account failed
user:
  description: The account as read before the task (see M(identity.lifecycle.atlassian_account_info)); null when not found.
  returned: when exactly one account was requested
  type: dict
request_ids:
  description: All trace ids of the changing calls, when Atlassian sent any.
  returned: when Atlassian sent trace ids
  type: list
  elements: str
msg:
  description: A count of the outcomes.
  returned: always
  type: str
  sample: "already deactivated: 1, deactivated, 1 API token revoked: 1"
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian_admin import AtlassianAdminDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_user_module


def main():
    run_user_module(AtlassianAdminDirectory)


if __name__ == "__main__":
    main()
