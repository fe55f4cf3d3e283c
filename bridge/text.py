"""Text that iCalendar (RFC 5545 3.3.11) and XML 1.0 (section 2.2, ``Char``) can carry.

FileMaker exports put a vertical tab (0x0B) for a line break inside a field and the group
separator (0x1D) between repeating values, and a text field may hold any other control
character; JSON may carry lone surrogates (``"\\ud800"``). None of these may appear in an XML
document, so one such record made every sync-collection answer of its calendars "not
well-formed". Ingest normalises (``clean``); output drops what slipped through (``xml_safe``).
"""

from __future__ import annotations

import re

#: Line and record separators read as a line break: CRLF, CR, VT, FF, FS, GS, RS, NEL, LS, PS.
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
#: Other C0 controls, DEL, C1 controls and the noncharacters XML excludes: dropped.
_DROP = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Anything ``clean`` changes (most text has none: one scan, no copy).
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
#: What XML 1.0 cannot carry at all (TAB, LF and CR can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """``value`` with every line break as LF, lone surrogates as U+FFFD, other controls gone."""
    if _SPECIAL.search(value) is None:
        return value
    value = _BREAKS.sub("\n", value)
    value = _SURROGATE.sub("\ufffd", value)
    return _DROP.sub("", value)


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (a guard at output; ingest already
    cleaned what it stored)."""
    if _NOT_XML.search(text) is None:
        return text
    return _NOT_XML.sub("", text)
