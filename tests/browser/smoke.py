"""Smoke test of the browser harness: `smoke.py URL NAME`.

Opens URL (the lab's HTTP server, whose index is NAME as text/plain), checks that the page
shows NAME and that text is drawn with real glyphs (fonts are installed), saves smoke.png,
and prints "ok".
"""

import sys

import rvs_browser
from rvs_browser import expect

# Ink of a word drawn on a canvas: zero when Chromium has no font to draw it with.
INK_JS = """() => {
    const canvas = document.createElement("canvas");
    canvas.width = 200;
    canvas.height = 60;
    const ctx = canvas.getContext("2d");
    ctx.font = "32px sans-serif";
    ctx.fillText("rvs Wg", 10, 40);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) inked += pixels[i] > 0 ? 1 : 0;
    return inked;
}"""


def main(url: str, name: str) -> None:
    with rvs_browser.session() as page:
        response = page.goto(url)
        assert response is not None, f"GET {url}: no response"
        assert response.ok, f"GET {url}: HTTP {response.status}"
        expect(page.locator("body")).to_have_text(name)
        inked = page.evaluate(INK_JS)
        assert inked > 100, f"text drew {inked} pixels: are fonts installed?"
        rvs_browser.shot(page, "smoke")
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: smoke.py URL NAME")
    main(sys.argv[1], sys.argv[2])
