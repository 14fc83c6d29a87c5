# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared test set-up: the collection is made importable as
`ansible_collections.identity.lifecycle` (a symlinked tree in a temporary directory), the
simulators package is importable from the repository root, and the heavy test modules are marked
`slow` (deselect them with `-m "not slow"`)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TREE = {}

# Test modules whose every test is `slow`: long runs that exercise the collection's own Python (retries,
# pacing, hostile input) far more than ansible-core, so scripts/test runs them on the newest
# ansible-core only (docs/development.md, "What runs where").
SLOW_MODULES = (
    "tests/integration/test_fault_soak.py",  # 500-user batches under random faults, killed runs
    "tests/unit/plugins/module_utils/test_properties.py",  # hypothesis property tests
)


def collections_root():
    """A temporary `ansible_collections/identity/lifecycle` that points at this checkout."""
    if "path" not in _TREE:
        base = tempfile.mkdtemp(prefix="identity-lifecycle-collections-")
        namespace = os.path.join(base, "ansible_collections", "identity")
        os.makedirs(namespace)
        os.symlink(ROOT, os.path.join(namespace, "lifecycle"))
        _TREE["path"] = base
    return _TREE["path"]


def pytest_configure(config):
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    root = collections_root()
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ["IDENTITY_LIFECYCLE_COLLECTIONS_ROOT"] = root


def pytest_collection_modifyitems(config, items):
    for item in items:
        if os.path.relpath(str(item.path), ROOT).replace(os.sep, "/") in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config):
    path = _TREE.pop("path", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)
