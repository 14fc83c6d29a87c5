# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of the modules that change users.
    DOCUMENTATION = r"""
options:
  state:
    description:
      - The state every given user must end in.
      - C(absent) deletes the user. A user who does not exist (already deleted, or a name that
        matches nobody) is reported as unchanged, never as an error.
      - C(disabled) deactivates the user and keeps the account; a user who does not exist is
        unchanged too.
      - C(enabled) re-activates a disabled user; a user who does not exist is an error for that user.
      - There is no default, so that deleting is always asked for explicitly.
    type: str
    required: true
    choices: [absent, disabled, enabled]
  user_id:
    description:
      - The provider's own id of each user. A single string is one user.
      - Ids are sent as one percent-encoded path segment; an id can never address another resource.
      - Exactly one of O(user_id) and O(user_name) is required. An empty list is allowed and does nothing.
    type: list
    elements: str
  user_name:
    description:
      - The user name of each user, looked up first (see the module description for the exact rule).
      - A name that matches more than one user fails for that user; the module never picks one.
      - Ansible splits a single comma-separated string into several names; give a YAML list when a
        name contains a comma.
    type: list
    elements: str
notes:
  - Several users in one task are processed concurrently (O(parallelism), O(rate_limit)). One user's
    failure does not stop the others; the task fails at the end and names the users that failed.
  - Check mode sends no request that changes anything and reports in RV(users) what would change.
  - Diff mode shows, per changed user, the key attributes before and after.
"""

    # The binding of a change to an approval, which every module that changes users has.
    APPROVAL = r"""
options:
  approved_actions:
    description:
      - Binds the task to an approval made earlier, at the moment of each change. Keys are the users as given in
        the user option (id or name); each value is the list of actions approved for that user, as a task in check
        mode lists them in RV(users[].actions).
      - With it, the module works out each user's actions again (reads only) and changes a user only when every
        action it would make is approved for that user. A user with any other action (a name that now means
        another person, an API token or a membership that appeared after the approved reads) fails with the
        error code V(not approved) (C(users[].error.code)) before any of its requests, naming the actions; the
        other users go on. Fewer actions than approved are fine (what is already done needs no doing).
      - Every given user must have a key (an empty list approves no change).
      - The offboard role sets it in a run bound to an approved plan (C(offboard_approved_plan)).
    type: dict
"""

    INFO = r"""
options:
  user_id:
    description:
      - Return the users with these ids. Ids that do not exist are left out.
      - Without O(user_id) and O(user_name), every user of the directory is returned, paged through to the end.
    type: list
    elements: str
  user_name:
    description:
      - Return the users with exactly these names (see the module description for the exact rule).
      - Every user that matches a name is returned.
    type: list
    elements: str
"""
