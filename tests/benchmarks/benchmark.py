# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The benchmark of issue 10: whole ansible-playbook runs against the simulators with a per-request latency.

Per provider (Atlassian SCIM by id, UiPath by name, Alibaba CloudSSO by id without force):
(a) an ansible.builtin.uri loop doing the same delete, one task run per user; (b) the module in a loop,
one task run per user; (c) the module with all users in one task, at parallelism 8 and 32, and with an
explicit rate_limit; for Atlassian also (c) against an enforced, unpublished limit (429 + Retry-After).
Also the start-up cost of one module run and the imports it does. Prints a table, writes it as JSON and
a PNG chart. Asserts nothing about timings; exits 1 when a playbook fails, a leaver is left behind or
a user who should stay is gone. Run with `scripts/benchmark` (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.benchmarks import report  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.harness import ROOT, LogFigures, Workspace, serve  # noqa: E402  pylint: disable=wrong-import-position
from tests.benchmarks.providers import SCENARIOS  # noqa: E402  pylint: disable=wrong-import-position

FULL = {"sizes": (1, 100, 1000), "uri_sizes": (1, 20, 100), "loop_size": 100, "rate_users": 300,
        "enforced_users": 600, "repeats": 3, "single_repeats": 5, "enforced_repeats": 3}
QUICK = {"sizes": (1, 20), "uri_sizes": (1, 5), "loop_size": 5, "rate_users": 40, "enforced_users": 80, "repeats": 1,
         "single_repeats": 1, "enforced_repeats": 1}
PARALLELISMS = (8, 32)
IMPORT_PROBE = """
import importlib, sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import ansible.module_utils.basic
based = time.perf_counter()
importlib.import_module(sys.argv[2])
print(based - started, time.perf_counter() - based)
"""


def sizes(text):
    return tuple(int(one) for one in text.split(",") if one.strip())


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the simulators take per request (0.05)")
    parser.add_argument("--providers", default=",".join(SCENARIOS), help="comma-separated, of: %s" % ", ".join(SCENARIOS))
    parser.add_argument("--sizes", type=sizes, help="users in one task for (c) (1,100,1000; --quick: 1,20)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a smoke run of every step")
    parser.add_argument("--rate-limit", type=float, default=20.0, help="the explicit rate_limit R of the (c) run (20)")
    parser.add_argument("--enforced-limit", type=float, default=40.0,
                        help="requests per second the Atlassian simulator answers before 429 + Retry-After (40)")
    parser.add_argument("--output", default=os.path.join(ROOT, ".cache", "benchmarks"),
                        help="directory for benchmark.json and benchmark.png (.cache/benchmarks)")
    args = parser.parse_args(argv)
    args.providers = [one.strip() for one in args.providers.split(",") if one.strip()]
    unknown = [one for one in args.providers if one not in SCENARIOS]
    if unknown:
        parser.error("unknown provider(s): %s" % ", ".join(unknown))
    plan = dict(QUICK if args.quick else FULL)
    if args.sizes:
        plan["sizes"] = args.sizes
    args.plan = plan
    return args


class Bench:
    """Runs the scenarios one after another, collecting one record per playbook run."""

    def __init__(self, workspace, latency):
        self.workspace = workspace
        self.latency = latency
        self.records = []
        self.failures = []

    def measure(self, scenario, kind, build, enforced_limit=None, keep=True, **facts):
        """Serve the scenario's simulator, run the tasks `build(url)` returns, and record what happened."""
        scenario.simulator.configure_load(latency=self.latency, enforced_limit=enforced_limit or 0)
        with serve(scenario.simulator) as server:
            tasks, variables = build(server.url)
            run = self.workspace.run(tasks, variables)
        figures = LogFigures(scenario.simulator.requests())
        left, gone = scenario.leftovers()
        record = dict(facts, provider=scenario.name, kind=kind, users=len(scenario.leavers), wall=run.wall, cpu=run.cpu,
                      module_cpu=run.module_cpu,
                      returncode=run.returncode, requests=figures.requests, busiest_second=figures.busiest_second(),
                      throttled=figures.throttled(), by_method=figures.count_by("method"),
                      by_status=figures.count_by("status"), per_second=figures.per_second(),
                      leavers_left=len(left), stayers_gone=len(gone), enforced_limit=enforced_limit)
        problems = []
        if not run.ok:
            problems.append("ansible-playbook exited %d" % run.returncode)
        if left:
            problems.append("%d leaver(s) left behind, e.g. %s" % (len(left), left[0]))
        if gone:
            problems.append("%d stayer(s) gone, e.g. %s" % (len(gone), gone[0]))
        if problems:
            record["error"] = "; ".join(problems)
            self.failures.append(record)
        print(report.progress_line(record), flush=True)
        if problems:
            sys.stdout.write(run.tail() + "\n")
        if keep:
            self.records.append(record)
        return record

    def median(self, repeats, measure):
        """Run `measure(keep=False)` `repeats` times and keep the run of median wall time (short runs are noisy)."""
        chosen = self._median_of([measure(keep=False) for attempt in range(repeats)])
        self.records.append(chosen)
        return chosen

    @staticmethod
    def _median_of(runs):
        runs = sorted(runs, key=lambda record: record["wall"])
        chosen = runs[len(runs) // 2]
        chosen["repeats"] = [record["wall"] for record in runs]
        return chosen

    def paired_medians(self, repeats, first, second):
        """Run `first` and `second` (each `measure(keep=False)`) in turns, `repeats` times each, and return the
        run of median wall time of each, unrecorded: a burst of load on a shared machine then falls on both
        sides of a comparison alike, instead of on one side only."""
        runs = ([], [])
        for attempt in range(repeats):
            turns = ((0, first), (1, second)) if attempt % 2 == 0 else ((1, second), (0, first))
            for side, measure in turns:
                runs[side].append(measure(keep=False))
        return self._median_of(runs[0]), self._median_of(runs[1])

    def uri_loop(self, cls, users, keep=True):
        scenario = cls(users)
        return self.measure(scenario, "uri", scenario.uri_tasks, keep=keep)

    def module_loop(self, cls, users):
        scenario = cls(users)

        def build(url):
            task = dict(scenario.module_task(url, "{{ item }}"), loop="{{ leavers }}")
            return [task], {"leavers": scenario.values()}
        return self.measure(scenario, "loop", build)

    def one_task(self, cls, users, kind="task", parallelism=None, rate_limit=None, enforced_limit=None, keep=True):
        scenario = cls(users)
        options = {}
        if parallelism is not None:
            options["parallelism"] = parallelism
        if rate_limit is not None:
            options["rate_limit"] = rate_limit
        return self.measure(scenario, kind, lambda url: ([scenario.module_task(url, "{{ leavers }}", **options)],
                                                         {"leavers": scenario.values()}),
                            enforced_limit=enforced_limit, keep=keep, parallelism=parallelism, rate_limit=rate_limit)

    def startup(self, cls, repeats):
        """Median wall and CPU seconds of a play with one ansible.builtin.ping task, and of one with the
        module given no users (which sends no request): the difference is the module's own start-up."""
        figures = {}
        for kind, build in (("ping", lambda scenario, url: [{"name": "ping", "ansible.builtin.ping": {}}]),
                            ("no users", lambda scenario, url: [scenario.module_task(url, [])])):
            runs = []
            for attempt in range(repeats):
                scenario = cls(0)
                runs.append(self.measure(scenario, kind, lambda url, scenario=scenario, build=build:
                                         (build(scenario, url), None), keep=False))
            figures[kind] = dict((name, statistics.median(run[name] for run in runs)) for name in ("wall", "cpu", "module_cpu"))
            figures[kind]["requests"] = max(run["requests"] for run in runs)
        return figures


def import_times(workspace, module, repeats):
    """Median seconds to import ansible.module_utils.basic, and then the module, in a fresh interpreter."""
    probes = []
    for attempt in range(max(3, repeats)):
        output = subprocess.check_output([sys.executable, "-c", IMPORT_PROBE, workspace.collections,
                                          "ansible_collections.identity.lifecycle.plugins.modules." + module],
                                         text=True, env=workspace.environment())
        probes.append([float(value) for value in output.split()])
    return {"basic": statistics.median(probe[0] for probe in probes),
            "module": statistics.median(probe[1] for probe in probes)}


def describe_checkout():
    def git(*args):
        try:
            return subprocess.check_output(["git", "-C", ROOT] + list(args), text=True, stderr=subprocess.DEVNULL).strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    dirty = git("status", "--porcelain", "--", "plugins")
    # What was measured, when plugins/ differs from the commit: a digest of its files.
    digest = hashlib.sha256()
    for folder, _folders, files in sorted(os.walk(os.path.join(ROOT, "plugins"))):
        for name in sorted(files):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as handle:
                    digest.update(name.encode() + b"\0" + handle.read())
    return {"commit": git("rev-parse", "--short", "HEAD"), "plugins_modified": bool(dirty),
            "plugins_digest": digest.hexdigest()[:12]}


def main(argv=None):
    args = parse(argv)
    plan = args.plan
    started = time.monotonic()
    meta = dict(describe_checkout(), date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                latency=args.latency, quick=args.quick, plan=plan, rate_limit=args.rate_limit,
                enforced_limit=args.enforced_limit, cpus=os.cpu_count(), load_before=os.getloadavg(),
                python=platform.python_version())
    print("identity.lifecycle benchmark: latency %g s per request, providers %s, commit %s%s"
          % (args.latency, ", ".join(args.providers), meta["commit"], report.modified(meta)), flush=True)
    startup = {}
    with Workspace() as workspace:
        bench = Bench(workspace, args.latency)
        for name in args.providers:
            cls = SCENARIOS[name]
            startup[name] = bench.startup(cls, plan["repeats"])
            startup[name]["imports"] = import_times(workspace, cls.module.rsplit(".", 1)[1], plan["repeats"])
            # One user in a uri task and in a module task are compared with each other: measured in turns.
            single_uri, single_task = bench.paired_medians(
                plan["single_repeats"], lambda keep, cls=cls: bench.uri_loop(cls, 1, keep=keep),
                lambda keep, cls=cls: bench.one_task(cls, 1, keep=keep))
            for users in plan["uri_sizes"]:
                if users == 1:
                    bench.records.append(single_uri)
                else:
                    bench.uri_loop(cls, users)
            bench.module_loop(cls, plan["loop_size"])
            for users in plan["sizes"]:
                if users == 1:
                    bench.records.append(single_task)
                    continue
                for parallelism in PARALLELISMS:
                    bench.one_task(cls, users, parallelism=parallelism)
            bench.one_task(cls, plan["rate_users"], kind="rate_limit", parallelism=32, rate_limit=args.rate_limit)
        if "atlassian" in args.providers:
            bench.median(plan["enforced_repeats"], lambda keep: bench.one_task(
                SCENARIOS["atlassian"], plan["enforced_users"], kind="enforced", parallelism=32,
                enforced_limit=args.enforced_limit, keep=keep))
    meta.update(load_after=os.getloadavg(), seconds=time.monotonic() - started,
                notes=dict((name, "%s; %s" % (SCENARIOS[name].title, SCENARIOS[name].uri_note) if SCENARIOS[name].uri_note
                            else SCENARIOS[name].title) for name in args.providers))
    result = report.assemble(meta, bench.records, startup)
    print()
    print(report.render(result))
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "benchmark.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    report.chart(result, os.path.join(args.output, "benchmark.png"))
    print("\nwrote %s and %s; the whole benchmark took %.0f s"
          % (os.path.join(args.output, "benchmark.json"), os.path.join(args.output, "benchmark.png"), meta["seconds"]))
    if bench.failures:
        print("\nFAILED: %d run(s) went wrong:" % len(bench.failures))
        for record in bench.failures:
            print("  %s: %s" % (report.label(record), record["error"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
