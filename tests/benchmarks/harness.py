# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the benchmarks share: one module task run by ansible-playbook against a simulator, timed.

The benchmarks print figures; they assert nothing (timing targets are not tests)."""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_module_task(simulator, module, options_for):
    """Serve `simulator`, run one task of `module` with `options_for(server_url)`, and return
    (completed process, wall seconds of ansible-playbook)."""
    from simulators._base import SimServer  # pylint: disable=import-outside-toplevel

    workdir = tempfile.mkdtemp(prefix="identity-lifecycle-bench-")
    try:
        namespace = os.path.join(workdir, "collections", "ansible_collections", "identity")
        os.makedirs(namespace)
        os.symlink(ROOT, os.path.join(namespace, "lifecycle"))
        with SimServer(simulator) as server:
            playbook = os.path.join(workdir, "batch.yml")
            with open(playbook, "w", encoding="utf-8") as handle:
                json.dump([{"hosts": "localhost", "gather_facts": False,
                            "tasks": [{"name": "batch", module: options_for(server.url)}]}], handle)
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(workdir, "collections"),
                       ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_HOME=os.path.join(workdir, ".ansible"),
                       ANSIBLE_LOCAL_TEMP=os.path.join(workdir, ".ansible", "tmp"), ANSIBLE_NOCOLOR="1")
            command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                       "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable, playbook]
            started = time.monotonic()
            completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir,
                                       check=False, timeout=1800)
            return completed, time.monotonic() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def busiest_second(log):
    """The most requests the simulator saw in one wall-clock second."""
    return max(collections.Counter(int(entry["time"]) for entry in log).values()) if log else 0


def print_failure(completed):
    if completed.returncode != 0:
        sys.stdout.write(completed.stdout[-3000:] + completed.stderr[-3000:])
