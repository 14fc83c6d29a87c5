# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Execution environments: the built collection declares its Python dependencies so that ansible-builder finds
them, and the example in examples/execution-environment/ makes a build context (no container engine needed)
that installs the collection and, through ansible-builder's introspection, those dependencies."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from .conftest import BIN, ROOT

BUILDER = os.path.join(BIN, "ansible-builder")
EXAMPLE = os.path.join(ROOT, "examples", "execution-environment")

pytestmark = pytest.mark.skipif(not os.path.exists(BUILDER), reason="ansible-builder is not installed (requirements-dev.txt)")


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, **kwargs)


def load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def collection_requirements():
    """The requirement lines of requirements.txt, which meta/execution-environment.yml names."""
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection as Galaxy or Automation Hub would serve it: built with ansible-galaxy, then installed."""
    base = tmp_path_factory.mktemp("ee")
    env = dict(os.environ, ANSIBLE_HOME=str(base / "ansible-home"))
    built = run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(base)], env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = next(base.glob("identity-lifecycle-*.tar.gz"))
    collections = base / "collections"
    result = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", str(tarball), "-p", str(collections)],
                 env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return collections


def test_metadata_names_dependency_files_that_ship(installed):
    collection = installed / "ansible_collections" / "identity" / "lifecycle"
    metadata = load_yaml(collection / "meta" / "execution-environment.yml")
    assert metadata["version"] == 1
    assert set(metadata["dependencies"]) <= {"python", "system"}
    for name in metadata["dependencies"].values():
        assert not os.path.isabs(name), name
        assert (collection / name).is_file(), "%s is named in meta/execution-environment.yml but not in the built collection" % name
    assert "requests" in " ".join(collection_requirements())


def test_requirements_have_lower_bounds_only():
    requirements = collection_requirements()
    assert requirements
    for line in requirements:
        assert ">=" in line and "<" not in line.replace(">=", "") and "==" not in line and "~=" not in line, line


def test_introspection_of_the_installed_collection_finds_its_python_dependencies(installed):
    result = run([BUILDER, "introspect", "--sanitize", str(installed)])
    assert result.returncode == 0, result.stdout + result.stderr
    found = yaml.safe_load(result.stdout.split("\n", 1)[1])
    assert found["python"] == ["%s  # from collection identity.lifecycle" % line for line in collection_requirements()]
    assert found["system"] == []


def test_example_execution_environment_build_context(installed, tmp_path):
    definition = load_yaml(os.path.join(EXAMPLE, "execution-environment.yml"))
    assert definition["version"] == 3
    context = tmp_path / "context"
    result = run([BUILDER, "create", "--file", "execution-environment.yml", "--context", str(context),
                  "--output-filename", "Containerfile"], cwd=EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr

    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    stages = [line.split()[-1] for line in containerfile.splitlines() if line.startswith("FROM ")]
    assert stages == ["base", "galaxy", "builder", "final"]
    assert 'ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    assert "ansible-core" in containerfile and "ansible-runner" in containerfile
    # The galaxy stage installs the collections of the example's requirements.yml, git included ...
    galaxy_stage = containerfile.split("AS galaxy", 1)[1].split("AS builder", 1)[0]
    assert "git-core" in galaxy_stage
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in galaxy_stage
    collections = load_yaml(context / "_build" / "requirements.yml")["collections"]
    repository = load_yaml(os.path.join(ROOT, "galaxy.yml"))["repository"]
    assert [entry["name"] for entry in collections] == [repository + ".git"]
    # ... and the builder stage turns every installed collection's dependencies into the image's requirements.
    builder_stage = containerfile.split("AS builder", 1)[1].split("AS final", 1)[0]
    assert "/output/scripts/introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" \
        in builder_stage
    # That step, run with the context's own script on the collection as ansible-galaxy installs it, writes requests.
    written = tmp_path / "requirements.txt"
    result = run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                  "--write-pip", str(written), str(installed)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert written.read_text(encoding="utf-8").splitlines() == [
        "%s  # from collection identity.lifecycle" % line for line in collection_requirements()]
