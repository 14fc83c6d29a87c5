# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared test set-up: the collection is made importable as
`ansible_collections.identity.lifecycle` (a symlinked tree in a temporary directory), the
simulators package is importable from the repository root, and the heavy tests listed in `SLOW` are
marked `slow` (deselect them with `-m "not slow"`)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TREE = {}

# Tests marked `slow`: long runs of the collection's own Python (pacing, retries, big batches, faults,
# properties, the simulators themselves), whose outcome does not depend on ansible-core; scripts/test
# runs them on the newest ansible-core only (docs/development.md, "What runs where"). A module listed
# with None is slow as a whole. A renamed test drops out of this list and runs everywhere again.
SLOW = {
    "tests/integration/test_fault_soak.py": None,  # 500-user batches under random faults, killed runs
    "tests/unit/plugins/module_utils/test_properties.py": None,  # hypothesis property tests
    "tests/integration/test_alibaba_simulator.py": None,  # the simulator alone, no ansible-core involved
    "tests/integration/test_benchmarks.py": None,  # the benchmark's own bounds and verdicts
    "tests/integration/test_least_privilege.py": None,  # which API actions and scopes the code uses
    # Tools and texts, not the modules under an ansible-core: the README, the documentation linter, the
    # execution environment's build context (built for the newest ansible-core) and the simulators' CLI.
    "tests/integration/test_readme.py": None,
    "tests/integration/test_collection_docs.py": None,
    "tests/integration/test_execution_environment.py": None,
    "tests/integration/test_simulators_cli.py": None,
    "tests/integration/test_alibaba.py": (
        "test_100_user_forced_batch_stays_within_the_simulators_throttle",
        "test_throttling_and_server_faults_are_retried",
    ),
    "tests/integration/test_atlassian.py": (
        "test_retries_survive_429_503_drops_and_slow_answers",
        "test_an_enforced_unpublished_limit_is_met_by_slowing_down",
        "test_batch_of_200_users_in_one_task",
        "test_rate_limit_and_parallelism_are_respected",
    ),
    "tests/integration/test_uipath.py": (
        "test_throttled_requests_wait_for_the_window",
        "test_every_documented_not_found_answer_means_already_absent",
    ),
}


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
        module = os.path.relpath(str(item.path), ROOT).replace(os.sep, "/")
        if module in SLOW and (SLOW[module] is None or item.originalname in SLOW[module]):
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config):
    path = _TREE.pop("path", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)
