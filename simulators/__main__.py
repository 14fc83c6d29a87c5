# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Command line of the simulators.

  python -m simulators serve --state-dir DIR [--seed FILE] [--providers a,b]   (foreground)
  python -m simulators start --state-dir DIR [--seed FILE] [--providers a,b]   (background)
  python -m simulators stop  --state-dir DIR
  python -m simulators env   --state-dir DIR   (shell `export` lines for the modules)

`DIR/endpoints.json` tells where each simulator listens, its credentials and the environment
variables that point the modules at it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from . import available_providers, simulator_class
from ._base import SimServer

ENDPOINTS = "endpoints.json"


SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def load_seed(path, providers):
    """{provider: seed}: from a combined JSON file, or else the bundled `<provider>-demo.json` files."""
    if path:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    seeds = {}
    for provider in providers:
        bundled = os.path.join(SEEDS, "%s-demo.json" % provider)
        if os.path.exists(bundled):
            with open(bundled, encoding="utf-8") as handle:
                seeds[provider] = json.load(handle)
    return seeds


def serve(args):
    providers = args.providers.split(",") if args.providers else available_providers()
    seed = load_seed(args.seed, providers)
    servers = {}
    for provider in providers:
        simulator = simulator_class(provider)()
        simulator.seed(seed.get(provider) or {})
        servers[provider] = SimServer(simulator, port=0).start()
    endpoints = {"pid": os.getpid(), "providers": {}}
    for provider, server in servers.items():
        endpoints["providers"][provider] = {
            "url": server.url,
            "credentials": server.simulator.credentials(),
            "env": server.simulator.client_environment(server.url),
        }
    os.makedirs(args.state_dir, exist_ok=True)
    path = os.path.join(args.state_dir, ENDPOINTS)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(endpoints, handle, indent=2)
    os.replace(temporary, path)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print("simulators listening: %s" % ", ".join(
        "%s %s" % (provider, server.url) for provider, server in servers.items()), flush=True)
    stopped.wait()
    for server in servers.values():
        server.stop()
    try:
        os.remove(path)
    except OSError:
        pass
    return 0


def start(args):
    path = os.path.join(args.state_dir, ENDPOINTS)
    if os.path.exists(path):
        stop(args)
    os.makedirs(args.state_dir, exist_ok=True)
    command = [sys.executable, "-m", "simulators", "serve", "--state-dir", args.state_dir]
    if args.seed:
        command += ["--seed", args.seed]
    if args.providers:
        command += ["--providers", args.providers]
    log = open(os.path.join(args.state_dir, "simulators.log"), "ab")
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = dict(os.environ, PYTHONPATH=package_root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                               start_new_session=True, env=environment)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                print(handle.read())
            return 0
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sys.stderr.write("simulators did not start; see %s\n" % os.path.join(args.state_dir, "simulators.log"))
    return 1


def stop(args):
    path = os.path.join(args.state_dir, ENDPOINTS)
    try:
        with open(path, encoding="utf-8") as handle:
            pid = json.load(handle)["pid"]
    except (OSError, ValueError, KeyError):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        os.remove(path)
        return 0
    deadline = time.time() + 10
    while time.time() < deadline and os.path.exists(path):
        time.sleep(0.05)
    if os.path.exists(path):
        os.kill(pid, signal.SIGKILL)
        os.remove(path)
    return 0


def environment(args):
    with open(os.path.join(args.state_dir, ENDPOINTS), encoding="utf-8") as handle:
        endpoints = json.load(handle)
    for provider in endpoints["providers"].values():
        for name, value in sorted(provider["env"].items()):
            print("export %s=%s" % (name, shlex.quote(str(value))))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, function in (("serve", serve), ("start", start), ("stop", stop), ("env", environment)):
        command = commands.add_parser(name)
        command.add_argument("--state-dir", required=True, help="where endpoints.json and the log are kept")
        if name in ("serve", "start"):
            command.add_argument("--seed", help="JSON file with the initial state per provider "
                                 "(default: the bundled demo seeds)")
            command.add_argument("--providers", help="comma-separated subset of: atlassian, uipath, alibaba")
        command.set_defaults(function=function)
    args = parser.parse_args(argv)
    return args.function(args)


if __name__ == "__main__":
    sys.exit(main())
