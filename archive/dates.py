"""Publication dates stated on a line of their own: "November 9, 2023", "Published: 9 Nov 2023", "2023-11-09".

Only whole lines are read as dates (a date inside a sentence or a caption says when something happened,
not when the article was published).
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?" \
         r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_LABEL = r"(?:(?:first\s+)?(?:published|posted|updated|last\s+updated|date|dated|released)" \
         r"(?:\s+(?:on|at))?\s*[:\-–—|]?\s*)?"
_TIME = r"(?:\s*(?:[,|•·\-–—]|at)?\s*\d{1,2}[:.]\d\d(?:[:.]\d\d)?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?" \
        r"(?:\s*\(?(?:GMT|UTC)?\s*[+-]?\d{0,2}:?\d{0,2}\)?)?)?"
_FORMS = [
    _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR,  # November 9, 2023
    _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR,  # 9 November 2023
    _YEAR + r"-(?P<nmonth>\d\d)-(?P<nday>\d\d)(?:T[\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?",  # 2023-11-09
]
_DATE_LINES = [
    re.compile(r"^\s*" + _LABEL + _WEEKDAY + form + _TIME + r"\s*$", re.IGNORECASE) for form in _FORMS
]

_DATES_ANYWHERE = [re.compile(r"\b" + form + r"\b", re.IGNORECASE) for form in _FORMS]


def parse_date_line(text: str) -> str:
    """The ISO date ("2023-11-09") if the whole line states one date, else ""."""
    if len(text) > 80:
        return ""
    for pattern in _DATE_LINES:
        match = pattern.match(text)
        if match:
            return _iso(match)
    return ""


def _iso(match: re.Match[str]) -> str:
    groups = match.groupdict()
    year = int(groups["year"])
    if groups.get("month"):
        month = _MONTHS[groups["month"].lower()[:3]]
        day = int(groups["day"])
    else:
        month, day = int(groups["nmonth"]), int(groups["nday"])
    try:
        return date(year, month, day).isoformat()
    except ValueError:  # "February 30, 2023" is not a date
        return ""


def normalise_date(value: str | None) -> str:
    """An ISO date from a metadata value such as "2022-03-14" or "2022-03-14T08:30:00Z", else ""."""
    if not value:
        return ""
    return parse_date_line(value.strip()[:40])


def find_date_in_metadata_line(text: str) -> str:
    """The first date anywhere in a metadata line ("By Jane Doe | March 3, 2021"), else "".
    Only for lines already known to be metadata: inside body sentences a date is an event's date."""
    for pattern in _DATES_ANYWHERE:
        match = pattern.search(text)
        if match:
            return _iso(match)
    return ""


# Where a page states its publication date, most explicit first: Open Graph / article meta tags, JSON-LD and
# microdata datePublished, then a <time datetime> that is not marked as an update.
_HTML_DATE_SOURCES = [
    re.compile(r"<meta[^>]+(?:property|name|itemprop)=[\"'](?:article:published_time|og:published_time"
               r"|datePublished|pubdate|publish[-_]date|parsely-pub-date|sailthru\.date|dc\.date)[\"'][^>]*"
               r"content=[\"']([^\"']+)", re.IGNORECASE),
    re.compile(r"<meta[^>]+content=[\"']([^\"']+)[\"'][^>]+(?:property|name|itemprop)=[\"']"
               r"(?:article:published_time|datePublished|pubdate)[\"']", re.IGNORECASE),
    re.compile(r"[\"']datePublished[\"']\s*:\s*[\"']([^\"']+)", re.IGNORECASE),
    re.compile(r"<time(?![^>]*class=[\"'][^\"']*(?:updated|modified))[^>]*datetime=[\"']([^\"']+)", re.IGNORECASE),
]


def html_published_date(raw: str) -> str:
    """The publication date a web page states in its metadata (ISO day, as written), else ""."""
    head = raw[:300_000]  # metadata sits in the head or near the byline; very long pages are not read whole
    for pattern in _HTML_DATE_SOURCES:
        for match in pattern.finditer(head):
            found = normalise_date(match.group(1).replace(" ", "T", 1) if " " in match.group(1)[:11]
                                   else match.group(1))
            if found:
                return found
    return ""
