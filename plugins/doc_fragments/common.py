# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The HTTP, retry and concurrency options every module of the collection has.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait for one HTTP request to be answered.
    type: float
    default: 30
  retries:
    description:
      - How many extra tries a request gets after HTTP 429, HTTP 5xx, a provider throttling code or
        a connection error, with exponential back-off and jitter between tries.
      - A C(Retry-After) header (or Alibaba Cloud's C(x-acs-retry-after)) is honoured, up to 300 seconds.
      - C(0) disables retries.
      - An address where nothing has answered yet and that refuses connections (or does not resolve) is
        not retried, so that a wrong URL fails at once.
      - When a changing request (a delete, say) was possibly carried out although its answer was lost
        (an HTTP 5xx other than 503, a timeout or a dropped connection) and its retry finds the user gone,
        the user is reported as changed by this task, with a message saying that the deletion was confirmed
        after a retry and the first attempt's request id where the provider gave one. For a user deleted
        without being read first, the message says instead that nothing tells whether this task deleted the
        user or it was already absent, and C(users[].found) is null.
    type: int
    default: 5
  validate_certs:
    description:
      - Verify the provider's TLS certificate. Only set C(false) for a local test endpoint.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM bundle of the certificate authorities to trust instead of the system ones, for example
        for a TLS-inspecting proxy.
    type: path
  parallelism:
    description:
      - At most this many requests are in flight at once when several users are given.
      - All users of one task share one connection pool, one authentication and one rate limit.
    type: int
    default: 8
  rate_limit:
    description:
      - At most this many requests per second to the provider, counting every retry.
      - When not set, a default chosen from the provider's documented limits applies (see the
        module's notes), and the pace adapts to the provider's refusals (HTTP 429 or a throttling code).
        When set, refused requests are retried after their C(Retry-After), but the pace stays as given.
    type: float
  deadline:
    description:
      - Seconds the whole task may take. Once they have passed, no request is sent or retried; every user
        not finished by then fails with a message saying that the deadline was reached, and what was done
        before is reported as done.
      - Each request's O(timeout) is shortened so that it ends by the deadline.
      - When not set, the task takes as long as its retries need.
    type: float
notes:
  - The module runs where the task runs. Run it on C(localhost) (or delegate the task to C(localhost)),
    with C(ansible_python_interpreter) set to a Python that has C(requests), for example
    C({{ ansible_playbook_python }}).
  - Environment variables are read on the host that runs the module. An option given in the task or in
    C(module_defaults) wins over its environment variable.
  - Connection values and user ids or names with control characters (such as the trailing newline that
    C(echo) adds) are refused before any request; a secret's value is never shown. User ids and names are
    stripped of surrounding spaces and may be at most 1024 characters long.
  - Credentials come only from the options and their environment variables, never from C(~/.netrc).
    An C(http://) URL that is not on this machine is used with a warning, since the credentials would travel
    in clear text.
requirements:
  - requests >= 2.25
"""
