"""T1 window rankings and the statistics CSV (gateway.statistics): the stated ranking rule as a
table, complaints joined per window and person, CSV in UTF-8 with the figures as shown."""
from __future__ import annotations

import csv
import io

import pytest

from gateway import statistics as stats


def window(wid, number, completed=0, on_time=0, rated=0, satisfied=0):
    return {"window_id": wid, "number": number, "name": f"窗口{number}", "received": completed,
            "completed": completed, "on_time": on_time, "late": completed - on_time, "tacit_approved": 0,
            "rated": rated, "satisfied": satisfied,
            "on_time_rate": round(on_time / completed, 4) if completed else None,
            "avg_working_days": 1.0 if completed else None,
            "satisfaction": round(satisfied / rated, 4) if rated else None}


def figures(*windows, people=None):
    township = window(None, None, sum(w["completed"] for w in windows), sum(w["on_time"] for w in windows))
    out = {"month": "2025-03", "from": "2025-03-01", "to": "2025-03-31", "township": township,
           "windows": list(windows)}
    if people is not None:
        out["people"] = people
    return out


@pytest.mark.parametrize("windows, complaints, order, ranks", [
    # on-time rate first
    ([window("a", 1, 4, 3), window("b", 2, 2, 2)], {}, [2, 1], [1, 2]),
    # equal rate: satisfaction decides; no rating ranks below any rating
    ([window("a", 1, 2, 2), window("b", 2, 2, 2, rated=2, satisfied=1), window("c", 3, 2, 2, rated=1, satisfied=1)],
     {}, [3, 2, 1], [1, 2, 3]),
    # equal rate and satisfaction: fewer verified complaints first
    ([window("a", 1, 2, 2), window("b", 2, 2, 2)], {"a": 1}, [2, 1], [1, 2]),
    # then more cases completed
    ([window("a", 1, 2, 2), window("b", 2, 4, 4)], {}, [2, 1], [1, 2]),
    # equal on every key: the same rank, listed by number; the next rank skips (1, 1, 3)
    ([window("b", 2, 2, 2), window("a", 1, 2, 2), window("c", 3, 2, 1)], {}, [1, 2, 3], [1, 1, 3]),
    # a window with nothing completed is listed last, unranked, even with a rating
    ([window("a", 1, 0, 0, rated=1, satisfied=1), window("b", 2, 1, 0)], {}, [2, 1], [1, None]),
])
def test_window_ranking_rule(windows, complaints, order, ranks):
    result = stats.combine(figures(*windows), {"total": sum(complaints.values()), "windows": complaints})
    assert [w["number"] for w in result["windows"]] == order
    assert [w["rank"] for w in result["windows"]] == ranks
    assert result["township"]["complaints_verified"] == sum(complaints.values())


def test_people_get_names_and_their_verified_complaints_even_without_cases():
    person = {**window(None, None, 2, 1), "person_id": "p1"}
    del person["window_id"], person["number"], person["name"]
    result = stats.combine(figures(window("a", 1, 2, 1), people=[person]),
                           {"total": 2, "windows": {"a": 2}, "people": {"p1": 1, "p2": 1}},
                           [{"id": "p1", "name": "王晓燕", "badge_no": "007", "window_id": "a"},
                            {"id": "p2", "name": "李俊", "badge_no": "008", "window_id": "a"}])
    rows = {p["name"]: p for p in result["people"]}
    assert rows["王晓燕"]["completed"] == 2 and rows["王晓燕"]["complaints_verified"] == 1
    assert rows["李俊"]["completed"] == 0 and rows["李俊"]["complaints_verified"] == 1


def test_csv_has_the_township_then_ranked_windows_with_percentages():
    result = stats.combine(figures(window("a", 1, 4, 3, rated=4, satisfied=3), window("b", 2, 2, 2)),
                           {"total": 1, "windows": {"a": 1}})
    rows = list(csv.reader(io.StringIO(stats.to_csv(result, "青山镇"))))
    assert rows[0] == stats.HEADER
    assert rows[1][:5] == ["全镇", "", "", "青山镇", "6"] and rows[1][-1] == "1"
    assert [r[1:4] for r in rows[2:]] == [["1", "2", "窗口2"], ["2", "1", "窗口1"]]
    assert rows[3][9] == "75.0%" and rows[3][13] == "75.0%" and rows[2][13] == ""


class _Request:
    remote_addr = "203.0.113.7"
    headers: dict = {}


class _Hall:
    """The route's collaborators: intake answers the receipt, cases is away or answers."""

    def __init__(self, cases_error=None):
        self.cases_error = cases_error
        self.intake = self
        self.cases = self
        self.asked = []

    def public_township(self, code):
        return {"id": "t1", "code": code, "name": "青山镇"}

    def query_receipt(self, number, password, client):
        self.asked.append((number, password, client))
        return {"receipt_no": number, "status": "in_review", "status_label": "已受理", "status_code": "ACCEPTED"}

    def public_timeline(self, number):
        if self.cases_error:
            raise self.cases_error
        return {"timeline": [{"at": "2025-03-03T02:00:00+00:00", "status_code": "RECEIVED", "label": "已接件"}],
                "rated": False, "status": "in_review", "status_label": "已受理", "status_code": "ACCEPTED"}


def test_receipt_timeline_checks_the_password_first_and_survives_cases_being_away():
    from gateway.routes.transparency import TransparencyRoutes
    from services.common.errors import ServiceUnavailable

    route = TransparencyRoutes.public_receipt_timeline
    up = _Hall()
    body = route(up, _Request(), "qs", "R1", {"password": "pw"})
    assert up.asked == [("R1", "pw", "203.0.113.7")] and body["timeline"][0]["label"] == "已接件"
    away = _Hall(ServiceUnavailable.of("cases", "not running (no queue on the broker)"))
    body = route(away, _Request(), "qs", "R1", {"password": "pw"})
    assert (body["status_label"], body["timeline"]) == ("已受理", [])
