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
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from simulators._base import SimServer  # noqa: E402  pylint: disable=wrong-import-position
from simulators.uipath import UiPathIdentitySimulator  # noqa: E402  pylint: disable=wrong-import-position

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


def run_playbook(workdir, server, names, state):
    options = {"base_url": server.url, "organization": ORGANIZATION, "client_id": CLIENT_ID,
               "client_secret": SECRET, "user_name": names, "state": state}
    playbook = os.path.join(workdir, "batch.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False,
                    "tasks": [{"name": "offboard", "identity.lifecycle.uipath_user": options, "register": "outcome"},
                              {"name": "outcome", "ansible.builtin.debug": {"msg": "{{ outcome.msg }}"}}]}], handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(workdir, "collections"),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_HOME=os.path.join(workdir, ".ansible"),
               ANSIBLE_LOCAL_TEMP=os.path.join(workdir, ".ansible", "tmp"), ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=%s" % sys.executable, playbook]
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir, check=False)
    return completed, time.monotonic() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=100, help="leavers in the one task")
    parser.add_argument("--others", type=int, default=900, help="other users of the organization")
    parser.add_argument("--state", choices=("absent", "disabled"), default="absent")
    args = parser.parse_args(argv)

    simulator = seed(args.users, args.others)
    workdir = tempfile.mkdtemp(prefix="uipath-bench-")
    try:
        namespace = os.path.join(workdir, "collections", "ansible_collections", "identity")
        os.makedirs(namespace)
        os.symlink(ROOT, os.path.join(namespace, "lifecycle"))
        with SimServer(simulator) as server:
            names = ["user%05d@example.com" % number for number in range(args.users)]
            completed, elapsed = run_playbook(workdir, server, names, args.state)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if completed.returncode != 0:
        sys.stdout.write(completed.stdout[-3000:] + completed.stderr[-3000:])
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
