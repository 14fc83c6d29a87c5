# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark: one atlassian_scim_user task offboarding 200 users by name, against the simulator.

Prints the wall time of the ansible-playbook run, the requests per method, the busiest second and
the most requests in flight at once. By default the module's own rate_limit (10 per second) and
parallelism (8) apply. Run from the repository root with a Python that has ansible-core and requests:

    python tests/benchmarks/atlassian_batch.py [--users 200] [--rate-limit R] [--parallelism P] [--latency S]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from simulators.atlassian import AtlassianScimSimulator  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.harness import busiest_second, print_failure, run_module_task  # noqa: E402  pylint: disable=wrong-import-position

DIRECTORY = "d-bench"
KEY = "ATSCIM-bench-key-0123456789"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=200, help="leavers in the one task")
    parser.add_argument("--rate-limit", type=float, help="the module's rate_limit (default: the module's own)")
    parser.add_argument("--parallelism", type=int, help="the module's parallelism (default: the module's own)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the simulator takes per request")
    args = parser.parse_args(argv)

    names = ["leaver%04d@example.com" % number for number in range(args.users)]
    simulator = AtlassianScimSimulator({DIRECTORY: {"api_key": KEY, "users": [
        {"id": "u-%04d" % number, "userName": name, "emails": [{"value": name, "primary": True}]}
        for number, name in enumerate(names)]}})
    if args.latency:
        simulator.add_fault(action="delay", delay=args.latency, times=None)
    options = {"directory_id": DIRECTORY, "api_key": KEY, "user_name": names, "state": "absent"}
    if args.rate_limit:
        options["rate_limit"] = args.rate_limit
    if args.parallelism:
        options["parallelism"] = args.parallelism
    completed, elapsed = run_module_task(simulator, "identity.lifecycle.atlassian_scim_user",
                                         lambda url: dict(options, base_url=url + "/scim"))

    log = simulator.requests()
    per_method = collections.Counter(entry["method"] for entry in log)
    print("atlassian_scim_user, %d users by name, rate_limit %s, parallelism %s, simulated latency %.2f s"
          % (args.users, args.rate_limit or "default (10/s)", args.parallelism or "default (8)", args.latency))
    print("ansible-playbook rc=%d, wall time %.1f s, %d users left" % (
        completed.returncode, elapsed, len(simulator.users(DIRECTORY))))
    print("requests: %d in total, busiest second %d, at most %d in flight" % (
        len(log), busiest_second(log), simulator.max_in_flight))
    for method, count in sorted(per_method.items()):
        print("  %-6s %4d" % (method, count))
    print_failure(completed)
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
