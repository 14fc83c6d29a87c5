# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the offboard role takes as input, against the simulators (issue 18, findings 10, 13 and 14): a key of a
settings dict that no module takes is refused before any request; two inventory hosts that spell the same
directory differently both fail before any request; a leaver's fields are text, never a template."""

from __future__ import annotations

import json
import os

import pytest

from simulators.atlassian import AtlassianScimSimulator

from .test_many_directories import Estate, host_results
from .test_many_directories import reports as inventory_reports
from .test_offboard_role import KEY, atlassian, only_report, reports
from .test_offboard_sweep import atlassian as atlassian_with_admin

# Any request that is not for a simulator on loopback goes to a port where nothing listens: a host configured
# with a provider's real address can never reach the internet from a test.
NO_INTERNET = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
               "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def stop_message(result, host="localhost"):
    return host_results(result, "Stop before any request when a leaver or a provider cannot be handled")[host]["msg"]


# --- finding 13: unknown keys of the settings dicts ---------------------------------------------------------

def test_a_typo_in_any_settings_dict_stops_the_run_before_any_request(ansible, serve):
    scim, admin, env = atlassian_with_admin(serve)
    result = ansible.run("identity.lifecycle.offboard", env=dict(env, PWD=ansible.workdir), extra_vars={
        "offboard_users": [{"email": "dana.lee@example.com"}],
        # The sweep's organization directory, misspelt: without the check, the SCIM deletes went first and the
        # sweep failed after them.
        "offboard_atlassian_admin": {"directroy_id": "od-sweep"},
        "offboard_atlassian": {"parallelsim": 4},
        "offboard_uipath": {"scopes": "PM.User"},
        "offboard_alibaba": {"regoin": "cn-hangzhou"}})
    assert result.returncode != 0
    message = stop_message(result)
    for variable, key, valid in (("offboard_atlassian_admin", "directroy_id", "directory_id"),
                                 ("offboard_atlassian", "parallelsim", "parallelism"),
                                 ("offboard_uipath", "scopes", "scope"),
                                 ("offboard_alibaba", "regoin", "region")):
        assert "%s has the key %s, which" % (variable, key) in message, message
        start = message.index("%s has the key %s" % (variable, key))
        assert valid in message[start:start + 600], message
    assert scim.requests() == [] and admin.requests() == []
    assert inventory_reports(ansible.workdir) == []


def test_a_typo_in_a_directory_hosts_settings_fails_that_directory_only(ansible, serve):
    estate = Estate(serve)
    hosts = dict(estate.hosts)
    hosts["uipath-globex"] = dict(hosts["uipath-globex"], offboard_uipath=dict(
        hosts["uipath-globex"]["offboard_uipath"], organisation="globex"))
    result = estate.offboard(ansible, hosts=hosts)
    assert result.returncode != 0
    assert estate.people("uipath-globex") == sorted(["dana.lee@example.com", "omar.haddad@example.com",
                                                     "sam.taylor@example.com"])
    assert not [entry for entry in estate.uipath.requests() if "/globex/" in entry["path"]]
    assert estate.people("uipath-acme") == ["sam.taylor@example.com"]
    ((report, _markdown),) = inventory_reports(ansible.workdir)
    reasons = dict((directory["directory"], directory["reason"]) for directory in report["directories"])
    assert "offboard_uipath has the key organisation, which" in reasons["uipath-globex"], reasons
    assert "organization" in reasons["uipath-globex"]
    assert reasons["uipath-acme"] is None


# --- finding 10: one directory, spelt two ways -------------------------------------------------------------

def test_two_hosts_that_spell_the_same_directory_differently_both_fail_before_any_request(ansible, serve):
    estate = Estate(serve)
    uipath_url = estate.hosts["uipath-acme"]["offboard_uipath"]["base_url"]
    acme = estate.hosts["uipath-acme"]["offboard_uipath"]
    atlassian_key = {"directory_id": "d-far", "api_key": "ATSCIM-far-away-key-4c1d"}
    alibaba_key = {"directory_id": "d-far", "access_key_id": "LTAI-far-away", "access_key_secret": "far-away-secret-8x"}
    hosts = {
        # The organization's identity server, by its organization and by its own URL.
        "uipath-acme": estate.hosts["uipath-acme"],
        "uipath-acme-identity": {"offboard_provider": "uipath", "offboard_uipath": {
            "identity_url": uipath_url.upper().replace("HTTP://", "http://") + "/acme/identity_/",
            "client_id": acme["client_id"], "client_secret": acme["client_secret"]}},
        # Atlassian's own address, with its default port, another case and a trailing slash.
        "atlassian-far": {"offboard_provider": "atlassian", "offboard_atlassian": dict(atlassian_key)},
        "atlassian-far-again": {"offboard_provider": "atlassian", "offboard_atlassian": dict(
            atlassian_key, base_url="https://API.Atlassian.com:443/scim/")},
        # Alibaba's regional endpoint, by region and by endpoint.
        "alibaba-far": {"offboard_provider": "alibaba", "offboard_alibaba": dict(alibaba_key, region="eu-central-1")},
        "alibaba-far-again": {"offboard_provider": "alibaba", "offboard_alibaba": dict(
            alibaba_key, endpoint="https://CloudSSO.eu-central-1.aliyuncs.com:443/")},
        # Another directory, which runs.
        "uipath-globex": estate.hosts["uipath-globex"],
    }
    result = ansible.run("identity.lifecycle.offboard", env=dict(NO_INTERNET, PWD=ansible.workdir),
                         extra_vars={"offboard_users": [{"email": "dana.lee@example.com"}],
                                     "offboard_hosts": "offboard_directories"},
                         args=("-i", estate.inventory(ansible, hosts), "--forks", "4"))
    assert result.returncode != 0
    assert not [entry for entry in estate.uipath.requests() if "/acme/" in entry["path"]]
    assert "dana.lee@example.com" in estate.people("uipath-acme")
    assert "dana.lee@example.com" not in estate.people("uipath-globex")
    ((report, _markdown),) = inventory_reports(ansible.workdir)
    reasons = dict((directory["directory"], directory["reason"]) for directory in report["directories"])
    for host, other, title in (("uipath-acme", "uipath-acme-identity", "UiPath"),
                               ("uipath-acme-identity", "uipath-acme", "UiPath"),
                               ("atlassian-far", "atlassian-far-again", "Atlassian Cloud"),
                               ("atlassian-far-again", "atlassian-far", "Atlassian Cloud"),
                               ("alibaba-far", "alibaba-far-again", "Alibaba Cloud CloudSSO"),
                               ("alibaba-far-again", "alibaba-far", "Alibaba Cloud CloudSSO")):
        assert reasons[host] and "host %s addresses the same %s directory" % (host, title) in reasons[host], reasons
        assert "as host %s" % other in reasons[host], reasons[host]
    assert reasons["uipath-globex"] is None
    # No host of the pairs got as far as a module task.
    ran = host_results(result, "Offboard at UiPath, users given by user name or email")
    assert set(host for host, outcome in ran.items() if not outcome.get("skipped")) == {"uipath-globex"}


# --- finding 14: leaver data is text ------------------------------------------------------------------------

SECRET_LOOKUP = "{{ lookup('ansible.builtin.env', 'ATLASSIAN_SCIM_API_KEY') }}"


def marker_lookup(workdir):
    """A leaver field that, if it were ever evaluated, would leave a file behind."""
    return "{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % os.path.join(workdir, "evaluated")


def leavers_with_templates(workdir):
    return [{"name": SECRET_LOOKUP, "email": "dana.lee@example.com"},
            {"name": marker_lookup(workdir), "email": "omar.haddad@example.com"},
            # A name no directory has: it is sent as it is, and found nowhere.
            {"email": "{{ 'mei.chen' }}@example.com"}]


def assert_taken_as_text(simulator, result, workdir):
    report, markdown = only_report(workdir)
    assert not os.path.exists(os.path.join(workdir, "evaluated")), "a leaver's field was evaluated as a template"
    text = json.dumps(report, ensure_ascii=False) + markdown + result.output
    assert KEY not in text
    assert [leaver["name"] for leaver in report["leavers"]][:2] == [SECRET_LOOKUP, marker_lookup(workdir)]
    assert report["leavers"][2]["email"] == "{{ 'mei.chen' }}@example.com"
    # The Markdown report escapes what would start Markdown structure, such as "_".
    assert SECRET_LOOKUP.replace("_", "\\_") in markdown and "{{ 'mei.chen' }}@example.com" in markdown
    outcomes = [leaver["results"]["atlassian"]["outcome"] for leaver in report["leavers"]]
    assert outcomes == ["removed", "removed", "already absent"], outcomes
    # The third leaver's name went to the directory as it was given, never as mei.chen@example.com.
    assert "mei.chen@example.com" in [user["userName"] for user in simulator.users("d-role")]
    assert result.returncode == 0, result.output


def test_leavers_given_as_extra_vars_are_text(ansible, serve):
    simulator, env = atlassian(serve)
    result = ansible.run("identity.lifecycle.offboard", env=dict(env, PWD=ansible.workdir),
                         extra_vars={"offboard_users": leavers_with_templates(ansible.workdir)})
    assert_taken_as_text(simulator, result, ansible.workdir)


@pytest.mark.parametrize("where", ["vars_files", "vars", "file_extra_vars"])
def test_leavers_given_in_a_file_or_a_play_are_text(ansible, serve, where):
    simulator, env = atlassian(serve)
    leavers = leavers_with_templates(ansible.workdir)
    path = os.path.join(ansible.workdir, "leavers.yml")
    with open(path, "w", encoding="utf-8") as handle:
        # As an HR export is written: plain YAML, the strings in quotes.
        handle.write("offboard_users:\n" + "".join(
            "  - %s\n" % json.dumps(leaver, ensure_ascii=False) for leaver in leavers))
    ansible.guard.inputs.add(os.path.realpath(path))
    play = {"name": "offboard", "hosts": "localhost", "gather_facts": False,
            "roles": [{"role": "identity.lifecycle.offboard"}]}
    if where == "vars_files":
        play["vars_files"] = [path]
    elif where == "vars":
        play["vars"] = {"offboard_users": leavers}
    if where == "file_extra_vars":
        result = ansible.run("identity.lifecycle.offboard", env=dict(env, PWD=ansible.workdir),
                             args=("-e", "@" + path))
    else:
        result = ansible.run([play], env=dict(env, PWD=ansible.workdir))
    assert_taken_as_text(simulator, result, ansible.workdir)


def test_a_leaver_list_built_by_a_template_of_the_playbook_still_works(ansible, serve):
    # offboard_users may itself be a template of the playbook (docs/awx.md builds it from a survey's e-mails).
    simulator, env = atlassian(serve)
    play = {"name": "offboard", "hosts": "localhost", "gather_facts": False,
            "vars": {"emails": "dana.lee@example.com omar.haddad@example.com",
                     "offboard_users": "{{ emails.split() | map('ansible.builtin.to_json') | map("
                                       "'ansible.builtin.regex_replace', '^(.*)$', '{\"email\": \\1}') | map("
                                       "'ansible.builtin.from_json') | list }}"},
            "roles": [{"role": "identity.lifecycle.offboard"}]}
    result = ansible.run([play], env=dict(env, PWD=ansible.workdir))
    assert result.returncode == 0, result.output
    report, _markdown = only_report(ansible.workdir)
    assert [leaver["email"] for leaver in report["leavers"]] == ["dana.lee@example.com", "omar.haddad@example.com"]
    assert sorted(user["userName"] for user in simulator.users("d-role")) == [
        "mei.chen@example.com", "sam.taylor@example.com"]


def test_an_approved_plan_given_as_extra_vars_is_text(ansible, serve):
    # The plan of a rehearsal carries the leavers' names; as AWX hands it to the next node (extra vars), it is
    # data too, never a template.
    odd = marker_lookup(ansible.workdir)
    simulator = AtlassianScimSimulator({"d-role": {"api_key": KEY, "users": [
        {"id": "a-odd", "userName": odd, "emails": [{"value": "odd@example.com", "primary": True}]}]}})
    env = {"ATLASSIAN_SCIM_BASE_URL": serve(simulator).url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": "d-role",
           "ATLASSIAN_SCIM_API_KEY": KEY, "PWD": ansible.workdir}
    leavers = [{"name": SECRET_LOOKUP, "email": odd}]
    rehearsal = ansible.run("identity.lifecycle.offboard", env=env, check=True, extra_vars={"offboard_users": leavers})
    assert rehearsal.returncode == 0, rehearsal.output
    ((rehearsed, _markdown),) = list(reports(ansible.workdir).values())
    assert [(item["leaver"], item["user_name"]) for item in rehearsed["plan"]] == [(odd, odd)]
    real = ansible.run("identity.lifecycle.offboard", env=env, extra_vars={
        "offboard_users": leavers, "offboard_approved_plan": rehearsed["plan"],
        "offboard_approved_plan_digest": rehearsed["plan_digest"]})
    assert not os.path.exists(os.path.join(ansible.workdir, "evaluated")), "the approved plan was evaluated"
    assert real.returncode == 0, real.output
    assert simulator.users("d-role") == []
    report = [one for one, _markdown in reports(ansible.workdir).values() if not one["check_mode"]][0]
    assert report["approval"]["result"] == "approved" and report["plan"] == rehearsed["plan"]
    assert KEY not in json.dumps(report) + real.output
