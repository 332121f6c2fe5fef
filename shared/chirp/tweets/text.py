"""Tweet text rules: NFC-normalised, 1..280 code points (so one CJK character counts one), no control
characters but line breaks and tabs, and the entities (hashtags, mentions) it carries."""

from __future__ import annotations

import re
import unicodedata

from chirp.errors import InvalidInput

MAX_CHARS = 280
# A hashtag or mention starts after a non-word character (or the start) and is made of word characters.
_HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})")
# Control characters (category Cc) render as nothing or garbage and break consumers of the text; line
# breaks and tabs are the ones people type.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


class InvalidText(InvalidInput):
    pass


def normalize_text(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        raise InvalidText("text must not be empty")
    if len(text) > MAX_CHARS:
        raise InvalidText(f"text is {len(text)} characters; at most {MAX_CHARS} are allowed")
    control = next((c for c in text if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS), None)
    if control is not None:
        raise InvalidText(f"text must not contain control character U+{ord(control):04X}")
    return text


def hashtags(text: str) -> list[str]:
    """Lower-cased, de-duplicated, in order of first appearance."""
    return list(dict.fromkeys(tag.lower() for tag in _HASHTAG.findall(text)))


def hashtag_named(raw: str) -> str:
    """A hashtag as a client names one (with or without its #), lower-cased as tweets carry it; InvalidInput when it
    could not be a hashtag."""
    tag = raw.strip().removeprefix("#")
    if not _HASHTAG.fullmatch(f"#{tag}"):
        raise InvalidInput(f"{raw!r} is not a hashtag: letters, digits and underscores, at most 100")
    return tag.lower()


def mentions(text: str) -> list[str]:
    return list(dict.fromkeys(handle.lower() for handle in _MENTION.findall(text)))
