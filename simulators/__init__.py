# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Local simulators of the provider APIs the collection talks to (loopback only).

Run `python -m simulators --help` for the command line; tests use the classes directly.
"""

from __future__ import annotations

import importlib

# provider name -> (module, class); imported on demand, relative to this package so that it also runs
# as ansible_collections.identity.lifecycle.simulators from an installed collection.
PROVIDERS = {
    "atlassian": (".atlassian", "AtlassianScimSimulator"),
    "uipath": (".uipath", "UiPathIdentitySimulator"),
    "alibaba": (".alibaba", "AlibabaCloudSsoSimulator"),
    "atlassian_admin": (".atlassian_admin", "AtlassianAdminSimulator"),
}


def simulator_class(provider):
    module_name, class_name = PROVIDERS[provider]
    return getattr(importlib.import_module(module_name, __name__), class_name)


def available_providers():
    """The providers whose simulator module is present."""
    names = []
    for provider, (module_name, _class_name) in PROVIDERS.items():
        try:
            importlib.import_module(module_name, __name__)
        except ImportError:
            continue
        names.append(provider)
    return names
