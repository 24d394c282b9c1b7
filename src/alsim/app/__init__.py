"""The web app (`alsim app`): a Streamlit view over alsim's public API.

`alsim.app.logic` holds what the app does (bounded design edits, chunked runs, downloads) and is
importable without Streamlit; `alsim.app.page` is the page itself.
"""

from pathlib import Path

PAGE = Path(__file__).with_name("page.py")

__all__ = ["PAGE"]
