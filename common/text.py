"""Plain text written by the staff, turned into safe HTML."""

from django.utils.html import escape
from django.utils.safestring import mark_safe


def render_plain_text(text: str):
    """Paragraphs split by blank lines; "## " starts a heading, "- " a list item. All else escaped."""
    html = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{escape(line[2:])}</li>" for line in lines)
            html.append(f"<ul>{items}</ul>")
            continue
        paragraph = []
        for line in lines:
            if line.startswith("## "):
                if paragraph:
                    html.append(f"<p>{'<br>'.join(paragraph)}</p>")
                    paragraph = []
                html.append(f"<h2>{escape(line[3:])}</h2>")
            else:
                paragraph.append(escape(line))
        if paragraph:
            html.append(f"<p>{'<br>'.join(paragraph)}</p>")
    return mark_safe("".join(html))
