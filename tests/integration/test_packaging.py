# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The built collection: `ansible-galaxy collection build` makes a tarball that installs, whose docs
render and whose modules run."""

from __future__ import annotations

import os
import subprocess
import tarfile

from simulators.atlassian import AtlassianScimSimulator

from .conftest import BIN, ROOT

MODULES = ("atlassian_scim_user", "atlassian_scim_user_info", "uipath_user", "uipath_user_info",
           "alibaba_cloudsso_user", "alibaba_cloudsso_user_info")


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, **kwargs)


def test_build_install_document_and_run(ansible, serve, tmp_path):
    built = run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(tmp_path)],
                env=ansible.environment())
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = tmp_path / "identity-lifecycle-0.1.0.tar.gz"
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    assert {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml"} <= names
    assert "plugins/module_utils/_http.py" in names
    assert not [name for name in names if name.split("/")[0] in (".venv", ".ansible", "scripts", ".ci", ".git", "collections")]

    installed = tmp_path / "installed"
    result = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", str(tarball), "-p", str(installed)],
                 env=ansible.environment())
    assert result.returncode == 0, result.stdout + result.stderr
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed)}

    listed = run([os.path.join(BIN, "ansible-doc"), "-l", "identity.lifecycle"], env=ansible.environment(env))
    assert listed.returncode == 0, listed.stderr
    for module in MODULES:
        if os.path.exists(os.path.join(ROOT, "plugins", "modules", module + ".py")):
            assert "identity.lifecycle." + module in listed.stdout
            doc = run([os.path.join(BIN, "ansible-doc"), "identity.lifecycle." + module], env=ansible.environment(env))
            assert doc.returncode == 0, doc.stderr
            assert "EXAMPLES:" in doc.stdout and "RETURN VALUES:" in doc.stdout, module

    simulator = AtlassianScimSimulator({"d-1": {"api_key": "ATSCIM-packaged-key", "users": [
        {"id": "u-1", "userName": "dana.lee@example.com", "emails": [{"value": "dana.lee@example.com", "primary": True}]}]}})
    server = serve(simulator)
    env.update({"ATLASSIAN_SCIM_BASE_URL": server.url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": "d-1",
                "ATLASSIAN_SCIM_API_KEY": "ATSCIM-packaged-key"})
    result = ansible.tasks([{"name": "remove", "identity.lifecycle.atlassian_scim_user": {
        "user_name": "dana.lee@example.com", "state": "absent"}}], env=env)
    assert result.returncode == 0, result.output
    assert result.task("remove")["users"][0]["changed"] is True
    assert simulator.users("d-1") == []
