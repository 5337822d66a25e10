"""Transparency (DOMAIN T1, T2): the published statistics and rankings, the service promises
and complaint channels, the red-flag window, a receipt's status timeline, and the public web
pages (办事指南, receipt query and rating, complaint form, the hall's display screen) served as
static files from ``gateway/pages`` — plain HTML, CSS and JavaScript, no build step.

Statistics join two bounded RPCs: cases counts cases and ratings, complaints counts verified
complaints (each owns its data); ``gateway.statistics`` ranks the windows and writes the CSV.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.common.errors import NotFound, ServiceUnavailable
from services.common.tenancy import AUDITORS
from services.common.validate import Schema
from services.contracts import transparency as out

from .. import statistics as stats
from ..api import api, client_address
from .staff import csv_response

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
PAGES = ("index", "guide", "receipt", "complaint", "display")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class StatisticsQuery(Schema):
    month = fields.String(validate=validate.Regexp(r"^\d{4}-\d{2}$", error="a month as YYYY-MM"),
                          metadata={"example": "2025-03"})


class TimelineIn(Schema):
    password = fields.String(required=True, validate=validate.Length(1, 64), metadata={"example": "K7M3Q9XA2B"})


def _file(name: str) -> Path | None:
    """A file of ``gateway/pages`` by plain name (no folders: nothing outside can be reached)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = PAGES_DIR / name
    return path if path.is_file() else None


def _static(path: Path, status: int = 200) -> Response:
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype in ("application/javascript", "text/javascript"):
        mimetype += "; charset=utf-8"
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return Response(path.read_bytes(), status=status, headers={**headers, "Content-Type": mimetype})


class TransparencyRoutes:
    # -- statistics (T1 public, T2 per person) ----------------------------------------------
    def _month_statistics(self, month, per_person: bool) -> dict:
        figures = self.cases.statistics(month=month, per_person=per_person)
        complaints = self.complaints.verified_counts(month=figures["month"], per_person=per_person)
        people = self.staff.list_people() if per_person else None
        return stats.combine(figures, complaints, people)

    @api("GET", "/public/townships/<string:code>/statistics", response=out.Statistics, public=True,
         query=StatisticsQuery,
         tags=["public", "statistics"],
         summary="A month's published figures: township and windows, ranked (T1)",
         description="Received, completed, completed on time (on-time rate), average working days to "
                     "completion, satisfaction (share of ratings 4–5) and verified complaints, per window "
                     "and for the township, for a local month (default: this month). No personal data.")
    def public_statistics(self, request, code, query):
        self.public_township(code)
        return self._month_statistics(query.get("month"), per_person=False)

    @api("GET", "/public/townships/<string:code>/statistics/today", response=out.Statistics, public=True,
         tags=["public", "statistics"],
         summary="Today's figures (received, completed, on time), township and windows (T1)")
    def public_statistics_today(self, request, code):
        self.public_township(code)
        return self.cases.statistics(day="today")

    @api("GET", "/public/townships/<string:code>/statistics/csv", public=True, query=StatisticsQuery,
         tags=["public", "statistics"], content_type="text/csv",
         summary="A month's published figures as CSV (UTF-8 with BOM)")
    def public_statistics_csv(self, request, code, query):
        township = self.public_township(code)
        result = self._month_statistics(query.get("month"), per_person=False)
        return csv_response(stats.to_csv(result, township.get("name") or code),
                            f"statistics-{code}-{result['month']}.csv")

    @api("GET", "/statistics", response=out.Statistics, roles=AUDITORS, query=StatisticsQuery,
         tags=["statistics"],
         summary="A month's figures with every person's (T2: for managers)")
    def statistics(self, request, query):
        return self._month_statistics(query.get("month"), per_person=True)

    @api("GET", "/statistics/csv", roles=AUDITORS, query=StatisticsQuery, tags=["statistics"],
         content_type="text/csv", summary="A month's figures with every person's, as CSV (UTF-8 with BOM)")
    def statistics_csv(self, request, query):
        result = self._month_statistics(query.get("month"), per_person=True)
        return csv_response(stats.to_csv(result), f"statistics-{result['month']}.csv")

    # -- what the hall publishes (T1) ---------------------------------------------------------
    @api("GET", "/public/townships/<string:code>/notices", response=out.Notices, public=True, tags=["public"],
         summary="The township's name, service promises (服务承诺) and complaint channels (T1)")
    def public_notices(self, request, code):
        township = self.public_township(code)
        return {"township": {"code": township["code"], "name": township["name"], "timezone": township["timezone"]},
                **self.intake.public_notices()}

    @api("GET", "/public/townships/<string:code>/red-flag", response=out.RedFlag, public=True, tags=["public"],
         summary="The red-flag window (红旗窗口) of the last finished quarter (S7, T1)")
    def public_red_flag(self, request, code):
        self.public_township(code)
        return self.staff.public_red_flag()

    @api("POST", "/public/townships/<string:code>/receipts/<string:number>/timeline",
         response=out.ReceiptTimeline, public=True,
         body=TimelineIn, errors=(429,), tags=["public", "intake"], example={"password": "K7M3Q9XA2B"},
         summary="Status and timeline of an application by receipt number and query password (I4, C13)",
         description="Checked and limited exactly as the status query: a wrong password and an unknown "
                     "number both answer 404 with the same message; too many wrong tries answer 429.")
    def public_receipt_timeline(self, request, code, number, body):
        self.public_township(code)
        status = self.intake.query_receipt(number, body["password"], client_address(request))
        try:
            timeline = self.cases.public_timeline(number)
        except ServiceUnavailable:  # intake's status still answers; the timeline waits for cases
            timeline = {"timeline": [], "rated": False, "reviewable": False}
        return {**status, **timeline}

    # -- pages ------------------------------------------------------------------------------------
    @api("GET", "/public/townships/<string:code>/pages/<string:page>", public=True, tags=["pages"],
         content_type="text/html", responses={404: ("text/html", {"type": "string"})},
         summary="Public web pages: index, guide (办事指南), receipt, complaint, display (大厅显示屏)")
    def public_page(self, request, code, page):
        if page not in PAGES:
            return _static(PAGES_DIR / "404.html", 404)
        try:
            self.public_township(code)
        except NotFound:
            return _static(PAGES_DIR / "404.html", 404)
        return _static(PAGES_DIR / f"{page}.html")

    @api("GET", "/public/assets/<string:name>", public=True, tags=["pages"], content_type="text/css",
         summary="The pages' style sheet and scripts")
    def public_asset(self, request, name):
        path = _file(name)
        if path is None or path.suffix not in (".css", ".js", ".svg", ".png"):
            raise NotFound(f"no asset {name}")
        return _static(path)
