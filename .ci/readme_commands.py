"""Print the shell commands the README tells a new user to run, one per line.

They are the lines of every ```bash block placed right after a ``<!-- ci: run -->`` marker,
without their trailing comments. ``.ci/run`` executes them in order, so the README's install,
demo and test commands are checked exactly as written.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MARKER = "<!-- ci: run -->"
_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def commands(readme: str) -> list[str]:
    found: list[str] = []
    for part in readme.split(MARKER)[1:]:
        match = _BLOCK.match(part.lstrip("\n"))
        if match is None:
            raise ValueError(f"{MARKER} must be followed by a ```bash block")
        for line in match.group(1).splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print("\n".join(commands(path.read_text(encoding="utf-8"))))
