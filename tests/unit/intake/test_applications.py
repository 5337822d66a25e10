"""Applications on a real unit of work (SQLite, frozen clock): I3 one-time notice and the
later-request violation, I4 receipts, I5 returns with sign-off, C12 deemed acceptance,
tenancy, personal data."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.intake import applications as apps
from services.intake import catalogue, receipts, sweep
from services.intake.models import Application, Notice

from .conftest import T1, T2, applicant, make_item

ALL = ["申请书", "居民身份证", "户口簿复印件", "收入证明"]


def submit(env, township=T1, clerk="clerk1", **over):
    data = {"item_code": "MZ-002", "applicant": applicant(), "materials_brought": ALL}
    data.update(over)
    with env.uow(township) as uow:
        return apps.submit(uow, clerk, data, env.settings(township))


# -- I3 one-time notice ----------------------------------------------------------

def test_one_notice_lists_every_missing_material(env):
    make_item(env)
    out = submit(env, materials_brought=["申请书"], materials_present=["居民身份证"])
    assert out["notice"]["missing"] == ["居民身份证", "户口簿复印件", "收入证明"]
    assert out["application"]["status"] == "supplement" and out["application"]["kind"] == "supplement"
    assert out["receipt"]["promised_date"] is None  # the clock waits for the materials
    with env.uow() as uow:
        assert uow.session.query(Notice).count() == 1
    accepted = env.outbox("intake.application_accepted")
    assert [e["kind"] for e in accepted] == ["supplement"]


def test_the_notice_is_issued_once(env):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "居民身份证"])
    with env.uow() as uow, pytest.raises(Conflict):
        apps.issue_notice(uow, out["application"]["id"], "clerk1", env.settings())


def test_materials_arriving_complete_the_supplement_and_start_the_clock(env):
    make_item(env, promised_days=3)
    out = submit(env, materials_brought=["申请书", "居民身份证"])
    app_id = out["application"]["id"]
    with env.uow() as uow:
        rec = apps.record_arrival(uow, app_id, "clerk1", ["收入证明"], env.settings())
    assert rec["status"] == "supplement" and rec["outstanding"] == ["户口簿复印件"]
    assert env.outbox("intake.materials_completed") == []
    with env.uow() as uow, pytest.raises(ValidationFailed) as exc:
        apps.record_arrival(uow, app_id, "clerk1", ["结婚证"], env.settings())
    assert "materials" in exc.value.details
    with env.uow() as uow:
        rec = apps.record_arrival(uow, app_id, "clerk1", ["户口簿复印件"], env.settings())
    # completed Fri 24 Jan 2025 + 3 working days (Art. 201, make-up Sun 26 Jan) → 5 Feb
    assert rec["status"] == "accepted" and rec["kind"] == "promised" and rec["promised_date"] == "2025-02-05"
    [done] = env.outbox("intake.materials_completed")
    assert done["kind"] == "promised" and done["completed_on"] == "2025-01-24"


# -- I3 later request → violation ---------------------------------------------------

@pytest.mark.parametrize("material, reason", [
    ("房产证", "not_in_catalogue"),          # not a material of this item at all
    ("申请书", "not_on_first_notice"),       # required, but not on the first notice
])
def test_a_later_request_outside_the_notice_is_refused_and_recorded(env, material, reason):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "居民身份证"])
    with env.uow() as uow:
        result = apps.request_material(uow, out["application"]["id"], "clerk7", material)
    assert result["refused"] and result["reason"] == reason
    err = apps.refusal(result)
    assert err.status == 422 and "material" in err.details
    [violation] = env.outbox("intake.notice_violation")
    assert (violation["person_id"], violation["material"], violation["application_id"]) == \
        ("clerk7", material, out["application"]["id"])
    assert violation["reason"] == reason
    with env.uow() as uow:
        assert [v["reason"] for v in apps.list_violations(uow, "clerk7")] == [reason]


def test_asking_again_for_a_material_on_the_notice_is_a_reminder_not_a_violation(env):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "居民身份证"])
    with env.uow() as uow:
        result = apps.request_material(uow, out["application"]["id"], "clerk1", "收入证明")
    assert not result["refused"] and result["outstanding"] == ["户口簿复印件", "收入证明"]
    assert env.outbox("intake.notice_violation") == []


def test_any_request_after_a_complete_acceptance_is_a_violation(env):
    make_item(env)
    out = submit(env)
    with env.uow() as uow:
        result = apps.request_material(uow, out["application"]["id"], "clerk1", "收入证明")
    assert result["refused"] and result["reason"] == "not_on_first_notice"


# -- I4 receipt ------------------------------------------------------------------

def test_receipt_password_is_stored_only_as_an_hmac_and_verifies(env):
    make_item(env, promised_days=3)
    out = submit(env)
    r = out["receipt"]
    assert re.fullmatch(r"20250124-[2-9A-HJKMNP-Z]{10}", r["receipt_no"])
    assert r["promised_date"] == "2025-02-05" and r["kind"] == "promised"
    assert r["applicant_phone"] == "138****5678" and set(r["channels"]) >= {"query", "rating", "complaint"}
    assert receipts.password_bits() >= 40
    with env.uow() as uow:
        app = uow.session.get(Application, out["application"]["id"])
        row = {c.name: getattr(app, c.name) for c in Application.__table__.columns}
    assert r["query_password"] not in json.dumps(row, default=str)
    assert row["password_hmac"] == receipts.digest(r["receipt_no"], r["query_password"])
    assert receipts.verify(r["receipt_no"], r["query_password"], row["password_hmac"])
    assert not receipts.verify(r["receipt_no"], r["query_password"] + "X", row["password_hmac"])


def query(env, number, password, client="10.0.0.1", township=T1):
    with env.uow(township) as uow:
        return receipts.query(uow, number, password, client, env.settings(township))


def test_wrong_password_and_missing_number_answer_the_same_then_429(env):
    make_item(env)
    r = submit(env)["receipt"]
    outcome, status = query(env, r["receipt_no"], r["query_password"])
    assert outcome == "ok" and status["applicant_name"] == "李*兰" and status["status_code"] == "ACCEPTED" \
        and status["status_label"] == "已受理"
    assert query(env, r["receipt_no"], "WRONGPASS2") == query(env, "20250124-NOSUCHONE2", "WRONGPASS2") \
        == (None, None)
    for _ in range(4):
        assert query(env, r["receipt_no"], "WRONGPASS2", client=None) == (None, None)
    # 5 failures on this number within 15 minutes: even the right password is refused now
    assert query(env, r["receipt_no"], r["query_password"], client="10.9.9.9")[0] == receipts.LIMITED
    env.clock.move(minutes=16)
    assert query(env, r["receipt_no"], r["query_password"], client="10.9.9.9")[0] == "ok"


def test_the_limit_also_counts_per_client_address(env):
    make_item(env)
    r = submit(env)["receipt"]
    for n in range(5):
        assert query(env, f"20250124-GUESS{n}ABCD", "XXXXXXXXXX", client="10.0.0.66") == (None, None)
    assert query(env, r["receipt_no"], r["query_password"], client="10.0.0.66")[0] == receipts.LIMITED
    assert query(env, r["receipt_no"], r["query_password"], client="10.0.0.67")[0] == "ok"


def test_the_limit_is_a_setting(env):
    make_item(env)
    r = submit(env)["receipt"]
    env.settings(receipt_query_max_failures=2)
    for _ in range(2):
        query(env, r["receipt_no"], "BAD", client=None)
    assert query(env, r["receipt_no"], r["query_password"], client=None)[0] == receipts.LIMITED


# -- tenancy ------------------------------------------------------------------

def test_another_townships_application_is_not_found(env):
    make_item(env)
    out = submit(env)
    app_id, r = out["application"]["id"], out["receipt"]
    with env.uow(T2) as uow, pytest.raises(NotFound) as exc:
        apps.get_application(uow, app_id, full=True)
    with env.uow(T2) as uow, pytest.raises(NotFound) as missing:
        apps.get_application(uow, "0" * 32, full=True)
    assert str(exc.value).replace(app_id, "X") == str(missing.value).replace("0" * 32, "X")
    assert query(env, r["receipt_no"], r["query_password"], township=T2) == (None, None)
    with env.uow(T2) as uow, pytest.raises(NotFound):
        apps.request_material(uow, app_id, "clerk1", "房产证")
    assert env.outbox("intake.notice_violation") == []


# -- C12 deemed acceptance ---------------------------------------------------------

def test_late_supplement_notice_means_accepted_from_the_day_the_materials_arrived(env):
    make_item(env, promised_days=3)
    out = submit(env, materials_brought=["申请书", "居民身份证"], issue_notice=False)
    app = out["application"]
    assert app["status"] == "received" and out["receipt"] is None
    # Fri 24 Jan 2025 + 5 working days: Sun 26 (make-up), Mon 27, Wed 5 Feb, Thu 6, Fri 7 Feb
    assert app["notice_due_on"] == "2025-02-07"
    assert env.outbox("intake.application_accepted") == []
    env.clock.set(datetime(2025, 2, 10, 2, 0, tzinfo=timezone.utc))
    with env.uow() as uow:
        done = apps.issue_notice(uow, app["id"], "clerk1", env.settings())
    assert done["notice"]["late"] and done["notice"]["missing"] == ["户口簿复印件", "收入证明"]
    [ev] = env.outbox("intake.application_accepted")
    assert ev["deemed_accepted"] is True and ev["accepted_on"] == "2025-01-24" and ev["kind"] == "promised"
    assert done["receipt"]["promised_date"] == "2025-02-05"  # counted from the day they arrived
    assert done["application"]["status"] == "accepted"


def test_notice_on_the_last_day_is_in_time(env):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "居民身份证"], issue_notice=False)
    env.clock.set(datetime(2025, 2, 7, 8, 0, tzinfo=timezone.utc))  # 16:00 local, last day
    with env.uow() as uow:
        done = apps.issue_notice(uow, out["application"]["id"], "clerk1", env.settings())
    [ev] = env.outbox("intake.application_accepted")
    assert ev["kind"] == "supplement" and ev["deemed_accepted"] is False and not done["notice"]["late"]


def test_notice_days_are_a_setting_and_the_sweep_deems_acceptance(env):
    make_item(env)
    env.settings(supplement_notice_days=1)
    out = submit(env, materials_brought=["申请书", "居民身份证"], issue_notice=False)
    assert out["application"]["notice_due_on"] == "2025-01-26"  # make-up working Sunday
    with env.uow() as uow:
        assert not apps.deem_overdue(uow, out["application"]["id"], env.settings())
    env.clock.set(datetime(2025, 1, 27, 2, 0, tzinfo=timezone.utc))
    with env.uow(None) as uow:
        due = apps.overdue_received(uow, date(2025, 1, 27))
    assert due == [(T1, out["application"]["id"])]
    with env.uow() as uow:
        assert apps.deem_overdue(uow, out["application"]["id"], env.settings())
    with env.uow() as uow:
        assert not apps.deem_overdue(uow, out["application"]["id"], env.settings())  # once
    [ev] = env.outbox("intake.application_accepted")
    assert ev["deemed_accepted"] and ev["accepted_on"] == "2025-01-24"


def test_the_sweep_deems_acceptance_by_each_townships_own_local_date(env):
    """C12 in the township's zone (DOMAIN "Time"): at 15:30 UTC on Sun 26 Jan it is already the
    27th in Tokyo but still the 26th in Shanghai: only the Tokyo township's notice is overdue."""
    from services.intake import sweep

    ids = {}
    for township, zone in ((T1, "Asia/Shanghai"), (T2, "Asia/Tokyo")):
        make_item(env, township)
        env.settings(township, supplement_notice_days=1, timezone=zone)
        out = submit(env, township, materials_brought=["申请书", "居民身份证"], issue_notice=False)
        assert out["application"]["notice_due_on"] == "2025-01-26"
        ids[township] = out["application"]["id"]
    env.clock.set(datetime(2025, 1, 26, 15, 30, tzinfo=timezone.utc))
    assert sweep.sweep(env.units.sweep_run())["deemed_accepted"] == 1
    assert [e["application_id"] for e in env.outbox("intake.application_accepted")] == [ids[T2]]
    env.clock.set(datetime(2025, 1, 26, 16, 30, tzinfo=timezone.utc))  # the 27th in Shanghai too
    assert sweep.sweep(env.units.sweep_run())["deemed_accepted"] == 1
    assert sweep.sweep(env.units.sweep_run())["deemed_accepted"] == 0  # once


# -- I5 returns -------------------------------------------------------------------

def test_missing_main_material_is_returned_in_writing_and_recorded(env):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "户口簿复印件"])
    assert out["application"]["status"] == "returned" and out["receipt"] is None
    assert out["notice"]["kind"] == "return" and "居民身份证" in out["notice"]["reason"]
    [ev] = env.outbox("intake.application_returned")
    assert ev["signed_off_by"] is None and "居民身份证" in ev["reason"]
    with env.uow() as uow:
        assert [r["status"] for r in apps.list_returns(uow)] == ["returned"]


def test_returning_a_major_matter_needs_a_superiors_sign_off(env):
    make_item(env, major=True)
    out = submit(env, clerk="clerk1", return_reason="明显不符合低保政策")
    app_id = out["application"]["id"]
    assert out["application"]["status"] == "return_pending"
    assert env.outbox("intake.application_returned") == []
    with env.uow() as uow, pytest.raises(Forbidden):
        apps.sign_off_return(uow, app_id, "clerk2", ["clerk"], True, env.settings())
    with env.uow() as uow, pytest.raises(Forbidden):  # not the one who asked
        apps.sign_off_return(uow, app_id, "clerk1", ["clerk", "section_head"], True, env.settings())
    with env.uow() as uow:
        done = apps.sign_off_return(uow, app_id, "head1", ["section_head"], True, env.settings())
    assert done["application"]["status"] == "returned"
    [ev] = env.outbox("intake.application_returned")
    assert ev["signed_off_by"] == "head1" and ev["reason"] == "明显不符合低保政策"


def test_who_signs_off_is_a_setting_and_a_refused_return_goes_back(env):
    make_item(env, major=True)
    env.settings(return_signoff_roles=["director"])
    out = submit(env, return_reason="不符合条件")
    with env.uow() as uow, pytest.raises(Forbidden):
        apps.sign_off_return(uow, out["application"]["id"], "head1", ["section_head"], True, env.settings())
    with env.uow() as uow:
        done = apps.sign_off_return(uow, out["application"]["id"], "boss", ["director"], False,
                                    env.settings(), note="材料齐全，应予受理")
    assert done["application"]["status"] == "received"
    with env.uow() as uow:
        accepted = apps.issue_notice(uow, out["application"]["id"], "clerk1", env.settings())
    assert accepted["receipt"]["kind"] == "promised"


def review_changed(env, app, state, outcome=None, township=T1):
    """cases.review_changed as intake's handler receives it (C10), validated by its contract."""
    from services.common import events

    body = events.build("cases.review_changed", township, env.clock.now(), review_id="r" * 32,
                        receipt_no=app["receipt_no"], subject="return", case_id=None, application_id=app["id"],
                        state=state, outcome=outcome, answer=None if state == "pending" else "主件已在档，应予受理",
                        due_date="2025-02-10", provisional=False, requested_at="2025-01-27T02:00:00+00:00",
                        decided_at=None if state == "pending" else env.clock.now().isoformat())
    with env.uow(township) as uow:
        return apps.apply_review_change(uow, events.parse("cases.review_changed", body))


@pytest.mark.parametrize("state, outcome, status, code", [
    ("pending", None, "returned", "NOT_ACCEPTED"),
    ("decided", "upheld", "returned", "NOT_ACCEPTED"),
    ("decided", "overturned", "received", "RECEIVED"),  # C10: the return is undone, the window takes it up
])
def test_C10_a_review_overturning_a_return_reopens_the_application(env, state, outcome, status, code):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "户口簿复印件"])  # 居民身份证 (main) missing: returned
    app, number, password = out["application"], out["notice"]["receipt_no"], out["notice"]["query_password"]
    env.clock.set(datetime(2025, 2, 10, 2, 0, tzinfo=timezone.utc))  # Mon 10 Feb: long past the first notice day
    assert review_changed(env, dict(app, receipt_no=number), state, outcome) is True
    assert review_changed(env, dict(app, receipt_no=number), state, outcome) is True  # a redelivery: no harm
    _, shown = query(env, number, password)
    assert (shown["status"], shown["status_code"], shown["review"]["state"], shown["review"]["outcome"]) == \
        (status, code, state, outcome)
    if status == "returned":
        with env.uow() as uow, pytest.raises(Conflict):
            apps.issue_notice(uow, app["id"], "clerk1", env.settings())
        return
    with env.uow() as uow:
        got = apps.get_application(uow, app["id"], True)
    assert (got["status"], got["kind"], got["notice_due_on"]) == ("received", "supplement", "2025-02-17")
    assert sweep.sweep(env.units.sweep_run())["deemed_accepted"] == 0  # C12 counts from the reopening
    with env.uow() as uow:
        done = apps.issue_notice(uow, app["id"], "clerk1", env.settings())
    assert done["notice"]["missing"] == ["居民身份证", "收入证明"] and done["notice"]["late"] is False
    assert done["application"]["status"] == "supplement"
    [accepted] = env.outbox("intake.application_accepted")
    assert accepted["application_id"] == app["id"]


# -- I1 versions, proxy, personal data ----------------------------------------------------

def test_an_application_keeps_the_version_it_was_accepted_under(env):
    make_item(env)
    first = submit(env)
    with env.uow() as uow:
        v2 = catalogue.change_item(uow, "director1", "MZ-002", {"promised_days": 7})
    assert v2["version"] == 2
    second = submit(env)
    assert first["application"]["item_version"] == 1 and second["application"]["item_version"] == 2
    accepted = env.outbox("intake.application_accepted")
    assert [(e["item_version"], e["promised_days"]) for e in accepted] == [(1, 5), (2, 7)]


def test_proxy_needs_the_mandate_and_is_recorded(env):
    make_item(env)
    with pytest.raises(ValidationFailed) as exc:
        submit(env, proxy=True, agent_name="谢春花")
    assert "mandate_no" in exc.value.details
    out = submit(env, proxy=True, agent_person_id="agent1", mandate_no="QS-DL-2025-001")
    [ev] = env.outbox("intake.application_accepted")
    assert ev["proxy"] is True and ev["mandate_no"] == "QS-DL-2025-001"
    assert out["application"]["agent_person_id"] == "agent1"


def test_personal_data_is_masked_for_others_and_never_in_events(env):
    make_item(env)
    out = submit(env, materials_brought=["申请书", "居民身份证"])
    with env.uow() as uow:
        masked = apps.get_application(uow, out["application"]["id"], full=False)
        full = apps.get_application(uow, out["application"]["id"], full=True)
    assert masked["applicant"]["phone"] == "138****5678"
    assert masked["applicant"]["id_no"] == "110***********1234"
    assert full["applicant"]["id_no"] == "110101199003071234"
    events = json.dumps(env.outbox(), ensure_ascii=False)
    for secret in ("13812345678", "110101199003071234", "李秀兰"):
        assert secret not in events


def test_bad_input_names_the_field_and_writes_nothing(env):
    make_item(env)
    with pytest.raises(ValidationFailed) as exc:
        submit(env, applicant={"name": "李秀兰", "phone": "138", "id_no": "123"})
    assert set(exc.value.details["applicant"]) == {"phone", "id_no"}
    with pytest.raises(ValidationFailed) as exc:
        submit(env, materials_brought=["申请书", "营业执照"])
    assert "materials_brought" in exc.value.details
    with pytest.raises(NotFound):
        submit(env, item_code="NOPE-1")
    with env.uow() as uow:
        assert uow.session.query(Application).count() == 0
    assert env.outbox() == []


# -- status from cases (C13) ----------------------------------------------------------

def test_case_transitions_update_the_public_status_in_order(env):
    make_item(env)
    out = submit(env)
    r = out["receipt"]
    base = {"case_id": "c" * 32, "application_id": out["application"]["id"], "receipt_no": r["receipt_no"]}
    newer = dict(base, to_state="in_review", status_code="ACCEPTED", status_label="已受理", due_date=date(2025, 2, 7),
                 occurred_at=datetime(2025, 1, 24, 3, tzinfo=timezone.utc))
    older = dict(base, to_state="received", status_code="RECEIVED", due_date=None,
                 occurred_at=datetime(2025, 1, 24, 2, 30, tzinfo=timezone.utc))
    with env.uow() as uow:
        assert apps.apply_case_transition(uow, newer)
        assert not apps.apply_case_transition(uow, older)
    with env.uow(T2) as uow:  # another township's event does not touch it
        assert not apps.apply_case_transition(uow, dict(newer, to_state="delivered"))
    _, status = query(env, r["receipt_no"], r["query_password"])
    assert (status["status"], status["status_code"], status["status_label"], status["due_date"]) == \
        ("in_review", "ACCEPTED", "已受理", "2025-02-07")



def test_two_moves_in_the_same_instant_keep_the_later_one_whatever_arrives_last(env):
    """A case is received and accepted in one instant: the two events tie on time, and the
    broker may deliver them in either order. Their seq orders them (C13 status the applicant sees)."""
    make_item(env)
    out = submit(env)
    r = out["receipt"]
    at = datetime(2025, 1, 24, 3, tzinfo=timezone.utc)
    base = {"case_id": "c" * 32, "application_id": out["application"]["id"], "receipt_no": r["receipt_no"],
            "occurred_at": at}
    received = dict(base, to_state="received", status_code="RECEIVED", status_label="已接件", seq=1)
    accepted = dict(base, to_state="in_review", status_code="ACCEPTED", status_label="已受理", seq=2)
    with env.uow() as uow:
        assert apps.apply_case_transition(uow, accepted)
        assert not apps.apply_case_transition(uow, received)
    _, status = query(env, r["receipt_no"], r["query_password"])
    assert (status["status"], status["status_label"]) == ("in_review", "已受理")



def test_a_transition_delivered_again_changes_nothing_so_it_needs_no_processed_record(env):
    """Issue 9: intake keeps no processed-event record for a case transition with ``seq`` (one
    INSERT less per transition): a second delivery of the latest one must leave everything as it
    is — here after a deadline change that came in between."""
    make_item(env)
    out = submit(env)
    r = out["receipt"]
    at = datetime(2025, 1, 24, 3, tzinfo=timezone.utc)
    accepted = {"case_id": "c" * 32, "application_id": out["application"]["id"], "receipt_no": r["receipt_no"],
                "occurred_at": at, "to_state": "in_review", "status_code": "ACCEPTED", "status_label": "已受理",
                "seq": 2, "due_date": date(2025, 2, 7)}
    with env.uow() as uow:
        assert apps.apply_case_transition(uow, accepted)
    with env.uow() as uow:
        assert apps.apply_deadline_change(uow, {"case_id": "c" * 32, "receipt_no": r["receipt_no"],
                                                "due_date": date(2025, 2, 10), "provisional": False,
                                                "occurred_at": at + timedelta(hours=1)})
    with env.uow() as uow:
        assert not apps.apply_case_transition(uow, accepted)  # delivered again
    _, status = query(env, r["receipt_no"], r["query_password"])
    assert (status["status"], status["due_date"]) == ("in_review", "2025-02-10")

# -- C2a: the hall's days ----------------------------------------------------------------

@pytest.mark.parametrize("now_utc, kind_over, accepted_on, promised", [
    # Sat 12 Apr 2025 10:00 local: accepted Mon 14 Apr, 3 working days → Thu 17 Apr (DOMAIN C2a)
    (datetime(2025, 4, 12, 2, 0, tzinfo=timezone.utc), {"promised_days": 3}, "2025-04-14", "2025-04-17"),
    # Sun 13 Apr 23:30 local is still Sunday
    (datetime(2025, 4, 13, 15, 30, tzinfo=timezone.utc), {"promised_days": 3}, "2025-04-14", "2025-04-17"),
    # Mon 14 Apr 00:10 local is Monday: accepted that day
    (datetime(2025, 4, 13, 16, 10, tzinfo=timezone.utc), {"promised_days": 3}, "2025-04-14", "2025-04-17"),
    # an immediate item received on Saturday is due the Monday it is accepted, not that Saturday
    (datetime(2025, 4, 12, 2, 0, tzinfo=timezone.utc), {"default_kind": "immediate", "promised_days": 0},
     "2025-04-14", "2025-04-14"),
    # Fri 11 Apr: an ordinary working day
    (datetime(2025, 4, 11, 2, 0, tzinfo=timezone.utc), {"promised_days": 3}, "2025-04-11", "2025-04-16"),
])
def test_an_application_received_on_a_closed_day_is_accepted_on_the_next_working_day(
        env, now_utc, kind_over, accepted_on, promised):
    make_item(env, materials=[{"name": "申请书", "main": True}], **kind_over)
    env.clock.set(now_utc)
    out = submit(env, materials_brought=["申请书"])
    receipt = out["receipt"]
    assert receipt["accepted_on"] == accepted_on and receipt["promised_date"] == promised
    if receipt["received_on"] != accepted_on:
        assert f"顺延至 {accepted_on} 受理" in receipt["promise"]
    [event] = env.outbox("intake.application_accepted")
    assert event["accepted_on"] == accepted_on
    if kind_over.get("default_kind") == "immediate":
        assert event["promised_days"] == 0 and "最迟受理当日" in receipt["promise"]


@pytest.mark.parametrize("changed_at, provisional, applied", [
    (datetime(2025, 1, 24, 4, tzinfo=timezone.utc), False, True),   # C2: the year loaded, the date firm
    (datetime(2025, 1, 24, 2, tzinfo=timezone.utc), False, False),  # older than the state shown: left alone
])
def test_a_recomputed_deadline_reaches_the_applicants_status(env, changed_at, provisional, applied):
    make_item(env)
    r = submit(env)["receipt"]
    case = {"case_id": "c" * 32, "receipt_no": r["receipt_no"]}
    with env.uow() as uow:
        app_id = uow.session.scalar(select(Application.id).where(Application.receipt_no == r["receipt_no"]))
        apps.apply_case_transition(uow, dict(case, application_id=app_id, to_state="in_review", status_code="ACCEPTED",
                                             due_date=date(2027, 1, 4), provisional=True,
                                             occurred_at=datetime(2025, 1, 24, 3, tzinfo=timezone.utc)))
    with env.uow() as uow:
        assert apps.apply_deadline_change(uow, dict(case, due_date=date(2027, 1, 5), provisional=provisional,
                                                    occurred_at=changed_at)) is applied
    _, status = query(env, r["receipt_no"], r["query_password"])
    assert status["due_date"] == ("2027-01-05" if applied else "2027-01-04")
