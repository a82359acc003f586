"""PDFs read back as a person would see them: page count, each page's text (poppler's pdftotext) and the
fonts embedded (pdffonts), for the LibreOffice and Chromium print tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is missing: `make test` installs Debian's poppler-utils (apt-get install -y poppler-utils)"
        )
    return found


def pdf_pages(path: Path) -> list[str]:
    """The text of every page, in order (layout kept, so a table row stays one line)."""
    done = subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True)
    pages = done.stdout.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_fonts(path: Path) -> str:
    return subprocess.run([_tool("pdffonts"), str(path)], capture_output=True, check=True, text=True).stdout
