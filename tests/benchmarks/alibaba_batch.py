# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark: one alibaba_cloudsso_user task offboarding 100 users by name with force, against the simulator.

Every user has an MFA device, a group membership and a direct access assignment, so each one costs
the full sequence. Prints the wall time of the ansible-playbook run, the requests per CloudSSO
action, the busiest second and whether anything was throttled. Run from the repository root with
a Python that has ansible-core and requests:

    python tests/benchmarks/alibaba_batch.py [--users 100] [--rate-limit R] [--throttle 100]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.benchmarks.harness import LogFigures, print_failure, run_module_task  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.providers import Alibaba  # noqa: E402  pylint: disable=wrong-import-position


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate-limit", type=float, help="the module's rate_limit (default: the module's own)")
    parser.add_argument("--throttle", type=float, default=100.0, help="the simulator's requests/s per AccessKey")
    parser.add_argument("--task-delay", type=float, default=0.5, help="seconds an assignment task stays InProgress")
    parser.add_argument("--conflict-lag", type=float, default=1.0,
                        help="seconds DeleteUser still answers DeletionConflict.User.AccessAssigment after the task")
    args = parser.parse_args(argv)

    scenario = Alibaba(args.users, stayers=0, dependencies=True)
    scenario.by = "user_name"
    scenario.simulator.configure(throttle_rate=args.throttle, task_delay=args.task_delay, conflict_lag=args.conflict_lag)
    options = {"force": True}
    if args.rate_limit:
        options["rate_limit"] = args.rate_limit
    run = run_module_task(scenario.simulator, scenario.module,
                          lambda url: scenario.module_task(url, scenario.values(), **options)[scenario.module])

    figures = LogFigures(scenario.simulator.requests())
    print("ansible-playbook rc=%d, wall time %.1f s, %d users, %d left in the directory"
          % (run.returncode, run.wall, args.users, len(scenario.present_ids())))
    print("requests: %d in total (%.1f per user), busiest second %d, Throttling.User answers %d"
          % (figures.requests, figures.requests / float(args.users), figures.busiest_second(), figures.throttled()))
    for action, count in sorted(figures.count_by("action").items(), key=lambda item: -item[1]):
        print("  %-28s %5d" % (action, count))
    print_failure(run)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
