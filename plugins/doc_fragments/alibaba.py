# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options of the alibaba_* modules.
    DOCUMENTATION = r"""
options:
  directory_id:
    description:
      - The id of the CloudSSO directory, for example C(d-00fc2p61xxxx) (CloudSSO console, Overview).
      - If not set, the environment variable E(ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID) is used.
    type: str
    required: true
  access_key_id:
    description:
      - The AccessKey id of a RAM user or role with the CloudSSO permissions listed in the notes.
      - If not set, the environment variable E(ALIBABA_CLOUD_ACCESS_KEY_ID) is used, then E(ALICLOUD_ACCESS_KEY).
    type: str
    required: true
  access_key_secret:
    description:
      - The AccessKey secret. Requests are signed with it (ACS3-HMAC-SHA256); it is never sent.
      - If not set, the environment variable E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) is used, then E(ALICLOUD_SECRET_KEY).
      - It never appears in any output.
    type: str
    required: true
  security_token:
    description:
      - The security token of temporary STS credentials (an O(access_key_id) that starts with C(STS.)).
      - If not set, the environment variable E(ALIBABA_CLOUD_SECURITY_TOKEN) is used, then E(ALICLOUD_SECURITY_TOKEN).
      - It never appears in any output.
    type: str
  region:
    description:
      - The region of the CloudSSO directory; requests go to C(https://cloudsso.{region}.aliyuncs.com).
      - A directory lives in one region; use the region shown in the CloudSSO console.
      - If not set, the environment variable E(ALIBABA_CLOUD_REGION_ID) is used, then E(ALICLOUD_REGION).
    type: str
    default: cn-shanghai
  endpoint:
    description:
      - A full endpoint URL such as C(https://cloudsso-vpc.cn-shanghai.aliyuncs.com), instead of the one
        built from O(region). Only a scheme, a host and an optional port are allowed.
      - If not set, the environment variable E(ALIBABA_CLOUD_CLOUDSSO_ENDPOINT) is used.
    type: str
attributes:
  action_group:
    description: Use C(group/identity.lifecycle.alibaba) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - identity.lifecycle.alibaba
notes:
  - Requests use the CloudSSO API 2021-05-15 in RPC style, signed in the collection (ACS3-HMAC-SHA256); no
    Alibaba Cloud SDK is needed.
  - Errors are recognised by Alibaba's error C(Code). C(Throttling*) and C(ServiceUnavailable) answers are retried
    after the wait that C(x-acs-retry-after) asks for (milliseconds), or with exponential back-off.
  - Alibaba documents 100 C(DeleteUser) calls per second per account and publishes no other CloudSSO limit.
    O(rate_limit) defaults to 98 less the burst that may go at once (O(parallelism), but at most 9) requests
    per second for all calls together (90 with the default O(parallelism) of 8, 89 from 9 up), a cap that is
    never exceeded, so that with its burst no second sees more than 98. Below it, when a tenth of the answers
    of the last second are C(Throttling*) refusals (other automation on the same account, say), the task
    slows down to 70% of the rate CloudSSO accepted over that second, then climbs back within two seconds;
    when a quarter of them are refusals, no request at all goes before the wait they name
    (C(x-acs-retry-after)).
  - Users given by O(user_id) with C(state=absent) and without C(force) are deleted with one C(DeleteUser) each,
    without a C(GetUser) first (C(EntityNotExists.User) means already absent, once C(GetDirectory) has proven the
    directory), unless the task is in check or diff mode or names a single user.
  - Before any user is looked up, C(GetDirectory) proves the credentials and the directory, so that a wrong
    O(directory_id) or O(region) fails the task instead of making every user look already absent.
  - "RAM permissions needed: C(cloudsso:GetDirectory), C(cloudsso:GetUser), C(cloudsso:ListUsers); for
    the user module also C(cloudsso:DeleteUser), C(cloudsso:UpdateUserStatus), C(cloudsso:GetSCIMSynchronizationStatus),
    and with O(identity.lifecycle.alibaba_cloudsso_user#module:force=true) (or in check mode, or
    O(identity.lifecycle.alibaba_cloudsso_user_info#module:include_dependencies=true)) the C(List*) and removal
    calls named in the module description, C(cloudsso:ListUserProvisionings), C(cloudsso:ListUserProvisioningEvents)
    and C(cloudsso:DeleteUserProvisioning) among them."
seealso:
  - name: CloudSSO API reference
    description: The API these modules use.
    link: https://www.alibabacloud.com/help/en/cloudsso/developer-reference/api-cloudsso-2021-05-15-overview
"""
