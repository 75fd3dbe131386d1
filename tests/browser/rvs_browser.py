"""What every browser script of the rvs tests shares: one way to start Chromium, screenshots.

The scripts run under tests/src/browser.rs's `run_script`, inside a lab host, with
RVS_CHROMIUM (Debian's /usr/bin/chromium) and RVS_ARTEFACTS (the directory for screenshots)
set. A script does its checks inside `session()`, prints "ok" and exits 0; anything else
(an exception, a failed assert) fails the test, and stdout/stderr end up in the test's error.

    import sys
    import rvs_browser

    with rvs_browser.session() as page:
        page.goto(sys.argv[1])
        rvs_browser.expect(page.locator("h1")).to_have_text("Virtual services")
        rvs_browser.shot(page, "services")
    print("ok")
"""

import contextlib
import os
import pathlib
import sys

from playwright.sync_api import Page, expect, sync_playwright

__all__ = ["VIEWPORT", "TIMEOUT_MS", "artefacts", "expect", "session", "shot"]

# Every screenshot the same size, whatever machine takes it.
VIEWPORT = {"width": 1280, "height": 900}

# For every wait: a page of a lab host answers in milliseconds, and a broken one should fail
# the test quickly rather than hang it until run_script's own deadline.
TIMEOUT_MS = 10_000

# Root in CI: Chromium's sandbox refuses to run as root. /dev/shm may be small in containers.
# No proxy: every address a test visits is a lab host, which no proxy could reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--no-proxy-server"]

PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy"}

expect.set_options(timeout=TIMEOUT_MS)


def artefacts() -> pathlib.Path:
    """The directory for screenshots (RVS_ARTEFACTS, made if missing)."""
    path = pathlib.Path(os.environ["RVS_ARTEFACTS"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def shot(page: Page, name: str) -> pathlib.Path:
    """Saves a full-page screenshot of `page` as <artefacts>/<name>.png and returns its path."""
    path = artefacts() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _browser_env() -> dict:
    """This process's environment without proxy variables, for Chromium."""
    return {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}


@contextlib.contextmanager
def session():
    """Starts headless Chromium and yields a fresh page; always closes the browser.

    If the block raises, the page is first saved as failure.png, and what the page logged to
    its console (and its uncaught errors) is written to stderr; then the exception goes on.
    """
    console = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ["RVS_CHROMIUM"],
            headless=True,
            args=CHROMIUM_ARGS,
            env=_browser_env(),
            timeout=30_000,
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.on("console", lambda m: console.append(f"console.{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            try:
                yield page
            except BaseException:
                _save_failure(context, console)
                raise
        finally:
            browser.close()


def _save_failure(context, console) -> None:
    """failure.png of the last open page, and the console log on stderr; never raises."""
    try:
        if context.pages:
            path = shot(context.pages[-1], "failure")
            print(f"rvs_browser: saved {path} ({context.pages[-1].url})", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - the original failure matters more
        print(f"rvs_browser: no failure screenshot: {e}", file=sys.stderr)
    for line in console:
        print(f"rvs_browser: {line}", file=sys.stderr)
