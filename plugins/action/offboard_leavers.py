# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The leavers of the offboard role, and the approved plan, as text: the variables offboard_users and
offboard_approved_plan as they are stored, never rendered."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.plugins.action import ActionBase

from ansible_collections.identity.lifecycle.plugins.filter.offboard import data_as_text, leavers_as_text

VARIABLE = "offboard_users"
# A rehearsal's plan, as AWX hands it to the next node (extra vars): it names the leavers too.
PLAN_VARIABLE = "offboard_approved_plan"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        result = super().run(tmp, task_vars)
        del tmp  # no remote files
        task_vars = task_vars or {}
        result["changed"] = False
        if VARIABLE not in task_vars:
            result.update(failed=True, msg="%s is required: the list of leavers, see docs/offboarding.md" % VARIABLE)
            return result
        # The task's variables hold each value as it was given: the fields of an extra var, a vars file or a play
        # variable have not been rendered (referring to the variable in a template would render them). Only a
        # value that is itself a string is the playbook's own template that builds the list, and is rendered.
        leavers = task_vars[VARIABLE]
        if isinstance(leavers, str):
            leavers = self._templar.template(leavers)
        try:
            result["leavers"] = leavers_as_text(leavers)
        except AnsibleFilterError as error:
            result.update(failed=True, msg="%s; nothing was sent to any provider." % error)
            return result
        # The approved plan: a path (or the playbook's template of one) is rendered; a plan list is data.
        plan = task_vars.get(PLAN_VARIABLE)
        if isinstance(plan, str):
            plan = self._templar.template(plan)
        result["approved_plan"] = data_as_text(plan)
        return result
