# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the atlassian_* modules.
    DOCUMENTATION = r"""
options:
  base_url:
    description:
      - The SCIM API root. Requests go to C({base_url}/directory/{directory_id}/Users).
      - If not set, the environment variable E(ATLASSIAN_SCIM_BASE_URL) is used.
    type: str
    default: https://api.atlassian.com/scim
  directory_id:
    description:
      - The id of the SCIM directory, the part after C(directory/) in the directory base URL shown in
        Atlassian Administration (Security, Identity providers, User provisioning).
      - If not set, the environment variable E(ATLASSIAN_SCIM_DIRECTORY_ID) is used.
    type: str
    required: true
  api_key:
    description:
      - The directory's own SCIM API key, sent as a bearer token. It is not the organization admin API key.
      - If not set, the environment variable E(ATLASSIAN_SCIM_API_KEY) is used.
      - It never appears in any output.
    type: str
    required: true
attributes:
  action_group:
    description: Use C(group/identity.lifecycle.atlassian) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - identity.lifecycle.atlassian
notes:
  - Atlassian documents no rate limit for the SCIM API, so by default no fixed rate applies. At most
    O(parallelism) requests are in flight; a refused request (HTTP 429) is retried after its C(Retry-After),
    and when a tenth of the answers of the last second are such refusals, the task slows down to 70% of the
    rate Atlassian accepted over that second, then climbs back within two seconds, probing for more. When a
    quarter of them are refusals, the limit's window is full, and no request at all goes before the
    C(Retry-After) they name. An
    explicit O(rate_limit) is a fixed pace instead, never exceeded and not adapted.
  - Users given by O(user_id) with C(state=absent) are deleted with one request each, without being read
    first (HTTP 404 means already absent, once one request has proven the directory), unless the task is in
    check or diff mode or names a single user (whose object is returned as C(user)).
  - Before any user is looked up, one request lists the directory, so that a wrong O(directory_id) or
    O(api_key) fails the task instead of making every user look already absent. Deletes without a read first
    send this request only when a delete answers 404.
seealso:
  - name: Atlassian user provisioning REST API
    description: The SCIM API these modules use.
    link: https://developer.atlassian.com/cloud/admin/user-provisioning/rest/intro/
"""
