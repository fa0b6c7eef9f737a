"""The templates write htmx's attributes as valid HTML: `data-hx-*`, which htmx reads as well as
`hx-*`, and never `data-hx-on:*` (a colon is not allowed in a data-* attribute's name). The crawl
checks every page with the Nu HTML Checker; this also covers the pieces it does not open."""

import re
from pathlib import Path

from django.conf import settings

BARE_HTMX = re.compile(r"(?<![\w-])hx-[a-z][\w:-]*")
COLON_DATA = re.compile(r"\sdata-[\w-]*:[\w:-]*")


def test_templates_write_htmx_attributes_as_data_attributes():
    found, scanned = [], 0
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(folder).rglob("*.html")):
            scanned += 1
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found += [
                    f"{path.relative_to(folder)}:{number}: {match.group().strip()}"
                    for pattern in (BARE_HTMX, COLON_DATA)
                    for match in pattern.finditer(line)
                ]
    assert scanned > 50  # the project's templates, not an empty folder
    assert not found, "\n".join(found)
