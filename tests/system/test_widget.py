"""The website page and its chat widget, in headless Chromium (Debian's package).

The servers are started by deploy/run.sh, as `make run` does; the page is the one
it serves on WEB_PORT. Screenshots of every step go to results/browser/.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.system

SHOTS = ROOT / "results" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
REPLY_TIMEOUT_MS = 60_000


def answer_start(topic: str) -> str:
    """The first words of an FAQ answer, as the widget shows them."""
    data = yaml.safe_load((ROOT / "data" / "responses" / "faq.yml").read_text())
    text = str(data["responses"][f"utter_faq/{topic}"][0]["text"])
    # the first line only: a list answer's items are on lines of their own
    return " ".join(text.splitlines()[0].split()[:8])


@pytest.fixture(scope="module")
def site(stack: dict[str, Any]) -> str:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return str(stack["web"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run `make browser`"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def bot_messages(page: Page) -> Any:
    return page.locator("#chat-log .chat-msg.bot .chat-bubble")


def wait_for_bot_text(page: Page, text: str) -> None:
    expect(bot_messages(page).filter(has_text=text).first).to_be_visible(
        timeout=REPLY_TIMEOUT_MS
    )


def newest_answer_starts_in_view(page: Page) -> bool:
    """The first line of the newest bot message is inside the visible log."""
    return bool(
        page.evaluate(
            """() => {
              const log = document.getElementById("chat-log").getBoundingClientRect();
              const bubbles = document.querySelectorAll("#chat-log .chat-msg.bot");
              const last = bubbles[bubbles.length - 1].getBoundingClientRect();
              return last.top >= log.top - 1 && last.top + 24 <= log.bottom;
            }"""
        )
    )


def banner_height(page: Page) -> float:
    box = page.locator("#handoff-banner").bounding_box()
    return box["height"] if box else 0.0


def send(page: Page, text: str) -> None:
    page.get_by_label("Type your question").fill(text)
    page.keyboard.press("Enter")


def test_desktop_conversation_buttons_banner_and_reload(
    site: str, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site)
    shot(page, "desktop-01-page")

    page.get_by_role("button", name="Open chat with our assistant").click()
    wait_for_bot_text(page, "automated assistant")
    replies = page.get_by_role("group", name="Suggested replies").last
    expect(replies.get_by_role("button")).to_have_count(5)
    shot(page, "desktop-02-welcome")

    # a quick-reply button: its title becomes the visitor's message, its answer follows
    replies.get_by_role("button", name="Withdrawal symptoms").click()
    expect(page.locator(".chat-msg.user").last).to_have_text(
        re.compile("Withdrawal symptoms")
    )
    wait_for_bot_text(page, answer_start("withdrawal"))
    shot(page, "desktop-03-button-answer")

    # a typed question (the wording of the FAQ issue)
    send(page, "can i detox from klonopin at home")
    wait_for_bot_text(page, answer_start("home_detox"))
    shot(page, "desktop-04-typed-answer")

    # an emergency: a banner with tap-to-call links
    send(page, "my friend took a bunch of klonopin with vodka and wont wake up")
    banner = page.get_by_role("alert")
    expect(banner).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(banner).to_contain_text("Call 911")
    call_911 = banner.get_by_role("link", name="Call 911")
    assert call_911.get_attribute("href") == "tel:911"
    admissions = banner.get_by_role("link", name=re.compile("Call admissions"))
    assert re.fullmatch(r"tel:\+1\d{10}", admissions.get_attribute("href") or "")
    poison = banner.get_by_role("link", name=re.compile("Poison Help"))
    assert poison.get_attribute("href") == "tel:+18002221222"
    shot(page, "desktop-05-emergency-banner")

    # after the next message the banner is a slim bar that keeps its call buttons,
    # and the start of the newest answer can be read without scrolling (issue 13)
    full = banner_height(page)
    send(page, "what is clonazepam")
    wait_for_bot_text(page, answer_start("what_is"))
    expect(banner).to_have_class(re.compile("collapsed"))
    expect(banner.get_by_role("link", name="Call 911")).to_be_visible()
    assert banner_height(page) < full / 2, (banner_height(page), full)
    send(page, "what are klonopin withdrawal symptoms")
    wait_for_bot_text(page, answer_start("withdrawal"))
    page.wait_for_timeout(300)
    assert newest_answer_starts_in_view(page)
    shot(page, "desktop-06-banner-collapsed-answer-in-view")
    # the visitor can open it again, and close it
    banner.get_by_role("button", name="More").click()
    expect(banner).not_to_have_class(re.compile("collapsed"))
    banner.get_by_role("button", name="Less").click()
    expect(banner).to_have_class(re.compile("collapsed"))

    # the tab keeps only the server-signed session id, never what was said
    stored = page.evaluate("JSON.stringify(Object.assign({}, window.sessionStorage))")
    saved = json.loads(json.loads(stored)["dcla-chat-v2"])
    assert list(saved) == ["sessionId"] and "." in saved["sessionId"], stored
    assert "vodka" not in stored and "klonopin" not in stored.lower()
    # reload: what was said is gone with the page; the conversation goes on
    page.reload()
    page.get_by_role("button", name="Open chat with our assistant").click()
    expect(bot_messages(page)).to_have_count(0)
    # and the server still knows the conversation (same session): it answers on
    send(page, "how does clonazepam work")
    wait_for_bot_text(page, answer_start("how_it_works"))
    again = page.evaluate("window.sessionStorage.getItem('dcla-chat-v2')")
    assert json.loads(again) == saved
    shot(page, "desktop-07-after-reload")
    assert not errors, errors
    context.close()


def test_phone_screen_with_the_keyboard_alone(site: str, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(site)
    shot(page, "phone-01-page")

    # reach the launcher with Tab, open it with Enter: the text box gets the focus
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "chat-launcher":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "chat-launcher"
    page.keyboard.press("Enter")
    wait_for_bot_text(page, "automated assistant")
    assert page.evaluate("document.activeElement.id") == "chat-input"

    # the panel fills the phone screen; nothing scrolls sideways
    box = page.locator("#chat-panel").bounding_box()
    assert box is not None and box["width"] <= 375 and box["x"] >= 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-02-welcome")

    # type and send with the keyboard
    page.keyboard.type("what are the signs of klonopin addiction")
    page.keyboard.press("Enter")
    wait_for_bot_text(page, answer_start("signs"))
    shot(page, "phone-03-typed-answer")

    # Shift+Tab from the text box reaches the last suggested reply; Enter presses it
    page.get_by_label("Type your question").focus()
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON", focused
    page.keyboard.press("Enter")
    expect(page.locator(".chat-msg.user").last).to_have_text(re.compile(focused))
    expect(bot_messages(page)).not_to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    shot(page, "phone-04-button-by-keyboard")

    # a crisis message on the phone: the 988 banner, call and text
    send(page, "i dont want to be alive anymore")
    banner = page.get_by_role("alert")
    expect(banner).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    assert (
        banner.get_by_role("link", name="Call 988").get_attribute("href") == "tel:988"
    )
    assert (
        banner.get_by_role("link", name="Text 988").get_attribute("href") == "sms:988"
    )
    shot(page, "phone-05-crisis-banner")

    # the next answer: the banner collapses to a bar with its call buttons, and the
    # start of the answer is in view without scrolling (issue 13)
    send(page, "what are the long term effects of klonopin")
    wait_for_bot_text(page, answer_start("long_term"))
    page.wait_for_timeout(300)
    expect(banner).to_have_class(re.compile("collapsed"))
    expect(banner.get_by_role("link", name="Call 988")).to_be_visible()
    assert newest_answer_starts_in_view(page)
    shot(page, "phone-06-banner-collapsed-answer-in-view")

    # Escape closes the panel and gives the focus back to the launcher
    page.keyboard.press("Escape")
    expect(page.locator("#chat-panel")).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "chat-launcher"
    context.close()


def test_markup_in_messages_is_shown_as_text(site: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(site)
    page.get_by_role("button", name="Open chat with our assistant").click()
    wait_for_bot_text(page, "automated assistant")
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    send(page, attack)
    expect(page.locator(".chat-msg.user").last).to_contain_text("<img src=x")
    expect(bot_messages(page)).not_to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("#chat-log img, #chat-log script").count() == 0
    shot(page, "markup-as-text")
    page.close()
