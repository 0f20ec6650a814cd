"""The chat page in a real browser: Playwright drives Debian's chromium (headless) against a live server.

Needs the `chromium` Debian package (scripts/install-system-deps.sh); never `playwright install`.
A slow fake backend streams a reply word by word, so the test can see the pieces arrive one by one.
"""

from __future__ import annotations

import time

import pytest

from fakes.live_server import live_server
from socratic.backends import FakeBackend
from socratic.serve import ServeConfig, create_app

pytestmark = pytest.mark.browser

REPLY = "Good start. What happens to both sides when you subtract 3 from each of them?"


class SlowBackend(FakeBackend):
    def stream(self, messages, options):
        for piece in super().stream(messages, options):
            time.sleep(0.12)
            yield piece


def _tutor_text(page) -> str:
    return page.locator(".msg.tutor .text").last.text_content() or ""


def test_chat_page_streams_a_reply_and_starts_over(browser):
    backend = SlowBackend([REPLY])
    with live_server(create_app(backend, ServeConfig(model="fake"))) as base:
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.goto(base + "/")
        page.wait_for_function("document.getElementById('status').textContent.includes('fake')")
        page.fill("#context", "Solve 2x + 3 = 11.")
        page.fill("#message", "I don't know where to start.")
        page.click("#send")

        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = _tutor_text(page) if page.locator(".msg.tutor").count() else ""
            if not seen or text != seen[-1]:
                seen.append(text)
            if text == REPLY and page.locator(".msg.tutor.streaming").count() == 0:
                break
            time.sleep(0.05)
        assert seen[-1] == REPLY
        partial = [t for t in seen if t and t != REPLY]
        assert len(partial) >= 3, f"the reply did not arrive in pieces: {seen}"
        assert all(REPLY.startswith(t) for t in partial)

        assert page.locator(".msg.student .text").text_content() == "I don't know where to start."
        messages, _ = backend.calls[0]
        assert messages[0]["role"] == "system" and "Solve 2x + 3 = 11." in messages[0]["content"]
        assert messages[1:] == [{"role": "user", "content": "I don't know where to start."}]

        # A second turn sends the whole conversation back.
        page.fill("#message", "Then 2x = 8?")
        page.press("#message", "Enter")
        page.wait_for_function("document.querySelectorAll('.msg.tutor').length === 2 && "
                               "!document.querySelector('.msg.tutor.streaming')", timeout=30_000)
        assert [m["role"] for m in backend.calls[1][0]] == ["system", "user", "assistant", "user"]
        page.screenshot(path="/tmp/chat_page.png", full_page=True)

        page.click("#new")
        assert page.locator(".msg").count() == 0
        page.fill("#message", "Fresh start")
        page.click("#send")
        page.wait_for_function("!document.querySelector('.msg.tutor.streaming') && "
                               "document.querySelectorAll('.msg.tutor').length === 1", timeout=30_000)
        assert [m["role"] for m in backend.calls[2][0]] == ["system", "user"]


def test_chat_page_asks_for_the_key_when_the_server_wants_one(browser):
    backend = FakeBackend([REPLY])
    with live_server(create_app(backend, ServeConfig(model="fake"), api_key="page-key")) as base:
        page = browser.new_page()
        page.goto(base + "/")
        page.wait_for_selector("#keyrow.shown")
        page.fill("#message", "hello")
        page.click("#send")
        page.wait_for_selector(".msg.error")
        assert "401" in page.locator(".msg.error").text_content()
        page.fill("#apikey", "page-key")
        page.fill("#message", "hello again")
        page.click("#send")
        page.wait_for_function("document.querySelector('.msg.tutor .text') && "
                               f"document.querySelector('.msg.tutor .text').textContent === {REPLY!r}",
                               timeout=30_000)
    assert len(backend.calls) == 1
