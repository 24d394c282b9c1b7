"""One self-contained HTML page: sections of headings, paragraphs and tables."""

import html
from collections.abc import Sequence
from dataclasses import dataclass

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 78rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
table.comparison td:nth-child(6) { font-weight: bold; }
.note { color: #555; font-size: 0.9rem; }
figure { margin: 1rem 0 2rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.85rem; max-width: 60rem; }
nav ul { columns: 2; font-size: 0.9rem; }
@media print { figure { break-inside: avoid; } body { max-width: none; margin: 0; } }
"""


@dataclass(frozen=True, slots=True)
class Section:
    """A report section: a heading, an explanatory note, and already-rendered HTML content."""

    title: str
    note: str
    content_html: str


def render_page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page as one string; no external resources."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p class='note'>{html.escape(subtitle)}</p>",
    ]
    anchors = [f"section-{i + 1}" for i in range(len(sections))]
    if len(sections) > 2:
        links = "".join(
            f'<li><a href="#{anchor}">{html.escape(section.title)}</a></li>'
            for anchor, section in zip(anchors, sections, strict=True)
        )
        parts.append(f"<nav><ul>{links}</ul></nav>")
    for anchor, section in zip(anchors, sections, strict=True):
        parts.append(f'<h2 id="{anchor}">{html.escape(section.title)}</h2>')
        if section.note:
            parts.append(f"<p class='note'>{html.escape(section.note)}</p>")
        parts.append(section.content_html)
    parts.append("</body></html>")
    return "\n".join(parts)
