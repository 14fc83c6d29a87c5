#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: atlassian_account_info
short_description: Read Atlassian accounts through the organization admin APIs
version_added: 0.2.0
description:
  - Returns, for each account given by O(account_id) or O(email), whether the organization manages it, its
    status, what the admin API key may do to it and how many API tokens it has.
  - Reads C(GET /admin/v2/orgs/{org_id}/directories/-/users/{account_id}) (or the user search by email), in every
    directory of the organization; then, for an account the organization does not manage, the directories it is a
    member of and its membership in each; for a managed account, C(GET /users/{account_id}/manage) and
    C(GET /users/{account_id}/manage/api-tokens) (not for a closed account, which can't be used).
  - Accounts that are not found are left out. Never changes anything.
options:
  account_id:
    description:
      - The Atlassian account ids to read. Exactly one of O(account_id) and O(email) is required.
    type: list
    elements: str
  email:
    description:
      - The email addresses to read, matched exactly apart from letter case; every account that matches is returned.
    type: list
    elements: str
author:
  - identity.lifecycle contributors (@identity-lifecycle)
extends_documentation_fragment:
  - identity.lifecycle.atlassian_admin
  - identity.lifecycle.common
  - identity.lifecycle.attributes.info
"""

EXAMPLES = r"""
- name: See what is left of leavers at Atlassian
  identity.lifecycle.atlassian_account_info:
    email:
      - alice@example.com
      - bob@example.com
  delegate_to: localhost
  register: leftovers

- name: Fail if a leaver's managed account is still active or has API tokens
  ansible.builtin.assert:
    that:
      - leftovers.users | selectattr('status', 'equalto', 'active') | list | length == 0
      - leftovers.users | map(attribute='api_token_count') | select | list | length == 0
"""

RETURN = r"""
users:
  description: The accounts found, in the order asked for; each account appears once.
  returned: always
  type: list
  elements: dict
  contains:
    account_id:
      description: The Atlassian account id.
      type: str
    email:
      description: The account's email.
      type: str
    name:
      description: The account's display name.
      type: str
    managed:
      description: Whether the organization manages the account (C(claimStatus)); null when Atlassian did not say.
      type: bool
    status:
      description:
        - V(active), V(deactivated), V(suspended), V(pending deletion) (a managed account in its 14-day grace period),
          V(deleted) (a closed account), or null when Atlassian's answers do not tell or disagree.
        - For an account the organization does not manage, its access to the organization, V(active) in at least one
          directory, V(suspended) in every directory it is a member of, V(not in the organization) in none.
      type: str
    account_status:
      description: Atlassian's C(accountStatus) (V(active), V(inactive), V(closed)).
      type: str
    membership_status:
      description:
        - Atlassian's C(membershipStatus) for the whole organization (V(active) in one or more directories,
          V(suspended) in all of them, V(no_membership) in none).
      type: str
    memberships:
      description:
        - For an account the organization does not manage, its membership (V(active) or V(suspended)) in each
          directory of the organization it is a member of, by directory id; null for a managed account.
      type: dict
      sample: {d-1: active, d-2: suspended}
    management_source:
      description: Atlassian's C(managementSource) (for example V(synced) from an identity provider, or V(invited)).
      type: str
    permitted_actions:
      description:
        - The permissions C(GET /users/{account_id}/manage) grants to the admin API key, such as
          V(lifecycle.enablement), V(lifecycle.delete), V(apiToken.delete); null for an unmanaged account.
      type: list
      elements: str
    api_token_count:
      description:
        - How many API tokens the account has; null for an unmanaged account, a closed one, or one pending deletion
          whose tokens cannot be listed.
      type: int
    api_tokens:
      description: The account's API tokens (id, label, created_at, last_access, expiry); never a token's value.
      type: list
      elements: dict
    directory_user:
      description: Atlassian's user details object as answered.
      type: dict
  sample:
    - account_id: 5b10ac8d82e05b22cc7d4ef5
      email: alice@example.com
      managed: true
      status: active
      permitted_actions: [apiToken.delete, lifecycle.delete, lifecycle.enablement]
      api_token_count: 2
"""

from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian_admin import AtlassianAdminDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._lifecycle import run_info_module


def main():
    run_info_module(AtlassianAdminDirectory)


if __name__ == "__main__":
    main()
