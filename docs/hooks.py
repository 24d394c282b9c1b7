"""MkDocs hook: pages hold markers such as `<!-- alsim:parameters -->` that are replaced, at
build time, by tables generated from the code (`alsim.docs`), so the site cannot drift from it."""

from typing import Any

from alsim.docs import GENERATED


def on_page_markdown(markdown: str, **_: Any) -> str:
    for marker, generate in GENERATED.items():
        tag = f"<!-- alsim:{marker} -->"
        if tag in markdown:
            markdown = markdown.replace(tag, generate())
    return markdown
