"""Tokens follow the account (DOMAIN "Accounts"): the gateway's bounded-staleness copy of
every account's and township's version.

A token carries the version of its account (``ver``) and of its township (``tver``) at issue.
Staff bumps a version on every change of rights (deactivation, roles, window, sign-out,
password, key revoked, township suspended). The gateway keeps ``{id: (version, active)}`` in
memory and checks each request against it — two dictionary look-ups, no RPC:

* reloaded from staff (``access_snapshot``) every ``GATEWAY_ACCESS_REFRESH`` seconds (1) over
  one long-lived RPC proxy, which is rebuilt when the broker link fails, so the first load
  after a reconnect brings every change missed meanwhile; staff answers ``unchanged`` (a few
  bytes) when the table's stamp is the one this gateway holds;
* updated at once by staff's ``staff.access_changed`` events (broadcast to every gateway) and
  by this gateway's own sign-out / revocation answers;
* **bounded staleness**: a snapshot is trusted until ``GATEWAY_ACCESS_MAX_STALENESS`` seconds
  (4) after its request was sent. A gateway that cannot reload (its broker link or staff is
  down) answers 503 to every token after that — it never keeps honouring a token that was
  revoked while it could not hear about it.

A token whose version is newer than the copy's (issued after the last load) is accepted: staff
only issues tokens of active accounts, and a later change would carry a still newer version.
"""
from __future__ import annotations

import logging
import os
import time

from nameko.extensions import DependencyProvider

from services.common import green
from services.common.errors import Unauthorized, Unavailable

log = logging.getLogger("gateway")

STALE_TOKEN = "this token no longer holds: signed out, revoked, or the account's rights changed"


class AccessCache(DependencyProvider):
    def __init__(self):
        self.accounts: dict[str, tuple[int, bool]] = {}
        self.townships: dict[str, tuple[int, bool]] = {}
        self.fresh_until = 0.0  # time.monotonic() until which the copy may be trusted
        self.stamp = None  # staff's summary of the copy we hold (an unchanged table is not resent)
        self.loads = 0
        self._gt = None

    def setup(self):
        config = self.container.config
        self.refresh = float(config.get("ACCESS_REFRESH", os.environ.get("GATEWAY_ACCESS_REFRESH", "1")))
        self.max_staleness = float(config.get("ACCESS_MAX_STALENESS",
                                              os.environ.get("GATEWAY_ACCESS_MAX_STALENESS", "4")))
        self.rpc_timeout = max(1.0, self.max_staleness - self.refresh)  # a late answer still counts from its send
        self._recent: dict[str, dict] = {"account": {}, "township": {}}

    def start(self):
        self._gt = self.container.spawn_managed_thread(self._run)

    def stop(self):
        if self._gt is not None:
            self._gt.kill()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self

    # -- loading ------------------------------------------------------------------------
    def _run(self):
        from nameko.standalone.rpc import ServiceRpcProxy

        holder = None
        failures = 0
        while True:
            sent = time.monotonic()
            try:
                with green.deadline(self.rpc_timeout + 1):
                    if holder is None:
                        holder = ServiceRpcProxy("staff", {"AMQP_URI": self.container.config["AMQP_URI"]},
                                                 timeout=self.rpc_timeout)
                        proxy = holder.start()
                    snapshot = proxy.access_snapshot(self.stamp)
                self.load(snapshot, sent)
                if failures:
                    log.info("account versions reloaded after %d failed attempts", failures)
                failures = 0
            except Exception as exc:  # broker link or staff down: keep trying, go stale
                failures += 1
                if failures in (1, 10) or failures % 60 == 0:
                    log.warning("account versions not reloaded (%s), attempt %d", type(exc).__name__, failures)
                if holder is not None:
                    try:
                        with green.deadline(1):
                            holder.stop()
                    except Exception:
                        pass
                    holder = None
            green.sleep(self.refresh)

    def load(self, snapshot: dict, sent: float) -> None:
        """Replace the copy with a snapshot whose request left at ``sent`` (monotonic); changes
        heard by event meanwhile win when their version is newer. ``unchanged``: staff's table
        is the one we hold (events heard meanwhile stay applied)."""
        if snapshot.get("unchanged") and snapshot.get("stamp") == self.stamp:
            self.fresh_until = max(self.fresh_until, sent + self.max_staleness)
            self.loads += 1
            return
        fresh = {
            "account": {row[0]: (int(row[1]), bool(row[2])) for row in snapshot.get("accounts", [])},
            "township": {row[0]: (int(row[1]), bool(row[2])) for row in snapshot.get("townships", [])},
        }
        recent, self._recent = self._recent, {"account": {}, "township": {}}
        for subject, table in fresh.items():
            for key, entry in recent[subject].items():
                if key not in table or table[key][0] < entry[0]:
                    table[key] = entry
        self.accounts, self.townships = fresh["account"], fresh["township"]
        self.stamp = snapshot.get("stamp")
        self.fresh_until = max(self.fresh_until, sent + self.max_staleness)
        self.loads += 1

    def apply(self, subject: str, subject_id: str, version: int, active: bool) -> None:
        """A change heard by event (or answered to this gateway): newer versions win."""
        table = self.accounts if subject == "account" else self.townships
        entry = (int(version), bool(active))
        current = table.get(subject_id)
        if current is None or current[0] < entry[0]:
            table[subject_id] = entry
        recent = self._recent.setdefault(subject, {})
        if subject_id not in recent or recent[subject_id][0] < entry[0]:
            recent[subject_id] = entry

    # -- checking (every request) ---------------------------------------------------------
    @property
    def fresh(self) -> bool:
        return time.monotonic() <= self.fresh_until

    def check(self, claims: dict) -> None:
        if not self.fresh:
            raise Unavailable("tokens cannot be checked now (the account service is unreachable); try again shortly")
        if not _holds(self.accounts.get(claims["aid"]), claims["ver"]):
            raise Unauthorized(STALE_TOKEN)
        township_id = claims.get("tid")
        if township_id and not _holds(self.townships.get(township_id), claims.get("tver")):
            raise Unauthorized(STALE_TOKEN)


def _holds(entry, version) -> bool:
    if not isinstance(version, int):
        return False
    if entry is None:
        return True  # issued after the last load (a new account): staff issues only valid ones
    known, active = entry
    return version > known or (version == known and active)
