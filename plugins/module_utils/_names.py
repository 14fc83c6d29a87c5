# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""How user names are compared: letter case aside, one character to one, never by full case folding,
which makes different people's names equal (`strasse` and `straße`, `kate` and a Kelvin sign)."""

from __future__ import annotations

import unicodedata


def upper_invariant(text):
    """Upper case as .NET's invariant culture gives it, one character to one (the simple mapping):
    `ß` stays `ß`, the Kelvin sign stays itself, the dotless `ı` too; never full case folding."""
    text = str(text)
    if text.isascii():
        return text.upper()
    return "".join(_invariant_upper(char) for char in text)


def _invariant_upper(char):
    if char == "\u0131":
        return char
    upper = char.upper()
    if len(upper) == 1:
        return upper
    # upper() is Unicode's full mapping. Where it expands, the one-character (simple) mapping is the
    # title-case letter if that is one character (Greek with ypogegrammeni); otherwise there is none.
    title = char.title()
    return title if len(title) == 1 else char


def lookalike_key(text):
    """A looser form, only to warn: compatibility characters (NFKC), full case folding, `ı` as `i`."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", str(text)).casefold())
    return folded.replace("\u0131", "i")


def shown(text):
    """A name quoted, with its escapes when it holds characters that look like others."""
    return repr(text) if str(text).isascii() else "%r (%s)" % (text, ascii(text))
