"""The rendered site in headless Chromium: every internal link resolves, no console errors."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from stdkit.loader import load_repository
from stdkit.render import install_site, render_site

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium is not installed at /usr/bin/chromium (Debian packages chromium and"
    " chromium-driver; .ci/run installs them)")

COLLECT = """() => ({
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    styled: getComputedStyle(document.querySelector('main')).maxWidth,
})"""


def test_site_in_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    site = tmp_path / "site"
    install_site(render_site(load_repository(REPO_ROOT).standards).files, site)
    pages = sorted(p.name for p in site.glob("*.html"))
    assert "index.html" in pages and len(pages) >= 2
    found: dict[str, dict[str, object]] = {}
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for width, suffix in ((1280, ""), (390, "-phone")):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("console", lambda m: errors.append(f"{m.type}: {m.text}")
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
                page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
                for name in pages:
                    page.goto((site / name).as_uri(), wait_until="load")
                    data = page.evaluate(COLLECT)
                    assert data["styled"] not in ("", "none"), f"{name}: stylesheet not applied"
                    found[name] = data
                    page.screenshot(path=str(tmp_path / f"{name[:-5]}{suffix}.png"))
                page.close()
        finally:
            browser.close()
    assert errors == []
    broken = []
    for name, data in found.items():
        links = data["links"]
        assert isinstance(links, list)
        for href in links:
            url = urlsplit(href)
            if url.scheme in ("http", "https", "mailto"):
                continue
            assert url.scheme == "file", href
            target = Path(unquote(url.path)).name
            if target not in found:
                broken.append(f"{name}: {href}")
                continue
            ids = found[target]["ids"]
            assert isinstance(ids, list)
            if url.fragment and unquote(url.fragment) not in ids:
                broken.append(f"{name}: {href}")
    assert broken == []
    assert (tmp_path / "rfia-0101.png").stat().st_size > 10_000
