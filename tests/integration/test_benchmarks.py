# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The scale measurement runs end to end on a small number: its figures come from real runs."""

from __future__ import annotations

import json

from tests.benchmarks import scale


def test_the_scale_runs_measure_the_module_and_the_role_with_their_reports(tmp_path):
    assert scale.main(["--users", "20", "--latency", "0", "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "scale.json").read_text(encoding="utf-8"))
    module_run, role_run = result["runs"]
    assert module_run["by_method"] == {"DELETE": 20}  # one DELETE per user, nothing else
    # The role reads the directory again after the change, to prove every deletion held.
    assert role_run["by_method"]["DELETE"] == 20 and set(role_run["by_method"]) == {"DELETE", "GET"}
    for record in (module_run, role_run):
        assert record["users"] == 20
        assert record["leavers_left"] == 0 and record["stayers_gone"] == 0
        assert record["module_peak_mib"] > 10 and record["run_peak_mib"] >= record["module_peak_mib"]
    assert "report_bytes" not in module_run
    assert role_run["report_bytes"]["json"] > 20 * 100 and role_run["report_bytes"]["md"] > 20 * 50
