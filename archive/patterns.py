"""Line classifiers for scraped-news boilerplate: general vocabularies and shape rules, no I/O.

Every rule here describes a kind of line (an artefact, a photo credit, a paywall notice, a comment
heading, a call to action), never the text of one particular site.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Case-folded, whitespace-collapsed, typographic quotes and dashes flattened: for comparing lines."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip().casefold()


def word_count(text: str) -> int:
    return len(text.split())


# Scraper boilerplate that is never article text when it stands on a line of its own.
_ARTEFACTS = {
    "tt", "print", "print this", "print this article", "print article", "share", "share this", "share this:",
    "share this article", "share on facebook", "share on twitter", "tweet", "email", "e-mail", "facebook",
    "twitter", "whatsapp", "telegram", "linkedin", "reddit", "copy link", "link copied", "read more",
    "read more:", "more", "continue reading", "advertisement", "advertisment", "ad", "sponsored",
    "skip to content", "skip to main content", "menu", "search", "close", "home", "back to top",
    "font size", "a a a", "a+ a-", "reply", "log in to reply", "login to reply", "like", "like this:",
    "loading...", "loading", "click to share", "follow us", "listen", "listen to this article", "save",
    "bookmark", "image", "photo", "video", "gallery", "toggle navigation", "previous", "next", "prev",
    "previous article", "next article", "top stories", "trending", "related", "tags", "tags:", "topics",
    "newsletter", "subscribe", "sign in", "log in", "login", "register",
}
_SHARE_WORDS = {"share", "this", "on", "via", "follow", "us", "and", "or", "email", "e", "mail", "print",
                "copy", "link", "facebook", "twitter", "x", "whatsapp", "telegram", "linkedin", "reddit",
                "pinterest", "tumblr", "messenger", "instagram", "youtube", "threads", "bluesky", "mastodon",
                "flipboard"}
_SHAPE_ARTEFACT = re.compile(r"^(?:[\W_]{1,3}|\w{1,2}|\d+(?:[.,]\d+)?|[\W\d_]+)$")


def is_artefact(text: str) -> bool:
    """A line that is scraper residue: a known boilerplate word, a bare number, one to three marks."""
    stripped = text.strip()
    if not stripped:
        return False
    if normalise(stripped).rstrip(" |»›>") in _ARTEFACTS:
        return True
    words = re.findall(r"[a-z]+", normalise(stripped))
    if words and words[0] in ("share", "follow") and all(word in _SHARE_WORDS for word in words):
        return True  # "Share this: Twitter · Facebook", "Follow us on X and Telegram"
    return bool(_SHAPE_ARTEFACT.match(stripped)) or (len(stripped) <= 3 and stripped.isupper())


_FOOTNOTES = re.compile(r"(?:\s*\[\d+\])+$")
_CLOSERS = "\"'”’»)]* \t"


def ends_sentence(text: str) -> bool:
    """True when a line ends like a sentence: . ! ? … ; : before any closing quotes, brackets or "[3]"."""
    core = _FOOTNOTES.sub("", text.strip()).rstrip(_CLOSERS)
    return bool(core) and core[-1] in ".!?…;:"


_SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
                "over", "the", "to", "up", "via", "vs", "with", "after", "amid", "than"}


def is_heading_like(text: str, *, max_words: int = 20) -> bool:
    """Short, no sentence ending, most words capitalised: a headline or a section subheading."""
    words = text.split()
    if not words or len(words) > max_words or len(text) > 160:
        return False
    if ends_sentence(text) or text.rstrip()[-1] == ",":
        return False
    content = [w for w in words if any(c.isalpha() for c in w) and w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for w in content if w.lstrip("\"'“‘(«")[:1].isupper() or w[:1].isdigit())
    return capitalised / len(content) >= 0.6


def looks_like_body(text: str) -> bool:
    """Prose: several words ending like a sentence."""
    return word_count(text) >= 8 and ends_sentence(text)


# Photo credits: wire agencies and credit words, at the end of the line or as a label.
_AGENCIES = (r"(?:Reuters|AP|AFP|EPA|UPI|Getty(?: Images)?|Anadolu(?: Agency)?|Xinhua|Shutterstock|Alamy|"
             r"SANA|IRNA|WANA|dpa|ANSA|Sipa|Pool|AP Photo|Reuters TV|File|Handout)")
_CREDIT_PATTERNS = [
    re.compile(r"\(\s*(?:photo:?\s*|file\s*(?:photo|image)?:?\s*)?" + _AGENCIES
               + r"(?:\s*/\s*[\w .'-]+)?\s*\)\.?\s*$", re.IGNORECASE),
    re.compile(r"\b(?:file\s+(?:image|photo|picture)|photo(?:graph)?|picture|image|credit)s?\s*:\s*\S",
               re.IGNORECASE),
    re.compile(r"\bvia\s+" + _AGENCIES + r"\.?\s*$", re.IGNORECASE),
    re.compile(r"(?:/|\|)\s*" + _AGENCIES + r"\.?\s*$"),
    re.compile(r"^(?:©|\(c\))?\s*(?:photo|photograph|image)\s+(?:by|courtesy(?: of)?)\s+\S", re.IGNORECASE),
]


def is_caption_credit(text: str) -> bool:
    """A photo caption recognisable by its credit ("(Reuters)", "FILE IMAGE: AP", "via Reuters")."""
    return word_count(text) <= 60 and any(pattern.search(text) for pattern in _CREDIT_PATTERNS)


_BYLINE = re.compile(
    r"^(?i:by|written by|posted by|reporting by|words by)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4}"
    r"(?:\s*(?:,|and|&|\||-|–|—|·)\s*.{0,60})?$")


def is_byline(text: str) -> bool:
    """"By Jane Doe", "Posted by J. Smith | Staff writer": a credit line, not article text.
    ("By Monday, the road will be open." is a sentence, not a byline.)"""
    if ends_sentence(text) and word_count(text) > 4:
        return False
    return word_count(text) <= 14 and bool(_BYLINE.match(text.strip()))


# Subscription and paywall notices. A truncation notice means the rest of the page is not the article.
_PAYWALL_TRUNCATE = re.compile(
    r"(?:full (?:text|version|story|article) of this (?:post|article|report|story|item) is "
    r"(?:only )?available|subscribe (?:now |today )?to (?:continue|keep) reading"
    r"|to (?:continue|keep) reading,? (?:please )?(?:subscribe|log ?in|sign ?in|register)"
    r"|(?:this|the rest of this) (?:article|story|content|post|report) is "
    r"(?:only )?(?:available|reserved|for) (?:only )?(?:to |for )?(?:our )?(?:paid )?(?:subscribers|members)"
    r"|you have reached your (?:free )?(?:article |monthly )?limit|already a subscriber\?"
    r"|(?:register|subscribe|sign up) (?:now )?(?:for free )?to read (?:the|this) (?:full|rest|whole))",
    re.IGNORECASE)
_PAYWALL_NOTICE = re.compile(
    r"(?:subscription information,? click here|(?:please )?(?:log ?in|sign ?in) or (?:register|subscribe)"
    r"|complimentary (?:offering|article|access)"
    r"|for (?:\w+ ){0,3}subscription (?:information|details|options)"
    r"|subscribe (?:now|today|here)\b|become a (?:subscriber|member) (?:today|now)|unlock (?:this|full) "
    r"(?:article|story|access)|support (?:our|independent) journalism)",
    re.IGNORECASE)


def paywall_kind(text: str) -> str:
    """"truncate" for a notice that hides the rest, "notice" for other subscription lines, else ""."""
    if word_count(text) > 35:  # notices are short; a long paragraph that mentions subscribers is text
        return ""
    if _PAYWALL_TRUNCATE.search(text):
        return "truncate"
    if _PAYWALL_NOTICE.search(text):
        return "notice"
    return ""


_COMMENT_HEADING = re.compile(
    r"^(?:\d[\d,]*\s+|reader(?:s'?)?\s+|user\s+)?comments?(?:\s*\(\d+\))?\s*:?$"
    r"|^(?:\d[\d,]*|one|two|three|reader(?:s'?)?|user)\s+(?:responses?|replies|reactions)(?:\s*\(\d+\))?\s*:?$"
    r"|^(?:leave|post|add|write|submit|have)\s+(?:a|your)\s+(?:reply|comment|response|say)\b"
    r"|^join the (?:discussion|conversation|debate)\b|^(?:show|view|load|see|read)\s+(?:all\s+)?(?:\d+\s+)?"
    r"(?:comments|replies)\b|^what do you think\??$|^comments are closed\b|^(?:\d+|one|two|three)\s+"
    r"(?:thoughts?|responses?|replies|comments?)\s+(?:on|to)\b|^discussion\s*\(\d+\)$|^sort comments by\b",
    re.IGNORECASE)
_COMMENT_AUTHOR = re.compile(
    r"^[\w.@'’-]+(?:\s+[\w.@'’()-]+){0,3}\s+(?:says|said|wrote|writes|commented)\s*:$")
_TIMESTAMP = re.compile(
    r"\b\d{1,2}[:.]\d\d\s*(?:[ap]\.?m\.?)?|\b\d+\s+(?:minutes?|hours?|days?|weeks?|months?|years?)\s+ago\b",
    re.IGNORECASE)


def is_comment_heading(text: str) -> bool:
    """"Comments", "12 Comments", "Leave a Reply", "Join the discussion", "3 thoughts on ..."."""
    return word_count(text) <= 12 and bool(_COMMENT_HEADING.match(text.strip()))


def is_comment_author(text: str) -> bool:
    """"John Smith says:" — the line a blog engine prints above each reader comment."""
    return bool(_COMMENT_AUTHOR.match(text.strip()))


def is_timestamp(text: str) -> bool:
    """"March 3, 2019 at 4:15 pm", "2 hours ago": the line under a comment author."""
    return word_count(text) <= 8 and bool(_TIMESTAMP.search(text))


def is_handle(text: str) -> bool:
    """A user name: a few words, no sentence ending."""
    return 0 < word_count(text) <= 5 and len(text) <= 50 and not ends_sentence(text)


_CALL_TO_ACTION = re.compile(
    r"^(?:read more|learn more|find out more|more info(?:rmation)?|donate(?: now| today)?|support us|"
    r"sign up(?: now| today)?(?: for (?:our|the) \w+(?: \w+)?)?"
    r"|subscribe to (?:our|the) (?:newsletter|\w+ ?list)|"
    r"join (?:us|now|today)|get involved|click here(?: to .{0,40})?|visit (?:our|the) (?:website|site|page)|"
    r"become a (?:member|supporter|patron))\W*$",
    re.IGNORECASE)
_RELATED_LEAD = re.compile(r"^(?:read also|also read|see also|related|read more|more from|recommended|"
                           r"related (?:articles?|stories|posts|news|coverage)|you (?:may|might) also like|"
                           r"more (?:stories|news|on this|from this)\b.*)\s*[:»›>|-]", re.IGNORECASE)
_RELATED_HEADING = re.compile(r"^(?:related(?: articles?| stories| posts| news| coverage| content)?|"
                              r"you (?:may|might) also (?:like|be interested in)|recommended(?: for you)?|"
                              r"more (?:stories|news|from \w+(?: \w+)?)|most (?:read|popular|viewed)|"
                              r"(?:latest|top) (?:news|stories)|read next)\s*:?$", re.IGNORECASE)


def is_call_to_action(text: str) -> bool:
    """"Read More", "Learn more", "Donate", "Sign up for our newsletter": the end of a promotional block."""
    return word_count(text) <= 10 and bool(_CALL_TO_ACTION.match(text.strip()))


def is_related_link(text: str) -> bool:
    """"Read also: <headline>", "Related: <headline>": a link to another article."""
    return word_count(text) <= 30 and bool(_RELATED_LEAD.match(text.strip()))


def is_related_heading(text: str) -> bool:
    """"Related stories", "You may also like", "Most read": a list of other headlines follows."""
    return bool(_RELATED_HEADING.match(text.strip()))


# A capitalised name of up to six words; a possessive ends it ("MEMRI's Monitor" names MEMRI).
_NAME = r"((?:The |the )?[A-Z][\w&.-]*(?:\s+(?:of\s+the\s+|of\s+|for\s+|&\s+)?[A-Z][\w&.-]*){0,5})"
_OUTLET_PATTERNS = [
    re.compile(r"\bsources?\s+(?:\w+\s+)?told\s+" + _NAME),
    re.compile(r"\b(?:offering|provided|brought to you)\s+(?:\w+\s+)?(?:from|by)\s+" + _NAME),
    re.compile(r"(?:©|\((?i:c)\)|\b(?i:copyright)\b)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?"
               + _NAME),
    re.compile(r"^\s*(?i:source|originally published (?:by|in|on)|first published (?:by|in|on)|published by)"
               r"\s*:?\s*" + _NAME),
]
_NOT_OUTLETS = {"all", "the", "this", "all rights reserved", "we", "it", "he", "she", "they"}


def find_outlet(text: str) -> str:
    """The publisher named by a line ("sources told X", "offering from X", "© X", "Source: X"), or ""."""
    for pattern in _OUTLET_PATTERNS:
        match = pattern.search(text)
        if match:
            name = match.group(1).split(". ")[0].strip(" .,")
            if name and name.lower() not in _NOT_OUTLETS and word_count(name) <= 6:
                return name
    return ""


_COPYRIGHT_LINE = re.compile(r"^(?:©|\(c\)|copyright\b)", re.IGNORECASE)
_SOURCE_LINE = re.compile(r"^(?:source|sources|originally published (?:by|in|on))\s*:", re.IGNORECASE)


def is_publisher_line(text: str) -> bool:
    """"© 2022 The Courier. All rights reserved.", "Source: Daily Star": names the publisher, not text."""
    stripped = text.strip()
    labelled = _COPYRIGHT_LINE.match(stripped) or _SOURCE_LINE.match(stripped)
    return word_count(stripped) <= 20 and bool(labelled)
