"""Two small services built only from services/common, to test the machinery itself:
outbox + relay, idempotent handling, dead letters, timer sweeps in several instances."""
from __future__ import annotations

from marshmallow import fields
from nameko.rpc import rpc
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from services.common import events
from services.common.db import Database, TenantScoped, claim, make_base, new_id
from services.common.handlers import reliable_handler
from services.common.service import BaseService
from services.common.sweep import Sweeper, sweep_timer


@events.register("fsource.note_written")
class NoteWritten(events.Envelope):
    note_id = fields.String(required=True)
    text = fields.String(required=True)


SourceBase = make_base()
SinkBase = make_base()


class Note(TenantScoped, SourceBase):
    __tablename__ = "notes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    text: Mapped[str] = mapped_column(String(200))


class Copy(TenantScoped, SinkBase):
    __tablename__ = "copies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    note_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(200))


class Task(TenantScoped, SinkBase):
    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    state: Mapped[str] = mapped_column(String(20), default="pending")


class Effect(TenantScoped, SinkBase):
    """One row per effect of the sweep: exactly one per task is the point."""

    __tablename__ = "effects"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(String(32))
    instance: Mapped[str] = mapped_column(String(40))


class SourceService(BaseService):
    name = "fsource"
    db = Database(SourceBase)

    @rpc
    def write(self, text):
        with self.db(self.caller.township) as uow:
            note = Note(text=text)
            uow.session.add(note)
            uow.session.flush()
            uow.emit("fsource.note_written", note_id=note.id, text=text)
            return note.id

    @rpc
    def notes(self):
        with self.db(self.caller.township) as uow:
            return [n.text for n in uow.scalars(select(Note))]


class SinkService(BaseService):
    name = "fsink"
    db = Database(SinkBase)

    @reliable_handler("fsource", "note_written")
    def on_note_written(self, body):
        event = events.parse("fsource.note_written", body)  # a malformed body raises: poison
        with self.db(event["township_id"]) as uow:
            first = uow.first_time(event, "fsink.on_note_written")
            if first:
                uow.session.add(Copy(note_id=event["note_id"], text=event["text"]))
        self.metrics.handled(event["event_type"], first)

    @rpc
    def copies(self, township_id):
        with self.db(township_id) as uow:
            return sorted(c.text for c in uow.scalars(select(Copy)))

    @rpc
    def add_tasks(self, township_id, n):
        with self.db(township_id) as uow:
            uow.session.add_all([Task() for _ in range(n)])

    sweeper = Sweeper(chunk=10)

    @sweep_timer
    def sweep(self):
        """The services' one sweep timer (config ``SWEEP_INTERVAL``), each task claimed."""
        instance = self.config.get("INSTANCE", "?")

        def do(uow, task_id):
            if not claim(uow.session, Task, task_id, {"state": "pending"}, {"state": "done"}):
                return False
            task = uow.session.get(Task, task_id)
            uow.session.add(Effect(task_id=task_id, instance=instance, township_id=task.township_id))
            return True

        def sweep_tasks(run):
            with run.unit_of_work() as uow:
                pending = uow.session.execute(
                    select(Task.township_id, Task.id).where(Task.state == "pending").limit(50)).all()
            return {"done": run.each("tasks", [(t, i) for t, i in pending], do)}
        return self.sweeper(sweep_tasks)
