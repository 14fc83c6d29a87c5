# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The benchmarks' scenario per provider: a simulator seeded with leavers (and stayers, who must
survive every run), the module's options, the same deletion as a plain `ansible.builtin.uri` loop,
and what is left afterwards.

Leavers and stayers are numbered; `values(users)` gives what the module is called with (ids, or
names for UiPath), `ids(users)` the provider ids, which the uri loop uses and the check compares.
"""

from __future__ import annotations

import time
import uuid

from simulators.alibaba import API_VERSION, AlibabaCloudSsoSimulator, canonical_query, v1_expected
from simulators.atlassian import AtlassianScimSimulator
from simulators.uipath import UiPathIdentitySimulator


class Person:
    __slots__ = ("id", "name")

    def __init__(self, user_id, name):
        self.id = user_id
        self.name = name


class Scenario:
    """Base of the three scenarios; a subclass says how its provider names and stores users."""

    name = ""
    title = ""
    module = ""
    by = "user_id"
    uri_note = ""

    def __init__(self, leavers, stayers=10):
        self.leavers = [self.person("leaver", number) for number in range(leavers)]
        self.stayers = [self.person("stayer", number) for number in range(stayers)]
        self.simulator = self.make_simulator()

    # --- to implement -------------------------------------------------------------------------
    def person(self, kind, number):
        raise NotImplementedError

    def make_simulator(self):
        raise NotImplementedError

    def connection(self, url):
        """The module's connection options for a simulator at `url`."""
        raise NotImplementedError

    def present_ids(self):
        raise NotImplementedError

    def uri_tasks(self, url):
        """(tasks, variables) of an `ansible.builtin.uri` loop that deletes every leaver, one task run per user."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------
    def values(self, people=None):
        people = self.leavers if people is None else people
        return [person.name if self.by == "user_name" else person.id for person in people]

    def module_task(self, url, values, **options):
        """One task of the module for `values` (a list, or a Jinja expression for a loop)."""
        arguments = dict(self.connection(url), state="absent")
        arguments.update(options)
        arguments[self.by] = values
        return {"name": "offboard", self.module: arguments}

    def leftovers(self):
        """(leavers still present, stayers gone): both must be empty after a run."""
        present = self.present_ids()
        return ([person.id for person in self.leavers if person.id in present],
                [person.id for person in self.stayers if person.id not in present])


def guid(kind, number):
    return "00000000-0000-4000-%s-%012d" % ("a000" if kind == "leaver" else "b000", number)


class Atlassian(Scenario):
    name = "atlassian"
    title = "Atlassian SCIM, by id"
    module = "identity.lifecycle.atlassian_scim_user"
    directory = "d-bench"
    key = "ATSCIM-bench-key-0123456789"

    def person(self, kind, number):
        return Person(guid(kind, number), "%s%05d@example.com" % (kind, number))

    def make_simulator(self):
        return AtlassianScimSimulator({self.directory: {"api_key": self.key, "users": [
            {"id": person.id, "userName": person.name, "emails": [{"value": person.name, "primary": True}]}
            for person in self.leavers + self.stayers]}})

    def connection(self, url):
        return {"base_url": url + "/scim", "directory_id": self.directory, "api_key": self.key}

    def present_ids(self):
        return set(user["id"] for user in self.simulator.users(self.directory))

    def uri_tasks(self, url):
        return [{"name": "delete", "loop": "{{ leavers }}", "ansible.builtin.uri": {
            "url": "%s/scim/directory/%s/Users/{{ item }}" % (url, self.directory), "method": "DELETE",
            "headers": {"Authorization": "Bearer " + self.key}, "status_code": [204, 404]}}], \
            {"leavers": [person.id for person in self.leavers]}


class UiPath(Scenario):
    name = "uipath"
    title = "UiPath, by name"
    module = "identity.lifecycle.uipath_user"
    by = "user_name"
    uri_note = "(a) fetches one token with a uri task, then deletes by id (DELETE /api/User/{id}); (b) and (c) go by name"
    organization = "bench"
    partition = "5e0b8a1c-2d3f-4a6b-8c7d-9e0f1a2b3c4d"
    client_id = "0c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
    secret = "bench-uipath-secret-0123456789"

    def person(self, kind, number):
        return Person(guid(kind, number), "%s%05d@example.com" % (kind, number))

    def make_simulator(self):
        return UiPathIdentitySimulator({self.organization: {
            "partition_global_id": self.partition,
            "clients": {self.client_id: {"secret": self.secret, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]}},
            "users": [{"id": person.id, "userName": person.name, "email": person.name}
                      for person in self.leavers + self.stayers]}})

    def connection(self, url):
        return {"base_url": url, "organization": self.organization, "client_id": self.client_id,
                "client_secret": self.secret}

    def present_ids(self):
        return set(user["id"] for user in self.simulator.users())

    def uri_tasks(self, url):
        # The token is fetched once, as an ops team's loop would; then one single-user DELETE per user.
        identity = "%s/%s/identity_" % (url, self.organization)
        return [
            {"name": "token", "register": "token", "no_log": True, "ansible.builtin.uri": {
                "url": identity + "/connect/token", "method": "POST", "body_format": "form-urlencoded",
                "body": {"grant_type": "client_credentials", "client_id": self.client_id,
                         "client_secret": self.secret, "scope": "PM.User.Write"}}},
            {"name": "delete", "loop": "{{ leavers }}", "ansible.builtin.uri": {
                "url": identity + "/api/User/{{ item }}", "method": "DELETE",
                "headers": {"Authorization": "Bearer {{ token.json.access_token }}"}, "status_code": [204, 404]}},
        ], {"leavers": [person.id for person in self.leavers]}


class Alibaba(Scenario):
    name = "alibaba"
    title = "Alibaba CloudSSO, by id"
    module = "identity.lifecycle.alibaba_cloudsso_user"
    uri_note = ("(a) cannot sign with ansible.builtin.uri: it sends DeleteUser requests the benchmark signed (V1) "
                "before the run, a lower bound of what a uri loop costs")
    directory = "d-00bench0directory"
    key_id = "LTAI5tBenchKey0000001"
    secret = "bench-secret-0123456789"

    def __init__(self, leavers, stayers=10, dependencies=False):
        # With dependencies, every leaver has an MFA device, a group and an access assignment (force: true).
        self.dependencies = dependencies
        super().__init__(leavers, stayers)

    def person(self, kind, number):
        return Person("u-00bench%s%06d" % (kind, number), "%s%06d@example.com" % (kind, number))

    def make_simulator(self):
        users = []
        for number, person in enumerate(self.leavers + self.stayers):
            user = {"UserId": person.id, "UserName": person.name}
            if self.dependencies:
                user.update(mfa_devices=[{"DeviceId": "mfa-00bench%06d" % number}], groups=["engineering"],
                            access_assignments=[{"access_configuration": "ReadOnly", "target_id": str(100000 + number)}])
            users.append(user)
        return AlibabaCloudSsoSimulator({
            "access_keys": [{"access_key_id": self.key_id, "access_key_secret": self.secret}],
            "directories": [{"DirectoryId": self.directory,
                             "access_configurations": [{"AccessConfigurationName": "ReadOnly"}],
                             "groups": [{"GroupName": "engineering"}], "users": users}]})

    def connection(self, url):
        return {"endpoint": url, "directory_id": self.directory, "access_key_id": self.key_id,
                "access_key_secret": self.secret}

    def present_ids(self):
        return set(user["UserId"] for user in self.simulator.directory_state(self.directory)["users"])

    def uri_tasks(self, url):
        # ansible.builtin.uri cannot sign a request. The benchmark signs one DeleteUser per user before the
        # run (signature V1, HMAC-SHA1, valid for 15 minutes, which the simulator accepts like V3), so the
        # loop only sends them: a lower bound of what a uri loop costs, since it does no signing at all.
        return [{"name": "delete", "loop": "{{ leavers }}", "ansible.builtin.uri": {
            "url": "{{ item }}", "method": "POST", "status_code": [200]}}], \
            {"leavers": [url + "/?" + self.signed_delete(person.id) for person in self.leavers]}

    def signed_delete(self, user_id):
        params = {"Action": "DeleteUser", "Version": API_VERSION, "Format": "JSON", "AccessKeyId": self.key_id,
                  "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
                  "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "DirectoryId": self.directory, "UserId": user_id}
        # The simulator's verification, used here to sign: both sides follow Alibaba's published V1 rules.
        params["Signature"] = v1_expected("POST", params, self.secret)[1]
        return canonical_query(params)


SCENARIOS = {"atlassian": Atlassian, "uipath": UiPath, "alibaba": Alibaba}
