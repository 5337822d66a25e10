"""The public pages as files (T1): colours with WCAG AA contrast (4.5:1 for text), and nothing
inline that the pages' Content-Security-Policy (script-src/style-src 'self') would block."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[3] / "gateway" / "pages"


def palette(css_file: str) -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", (PAGES / css_file).read_text()).group(1)
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", root))


def luminance(hex_colour: str) -> float:
    def channel(c):
        c = int(c, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(hex_colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("css, text, background", [
    ("app.css", "ink", "paper"), ("app.css", "muted", "paper"), ("app.css", "brand", "paper"),
    ("app.css", "brand-ink", "brand"), ("app.css", "bad", "paper"), ("app.css", "ink", "soft"),
    ("app.css", "muted", "soft"), ("app.css", "brand", "soft"), ("app.css", "ok", "paper"),
    ("display.css", "ink", "bg"), ("display.css", "ink", "panel"), ("display.css", "muted", "panel"),
    ("display.css", "accent", "panel"), ("display.css", "accent", "bg"), ("display.css", "good", "panel"),
    ("display.css", "flag", "panel"),
])
def test_text_colours_have_aa_contrast(css, text, background):
    colours = palette(css)
    assert contrast(colours[text], colours[background]) >= 4.5


@pytest.mark.parametrize("page", ["index", "guide", "receipt", "complaint", "display", "404"])
def test_pages_are_chinese_for_phones_and_have_nothing_inline(page):
    html = (PAGES / f"{page}.html").read_text()
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script (CSP script-src 'self')"
    assert "<style" not in html and not re.search(r"\sstyle=", html), "inline style (CSP style-src 'self')"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
