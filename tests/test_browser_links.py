"""A shared link, followed in headless Chromium: ?q=...&k=...&mode=... reproduces the answer.

Reuses tests/test_browser.py's fixtures (the app served over a copy of the bundled archive, indexed with the
real model, and a Playwright page on it).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

from test_browser import HEZBOLLAH, HEZBOLLAH_FILE, page, pytestmark, served  # noqa: F401 - fixtures and marks


def test_a_shared_link_reproduces_the_answer(served, page):  # noqa: F811 - the imported fixtures
    page.goto(f"{served['url']}/?{urlencode({'q': HEZBOLLAH, 'k': 3, 'mode': 'bm25'})}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=HEZBOLLAH).wait_for(timeout=180_000)
    answer = page.locator(".aq-answer")
    answer.wait_for(timeout=60_000)
    assert "[1]" in answer.inner_text()
    assert page.locator(".st-key-citations details").filter(has_text=HEZBOLLAH_FILE).count() >= 1
    # The settings came from the link: the caption under the question names them.
    assert "bm25, k=3" in page.locator("[data-testid='stCaptionContainer']").filter(has_text="k=3").first.inner_text()

    # Asking again writes the new question into the address bar, ready to copy.
    box = page.locator(".st-key-ask_question input")
    box.fill("Who leads Hezbollah?")
    page.locator(".st-key-ask_submit button").click()
    page.get_by_role("heading", name="Who leads Hezbollah?").wait_for(timeout=180_000)
    page.wait_for_function("() => window.location.search.includes('Who')", timeout=30_000)
    query = parse_qs(urlparse(page.url).query)
    assert query["q"] == ["Who leads Hezbollah?"] and query["k"] == ["3"] and query["mode"] == ["bm25"]
