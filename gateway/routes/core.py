"""Core routes: health, OpenAPI, metrics, townships, organisation, tokens, calendar."""
from __future__ import annotations

import time

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.common.clock import DEFAULT_TZ
from services.common.tenancy import LEADERS, OPERATOR, STAFF
from services.common.validate import Schema
from services.contracts import staff as staff_out
from services.contracts.platform import (
    CalendarAnswer, CalendarChange, Health, Me, OpenApiDocument, Settings,
)

from .. import auth
from ..api import api



USERNAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,59}$"


class DirectorIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 60))
    username = fields.String(validate=validate.Regexp(USERNAME_RE), metadata={"example": "qingshan-director"})
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9-]{6,20}$"))
    badge_no = fields.String(validate=validate.Length(1, 30))
    home_unit = fields.String(validate=validate.Length(1, 100))


class TownshipIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,39}$"),
                         metadata={"example": "qingshan"})
    name = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "青山镇"})
    timezone = fields.String(load_default=DEFAULT_TZ)
    director = fields.Nested(DirectorIn, required=True)


class DepartmentIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "民政办"})


class WindowIn(Schema):
    number = fields.Integer(required=True, validate=validate.Range(1, 999))
    name = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "民政窗口"})
    department_id = fields.String()
    fee_window = fields.Boolean(metadata={"description": "the township's fee window (C8); marking one "
                                                         "unmarks the one before", "example": False})


class ABPairIn(Schema):
    a_person_id = fields.String(required=True)
    b_person_id = fields.String(required=True)


class PersonIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 60))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF)), required=True,
                        validate=validate.Length(min=1))
    window_id = fields.String()
    department_id = fields.String()
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9-]{6,20}$"))
    badge_no = fields.String(validate=validate.Length(1, 30))
    home_unit = fields.String(validate=validate.Length(1, 100))


class PersonPatch(Schema):
    name = fields.String(validate=validate.Length(1, 60))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF)), validate=validate.Length(min=1))
    window_id = fields.String()
    department_id = fields.String()
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9-]{6,20}$"))
    badge_no = fields.String(validate=validate.Length(1, 30))
    home_unit = fields.String(validate=validate.Length(1, 100))
    active = fields.Boolean()


class TownshipPatch(Schema):
    suspended = fields.Boolean(required=True)


class AccountIn(Schema):
    username = fields.String(required=True, validate=validate.Regexp(USERNAME_RE), metadata={"example": "wang.xiaoyan"})


class ActivationIn(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "wang.xiaoyan"})
    code = fields.String(required=True, validate=validate.Length(1, 100))
    password = fields.String(required=True, validate=validate.Length(1, 1000),
                             metadata={"description": "10 to 200 characters, not containing the user name"})


class SignInIn(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "wang.xiaoyan"})
    password = fields.String(required=True, validate=validate.Length(1, 1000))


class PasswordIn(Schema):
    old_password = fields.String(required=True, validate=validate.Length(1, 1000))
    new_password = fields.String(required=True, validate=validate.Length(1, 1000))


class ApiKeyIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "大厅显示屏"})
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF)), required=True,
                        validate=validate.Length(min=1), metadata={"example": ["guard"]})
    days = fields.Integer(load_default=30, validate=validate.Range(1, 90))


class CalendarDayIn(Schema):
    day = fields.Date(required=True)
    working = fields.Boolean(required=True)
    note = fields.String(validate=validate.Length(max=200))


class CalendarIn(Schema):
    days = fields.List(fields.Nested(CalendarDayIn), load_default=list)
    cleared = fields.List(fields.Date(), load_default=list)
    loaded_year = fields.Integer(validate=validate.Range(2000, 2100), allow_none=True)


class SettingsIn(Schema):
    changes = fields.Dict(keys=fields.String(), required=True,
                          metadata={"example": {"tacit_approval_enabled": True}})


def _calendar_args(body: dict) -> dict:
    return {
        "days": [{"day": d["day"].isoformat(), "working": d["working"], "note": d.get("note")} for d in body["days"]],
        "cleared": [d.isoformat() for d in body["cleared"]],
        "loaded_year": body.get("loaded_year"),
    }


class PublicTownships:
    """Public routes carry the township code in the path; this resolves it (cached)."""

    _township_cache: dict = {}
    TOWNSHIP_CACHE_SECONDS = 60

    def public_township(self, code: str) -> dict:
        hit = self._township_cache.get(code)
        if hit and hit[1] > time.monotonic():
            township = hit[0]
        else:
            township = self.staff.resolve_township(code)
            self._township_cache[code] = (township, time.monotonic() + self.TOWNSHIP_CACHE_SECONDS)
        self.context["township_id"] = township["id"]
        self.context["roles"] = ["public"]
        return township


class CoreRoutes(PublicTownships):
    # -- platform ------------------------------------------------------------
    @api("GET", "/health", response=Health, responses={503: Health}, public=True, platform=True,
         tags=["platform"],
         summary="Health of the broker and every service (from the last background probes; never waits on a service)")
    def get_health(self, request):
        report, _ = self._health_report()
        return (200 if report["ok"] else 503), report

    @api("GET", "/ready", response=Health, responses={503: Health}, public=True, platform=True,
         tags=["platform"],
         summary="Readiness of this gateway instance: it can check tokens and reach the broker",
         description="For load balancers and the k8s readiness probe. A service that is down costs "
                     "only its own routes (fast 503 naming it), so it does not make the gateway "
                     "unready: every replica would otherwise leave the load balancer together. "
                     "The services' states are in the body, as on /health.")
    def get_ready(self, request):
        report, ready = self._health_report()
        report["ok"] = ready
        return (200 if ready else 503), report

    def _health_report(self) -> tuple[dict, bool]:
        """(the report with every service's state, whether this gateway itself can serve)."""
        from ..resilience import CLOSED, service_proxies

        report = {"service": "gateway", "ok": True, "checks": {}, "services": {}}
        for name, proxy in sorted(service_proxies(self.metrics.container).items()):
            state = proxy.state()
            probe = state["last_probe"]
            report["services"][name] = state
            if probe.get("ok") and state["breaker"] == CLOSED:
                report["checks"][name] = "ok"
            else:
                report["ok"] = False
                detail = probe.get("detail")
                report["checks"][name] = detail if isinstance(detail, dict) else (
                    f"breaker {state['breaker']}" if probe.get("ok") else str(detail))
        # bearer tokens are accepted only while the copy of account versions is fresh
        report["checks"]["tokens"] = "ok" if self.access.fresh else "account versions not loaded (staff unreachable)"
        report["checks"]["broker"] = self._broker_state()
        ready = report["checks"]["tokens"] == "ok" and report["checks"]["broker"] == "ok"
        report["ok"] = report["ok"] and ready
        return report, ready

    def _broker_state(self) -> str:
        """The broker as last checked; a check older than 2 s is renewed in the background, so
        /health itself never waits on the network."""
        from services.common.service import broker_check

        cached = getattr(CoreRoutes, "_broker_cache", None)
        if cached is None or (cached[1] < time.monotonic() and not cached[2]):
            CoreRoutes._broker_cache = (cached[0] if cached else "not checked yet", time.monotonic() + 2, True)
            amqp_uri = self.config["AMQP_URI"]

            def check():
                CoreRoutes._broker_cache = (broker_check(amqp_uri), time.monotonic() + 2, False)

            self.metrics.container.spawn_managed_thread(check, identifier="health-broker-check")
            if cached is None:  # the first time: wait for it, briefly
                from services.common import green

                for _ in range(30):
                    if not CoreRoutes._broker_cache[2]:
                        break
                    green.sleep(0.01)
        return CoreRoutes._broker_cache[0]

    @api("GET", "/openapi.json", response=OpenApiDocument, public=True, platform=True, tags=["platform"],
         summary="This API's OpenAPI 3 document")
    def get_openapi(self, request):
        from ..openapi import build_spec

        return build_spec(type(self))

    @api("GET", "/metrics", public=True, platform=True, tags=["platform"],
         summary="Prometheus metrics of this gateway instance", content_type="text/plain")
    def get_metrics(self, request):
        return Response(self.metrics.expose(), mimetype="text/plain; version=0.0.4")

    @api("GET", "/me", response=Me, tags=["platform"], summary="Who the token says you are")
    def get_me(self, request):
        return {k: self.context.get(k) for k in ("township_id", "person_id", "roles")}

    # -- townships (operator) --------------------------------------------------
    @api("POST", "/townships", response=staff_out.TownshipCreated, roles=OPERATOR, body=TownshipIn,
         status=201, tags=["organisation"],
         summary="Create a township and its first director (returns the director's one-time activation code)")
    def create_township(self, request, body):
        director = dict(body["director"])
        username = director.pop("username", None) or f"{body['code']}-director"
        created = self.staff.create_township(body["code"], body["name"], director, body["timezone"])
        # not part of the (recorded, replayable) create_township command: the code is a secret
        created["director_account"] = self.staff.create_director_account(
            created["township"]["id"], created["director"]["id"], username)
        return 201, created

    @api("PATCH", "/townships/<string:township_id>", response=staff_out.TownshipAccess, roles=OPERATOR,
         body=TownshipPatch, tags=["organisation"],
         summary="Suspend a township (every token of it is refused within seconds) or reinstate it")
    def update_township(self, request, township_id, body):
        out = self.staff.set_township_suspended(township_id, body["suspended"])
        self.access.apply("township", out["id"], out["version"], not out["suspended"])
        return out

    @api("GET", "/townships", response=staff_out.Township(many=True), roles=OPERATOR,
         tags=["organisation"], summary="All townships")
    def list_townships(self, request):
        return self.staff.list_townships()

    @api("PUT", "/calendar/national", response=CalendarChange, roles=OPERATOR, body=CalendarIn, tags=["calendar"],
         summary="Load or change the national working-day calendar (e.g. next year's State Council schedule)")
    def change_national_calendar(self, request, body):
        return self.staff.change_calendar(national=True, **_calendar_args(body))

    # -- organisation (director) -------------------------------------------------
    @api("POST", "/departments", response=staff_out.Department, roles=LEADERS, body=DepartmentIn, status=201,
         tags=["organisation"])
    def create_department(self, request, body):
        return 201, self.staff.create_department(**body)

    @api("GET", "/departments", response=staff_out.Department(many=True), tags=["organisation"])
    def list_departments(self, request):
        return self.staff.list_departments()

    @api("POST", "/windows", response=staff_out.Window, roles=LEADERS, body=WindowIn, status=201,
         tags=["organisation"])
    def create_window(self, request, body):
        return 201, self.staff.create_window(**body)

    @api("GET", "/windows", response=staff_out.Window(many=True), tags=["organisation"])
    def list_windows(self, request):
        return self.staff.list_windows()

    @api("PUT", "/windows/<string:window_id>/ab-pair", response=staff_out.Window, roles=LEADERS,
         body=ABPairIn, tags=["organisation"],
         summary="Set a window's A and B clerks (C7)")
    def set_ab_pair(self, request, window_id, body):
        return self.staff.set_ab_pair(window_id, body["a_person_id"], body["b_person_id"])

    @api("PUT", "/windows/<string:window_id>/fee-window", response=staff_out.Window, roles=LEADERS,
         tags=["organisation"],
         summary="Mark the township's fee window: fees are taken there only (统一收费, C8); the window "
                 "marked before is unmarked")
    def set_fee_window(self, request, window_id):
        return self.staff.set_fee_window(window_id)

    @api("POST", "/people", response=staff_out.Person, roles=LEADERS, body=PersonIn, status=201,
         tags=["organisation"])
    def create_person(self, request, body):
        return 201, self.staff.create_person(**body)

    @api("GET", "/people", response=staff_out.Person(many=True), tags=["organisation"])
    def list_people(self, request):
        return self.staff.list_people()

    @api("GET", "/people/<string:person_id>", response=staff_out.Person, tags=["organisation"])
    def get_person(self, request, person_id):
        return self.staff.get_person(person_id)

    @api("PATCH", "/people/<string:person_id>", response=staff_out.Person, roles=LEADERS, body=PersonPatch,
         tags=["organisation"])
    def update_person(self, request, person_id, body):
        person = self.staff.update_person(person_id, **body)
        change = person.pop("access", None)  # the person's tokens go stale: at once on this gateway
        if change:
            self.access.apply("account", change["account_id"], change["version"], change["active"])
        return person

    # -- accounts, sessions, API keys (DOMAIN "Accounts") ---------------------------
    @api("POST", "/people/<string:person_id>/account", roles=LEADERS, body=AccountIn,
         response=staff_out.AccountCode, status=201, tags=["accounts"],
         summary="Open a person's account (or reset it): returns a one-time activation code")
    def create_account(self, request, person_id, body):
        return 201, self.staff.create_account(person_id, body["username"])

    @api("POST", "/accounts/activation", public=True, body=ActivationIn, response=staff_out.Activated,
         tags=["accounts"], errors=(401,), summary="Set your password with the activation code")
    def activate_account(self, request, body):
        return self.staff.activate_account(body["username"], body["code"], body["password"])

    @api("POST", "/sessions", public=True, body=SignInIn, response=staff_out.Session, status=201,
         tags=["accounts"], errors=(401, 403, 429), summary="Sign in: a short-lived access token",
         description="An unknown user name and a wrong password answer alike (401). Five wrong passwords "
                     "lock the user name for 15 minutes (429), the right password included.")
    def start_session(self, request, body):
        record = self.staff.start_session(body["username"], body["password"])
        return 201, {"token": auth.sign(record, self.config["JWT_SECRET"]), "expires_at": record["expires_at"],
                     "roles": record["roles"], "township_id": record["township_id"],
                     "person_id": record["person_id"]}

    @api("DELETE", "/sessions/current", response=staff_out.SignedOut, tags=["accounts"],
         summary="Sign out: every session of your account ends at once")
    def end_session(self, request):
        out = self.staff.end_sessions()
        self.access.apply("account", out["account_id"], out["version"], True)
        return {"signed_out": True}

    @api("PUT", "/me/password", body=PasswordIn, response=staff_out.PasswordChanged, tags=["accounts"],
         summary="Change your password (your sessions end: sign in again)")
    def change_password(self, request, body):
        out = self.staff.change_password(body["old_password"], body["new_password"])
        self.access.apply("account", self.context["account_id"], out["version"], True)
        return {"changed": True}

    @api("POST", "/tokens", roles=LEADERS, body=ApiKeyIn, response=staff_out.ApiKeyIssued, status=201,
         tags=["accounts"],
         summary="A named API key for a machine (kiosk, display screen, county system): explicit roles, ≤ 90 days")
    def create_api_key(self, request, body):
        record = self.staff.create_api_key(body["name"], body["roles"], body["days"])
        return 201, {"token": auth.sign(record, self.config["JWT_SECRET"]), "id": record["account_id"],
                     "name": record["name"], "expires_at": record["expires_at"], "roles": record["roles"]}

    @api("GET", "/tokens", roles=LEADERS, response=staff_out.ApiKey(many=True), tags=["accounts"],
         summary="The township's API keys")
    def list_api_keys(self, request):
        return self.staff.list_api_keys()

    @api("DELETE", "/tokens/<string:key_id>", roles=LEADERS, response=staff_out.ApiKey, tags=["accounts"],
         summary="Revoke an API key (refused at once here, within seconds on every gateway)")
    def revoke_api_key(self, request, key_id):
        out = self.staff.revoke_api_key(key_id)
        self.access.apply("account", out["id"], out["version"], False)
        return out

    # -- calendar ------------------------------------------------------------
    @api("PUT", "/calendar", response=CalendarChange, roles=LEADERS, body=CalendarIn, tags=["calendar"],
         summary="The township's own calendar overrides (a local holiday or make-up day)")
    def change_calendar(self, request, body):
        return self.staff.change_calendar(**_calendar_args(body))

    @api("GET", "/calendar/<string:day>", response=CalendarAnswer, tags=["calendar"],
         summary="Is this a working day here?")
    def calendar_day(self, request, day):
        from services.common.errors import field_error
        from datetime import date

        try:
            date.fromisoformat(day)
        except ValueError:
            raise field_error("day", "an ISO date (YYYY-MM-DD)") from None
        return self.staff.calendar_day(day)

    # -- settings (rules are data) --------------------------------------------------
    @api("GET", "/settings/<string:service>", response=Settings, tags=["settings"],
         summary="A service's rules for this township (defaults where unchanged)")
    def get_settings(self, request, service):
        return self._service_proxy(service).get_settings()

    @api("PATCH", "/settings/<string:service>", response=Settings, roles=LEADERS, body=SettingsIn, tags=["settings"],
         summary="Change some of a service's rules for this township, at run time")
    def update_settings(self, request, service, body):
        return self._service_proxy(service).update_settings(body["changes"])

    def _service_proxy(self, service):
        from services.common.errors import NotFound

        if service not in ("staff", "intake", "cases", "complaints", "lending", "notices"):
            raise NotFound(f"no service {service}")
        return getattr(self, service)

    # -- public (T1) -----------------------------------------------------------
    @api("GET", "/public/townships/<string:code>/staff-on-duty", response=staff_out.OnDuty(many=True),
         public=True, tags=["public"],
         summary="Staff on duty: name, window, badge (T1)")
    def public_staff_on_duty(self, request, code):
        self.public_township(code)
        return self.staff.staff_on_duty()
