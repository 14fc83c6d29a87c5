# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An approved run changes only what was approved, up to the moment of each change: what the directories
look like between the pass that works out the changes with reads only and the real pass (a new hire given a
leaver's address, a token made in between) can never reach a change, and a refused run's report claims
nothing that did not happen."""

from __future__ import annotations

from simulators.uipath import UiPathIdentitySimulator

from .test_offboard_role import only_report, reports
from .test_offboard_sweep import atlassian, changing, offboard, refused_for_a_token_made_after_the_rehearsal, row

SCOPES = ["PM.User", "PM.User.Read", "PM.User.Write", "OR.Users", "OR.Users.Read", "OR.Users.Write",
          "OR.Folders", "OR.Folders.Read", "OR.Folders.Write"]
SAM = {"id": "00000000-0000-4000-8000-000000000004", "userName": "sam.taylor@example.com",
       "email": "sam.taylor@example.com", "name": "Sam", "surname": "Taylor", "isActive": True, "type": 0}
NEW_HIRE = {"id": "00000000-0000-4000-8000-0000000000aa", "userName": "dana.lee@example.com",
            "email": "dana.lee@example.com", "name": "Dana", "surname": "Lee-Newhire", "isActive": True, "type": 0}
LIST_PATH = "/identity_/api/User/users/"


class HiresOnTheNthListing(UiPathIdentitySimulator):
    """A new hire is given a leaver's address at the moment a chosen read of the user list arrives: that read
    and every one after see her."""

    hire_at = None

    def handle(self, request):
        if self.hire_at is not None and request.method == "GET" and LIST_PATH in request.raw_path:
            with self.lock:
                self.hire_at -= 1
                if self.hire_at == 0:
                    self._store_user(self.organizations["acme"], dict(NEW_HIRE))
        return super().handle(request)


def listings(simulator):
    return len(simulator.requests("GET", LIST_PATH))


def test_a_new_hire_given_an_absent_leavers_address_between_the_reads_and_the_change_is_never_touched(ansible,
                                                                                                      serve):
    # Dana left the organization in an earlier run; her Orchestrator user is still there, so the plan removes it.
    uipath = HiresOnTheNthListing({"acme": {
        "clients": {"sweep-app": {"secret": "uipath-binding-secret-1", "scopes": SCOPES}},
        "users": [dict(SAM)],
        "tenants": {"DefaultTenant": {"users": [
            {"Id": 11, "UserName": "dana.lee@example.com", "EmailAddress": "dana.lee@example.com",
             "Type": "DirectoryUser"},
            {"Id": 14, "UserName": "sam.taylor@example.com", "EmailAddress": "sam.taylor@example.com",
             "Type": "DirectoryUser"}]}}}})
    env = uipath.client_environment(serve(uipath).url)
    options = {"offboard_users": [{"email": "dana.lee@example.com"}], "offboard_uipath_tenants": ["DefaultTenant"]}
    rehearsal = offboard(ansible, env, check=True, **options)
    assert rehearsal.returncode == 0, rehearsal.output
    rehearsed, _markdown = only_report(ansible.workdir)
    assert [item["user_id"] for item in rehearsed["plan"]] == ["dana.lee@example.com"]

    # The approved run reads the list as often as the rehearsal did (its pass with reads only); the new hire
    # arrives with the first read of the real pass.
    uipath.hire_at = listings(uipath) + 1
    approved = offboard(ansible, env, offboard_approved_plan=rehearsed["plan"],
                        offboard_approved_plan_digest=rehearsed["plan_digest"], **options)
    assert approved.returncode != 0
    assert uipath.hire_at <= 0, "the new hire never arrived: the test did not reach the window it tests"
    # Nobody approved a change to the new hire: she is untouched, and so is everything the real pass found
    # through her (the plan addressed a user already absent, by name).
    assert NEW_HIRE["id"] in [user["id"] for user in uipath.users("acme")]
    assert [entry for entry in uipath.requests() if entry["changing"]] == []
    report = sorted(reports(ansible.workdir).items())[-1][1][0]
    dana = row(report, 0, "uipath")
    assert dana["outcome"] == "not approved", dana
    assert NEW_HIRE["id"] in dana["msg"] and "deleted" in dana["msg"]
    assert dana["leftover"] == [] and report["leftover_summary"]["removed"] == 0
    assert report["plan"] == []


def test_a_token_made_between_the_reads_and_the_change_is_never_revoked(ansible, serve):
    scim, admin, env = atlassian(serve)
    rehearsal = offboard(ansible, env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    rehearsed, _markdown = only_report(ansible.workdir)

    # A token of Mei's is made when the real pass's sweep reads her tokens, after the reads that were compared
    # with the plan: the sweep's own reads find it, and it is not approved.
    class TokenOnTheSecondRead:
        seen = 0

    original = admin.handle

    def handle(request):
        if request.method == "GET" and request.raw_path.endswith("/users/acc-mei/manage/api-tokens"):
            TokenOnTheSecondRead.seen += 1
            if TokenOnTheSecondRead.seen == 2:  # the pass with reads only, then the real pass
                with admin.lock:
                    admin.accounts["acc-mei"]["tokens"].append(
                        {"id": "tok-late", "label": "late", "createdAt": "2026-01-02T03:04:05.000Z"})
        return original(request)

    admin.handle = handle
    approved = offboard(ansible, env, offboard_approved_plan=rehearsed["plan"],
                        offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert TokenOnTheSecondRead.seen >= 2, "the real pass never read Mei's tokens: the test missed its window"
    assert approved.returncode != 0
    assert ("DELETE", "/users/acc-mei/manage/api-tokens/tok-late") not in changing(admin)
    assert [token["id"] for token in admin.account("acc-mei").get("tokens") or []] == ["tok-late"]
    report = sorted(reports(ansible.workdir).items())[-1][1][0]
    mei = row(report, 2)
    assert mei["outcome"] == "not approved" and "tok-late" in mei["msg"]
    assert "tok-late" not in str(mei["leftover"])


def test_already_done_counts_only_what_was_done_before_the_run(ansible, serve):
    scim, admin, env = atlassian(serve)
    rehearsal = offboard(ansible, env, check=True)
    assert rehearsal.returncode == 0, rehearsal.output
    rehearsed, _markdown = only_report(ansible.workdir)
    # Omar's SCIM user was removed by someone else after the rehearsal; everything else is still to do.
    with scim.lock:
        del scim.directories["d-sweep"]["users"]["s-omar"]
    approved = offboard(ansible, env, offboard_approved_plan=rehearsed["plan"],
                        offboard_approved_plan_digest=rehearsed["plan_digest"])
    assert approved.returncode == 0, approved.output
    report = sorted(reports(ansible.workdir).items())[-1][1][0]
    # The approved items this run did not need to make: exactly Omar's SCIM delete.
    assert [item for item in rehearsed["plan"] if item not in report["plan"]] == [
        item for item in rehearsed["plan"] if item["user_id"] == "s-omar"], report["plan"]
    assert report["approval"]["already_done"] == 1


def test_a_refused_run_reports_no_leftover_removed_and_no_plan(ansible, serve):
    _admin, _env, _rehearsed, refused = refused_for_a_token_made_after_the_rehearsal(ansible, serve)
    report, markdown = sorted(reports(ansible.workdir).items())[-1][1]
    assert report["approval"]["result"] == "refused"
    assert report["plan"] == []
    assert report["leftover_summary"]["removed"] == 0
    assert all(not result["leftover"] for leaver in report["leavers"] for result in leaver["results"].values())
    assert "item(s) removed" not in markdown.replace("0 item(s) removed", "")
    assert "change(s) this run made" not in markdown
    summary = refused.task("Summarise the run")["msg"]
    assert "Leftover access: 0 item(s)" in " ".join(summary)
