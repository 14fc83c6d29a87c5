# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection as a user gets it: built with `ansible-galaxy collection build` and installed."""

from __future__ import annotations

import glob
import os
import subprocess

from .conftest import BIN, ROOT


def install_built_collection(workdir, env):
    """Build the checkout into `workdir` and install the tarball under `workdir/installed`; returns that
    collections path (its `ansible_collections/identity/lifecycle` is the installed collection)."""
    galaxy = os.path.join(BIN, "ansible-galaxy")
    run([galaxy, "collection", "build", ROOT, "--output-path", workdir], env)
    (tarball,) = glob.glob(os.path.join(workdir, "identity-lifecycle-*.tar.gz"))
    installed = os.path.join(workdir, "installed")
    run([galaxy, "collection", "install", "--force", tarball, "-p", installed], env)
    return installed


def run(command, env):
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
