"""Text put into a stylesheet of a PDF template: the page footer that names the document is a
CSS string (`@page { @bottom-center { content: "…" } }`), where HTML entities mean nothing."""

import html

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter(is_safe=False)
def css_string(value):
    """The text (already escaped for HTML by the template) as the inside of a double-quoted
    CSS string: « d'ALAI » stays « d'ALAI », not « d&#x27;ALAI », and a quote, a backslash, a
    line break or a "<" (no way out of the <style> element) is a CSS escape."""
    text = html.unescape(str(value))
    out = []
    for char in text:
        if char in '"\\<>&' or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return mark_safe("".join(out))
