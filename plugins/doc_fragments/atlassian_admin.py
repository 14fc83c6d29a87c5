# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the atlassian_account modules (Atlassian's organization admin APIs).
    DOCUMENTATION = r"""
options:
  base_url:
    description:
      - The root of Atlassian's admin APIs. Requests go to C({base_url}/admin/v2/orgs/{org_id}/directories/...)
        and C({base_url}/users/{account_id}/manage/...).
      - If not set, the environment variable E(ATLASSIAN_ADMIN_BASE_URL) is used.
    type: str
    default: https://api.atlassian.com
  org_id:
    description:
      - The organization id, shown in the Atlassian Administration URL and when an API key is created.
      - If not set, the environment variable E(ATLASSIAN_ORG_ID) is used.
    type: str
    required: true
  admin_api_key:
    description:
      - An organization API key (Atlassian Administration, Settings, API keys), sent as a bearer token. It is
        neither a SCIM directory key nor a personal API token.
      - Deactivating, deleting and revoking API tokens of managed accounts needs a key created B(without scopes);
        a key with scopes gets HTTP 403 from the user management API, and the task says so.
      - If not set, the environment variable E(ATLASSIAN_ADMIN_API_KEY) is used.
      - It never appears in any output.
    type: str
    required: true
  directory_id:
    description:
      - An organization directory (not the SCIM directory of E(ATLASSIAN_SCIM_DIRECTORY_ID)) that changes to an
        account the organization does not manage are held to. Reads and email searches always cover every directory
        of the organization (C(-)).
      - Not set, such an account is suspended or removed in every directory of the organization it is a member of.
        Set, an account that also has access through another directory fails before anything is changed, naming
        that directory. Restoring (V(active)) needs it.
      - If not set, the environment variable E(ATLASSIAN_ORG_DIRECTORY_ID) is used.
    type: str
attributes:
  action_group:
    description: Use C(group/identity.lifecycle.atlassian_admin) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - identity.lifecycle.atlassian_admin
notes:
  - Atlassian publishes no per-endpoint rate limit for these APIs, so by default no fixed rate applies; HTTP 429
    answers are retried after their C(Retry-After) and lower the pace (see O(rate_limit)).
  - Before any account is read, one request lists the organization's directories, so that a wrong O(org_id),
    O(admin_api_key) or O(directory_id) fails the task instead of making accounts look absent.
seealso:
  - name: Atlassian user management REST API
    description: Lifecycle and API token endpoints for managed accounts.
    link: https://developer.atlassian.com/cloud/admin/user-management/rest/intro/
  - name: Atlassian organizations REST API
    description: Directory users, search, suspend, restore and remove.
    link: https://developer.atlassian.com/cloud/admin/organization/rest/intro/
"""
