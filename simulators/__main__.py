# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Command line of the simulators: local stand-ins of the provider APIs on 127.0.0.1, for rehearsals and tests.

  python -m simulators start --state-dir DIR [--seed FILE] [--providers a,b] [--show-credentials]
  python -m simulators env   --state-dir DIR   (shell `export` lines that point the modules at them)
  python -m simulators stop  --state-dir DIR
  python -m simulators serve --state-dir DIR [--seed FILE] [--providers a,b]   (in the foreground)

From an installed collection: `python -m ansible_collections.identity.lifecycle.simulators ...` with the
collections path (the directory that holds `ansible_collections`) on PYTHONPATH.

`DIR/endpoints.json` (readable by its owner only) tells where each simulator listens, its credentials and
the environment variables that point the modules at it.
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
COMMAND = "python -m %s" % __package__
# The directory to put on PYTHONPATH so that this package imports under its own name.
IMPORT_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           *[os.pardir] * len(__package__.split("."))))


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
    # It holds the simulators' credentials: readable by its owner only.
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
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
    # The same package as this one, so that `python -m ansible_collections.identity.lifecycle.simulators`
    # works as well as `python -m simulators`.
    command = [sys.executable, "-m", __package__, "serve", "--state-dir", args.state_dir]
    if args.seed:
        command += ["--seed", args.seed]
    if args.providers:
        command += ["--providers", args.providers]
    log = open(os.path.join(args.state_dir, "simulators.log"), "ab")
    environment = dict(os.environ, PYTHONPATH=IMPORT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                               start_new_session=True, env=environment)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                endpoints = json.load(handle)
            if args.show_credentials:
                print(json.dumps(endpoints, indent=2))
            else:
                describe(endpoints, path)
            return 0
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sys.stderr.write("simulators did not start; see %s\n" % os.path.join(args.state_dir, "simulators.log"))
    return 1


def describe(endpoints, path):
    """Where the simulators listen, without their credentials."""
    for provider, endpoint in endpoints["providers"].items():
        print("%s: %s" % (provider, endpoint["url"]))
    print("pid %s; endpoints and credentials in %s" % (endpoints["pid"], path))
    print("environment for the modules: %s env --state-dir %s" % (COMMAND, shlex.quote(os.path.dirname(path))))


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


SUBCOMMANDS = (
    ("start", start, "start the simulators in the background and print where they listen (credentials only "
                     "with --show-credentials)"),
    ("env", environment, "print shell export lines (credentials included) that point the modules at the "
                         "running simulators: eval \"$(%s env --state-dir DIR)\"" % COMMAND),
    ("stop", stop, "stop the simulators started with this state directory (nothing to do if none run)"),
    ("serve", serve, "run the simulators in the foreground until interrupted (what start runs)"),
)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=COMMAND, description=__doc__.split("\n\n", maxsplit=1)[0],
        epilog="Every simulator listens on 127.0.0.1 only, on a free port. %s COMMAND --help tells more." % COMMAND)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, function, text in SUBCOMMANDS:
        command = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        command.add_argument("--state-dir", required=True, metavar="DIR",
                             help="where endpoints.json (URLs, credentials, environment) and simulators.log are kept")
        if name in ("serve", "start"):
            command.add_argument("--seed", metavar="FILE", help="JSON file with the initial state per provider "
                                 "(default: the bundled demo seeds in simulators/seeds/)")
            command.add_argument("--providers", metavar="LIST",
                                 help="comma-separated subset of: %s (default: all)" % ", ".join(available_providers()))
        if name == "start":
            command.add_argument("--show-credentials", action="store_true",
                                 help="print endpoints.json, credentials included, instead of the URLs only")
        command.set_defaults(function=function)
    args = parser.parse_args(argv)
    return args.function(args)


if __name__ == "__main__":
    sys.exit(main())
