"""Server text made safe for a terminal.

Names, branches, paths and error bodies come from the server (and, through it, from whoever can
push a branch or upload an artifact). Printed as they are, an escape sequence in one of them can
retitle the window (OSC), clear the screen or move the cursor (CSI), ring the bell, hide text
behind a carriage return or backspaces, or plant a hyperlink. :func:`printable` shows every such
character as a visible escape instead (``\\x1b``), so the user sees exactly what the server sent.
It is applied where server text meets the terminal (tables, lines, error lines, the live
display) and never to ``--json`` output, whose own escaping keeps values intact.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

#: C0 controls except tab and newline (ESC, BEL, BS, CR...), DEL, the C1 controls (8-bit CSI
#: and OSC among them), and the bidirectional overrides and isolates that reorder what is shown.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character shown as a visible escape (``\\x1b``, ``\\u202e``)."""
    if _UNSAFE.search(text) is None:  # the common case: nothing to replace, no copy
        return text
    return _UNSAFE.sub(_visible, text)
