"""The figures the town sends to its Caisse d'allocations familiales (CAF) for the prestation de
service: for a month or a calendar year, per activity, the hours booked, attended (réalisées)
and invoiced (facturées), and the children welcomed, under 6 and 6 and over.

Each booking counts for its créneau's duration (end minus start), on the day it is for:
- booked (réservées): active bookings made ahead (walk-ins were not booked); a booking cancelled
  by the family or by a closure is not booked;
- attended (réalisées): active bookings, walk-ins included, whose child was marked present;
  an absence (excused or not) is not attended;
- invoiced (facturées): bookings still billable (reservations' `Booking.objects.billable()`:
  not cancelled, not an excused absence) that an invoice not cancelled charges, net of the
  regularisations that gave them back; the walk-in surcharge is not counted twice. An
  unexcused absence is invoiced though not attended; a month not invoiced yet counts nothing.
- children (enfants accueillis): distinct children with attended hours.
A child's age group is its age on the day of the booking (6 from its sixth birthday on).

Everything is aggregated by the database in a fixed number of queries, whatever the number of
bookings.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from common.dates import month_name
from reservations.models import Activity, Booking, Slot

from .models import BookingCharge, Invoice

AGE_LIMIT = 6
UNDER, OVER = "under", "over"
AGE_GROUPS = {UNDER: "Moins de 6 ans", OVER: "6 ans et plus"}


def _minutes(slot: Slot) -> int:
    start = slot.start_time.hour * 60 + slot.start_time.minute
    return slot.end_time.hour * 60 + slot.end_time.minute - start


def format_hours(minutes: int) -> str:
    """Hours in decimal, the French way: 17 → "0,28"; 90 → "1,5"; 600 → "10"."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    text = f"{hours:f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass
class Figures:
    """Minutes booked, attended and invoiced, and the children welcomed."""

    booked: int = 0
    attended: int = 0
    invoiced: int = 0
    children: int = 0

    def add(self, other: "Figures") -> None:
        self.booked += other.booked
        self.attended += other.attended
        self.invoiced += other.invoiced

    @property
    def booked_hours(self) -> str:
        return format_hours(self.booked)

    @property
    def attended_hours(self) -> str:
        return format_hours(self.attended)

    @property
    def invoiced_hours(self) -> str:
        return format_hours(self.invoiced)


@dataclass
class ActivityFigures:
    activity: Activity
    groups: dict = field(default_factory=lambda: {UNDER: Figures(), OVER: Figures()})
    total: Figures = field(default_factory=Figures)

    def rows(self):
        """(label, figures) of the two age groups, then the total."""
        return [(AGE_GROUPS[key], self.groups[key]) for key in (UNDER, OVER)] + [
            ("Total", self.total)
        ]


@dataclass
class Period:
    year: int
    month: int | None = None  # None: the whole calendar year

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, self.month or 1, 1)

    @property
    def end(self) -> datetime.date:
        if self.month is None or self.month == 12:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, self.month + 1, 1) - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.month is None:
            return f"année {self.year}"
        return month_name(self.start)

    def months(self) -> list["Period"]:
        if self.month is not None:
            return [self]
        return [Period(self.year, month) for month in range(1, 13)]


@dataclass
class CafFigures:
    """The figures of a period, by activity; for a year, also month by month."""

    period: Period
    activities: list[ActivityFigures]
    by_month: list[tuple[Period, list[ActivityFigures]]]

    @property
    def max_minutes(self) -> int:
        return max(
            [max(a.total.booked, a.total.attended, a.total.invoiced) for a in self.activities]
            or [0]
        )


def _under_six():
    """True when the booking's child is under AGE_LIMIT on the booking's day: the difference of
    the two dates as a number yyyymmdd-like (years × 10,000 + months × 100 + days) is below
    AGE_LIMIT × 10,000 exactly until the birthday. Works on PostgreSQL and SQLite alike."""
    age = (
        (ExtractYear("date") - ExtractYear("child__birth_date")) * 10000
        + (ExtractMonth("date") - ExtractMonth("child__birth_date")) * 100
        + (ExtractDay("date") - ExtractDay("child__birth_date"))
    )
    return Case(When(Q(age_key__lt=AGE_LIMIT * 10000), then=Value(1)), default=Value(0)), age


def _invoiced_ids(period: Period):
    """The bookings of `period` that stand invoiced: their charges on invoices that are not
    cancelled, a charge counting +1 and a give-back -1 (surcharges aside), add up above 0.
    One grouped subquery, which PostgreSQL hashes once, rather than one sum per booking."""
    return (
        BookingCharge.objects.filter(
            booking__date__range=(period.start, period.end), line__is_surcharge=False
        )
        .exclude(line__invoice__status=Invoice.Status.CANCELLED)
        .order_by()
        .values("booking")
        .annotate(
            net=Sum(
                Case(When(amount_cents__lt=0, then=Value(-1)), default=Value(1)),
                output_field=IntegerField(),
            )
        )
        .filter(net__gt=0)
        .values("booking")
    )


BOOKED = Q(status=Booking.Status.VALIDATED) & ~Q(origin=Booking.Origin.WALK_IN)
ATTENDED = Q(status=Booking.Status.VALIDATED, presence=Booking.Presence.PRESENT)
BILLABLE = Q(status=Booking.Status.VALIDATED) & ~Q(presence=Booking.Presence.EXCUSED)


def _bookings(period: Period):
    under_six, age = _under_six()
    return (
        Booking.objects.filter(date__range=(period.start, period.end))
        .alias(age_key=age)
        .annotate(under_six=under_six)
        .order_by()
    )


def caf_figures(period: Period) -> CafFigures:
    """The CAF figures of `period` (a month or a year), per activity and age group."""
    activities = list(Activity.objects.order_by("position", "pk"))
    minutes = {slot.pk: (_minutes(slot), slot.activity_id) for slot in Slot.objects.all()}
    months = {p.month: {a.pk: ActivityFigures(a) for a in activities} for p in period.months()}
    whole = {a.pk: ActivityFigures(a) for a in activities}

    counts = (
        _bookings(period)
        .values("slot_id", "under_six", month=ExtractMonth("date"))
        .annotate(
            booked=Count("pk", filter=BOOKED),
            attended=Count("pk", filter=ATTENDED),
            invoiced=Count("pk", filter=BILLABLE & Q(pk__in=_invoiced_ids(period))),
        )
    )
    for row in counts:
        duration, activity_id = minutes[row["slot_id"]]
        figures = Figures(
            row["booked"] * duration, row["attended"] * duration, row["invoiced"] * duration
        )
        group = UNDER if row["under_six"] else OVER
        for target in (months[row["month"]][activity_id], whole[activity_id]):
            target.groups[group].add(figures)
            target.total.add(figures)

    # The children welcomed, counted once per grouping: by month and age group, by month, and
    # for a year by age group and in all, from one query of who attended what and when.
    attended = (
        _bookings(period)
        .filter(ATTENDED)
        .annotate(month=ExtractMonth("date"))
        .values_list("slot__activity_id", "month", "under_six", "child_id")
        .distinct()
    )
    children = defaultdict(set)
    for activity_id, month, under_six, child_id in attended:
        group = UNDER if under_six else OVER
        for key in ((month, group), (month, None), (None, group), (None, None)):
            children[(activity_id, *key)].add(child_id)
    for (activity_id, month, group), ids in children.items():
        target = months[month][activity_id] if month else whole[activity_id]
        if group:
            target.groups[group].children = len(ids)
        else:
            target.total.children = len(ids)
    if period.month is not None:
        whole = months[period.month]
    return CafFigures(
        period,
        list(whole.values()),
        [(p, list(months[p.month].values())) for p in period.months()]
        if period.month is None
        else [],
    )


def csv_rows(data: CafFigures):
    """The table for the CSV download, header first: month by month then the year, or the
    month alone."""
    yield [
        "Période",
        "Activité",
        "Âge",
        "Heures réservées",
        "Heures réalisées",
        "Heures facturées",
        "Enfants accueillis",
    ]
    sections = [*data.by_month, (data.period, data.activities)]
    for period, activities in sections:
        for item in activities:
            for label, figures in item.rows():
                yield [
                    period.label[:1].upper() + period.label[1:],
                    item.activity.name,
                    label,
                    figures.booked_hours,
                    figures.attended_hours,
                    figures.invoiced_hours,
                    figures.children,
                ]


# The chart: per activity, three horizontal bars (booked, attended, invoiced) on one scale.
CHART_WIDTH = 360
LABEL_WIDTH = 80
BAR_X = 84
BAR_MAX = 180
BAR_HEIGHT = 14
BAR_STEP = 20
TITLE_HEIGHT = 22
MEASURES = [
    ("booked", "Réservées", "#2b6a8a"),
    ("attended", "Réalisées", "#1f7a3a"),
    ("invoiced", "Facturées", "#a35200"),
]


@dataclass
class Bar:
    key: str
    label: str
    colour: str
    y: int
    text_y: int
    width: int
    value: str

    @property
    def text_x(self) -> int:
        return BAR_X + self.width + 4


@dataclass
class ChartBlock:
    activity: Activity
    title_y: int
    bars: list[Bar]


@dataclass
class Chart:
    height: int
    blocks: list[ChartBlock]
    width: int = CHART_WIDTH
    bar_x: int = BAR_X
    bar_height: int = BAR_HEIGHT
    legend: list = field(default_factory=lambda: MEASURES)


def chart(data: CafFigures) -> Chart:
    """The hours of the period's table as bars, scaled on the largest figure."""
    scale = data.max_minutes or 1
    y, blocks = 0, []
    for item in data.activities:
        title_y = y + 15
        y += TITLE_HEIGHT
        bars = []
        for key, label, colour in MEASURES:
            value = getattr(item.total, key)
            bars.append(
                Bar(
                    key=key,
                    label=label,
                    colour=colour,
                    y=y + (BAR_STEP - BAR_HEIGHT) // 2,
                    text_y=y + 14,
                    width=round(BAR_MAX * value / scale),
                    value=f"{format_hours(value)} h",
                )
            )
            y += BAR_STEP
        blocks.append(ChartBlock(item.activity, title_y, bars))
        y += 8
    return Chart(y, blocks)
