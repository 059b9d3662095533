"""The names of products, campaign types, campaigns and channels: one spelling per name.

A name looks the same whether its accents are composed (``é``, U+00E9) or decomposed (``e``
and U+0301), and characters that show nothing (zero-width spaces, a byte order mark) or
turn the text around (bidirectional overrides such as U+202E, which make ``p\u202egnp.exe``
show as ``pexe.png``) make two names that look alike differ, or one name pass for another.
So every name is stored in Unicode's composed form (NFC), filters are compared in it, and an
import refuses names that hold an invisible or control character.
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Control characters (tab and line breaks among them), format characters (zero-width
spaces and joiners, the byte order mark, the bidirectional marks, embeddings, overrides and
isolates U+202A-U+202E and U+2066-U+2069, the soft hyphen), and line and paragraph
separators: none of them shows as a character of a name."""


def name_normalised(name: str) -> str:
    """The name in Unicode's composed form (NFC), as it is stored and compared."""
    if name.isascii():
        return name
    return unicodedata.normalize("NFC", name)


def hidden_character(name: str) -> tuple[int, str] | None:
    """The position (1-based) and the character of the first character of the name that
    shows nothing or is a control character (see ``REFUSED_CATEGORIES``), or None."""
    if name.isascii() and name.isprintable():
        return None
    for position, character in enumerate(name, start=1):
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            return position, character
    return None


CONTROL_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}
"""Names of the control characters a file most often holds (Unicode names none of them)."""


def character_described(character: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character that cannot be shown, named."""
    name = unicodedata.name(character, "") or CONTROL_NAMES.get(character, "CONTROL CHARACTER")
    return f"U+{ord(character):04X} {name}"


def hidden_characters_escaped(text: str) -> str:
    """The text with every character that :func:`hidden_character` refuses written as an
    escape (``\\u202e``), so that a report shows where it is and it turns nothing around."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        character
        if unicodedata.category(character) not in REFUSED_CATEGORIES
        else f"\\u{ord(character):04x}"
        for character in text
    )
