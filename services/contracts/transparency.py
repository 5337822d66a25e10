"""What the transparency routes answer (T1, T2): the published figures, today's figures, the
service promises and channels, the red-flag window, a receipt's timeline. Built from what
cases, complaints, intake and staff answer (gateway/statistics.py joins them)."""
from __future__ import annotations

from marshmallow import fields

from . import Bool, Day, Id, Int, Many, Moment, Num, Obj, One, Out, Ref, Str, Strings
from .intake import PublicStatus


class Figures(Out):
    """The counts of one group and the figures derived from them (T1)."""

    received = Int()
    completed = Int()
    on_time = Int()
    late = Int()
    tacit_approved = Int()
    rated = Int()
    satisfied = Int()
    on_time_rate = Num(null=True)
    avg_working_days = Num(null=True)
    satisfaction = Num(null=True, metadata={"description": "share of ratings 4–5"})


class TownshipFigures(Figures):
    complaints_verified = fields.Integer()


class WindowFigures(Figures):
    window_id = Id()
    number = Int(null=True)
    name = Str(null=True)
    complaints_verified = fields.Integer()
    rank = fields.Integer(allow_none=True, metadata={"description": "null: nothing completed, unranked"})


class PersonFigures(Figures):
    person_id = Id()
    name = Str(null=True)
    badge_no = Str(null=True)
    window_id = Ref()
    complaints_verified = Int()


class Statistics(Out):
    """A period's figures: the township, its windows (ranked) and, for managers, every person (T2)."""

    month = fields.String(metadata={"example": "2025-03"})
    day = fields.String(metadata={"format": "date"})
    from_ = Day(data_key="from", attribute="from")
    to = Day()
    timezone = Str()
    township = One(TownshipFigures)
    windows = Many(WindowFigures)
    people = fields.List(fields.Nested(PersonFigures))


class Notices(Out):
    township = Obj(metadata={"description": "{code, name, timezone}: timezone is the township's IANA zone, "
                                            "in which the pages show times"})
    promises = Strings()
    channels = Obj()


class RedFlagWindow(Out):
    number = Int()
    name = Str()


class RedFlag(Out):
    quarter = Str()
    red_flag_windows = Many(RedFlagWindow)


class TimelineEntry(Out):
    at = Moment()
    status_code = Str()
    label = Str()


class ReceiptTimeline(PublicStatus):
    timeline = Many(TimelineEntry)
    rated = Bool()
    reviewable = Bool(metadata={"description": "a rejection or a return not yet under review: the applicant "
                                               "may ask for review (C10)"})
