"""Issue 12, S3: sick leave carries its hospital certificate (issuer, level, date, a reference
to the scan), and a substitute's (顶岗) faults are charged to the window they stand in for —
rules as tables, then use cases on a real unit of work (SQLite, frozen clock)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.staff import certificates, honours, leave, scoring, substitutes, window_charges
from services.staff import organisation as org
from services.staff.models import ScoreEntry

from .conftest import local

LEVELS = ["county", "city", "province", "national"]
CERT = {"issuer": "县人民医院", "issuer_level": "county", "issued_on": "2025-03-03", "document_ref": "scan/0042.pdf"}


# -- S3 certificates: tables ------------------------------------------------------------------------

@pytest.mark.parametrize("change,field", [
    ({}, None),
    ({"issuer_level": "national"}, None),
    ({"issuer_level": "township"}, "certificate.issuer_level"),   # below county level
    ({"issuer": " "}, "certificate.issuer"),
    ({"document_ref": ""}, "certificate.document_ref"),
    ({"issued_on": "2025-03-09"}, "certificate.issued_on"),      # in the future
    ({"issued_on": "2025-03-06"}, "certificate.issued_on"),      # after the leave ends
    ({"issued_on": "3 March"}, "certificate.issued_on"),
])
def test_s3_a_certificate_is_from_a_hospital_of_county_level_or_above(change, field):
    problems = certificates.certificate_problems({**CERT, **change}, LEVELS, date(2025, 3, 8), date(2025, 3, 5))
    assert (list(problems) == [field]) if field else problems == {}


@pytest.mark.parametrize("kind,has,needs", [
    ("sick", False, True), ("sick", True, False), ("personal", False, False),
])
def test_s3_only_sick_leave_needs_a_certificate_to_be_approved(kind, has, needs):
    assert certificates.needs_certificate(kind, has) is needs


# -- S3 certificates: use cases -----------------------------------------------------------------------

def sick(world, cert=None, start=(2025, 3, 4, 8), end=(2025, 3, 4, 10)):
    with world.uow() as uow:
        return leave.request_leave(uow, world.people["c"], world.people["c"], local(*start).isoformat(),
                                   local(*end).isoformat(), "发烧", kind="sick", certificate=cert)


def decide(world, leave_id, approve=True):
    with world.uow() as uow:
        return leave.decide_leave(uow, world.people["head"], ["section_head"], leave_id, approve,
                                  None if approve else "no")


def test_s3_sick_leave_is_approved_only_with_its_certificate_recorded_with_it(world):
    world.at(2025, 3, 3, 17)
    lv = sick(world)
    assert (lv["kind"], lv["certificate"]) == ("sick", None)
    with pytest.raises(ValidationFailed) as err:
        decide(world, lv["id"])
    assert "certificate" in err.value.details
    with world.uow() as uow:
        got = leave.LeaveOut().dump(certificates.attach_to(uow, world.people["c"], ["clerk"], lv["id"], CERT))
    assert got["certificate"] == {**CERT, "recorded_by": world.people["c"]}
    assert decide(world, lv["id"])["state"] == "approved"
    with world.uow() as uow:
        with pytest.raises(Conflict):  # one certificate per leave
            certificates.attach_to(uow, world.people["c"], ["clerk"], lv["id"], CERT)
        [listed] = leave.list_leaves(uow, world.people["c"])
    assert listed["certificate"]["issuer"] == "县人民医院"


def test_s3_a_certificate_can_come_with_the_request_and_an_oral_sick_leave_needs_it_at_once(world):
    world.at(2025, 3, 3, 17)
    assert sick(world, CERT)["certificate"]["issuer_level"] == "county"
    with pytest.raises(ValidationFailed) as err:   # under an hour: approved at once, so not without it
        sick(world, start=(2025, 3, 5, 8), end=(2025, 3, 5, 8, 30))
    assert "certificate" in err.value.details
    with pytest.raises(ValidationFailed) as err:   # nothing half-written: no leave, no certificate
        sick(world, {**CERT, "issuer_level": "township"}, start=(2025, 3, 6, 8), end=(2025, 3, 6, 10))
    assert "certificate.issuer_level" in err.value.details
    with world.uow() as uow:
        assert len(leave.list_leaves(uow, world.people["c"])) == 1


def test_s3_a_personal_leave_carries_no_certificate_and_others_cannot_attach_one(world):
    world.at(2025, 3, 3, 17)
    with world.uow() as uow:
        lv = leave.request_leave(uow, world.people["c"], world.people["c"], local(2025, 3, 4, 8).isoformat(),
                                 local(2025, 3, 4, 10).isoformat(), "家事")
        assert lv["kind"] == "personal"
        with pytest.raises(ValidationFailed):
            certificates.attach_to(uow, world.people["c"], ["clerk"], lv["id"], CERT)
    lv = sick(world, start=(2025, 3, 5, 8), end=(2025, 3, 5, 10))
    with world.uow() as uow:
        from services.common.errors import Forbidden

        with pytest.raises(Forbidden):  # a colleague is neither the person nor a decider
            certificates.attach_to(uow, world.people["d"], ["clerk"], lv["id"], CERT)
    with world.uow(None) as uow:
        tid = org.create_township(uow, "hs", "花山镇", {"name": "吴主任"})["township"]["id"]
    with world.uow(tid) as uow:
        with pytest.raises(NotFound):   # another township's leave answers like a missing one
            certificates.attach_to(uow, None, ["director"], lv["id"], CERT)


# -- S3 substitutes: tables -------------------------------------------------------------------------------

D = date
STAND = [(D(2025, 3, 4), D(2025, 3, 6), "w1", "lv1"), (D(2025, 3, 6), D(2025, 3, 7), "w2", "lv2")]


@pytest.mark.parametrize("day,charged", [
    (D(2025, 3, 3), ("own", None)),    # before the leave: their own window
    (D(2025, 3, 4), ("w1", "lv1")),    # standing in at w1
    (D(2025, 3, 6), ("w2", "lv2")),    # two leaves cover the day: the later one
    (D(2025, 3, 7), ("w2", "lv2")),
    (D(2025, 3, 8), ("own", None)),    # after the return
])
def test_s3_an_entry_is_charged_to_the_window_stood_in_for_on_its_day(day, charged):
    assert substitutes.charge("own", STAND, day) == charged


@pytest.mark.parametrize("entries,own,expected", [
    ([("sub", "w1", "lv1", -4)], {"sub": None}, {"w1": {"points": -4, "violations": 1, "entries": 1}}),
    ([("sub", "w1", "lv1", -4), ("sub", "w1", "lv1", 2)], {"sub": None},
     {"w1": {"points": -2, "violations": 1, "entries": 2}}),
    ([("b", "w1", "lv1", -1)], {"b": "w1"}, {}),     # the window's own B post: already in its staff's scores
    ([("sub", "w1", None, -1)], {"sub": None}, {}),  # not standing in
])
def test_s3_what_a_window_answers_for(entries, own, expected):
    assert window_charges.charges_from(entries, own) == expected


# -- S3 substitutes: use cases ----------------------------------------------------------------------

def stand_in_for_a(world):
    """A (window 1) is away Tue 4 – Wed 5 March; S, sent by the home unit, stands in."""
    world.at(2025, 3, 3, 9)
    with world.uow() as uow:
        world.people["sub"] = org.create_person(uow, "S", ["clerk"], home_unit="民政办")["id"]
        lv = leave.request_leave(uow, world.people["a"], world.people["a"], local(2025, 3, 4, 8).isoformat(),
                                 local(2025, 3, 5, 17, 30).isoformat(), "探亲",
                                 substitute_person_id=world.people["sub"], home_unit_endorsed=True)
        leave.decide_leave(uow, world.people["deputy"], ["deputy_director"], lv["id"], True)
    return lv


def test_s3_a_substitutes_faults_are_charged_to_the_window_they_stand_in_for(world):
    lv = stand_in_for_a(world)
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        for day in ("2025-03-03", "2025-03-04", "2025-03-06"):
            scoring.manual_entry(uow, world.people["inspector"], world.people["sub"], "forbidden_language",
                                 "使用忌语", day)
        got = sorted((e.day.isoformat(), e.window_id, e.substitute_leave_id) for e in uow.scalars(
            select(ScoreEntry).where(ScoreEntry.person_id == world.people["sub"])))
        assert got == [("2025-03-03", None, None), ("2025-03-04", world.windows["civil"], lv["id"]),
                       ("2025-03-06", None, None)]
        [entry] = [e for e in scoring.person_entries(uow, world.people["sub"], "2025Q1")
                   if e["substitute_leave_id"]]
        assert entry["window_id"] == world.windows["civil"]
        scores = {w["number"]: w for w in window_charges.window_scores(uow, "2025Q1")["windows"]}
    assert (scores[1]["substitute_points"], scores[1]["substitute_violations"]) == (-1, 1)
    assert scores[1]["score"] == scores[1]["staff_mean"] - 1
    assert scores[2]["substitute_points"] == 0 and scores[2]["score"] == scores[2]["staff_mean"]


def test_s3_a_window_whose_substitute_broke_a_rule_is_no_red_flag_window_that_quarter(world):
    stand_in_for_a(world)
    world.windows_served(local(2024, 12, 31, 9), date(2025, 3, 3))
    world.at(2025, 4, 2, 9)
    with world.uow() as uow:
        before = honours.honours(uow, "2025Q1")["red_flag_windows"]
        assert [w["number"] for w in before] == [1]   # both windows clean: the lower number
        scoring.manual_entry(uow, world.people["inspector"], world.people["sub"], "badge", "未佩戴工作牌",
                             "2025-03-05")
        after = honours.honours(uow, "2025Q1")["red_flag_windows"]
    assert [w["number"] for w in after] == [2]


def test_s3_after_the_return_the_substitute_answers_for_no_window(world):
    lv = stand_in_for_a(world)
    world.at(2025, 3, 4, 12)
    with world.uow() as uow:
        leave.return_from_leave(uow, world.people["a"], ["clerk"], lv["id"])  # back on Tuesday at noon
    world.at(2025, 3, 6, 9)
    with world.uow() as uow:
        e4 = scoring.manual_entry(uow, world.people["inspector"], world.people["sub"], "badge", "x", "2025-03-04")
        e5 = scoring.manual_entry(uow, world.people["inspector"], world.people["sub"], "dress", "x", "2025-03-05")
    assert (e4["window_id"], e5["window_id"]) == (world.windows["civil"], None)
