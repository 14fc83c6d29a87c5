# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""atlassian_scim_user and atlassian_scim_user_info, run by ansible-playbook against the simulator."""

from __future__ import annotations

import pytest

from simulators.atlassian import AtlassianScimSimulator

from .tls import make_certificates

DIRECTORY = "d-7f3a9c"
KEY = "ATSCIM-9f8e7d6c5b4a3210-secret"
MODULE = "identity.lifecycle.atlassian_scim_user"
INFO = "identity.lifecycle.atlassian_scim_user_info"


def person(user_id, name, active=True):
    return {"id": user_id, "userName": name, "displayName": name.split("@")[0].title(), "active": active,
            "emails": [{"value": name, "type": "work", "primary": True}]}


def seed(extra_users=(), **patch_settings):
    users = [person("u-alice", "alice@example.com"), person("u-bob", "bob@example.com"),
             person("u-carol", "carol@example.com", active=False),
             person("u-quote", 'x" or userName pr "'), person("u-x", "x@example.com")]
    users.extend(extra_users)
    return AtlassianScimSimulator({
        DIRECTORY: {"api_key": KEY, "users": users,
                    "groups": [{"id": "g-eng", "displayName": "engineering",
                                "members": [{"value": "u-alice"}, {"value": "u-bob"}]}]},
        "d-other": {"api_key": "ATSCIM-other-directory-key", "users": [person("u-elsewhere", "alice@example.com")]},
    }, **patch_settings)


@pytest.fixture
def scim(serve):
    simulator = seed()
    server = serve(simulator)
    return simulator, server


def defaults(server, **extra):
    options = {"base_url": server.url + "/scim", "directory_id": DIRECTORY, "api_key": KEY}
    options.update(extra)
    return {"group/identity.lifecycle.atlassian": options}


def user_names(simulator, directory=DIRECTORY):
    return sorted(user["userName"] for user in simulator.users(directory))


def changing_requests(simulator):
    return [entry for entry in simulator.requests() if entry["method"] not in ("GET", "HEAD")]


def test_delete_by_id_and_by_name_then_again_unchanged(ansible, scim):
    simulator, server = scim
    tasks = [
        {"name": "by id", MODULE: {"user_id": "u-alice", "state": "absent"}, "register": "by_id"},
        {"name": "by name", MODULE: {"user_name": ["bob@example.com", "nobody@example.com"], "state": "absent"}},
        {"name": "again", MODULE: {"user_id": ["u-alice"], "state": "absent"}},
        {"name": "names again", MODULE: {"user_name": ["bob@example.com"], "state": "absent"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output

    by_id = result.task("by id")
    assert by_id["changed"] is True
    assert by_id["users"] == [{"user_id": "u-alice", "user_name": "alice@example.com", "found": True,
                               "changed": True, "state": "absent", "actions": ["deleted"], "msg": "deleted",
                               # A SCIM delete removes nothing beyond the directory user, and the module names nothing.
                               "leftover": [], "manual_follow_up": []}]
    assert by_id["user"]["userName"] == "alice@example.com"  # the object before the task

    by_name = result.task("by name")
    assert [(user["user_name"], user["changed"], user["found"], user["state"]) for user in by_name["users"]] == [
        ("bob@example.com", True, True, "absent"), ("nobody@example.com", False, False, "absent")]
    assert by_name["users"][1]["msg"] == "already absent"
    assert "user" not in by_name  # only for a single requested user

    for name in ("again", "names again"):
        again = result.task(name)
        assert again["changed"] is False
        assert again["users"][0]["msg"] == "already absent"
        assert again["users"][0]["found"] is False
    assert result.task("again")["user"] is None

    assert "alice@example.com" not in user_names(simulator)
    assert "bob@example.com" not in user_names(simulator)
    assert "carol@example.com" in user_names(simulator)
    # DELETE also dropped the group memberships; the other directory is untouched.
    assert simulator.groups(DIRECTORY)[0]["members"] == []
    assert user_names(simulator, "d-other") == ["alice@example.com"]
    assert [entry["path"] for entry in changing_requests(simulator)] == [
        "/scim/directory/%s/Users/u-alice" % DIRECTORY, "/scim/directory/%s/Users/u-bob" % DIRECTORY]


def test_disable_and_enable_only_when_different(ansible, scim):
    simulator, server = scim
    tasks = [
        {"name": "disable", MODULE: {"user_name": ["alice@example.com", "carol@example.com", "ghost@example.com"],
                                     "state": "disabled"}},
        {"name": "enable", MODULE: {"user_id": ["u-carol", "u-bob"], "state": "enabled"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    disable = result.task("disable")
    assert [(user["changed"], user["state"], user["msg"]) for user in disable["users"]] == [
        (True, "disabled", "disabled"), (False, "disabled", "already disabled"), (False, "absent", "already absent")]
    enable = result.task("enable")
    assert [(user["changed"], user["state"]) for user in enable["users"]] == [(True, "enabled"), (False, "enabled")]

    active = {user["userName"]: user["active"] for user in simulator.users(DIRECTORY)}
    assert active["alice@example.com"] is False
    assert active["carol@example.com"] is True
    patches = [entry["path"] for entry in changing_requests(simulator)]
    assert patches == ["/scim/directory/%s/Users/u-alice" % DIRECTORY, "/scim/directory/%s/Users/u-carol" % DIRECTORY]


def test_enable_of_a_missing_user_fails_for_that_user_only(ansible, scim):
    simulator, server = scim
    result = ansible.tasks([{"name": "enable", MODULE: {"user_id": ["u-gone", "u-carol"], "state": "enabled"}}],
                           module_defaults=defaults(server))
    assert result.returncode != 0
    task = result.task("enable")
    assert task["failed"] is True
    assert task["users"][0]["failed"] is True and "cannot be enabled" in task["users"][0]["msg"]
    assert task["users"][1]["changed"] is True
    assert "1 of 2 users failed (u-gone)" in task["msg"]
    assert {user["id"]: user["active"] for user in simulator.users(DIRECTORY)}["u-carol"] is True


def test_patch_falls_back_to_the_lowercase_operations_form(ansible, serve):
    simulator = seed(patch_dialect="spec")
    server = serve(simulator)
    result = ansible.tasks([{"name": "disable", MODULE: {"user_id": ["u-alice", "u-bob"], "state": "disabled"}}],
                           module_defaults=defaults(server, parallelism=1))
    assert result.returncode == 0, result.output
    assert all(not user["active"] for user in simulator.users(DIRECTORY) if user["id"] in ("u-alice", "u-bob"))
    statuses = [entry["status"] for entry in simulator.requests("PATCH")]
    # The first form is refused once; the second user goes straight to the form that worked.
    assert statuses == [400, 200, 200]


def test_patch_tries_the_other_form_when_a_success_leaves_active_unchanged(ansible, serve):
    # A server that applies only the lower-case form and answers 200 to the other without applying it.
    simulator = seed(patch_dialect="spec", patch_other="ignore")
    server = serve(simulator)
    result = ansible.tasks([{"name": "disable", MODULE: {"user_id": ["u-alice", "u-bob"], "state": "disabled"}},
                            {"name": "enable", MODULE: {"user_id": ["u-carol"], "state": "enabled"}}],
                           module_defaults=defaults(server, parallelism=1))
    assert result.returncode == 0, result.output
    assert [(user["changed"], user["msg"]) for user in result.task("disable")["users"]] == [(True, "disabled")] * 2
    assert result.task("enable")["users"][0]["msg"] == "enabled"
    active = {user["id"]: user["active"] for user in simulator.users(DIRECTORY)}
    assert (active["u-alice"], active["u-bob"], active["u-carol"]) == (False, False, True)
    # Per task: the first form is answered 200 but ignored once; then the form that worked goes first.
    assert [entry["status"] for entry in simulator.requests("PATCH")] == [200, 200, 200, 200, 200]
    assert len(simulator.requests("PATCH", path="u-alice")) == 2 and len(simulator.requests("PATCH", path="u-bob")) == 1


@pytest.mark.parametrize("patch_dialect", ["any", "spec"])
def test_patch_answered_204_is_confirmed_by_reading_the_user_again(ansible, serve, patch_dialect):
    simulator = seed(patch_dialect=patch_dialect, patch_other="ignore", patch_answer="empty")
    server = serve(simulator)
    result = ansible.tasks([{"name": "disable", MODULE: {"user_id": ["u-alice"], "state": "disabled"}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert result.task("disable")["users"][0]["msg"] == "disabled"
    assert {user["id"]: user["active"] for user in simulator.users(DIRECTORY)}["u-alice"] is False
    # Every PATCH answered without a body is followed by a read of the user.
    calls = [entry["method"] for entry in simulator.requests(path=r"/Users/u-alice$")]
    assert calls == ["GET"] + ["PATCH", "GET"] * (1 if patch_dialect == "any" else 2)


@pytest.mark.parametrize("answer", [
    {"status": 204},
    {"status": 200, "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-alice",
                             "active": True}},
    {"status": 200, "body": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-alice"}},
], ids=["204", "200-unchanged", "200-without-active"])
def test_patch_that_never_takes_effect_fails_loudly(ansible, scim, answer):
    simulator, server = scim
    simulator.add_fault(method="PATCH", path=r"/Users/u-alice$", times=None, **answer)
    result = ansible.tasks([{"name": "disable", MODULE: {"user_id": ["u-alice", "u-bob"], "state": "disabled"}}],
                           module_defaults=defaults(server))
    assert result.returncode != 0
    task = result.task("disable")
    alice, bob = task["users"]
    assert alice["failed"] is True and alice["changed"] is False and alice["state"] == "enabled"
    assert "was not disabled" in alice["msg"] and "active is still true" in alice["msg"]
    assert '"Operations"' in alice["msg"] and '"operations"' in alice["msg"]
    assert "deactivate the user in Atlassian Administration" in alice["msg"]
    assert "1 of 2 users failed (alice@example.com)" in task["msg"]
    assert bob["msg"] == "disabled"
    assert len(simulator.requests("PATCH", path=r"/Users/u-alice$")) == 2  # both forms, once each
    assert {user["id"]: user["active"] for user in simulator.users(DIRECTORY)}["u-alice"] is True


def test_check_mode_changes_nothing_and_reports_what_would_change(ansible, scim):
    simulator, server = scim
    tasks = [
        {"name": "delete", MODULE: {"user_name": ["alice@example.com", "nobody@example.com"], "state": "absent"}},
        {"name": "disable", MODULE: {"user_id": "u-bob", "state": "disabled"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server), check=True)
    assert result.returncode == 0, result.output
    delete = result.task("delete")
    assert delete["changed"] is True
    assert delete["users"][0]["actions"] == ["deleted"]
    assert delete["users"][0]["msg"] == "would be deleted"
    assert delete["users"][1]["changed"] is False
    assert result.task("disable")["users"][0]["actions"] == ["disabled"]
    assert changing_requests(simulator) == []
    assert "alice@example.com" in user_names(simulator)


def test_diff_shows_before_and_after_without_secrets(ansible, scim):
    simulator, server = scim
    result = ansible.tasks([{"name": "delete", MODULE: {"user_id": ["u-alice"], "state": "absent"}},
                            {"name": "disable", MODULE: {"user_id": ["u-bob"], "state": "disabled"}}],
                           module_defaults=defaults(server), diff=True, callback="default")
    assert result.returncode == 0, result.output
    assert "--- before: Atlassian SCIM user alice@example.com" in result.stdout
    assert '-    "state": "enabled",' in result.stdout
    assert '+    "state": "absent",' in result.stdout
    assert '+    "state": "disabled",' in result.stdout
    assert KEY not in result.output
    assert "u-alice" not in [user["id"] for user in simulator.users(DIRECTORY)]


def test_batch_of_200_users_in_one_task(ansible, serve):
    leavers = [person("u-%03d" % number, "leaver%03d@example.com" % number) for number in range(200)]
    simulator = seed(extra_users=leavers)
    server = serve(simulator)
    names = [user["userName"] for user in leavers]
    result = ansible.tasks([{"name": "batch", MODULE: {"user_name": names, "state": "absent", "rate_limit": 100}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    batch = result.task("batch")
    assert [user["user_name"] for user in batch["users"]] == names  # input order
    assert all(user["changed"] and user["state"] == "absent" for user in batch["users"])
    assert batch["msg"] == "deleted: 200"
    assert user_names(simulator) == sorted(["alice@example.com", "bob@example.com", "carol@example.com",
                                            'x" or userName pr "', "x@example.com"])
    assert simulator.max_in_flight <= 8
    # 1 preflight, 200 lookups and 200 deletes: no request was repeated.
    assert len(simulator.requests()) == 401


def test_rate_limit_and_parallelism_are_respected(ansible, serve):
    leavers = [person("u-r%02d" % number, "rate%02d@example.com" % number) for number in range(30)]
    simulator = seed(extra_users=leavers)
    server = serve(simulator)
    simulator.add_fault(action="delay", method="DELETE", path=r"/Users/u-r", delay=0.15, times=None)
    result = ansible.tasks([{"name": "batch", MODULE: {"user_id": [user["id"] for user in leavers],
                                                       "state": "absent", "parallelism": 4, "rate_limit": 10}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert simulator.max_in_flight == 4
    times = [entry["time"] for entry in simulator.requests()]
    # An explicit rate_limit of 10 per second, with a burst of `parallelism`: no second holds more.
    busiest = max(sum(1 for other in times if start <= other < start + 1.0) for start in times)
    assert busiest <= 10 + 4, busiest


def test_wrong_key_fails_clearly_and_never_shows_the_key(ansible, scim):
    simulator, server = scim
    wrong = "ATSCIM-wrong-key-0123456789"
    task = [{"name": "delete", MODULE: {"user_id": ["u-alice"], "state": "absent", "api_key": wrong}}]
    for verbosity in (0, 4):
        result = ansible.tasks(task, module_defaults=defaults(server), verbosity=verbosity, callback="default")
        assert result.returncode != 0
        assert "HTTP 401" in result.output
        assert "SCIM directory's own API key" in result.output
        assert wrong not in result.output
        assert KEY not in result.output
    assert changing_requests(simulator) == []
    # A successful run at -vvvv does not show the right key either.
    result = ansible.tasks([{"name": "ok", MODULE: {"user_id": ["u-bob"], "state": "absent"}}],
                           module_defaults=defaults(server), verbosity=4, callback="default")
    assert result.returncode == 0, result.output
    assert KEY not in result.output


def test_another_directorys_key_and_an_unknown_directory_fail_before_any_change(ansible, scim):
    simulator, server = scim
    tasks = [
        {"name": "other key", MODULE: {"user_id": "u-alice", "state": "absent", "api_key": "ATSCIM-other-directory-key"},
         "ignore_errors": True},
        {"name": "unknown directory", MODULE: {"user_id": "u-alice", "state": "absent", "directory_id": "d-nope"},
         "ignore_errors": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert "HTTP 403" in result.task("other key")["msg"]
    unknown = result.task("unknown directory")
    assert "directory 'd-nope' does not exist" in unknown["msg"]
    assert unknown["changed"] is False
    assert changing_requests(simulator) == []


def test_hostile_ids_and_names_address_only_themselves(ansible, scim):
    simulator, server = scim
    tasks = [
        {"name": "traversal", MODULE: {"user_id": ["../Groups/g-eng", "u-alice/../u-bob", "u-x?x=1"],
                                       "state": "absent"}},
        {"name": "quote", MODULE: {"user_name": ['x" or userName pr "'], "state": "absent"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert all(not user["found"] for user in result.task("traversal")["users"])
    quote = result.task("quote")
    assert quote["users"][0]["user_id"] == "u-quote" and quote["users"][0]["changed"] is True
    assert user_names(simulator) == ["alice@example.com", "bob@example.com", "carol@example.com", "x@example.com"]
    assert [group["id"] for group in simulator.groups(DIRECTORY)] == ["g-eng"]
    # Several ids are deleted without a read first: each DELETE addresses one encoded segment, which the
    # directory does not have (404), and nothing else.
    users_path = "/scim/directory/%s/Users/" % DIRECTORY
    assert sorted(entry["path"] for entry in changing_requests(simulator)) == sorted(
        users_path + segment for segment in ("..%2FGroups%2Fg-eng", "u-alice%2F..%2Fu-bob", "u-x%3Fx%3D1", "u-quote"))


def test_bad_values_fail_before_any_request(ansible, scim):
    simulator, server = scim
    cases = {
        "dots": ({"user_id": [".."], "state": "absent"}, "user_id '..' is not a valid id"),
        "empty name": ({"user_name": ["alice@example.com", ""], "state": "absent"}, "user_name must not contain empty values"),
        "parallelism": ({"user_id": ["u-alice"], "state": "absent", "parallelism": 0}, "parallelism must be between 1 and 64"),
        "base_url": ({"user_id": ["u-alice"], "state": "absent", "base_url": "api.atlassian.com"}, "base_url must be an http(s) URL"),
        "both": ({"user_id": ["u-alice"], "user_name": ["bob@example.com"], "state": "absent"}, "mutually exclusive"),
        "neither": ({"state": "absent"}, "one of the following is required: user_id, user_name"),
        "state": ({"user_id": ["u-alice"]}, "missing required arguments: state"),
    }
    tasks = [{"name": name, MODULE: case[0], "ignore_errors": True} for name, case in cases.items()]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    for name, (_args, message) in cases.items():
        assert message in result.task(name)["msg"], (name, result.task(name)["msg"])
    assert simulator.requests() == []


def test_any_printable_id_is_addressed_and_impossible_ids_fail_before_any_request(ansible, serve):
    odd = "zoë 100%/../Groups?x=1#y"
    simulator = seed(extra_users=[person(odd, "odd@example.com")])
    server = serve(simulator)
    refused = {"too long": ("u" * 1025, "1025 characters long; at most 1024 are accepted"),
               "C1 control": ("u-al\u0085ice", "control characters"),
               "line separator": ("u-al\u2028ice", "unprintable characters"),
               "zero-width space": ("u-al\u200bice", "unprintable characters"),
               "dots": ("...", "is not a valid id")}
    tasks = [{"name": name, MODULE: {"user_id": ["u-alice", value], "state": "absent"}, "ignore_errors": True}
             for name, (value, _reason) in refused.items()]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    for name, (_value, reason) in refused.items():
        task = result.task(name)
        assert task["failed"] and task["msg"].startswith("user_id ") and reason in task["msg"], (name, task["msg"])
    assert simulator.requests() == []

    result = ansible.tasks([{"name": "odd", MODULE: {"user_id": [odd], "state": "absent"}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert result.task("odd")["users"][0]["changed"] is True
    assert "odd@example.com" not in user_names(simulator) and len(user_names(simulator)) == 5
    assert [group["id"] for group in simulator.groups(DIRECTORY)] == ["g-eng"]
    assert [entry["path"] for entry in changing_requests(simulator)] == [
        "/scim/directory/%s/Users/zo%%C3%%AB%%20100%%25%%2F..%%2FGroups%%3Fx%%3D1%%23y" % DIRECTORY]


def test_ambiguous_name_fails_for_that_user_only(ansible, serve):
    simulator = seed(extra_users=[person("u-dana1", "Dana@example.com"), person("u-dana2", "dana@example.com")])
    server = serve(simulator)
    result = ansible.tasks([{"name": "delete", MODULE: {"user_name": ["dana@example.com", "bob@example.com"],
                                                        "state": "absent"}}], module_defaults=defaults(server))
    assert result.returncode != 0
    users = result.task("delete")["users"]
    assert users[0]["failed"] and "matches 2 users (u-dana1, u-dana2)" in users[0]["msg"]
    assert users[1]["changed"] is True
    assert {"Dana@example.com", "dana@example.com"} <= set(user_names(simulator))


def test_retries_survive_429_503_drops_and_slow_answers(ansible, scim):
    simulator, server = scim
    simulator.add_fault(method="DELETE", path=r"/Users/u-alice$", status=429, headers={"Retry-After": "1"},
                        body={"status": "429", "detail": "Too many requests"}, times=2)
    simulator.add_fault(method="DELETE", path=r"/Users/u-alice$", status=503,
                        body={"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "503",
                              "detail": "Service unavailable"}, times=1)
    simulator.add_fault(action="drop", method="DELETE", path=r"/Users/u-bob$", times=1)
    simulator.add_fault(action="delay", method="PATCH", path=r"/Users/u-x$", delay=1.5, times=1)
    tasks = [{"name": "delete", MODULE: {"user_id": ["u-alice", "u-bob"], "state": "absent"}},
             {"name": "disable", MODULE: {"user_id": ["u-x"], "state": "disabled", "timeout": 0.5}}]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert all(user["changed"] for user in result.task("delete")["users"])
    assert result.task("disable")["users"][0]["state"] == "disabled"
    # Two ids are deleted with one request each (no reads): alice 429, 429, 503, 204; bob dropped, 204.
    assert "4 of 6 requests were retried (429: 2, 503: 1, connection error: 1)" in " ".join(result.task("delete")["warnings"])
    assert {"alice@example.com", "bob@example.com"}.isdisjoint(user_names(simulator))
    retried = [entry["status"] for entry in simulator.requests(path=r"/Users/u-alice$")]
    assert retried == [429, 429, 503, 204]


def test_retries_exhausted_fail_with_status_and_message(ansible, scim):
    simulator, server = scim
    simulator.add_fault(method="DELETE", status=503, times=None,
                        body={"status": "503", "detail": "Service unavailable"})
    result = ansible.tasks([{"name": "delete", MODULE: {"user_id": ["u-alice"], "state": "absent", "retries": 1}}],
                           module_defaults=defaults(server))
    assert result.returncode != 0
    user = result.task("delete")["users"][0]
    assert user["error"]["status"] == 503 and user["error"]["message"].startswith("Service unavailable")
    assert user["state"] == "enabled"  # nothing changed
    assert "Atlassian SCIM: DELETE" in user["msg"] and "answered HTTP 503" in user["msg"]


def test_environment_variables_and_precedence(ansible, scim):
    simulator, server = scim
    env = {"ATLASSIAN_SCIM_BASE_URL": server.url + "/scim", "ATLASSIAN_SCIM_DIRECTORY_ID": "d-wrong",
           "ATLASSIAN_SCIM_API_KEY": KEY}
    tasks = [
        {"name": "env only", INFO: {"user_id": ["u-alice"]}, "ignore_errors": True},
        {"name": "task wins", INFO: {"user_id": ["u-alice"], "directory_id": DIRECTORY}},
    ]
    result = ansible.tasks(tasks, env=env)
    assert "directory 'd-wrong' does not exist" in result.task("env only")["msg"]
    assert result.task("task wins")["users"][0]["userName"] == "alice@example.com"
    # module_defaults win over the environment too.
    result = ansible.tasks([{"name": "defaults win", INFO: {"user_id": ["u-alice"]}}],
                           module_defaults={"group/identity.lifecycle.atlassian": {"directory_id": DIRECTORY}}, env=env)
    assert result.returncode == 0, result.output
    assert result.task("defaults win")["users"][0]["id"] == "u-alice"


def test_info_by_id_by_name_and_all_pages(ansible, serve):
    extra = [person("u-p%03d" % number, "page%03d@example.com" % number) for number in range(230)]
    simulator = seed(extra_users=extra)
    server = serve(simulator)
    tasks = [
        {"name": "by id", INFO: {"user_id": ["u-bob", "u-missing", "u-alice", "u-bob"]}},
        {"name": "by name", INFO: {"user_name": ["carol@example.com", "CAROL@example.com", "nobody@example.com"]}},
        {"name": "all", INFO: {}},
        {"name": "all in check mode", INFO: {}, "check_mode": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert [user["id"] for user in result.task("by id")["users"]] == ["u-bob", "u-alice"]
    assert result.task("by id")["users"][1]["groups"][0]["display"] == "engineering"
    assert [user["id"] for user in result.task("by name")["users"]] == ["u-carol"]
    everyone = result.task("all")["users"]
    assert len(everyone) == 235
    assert len({user["id"] for user in everyone}) == 235
    assert result.task("all")["changed"] is False
    assert len(result.task("all in check mode")["users"]) == 235
    pages = simulator.requests("GET", path=r"/Users\?startIndex=\d+&count=100$")
    assert len(pages) == 2 * 3  # 235 users are three pages, listed twice
    assert changing_requests(simulator) == []


def test_tls_verification_ca_path_and_validate_certs(ansible, serve, tmp_path):
    certificates = make_certificates(str(tmp_path))
    simulator = seed()
    server = serve(simulator, certfile=certificates["server.pem"], keyfile=certificates["server-key.pem"])
    tasks = [
        {"name": "untrusted", INFO: {"user_id": ["u-alice"], "retries": 0}, "ignore_errors": True},
        {"name": "ca_path", INFO: {"user_id": ["u-alice"], "ca_path": certificates["ca.pem"]}},
        {"name": "no verification", INFO: {"user_id": ["u-alice"], "validate_certs": False}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert server.url.startswith("https://")
    untrusted = result.task("untrusted")
    assert untrusted["failed"] is True
    assert "TLS verification failed" in untrusted["msg"] and "ca_path" in untrusted["msg"]
    assert result.task("ca_path")["users"][0]["id"] == "u-alice"
    assert result.task("no verification")["users"][0]["id"] == "u-alice"


def test_an_enforced_unpublished_limit_is_met_by_slowing_down(ansible, serve):
    """Atlassian publishes no SCIM limit; a simulator that enforces one (429 with Retry-After) is met by the
    adaptive pace: every user is deleted and reported exactly once, and the task says what it retried."""
    leavers = [person("u-l%03d" % number, "limit%03d@example.com" % number) for number in range(120)]
    simulator = seed(extra_users=leavers)
    server = serve(simulator)
    simulator.configure_load(enforced_limit=30)
    result = ansible.tasks([{"name": "batch", MODULE: {"user_id": [user["id"] for user in leavers],
                                                       "state": "absent", "parallelism": 16}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    task = result.task("batch")
    assert [user["msg"] for user in task["users"]] == ["deleted"] * len(leavers)
    assert not [user for user in simulator.users(DIRECTORY) if user["id"].startswith("u-l")]
    refused = [entry for entry in simulator.requests() if entry["status"] == 429]
    accepted_deletes = [entry for entry in simulator.requests(method="DELETE") if entry["status"] == 204]
    assert len(accepted_deletes) == len(leavers)
    if refused:
        assert any("429: %d" % len(refused) in warning for warning in task["warnings"])
