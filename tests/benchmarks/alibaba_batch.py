# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark: one alibaba_cloudsso_user task offboarding 100 users with force, against the simulator.

Every user has an MFA device, a group membership and a direct access assignment, so each one costs
the full sequence. Prints the wall time of the ansible-playbook run, the requests per CloudSSO
action, the busiest second and whether anything was throttled. Run from the repository root with
a Python that has ansible-core and requests:

    python tests/benchmarks/alibaba_batch.py [--users 100] [--rate-limit R] [--throttle 100]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from simulators.alibaba import AlibabaCloudSsoSimulator  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.harness import busiest_second, print_failure, run_module_task  # noqa: E402  pylint: disable=wrong-import-position

DIRECTORY = "d-00bench0directory"
KEY_ID = "LTAI5tBenchKey0000001"
SECRET = "bench-secret-0123456789"


def seed(count, throttle, task_delay, conflict_lag):
    users = [{"UserId": "u-00bench%04d" % number, "UserName": "leaver%04d@example.com" % number,
              "mfa_devices": [{"DeviceId": "mfa-00bench%04d" % number}], "groups": ["engineering"],
              "access_assignments": [{"access_configuration": "ReadOnly", "target_id": str(100000 + number)}]}
             for number in range(count)]
    return AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}],
        "directories": [{"DirectoryId": DIRECTORY,
                         "access_configurations": [{"AccessConfigurationName": "ReadOnly"}],
                         "groups": [{"GroupName": "engineering"}], "users": users}],
    }, throttle_rate=throttle, task_delay=task_delay, conflict_lag=conflict_lag)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate-limit", type=float, help="the module's rate_limit (default: the module's own)")
    parser.add_argument("--throttle", type=float, default=100.0, help="the simulator's requests/s per AccessKey")
    parser.add_argument("--task-delay", type=float, default=0.5, help="seconds an assignment task stays InProgress")
    parser.add_argument("--conflict-lag", type=float, default=1.0,
                        help="seconds DeleteUser still answers DeletionConflict.User.AccessAssigment after the task")
    args = parser.parse_args(argv)

    simulator = seed(args.users, args.throttle, args.task_delay, args.conflict_lag)
    options = {"directory_id": DIRECTORY, "access_key_id": KEY_ID, "access_key_secret": SECRET, "state": "absent",
               "force": True, "user_name": ["leaver%04d@example.com" % number for number in range(args.users)]}
    if args.rate_limit:
        options["rate_limit"] = args.rate_limit
    completed, elapsed = run_module_task(simulator, "identity.lifecycle.alibaba_cloudsso_user",
                                         lambda url: dict(options, endpoint=url))

    log = simulator.requests()
    actions = collections.Counter(entry["action"] for entry in log)
    busiest = busiest_second(log)
    remaining = len(simulator.directory_state(DIRECTORY)["users"])
    print("ansible-playbook rc=%d, wall time %.1f s, %d users, %d left in the directory"
          % (completed.returncode, elapsed, args.users, remaining))
    print("requests: %d in total (%.1f per user), busiest second %d, Throttling.User answers %d"
          % (len(log), len(log) / float(args.users), busiest, len(simulator.answers("Throttling.User"))))
    for action, count in sorted(actions.items(), key=lambda item: -item[1]):
        print("  %-28s %5d" % (action, count))
    print_failure(completed)
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
