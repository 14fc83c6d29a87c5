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
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from simulators.uipath import UiPathIdentitySimulator  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.harness import print_failure, run_module_task  # noqa: E402  pylint: disable=wrong-import-position

ORGANIZATION = "bench"
PARTITION = "5e0b8a1c-2d3f-4a6b-8c7d-9e0f1a2b3c4d"
CLIENT_ID = "0c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
SECRET = "bench-uipath-secret-0123456789"
QUOTAS = {"GET": 300, "PUT": 160, "DELETE": 160}


def seed(leavers, others):
    users = [{"id": "00000000-0000-4000-8000-%012d" % number, "userName": "user%05d@example.com" % number,
              "email": "user%05d@example.com" % number} for number in range(leavers + others)]
    return UiPathIdentitySimulator({ORGANIZATION: {
        "partition_global_id": PARTITION,
        "clients": {CLIENT_ID: {"secret": SECRET, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
        "users": users}})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=100, help="leavers in the one task")
    parser.add_argument("--others", type=int, default=900, help="other users of the organization")
    parser.add_argument("--state", choices=("absent", "disabled"), default="absent")
    args = parser.parse_args(argv)

    simulator = seed(args.users, args.others)
    names = ["user%05d@example.com" % number for number in range(args.users)]
    completed, elapsed = run_module_task(simulator, "identity.lifecycle.uipath_user", lambda url: {
        "base_url": url, "organization": ORGANIZATION, "client_id": CLIENT_ID, "client_secret": SECRET,
        "user_name": names, "state": args.state})
    if completed.returncode != 0:
        print_failure(completed)
        return 1
    log = simulator.requests()
    per_method = collections.Counter(entry["method"] for entry in log)
    throttled = sum(1 for entry in log if entry["status"] == 429)
    print("uipath_user, %d users (%s) by name in an organization of %d users" % (
        args.users, args.state, args.users + args.others))
    print("wall time of ansible-playbook: %.2f s" % elapsed)
    print("requests: %d in total, %d answered 429" % (len(log), throttled))
    for method, count in sorted(per_method.items()):
        quota = QUOTAS.get(method)
        share = " (quota %d per 5 minutes)" % quota if quota else " (the token request)" if method == "POST" else ""
        print("  %-6s %4d%s" % (method, count, share))
    remaining = len(simulator.users())
    print("users left: %d of %d" % (remaining, args.users + args.others))
    return 0


if __name__ == "__main__":
    sys.exit(main())
