"""I5 六件管理: the classification table (seed 002), with main (主件) and attachment (附件)
materials, the joint threshold (a setting, default 2) and the escalated level."""
from __future__ import annotations

import pytest

from services.common.errors import ValidationFailed
from services.intake.applications import classify, target_kind

MATS = [
    {"name": "申请书", "main": True},
    {"name": "身份证", "main": True},
    {"name": "户口簿复印件", "main": False},
    {"name": "照片", "main": False},
]
ALL = ["申请书", "身份证", "户口簿复印件", "照片"]


def item(default_kind="promised", departments=(), level="township"):
    return {"materials": MATS, "default_kind": default_kind, "departments": list(departments), "level": level}


@pytest.mark.parametrize("case, it, brought, present, threshold, kind, target, missing", [
    # complete materials → the target kind
    ("immediate, complete", item("immediate"), ALL, [], 2, "immediate", "immediate", []),
    ("promised, complete", item("promised"), ALL, [], 2, "promised", "promised", []),
    ("joint: 2 departments, threshold 2", item(departments=["a", "b"]), ALL, [], 2, "joint", "joint", []),
    ("not joint: 2 departments, threshold 3", item(departments=["a", "b"]), ALL, [], 3, "promised", "promised", []),
    ("joint: 3 departments, threshold 3", item(departments=["a", "b", "c"]), ALL, [], 3, "joint", "joint", []),
    ("one department is not joint", item("immediate", departments=["a"]), ALL, [], 2, "immediate", "immediate", []),
    ("escalated: county level", item(level="county"), ALL, [], 2, "escalated", "escalated", []),
    ("escalated wins over joint", item(level="county", departments=["a", "b"]), ALL, [], 2,
     "escalated", "escalated", []),
    # supplement (补办件): main present but not brought, or attachments missing
    ("attachment missing", item(), ["申请书", "身份证", "照片"], [], 2, "supplement", "promised", ["户口簿复印件"]),
    ("all attachments missing", item("immediate"), ["申请书", "身份证"], [], 2, "supplement", "immediate",
     ["户口簿复印件", "照片"]),
    ("main present, not brought", item(), ["申请书", "户口簿复印件", "照片"], ["身份证"], 2, "supplement",
     "promised", ["身份证"]),
    ("main at home and attachment missing: notice lists both", item(departments=["a", "b"]), ["申请书"],
     ["身份证"], 2, "supplement", "joint", ["身份证", "户口簿复印件", "照片"]),
    # returned (退回件): a main material is missing altogether
    ("main missing", item(), ["申请书", "户口簿复印件", "照片"], [], 2, "returned", "promised", ["身份证"]),
    ("nothing brought", item(), [], [], 2, "returned", "promised", ALL),
])
def test_classification_table(case, it, brought, present, threshold, kind, target, missing):
    c = classify(it, brought, present, threshold)
    assert (c.kind, c.target_kind, c.missing) == (kind, target, missing), case


def test_return_names_the_missing_main_materials():
    c = classify(item(), ["户口簿复印件"], ["申请书"], 2)
    assert c.kind == "returned" and c.missing_main == ["身份证"]
    assert "身份证" in c.reason and "申请书" not in c.reason


def test_clearly_against_policy_is_returned_with_the_clerks_reason():
    c = classify(item(), ALL, [], 2, against_policy="申请人家庭收入高于低保标准")
    assert c.kind == "returned" and c.reason == "申请人家庭收入高于低保标准"


@pytest.mark.parametrize("brought, present, field", [
    (["申请书", "营业执照"], [], "materials_brought"),
    (ALL, ["结婚证"], "materials_present"),
])
def test_a_material_not_on_the_item_is_a_named_field_error(brought, present, field):
    with pytest.raises(ValidationFailed) as exc:
        classify(item(), brought, present, 2)
    assert field in exc.value.details


@pytest.mark.parametrize("departments, threshold, expected", [
    ([], 2, "promised"), (["a"], 2, "promised"), (["a", "b"], 2, "joint"), (["a", "b"], 3, "promised"),
    (["a", "b", "c", "d"], 4, "joint"),
])
def test_joint_threshold_is_data(departments, threshold, expected):
    assert target_kind(item(departments=departments), threshold) == expected
