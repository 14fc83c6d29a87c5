# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role's filters: the checks before any request, the outcome per leaver, the report and
its Markdown rendering. The Markdown is parsed with markdown-it-py (CommonMark with GFM tables) to prove
that no value from input or from a provider adds structure."""

from __future__ import annotations

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from markdown_it import MarkdownIt

from ansible_collections.identity.lifecycle.plugins.filter import offboard

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

ATLASSIAN = {"directory_id": "d-unit", "api_key": "ATSCIM-unit-secret-1"}
UIPATH = {"organization": "acme", "client_id": "app-unit", "client_secret": "uipath-unit-secret-2"}
ALIBABA = {"directory_id": "d-ali", "access_key_id": "LTAI-unit", "access_key_secret": "alibaba-unit-secret-3"}
SECRETS = ("ATSCIM-unit-secret-1", "uipath-unit-secret-2", "alibaba-unit-secret-3", "uipath-token-secret-4")
ALL = {"atlassian": ATLASSIAN, "uipath": UIPATH, "alibaba": ALIBABA}
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
    # The first variable that is set wins, even when it is empty: the module would get "".
    environment = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALICLOUD_ACCESS_KEY": "LTAI-unit",
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "alibaba-unit-secret-3",
                   "ALIBABA_CLOUD_CLOUDSSO_DIRECTORY_ID": "d-ali"}
    text = problems_text(preflight(environment=environment))
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID is set but empty" in text
    environment["ALIBABA_CLOUD_ACCESS_KEY_ID"] = None  # not set at all
    assert essentials(preflight(environment=environment)) == {"providers": ["alibaba"], "problems": []}


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
    assert [token.tag for token in tokens if token.type == "heading_open"] == ["h1", "h2", "h2", "h2", "h3", "h3", "h2"]
    # Nothing but text, emphasis of our own labels, tables and lists.
    kinds = set(token.type for token in walk(tokens))
    for kind in ("html_inline", "html_block", "link_open", "image", "code_inline", "code_block", "fence", "s_open",
                 "em_open", "hardbreak", "softbreak", "blockquote_open", "hr"):
        assert kind not in kinds, kind
    assert [token.type for token in walk(tokens)].count("strong_open") == 2  # "- **UiPath**:" per leaver
    # Every table row has exactly its columns.
    rows = [token for token in tokens if token.type == "tr_open"]
    cells = []
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            cells.append(0)
        elif token.type in ("td_open", "th_open"):
            cells[-1] += 1
    assert cells == [2] * 8 + [2] * 3 + [6] * 2, cells
    assert len(rows) == 13
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
    report = offboard.offboard_report(leavers, {"atlassian": outcomes}, ["atlassian"], "absent", False,
                                      "2026-01-01T00:00:00Z", "2026-01-01T00:00:03Z", "20260101T000000.000Z")
    assert offboard.offboard_markdown(report) == """# Offboarding report 20260101T000000.000Z

| | |
|---|---|
| Run | offboarding |
| Requested state | absent (accounts deleted) |
| Started (UTC) | 2026-01-01T00:00:00Z |
| Finished (UTC) | 2026-01-01T00:00:03Z |
| Providers | Atlassian Cloud |
| Leavers | 2 |
| Result | every leaver was handled at every provider |

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

### gone@example.com

- **Atlassian Cloud**: already absent at 2026-01-01T00:00:02Z
  - looked up by name: gone@example.com
"""
