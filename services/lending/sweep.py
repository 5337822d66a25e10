"""L4 timers: a loan not back by the end of its due day (local time) is overdue — exactly
once per loan, even with several instances sweeping (``claim``): ``lending.loan_overdue``
and a phone-reminder task (催收) for the guard on duty; a task not done within the setting is
escalated to the security manager, also exactly once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.common.db import claim

from .handover import guard_on_duty
from .models import Item, Loan, ReminderTask
from .rules import RULES, is_overdue

BATCH = 200


def find_due(run) -> tuple[list[tuple], list[tuple]]:
    """(township_id, id) of loans past their due day and of reminder tasks due for escalation
    (the oldest ``BATCH`` of each; the next sweep takes the rest)."""
    with run.unit_of_work() as uow:
        now = uow.now()
        rules_of: dict = {}
        loans = []
        rows = uow.session.execute(
            select(Loan.id, Loan.township_id, Loan.due_at)
            .where(Loan.state == "out", Loan.overdue_at.is_(None), Loan.due_at < now)
            .order_by(Loan.due_at).limit(BATCH)
        ).all()
        for loan_id, township_id, due in rows:
            if township_id not in rules_of:
                rules_of[township_id] = RULES.load(uow, township_id)
            if is_overdue(due, now, rules_of[township_id]):
                loans.append((township_id, loan_id))
        tasks = uow.session.execute(
            select(ReminderTask.township_id, ReminderTask.id)
            .where(ReminderTask.state == "open", ReminderTask.escalate_at <= now)
            .order_by(ReminderTask.escalate_at).limit(BATCH)
        ).all()
    return loans, [(t, i) for t, i in tasks]


def mark_overdue(uow, loan_id: str) -> bool:
    now = uow.now()
    if not claim(uow.session, Loan, loan_id, expected={"overdue_at": None, "state": "out"},
                 updates={"overdue_at": now}):
        return False
    loan = uow.session.get(Loan, loan_id)
    uow.session.refresh(loan)
    rules = RULES.load(uow, loan.township_id)
    assigned = guard_on_duty(uow) or loan.lent_by
    uow.session.add(ReminderTask(
        township_id=loan.township_id, loan_id=loan.id, assigned_person_id=assigned,
        created_at=now, escalate_at=now + timedelta(minutes=rules["reminder_escalate_after_minutes"]),
        state="open"))
    uow.emit("lending.loan_overdue", township_id=loan.township_id, loan_id=loan.id, item_id=loan.item_id,
             due_at=loan.due_at.isoformat(), assigned_person_id=assigned)
    return True


def escalate(uow, task_id: str) -> bool:
    if not claim(uow.session, ReminderTask, task_id, expected={"state": "open"},
                 updates={"state": "escalated", "escalated_at": uow.now()}):
        return False
    task = uow.session.get(ReminderTask, task_id)
    uow.session.refresh(task)
    loan = uow.session.get(Loan, task.loan_id)
    uow.emit("lending.reminder_escalated", township_id=task.township_id, task_id=task.id, loan_id=task.loan_id,
             item_id=loan.item_id, assigned_person_id=task.assigned_person_id)
    return True


def sweep(run) -> dict:
    """One pass (``services.common.sweep``): loans marked overdue, reminder tasks escalated."""
    loans, tasks = find_due(run)
    return {"overdue": run.each("overdue", loans, mark_overdue),
            "escalated": run.each("escalated", tasks, escalate)}


def lent_counts(uow):
    """Gauge: items lent per township."""
    return uow.session.execute(
        select(Item.township_id, func.count()).where(Item.state == "lent").group_by(Item.township_id)).all()


def overdue_counts(uow):
    return uow.session.execute(
        select(Loan.township_id, func.count()).where(Loan.state == "out", Loan.overdue_at.is_not(None))
        .group_by(Loan.township_id)).all()
