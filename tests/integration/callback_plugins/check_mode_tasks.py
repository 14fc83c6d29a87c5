# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A callback for the tests: writes, for every task on every host, when it started and ended and whether it ran
in check mode (`--check`, a task's `check_mode: true`, or an include's `apply`), one JSON line each, to the file
named by the environment variable IDENTITY_LIFECYCLE_TASK_LOG. The integration suite's `suite_guard` matches
these windows with the simulators' request logs: no changing request may arrive during a task in check mode,
however the run was started (ansible-playbook, ansible-runner)."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: check_mode_tasks
type: aggregate
short_description: every task's time window and check mode, for the identity.lifecycle tests
description:
  - Appends one JSON line per task and host to the file named by IDENTITY_LIFECYCLE_TASK_LOG.
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "check_mode_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.path = os.environ.get("IDENTITY_LIFECYCLE_TASK_LOG")
        self.started = {}
        # The file exists as soon as a playbook starts: a missing file means this callback never ran.
        self._write({"event": "loaded", "time": time.time()})

    def _write(self, record):
        if not self.path:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), task._uuid)] = time.time()

    def _record(self, result, outcome):
        ended = time.time()
        task = result._task
        key = (result._host.get_name(), task._uuid)
        # The task's attributes after ansible-core validated them (`task_fields` from 2.19 on, `_task_fields` before).
        fields = getattr(result, "task_fields", None) or getattr(result, "_task_fields", None) or {}
        check_mode = fields.get("check_mode", task.check_mode)
        self._write({
            "event": "task", "host": key[0], "task": task.get_name(), "action": task.action, "outcome": outcome,
            "started": self.started.pop(key, None), "ended": ended,
            # A bool once the task was validated; anything else (a skipped task's template) is recorded as is.
            "check_mode": check_mode if isinstance(check_mode, bool) else repr(check_mode),
        })

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._write({"event": "stats", "time": time.time()})
