"""I1 catalogue (versions, public view, validation) and I2 first-inquiry responsibility."""
from __future__ import annotations

import pytest

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.intake import catalogue, inquiries

from .conftest import T2, item_data, make_item


def test_a_change_makes_a_new_version_and_keeps_the_old(env):
    make_item(env)
    with env.uow() as uow:
        same = catalogue.change_item(uow, "d", "MZ-002", {"promised_days": 5})
        v2 = catalogue.change_item(uow, "d", "MZ-002", {"fee_cents": 500, "fee_basis": "工本费"})
    assert same["version"] == 1 and v2["version"] == 2 and v2["fee_cents"] == 500
    with env.uow() as uow:
        assert catalogue.get_item(uow, "MZ-002", 1)["fee_cents"] == 0
        assert catalogue.get_item(uow, "MZ-002")["version"] == 2
        assert [i["version"] for i in catalogue.list_items(uow)] == [2]
        with pytest.raises(Conflict):
            catalogue.create_item(uow, "d", item_data())


def test_public_catalogue_shows_published_current_versions_of_this_township_only(env):
    make_item(env)
    make_item(env, code="MZ-003", name="临时救助", published=False)
    make_item(env, township=T2, code="T2-001", name="别镇事项")
    with env.uow() as uow:
        public = catalogue.public_catalogue(uow)
        assert [i["code"] for i in public] == ["MZ-002"] and "created_by" not in public[0]
        with pytest.raises(NotFound):
            catalogue.public_item(uow, "MZ-003")
        with pytest.raises(NotFound):
            catalogue.public_item(uow, "T2-001")


@pytest.mark.parametrize("over, field", [
    ({"promised_days": 0}, "promised_days"),                       # promised needs ≥ 1 day
    ({"default_kind": "immediate", "promised_days": 3}, "promised_days"),
    ({"default_kind": "immediate", "promised_days": 1}, "promised_days"),  # I5: the promise is 0 days
    ({"fee_cents": 1000}, "fee_basis"),                             # a fee needs its basis
    ({"materials": [{"name": "a", "main": True}, {"name": "a", "main": False}]}, "materials"),
    ({"level": "province"}, "level"),
    ({"default_kind": "tacit"}, "default_kind"),
    ({"legal_basis": ""}, "legal_basis"),
    ({"materials": [{"name": "申请书"}]}, "materials"),              # main or attachment is required
])
def test_bad_items_name_the_field(env, over, field):
    with env.uow() as uow, pytest.raises(ValidationFailed) as exc:
        catalogue.create_item(uow, "d", item_data(**over))
    assert field in exc.value.details


def test_inquiry_referral_stays_on_the_first_asked_clerks_tracking_list_until_done(env):
    with env.uow() as uow:
        answered = inquiries.log_inquiry(uow, "clerk1", {"topic": "结婚登记要带什么？", "answer": "双方身份证和户口簿"})
        referred = inquiries.log_inquiry(uow, "clerk1", {"topic": "宅基地审批进度", "refer_to_window_id": "w6"})
    assert answered["status"] == "answered" and answered["done_by"] == "clerk1"
    assert referred["status"] == "referred" and referred["first_asked_person_id"] == "clerk1"
    with env.uow() as uow:
        assert [q["id"] for q in inquiries.tracking(uow, "clerk1")] == [referred["id"]]
        assert [q["id"] for q in inquiries.list_inquiries(uow, window_id="w6")] == [referred["id"]]
        done = inquiries.resolve(uow, referred["id"], "clerk6", "已告知办理进度")
    assert done["status"] == "done" and done["done_by"] == "clerk6"
    with env.uow() as uow:
        assert inquiries.tracking(uow, "clerk1") == []
        with pytest.raises(Conflict):
            inquiries.resolve(uow, referred["id"], "clerk6", "again")
    with env.uow(T2) as uow, pytest.raises(NotFound):
        inquiries.resolve(uow, answered["id"], "x", "y")


@pytest.mark.parametrize("data, field", [
    ({"topic": "x"}, "answer"),                                            # neither
    ({"topic": "x", "answer": "a", "refer_to_window_id": "w"}, "answer"),  # both
    ({"answer": "a"}, "topic"),
])
def test_an_inquiry_has_an_answer_or_a_referral(env, data, field):
    with env.uow() as uow, pytest.raises(ValidationFailed) as exc:
        inquiries.log_inquiry(uow, "clerk1", data)
    assert field in exc.value.details
