"""Date phrases in a question ("since March 2024", "last year", "in 2023", "before ... on 9 May 2024") read as a
range of publication dates, so that ask can filter the archive by them.

Pure functions over text and a reference day (today by default); no I/O.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name} | {
    name: i for i, name in enumerate(calendar.month_abbr) if name
} | {"Sept": 9}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))


def _month(n: int) -> str:
    return rf"(?P<m{n}>{_MONTH_NAMES})\.?"


def _day(n: int) -> str:
    return rf"(?P<d{n}>\d{{1,2}})(?:st|nd|rd|th)?"


def _year(n: int) -> str:
    return rf"(?P<y{n}>(?:19|20)\d\d)"


# A point in time: "9 May 2024", "May 9, 2024", "March 2024", "2024-05-09", "2024".
_POINT = (rf"(?:{_day(1)}\s+{_month(1)},?\s+{_year(1)}|{_month(2)}\s+{_day(2)},?\s+{_year(2)}"
          rf"|{_month(3)},?\s+{_year(3)}|(?P<iso>(?:19|20)\d\d-\d\d-\d\d)|{_year(4)}(?![\d-]))")
_SINCE = re.compile(r"\b(?:since|after|from)\s+(?:the\s+start\s+of\s+)?" + _POINT, re.IGNORECASE)
_UNTIL = re.compile(r"\b(?:before|until|till|up\s+to|prior\s+to)\s+(?:the\s+end\s+of\s+)?" + _POINT, re.IGNORECASE)
# "before the ceasefire announcement on 9 May 2024": up to and including the day of the event named.
_BEFORE_EVENT = re.compile(r"\b(?:before|until|prior\s+to)\s+(?:[\w'’-]+\s+){1,6}?(?:on|of)\s+" + _POINT,
                           re.IGNORECASE)
_ON = re.compile(r"\b(?:on|in|during)\s+" + _POINT, re.IGNORECASE)
_RELATIVE = re.compile(r"\b(?P<which>last|this|past)\s+(?P<unit>year|month|week)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of ISO days, either end open, and the words of the question it was read from."""

    since: str | None
    until: str | None
    phrase: str

    def to_json(self) -> dict:
        return {"since": self.since, "until": self.until, "phrase": self.phrase}


def _bounds(match: re.Match[str]) -> tuple[date, date]:
    """First and last day of the point a match names (a day, a month or a year)."""
    g = {k: v for k, v in match.groupdict().items() if v}
    if "iso" in g:
        day = date.fromisoformat(g["iso"])
        return day, day
    for n in (1, 2):
        if f"y{n}" in g:
            day = date(int(g[f"y{n}"]), MONTHS[g[f"m{n}"].title()[:3]], int(g[f"d{n}"]))
            return day, day
    if "y3" in g:
        year, month = int(g["y3"]), MONTHS[g["m3"].title()[:3]]
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    year = int(g["y4"])
    return date(year, 1, 1), date(year, 12, 31)


def _relative(match: re.Match[str], today: date) -> tuple[date, date]:
    which, unit = match.group("which").lower(), match.group("unit").lower()
    if unit == "year":
        year = today.year - (which == "last")
        return (today - timedelta(days=365), today) if which == "past" else (date(year, 1, 1), date(year, 12, 31))
    if unit == "month":
        if which == "past":
            return today - timedelta(days=31), today
        first = today.replace(day=1)
        if which == "last":
            first = (first - timedelta(days=1)).replace(day=1)
        return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
    start = today - timedelta(days=today.weekday())
    if which == "last":
        return start - timedelta(days=7), start - timedelta(days=1)
    return (today - timedelta(days=7), today) if which == "past" else (start, today)


def question_dates(question: str, today: date | None = None) -> DateRange | None:
    """The range of publication dates a question restricts itself to, or None when it names none."""
    today = today or date.today()
    since = until = None
    phrases = []
    for pattern, side in ((_SINCE, "since"), (_UNTIL, "until")):
        match = pattern.search(question)
        if match:
            first, last = _bounds(match)
            if side == "since":
                since = first
            else:
                until = first - timedelta(days=1)
            phrases.append(match.group())
    event = _BEFORE_EVENT.search(question)
    if until is None and event:
        until = _bounds(event)[1]
        phrases.append(event.group())
    if since is None and until is None:
        match = _RELATIVE.search(question) or _ON.search(question)
        if match is None:
            return None
        since, until = _relative(match, today) if match.re is _RELATIVE else _bounds(match)
        phrases.append(match.group())
    return DateRange(since.isoformat() if since else None, until.isoformat() if until else None, "; ".join(phrases))
