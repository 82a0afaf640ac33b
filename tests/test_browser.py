"""End to end: `archive-qa serve` on a free port, driven in headless Debian Chromium through Playwright.

Builds the index with the real embedding model (`archive-qa build`), asks a question the archive answers
and one it cannot, opens a citation, and saves a screenshot of the answered question.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HEZBOLLAH = "What did Hezbollah threaten to do if central Beirut were struck?"
HEZBOLLAH_FILE = "001_4b85ccf491a580e5.txt"
UNANSWERABLE = "What is the capital of Australia?"
# The README's picture is refreshed only on request (ARCHIVE_QA_SCREENSHOT=docs/screenshot.png), so a test
# run never dirties the work tree; otherwise the picture goes to a temporary folder.
SCREENSHOT = Path(os.environ.get("ARCHIVE_QA_SCREENSHOT")
                  or Path(tempfile.gettempdir()) / "archive-qa-screenshot.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install chromium chromium-driver); no browser is downloaded"),
]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("archive-qa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive_qa.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"archive-qa serve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the app did not answer at {url} within {timeout:.0f}s")


@pytest.fixture(scope="module", params=["onnx", "static"])
def served(tmp_path_factory, request):
    """The app serving a copy of the bundled archive, indexed with the real model (MiniLM's own vectors, then the
    default: the static table distilled from it, MiniLM at the question); always stopped after."""
    root = tmp_path_factory.mktemp("browser")
    archive, index = root / "archive", root / "index"
    shutil.copytree(PROJECT_ROOT / "corpus", archive)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_QA_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ARCHIVE_QA_EMBEDDING_BACKEND=request.param)
    subprocess.run([*_command(), "build", "--archive", str(archive), "--index", str(index), "--quiet"],
                   env=env, check=True, timeout=900)
    port = _free_port()
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        [*_command(), "serve", "--archive", str(archive), "--index", str(index), "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server, timeout=120)
        yield {"url": url, "archive": archive, "log": root / "serve.log", "backend": request.param}
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # serve's own group: the CLI and its streamlit child
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=15)
        log.close()


@pytest.fixture()
def page(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.set_default_timeout(60_000)
            page.goto(served["url"], wait_until="domcontentloaded")
            yield page
        finally:
            browser.close()


def _ask(page, question: str) -> None:
    box = page.locator(".st-key-ask_question input")
    box.wait_for(state="visible", timeout=120_000)
    box.fill(question)
    page.locator(".st-key-ask_submit button").click()
    page.get_by_role("heading", name=question).wait_for(timeout=180_000)


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_an_analyst_asks_opens_a_citation_and_sees_the_abstention(served, page):
    _ask(page, HEZBOLLAH)
    answer = page.locator(".aq-answer")
    answer.wait_for(timeout=60_000)
    assert "[1]" in answer.inner_text()

    citation = page.locator(".st-key-citations details").filter(has_text=HEZBOLLAH_FILE).first
    summary = citation.locator("summary")
    summary.wait_for()
    label = summary.inner_text()
    summary.click()
    highlighted = citation.locator(".aq-passage mark").first
    highlighted.wait_for(state="visible")
    cited = _normalised(highlighted.inner_text())
    assert len(cited) > 20

    # The cited text is in the file at the lines the label names.
    start, end = (int(n) for n in re.search(rf"{re.escape(HEZBOLLAH_FILE)}:(\d+)(?:-(\d+))?", label)
                  .groups(default="0"))
    lines = (served["archive"] / HEZBOLLAH_FILE).read_text(encoding="utf-8").splitlines()
    span = _normalised(" ".join(lines[start - 1:(end or start)]))
    assert span and (span in cited or cited[:60] in span or span[:60] in cited)

    citation.get_by_role("tab", name="Raw file lines").click()
    raw = citation.locator(".aq-raw .aq-cited").first
    raw.wait_for(state="visible")
    assert _normalised(raw.inner_text())

    citation.get_by_role("tab", name="Passage").click()
    if served["backend"] == "static":  # the picture shows the default configuration
        page.locator(".st-key-answer").scroll_into_view_if_needed()
        time.sleep(0.5)  # let the expander's animation settle before the picture
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

    _ask(page, UNANSWERABLE)
    # Streamlit reuses elements across reruns, so wait for the new text, not only for the container.
    declined = page.locator(".st-key-abstention").get_by_text("No answer in the archive")
    declined.wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.aq-answer').length === 0", timeout=30_000)


def test_the_answering_phrase_leads_and_is_highlighted_in_the_answer(served, page):
    # The same question as test_qa_slow's JSON check: the name asked for leads the answer, in bold, and is marked
    # inside the quoted sentence.
    _ask(page, "Who heads the Syrian Observatory for Human Rights?")
    answer = page.locator(".aq-answer")
    answer.wait_for(timeout=60_000)
    phrase = answer.locator("mark.aq-answer-span").first
    phrase.wait_for(state="visible", timeout=60_000)
    # The phrase leads, in bold on its own line, above the quoted sentence that marks it.
    lead = answer.locator(".aq-phrase strong")
    lead.wait_for(state="visible")
    assert int(lead.evaluate("node => parseInt(getComputedStyle(node).fontWeight)")) >= 700
    assert _normalised(lead.inner_text()) == _normalised(phrase.inner_text())
    quoted = answer.locator(".aq-quoted")
    lead_box, quoted_box, phrase_box = lead.bounding_box(), quoted.bounding_box(), phrase.bounding_box()
    assert lead_box and quoted_box and phrase_box
    assert lead_box["y"] + lead_box["height"] <= quoted_box["y"] + 1 and lead_box["y"] < phrase_box["y"]
    assert re.fullmatch(r"confidence [01]\.\d\d", _normalised(answer.locator(".aq-confidence").inner_text()))
    assert "[1]" in quoted.inner_text()
    assert not _normalised(quoted.inner_text()).startswith(_normalised(lead.inner_text()) + " —")  # shown once
    assert _normalised(phrase.inner_text()) == "Rami Abdul Rahman"
    assert "Rami Abdul Rahman" in _normalised(answer.inner_text())
