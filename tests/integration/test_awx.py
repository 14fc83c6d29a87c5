# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX credential types (extensions/awx/credential_types/) and the playbook identity.lifecycle.awx_setup.

The credential types are checked against the modules themselves: their documentation (`ansible-doc --json`)
and their argument specs. A credential's environment is built as AWX builds it and runs the modules against
the simulators. The playbook runs from the built and installed collection with the real awx.awx (from PyPI)
against a local stand-in of AWX's credential type API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible_collections.identity.lifecycle.plugins.filter.offboard import REQUIREMENTS
from ansible_collections.identity.lifecycle.plugins.module_utils._alibaba import AlibabaCloudSsoDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian import AtlassianScimDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._atlassian_admin import AtlassianAdminDirectory
from ansible_collections.identity.lifecycle.plugins.module_utils._uipath import UiPathDirectory

from simulators.alibaba import AlibabaCloudSsoSimulator
from simulators.atlassian import AtlassianScimSimulator
from simulators.atlassian_admin import AtlassianAdminSimulator
from simulators.uipath import UiPathIdentitySimulator

from .awx import CredentialTypeApi, awx_collections_path, credential_type_errors, credential_types, injected_environment
from .collection_build import install_built_collection
from .conftest import BIN

# credential type file -> (provider, its directory class, its modules)
PROVIDERS = {
    "atlassian_scim": ("atlassian", AtlassianScimDirectory, ("atlassian_scim_user", "atlassian_scim_user_info")),
    "uipath": ("uipath", UiPathDirectory, ("uipath_user", "uipath_user_info")),
    "alibaba_cloudsso": ("alibaba", AlibabaCloudSsoDirectory, ("alibaba_cloudsso_user", "alibaba_cloudsso_user_info")),
    "atlassian_admin": ("atlassian_admin", AtlassianAdminDirectory, ("atlassian_account", "atlassian_account_info")),
}
# The order in which identity.lifecycle.awx_setup registers them.
REGISTERED = ("atlassian_scim", "uipath", "alibaba_cloudsso", "atlassian_admin")
DOCUMENTED_ENVIRONMENT = re.compile(r"E\(([A-Z0-9_]+)\)")
TEMPLATE = re.compile(r"^\{\{ ([a-z_]+) \}\}$")


@pytest.fixture(scope="module")
def module_docs():
    """{module: its documentation} as `ansible-doc --json` renders it."""
    modules = ["identity.lifecycle." + module for _provider, _cls, names in PROVIDERS.values() for module in names]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ["IDENTITY_LIFECYCLE_COLLECTIONS_ROOT"],
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    done = subprocess.run([os.path.join(BIN, "ansible-doc"), "--json"] + modules, capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    docs = dict((name.split(".")[-1], value["doc"]) for name, value in json.loads(done.stdout).items())
    assert sorted(docs) == sorted(module.split(".")[-1] for module in modules)
    return docs


def documented_environment(option):
    """The environment variables an option's documentation says it falls back to, in order."""
    lines = [line for line in option["description"] if "environment variable" in line]
    return [name for line in lines for name in DOCUMENTED_ENVIRONMENT.findall(line)]


def argument_spec_environment(option_spec):
    fallback = option_spec.get("fallback")
    return list(fallback[1]) if fallback else []


def test_the_credential_types_are_what_awx_accepts():
    found = credential_types()
    assert sorted(found) == sorted(PROVIDERS)
    for stem, definition in found.items():
        assert credential_type_errors(definition) == [], stem
        assert definition["name"].startswith("identity.lifecycle "), stem
        assert all(field.get("help_text") for field in definition["inputs"]["fields"]), stem


@pytest.mark.parametrize("stem", sorted(PROVIDERS))
def test_every_injected_variable_is_a_documented_fallback_of_its_option(stem, module_docs):
    definition = credential_types()[stem]
    _provider, directory, modules = PROVIDERS[stem]
    spec = directory.connection_options()
    fields = [field["id"] for field in definition["inputs"]["fields"]]
    injected = definition["injectors"]["env"]
    assert sorted(definition["injectors"]) == ["env"], "only environment variables: the modules read nothing else"
    for name, template in injected.items():
        match = TEMPLATE.match(template)
        assert match and match.group(1) in fields, "%s: %s must inject one input as it is" % (stem, name)
        option = match.group(1)
        for module in modules:
            documented = documented_environment(module_docs[module]["options"][option])
            assert name in documented, "%s: %s does not document %s for %s" % (stem, module, name, option)
        assert name in argument_spec_environment(spec[option]), "%s: %s is no fallback of %s" % (stem, name, option)
    # Each input reaches its module option through that option's first (preferred) variable.
    assert sorted(TEMPLATE.match(template).group(1) for template in injected.values()) == sorted(fields)
    for name, template in injected.items():
        option = TEMPLATE.match(template).group(1)
        assert argument_spec_environment(spec[option])[0] == name, stem
    # The documentation tells the truth about the argument spec.
    for module in modules:
        for option, option_spec in spec.items():
            assert documented_environment(module_docs[module]["options"][option]) == \
                argument_spec_environment(option_spec), "%s %s" % (module, option)


@pytest.mark.parametrize("stem", sorted(PROVIDERS))
def test_every_required_credential_is_a_required_input_and_every_secret_is_secret(stem, module_docs):
    definition = credential_types()[stem]
    provider, directory, modules = PROVIDERS[stem]
    spec = directory.connection_options()
    fields = dict((field["id"], field) for field in definition["inputs"]["fields"])
    required = set(definition["inputs"]["required"])
    for module in modules:
        for option, documented in module_docs[module]["options"].items():
            if documented.get("required") and option in spec:
                assert option in required, "%s: %s requires %s" % (stem, module, option)
    for option, field in fields.items():
        assert bool(field.get("secret")) == bool(spec[option].get("no_log")), "%s: %s" % (stem, option)
        assert option in directory.secret_options or not field.get("secret")
    # Where a provider takes one of several alternatives: the credential requires one complete set of
    # secrets, and offers every alternative of the other settings (organization or identity URL).
    for group in REQUIREMENTS[provider]:
        keys = set(key for alternative in group for key in alternative)
        if keys & set(directory.secret_options):
            assert any(set(alternative) <= required for alternative in group), "%s: %s" % (stem, group)
        else:
            assert any(set(alternative) <= set(fields) for alternative in group), "%s: %s" % (stem, group)


@pytest.mark.parametrize("stem", sorted(PROVIDERS))
def test_an_environment_variable_set_empty_counts_as_unset(stem, monkeypatch):
    # AWX injects an optional input left empty as an empty variable; the option's default must apply.
    _provider, directory, _modules = PROVIDERS[stem]
    for name in credential_types()[stem]["injectors"]["env"]:
        monkeypatch.setenv(name, "")
    for option, option_spec in directory.connection_options().items():
        if option_spec.get("fallback"):
            function, names = option_spec["fallback"]
            with pytest.raises(AnsibleFallbackNotFound):
                function(*names)


def seeded_simulator(stem):
    """(simulator, inputs of a credential with only what is required and the address of the simulator,
    a module task that reads a user)."""
    if stem == "atlassian_scim":
        simulator = AtlassianScimSimulator({"d-awx": {"api_key": "ATSCIM-awx-credential-key", "users": [
            {"id": "u-1", "userName": "dana.lee@example.com", "emails": [{"value": "dana.lee@example.com"}]}]}})
        inputs = {"directory_id": "d-awx", "api_key": "ATSCIM-awx-credential-key"}
        return simulator, inputs, "/scim", {"identity.lifecycle.atlassian_scim_user_info": {"user_name": "dana.lee@example.com"}}
    if stem == "uipath":
        simulator = UiPathIdentitySimulator({"acme": {
            "clients": {"awx-app": {"secret": "uipath-awx-credential-secret", "scopes": ["PM.User.Read", "PM.User.Write"]}},
            "users": [{"userName": "dana.lee", "email": "dana.lee@example.com"}]}})
        inputs = {"organization": "acme", "client_id": "awx-app", "client_secret": "uipath-awx-credential-secret"}
        return simulator, inputs, "", {"identity.lifecycle.uipath_user_info": {"user_name": "dana.lee@example.com"}}
    if stem == "atlassian_admin":
        simulator = AtlassianAdminSimulator({"org_id": "o-awx", "api_keys": {"atlassian-admin-awx-key": {}},
                                             "directories": [{"id": "od-awx", "name": "Example"}],
                                             "accounts": [{"email": "dana.lee@example.com", "tokens": [{"id": "t1"}]}]})
        inputs = {"org_id": "o-awx", "admin_api_key": "atlassian-admin-awx-key"}
        return simulator, inputs, "", {"identity.lifecycle.atlassian_account_info": {"email": "dana.lee@example.com"}}
    simulator = AlibabaCloudSsoSimulator({
        "access_keys": [{"access_key_id": "LTAI5tAwxCredential01", "access_key_secret": "alibaba-awx-credential-secret"}],
        "directories": [{"DirectoryId": "d-00awxcredential", "users": [{"UserName": "dana.lee@example.com"}]}]})
    inputs = {"directory_id": "d-00awxcredential", "access_key_id": "LTAI5tAwxCredential01",
              "access_key_secret": "alibaba-awx-credential-secret"}
    return simulator, inputs, "", {"identity.lifecycle.alibaba_cloudsso_user_info": {"user_name": "dana.lee@example.com"}}


@pytest.mark.parametrize("stem", sorted(PROVIDERS))
def test_a_credential_injected_as_awx_does_runs_the_modules(stem, ansible, serve):
    definition = credential_types()[stem]
    simulator, inputs, path, task = seeded_simulator(stem)
    server = serve(simulator)
    address_field = {"atlassian_scim": "base_url", "uipath": "base_url", "alibaba_cloudsso": "endpoint",
                     "atlassian_admin": "base_url"}[stem]
    inputs = dict(inputs, **{address_field: server.url + path})
    # Every other optional input is left empty, so AWX injects it as an empty variable.
    env = injected_environment(definition, inputs)
    assert set(definition["inputs"]["required"]) <= set(inputs)
    result = ansible.tasks([dict(task, name="read")], env=env)
    assert result.returncode == 0, result.output
    users = result.task("read")["users"]
    assert len(users) == 1, users


# --- the playbook identity.lifecycle.awx_setup ----------------------------------------------------------

@pytest.fixture(scope="module")
def awx_path():
    return awx_collections_path()


def registered(result):
    """Whether each credential type was changed, in the playbook's order."""
    (task,) = [task for play in result.parsed["plays"] for task in play["tasks"]
               if task["task"]["name"].startswith("Register the credential type")]
    return [item["changed"] for item in task["hosts"]["localhost"]["results"]]


def test_awx_setup_passes_the_syntax_check_with_the_real_awx_collection(ansible, awx_path):
    collections = os.environ["IDENTITY_LIFECYCLE_COLLECTIONS_ROOT"] + os.pathsep + awx_path
    done = subprocess.run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "identity.lifecycle.awx_setup"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=ansible.workdir,
                          env=ansible.environment({"ANSIBLE_COLLECTIONS_PATH": collections}))
    assert done.returncode == 0, done.stdout + done.stderr


def test_awx_setup_registers_the_credential_types_from_the_installed_collection(ansible, awx_path, tmp_path):
    installed = install_built_collection(str(tmp_path / "build"), ansible.environment())
    definitions = credential_types()
    api = CredentialTypeApi(token="awx-stand-in-oauth-token")
    try:
        env = {"ANSIBLE_COLLECTIONS_PATH": installed + os.pathsep + awx_path,
               "CONTROLLER_HOST": api.url, "CONTROLLER_OAUTH_TOKEN": "awx-stand-in-oauth-token"}
        first = ansible.run("identity.lifecycle.awx_setup", env=env)
        assert first.returncode == 0, first.output
        assert registered(first) == [True] * 4
        created = [entry["body"] for entry in api.changes()]
        assert [entry["method"] for entry in api.changes()] == ["POST"] * 4
        expected = [dict(definitions[stem], managed=False) for stem in REGISTERED]
        assert created == expected

        # A second run finds each one as it is and changes nothing.
        again = ansible.run("identity.lifecycle.awx_setup", env=env)
        assert again.returncode == 0, again.output
        assert registered(again) == [False] * 4
        assert len(api.changes()) == 4

        # A credential type changed in AWX is put back.
        (uipath,) = [item for item in api.items.values() if item["name"] == definitions["uipath"]["name"]]
        uipath["inputs"] = {"fields": [{"id": "client_id", "label": "App ID"}], "required": ["client_id"]}
        repaired = ansible.run("identity.lifecycle.awx_setup", env=env)
        assert repaired.returncode == 0, repaired.output
        assert registered(repaired) == [False, True, False, False]
        assert api.changes()[-1]["method"] == "PATCH" and uipath["inputs"] == definitions["uipath"]["inputs"]

        refused = ansible.run("identity.lifecycle.awx_setup", env=dict(env, CONTROLLER_OAUTH_TOKEN="wrong-token"))
        assert refused.returncode != 0
        assert "401" in refused.output

        removed = ansible.run("identity.lifecycle.awx_setup", env=env, extra_vars={"awx_setup_state": "absent"})
        assert removed.returncode == 0, removed.output
        assert api.items == {}
    finally:
        api.stop()
