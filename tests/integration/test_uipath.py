# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uipath_user and uipath_user_info, run by ansible-playbook against the UiPath identity simulator."""

from __future__ import annotations

import copy

import pytest

from simulators.uipath import UiPathIdentitySimulator

ORG = "acme"
PARTITION = "7c1e9a52-3b4d-4f6a-9e21-5d8c0b7a6f13"
CLIENT_ID = "3b0c6f1e-8a4d-4e2b-9c7f-5d1a2e3f4b60"
SECRET = "uipath-test-secret-Qz8vK3mP"
READER_ID = "9e8d7c6b-5a49-4382-a716-0f1e2d3c4b5a"
READER_SECRET = "uipath-reader-secret-Lw4nT7sB"
# Granted what UiPath's getting-started guide grants: PM.User and PM.User.Write, not PM.User.Read.
GUIDE_ID = "5f4e3d2c-1b0a-4998-8776-655443322110"
GUIDE_SECRET = "uipath-guide-secret-Rt6yU1oP"
INVALID_CLIENT_HINT = ("check client_id (the App ID) and client_secret (the App Secret) of a confidential external "
                       "application of this organization")
PAT = "rt_test_personal_access_token_9XyW"
EXPIRED_PAT = "rt_test_expired_token_3PvQ"
MODULE = "identity.lifecycle.uipath_user"
INFO = "identity.lifecycle.uipath_user_info"
BULK = "/%s/identity_/api/User" % ORG


def uid(number):
    return "00000000-0000-4000-8000-%012d" % number


def person(number, email, active=True, user_name=None, **extra):
    first, _dot, last = email.split("@")[0].partition(".")
    user = {"id": uid(number), "userName": user_name or email, "email": email, "name": first.title(),
            "surname": last.title() or None, "isActive": active, "type": 0, "groupIDs": [uid(900)]}
    user.update(extra)
    return user


STAFF = [
    person(1, "dana.lee@example.com"), person(2, "omar.haddad@example.com"), person(3, "mei.chen@example.com"),
    person(4, "sam.taylor@example.com"), person(5, "ivy.novak@example.com"),
    person(6, "lucas.moreau@example.com", active=False),
    person(7, "jan.kowalski@example.com", user_name="jkowalski"),
    # One's user name is the other's e-mail: the name is ambiguous.
    person(8, "pat@example.com", user_name="pat"), person(9, "patricia@example.com", user_name="pat@example.com"),
    person(10, "leo.park@example.com"),
    person(11, "invoice.robot@example.com", user_name="invoice-robot", type=4),
]


def leavers(count, start=100):
    return [person(number, "leaver%03d@example.com" % number) for number in range(start, start + count)]


def make(serve, extra_users=(), **settings):
    simulator = UiPathIdentitySimulator({ORG: {
        "partition_global_id": PARTITION,
        "clients": {CLIENT_ID: {"secret": SECRET, "scopes": ["PM.User", "PM.User.Read", "PM.User.Write"]},
                    READER_ID: {"secret": READER_SECRET, "scopes": ["PM.User.Read"]},
                    GUIDE_ID: {"secret": GUIDE_SECRET, "scopes": ["PM.User", "PM.User.Write"]}},
        "personal_access_tokens": {PAT: {}, EXPIRED_PAT: {"expired": True}},
        "users": copy.deepcopy(STAFF) + list(extra_users),
    }}, **settings)
    return simulator, serve(simulator)


@pytest.fixture
def uipath(serve):
    return make(serve)


def defaults(server, **extra):
    options = {"base_url": server.url, "organization": ORG, "client_id": CLIENT_ID, "client_secret": SECRET}
    options.update(extra)
    return {"group/identity.lifecycle.uipath": options}


def emails(simulator):
    return sorted(user["email"] for user in simulator.users())


def changing_requests(simulator):
    return [entry for entry in simulator.requests() if entry["method"] in ("PUT", "DELETE", "PATCH")]


def token_posts(simulator):
    return simulator.requests("POST", r"/connect/token$")


def set_simulator(server, **settings):
    """A task that changes simulator settings between two tasks of the same playbook."""
    return {"name": "simulator settings %s" % sorted(settings), "ansible.builtin.uri": {
        "url": server.url + "/_sim/uipath/settings", "method": "POST", "body_format": "json", "body": settings,
        "status_code": 204}}


def test_offboard_by_name_and_by_id_then_again_unchanged(ansible, uipath):
    simulator, server = uipath
    names = ["dana.lee@example.com", "OMAR.HADDAD@example.com", "jkowalski", "nobody@example.com"]
    simulator.add_fault(method="DELETE", path=r"/api/User/%s$" % uid(3), status=503, times=1,
                        body={"title": "Service Unavailable", "status": 503})
    tasks = [
        {"name": "by name", MODULE: {"user_name": names, "state": "absent"}},
        {"name": "by id", MODULE: {"user_id": uid(3), "state": "absent"}},
        {"name": "names again", MODULE: {"user_name": names, "state": "absent"}},
        {"name": "id again", MODULE: {"user_id": [uid(3)], "state": "absent"}},
        {"name": "ambiguous", MODULE: {"user_name": ["pat@example.com", "leo.park@example.com"], "state": "absent"},
         "ignore_errors": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output

    by_name = result.task("by name")
    assert [(user["user_name"], user["user_id"], user["changed"], user["found"], user["state"], user["msg"])
            for user in by_name["users"]] == [
        ("dana.lee@example.com", uid(1), True, True, "absent", "deleted"),
        ("omar.haddad@example.com", uid(2), True, True, "absent", "deleted"),
        ("jkowalski", uid(7), True, True, "absent", "deleted"),
        ("nobody@example.com", None, False, False, "absent", "already absent")]
    assert by_name["msg"] == "already absent: 1, deleted: 3"
    assert "user" not in by_name and "request_ids" not in by_name  # UiPath gives no ids on success

    by_id = result.task("by id")
    assert by_id["users"][0]["actions"] == ["deleted"]
    assert by_id["user"]["userName"] == "mei.chen@example.com"  # the object before the task
    assert "1 of 4 requests were retried (503: 1)" in " ".join(by_id["warnings"])
    for name in ("names again", "id again"):
        again = result.task(name)
        assert again["changed"] is False
        assert {user["msg"] for user in again["users"]} == {"already absent"}
    assert result.task("id again")["user"] is None

    ambiguous = result.task("ambiguous")
    assert ambiguous["failed"] is True
    assert "user_name 'pat@example.com' matches 2 users (%s, %s)" % (uid(8), uid(9)) in ambiguous["users"][0]["msg"]
    assert ambiguous["users"][1]["changed"] is True

    assert emails(simulator) == ["invoice.robot@example.com", "ivy.novak@example.com", "lucas.moreau@example.com",
                                 "pat@example.com", "patricia@example.com", "sam.taylor@example.com"]
    # Three users in one bulk call; one user alone with the single-user call (a 503 first, retried).
    assert [(entry["path"], entry["status"]) for entry in changing_requests(simulator)] == [
        (BULK, 204), (BULK + "/" + uid(3), 503), (BULK + "/" + uid(3), 204), (BULK + "/" + uid(10), 204)]
    # One token per task, reused for every request; every request on the organization's identity route.
    assert len(token_posts(simulator)) == 5
    assert all(entry["path"].startswith("/acme/identity_/") for entry in simulator.requests())
    assert all(entry["status"] != 401 for entry in simulator.requests())


def test_disable_and_enable_change_only_is_active(ansible, uipath):
    simulator, server = uipath
    before = dict((user["id"], user) for user in simulator.users())
    tasks = [
        {"name": "disable", MODULE: {"user_name": ["sam.taylor@example.com", "lucas.moreau@example.com",
                                                   "ghost@example.com"], "state": "disabled"}},
        {"name": "enable", MODULE: {"user_id": [uid(6), uid(5)], "state": "enabled"}},
        {"name": "enable missing", MODULE: {"user_id": [uid(99), uid(4)], "state": "enabled"}, "ignore_errors": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server), diff=True)
    disable = result.task("disable")
    assert [(user["changed"], user["state"], user["msg"]) for user in disable["users"]] == [
        (True, "disabled", "disabled"), (False, "disabled", "already disabled"), (False, "absent", "already absent")]
    assert disable["diff"] == [{
        "before_header": "UiPath Identity user sam.taylor@example.com",
        "before": {"user_id": uid(4), "user_name": "sam.taylor@example.com", "email": "sam.taylor@example.com",
                   "display_name": "Sam Taylor", "type": "user", "state": "enabled"},
        "after_header": "UiPath Identity user sam.taylor@example.com",
        "after": {"user_id": uid(4), "user_name": "sam.taylor@example.com", "email": "sam.taylor@example.com",
                  "display_name": "Sam Taylor", "type": "user", "state": "disabled"}}]
    enable = result.task("enable")
    assert [(user["changed"], user["state"]) for user in enable["users"]] == [(True, "enabled"), (False, "enabled")]
    missing = result.task("enable missing")
    assert missing["failed"] is True
    assert missing["users"][0]["failed"] is True and "cannot be enabled" in missing["users"][0]["msg"]
    assert missing["users"][1]["changed"] is True
    assert "1 of 2 users failed (%s)" % uid(99) in missing["msg"]

    # Every PUT carried isActive alone; nothing else about the users changed.
    assert [(update["user_id"], update["body"]) for update in simulator.updates] == [
        (uid(4), {"isActive": False}), (uid(6), {"isActive": True}), (uid(4), {"isActive": True})]
    expected_active = {uid(4): True, uid(6): True}  # sam disabled then enabled again, lucas enabled
    for user in simulator.users():
        expected = dict(before[user["id"]], isActive=expected_active.get(user["id"], before[user["id"]]["isActive"]))
        assert dict(user, lastModificationTime=None) == dict(expected, lastModificationTime=None)
    assert SECRET not in result.output


def test_check_mode_reports_and_changes_nothing(ansible, uipath):
    simulator, server = uipath
    tasks = [
        {"name": "delete", MODULE: {"user_name": ["dana.lee@example.com", "omar.haddad@example.com",
                                                  "nobody@example.com"], "state": "absent"}},
        {"name": "disable", MODULE: {"user_id": uid(4), "state": "disabled"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server), check=True, diff=True)
    assert result.returncode == 0, result.output
    delete = result.task("delete")
    assert delete["changed"] is True
    assert [(user["actions"], user["msg"]) for user in delete["users"]] == [
        (["deleted"], "would be deleted"), (["deleted"], "would be deleted"), ([], "already absent")]
    assert delete["msg"].startswith("check mode, ")
    assert [entry["after"]["state"] for entry in delete["diff"]] == ["absent", "absent"]
    disable = result.task("disable")
    assert disable["users"][0]["actions"] == ["disabled"] and disable["users"][0]["state"] == "disabled"
    assert disable["diff"][0]["before"]["state"] == "enabled" and disable["diff"][0]["after"]["state"] == "disabled"
    assert changing_requests(simulator) == []
    assert "dana.lee@example.com" in emails(simulator)
    assert {user["isActive"] for user in simulator.users() if user["id"] == uid(4)} == {True}


def test_hundred_leavers_in_one_task_use_the_bulk_endpoint_within_the_rate_limits(ansible, serve):
    batch = leavers(100)
    simulator, server = make(serve, extra_users=batch + leavers(400, start=300))
    names = [user["email"] for user in batch]
    tasks = [
        {"name": "offboard", MODULE: {"user_name": names, "state": "absent"}},
        {"name": "again", MODULE: {"user_name": names, "state": "absent"}},
        {"name": "check", INFO: {"user_name": names}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    offboard = result.task("offboard")
    assert [user["user_name"] for user in offboard["users"]] == names  # input order
    assert offboard["msg"] == "deleted: 100"
    assert result.task("again")["changed"] is False and result.task("again")["msg"] == "already absent: 100"
    assert result.task("check")["users"] == []
    assert len(simulator.users()) == len(STAFF) + 400

    log = simulator.requests()
    assert [entry["status"] for entry in log if entry["status"] == 429] == []
    per_method = {}
    for entry in log:
        per_method[entry["method"]] = per_method.get(entry["method"], 0) + 1
    # Per task: one token and one page of 1000 users; the 100 deletions were two bulk calls of 50.
    assert per_method == {"POST": 3, "GET": 3, "DELETE": 2}
    assert [entry["path"] for entry in simulator.requests("DELETE")] == [BULK, BULK]
    # Far within the identity server's quotas (300 GET, 160 DELETE per 5 minutes per organization).
    limits = simulator.settings["rate_limits"]
    assert all(count <= limits[method] for method, count in per_method.items())


def test_expired_token_mid_run_is_renewed_once(ansible, serve):
    staff = leavers(30)
    simulator, server = make(serve, extra_users=staff)
    # After the preflight page and three PUTs, every token the server issued expires.
    simulator.expire_tokens_after(4)
    task = {"name": "disable", MODULE: {"user_id": [user["id"] for user in staff], "state": "disabled",
                                        "parallelism": 8}}
    result = ansible.tasks([task], module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert result.task("disable")["msg"] == "disabled: 30"
    assert all(not user["isActive"] for user in simulator.users() if user["id"] in {one["id"] for one in staff})
    refused = [entry for entry in simulator.requests() if entry["status"] == 401]
    assert refused, "the tokens did not expire during the run"
    # However many workers were refused at once, one new token was fetched and each PUT succeeded once.
    assert len(token_posts(simulator)) == 2
    assert len(simulator.requests("PUT")) - len(refused) == 30


def test_credentials_and_token_url_errors_are_clear(ansible, uipath):
    simulator, server = uipath
    wrong = "uipath-wrong-secret-Hd72kLq"
    simulator.add_fault(method="DELETE", path=r"/api/User/%s$" % uid(5), status=400, times=1, body={
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1", "title": "One or more validation errors occurred.",
        "status": 400, "errors": {"userId": ["The user is protected."]}, "traceId": "00-feedc0de-01-00"})
    tasks = [
        {"name": "wrong secret", MODULE: {"user_id": uid(1), "state": "absent", "client_secret": wrong},
         "ignore_errors": True},
        {"name": "scope not granted", MODULE: {"user_id": uid(1), "state": "absent", "client_id": READER_ID,
                                               "client_secret": READER_SECRET}, "ignore_errors": True},
        {"name": "read-only app deletes", MODULE: {"user_id": uid(1), "state": "absent", "client_id": READER_ID,
                                                   "client_secret": READER_SECRET, "scope": "PM.User.Read"},
         "ignore_errors": True},
        {"name": "expired token", MODULE: {"user_id": uid(1), "state": "absent", "access_token": EXPIRED_PAT,
                                           "client_id": "", "client_secret": ""}, "ignore_errors": True},
        {"name": "provider error with trace id", MODULE: {"user_id": uid(5), "state": "absent"},
         "ignore_errors": True},
        set_simulator(server, token_url_html=True),
        {"name": "html token url", MODULE: {"user_id": uid(1), "state": "absent"}, "ignore_errors": True},
        set_simulator(server, token_url_html=False),
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    msg = dict((name, result.task(name)["msg"]) for name in (
        "wrong secret", "scope not granted", "read-only app deletes", "expired token", "provider error with trace id",
        "html token url"))
    assert "POST %s/acme/identity_/connect/token answered HTTP 400 (invalid_client)" % server.url in msg["wrong secret"]
    # The hint reaches the user whole: no part of it looks like a secret to the redaction.
    assert "(%s)" % INVALID_CLIENT_HINT in msg["wrong secret"] and "********" not in msg["wrong secret"]
    assert "(invalid_scope)" in msg["scope not granted"] and "check scope" in msg["scope not granted"]
    assert "answered HTTP 403" in msg["read-only app deletes"]
    assert "Expect to have 'PM.User' or 'PM.User.Write'" in msg["read-only app deletes"]
    assert "answered HTTP 401" in msg["expired token"] and "The token expired" in msg["expired token"]
    assert ("(the token was refused: check client_id and client_secret, or that access_token is valid, not expired and "
            "issued for this organization)") in msg["expired token"]
    assert "********" not in msg["expired token"]
    assert "userId: The user is protected. [request id 00-feedc0de-01-00]" in msg["provider error with trace id"]
    assert result.task("provider error with trace id")["users"][0]["error"]["request_id"] == "00-feedc0de-01-00"
    assert "the token URL answered an HTML page instead of JSON" in msg["html token url"]
    assert "check base_url and organization, or identity_url" in msg["html token url"]
    assert [entry["status"] for entry in changing_requests(simulator)] == [403, 400]
    assert emails(simulator) == sorted(user["email"] for user in STAFF)
    assert wrong not in result.output and SECRET not in result.output and READER_SECRET not in result.output


def test_secrets_never_show_even_at_vvvv(ansible, uipath):
    simulator, server = uipath
    wrong = "uipath-wrong-secret-Hd72kLq"
    tasks = [
        {"name": "wrong secret", MODULE: {"user_name": ["dana.lee@example.com"], "state": "absent",
                                          "client_secret": wrong}, "ignore_errors": True},
        {"name": "works", MODULE: {"user_name": ["dana.lee@example.com", "omar.haddad@example.com"], "state": "absent"}},
        {"name": "pat", INFO: {"user_id": [uid(3)], "access_token": PAT, "client_id": "", "client_secret": ""}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server), verbosity=4, callback="default")
    assert result.returncode == 0, result.output
    assert "invalid_client" in result.output and INVALID_CLIENT_HINT in result.output
    issued = [token for token, spec in simulator.tokens.items() if spec["kind"] == "client"]
    assert len(issued) == 1
    for secret in [wrong, SECRET, PAT] + issued:
        assert secret not in result.output
    # The token's claims are no secret, but its encoded payload is part of it: not shown either.
    assert issued[0].split(".")[1] not in result.output
    assert emails(simulator).count("dana.lee@example.com") == 0


def test_personal_access_token_standalone_route_and_partition_rules(ansible, uipath):
    simulator, server = uipath
    pat = {"access_token": PAT, "client_id": "", "client_secret": ""}
    tasks = [
        {"name": "standalone by name", MODULE: dict(pat, identity_url=server.url + "/identity",
                                                    partition_global_id=PARTITION, state="absent",
                                                    user_name=["dana.lee@example.com", "omar.haddad@example.com"])},
        {"name": "no partition for names", MODULE: dict(pat, user_name=["mei.chen@example.com"], state="absent"),
         "ignore_errors": True},
        {"name": "no partition needed for one id", MODULE: dict(pat, user_id=[uid(3)], state="absent")},
        {"name": "no partition for several ids", MODULE: dict(pat, user_id=[uid(10), uid(7)], state="disabled")},
        {"name": "both credentials", INFO: {"user_id": [uid(4)], "access_token": PAT}},
        {"name": "another organization's partition", MODULE: {
            "user_id": [uid(4)], "state": "absent", "partition_global_id": "11111111-2222-4333-8444-555555555555"},
         "ignore_errors": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.task("standalone by name")["msg"] == "deleted: 2"
    assert "partition_global_id (UIPATH_PARTITION_GLOBAL_ID) is needed" in result.task("no partition for names")["msg"]
    assert result.task("no partition needed for one id")["users"][0]["msg"] == "deleted"
    assert result.task("no partition for several ids")["msg"] == "disabled: 2"
    both = result.task("both credentials")
    assert both["users"][0]["id"] == uid(4)
    assert "access_token is set, so client_id and client_secret are not used" in both["warnings"]
    other = result.task("another organization's partition")
    assert "11111111-2222-4333-8444-555555555555 is not the organization of these credentials" in other["msg"]
    assert PARTITION in other["msg"] and other["changed"] is False

    changes = [(entry["method"], entry["path"]) for entry in changing_requests(simulator)]
    assert changes[:2] == [("DELETE", "/identity/api/User"), ("DELETE", BULK + "/" + uid(3))]
    # Without a partition, several users are changed one request each (concurrently, in any order).
    assert sorted(changes[2:]) == [("PUT", BULK + "/" + uid(7)), ("PUT", BULK + "/" + uid(10))]
    # Personal access tokens need no token request: only the last task fetched one.
    assert len(token_posts(simulator)) == 1
    assert "sam.taylor@example.com" in emails(simulator)


def test_every_documented_not_found_answer_means_already_absent(ansible, serve):
    """The answer for an unknown user is undocumented: each possible shape, switched between tasks."""
    modes = {"bad_request": (104, 105), "envelope": (106, 107), "no_content": (108, 109), "empty": (110, 111)}
    simulator, server = make(serve, extra_users=leavers(12, start=100))
    tasks = []
    for mode, (first, second) in modes.items():
        ghost = person(first + 50, "ghost%d@example.com" % first)
        listed = [user for user in simulator.users() if user["id"] in (uid(first), uid(second))] + [ghost]
        # The list still shows a user that someone else has just deleted.
        simulator.add_fault(method="GET", path=r"/users/.*top=1000", status=200, times=1,
                            body={"totalCount": len(listed), "results": listed})
        tasks += [
            set_simulator(server, not_found=mode),
            {"name": "%s unknown id" % mode, MODULE: {"user_id": [uid(99)], "state": "disabled"}},
            {"name": "%s vanished" % mode, MODULE: {"user_name": [user["email"] for user in listed], "state": "absent",
                                                    "parallelism": 1}},
        ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    deletes = [(entry["path"], entry["status"]) for entry in simulator.requests("DELETE")]
    for mode, (first, second) in modes.items():
        unknown = result.task("%s unknown id" % mode)
        assert (unknown["changed"], unknown["users"][0]["msg"]) == (False, "already absent")
        vanished = result.task("%s vanished" % mode)
        if mode == "no_content":
            # The server deletes what exists and answers 204 for all: it says nothing about the ghost.
            assert vanished["msg"] == "deleted: 3"
            assert deletes[:1] == [(BULK, 204)]
            deletes = deletes[1:]
            continue
        # "empty": a 404 with no body at all, which means "no such user" only because the identity
        # routes had answered (the preflight read the list) and the request addressed one user.
        status = 400 if mode == "bad_request" else 404
        assert [user["msg"] for user in vanished["users"]] == ["deleted", "deleted", "already absent"]
        # Refused whole, the call is halved until the vanished user has its own answer.
        assert deletes[:5] == [(BULK, status), (BULK + "/" + uid(first), 204), (BULK, status),
                               (BULK + "/" + uid(second), 204), (BULK + "/" + uid(first + 50), status)]
        deletes = deletes[5:]
    assert not {uid(number) for number in range(104, 112)} & {user["id"] for user in simulator.users()}


def test_bad_values_fail_before_any_request(ansible, uipath):
    simulator, server = uipath
    cases = {
        "not a guid": ({"user_id": [uid(1), "../Groups/x"], "state": "absent"},
                       "user_id '../Groups/x' is not a UiPath user id"),
        "info id": ({"user_id": ["dana.lee@example.com"], "_module": INFO}, "user_id 'dana.lee@example.com' is not"),
        "partition": ({"user_id": [uid(1)], "state": "absent", "partition_global_id": "acme"},
                      "partition_global_id must be the organization's GUID"),
        "no credentials": ({"user_id": [uid(1)], "state": "absent", "client_id": "", "client_secret": ""},
                           "give client_id and client_secret (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET)"),
        "identity in base_url": ({"user_id": [uid(1)], "state": "absent", "base_url": server.url + "/acme/identity_"},
                                 "give a full identity base such as https://host/identity as identity_url"),
    }
    tasks = []
    for name, (args, _message) in cases.items():
        args = dict(args)
        tasks.append({"name": name, args.pop("_module", MODULE): args, "ignore_errors": True})
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    for name, (_args, message) in cases.items():
        assert message in result.task(name)["msg"], (name, result.task(name)["msg"])
    assert simulator.requests() == []


def test_environment_variables_module_defaults_and_precedence(ansible, uipath):
    simulator, server = uipath
    env = {"UIPATH_URL": server.url, "UIPATH_ORGANIZATION": "wrong-org", "UIPATH_CLIENT_ID": CLIENT_ID,
           "UIPATH_CLIENT_SECRET": SECRET, "UIPATH_SCOPE": "PM.User.Read"}
    plays = [
        {"name": "environment", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "env only", INFO: {"user_id": [uid(1)]}, "ignore_errors": True},
            {"name": "task wins", INFO: {"user_id": [uid(1)], "organization": ORG}}]},
        {"name": "module_defaults", "hosts": "localhost", "gather_facts": False,
         "module_defaults": {"group/identity.lifecycle.uipath": {"organization": ORG}},
         "tasks": [{"name": "defaults win", MODULE: {"user_id": [uid(1)], "state": "disabled"}, "ignore_errors": True}]},
    ]
    result = ansible.run(plays, env=env)
    env_only = result.task("env only")["msg"]
    assert "/wrong-org/identity_/connect/token" in env_only and "an HTML page instead of JSON" in env_only
    assert result.task("task wins")["users"][0]["email"] == "dana.lee@example.com"
    # The environment's read-only scope was asked for, so the PUT is refused: the scope came from UIPATH_SCOPE.
    assert "answered HTTP 403" in result.task("defaults win")["msg"]
    assert [request["scope"] for request in simulator.token_requests] == ["PM.User.Read", "PM.User.Read"]

    standalone = {"UIPATH_IDENTITY_URL": server.url + "/identity", "UIPATH_ACCESS_TOKEN": PAT,
                  "UIPATH_PARTITION_GLOBAL_ID": PARTITION, "UIPATH_ORGANIZATION": "ignored-org"}
    simulator.clear_log()
    result = ansible.tasks([{"name": "standalone", INFO: {"user_name": ["IVY.NOVAK@example.com"]}}], env=standalone)
    assert result.returncode == 0, result.output
    assert [user["id"] for user in result.task("standalone")["users"]] == [uid(5)]
    assert [entry["path"].split("?")[0] for entry in simulator.requests()] == [
        "/identity/api/User/users/%s" % PARTITION]


def test_info_by_id_by_name_and_all_pages(ansible, serve):
    simulator, server = make(serve, extra_users=leavers(1300, start=1000))
    total = len(STAFF) + 1300
    tasks = [
        {"name": "one id", INFO: {"user_id": [uid(5)]}},
        {"name": "ids", INFO: {"user_id": [uid(5), uid(99), uid(1).upper(), uid(5)]}},
        {"name": "names", INFO: {"user_name": ["IVY.NOVAK@example.com", "jkowalski", "Jan.Kowalski@example.com",
                                               "pat@example.com", "nobody@example.com"]}},
        {"name": "all", INFO: {}, "check_mode": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    assert [user["id"] for user in result.task("one id")["users"]] == [uid(5)]
    assert [user["id"] for user in result.task("ids")["users"]] == [uid(5), uid(1)]
    assert [user["id"] for user in result.task("names")["users"]] == [uid(5), uid(7), uid(8), uid(9)]
    everyone = result.task("all")["users"]
    assert len(everyone) == len({user["id"] for user in everyone}) == total
    assert [user["type"] for user in everyone if user["id"] == uid(11)] == [4]  # numbers, as the live API sends
    assert all(not task["changed"] for task in (result.task("all"), result.task("names")))

    gets = [entry["path"] for entry in simulator.requests("GET")]
    # One id: a one-user preflight page and the GET. Several ids: the first page of 1000 (the preflight)
    # holds two; one GET for the missing one is as cheap as the next page. Names and all users: two pages each.
    assert len(gets) == 2 + 2 + 2 + 2
    assert gets[1] == BULK + "/" + uid(5)
    assert changing_requests(simulator) == []


def test_throttled_requests_wait_for_the_window(ansible, serve):
    simulator, server = make(serve, rate_limits={"GET": 3}, rate_window=2, retry_after=True)
    ids = [uid(1), uid(2), uid(3), uid(4)]
    result = ansible.tasks([{"name": "read", INFO: {"user_id": ids, "access_token": PAT, "client_id": "",
                                                    "client_secret": ""}}],
                           module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    read = result.task("read")
    assert [user["id"] for user in read["users"]] == ids
    assert "were retried (429:" in " ".join(read["warnings"])
    statuses = [entry["status"] for entry in simulator.requests("GET")]
    assert statuses.count(429) >= 1 and statuses.count(200) == 4


# --- issue 9 --------------------------------------------------------------------------------------

def test_names_compare_as_uipath_does_and_look_alikes_fail_loudly(ansible, serve):
    """Finding 3: full case folding deleted straße for "strasse" and kate for a Kelvin-sign "kate"."""
    simulator, server = make(serve, extra_users=[
        person(20, "stra\u00dfe@example.com"), person(21, "kate@example.com", user_name="kate")])
    tasks = [
        {"name": "look-alikes", MODULE: {"user_name": ["strasse@example.com", "\u212aate", "ivy.novak@example.com"],
                                         "state": "absent"}, "ignore_errors": True},
        {"name": "look-alike info", INFO: {"user_name": ["\u212aate"]}, "ignore_errors": True},
        {"name": "exact names", MODULE: {"user_name": ["STRA\u00dfE@Example.com", "KATE"], "state": "absent"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    look_alikes = result.task("look-alikes")
    assert look_alikes["failed"] is True
    strasse, kelvin, ivy = look_alikes["users"]
    assert strasse["failed"] is True and strasse["changed"] is False
    assert "user_name 'strasse@example.com' matches no user as spelled" in strasse["msg"]
    assert "'stra\u00dfe@example.com' ('stra\\xdfe@example.com') of user %s" % uid(20) in strasse["msg"]
    assert "give the exact user name or user_id" in strasse["msg"]
    assert kelvin["failed"] is True and "the user name 'kate' of user %s" % uid(21) in kelvin["msg"]
    assert "'\\u212aate'" in kelvin["msg"]
    assert (ivy["changed"], ivy["msg"]) == (True, "deleted")
    assert "2 of 3 users failed" in look_alikes["msg"]
    assert "matches no user as spelled" in result.task("look-alike info")["msg"]
    exact = result.task("exact names")
    assert [(user["user_id"], user["msg"]) for user in exact["users"]] == [(uid(20), "deleted"), (uid(21), "deleted")]
    # Only the exact names were deleted, each by its own task.
    assert [(entry["path"], entry["status"]) for entry in changing_requests(simulator)] == [
        (BULK + "/" + uid(5), 204), (BULK, 204)]


def test_a_refused_user_fails_alone_and_a_2xx_refusal_is_no_success(ansible, serve):
    """Finding 8: one refused user failed the whole chunk; `succeeded: false` in a 200 counted as deleted."""
    batch = leavers(20)
    simulator, server = make(serve, extra_users=batch, protected_users={uid(105): 409})
    names = [user["email"] for user in batch]
    tasks = [
        {"name": "batch", MODULE: {"user_name": names, "state": "absent"}, "ignore_errors": True},
        {"name": "batch again", MODULE: {"user_name": names, "state": "absent"}, "ignore_errors": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    first = result.task("batch")
    refused = [user for user in first["users"] if user.get("failed")]
    assert [user["user_id"] for user in refused] == [uid(105)]
    assert refused[0]["error"]["status"] == 409 and "User '%s' cannot be deleted." % uid(105) in refused[0]["msg"]
    assert first["msg"].startswith("1 of 20 users failed (leaver105@example.com)")
    assert sum(user["changed"] for user in first["users"]) == 19
    again = result.task("batch again")
    assert [user["user_id"] for user in again["users"] if user.get("failed")] == [uid(105)]
    assert again["changed"] is False
    deletes = simulator.requests("DELETE")
    # First run: one bulk call refused, then halved toward the refused user, far fewer than 2n - 1
    # calls; second run: the refused user alone.
    assert len(deletes) <= 2 * 5 + 1 + 1
    assert [entry["status"] for entry in deletes if entry["path"] == BULK + "/" + uid(105)] == [409, 409]

    simulator.configure(protected_users={uid(2): 403}, delete_refusal="succeeded_false")
    result = ansible.tasks([{"name": "answered 200", MODULE: {
        "user_name": ["dana.lee@example.com", "omar.haddad@example.com", "mei.chen@example.com"], "state": "absent"},
        "ignore_errors": True}], module_defaults=defaults(server))
    answered = result.task("answered 200")
    assert [(user["user_id"], user["changed"], bool(user.get("failed"))) for user in answered["users"]] == [
        (uid(1), True, False), (uid(2), False, True), (uid(3), True, False)]
    assert "User '%s' cannot be deleted." % uid(2) in answered["users"][1]["msg"]
    assert "omar.haddad@example.com" in emails(simulator) and "dana.lee@example.com" not in emails(simulator)
    assert [user["id"] for user in simulator.users() if user["id"] in (uid(105), uid(2))] == [uid(2), uid(105)]


def test_the_default_scope_falls_back_to_what_the_application_is_granted(ansible, uipath):
    """Finding 9: the default scope asked for PM.User.Read too and got invalid_scope from the guide's app."""
    simulator, server = uipath
    guide = {"client_id": GUIDE_ID, "client_secret": GUIDE_SECRET}
    tasks = [
        {"name": "default scope", MODULE: dict(guide, user_name=["dana.lee@example.com", "omar.haddad@example.com"],
                                               state="absent")},
        {"name": "scope as given", MODULE: dict(guide, user_id=[uid(3)], state="absent",
                                                scope="PM.User.Read PM.User.Write"), "ignore_errors": True},
        {"name": "read-only info", INFO: {"user_id": [uid(4)], "client_id": READER_ID, "client_secret": READER_SECRET}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    default = result.task("default scope")
    assert default["msg"] == "deleted: 2"
    assert any("default scope 'PM.User PM.User.Read PM.User.Write' was refused (invalid_scope)" in warning
               and "requested with 'PM.User' instead" in warning for warning in default["warnings"])
    given = result.task("scope as given")
    assert given["failed"] is True and "(invalid_scope)" in given["msg"] and "check scope" in given["msg"]
    assert "were each refused" not in given["msg"]
    info = result.task("read-only info")
    assert [user["id"] for user in info["users"]] == [uid(4)]
    assert any("requested with 'PM.User.Read' instead" in warning for warning in info["warnings"])
    assert [(request["client_id"], request["scope"]) for request in simulator.token_requests] == [
        (GUIDE_ID, "PM.User PM.User.Read PM.User.Write"), (GUIDE_ID, "PM.User"),
        (GUIDE_ID, "PM.User.Read PM.User.Write"),
        (READER_ID, "PM.User PM.User.Read PM.User.Write"), (READER_ID, "PM.User"),
        (READER_ID, "PM.User.Read PM.User.Write"), (READER_ID, "PM.User.Read")]
    assert "mei.chen@example.com" in emails(simulator) and "dana.lee@example.com" not in emails(simulator)
    assert GUIDE_SECRET not in result.output


def test_a_bare_404_is_an_absent_user_only_after_the_routes_answered(ansible, uipath):
    """Finding 9: a 404 with no body on /api/User/{id} was always a wrong URL."""
    simulator, server = uipath
    pat = {"access_token": PAT, "client_id": "", "client_secret": ""}
    tasks = [
        set_simulator(server, not_found="empty"),
        {"name": "after the list answered", MODULE: {"user_id": [uid(99)], "state": "absent"}},
        {"name": "nothing proven", MODULE: dict(pat, user_id=[uid(99)], state="absent"), "ignore_errors": True},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    proven = result.task("after the list answered")
    assert (proven["changed"], proven["users"][0]["msg"]) == (False, "already absent")
    unproven = result.task("nothing proven")
    assert unproven["failed"] is True and unproven["users"][0]["failed"] is True
    assert "answered HTTP 404" in unproven["msg"] and "check base_url and organization, or identity_url" in unproven["msg"]
    assert [entry["path"].split("?")[0] for entry in simulator.requests("GET")] == [
        "/acme/identity_/api/User/users/" + PARTITION, BULK + "/" + uid(99), BULK + "/" + uid(99)]


def test_a_bulk_delete_whose_answer_was_lost_is_reported_as_done(ansible, serve):
    """Lost answers: the bulk delete was carried out, its answer lost; the retry finds the users gone."""
    batch = leavers(12)
    simulator, server = make(serve, extra_users=batch)
    simulator.add_fault(action="process_then_respond", method="DELETE", path=r"/api/User$", status=502, times=1,
                        body={"title": "Bad Gateway", "status": 502})
    names = [user["email"] for user in batch]
    tasks = [
        {"name": "offboard", MODULE: {"user_name": names, "state": "absent"}},
        {"name": "again", MODULE: {"user_name": names, "state": "absent"}},
    ]
    result = ansible.tasks(tasks, module_defaults=defaults(server))
    assert result.returncode == 0, result.output
    offboard = result.task("offboard")
    assert offboard["changed"] is True
    assert all(user["changed"] and user["actions"] == ["deleted"] for user in offboard["users"])
    assert all(user["msg"].startswith("deleted (confirmed after a retry") for user in offboard["users"])
    assert result.task("again")["changed"] is False
    assert not {user["id"] for user in batch} & {user["id"] for user in simulator.users()}
    # The carried-out call, its retry (404: all gone), one read of the list; nothing deleted one by one.
    assert [(entry["path"], entry["status"], entry.get("fault")) for entry in simulator.requests("DELETE")] == [
        (BULK, 204, "process_then_respond"), (BULK, 404, None)]
