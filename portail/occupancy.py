"""Occupancy at a glance: over the coming four weeks, for each créneau at each school, the
places booked against the places offered, week by week.

A week's places are the créneau's capacity (reservations.capacity) summed over the days it runs
at that school (reservations.calendar: not on holidays, closures or out of term); its bookings
are the active bookings of those days. Read in a fixed number of queries whatever the period,
the number of schools or of bookings.
"""

import datetime
from dataclasses import dataclass

from families.models import School
from reservations.calendar import ServiceCalendar, days_between
from reservations.capacity import Capacities, taken_places
from reservations.models import Slot

WEEKS = 4
HIGH_RATE = 80  # percent: from here on, a week is nearly full
# Bar colours (the stylesheet gives the same, and dark-theme ones); each has 3:1 contrast or
# more on white, and the figure beside the bar says the same in words.
LEVEL_COLOURS = {"low": "#2b6a8a", "high": "#a35200", "full": "#b3261e", "closed": "#767676"}


@dataclass(frozen=True)
class Week:
    monday: datetime.date
    start: datetime.date  # the first day counted (today, in the current week)
    end: datetime.date

    @property
    def label(self) -> str:
        return f"sem. du {self.monday:%d/%m}"


@dataclass
class Cell:
    """A créneau at a school over one week."""

    week: Week
    days: int = 0  # days the créneau runs
    places: int = 0
    booked: int = 0
    full_days: int = 0

    @property
    def rate(self) -> int | None:
        """Booked places in percent of the places offered, rounded; None without service."""
        if not self.places:
            return None
        return (self.booked * 200 + self.places) // (self.places * 2)

    @property
    def level(self) -> str:
        """The bar's level: closed, low, high (HIGH_RATE and more) or full (a day is full)."""
        if self.rate is None:
            return "closed"
        if self.full_days or self.rate >= 100:
            return "full"
        return "high" if self.rate >= HIGH_RATE else "low"

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS[self.level]

    @property
    def summary(self) -> str:
        """The figure printed beside the bar, in French."""
        if self.rate is None:
            return "pas d'accueil"
        if self.full_days:
            plural = "s" if self.full_days > 1 else ""
            return f"{self.rate} % · {self.full_days} j. complet{plural}"
        return f"{self.rate} % ({self.booked}/{self.places})"


@dataclass
class Row:
    slot: Slot
    school: School
    cells: list[Cell]


@dataclass
class Occupancy:
    weeks: list[Week]
    rows: list[Row]

    @property
    def start(self) -> datetime.date:
        return self.weeks[0].start

    @property
    def end(self) -> datetime.date:
        return self.weeks[-1].end

    def by_slot(self) -> list[tuple[Slot, list[Row]]]:
        """The rows grouped by créneau, in order."""
        groups: dict[int, tuple[Slot, list[Row]]] = {}
        for row in self.rows:
            groups.setdefault(row.slot.pk, (row.slot, []))[1].append(row)
        return list(groups.values())


def coming_weeks(today: datetime.date, weeks: int = WEEKS) -> list[Week]:
    """The current week (from today on) and the next ones; from Saturday on, the next week
    comes first."""
    monday = today - datetime.timedelta(days=today.weekday())
    if today.weekday() >= 5:
        monday += datetime.timedelta(weeks=1)
    result = []
    for n in range(weeks):
        first = monday + datetime.timedelta(weeks=n)
        result.append(Week(first, max(first, today), first + datetime.timedelta(days=6)))
    return result


def occupancy(today: datetime.date, weeks: int = WEEKS) -> Occupancy:
    """Places offered and booked per créneau, school and week, from today on."""
    period = coming_weeks(today, weeks)
    start, end = period[0].start, period[-1].end
    slots = list(Slot.objects.active().select_related("activity").order_by("start_time", "pk"))
    schools = list(School.objects.filter(is_active=True).order_by("name", "pk"))
    school_ids = [school.pk for school in schools]
    calendar = ServiceCalendar(start, end)
    capacities = Capacities(slots, school_ids, start, end)
    taken = taken_places([slot.pk for slot in slots], school_ids, start, end)
    rows = []
    for slot in slots:
        for school in schools:
            cells = []
            for week in period:
                cell = Cell(week)
                for day in days_between(week.start, week.end):
                    if not calendar.runs(day, slot, school.pk):
                        continue
                    places = capacities.places(slot.pk, school.pk, day)
                    booked = taken[(slot.pk, school.pk, day)]
                    cell.days += 1
                    cell.places += places
                    cell.booked += booked
                    cell.full_days += booked >= places
                cells.append(cell)
            rows.append(Row(slot, school, cells))
    return Occupancy(period, rows)


def csv_rows(data: Occupancy):
    """The table behind the chart, header first, for the CSV download."""
    yield [
        "Créneau",
        "École",
        "Semaine du",
        "Du",
        "Au",
        "Jours d'accueil",
        "Places offertes",
        "Places réservées",
        "Taux (%)",
        "Jours complets",
    ]
    for row in data.rows:
        for cell in row.cells:
            yield [
                row.slot.label,
                row.school.name,
                cell.week.monday.strftime("%d/%m/%Y"),
                cell.week.start.strftime("%d/%m/%Y"),
                cell.week.end.strftime("%d/%m/%Y"),
                cell.days,
                cell.places,
                cell.booked,
                "" if cell.rate is None else cell.rate,
                cell.full_days,
            ]


# The chart ---------------------------------------------------------------------------------

# SVG user units; the drawing scales to its container's width (CSS), 360 units reading well on
# a 360 px phone.
CHART_WIDTH = 360
LABEL_WIDTH = 92
BAR_X = 96
BAR_WIDTH = 120
TEXT_X = BAR_X + BAR_WIDTH + 6
SCHOOL_HEIGHT = 24
BAR_STEP = 24
BAR_HEIGHT = 14


@dataclass
class Bar:
    y: int
    text_y: int
    fill_width: int
    cell: Cell
    title: str


@dataclass
class SchoolBlock:
    school: School
    label_y: int
    bars: list[Bar]


@dataclass
class Chart:
    slot: Slot
    height: int
    blocks: list[SchoolBlock]
    width: int = CHART_WIDTH
    bar_x: int = BAR_X
    bar_width: int = BAR_WIDTH
    bar_height: int = BAR_HEIGHT
    text_x: int = TEXT_X


def charts(data: Occupancy) -> list[Chart]:
    """One horizontal bar chart per créneau: for each school, a bar per week."""
    result = []
    for slot, rows in data.by_slot():
        y = 0
        blocks = []
        for row in rows:
            label_y = y + 16
            y += SCHOOL_HEIGHT
            bars = []
            for cell in row.cells:
                rate = min(cell.rate or 0, 100)
                bars.append(
                    Bar(
                        y=y + (BAR_STEP - BAR_HEIGHT) // 2,
                        text_y=y + 16,
                        fill_width=round(BAR_WIDTH * rate / 100),
                        cell=cell,
                        title=(
                            f"{row.school.name}, {cell.week.label} : "
                            f"{cell.booked} réservées sur {cell.places} places ({cell.summary})"
                        ),
                    )
                )
                y += BAR_STEP
            blocks.append(SchoolBlock(row.school, label_y, bars))
            y += 6
        result.append(Chart(slot, y, blocks))
    return result
