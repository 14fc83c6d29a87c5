# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Scale runs for docs/scale.md: many Atlassian leavers against the simulator (default 10,000), first
in one task of the module, then through the offboard role with its reports, with the peak memory of
the module process and of the whole run, and the reports' sizes.

Run with `scripts/benchmark --scale [--users N]`. Prints figures and writes scale.json beside the
benchmark's files; asserts nothing about them, but exits 1 when a run fails, a leaver is left or a
stayer is gone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.benchmarks.harness import ROOT, LogFigures, Workspace, serve  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.providers import SCENARIOS  # noqa: E402  pylint: disable=wrong-import-position

# The modules' interpreter for these runs: runs the module in a child and appends its peak resident
# memory (KiB) and CPU seconds to a file, so that the module is measured apart from the controller.
MEASURING_PYTHON = """#!%s
import resource, subprocess, sys
status = subprocess.call([%r] + sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(%r, "a") as log:
    log.write("%%d %%f\\n" %% (usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
sys.exit(status)
"""


class MeasuringWorkspace(Workspace):
    def __init__(self):
        super().__init__()
        self.memory_log = os.path.join(self.path, "module-memory.txt")
        interpreter = self._write("python", MEASURING_PYTHON % (sys.executable, sys.executable, self.memory_log))
        os.chmod(interpreter, 0o755)

    def module_figures(self):
        """(peak KiB, CPU seconds) of the largest module process of the runs so far."""
        with open(self.memory_log, encoding="utf-8") as handle:
            rows = [line.split() for line in handle if line.strip()]
        return max((int(rss), float(cpu)) for rss, cpu in rows)

    def reset(self):
        self._write(self.memory_log, None)


def peak_rss_kib():
    """The largest resident memory of any process this process has waited for (ansible-playbook,
    its workers and the modules), in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def measure(workspace, scenario, tasks, variables, latency, report_dir=None):
    workspace.reset()
    scenario.simulator.configure_load(latency=latency)
    with serve(scenario.simulator) as server:
        built_tasks, built_variables = tasks(server.url), variables(server.url)
        run = workspace.run(built_tasks, built_variables)
    figures = LogFigures(scenario.simulator.requests())
    left, gone = scenario.leftovers()
    rss, module_cpu = workspace.module_figures()
    record = {"users": len(scenario.leavers), "wall": round(run.wall, 2), "cpu": round(run.cpu, 2),
              "module_cpu": round(module_cpu, 2), "module_peak_mib": round(rss / 1024.0, 1),
              "run_peak_mib": round(peak_rss_kib() / 1024.0, 1), "requests": figures.requests,
              "by_method": figures.count_by("method"),
              "busiest_second": figures.busiest_second(), "throttled": figures.throttled(),
              "returncode": run.returncode, "leavers_left": len(left), "stayers_gone": len(gone)}
    if report_dir:
        sizes = {}
        for name in os.listdir(report_dir):
            sizes[os.path.splitext(name)[1].lstrip(".")] = os.path.getsize(os.path.join(report_dir, name))
        record["report_bytes"] = sizes
    if not run.ok or left or gone:
        record["error"] = "exit %d, %d leaver(s) left, %d stayer(s) gone" % (run.returncode, len(left), len(gone))
        sys.stdout.write(run.tail() + "\n")
    return record


def module_run(workspace, users, parallelism, latency):
    scenario = SCENARIOS["atlassian"](users)
    record = measure(workspace, scenario,
                     lambda url: [scenario.module_task(url, "{{ leavers }}", parallelism=parallelism)],
                     lambda url: {"leavers": scenario.values()}, latency)
    record.update(kind="module, one task", parallelism=parallelism)
    return record


def role_run(workspace, users, parallelism, latency):
    scenario = SCENARIOS["atlassian"](users)
    report_dir = os.path.join(workspace.path, "reports-%d" % users)

    def variables(url):
        return {"offboard_users": [{"email": person.name, "atlassian_user_id": person.id} for person in scenario.leavers],
                "offboard_atlassian": dict(scenario.connection(url), parallelism=parallelism),
                "offboard_report_dir": report_dir}
    record = measure(workspace, scenario,
                     lambda url: [{"name": "offboard", "ansible.builtin.include_role": {"name": "identity.lifecycle.offboard"}}],
                     variables, latency, report_dir=report_dir)
    record.update(kind="offboard role", parallelism=parallelism)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=10000, help="leavers per run (10000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the simulator takes per request (0.05)")
    parser.add_argument("--parallelism", type=int, default=32, help="the module's parallelism (32)")
    parser.add_argument("--output", default=os.path.join(ROOT, ".cache", "benchmarks"), help="where scale.json goes")
    args = parser.parse_args(argv)
    started = time.monotonic()
    records = []
    with MeasuringWorkspace() as workspace:
        for run in (module_run, role_run):
            record = run(workspace, args.users, args.parallelism, args.latency)
            records.append(record)
            print(json.dumps(record), flush=True)
    result = {"latency": args.latency, "load_before_after": os.getloadavg(), "seconds": round(time.monotonic() - started),
              "runs": records}
    os.makedirs(args.output, exist_ok=True)
    path = os.path.join(args.output, "scale.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    print("wrote %s; %d s in all" % (path, result["seconds"]))
    return 1 if any("error" in record for record in records) else 0


if __name__ == "__main__":
    sys.exit(main())
