# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the uipath_* modules.
    DOCUMENTATION = r"""
options:
  base_url:
    description:
      - The address of the UiPath host, without organization or path. The identity API base is
        C({base_url}/{organization}/identity_); identity URLs never contain a tenant.
      - Automation Cloud is C(https://cloud.uipath.com), Public Sector C(https://govcloud.uipath.us),
        Dedicated C(https://{customURL}.dedicated.uipath.com), Automation Suite C(https://{yourDomain}).
      - If not set, the environment variable E(UIPATH_URL) is used.
    type: str
    default: https://cloud.uipath.com
  organization:
    description:
      - The organization name as it appears in the URL (C(https://cloud.uipath.com/{organization}/portal_)).
      - Required unless O(identity_url) is given.
      - If not set, the environment variable E(UIPATH_ORGANIZATION) is used.
    type: str
  identity_url:
    description:
      - The full identity API base, used instead of O(base_url) and O(organization). The token is requested
        from C({identity_url}/connect/token) and users are managed under C({identity_url}/api/User).
      - For a standalone Orchestrator use C(https://{yourDomain}/identity); for an Automation Suite that only
        answers the host-level route use C(https://{yourDomain}/identity_).
      - If not set, the environment variable E(UIPATH_IDENTITY_URL) is used.
    type: str
  client_id:
    description:
      - The App ID of a confidential external application with application scopes (Admin, External
        Applications). Used with O(client_secret) to get an OAuth2 token by the client credentials grant,
        once per task.
      - Not used when O(access_token) is given.
      - If not set, the environment variable E(UIPATH_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - The App Secret of the external application.
      - If not set, the environment variable E(UIPATH_CLIENT_SECRET) is used.
      - It never appears in any output.
    type: str
  scope:
    description:
      - The space-separated scopes asked for with the client credentials. Each must be granted to the
        external application as an application scope.
      - With the default value, when the token server answers C(invalid_scope) (the application is not
        granted all three), the token is asked for with C(PM.User), then C(PM.User.Read PM.User.Write)
        (and, for the info module, C(PM.User.Read)), and a warning names the scope that was used.
      - With O(identity.lifecycle.uipath_user#module:tenants) (and O(identity.lifecycle.uipath_user#module:state=absent)),
        the default also asks for the Orchestrator API Access scopes
        C(OR.Users OR.Users.Read OR.Users.Write OR.Folders OR.Folders.Read OR.Folders.Write); after C(invalid_scope)
        it tries C(PM.User OR.Users OR.Folders), then the C(.Read) and C(.Write) scopes of each (and, in check mode,
        C(PM.User.Read OR.Users.Read OR.Folders.Read)).
      - Any other value is sent as given; C(invalid_scope) then fails the task.
      - If not set, the environment variable E(UIPATH_SCOPE) is used.
    type: str
    default: PM.User PM.User.Read PM.User.Write
  access_token:
    description:
      - A personal access token of an organization administrator, or any ready bearer token, used
        instead of O(client_id) and O(client_secret). It cannot be renewed; an expired token fails the task.
      - When both O(access_token) and client credentials are set (in the task, C(module_defaults) or the
        environment), O(access_token) is used and the module warns that the client credentials are ignored.
      - If not set, the environment variable E(UIPATH_ACCESS_TOKEN) is used.
      - It never appears in any output.
    type: str
  partition_global_id:
    description:
      - The organization's GUID (C(organizationId) in the portal URL after sign-in).
      - Needed to look users up by name, to read several users or all of them, and for the bulk delete.
        When not set, it is taken from the C(prt_id) claim of the token; a token without that claim
        (such as a personal access token) then needs this option for those operations.
      - When set and the token names another organization, the task fails before any change.
      - If not set, the environment variable E(UIPATH_PARTITION_GLOBAL_ID) is used.
    type: str
attributes:
  action_group:
    description: Use C(group/identity.lifecycle.uipath) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - identity.lifecycle.uipath
notes:
  - The identity server allows, per organization and per 5 minutes, 300 GET, 160 PUT and 160 DELETE
    requests (Automation Cloud; HTTP 429 beyond). The modules keep their own requests within these
    numbers, wait when a window is full, and retry HTTP 429 after C(Retry-After) or, without one, after
    60 seconds. Other clients of the same organization count against the same quota. No rate per second is
    documented, so by default none is fixed; requests within the quotas go as fast as O(parallelism) allows,
    and when a tenth of the last second's answers are HTTP 429 the task slows down, as O(rate_limit) says.
  - Users are found with as few requests as possible. Names, several ids and O(user_id)-less info reads
    page through the organization's user list (1000 users a GET); one id is read with one GET. Names are
    compared with C(userName) and C(email) as the identity server compares them (upper-cased one character
    to one, never full case folding); the server's C(searchTerm) is not used.
  - Before any user is looked up, the token is fetched and (when the organization GUID is known) the first
    page of users is read, so that a wrong URL, credentials or O(partition_global_id) fails the task instead
    of making every user look already absent. Only after that page answered does an empty HTTP 404 for
    one user (C(/api/User/{userId})) mean that the user does not exist; before, it is a wrong URL.
  - User ids are GUIDs; any other O(user_id) fails before a request is sent.
seealso:
  - name: UiPath Platform Management API, User
    description: The identity server user endpoints these modules use.
    link: https://docs.uipath.com/automation-cloud/automation-cloud/latest/api-guide/user
  - name: API rate limits for the identity server
    description: The per-organization quotas.
    link: https://docs.uipath.com/automation-cloud/Automation-cloud/latest/api-guide/api-rate-limits-for-identity-server
"""
