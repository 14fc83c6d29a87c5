# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark: one uipath_user task offboarding 100 users by name, against the simulator.

The organization also has other users (900 by default), so the lookup reads a realistic list. Prints
the wall time of the ansible-playbook run, the requests per method (against the identity server's
quotas of 300 GET and 160 PUT/DELETE per 5 minutes per organization) and whether anything was
throttled. Run from the repository root with a Python that has ansible-core and requests:

    python tests/benchmarks/uipath_batch.py [--users 100] [--others 900] [--state absent|disabled]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.benchmarks.harness import LogFigures, print_failure, run_module_task  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.providers import UiPath  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.report import QUOTAS  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=100, help="leavers in the one task")
    parser.add_argument("--others", type=int, default=900, help="other users of the organization")
    parser.add_argument("--state", choices=("absent", "disabled"), default="absent")
    args = parser.parse_args(argv)

    scenario = UiPath(args.users, stayers=args.others)
    run = run_module_task(scenario.simulator, scenario.module,
                          lambda url: scenario.module_task(url, scenario.values(), state=args.state)[scenario.module])
    if not run.ok:
        print_failure(run)
        return 1
    figures = LogFigures(scenario.simulator.requests())
    print("uipath_user, %d users (%s) by name in an organization of %d users" % (
        args.users, args.state, args.users + args.others))
    print("wall time of ansible-playbook: %.2f s" % run.wall)
    print("requests: %d in total, %d answered 429" % (figures.requests, figures.throttled()))
    quotas = QUOTAS["uipath"][0]
    for method, count in sorted(figures.count_by("method").items()):
        share = " (quota %d per 5 minutes)" % quotas[method] if method in quotas else " (the token request)" if method == "POST" else ""
        print("  %-6s %4d%s" % (method, count, share))
    print("users left: %d of %d" % (len(scenario.present_ids()), args.users + args.others))
    return 0


if __name__ == "__main__":
    sys.exit(main())
