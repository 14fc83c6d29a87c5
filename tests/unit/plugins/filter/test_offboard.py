# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role's filters: the checks before any request, the outcome per leaver, the report and
its Markdown rendering. The Markdown is parsed with markdown-it-py (CommonMark with GFM tables) to prove
that no value from input or from a provider adds structure."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from markdown_it import MarkdownIt

from ansible_collections.identity.lifecycle.plugins.filter import offboard, offboard_sweep
from tests.evidence_oracle import digest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

ATLASSIAN = {"directory_id": "d-unit", "api_key": "ATSCIM-unit-secret-1"}
UIPATH = {"organization": "acme", "client_id": "app-unit", "client_secret": "uipath-unit-secret-2"}
ALIBABA = {"directory_id": "d-ali", "access_key_id": "LTAI-unit", "access_key_secret": "alibaba-unit-secret-3"}
SECRETS = ("ATSCIM-unit-secret-1", "uipath-unit-secret-2", "alibaba-unit-secret-3", "uipath-token-secret-4")
ALL = {"atlassian": ATLASSIAN, "uipath": UIPATH, "alibaba": ALIBABA}
# The session follow-up every Atlassian row has, as the Markdown report shows it.
SESSIONS = offboard._md(offboard._fixed_follow_up("atlassian", {"outcome": "removed"}, "f", True, None)[0]["detail"])
NONE = {"atlassian": {}, "uipath": {}, "alibaba": {}}
LEAVERS = [{"name": "Dana Lee", "email": "dana.lee@example.com"}]


def preflight(leavers=None, settings=None, environment=None, requested=None):
    return offboard.offboard_preflight(LEAVERS if leavers is None else leavers, NONE if settings is None else settings,
                                       environment or {}, requested)


def essentials(result):
    return {"providers": result["providers"], "problems": result["problems"]}


def problems_text(result):
    text = "\n".join(result["problems"])
    for secret in SECRETS:
        assert secret not in text
    return text


# --- leavers without an identifier -----------------------------------------------------------------

@pytest.mark.parametrize("email", ["", None, "   "])
def test_a_leaver_without_an_identifier_is_a_problem_at_every_provider(email):
    leavers = [{"name": "Dana Lee", "email": "dana.lee@example.com"},
               {"name": "Omar Haddad", "email": email},
               {"name": "Mei Chen", "email": email, "uipath_user_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}]
    result = preflight(leavers, ALL)
    text = problems_text(result)
    assert result["providers"] == ["atlassian", "uipath", "alibaba"]
    assert len(result["problems"]) == 5, text
    omar = [problem for problem in result["problems"] if "offboard_users[1]" in problem]
    assert len(omar) == 3
    for provider, problem in zip(("atlassian", "uipath", "alibaba"), omar):
        assert "'Omar Haddad'" in problem and " %s:" % provider in problem
        assert "email, %s_user_name or %s_user_id" % (provider, provider) in problem
    mei = [problem for problem in result["problems"] if "offboard_users[2]" in problem]
    assert [" atlassian:" in mei[0], " alibaba:" in mei[1]] == [True, True]
    assert "uipath_user_id '3fa85f64-5717-4562-b3fc-2c963f66afa6'" in mei[0]
    assert "Dana Lee" not in text


def test_a_leaver_is_checked_only_at_the_providers_of_the_run():
    leavers = [{"name": "Mei Chen", "email": None, "uipath_user_name": "mchen"}]
    assert essentials(preflight(leavers, ALL, requested=["uipath"])) == {"providers": ["uipath"], "problems": []}
    assert preflight(leavers, {"atlassian": {}, "uipath": UIPATH, "alibaba": {}})["problems"] == []


def test_targets_never_skip_a_leaver_without_an_identifier():
    with pytest.raises(AnsibleFilterError, match=r"offboard_users\[0\] \(name 'Omar'\)"):
        offboard.offboard_targets([{"name": "Omar", "email": ""}], "atlassian")
    targets = offboard.offboard_targets([{"email": " a@example.com "}, {"email": "", "atlassian_user_id": "x-1"}],
                                        "atlassian")
    assert (targets["user_names"], targets["user_ids"]) == (["a@example.com"], ["x-1"])


# --- providers: all settings, none, or a loud failure -----------------------------------------------

def test_providers_are_detected_from_role_variables_and_the_environment():
    environment = {"UIPATH_IDENTITY_URL": "https://host/identity", "UIPATH_ACCESS_TOKEN": "uipath-token-secret-4",
                   "ALICLOUD_ACCESS_KEY": "LTAI-unit", "ALICLOUD_SECRET_KEY": "alibaba-unit-secret-3",
                   "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": "d-ali"}
    result = preflight(settings={"atlassian": ATLASSIAN, "uipath": {}, "alibaba": {}}, environment=environment)
    assert essentials(result) == {"providers": ["atlassian", "uipath", "alibaba"], "problems": []}
    assert preflight(settings=NONE, environment={"ATLASSIAN_SCIM_API_KEY": "ATSCIM-unit-secret-1",
                                                 "ATLASSIAN_SCIM_DIRECTORY_ID": "d-1"})["providers"] == ["atlassian"]


@pytest.mark.parametrize("settings, environment, provider, missing, not_missing", [
    ({"directory_id": "d-1"}, {}, "atlassian", ["offboard_atlassian.api_key", "ATLASSIAN_SCIM_API_KEY"],
     ["directory_id ("]),
    ({}, {"ATLASSIAN_SCIM_API_KEY": "ATSCIM-unit-secret-1"}, "atlassian",
     ["offboard_atlassian.directory_id", "ATLASSIAN_SCIM_DIRECTORY_ID"], ["api_key ("]),
    ({}, {"UIPATH_ORGANIZATION": "acme"}, "uipath",
     ["offboard_uipath.client_id", "UIPATH_CLIENT_SECRET", "offboard_uipath.access_token", "UIPATH_ACCESS_TOKEN"],
     ["offboard_uipath.organization"]),
    ({"client_id": "app", "client_secret": "uipath-unit-secret-2"}, {}, "uipath",
     ["offboard_uipath.organization", "UIPATH_ORGANIZATION", "offboard_uipath.identity_url", "UIPATH_IDENTITY_URL"],
     ["offboard_uipath.client_secret"]),
    ({"organization": "acme", "client_id": "app"}, {}, "uipath", ["offboard_uipath.client_secret", "UIPATH_CLIENT_SECRET"],
     ["access_token", "offboard_uipath.client_id ("]),
    ({"organization": "acme"}, {"UIPATH_CLIENT_SECRET": "uipath-unit-secret-2"}, "uipath",
     ["offboard_uipath.client_id", "UIPATH_CLIENT_ID"], ["offboard_uipath.client_secret ("]),
    ({"access_key_id": "LTAI"}, {"ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": "d-ali"}, "alibaba",
     ["offboard_alibaba.access_key_secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"],
     ["offboard_alibaba.access_key_id (", "offboard_alibaba.directory_id ("]),
    # A set but empty value counts as missing, and the message says where it is empty.
    ({"directory_id": "d-1", "api_key": ""}, {"ATLASSIAN_SCIM_API_KEY": "ATSCIM-unit-secret-1"}, "atlassian",
     ["offboard_atlassian.api_key", "offboard_atlassian.api_key is set but empty"], []),
    ({}, {"ATLASSIAN_SCIM_DIRECTORY_ID": "d-1", "ATLASSIAN_SCIM_API_KEY": " "}, "atlassian",
     ["ATLASSIAN_SCIM_API_KEY is set but empty"], []),
])
def test_a_half_configured_provider_is_a_problem_naming_what_is_missing(settings, environment, provider, missing,
                                                                        not_missing):
    full = {"atlassian": {}, "uipath": {}, "alibaba": {}}
    full[provider] = settings
    if provider != "atlassian":
        full["atlassian"] = ATLASSIAN
    result = preflight(settings=full, environment=environment)
    text = problems_text(result)
    assert len(result["problems"]) == 1, text
    assert result["problems"][0].startswith("%s is only partly configured" % provider)
    for name in missing:
        assert name in text
    for name in not_missing:
        assert name not in text
    # The same settings with the provider left out of offboard_providers are no problem.
    others = [name for name in ("atlassian", "uipath", "alibaba") if name != provider and full[name]]
    if others:
        assert preflight(settings=full, environment=environment, requested=others)["problems"] == []


def test_the_environment_fallbacks_follow_the_modules():
    # As in the modules, an empty variable counts as unset (AWX injects optional inputs left empty as empty
    # variables): the next one applies, and only when none is set does the message say which one is empty.
    environment = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALICLOUD_ACCESS_KEY": "LTAI-unit",
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "alibaba-unit-secret-3",
                   "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": "d-ali"}
    assert essentials(preflight(environment=environment)) == {"providers": ["alibaba"], "problems": []}
    environment["ALICLOUD_ACCESS_KEY"] = " "
    text = problems_text(preflight(environment=environment))
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID is set but empty" in text
    environment["ALIBABA_CLOUD_ACCESS_KEY_ID"] = None  # not set at all
    assert "ALICLOUD_ACCESS_KEY is set but empty" in problems_text(preflight(environment=environment))


def test_a_provider_named_in_offboard_providers_must_be_configured():
    result = preflight(settings={"atlassian": ATLASSIAN, "uipath": {}, "alibaba": {}}, requested=["atlassian", "uipath"])
    text = problems_text(result)
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("offboard_providers names uipath, but it is not configured")
    for name in ("offboard_uipath.organization", "UIPATH_IDENTITY_URL", "offboard_uipath.client_secret",
                 "UIPATH_ACCESS_TOKEN", "module_defaults"):
        assert name in text


def test_no_provider_at_all_is_a_problem():
    result = preflight()
    assert result["providers"] == []
    assert len(result["problems"]) == 1 and result["problems"][0].startswith("No provider is configured")


def test_the_role_looks_up_exactly_the_variables_the_filter_reads():
    with open(os.path.join(ROOT, "roles", "offboard", "vars", "main.yml"), encoding="utf-8") as handle:
        role_vars = yaml.safe_load(handle)
    assert sorted(role_vars["_offboard_environment_names"]) == sorted(offboard.ENVIRONMENT_NAMES)


# --- outcomes ----------------------------------------------------------------------------------------

def outcome_of(user, state="absent", check_mode=False, by="name"):
    targets = offboard.offboard_targets([{"email": "dana.lee@example.com"}], "atlassian")
    if by == "id":
        targets = offboard.offboard_targets([{"atlassian_user_id": "a-dana"}], "atlassian")
    result = {"changed": user.get("changed", False), "users": [user]}
    skipped = {"skipped": True, "changed": False}
    by_id, by_name = (result, skipped) if by == "id" else (skipped, result)
    (entry,) = offboard.offboard_outcomes(targets, by_id, by_name, state, check_mode, "2026-01-01T00:00:00Z")
    return entry


@pytest.mark.parametrize("found", [True, False])
def test_a_delete_confirmed_after_a_retry_is_removed_with_a_note(found):
    msg = "deleted (confirmed after a retry: the first attempt got HTTP 502; request id r-1)"
    entry = outcome_of({"user_id": "a-dana", "user_name": "dana.lee@example.com", "found": found, "changed": True,
                        "state": "absent", "actions": ["deleted"], "request_ids": ["r-1"], "msg": msg})
    assert entry["outcome"] == "removed"
    assert entry["note"] == msg
    report = offboard.offboard_report([{"email": "dana.lee@example.com"}], {"atlassian": [entry]}, ["atlassian"],
                                      "absent", False, "s", "f", "run-1")
    assert report["summary"] == {"removed": 1}
    markdown = offboard.offboard_markdown(report)
    assert "  - note: deleted (confirmed after a retry: the first attempt got HTTP 502; request id r-1)" in markdown


def test_a_plain_outcome_has_no_note():
    entry = outcome_of({"user_id": "a-dana", "user_name": "dana.lee@example.com", "found": True, "changed": True,
                        "state": "absent", "actions": ["deleted"], "msg": "deleted"})
    assert (entry["outcome"], entry["note"]) == ("removed", "")
    assert outcome_of({"user_id": None, "user_name": "dana.lee@example.com", "found": False, "changed": False,
                       "state": "absent", "actions": [], "msg": "already absent"})["note"] == ""


def test_a_failure_after_a_lost_answer_says_the_first_attempt_may_have_been_carried_out():
    entry = outcome_of({"user_id": "a-dana", "found": True, "changed": False, "failed": True, "state": "enabled",
                        "msg": "Atlassian: HTTP 500", "error": {"status": 500, "message": "HTTP 500",
                                                                "lost_answer": {"message": "HTTP 502", "request_id": "r-9"}}})
    assert entry["outcome"] == "failed"
    assert "may have been carried out" in entry["note"] and "r-9" in entry["note"]


def test_an_outcome_that_is_neither_a_change_nor_the_requested_state_fails():
    # A user the module found, did not change and left enabled is not "already absent".
    entry = outcome_of({"user_id": "a-dana", "found": True, "changed": False, "state": "enabled", "msg": "?"},
                       state="disabled")
    assert entry["outcome"] == "failed"
    assert "enabled" in entry["msg"]


# --- the report and its Markdown -------------------------------------------------------------------

def test_no_leavers_is_said_plainly():
    report = offboard.offboard_report([], {"atlassian": []}, ["atlassian"], "absent", False, "s", "f", "run-1")
    assert report["result"] == "no leavers given"
    assert report["failed"] is False and report["summary"] == {}
    markdown = offboard.offboard_markdown(report)
    assert "| Result | no leavers given |" in markdown
    assert "every leaver was handled" not in markdown
    assert markdown.lower().count("no leavers given") == 3  # result, summary, leavers


HOSTILE_NAME = "# x\n| a | b |<img src=x onerror=y>"
HOSTILE_MESSAGE = ("refused `rm -rf` ``x`` see [here](http://evil) ](http://evil) ![i](http://evil/i.png) "
                   "<script>alert(1)</script> **bold** _em_ ~~gone~~ \\| pipe &amp; \r\n## heading\t\u202eevil")


def hostile_report():
    leavers = [{"name": HOSTILE_NAME, "email": "dana.lee@example.com"},
               {"name": "Omar](http://evil)", "email": "omar`x@example.com"}]
    targets = offboard.offboard_targets(leavers, "uipath")
    by_name = {"changed": True, "failed": True, "users": [
        {"user_id": "id|`1`<b>", "user_name": "dana.lee@example.com", "found": True, "changed": True,
         "state": "absent", "actions": ["deleted <b>x</b>"], "request_ids": ["req`1](http://evil)"],
         "msg": "deleted (confirmed after a retry: " + HOSTILE_MESSAGE + ")"},
        {"user_id": "u-2", "user_name": "omar", "found": True, "changed": False, "failed": True, "state": "enabled",
         "msg": HOSTILE_MESSAGE,
         "error": {"status": 409, "code": "Conflict`|<i>", "message": HOSTILE_MESSAGE, "request_id": "r-2\n# injected"}}]}
    outcomes = offboard.offboard_outcomes(targets, {"skipped": True}, by_name, "absent", False, "t\n# time")
    return offboard.offboard_report(leavers, {"uipath": outcomes}, ["uipath"], "absent", False, "s", "f",
                                    "run-<1>")


def walk(tokens):
    for token in tokens:
        yield token
        yield from walk(token.children or [])


def test_the_markdown_report_escapes_everything_from_input_and_providers():
    markdown = offboard.offboard_markdown(hostile_report())
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = parser.parse(markdown)
    # Our headings only: the report, four sections, one per leaver.
    assert [token.tag for token in tokens if token.type == "heading_open"] == [
        "h1", "h2", "h2", "h2", "h3", "h3", "h2", "h2"]
    # Nothing but text, emphasis of our own labels, tables and lists.
    kinds = set(token.type for token in walk(tokens))
    for kind in ("html_inline", "html_block", "link_open", "image", "code_inline", "code_block", "fence", "s_open",
                 "em_open", "hardbreak", "softbreak", "blockquote_open", "hr"):
        assert kind not in kinds, kind
    # "- **UiPath**:" per leaver, and the plan digest.
    assert [token.type for token in walk(tokens)].count("strong_open") == 3
    # Every table row has exactly its columns.
    rows = [token for token in tokens if token.type == "tr_open"]
    cells = []
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            cells.append(0)
        elif token.type in ("td_open", "th_open"):
            cells[-1] += 1
    # The run, the leavers, the plan (one change), the failures.
    assert cells == [2] * 9 + [2] * 3 + [6] * 2 + [6] * 2, cells
    assert len(rows) == 16
    # The text survives, escaped: rendered back, the hostile values read as they were given.
    html = parser.render(markdown)
    assert "# x\\n| a | b |&lt;img src=x onerror=y&gt;" in html
    assert "](http://evil)" in html and "<img" not in html and "<script" not in html and "<b>" not in html
    assert "\\u202e" in html and "\u202e" not in markdown


def test_the_markdown_report_keeps_its_layout():
    leavers = [{"name": "Mei | Chen", "email": "mei.chen@example.com", "atlassian_user_id": "a-mei"},
               {"email": "gone@example.com"}]
    targets = offboard.offboard_targets(leavers, "atlassian")
    by_id = {"changed": True, "users": [{"user_id": "a-mei", "user_name": "mei.chen@example.com", "found": True,
                                         "changed": True, "state": "absent", "actions": ["deleted"], "msg": "deleted"}]}
    by_name = {"changed": False, "users": [{"user_id": None, "user_name": "gone@example.com", "found": False,
                                            "changed": False, "state": "absent", "actions": [], "msg": "already absent"}]}
    outcomes = offboard.offboard_outcomes(targets, by_id, by_name, "absent", False, "2026-01-01T00:00:02Z")
    sweep_targets = offboard_sweep.offboard_sweep_targets(outcomes, leavers, "atlassian", "absent")
    token = {"kind": "API token", "id": "t-1", "name": "ci", "where": "account 5b10", "done": "revoked"}
    swept_by_name = {"changed": True, "users": [
        {"user_id": "5b10", "user_name": "mei.chen@example.com", "found": True, "changed": True, "managed": True,
         "leftover": [token], "manual_follow_up": [], "actions": ['revoked API token "ci" (t-1)']},
        {"user_id": None, "user_name": "gone@example.com", "found": False, "changed": False, "managed": None,
         "leftover": [], "manual_follow_up": [], "actions": [], "state": "absent"}]}
    outcomes = offboard_sweep.offboard_swept(outcomes, sweep_targets, None, swept_by_name, False)
    directory = {"key": "atlassian", "host": "localhost", "provider": "atlassian", "title": "Atlassian Cloud",
                 "directory_id": None, "status": "run", "problems": []}
    results = {"localhost": {"outcomes": {"atlassian": outcomes}, "error": None, "sweeps": ["atlassian"],
                             "sweep": None}}
    report = offboard.offboard_report(leavers, results, [directory], "absent", False,
                                      "2026-01-01T00:00:00Z", "2026-01-01T00:00:03Z", "20260101T000000.000Z")
    plan = [{"provider": "atlassian", "directory": "localhost", "leaver": "mei.chen@example.com", "user_id": "5b10",
             "user_name": "mei.chen@example.com", "actions": ["revoked: API token ci (t-1) in account 5b10"]},
            {"provider": "atlassian", "directory": "localhost", "leaver": "mei.chen@example.com", "user_id": "a-mei",
             "user_name": "mei.chen@example.com", "actions": ["deleted"]}]
    assert report["plan"] == plan and report["plan_digest"] == digest(plan)
    assert offboard.offboard_markdown(report) == """# Offboarding report 20260101T000000.000Z

**Plan digest: %s**

It covers the 2 change(s) this run made, listed under Plan.

| | |
|---|---|
| Run | offboarding |
| Requested state | absent (accounts deleted) |
| Started (UTC) | 2026-01-01T00:00:00Z |
| Finished (UTC) | 2026-01-01T00:00:03Z |
| Providers | Atlassian Cloud |
| Leavers | 2 |
| Result | every leaver was handled at every provider |
| Leftover access | 1 item(s) removed, 3 manual follow-up item(s), listed under Details |

## Summary

- removed: 1
- already absent: 1

## Leavers

| Leaver | Atlassian Cloud |
|---|---|
| Mei \\| Chen (mei.chen@example.com) | removed |
| gone@example.com | already absent |

## Details

### Mei \\| Chen (mei.chen@example.com)

- **Atlassian Cloud**: removed at 2026-01-01T00:00:02Z
  - user id: a-mei, user name: mei.chen@example.com
  - done: deleted
  - leftover access removed:
    - revoked: API token ci (t-1) in account 5b10
  - manual follow-up:
    - sessions: %s

### gone@example.com

- **Atlassian Cloud**: already absent at 2026-01-01T00:00:02Z
  - looked up by name: gone@example.com
  - manual follow-up:
    - Atlassian account: no account with the email gone@example.com is in the organization, so none was swept; \
if the leaver's account uses another email, give atlassian\\_account\\_id
    - sessions: %s

## Plan

| Provider | Directory | Leaver | User id | User name | Actions |
|---|---|---|---|---|---|
| atlassian | localhost | mei.chen@example.com | 5b10 | mei.chen@example.com | revoked: API token ci (t-1) in account 5b10 |
| atlassian | localhost | mei.chen@example.com | a-mei | mei.chen@example.com | deleted |
""" % (report["plan_digest"], SESSIONS, SESSIONS)


def deleted_by_name(provider, email="a@example.com", user_id="s-1"):
    """(leavers, outcomes): one leaver, given by email, deleted at `provider` by this run."""
    leavers = [{"email": email}]
    targets = offboard.offboard_targets(leavers, provider)
    by_name = {"users": [{"user_id": user_id, "user_name": email, "found": True, "changed": True,
                          "state": "absent", "actions": ["deleted"], "msg": "deleted"}]}
    return leavers, offboard.offboard_outcomes(targets, None, by_name, "absent", False, "f")


def localhost_report(leavers, provider, outcomes, sweeps, sweep=None, state="absent", finished="f", directory_id=None):
    """The report of a run whose one directory, of `provider`, is on localhost, with the run's sweeps."""
    directory = {"key": provider, "host": "localhost", "provider": provider,
                 "title": offboard.PROVIDER_TITLES[provider], "directory_id": directory_id, "status": "run",
                 "problems": []}
    results = {"localhost": {"outcomes": {provider: outcomes}, "error": None, "sweeps": sweeps, "sweep": sweep}}
    return offboard.offboard_report(leavers, results, [directory], state, False, "s", finished, "r")


def test_every_row_says_what_remains_and_why_a_sweep_did_not_run():
    leavers = [{"email": "a@example.com", "alibaba_user_id": "u-1"}, {"email": "b@example.com"}]
    targets = offboard.offboard_targets(leavers, "alibaba")
    by_id = {"users": [{"user_id": "u-1", "user_name": "a", "found": True, "changed": True, "state": "absent",
                        "actions": ["deleted"], "msg": "deleted"}]}
    by_name = {"users": [{"user_id": None, "user_name": "b@example.com", "found": False, "changed": False,
                          "state": "absent", "actions": [], "msg": "already absent"}]}
    outcomes = offboard.offboard_outcomes(targets, by_id, by_name, "absent", False, "2026-01-01T00:00:02Z")
    sweep_targets = offboard_sweep.offboard_sweep_targets(outcomes, leavers, "alibaba", "absent")
    # Only the user whose id is known can be swept: the other one's provisionings name an id nobody knows.
    assert sweep_targets["user_ids"] == ["u-1"] and "alibaba_user_id" in sweep_targets["skipped"][1]["why"]
    provisioning = {"kind": "RAM user provisioning", "id": "up-1", "name": None, "where": "account 1234",
                    "done": "deleted with its RAM users"}
    swept = {"users": [{"user_id": "u-1", "found": False, "changed": True, "leftover": [provisioning],
                        "manual_follow_up": []}]}
    outcomes = offboard_sweep.offboard_swept(outcomes, sweep_targets, swept, None, False)
    report = localhost_report(leavers, "alibaba", outcomes, ["alibaba"], finished="2026-01-01T00:00:03Z",
                              directory_id="d-1")
    first, second = (row["results"]["alibaba"] for row in report["leavers"])
    assert first["leftover"] == [provisioning]
    sessions = [item for item in first["manual_follow_up"] if item["kind"] == "sessions"]
    assert sessions[0]["until"] == "2026-01-02T00:00:03Z"
    assert [item["kind"] for item in second["manual_follow_up"]] == [
        "sessions", "RAM access outside CloudSSO", "sweep not run"]
    assert "until" not in second["manual_follow_up"][0]
    assert not report["failed"]


def test_a_failed_sweep_fails_the_leaver_and_names_what_is_left():
    leavers, outcomes = deleted_by_name("atlassian")
    sweep_targets = offboard_sweep.offboard_sweep_targets(outcomes, leavers, "atlassian", "absent")
    failed = {"users": [{"user_id": "5b10", "failed": True, "changed": False, "leftover": [],
                         "msg": "403 forbidden.action", "error": {"status": 403, "message": "scoped key"}}]}
    outcomes = offboard_sweep.offboard_swept(outcomes, sweep_targets, None, failed, False)
    report = localhost_report(leavers, "atlassian", outcomes, ["atlassian"])
    assert report["failed"] and report["summary"] == {"failed": 1}
    [failure] = report["failures"]
    assert failure["msg"].startswith("removed, but the sweep of leftover access failed: scoped key")
    assert failure["error"]["status"] == 403


def test_a_sweep_that_is_off_or_not_configured_says_so_in_every_row():
    leavers, outcomes = deleted_by_name("uipath", user_id="g-1")
    for sweeps, sweep, expected in (([], None, "offboard_uipath_tenants is not set"),
                                    ([], False, "offboard_sweep is false")):
        report = localhost_report(leavers, "uipath", outcomes, sweeps, sweep=sweep, directory_id="org")
        items = report["leavers"][0]["results"]["uipath"]["manual_follow_up"]
        assert [item["kind"] for item in items] == ["license", "sweep not run"]
        assert expected in items[-1]["detail"]


# --- many directories: one inventory host each ----------------------------------------------------------

def host_preflight(host, provider, settings, environment=None, leavers=None, requested=None):
    full = dict(NONE)
    full[provider if provider in ALL else "atlassian"] = settings
    return offboard.offboard_preflight(LEAVERS if leavers is None else leavers, full, environment or {}, requested,
                                       host, provider)


def test_a_directory_host_names_its_directory_as_the_module_would_address_it():
    (north,) = host_preflight("north", "atlassian", ATLASSIAN)["directories"]
    assert (north["key"], north["host"], north["provider"], north["directory_id"], north["problems"]) == (
        "north", "north", "atlassian", "d-unit", [])
    # The environment fills in what the host variable does not give; the host variable wins.
    (acme,) = host_preflight("acme", "uipath", {"client_id": "app", "client_secret": "uipath-unit-secret-2"},
                             {"UIPATH_ORGANIZATION": "acme", "UIPATH_URL": "https://cloud.example"})["directories"]
    assert acme["directory_id"] == "acme" and acme["identity"] == "uipath|https://cloud.example/acme/identity_"
    (suite,) = host_preflight("suite", "uipath", dict(UIPATH, identity_url="https://host/identity/"))["directories"]
    assert suite["directory_id"] == "https://host/identity/"
    (ali,) = host_preflight("ali", "alibaba", ALIBABA, {"ALICLOUD_REGION": "cn-hangzhou"})["directories"]
    assert ali["identity"] == "alibaba|region cn-hangzhou|d-ali"


def test_a_directory_hosts_own_problems_fail_only_that_directory():
    result = host_preflight("eu", "okta", {})
    assert result["problems"] == [] and result["providers"] == []
    assert "offboard_provider 'okta', which is not one of atlassian, uipath, alibaba" in \
        result["directories"][0]["problems"][0]
    half = host_preflight("ali", "alibaba", {"directory_id": "d-ali"})
    assert half["problems"] == [] and half["providers"] == []
    text = half["directories"][0]["problems"][0]
    assert text.startswith("directory ali: alibaba is only partly configured") and "ALICLOUD_SECRET_KEY" in text
    empty = host_preflight("north", "atlassian", {})
    assert empty["directories"][0]["problems"][0].startswith(
        "directory north has offboard_provider atlassian, but it is not configured")
    for secret in SECRETS:
        assert secret not in json.dumps([result, half, empty])


def test_a_leaver_problem_stays_the_runs_and_a_left_out_directory_sends_nothing():
    result = host_preflight("north", "atlassian", ATLASSIAN, leavers=[{"name": "Omar", "email": ""}])
    assert len(result["problems"]) == 1 and "offboard_users[0] (name 'Omar')" in result["problems"][0]
    assert result["directories"][0]["problems"] == []
    left = host_preflight("north", "atlassian", ATLASSIAN, requested=["uipath"])
    assert left["directories"][0]["status"] == "left out" and left["providers"] == []


def test_the_directories_of_a_run_are_checked_together():
    preflights = {
        "north": host_preflight("north", "atlassian", ATLASSIAN),
        "north-again": host_preflight("north-again", "atlassian", dict(ATLASSIAN, directory_id="D-UNIT")),
        "north-elsewhere": host_preflight("north-elsewhere", "atlassian", dict(ATLASSIAN, base_url="https://other/scim")),
        "acme": host_preflight("acme", "uipath", UIPATH, leavers=[{"name": "Omar", "email": ""}]),
        "acme-2": host_preflight("acme-2", "uipath", dict(UIPATH, organization="acme2"),
                                 leavers=[{"name": "Omar", "email": ""}]),
        "plain": offboard.offboard_preflight(LEAVERS, ALL, {}, None, "plain", None),
        "stopped": None,
    }
    run = offboard.offboard_directories(preflights)
    assert run["inventory"] is True
    assert len(run["problems"]) == 1  # the same leaver problem of two uipath directories, once
    problems = dict((directory["host"], directory["problems"]) for directory in run["directories"])
    assert list(problems) == ["north", "north-again", "north-elsewhere", "acme", "acme-2", "plain", "stopped"]
    assert "same Atlassian Cloud directory (d-unit) as host north-again" in problems["north"][0]
    assert "as host north" in problems["north-again"][0]
    assert problems["north-elsewhere"] == [] and problems["acme"] == [] and problems["acme-2"] == []
    assert "has no offboard_provider, but other hosts of the play are directories" in problems["plain"][0]
    assert "stopped before its checks" in problems["stopped"][0]


def test_one_directory_spelt_two_ways_is_one_directory():
    # Where the module sends its requests decides, however the settings spell it (issue 18, finding 10).
    same = [
        ("atlassian", ATLASSIAN, dict(ATLASSIAN, base_url="https://API.Atlassian.com:443/scim/")),
        ("atlassian", dict(ATLASSIAN, base_url="http://sim.example/scim"),
         dict(ATLASSIAN, base_url="HTTP://Sim.Example:80/scim//")),
        ("uipath", dict(UIPATH, organization="acme", base_url="https://cloud.example"),
         dict(UIPATH, organization=None, identity_url="https://Cloud.Example:443/acme/identity_/")),
        ("uipath", dict(UIPATH, organization="acme corp"), dict(UIPATH, organization=None,
                                                                identity_url="https://cloud.uipath.com/acme%20corp/identity_")),
        ("alibaba", dict(ALIBABA, region="eu-central-1"),
         dict(ALIBABA, endpoint="https://CloudSSO.eu-central-1.aliyuncs.com:443/")),
        ("alibaba", dict(ALIBABA, region="cn-hangzhou"), dict(ALIBABA, endpoint="https://cloudsso-vpc.cn-hangzhou.aliyuncs.com")),
        ("alibaba", ALIBABA, dict(ALIBABA, endpoint="https://cloudsso.cn-shanghai.aliyuncs.com")),
    ]
    for provider, one, other in same:
        run = offboard.offboard_directories({"one": host_preflight("one", provider, one),
                                             "other": host_preflight("other", provider, other)})
        problems = dict((directory["host"], directory["problems"]) for directory in run["directories"])
        assert "as host other: each reaches" in problems["one"][-1], (provider, one, other, problems)
        assert "as host one: each reaches" in problems["other"][-1]
    different = [
        ("atlassian", ATLASSIAN, dict(ATLASSIAN, base_url="https://api.atlassian.com:8443/scim")),
        ("uipath", dict(UIPATH, organization="acme"), dict(UIPATH, organization="globex")),
        ("uipath", dict(UIPATH, organization="acme"), dict(UIPATH, organization=None,
                                                           identity_url="https://cloud.uipath.com/identity_")),
        ("alibaba", dict(ALIBABA, region="eu-central-1"), dict(ALIBABA, region="cn-hangzhou")),
        ("alibaba", dict(ALIBABA, region="eu-central-1"), dict(ALIBABA, endpoint="http://127.0.0.1:8080")),
    ]
    for provider, one, other in different:
        run = offboard.offboard_directories({"one": host_preflight("one", provider, one),
                                             "other": host_preflight("other", provider, other)})
        assert [directory["problems"] for directory in run["directories"]] == [[], []], (provider, one, other)


def test_a_key_no_module_takes_is_refused_naming_it_and_the_valid_ones():
    # Issue 18, finding 13: the valid keys are the modules' own options.
    settings = dict(ALL, atlassian_admin={"directroy_id": "od-1", "org_id": "org"}, uipath=dict(UIPATH, state="absent"))
    problems = offboard.offboard_preflight(LEAVERS, settings, {}, None, "localhost")["problems"]
    admin = [problem for problem in problems if problem.startswith("offboard_atlassian_admin has the key directroy_id")]
    assert admin and "(did you mean directory_id?)" in admin[0] and "admin_api_key, base_url" in admin[0]
    assert [problem for problem in problems if problem.startswith("offboard_uipath has the key state, which")]
    assert offboard.settings_keys("alibaba") == sorted(
        set(offboard.AlibabaCloudSsoDirectory.connection_options()) | set(offboard.common_options()))
    directory = host_preflight("north", "atlassian", dict(ATLASSIAN, parallelsim=4))
    assert directory["problems"] == []
    assert directory["directories"][0]["problems"][0].startswith("directory north: offboard_atlassian has the key "
                                                                 "parallelsim, which")
    for secret in SECRETS:
        assert secret not in json.dumps(problems)


def test_the_leavers_are_taken_as_text():
    taken = offboard.leavers_as_text([{"name": "{{ lookup('env', 'KEY') }}", "email": "a@example.com",
                                       "uipath_user_id": 42, "alibaba_user_name": None}])
    assert taken == [{"name": "{{ lookup('env', 'KEY') }}", "email": "a@example.com", "uipath_user_id": "42",
                      "alibaba_user_name": None}]
    assert all(type(value) is str for value in taken[0].values() if value is not None)  # pylint: disable=unidiomatic-typecheck
    for bad, message in (({"emial": "a@example.com"}, "offboard_users[0] has the key 'emial', which is not a leaver"),
                         ({"email": ["a"]}, "offboard_users[0].email must be text, got a list"),
                         ("a@example.com", "offboard_users[0] is not a dict")):
        with pytest.raises(AnsibleFilterError, match=re.escape(message)):
            offboard.leavers_as_text([bad])
    with pytest.raises(AnsibleFilterError, match="must be a list of leavers"):
        offboard.leavers_as_text("a@example.com")


def test_a_single_host_run_is_one_directory_per_provider():
    run = offboard.offboard_directories({"localhost": offboard.offboard_preflight(LEAVERS, ALL, {}, None, "localhost")})
    assert run["inventory"] is False and run["problems"] == []
    assert [(directory["key"], directory["host"], directory["directory_id"]) for directory in run["directories"]] == [
        ("atlassian", "localhost", "d-unit"), ("uipath", "localhost", "acme"), ("alibaba", "localhost", "d-ali")]


def directory_report(results, leavers=None, extra=None):
    preflights = {"north": host_preflight("north", "atlassian", ATLASSIAN),
                  "acme": host_preflight("acme", "uipath", UIPATH)}
    preflights.update(extra or {})
    run = offboard.offboard_directories(preflights)
    return offboard.offboard_report(LEAVERS if leavers is None else leavers, results, run["directories"], "absent",
                                    False, "s", "f", "run-1")


def removed_at(provider):
    targets = offboard.offboard_targets(LEAVERS, provider)
    by_name = {"changed": True, "users": [{"user_id": "x-1", "user_name": "dana.lee@example.com", "found": True,
                                           "changed": True, "state": "absent", "actions": ["deleted"], "msg": "deleted"}]}
    return offboard.offboard_outcomes(targets, {"skipped": True}, by_name, "absent", False, "t")


def test_every_row_names_its_directory_and_a_stopped_host_fails_its_directory():
    report = directory_report({"north": {"outcomes": {"atlassian": removed_at("atlassian")}, "error": None},
                               "acme": None})
    assert report["inventory"] is True and report["failed"] is True
    (row,) = report["leavers"]
    assert (row["results"]["north"]["outcome"], row["results"]["north"]["directory"],
            row["results"]["north"]["directory_id"]) == ("removed", "north", "d-unit")
    acme = row["results"]["acme"]
    assert acme["outcome"] == "failed" and "host acme stopped before" in acme["msg"]
    assert [(failure["leaver"], failure["directory"], failure["directory_id"]) for failure in report["failures"]] == [
        ("dana.lee@example.com", "acme", "acme")]
    assert [directory["status"] for directory in report["directories"]] == ["run", "failed"]
    assert report["result"] == "FAILED: 1 leaver/directory pair(s) need attention"


def test_a_host_whose_tasks_stopped_fails_the_directories_it_did_not_record():
    report = directory_report({"north": {"outcomes": {"atlassian": removed_at("atlassian")}, "error": None},
                               "acme": {"outcomes": {}, "error": "Offboard at UiPath: boom"}})
    acme = report["leavers"][0]["results"]["acme"]
    assert acme["outcome"] == "failed" and "the directory's tasks stopped (Offboard at UiPath: boom)" in acme["msg"]
    assert "what was done there is unknown" in acme["msg"]


def test_a_failed_directory_is_named_even_without_leavers():
    report = directory_report({"north": {"outcomes": {"atlassian": []}, "error": None}}, leavers=[],
                              extra={"acme": host_preflight("acme", "uipath", {"organization": "acme"})})
    assert report["failed"] is True and report["leavers"] == []
    (failure,) = report["failures"]
    assert failure["leaver"] is None and failure["directory"] == "acme"
    assert "uipath is only partly configured" in failure["msg"]
    assert report["result"] == "FAILED: 1 directory(ies) (acme) need attention"
    markdown = offboard.offboard_markdown(report)
    assert "| (every leaver) | uipath | acme |" in markdown


def test_the_markdown_report_names_every_directory():
    report = directory_report({"north": {"outcomes": {"atlassian": removed_at("atlassian")}, "error": None},
                               "acme": {"outcomes": {"uipath": removed_at("uipath")}, "error": None}},
                              extra={"left": host_preflight("left", "alibaba", ALIBABA, requested=["atlassian"])})
    markdown = offboard.offboard_markdown(report)
    assert "| Directories | 2 |" in markdown
    assert "| north | Atlassian Cloud | d-unit | run |" in markdown
    assert "| left | Alibaba Cloud CloudSSO | d-ali | left out |" in markdown
    assert "| Leaver | north (Atlassian Cloud) | acme (UiPath) |" in markdown
    assert "- **north (Atlassian Cloud), directory id d-unit**: removed at t" in markdown
    assert report["result"] == "every leaver was handled at every directory"


def test_the_example_inventory_is_a_set_of_distinct_configured_directories():
    with open(os.path.join(ROOT, "examples", "directories.yml"), encoding="utf-8") as handle:
        hosts = yaml.safe_load(handle)["offboard_directories"]["hosts"]
    preflights = dict((host, offboard.offboard_preflight(
        LEAVERS, {"atlassian": spec.get("offboard_atlassian", {}), "uipath": spec.get("offboard_uipath", {}),
                  "alibaba": spec.get("offboard_alibaba", {})}, {}, None, host, spec["offboard_provider"]))
        for host, spec in hosts.items())
    run = offboard.offboard_directories(preflights)
    assert run["problems"] == [] and run["inventory"] is True
    assert [directory["problems"] for directory in run["directories"]] == [[]] * len(hosts)
    assert sorted(directory["provider"] for directory in run["directories"]) == [
        "alibaba", "atlassian", "atlassian", "uipath", "uipath"]


def test_an_empty_environment_variable_leaves_the_directory_at_the_modules_default():
    # Two directory hosts, one with the region left empty (as AWX injects it) and one naming the default
    # region: the module addresses the same directory for both, so the run must see them as one.
    environment = {"ALIBABA_CLOUD_REGION_ID": ""}
    empty_region = offboard._directory("alibaba", {"alibaba": {"directory_id": "d-ali"}}, environment, "a", "a")
    default_region = offboard._directory("alibaba", {"alibaba": {"directory_id": "d-ali", "region": "cn-shanghai"}},
                                         {}, "b", "b")
    assert empty_region["identity"] == default_region["identity"]


# --- the sweep's settings ---------------------------------------------------------------------------------

def sweep_preflight(sweep, extra=None, environment=None):
    settings = dict(ALL, **(extra or {}))
    return offboard.offboard_preflight(LEAVERS, settings, environment or {}, None, None, None, sweep)


def test_the_sweep_runs_where_its_settings_are_present_unless_it_is_off():
    admin = {"atlassian_admin": {"org_id": "o-1", "admin_api_key": "admin-unit-secret"}, "uipath_tenants": ["T1"]}
    assert sweep_preflight(None)["sweeps"] == ["alibaba"]
    assert sweep_preflight(None, admin)["sweeps"] == ["atlassian", "uipath", "alibaba"]
    assert sweep_preflight(None, environment={"ATLASSIAN_ORG_ID": "o", "ATLASSIAN_ADMIN_API_KEY": "k"})["sweeps"] == [
        "atlassian", "alibaba"]
    off = sweep_preflight(False, admin)
    assert off["sweeps"] == [] and off["problems"] == []


def test_a_sweep_asked_for_or_half_configured_stops_the_run_naming_what_is_missing():
    required = sweep_preflight(True)
    text = "\n".join(required["problems"])
    assert "ATLASSIAN_ADMIN_API_KEY" in text and "offboard_uipath_tenants" in text
    half = sweep_preflight(None, {"atlassian_admin": {"org_id": "o-1"}})
    [problem] = half["problems"]
    assert "the Atlassian sweep (the organization admin API) is only partly configured" in problem
    assert "offboard_atlassian_admin.admin_api_key (ATLASSIAN_ADMIN_API_KEY)" in problem
    # Half configured is a mistake even with the sweep off.
    assert sweep_preflight(False, {"atlassian_admin": {"admin_api_key": "admin-unit-secret"}})["problems"]
    with pytest.raises(AnsibleFilterError, match="offboard_uipath_tenants"):
        sweep_preflight(None, {"uipath_tenants": "T1"})
    with pytest.raises(AnsibleFilterError, match="offboard_sweep"):
        sweep_preflight("yes")


def test_with_force_the_alibaba_delete_is_the_sweep_and_no_follow_up_says_otherwise():
    leavers = [{"email": "a@example.com", "alibaba_user_id": "u-1"}]
    targets = offboard.offboard_targets(leavers, "alibaba")
    provisioning = {"kind": "RAM user provisioning", "id": "up-1", "name": None, "where": "account 1234",
                    "done": "deleted with its RAM users"}
    by_id = {"users": [{"user_id": "u-1", "user_name": "a", "found": True, "changed": True, "state": "absent",
                        "actions": ["deleted"], "msg": "deleted", "leftover": [provisioning]}]}
    outcomes = offboard.offboard_outcomes(targets, by_id, None, "absent", False, "2026-01-01T00:00:02Z")
    sweep_targets = offboard_sweep.offboard_sweep_targets(outcomes, leavers, "alibaba", "absent", force=True)
    assert sweep_targets["user_ids"] == [] and sweep_targets["skipped"][0]["status"] == "swept by the delete"
    outcomes = offboard_sweep.offboard_swept(outcomes, sweep_targets, None, None, False)
    report = localhost_report(leavers, "alibaba", outcomes, ["alibaba"], finished="2026-01-01T00:00:03Z",
                              directory_id="d-1")
    result = report["leavers"][0]["results"]["alibaba"]
    assert result["leftover"] == [provisioning]
    assert [item["kind"] for item in result["manual_follow_up"]] == ["sessions", "RAM access outside CloudSSO"]


def test_uipath_says_nothing_left_only_when_every_tenant_was_searched():
    leavers = [{"email": "a@example.com"}, {"email": "b@example.com", "uipath_user_id": "g-2"}]
    targets = offboard.offboard_targets(leavers, "uipath")
    not_searched = {"kind": "Orchestrator users", "where": "tenants T1", "detail": "not looked for"}
    by_name = {"users": [{"user_id": None, "user_name": "a@example.com", "found": False, "changed": False,
                          "state": "absent", "actions": [], "msg": "already absent"}]}
    by_id = {"users": [{"user_id": "g-2", "found": False, "changed": False, "state": "absent", "actions": [],
                        "msg": "already absent", "manual_follow_up": [not_searched]}]}
    outcomes = offboard.offboard_outcomes(targets, by_id, by_name, "absent", False, "f")
    report = localhost_report(leavers, "uipath", outcomes, ["uipath"], directory_id="org")
    searched, by_id_only = (row["results"]["uipath"] for row in report["leavers"])
    assert searched["sweep"] == {"status": "nothing left"}
    assert "sweep" not in by_id_only and by_id_only["manual_follow_up"][0] == not_searched
    disabled = localhost_report(leavers, "uipath", outcomes, ["uipath"], state="disabled", directory_id="org")
    assert "sweep" not in disabled["leavers"][0]["results"]["uipath"]


def test_uipath_never_says_nothing_left_beside_a_workspace_it_left():
    # The leaver's Orchestrator user was gone already (not removed by this run), its personal workspace is there and
    # kept: the sweep found something, and names it for a person.
    leavers = [{"email": "a@example.com"}]
    targets = offboard.offboard_targets(leavers, "uipath")
    kept = {"kind": "personal workspace", "where": "tenant T1", "detail": '"a\'s workspace" (7), ... was left as it is'}
    by_name = {"users": [{"user_id": "g-1", "user_name": "a@example.com", "found": True, "changed": True,
                          "state": "absent", "actions": ["deleted"], "msg": "deleted", "manual_follow_up": [kept]}]}
    outcomes = offboard.offboard_outcomes(targets, None, by_name, "absent", False, "f")
    report = localhost_report(leavers, "uipath", outcomes, ["uipath"], directory_id="org")
    result = report["leavers"][0]["results"]["uipath"]
    assert "sweep" not in result and kept in result["manual_follow_up"]


def test_an_atlassian_account_not_found_by_email_is_not_claimed_swept():
    leavers, outcomes = deleted_by_name("atlassian")
    sweep_targets = offboard_sweep.offboard_sweep_targets(outcomes, leavers, "atlassian", "absent")
    missing = {"users": [{"user_id": None, "user_name": "a@example.com", "found": False, "changed": False,
                          "state": "absent", "leftover": [], "manual_follow_up": []}]}
    [outcome] = offboard_sweep.offboard_swept(outcomes, sweep_targets, None, missing, False)
    assert outcome["sweep"]["status"] == "not found"
    assert "give atlassian_account_id" in outcome["sweep"]["manual_follow_up"][0]["detail"]
