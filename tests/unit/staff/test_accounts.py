"""Accounts behind tokens (DOMAIN "Accounts"): activation codes, argon2id passwords, the
wrong-password lock, session expiry at the end of the local day, versions that move with the
person's rights, API keys. On SQLite with a frozen clock; the PostgreSQL race (30 parallel
attempts) is in tests/integration/test_accounts.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.common.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthorized, ValidationFailed
from services.staff import accountability, accounts
from services.staff import organisation as org
from services.staff.models import Account, SignInGuard

from .conftest import local

PASSWORD = "correct horse battery"


def open_account(world, key="a", username="clerk.a"):
    with world.uow() as uow:
        made = accounts.create_person_account(uow, world.people[key], username, by=world.people["director"])
    with world.uow(None) as uow:
        accounts.activate(uow, username, made["activation_code"], PASSWORD)
    return made


def sign_in(world, username="clerk.a", password=PASSWORD):
    return accounts.sign_in(lambda: world.uow(None), username, password)


def account(world, account_id) -> Account:
    with world.uow(None) as uow:
        return uow.session.get(Account, account_id)


def test_activation_code_is_one_time_and_stored_hashed(world):
    with world.uow() as uow:
        made = accounts.create_person_account(uow, world.people["a"], "Clerk.A")
    code = made["activation_code"]
    stored = account(world, made["account_id"])
    assert stored.username == "clerk.a" and stored.code_hash != code and code not in (stored.code_hash or "")
    with world.uow(None) as uow:
        assert accounts.activate(uow, "clerk.a", code, PASSWORD)["activated"]
    stored = account(world, made["account_id"])
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert stored.code_hash is None
    with pytest.raises(Unauthorized), world.uow(None) as uow:
        accounts.activate(uow, "clerk.a", code, "another long password")  # used once


@pytest.mark.parametrize("username,code_ok,days_later", [
    ("clerk.a", False, 0),       # wrong code
    ("nobody.here", True, 0),     # unknown user name: the same answer
    ("clerk.a", True, 8),        # expired (default 7 days)
])
def test_activation_refused_alike(world, username, code_ok, days_later):
    with world.uow() as uow:
        made = accounts.create_person_account(uow, world.people["a"], "clerk.a")
    world.clock.move(days=days_later)
    with pytest.raises(Unauthorized) as err, world.uow(None) as uow:
        accounts.activate(uow, username, made["activation_code"] if code_ok else "x" * 16, PASSWORD)
    assert "activation code" in err.value.message


@pytest.mark.parametrize("password,problem", [
    ("short", "10 to 200"),
    ("x" * 201, "10 to 200"),
    ("myclerk.a-password", "user name"),
])
def test_weak_passwords_are_refused_with_the_field_named(world, password, problem):
    with world.uow() as uow:
        made = accounts.create_person_account(uow, world.people["a"], "clerk.a")
    with pytest.raises(ValidationFailed) as err, world.uow(None) as uow:
        accounts.activate(uow, "clerk.a", made["activation_code"], password)
    assert problem in err.value.details["password"][0]


@pytest.mark.parametrize("username", ["ab", "Has Space", "-lead", "x" * 61, "中文名"])
def test_user_names_are_checked(world, username):
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        accounts.create_person_account(uow, world.people["a"], username)
    assert "username" in err.value.details


def test_a_user_name_is_one_account(world):
    open_account(world, "a", "same.name")
    with pytest.raises(Conflict), world.uow() as uow:
        accounts.create_person_account(uow, world.people["b"], "same.name")


def test_sign_in_gives_the_persons_current_roles_and_version(world):
    made = open_account(world)
    record = sign_in(world, "  CLERK.A ")
    assert record["account_id"] == made["account_id"] and record["person_id"] == world.people["a"]
    assert record["roles"] == ["clerk"] and record["township_id"] == world.township_id
    assert record["version"] == account(world, made["account_id"]).version
    assert PASSWORD not in repr(record)


@pytest.mark.parametrize("username,password", [("clerk.a", "wrong password!"), ("nobody.here", PASSWORD)])
def test_unknown_user_and_wrong_password_answer_alike(world, username, password):
    open_account(world)
    with pytest.raises(Unauthorized) as err:
        sign_in(world, username, password)
    assert err.value.message == accounts.BAD_CREDENTIALS


@pytest.mark.parametrize("username", ["clerk.a", "nobody.here"])
def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes(world, username):
    open_account(world)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            sign_in(world, username, "wrong password!")
    for password in ("wrong password!", PASSWORD):  # the right one too
        with pytest.raises(TooManyAttempts):
            sign_in(world, username, password)
    world.clock.move(minutes=14, seconds=59)
    with pytest.raises(TooManyAttempts):
        sign_in(world, username, PASSWORD)
    world.clock.move(seconds=2)
    if username == "clerk.a":
        assert sign_in(world)["person_id"] == world.people["a"]
    else:
        with pytest.raises(Unauthorized):
            sign_in(world, username, PASSWORD)


def test_a_right_password_frees_the_count(world):
    open_account(world)
    for _ in range(4):
        with pytest.raises(Unauthorized):
            sign_in(world, "clerk.a", "wrong password!")
    sign_in(world)
    for _ in range(4):
        with pytest.raises(Unauthorized):
            sign_in(world, "clerk.a", "wrong password!")
    assert sign_in(world)["roles"] == ["clerk"]
    with world.uow(None) as uow:
        guard = uow.session.scalar(select(SignInGuard).where(SignInGuard.key == accounts.name_key("clerk.a")))
        assert guard.failures == 0 and guard.locked_until is None
        assert "clerk.a" not in guard.key  # the name is stored as a digest


SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("now,tz,hours,expires", [
    (datetime(2025, 3, 3, 17, 0, tzinfo=SH), "Asia/Shanghai", 8, datetime(2025, 3, 4, 0, 0, tzinfo=SH)),
    (datetime(2025, 3, 3, 8, 0, tzinfo=SH), "Asia/Shanghai", 8, datetime(2025, 3, 3, 16, 0, tzinfo=SH)),
    (datetime(2025, 3, 3, 23, 59, tzinfo=SH), "Asia/Shanghai", 8, datetime(2025, 3, 4, 0, 0, tzinfo=SH)),
    (datetime(2025, 3, 3, 19, 0, tzinfo=SH), "Asia/Urumqi", 8, datetime(2025, 3, 4, 0, 0, tzinfo=ZoneInfo("Asia/Urumqi"))),
    (datetime(2025, 3, 3, 9, 0, tzinfo=SH), "Asia/Shanghai", 2, datetime(2025, 3, 3, 11, 0, tzinfo=SH)),
])
def test_a_session_ends_after_its_hours_and_never_past_local_midnight(now, tz, hours, expires):
    assert accounts.session_expiry(now.astimezone(timezone.utc), tz, hours) == expires


def test_a_token_issued_at_17_expires_by_midnight(world):
    open_account(world)
    world.at(2025, 3, 3, 17, 0)
    record = sign_in(world)
    assert datetime.fromisoformat(record["expires_at"]) == local(2025, 3, 4, 0, 0)


@pytest.mark.parametrize("change", [
    {"active": False}, {"roles": ["clerk", "inspector"]}, {"window_id": "health"},
])
def test_every_change_of_rights_moves_the_version_and_is_announced(world, change):
    made = open_account(world)
    before = account(world, made["account_id"]).version
    if change.get("window_id"):
        change = {"window_id": world.windows[change["window_id"]]}
    with world.uow() as uow:
        org.update_person(uow, world.people["a"], **change)
    after = account(world, made["account_id"])
    assert after.version == before + 1 and after.active is change.get("active", True)
    event = world.events("staff.access_changed")[-1]
    assert event["subject_id"] == made["account_id"] and event["version"] == after.version
    assert event["active"] is after.active
    assert PASSWORD not in repr(world.events("staff.access_changed"))


def test_a_change_without_rights_keeps_the_version(world):
    made = open_account(world)
    before = account(world, made["account_id"]).version
    with world.uow() as uow:
        org.update_person(uow, world.people["a"], name="新名字", phone="13900001111")
    assert account(world, made["account_id"]).version == before


def test_removal_from_the_window_moves_the_version(world):
    made = open_account(world)
    before = account(world, made["account_id"]).version
    with world.uow() as uow:
        case = accountability.record_fault(uow, world.people["inspector"], world.people["a"], "服务态度",
                                           "serious", "与群众争吵")
    assert case["removed_from_window"]
    assert account(world, made["account_id"]).version == before + 1


def test_sign_out_and_password_change_move_the_version(world):
    made = open_account(world)
    v1 = account(world, made["account_id"]).version
    with world.uow(None) as uow:
        assert accounts.sign_out(uow, made["account_id"])["version"] == v1 + 1
    with pytest.raises(ValidationFailed), world.uow(None) as uow:
        accounts.change_password(uow, made["account_id"], "not my password", "a new long password")
    with world.uow(None) as uow:
        assert accounts.change_password(uow, made["account_id"], PASSWORD, "a new long password")["version"] == v1 + 2
    with pytest.raises(Unauthorized):
        sign_in(world)
    assert sign_in(world, password="a new long password")["version"] == v1 + 2


def test_a_deactivated_person_cannot_sign_in(world):
    open_account(world)
    with world.uow() as uow:
        org.update_person(uow, world.people["a"], active=False)
    with pytest.raises(Forbidden):
        sign_in(world)


def test_a_suspended_township_refuses_sign_in_and_moves_its_version(world):
    open_account(world)
    with world.uow(None) as uow:
        township = org.get_township(uow, world.township_id)
        out = accounts.set_township_suspended(uow, township, True)
    assert out["suspended"] and out["version"] == 2
    with pytest.raises(Forbidden):
        sign_in(world)
    snapshot = world_snapshot(world)
    assert snapshot["townships"][world.township_id] == [2, False]
    with world.uow(None) as uow:
        accounts.set_township_suspended(uow, org.get_township(uow, world.township_id), False)
    assert sign_in(world)["township_version"] == 3


def world_snapshot(world):
    with world.uow(None) as uow:
        snap = accounts.access_snapshot(uow)
    return {"accounts": {a[0]: a[1:] for a in snap["accounts"]}, "townships": {t[0]: t[1:] for t in snap["townships"]}}


def test_operator_account_signs_in_without_a_township(world):
    with world.uow(None) as uow:
        made = accounts.create_operator(uow, "ops.one")
    with world.uow(None) as uow:
        accounts.activate(uow, "ops.one", made["activation_code"], PASSWORD)
    record = sign_in(world, "ops.one")
    assert record["roles"] == ["operator"] and record["township_id"] is None and record["person_id"] is None


@pytest.mark.parametrize("name,roles,days,field", [
    ("大厅自助机", ["clerk"], 91, "days"),
    ("大厅自助机", ["clerk"], 0, "days"),
    ("大厅自助机", ["operator"], 30, "roles"),
    ("大厅自助机", [], 30, "roles"),
    ("", ["clerk"], 30, "name"),
])
def test_api_keys_need_a_name_roles_and_at_most_90_days(world, name, roles, days, field):
    with pytest.raises(ValidationFailed) as err, world.uow() as uow:
        accounts.create_key(uow, name, roles, days)
    assert field in err.value.details


def test_api_keys_are_listed_and_revoked_by_township(world):
    with world.uow() as uow:
        key = accounts.create_key(uow, "显示屏", ["guard"], 90, by=world.people["director"])
    assert key["kind"] == "key" and key["roles"] == ["guard"] and key["person_id"] is None
    assert datetime.fromisoformat(key["expires_at"]) == world.clock.now() + timedelta(days=90)
    with world.uow(None) as uow:
        other = org.create_township(uow, "other", "别镇", {"name": "X"})["township"]["id"]
    with pytest.raises(NotFound), world.uow(other) as uow:
        accounts.revoke_key(uow, key["account_id"])
    with world.uow(other) as uow:
        assert accounts.list_keys(uow) == []
    with world.uow() as uow:
        revoked = accounts.revoke_key(uow, key["account_id"])
    assert revoked["active"] is False and revoked["revoked_at"]
    assert world_snapshot(world)["accounts"][key["account_id"]] == [2, False]


def test_the_snapshot_stamp_moves_with_every_change_and_spares_an_unchanged_table(world):
    made = open_account(world)
    with world.uow(None) as uow:
        first = accounts.access_snapshot(uow)
    with world.uow(None) as uow:
        assert accounts.access_snapshot(uow, first["stamp"]) == {"stamp": first["stamp"], "unchanged": True}
    with world.uow(None) as uow:
        accounts.sign_out(uow, made["account_id"])
    with world.uow(None) as uow:
        second = accounts.access_snapshot(uow, first["stamp"])
    assert second["stamp"] != first["stamp"] and second["accounts"]
