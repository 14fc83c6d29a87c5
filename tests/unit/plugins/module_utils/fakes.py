# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stand-ins the unit tests share: an HTTP answer for the error parsers, and a clock that only
moves when something sleeps."""

from __future__ import annotations

import json

import requests


def fake_response(status, body=None, headers=None, raw=None):
    """A `requests.Response` with this status, JSON body (or raw bytes) and headers."""
    result = requests.Response()
    result.status_code = status
    result._content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    result.headers.update(headers or {})
    return result


class FakeClock:
    """`clock()` reads the time; `clock.sleep(seconds)` records the wait and moves the time on."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class StandInModule:
    """What UserDirectory needs from AnsibleModule: `params` (the class's DEFAULTS, updated by the
    keyword arguments), check mode, diff mode, no_log_values and warnings."""

    DEFAULTS = {}

    def __init__(self, **params):
        self.params = dict(self.DEFAULTS)
        self.params.update(params)
        self.check_mode = False
        self._diff = False
        self.no_log_values = set()
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)
