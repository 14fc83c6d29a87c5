# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lifecycle engine's own rules: input normalisation, lost answers, and errors nobody foresaw."""

from __future__ import annotations

import pytest

from ansible_collections.identity.lifecycle.plugins.module_utils import _lifecycle
from ansible_collections.identity.lifecycle.plugins.module_utils._http import InputError, NotFoundError, ProviderError

from . import fakes


class StandInModule(fakes.StandInModule):
    DEFAULTS = dict(timeout=10.0, retries=0, validate_certs=True, ca_path=None, parallelism=4,
                    rate_limit=None, deadline=None, state="absent", user_id=None, user_name=None,
                    api_key="stand-in-secret-value")


class Directory(_lifecycle.UserDirectory):
    """A directory whose deletes do what each test says."""

    provider = "Stand-in"
    secret_options = ("api_key",)

    def __init__(self, module, delete):
        super().__init__(module)
        self.delete = delete

    @classmethod
    def connection_options(cls):
        return dict(base_url=dict(type="str"), api_key=dict(type="str", no_log=True))

    def user_id_of(self, user):
        return user["id"]

    def user_name_of(self, user):
        return user["name"]

    def is_enabled(self, user):
        return True

    def user_stub(self, user_id):
        return {"id": user_id, "name": None}

    def delete_user(self, user):
        return self.delete(user)


def planned(directory, *ids):
    entries = []
    for user_id in ids:
        entry = _lifecycle.Entry(user_id, "id")
        entry.user = {"id": user_id, "name": user_id + "@example.com"}
        entry.found = True
        entries.append(entry)
    return _lifecycle.plan(directory, entries, "absent")


def test_an_unforeseen_exception_fails_the_user_redacted_never_already_absent():
    def broken(user):
        raise KeyError("stand-in-secret-value was in the answer")

    directory = Directory(StandInModule(), broken)
    entries = planned(directory, "u1", "u2")
    directory.apply(entries)
    for entry in entries:
        _lifecycle.finish_entry(entry, "absent", False)
        assert entry.failed and not entry.changed
        assert "unexpected error: KeyError" in entry.msg
        assert "stand-in-secret-value" not in entry.msg


def lost(request_id="req-1"):
    return {"message": "Stand-in: DELETE answered HTTP 502: bad gateway", "request_id": request_id}


def test_a_not_found_after_a_lost_answer_is_a_deletion_by_this_run():
    def gone(user):
        error = NotFoundError("Stand-in", "no such user", status=404)
        error.lost_answer = lost()
        raise error

    directory = Directory(StandInModule(), gone)
    [entry] = planned(directory, "u1")
    directory.apply([entry])
    _lifecycle.finish_entry(entry, "absent", False)
    result = _lifecycle.entry_result(directory, entry)
    assert result["changed"] is True and result["state"] == "absent" and result["actions"] == ["deleted"]
    assert result["msg"].startswith("deleted (confirmed after a retry")
    assert result["request_ids"] == ["req-1"]
    assert _lifecycle.summarize([result], False) == "deleted: 1"


def test_an_unread_user_gone_after_a_lost_answer_says_that_nothing_tells_which():
    def gone(user):
        error = NotFoundError("Stand-in", "no such user", status=404)
        error.lost_answer = lost()
        raise error

    directory = Directory(StandInModule(), gone)
    entry = _lifecycle.Entry("u1", "id")
    _lifecycle.resolve(directory, [entry], unread=True)
    directory.apply(_lifecycle.plan(directory, [entry], "absent"))
    _lifecycle.finish_entry(entry, "absent", False)
    result = _lifecycle.entry_result(directory, entry)
    assert (result["changed"], result["found"], result["state"]) == (True, None, "absent")
    assert result["msg"].startswith("deleted or already absent (the first answer was lost")
    assert _lifecycle.summarize([result], False) == "deleted or already absent: 1"


def test_a_not_found_without_a_lost_answer_stays_already_absent():
    def gone(user):
        raise NotFoundError("Stand-in", "no such user", status=404)

    directory = Directory(StandInModule(), gone)
    [entry] = planned(directory, "u1")
    directory.apply([entry])
    _lifecycle.finish_entry(entry, "absent", False)
    assert (entry.changed, entry.msg) == (False, "already absent")


def test_a_failure_after_a_lost_answer_says_the_change_may_be_made():
    def busy(user):
        error = ProviderError("Stand-in", "busy", status=503, retryable=True)
        error.lost_answer = lost()
        raise error

    directory = Directory(StandInModule(), busy)
    [entry] = planned(directory, "u1")
    directory.apply([entry])
    assert entry.failed
    assert "may already be made; run the task again to confirm" in entry.msg


@pytest.mark.parametrize("value, expected", [(" dana@example.com ", "dana@example.com"), ("\u00a0x\u2003", "x")])
def test_identifiers_are_stripped(value, expected):
    params = StandInModule(user_name=[value]).params
    _lifecycle.validate_common(params)
    assert params["user_name"] == [expected]


@pytest.mark.parametrize("value", ["", "   ", "a\nb", "a\rb", "a\x00", "a\x85b", "x" * 1025])
def test_identifiers_that_no_provider_can_have_are_refused_naming_the_option(value):
    with pytest.raises(InputError, match="^user_id "):
        _lifecycle.validate_common(StandInModule(user_id=[value]).params)


def test_a_secret_with_a_newline_is_refused_without_showing_it():
    params = StandInModule(api_key="stand-in-secret-value\n").params
    with pytest.raises(InputError) as caught:
        _lifecycle.validate_connection(params, Directory)
    assert str(caught.value).startswith("api_key contains a control character")
    assert "stand-in-secret-value" not in str(caught.value)


def test_other_connection_values_with_control_characters_are_refused_too():
    with pytest.raises(InputError, match="^base_url "):
        _lifecycle.validate_connection(StandInModule(base_url="https://x\r\n").params, Directory)


def test_deadline_must_be_positive():
    with pytest.raises(InputError, match="^deadline"):
        _lifecycle.validate_common(StandInModule(deadline=0.0).params)


class Documented(Directory):
    documented_rate = 98.0


@pytest.mark.parametrize("parallelism", [1, 8, 32, 64])
def test_a_documented_rate_is_never_exceeded_and_high_parallelism_does_not_slow_the_pace(parallelism):
    # No second may see more than the documented rate: the pace plus the burst that may go at once.
    # The burst is what a small task needs, not all of `parallelism`, so the pace stays near the rate.
    directory = Documented(StandInModule(parallelism=parallelism), delete=None)
    limiter = directory.limiter
    assert limiter.rate + limiter.burst <= 98.0
    assert limiter.rate >= 88.0
    assert limiter.burst == min(parallelism, 9)


class Sweeping(Directory):
    """Removes a token of each user before the delete, and fails the delete of users named "stuck"."""

    def plan_delete(self, entry):
        token = _lifecycle.leftover_item("API token", "revoked", id="t-" + entry.key, where="account " + entry.key)
        return [_lifecycle.Step("revoked token", lambda: "req-token", leftover=token),
                _lifecycle.Step("deleted", lambda: self.delete_user(entry.user))]


def stuck_fails(user):
    if user["id"] == "stuck":
        raise ProviderError("Stand-in", "refused", status=409)
    return "req-delete"


def test_leftover_lists_only_the_steps_carried_out_and_every_result_has_both_lists():
    directory = Sweeping(StandInModule(), stuck_fails)
    entries = planned(directory, "u1", "stuck")
    directory.apply(entries)
    results = []
    for entry in entries:
        _lifecycle.finish_entry(entry, "absent", False)
        results.append(_lifecycle.entry_result(directory, entry))
    done, failed = results
    assert done["leftover"] == [{"kind": "API token", "id": "t-u1", "name": None, "where": "account u1",
                                 "done": "revoked", "action": "revoked token"}]
    assert done["manual_follow_up"] == [] and done["request_ids"] == ["req-token", "req-delete"]
    # The token of the user whose delete failed was revoked all the same: the result says so.
    assert failed["failed"] and failed["leftover"][0]["id"] == "t-stuck"


def test_check_mode_lists_the_leftover_that_would_be_removed():
    calls = []
    module = StandInModule()
    module.check_mode = True
    directory = Sweeping(module, calls.append)
    [entry] = planned(directory, "u1")
    _lifecycle.finish_entry(entry, "absent", True)
    result = _lifecycle.entry_result(directory, entry)
    assert calls == [] and result["changed"] is True
    assert [item["id"] for item in result["leftover"]] == ["t-u1"]


class LeftBehind(Directory):
    """A user already absent has left a token behind, which plan_absent removes; the message is the provider's."""

    def __init__(self, module, message):
        super().__init__(module, lambda user: None)
        self.message = message

    def plan_absent(self, entry):
        entry.msg = self.message
        token = _lifecycle.leftover_item("API token", "revoked", id="t-" + entry.key)
        return [_lifecycle.Step("revoked token", lambda: "req-token", leftover=token)]


@pytest.mark.parametrize("message", ["already absent; 1 token revoked", "1 token revoked", ""])
def test_a_sweep_of_an_absent_user_always_says_already_absent_first(message):
    directory = LeftBehind(StandInModule(), message)
    entry = _lifecycle.Entry("gone", "id")
    entry.found = False
    [entry] = _lifecycle.plan(directory, [entry], "absent")
    directory.apply([entry])
    _lifecycle.finish_entry(entry, "absent", False)
    result = _lifecycle.entry_result(directory, entry)
    assert result["found"] is False and result["changed"] is True and result["msg"].startswith("already absent")
    assert [item["id"] for item in result["leftover"]] == ["t-gone"]


# --- approved_actions: the approval, at the moment of each change ---------------------------------------

def test_a_step_that_is_not_approved_fails_the_user_before_any_of_its_requests():
    sent = []
    directory = Sweeping(StandInModule(approved_actions={"u1": ["revoked token", "deleted"], "u2": ["deleted"]}),
                         lambda user: sent.append(user["id"]) or "req-delete")
    entries = planned(directory, "u1", "u2")
    # u2 has a token nobody approved: none of its steps may run, not even the approved delete.
    assert [entry.key for entry in entries] == ["u1"]
    directory.apply(entries)
    assert sent == ["u1"]


def test_fewer_steps_than_approved_are_fine_and_a_missing_key_is_refused_before_any_request():
    directory = Directory(StandInModule(approved_actions={"u1": ["revoked token", "deleted"]}),
                          lambda user: "req-delete")
    assert [entry.key for entry in planned(directory, "u1")] == ["u1"]
    module = StandInModule(user_id=["u1", "u2"], approved_actions={"u1": ["deleted"]})
    with pytest.raises(InputError, match="approved_actions has no entry for 'u2'"):
        _lifecycle.validate_approved_actions(module.params, "user_id", "user_name")
    module = StandInModule(user_id=["u1"], approved_actions={"u1": "deleted"})
    with pytest.raises(InputError, match="must be a list of actions"):
        _lifecycle.validate_approved_actions(module.params, "user_id", "user_name")


def test_the_refused_user_says_what_it_would_do_and_what_was_approved_with_its_error_code():
    entry = _lifecycle.Entry("u2", "id")
    entry.user = {"id": "u2", "name": "new.hire@example.com"}
    entry.found = True
    directory = Sweeping(StandInModule(approved_actions={"u2": ["deleted"]}), lambda user: "req-delete")
    assert _lifecycle.plan(directory, [entry], "absent") == []
    _lifecycle.finish_entry(entry, "absent", False)
    result = _lifecycle.entry_result(directory, entry)
    assert result["failed"] and not result["changed"] and result["actions"] == []
    assert result["error"]["code"] == "not approved"
    assert result["msg"] == ("Stand-in: (not approved): for user_id 'u2', this task found user u2 "
                             "(new.hire@example.com) and would now do: revoked token, which is not approved (approved "
                             "for it: deleted); nothing was done for this user")
