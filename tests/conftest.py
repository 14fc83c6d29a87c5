# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared test set-up: the collection is made importable as
`ansible_collections.identity.lifecycle` (a symlinked tree in a temporary directory), the
simulators package is importable from the repository root, and the heavy tests listed in `SLOW` are
marked `slow` (deselect them with `-m "not slow"`)."""

from __future__ import annotations

import os
import random
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
    "tests/integration/test_atlassian_simulators.py": None,  # the simulators alone, likewise
    "tests/integration/test_benchmarks.py": None,  # the benchmark's own bounds and verdicts
    "tests/integration/test_least_privilege.py": None,  # which API actions and scopes the code uses
    # Tools and texts, not the modules under an ansible-core: the README, the documentation linter, the
    # execution environment's build context (built for the newest ansible-core) and the simulators' CLI.
    "tests/integration/test_readme.py": None,
    "tests/integration/test_collection_docs.py": None,
    "tests/integration/test_execution_environment.py": None,
    "tests/integration/test_simulators_cli.py": None,
    # The ground-truth checker on handmade logs and states (no ansible-core involved), the randomized end-to-end
    # test that proves the role's reports against the simulators (minutes), and its reproductions of findings.
    "tests/integration/test_ground_truth.py": None,
    "tests/integration/test_ground_truth_random.py": None,
    "tests/integration/test_ground_truth_findings.py": None,
    # Below: how the clients speak each provider's protocol (answer forms, faults, name rules, paging). Every
    # series still runs each module's delete, disable and enable, check and diff mode, credentials and their
    # environment fallbacks, secrets at -vvvv, bad input, info reads and TLS.
    "tests/integration/test_alibaba.py": (
        "test_100_user_forced_batch_stays_within_the_simulators_throttle",
        "test_throttling_and_server_faults_are_retried",
        "test_without_force_a_conflict_names_force_and_keeps_the_providers_code",
        "test_names_are_matched_exactly",
        "test_the_documented_example_runs_against_the_demo_directory",
        "test_force_removes_passkey_devices_sending_each_devices_type",
        "test_lost_answers_of_changes_are_confirmed_and_failed_reads_claim_no_change",
    ),
    "tests/integration/test_atlassian.py": (
        "test_retries_survive_429_503_drops_and_slow_answers",
        "test_an_enforced_unpublished_limit_is_met_by_slowing_down",
        "test_batch_of_200_users_in_one_task",
        "test_rate_limit_and_parallelism_are_respected",
        "test_patch_falls_back_to_the_lowercase_operations_form",
        "test_patch_tries_the_other_form_when_a_success_leaves_active_unchanged",
        "test_patch_answered_204_is_confirmed_by_reading_the_user_again",
        "test_patch_that_never_takes_effect_fails_loudly",
        "test_any_printable_id_is_addressed_and_impossible_ids_fail_before_any_request",
        "test_ambiguous_name_fails_for_that_user_only",
        "test_retries_exhausted_fail_with_status_and_message",
    ),
    "tests/integration/test_uipath.py": (
        "test_throttled_requests_wait_for_the_window",
        "test_every_documented_not_found_answer_means_already_absent",
        "test_hundred_leavers_in_one_task_use_the_bulk_endpoint_within_the_rate_limits",
        "test_expired_token_mid_run_is_renewed_once",
        "test_names_compare_as_uipath_does_and_look_alikes_fail_loudly",
        "test_a_refused_user_fails_alone_and_a_2xx_refusal_is_no_success",
        "test_the_default_scope_falls_back_to_what_the_application_is_granted",
        "test_a_bare_404_is_an_absent_user_only_after_the_routes_answered",
        "test_a_bulk_delete_whose_answer_was_lost_is_reported_as_done",
    ),
    "tests/integration/test_never_silently_wrong.py": (
        "test_a_delete_whose_answer_was_lost_is_reported_as_done_by_this_run",
        "test_a_wrong_url_fails_at_once_with_the_address_to_check",
        "test_an_atlassian_look_alike_is_never_deleted_in_place_of_the_name",
    ),
    "tests/integration/test_uipath_tenants.py": (
        "test_sweep_refusals_are_loud_and_keep_the_organization_user",  # Orchestrator's refusals, one by one
    ),
    "tests/integration/test_alibaba_sweep.py": (
        "test_a_sweep_that_cannot_finish_fails_naming_what_is_left",  # CloudSSO's faults during the sweep
    ),
    # The role's scenarios beyond one of each kind: which changes an approval binds, what a sweep finds in each
    # state, drift at one of many directories, a damaged chain. They are decided by the role's filters and the
    # modules' engine (Python); every series still runs the role end to end with the sweep at all three
    # providers, a rehearsal and its approved run, many directories in one report, and signed reports.
    "tests/integration/test_approval_binding.py": None,
    "tests/integration/test_offboard_sweep.py": (
        "test_an_approved_run_sweeps_only_what_the_plan_has",
        "test_the_atlassian_sweep_rehearsed_then_done_then_nothing_left",
        "test_what_an_already_absent_leaver_left_is_swept_planned_approved_and_reported_as_already_absent",
        "test_a_closed_account_is_nothing_left_and_the_runs_converge",
        "test_accounts_in_another_directory_of_the_organization_are_swept_or_fail_naming_it",
        "test_a_scoped_admin_key_fails_the_sweep_loudly_after_the_directory_delete",
        "test_a_failed_token_revocation_names_what_was_done_and_what_is_left",
    ),
    "tests/integration/test_many_directories.py": (
        "test_an_approved_plan_binds_every_directory_and_a_drift_at_one_changes_nothing_anywhere",
        "test_failing_directories_are_reported_while_the_others_finish_then_the_play_fails",
    ),
    "tests/integration/test_awx_runner.py": ("test_the_awx_workflow_refuses_a_drift_between_rehearsal_and_real_run",),
    "tests/integration/test_evidence.py": ("test_signed_chain_verifies_and_every_damage_is_named",),
    "tests/integration/test_atlassian_account.py": (
        "test_google_synced_accounts_fail_with_what_to_do",
        "test_email_lookup_is_exact_and_never_picks_one",
        "test_unmanaged_account_without_directory_fails_clearly",
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


def pytest_terminal_summary(terminalreporter):
    """The figures a test records under the user property "ground truth" (the randomized end-to-end test's:
    examples, scenarios per provider, claims checked, contradictions), shown at the end of the run."""
    for reports in list(terminalreporter.stats.values()):
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for name, value in getattr(report, "user_properties", ()):
                if name == "ground truth":
                    terminalreporter.write_line("%s: %s" % (report.nodeid, value))


def pin_property_seed():
    """PROPERTY_SEED=random becomes one number here, in the first process, before pytest-xdist starts its workers
    (which inherit it): every worker draws with the seed the header shows."""
    if os.environ.get("PROPERTY_SEED", "").strip().lower() == "random":
        os.environ["PROPERTY_SEED"] = str(random.SystemRandom().randrange(2 ** 32))


pin_property_seed()


def pytest_report_header(config):
    """The property tests' seed and scale (tests/unit/plugins/module_utils/hypothesis_profile.py), so that a failure
    they find can be drawn again."""
    from tests.unit.plugins.module_utils.hypothesis_profile import header  # pylint: disable=import-outside-toplevel
    return header()


def pytest_unconfigure(config):
    path = _TREE.pop("path", None)
    if path:
        shutil.rmtree(path, ignore_errors=True)
