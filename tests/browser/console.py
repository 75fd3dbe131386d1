"""The web console's acceptance test in the browser: `console.py URL USER PASSWORD PHASE`.

Run by tests/tests/console_browser.rs from seed 002's client, against rvsd's console on the
director (URL, such as http://192.168.1.10:3636), once per PHASE; each run logs in again:

  setup   the login page; on /virtual, a virtual service TCP 192.168.1.250:80 (wlc); on its page,
          real servers 10.0.0.100 and 10.0.0.200 (NAT, weight 1) and an HTTP check on / every
          second; the monitor until both real servers are UP; then the add form refused with a
          bad port (the error next to the port field, nothing added).
  down    the monitor, loaded once with both real servers UP; then it writes the file
          `down.watching` into the artefacts directory (the test then stops 10.0.0.200's HTTP
          server) and waits, without reloading the page, until the live part shows 10.0.0.200
          DOWN.
  weight  10.0.0.100's weight set to 5 with its weight form; the monitor shows it.
  pages   /global, /redundancy, and the monitor once its charts are drawn.

Screenshots go to the artefacts directory, numbered in the order they are taken. Prints "ok"
last (a phase may print what it measured before).
"""

import re
import sys
import time

import rvs_browser
from rvs_browser import expect

SERVICE = "tcp-192.168.1.250-80"
VIP = "192.168.1.250"
REALS = ("10.0.0.100", "10.0.0.200")
# Takes the service's connections only while no real server is up (none is, here).
SORRY = "10.0.0.250"
# The check's Host header (the lab's HTTP servers answer any).
VHOST = "www.example.com"

# How long the monitor may take to show a real server's new health: the check (every second,
# one-second timeout, one retry), rvsd acting on it, and the page's refresh every 2 s.
HEALTH_MS = 20_000


def main(url: str, user: str, password: str, phase: str) -> None:
    base = url.rstrip("/")
    phases = {"setup": setup, "down": down, "weight": weight, "pages": pages}
    if phase not in phases:
        sys.exit(f"unknown phase {phase!r}: one of {', '.join(phases)}")
    with rvs_browser.session() as page:
        log_in(page, base, user, password, shoot=phase == "setup")
        phases[phase](page, base)
    print("ok")


def submit(page, button) -> None:
    """Clicks a form's submit button and waits for the page the server answers with."""
    with page.expect_navigation(wait_until="load"):
        button.click()


def save(page, button, url: str) -> None:
    """Submits a form that changes the configuration: the answer is `url`, which says the
    change was applied and saved."""
    submit(page, button)
    expect(page).to_have_url(url)
    expect(page.locator("p.saved")).to_have_text("Applied and saved.")


def fill(form, values: dict) -> None:
    """Types each value into the text field of its name."""
    for name, value in values.items():
        form.locator(f"[name={name}]").fill(value)


def has_values(form, values: dict) -> None:
    """Each field of `form` named in `values` shows its value."""
    for name, value in values.items():
        expect(form.locator(f"[name={name}]")).to_have_value(value)


def goto(page, address: str):
    response = page.goto(address)
    assert response is not None and response.ok, f"GET {address}: {response and response.status}"
    return response


def log_in(page, base: str, user: str, password: str, shoot: bool) -> None:
    # Without a session every page sends the browser to the login page.
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login")
    expect(page.locator("h1")).to_have_text("Log in")
    form = page.locator("form.login")
    expect(form.locator("[name=user]")).to_have_value("admin")
    if shoot:
        rvs_browser.shot(page, "01-login")
    form.locator("[name=user]").fill(user)
    form.locator("[name=password]").fill(password)
    submit(page, form.locator("button[type=submit]"))
    expect(page).to_have_url(base + "/")
    expect(page.locator("h1")).to_have_text("Monitor")
    expect(page.locator("header.top .user")).to_have_text(user)


def health(page, real: str):
    """The health badge of `real` (10.0.0.100) in the monitor's live table."""
    return page.locator(f'#live tr[data-real="{real}:80"] [data-testid=health]')


def hidden_fields(form) -> list:
    """The fields of `form` that the browser does not show (laid out with no box)."""
    return form.evaluate(
        """f => [...f.querySelectorAll(".field")].filter(d => d.offsetParent === null)
                 .map(d => d.querySelector("[name]").name)"""
    )


def services_rows(page):
    return page.locator("table[data-testid=services] tbody tr")


def setup(page, base: str) -> None:
    # The monitor of an empty table.
    expect(page.locator("[data-testid=table]")).to_be_visible()
    expect(page.locator("#live")).to_contain_text("The table is empty")
    rvs_browser.shot(page, "02-monitor-empty")

    # VIRTUAL SERVERS: none yet; add one.
    page.locator("header.top nav a", has_text="Virtual servers").click()
    expect(page).to_have_url(base + "/virtual")
    expect(page.locator("h1")).to_have_text("Virtual servers")
    expect(services_rows(page)).to_have_count(0)
    rvs_browser.shot(page, "03-virtual-empty")
    form = page.locator("form[data-testid=service-form]")
    form.locator("[name=protocol]").select_option("tcp")
    form.locator("[name=address]").fill(VIP)
    form.locator("[name=port]").fill("80")
    form.locator("[name=scheduler]").select_option("wlc")
    submit(page, form.locator("button[type=submit]"))
    expect(page).to_have_url(f"{base}/virtual/{SERVICE}?saved=1")
    expect(page.locator("h1")).to_have_text(re.compile(rf"^TCP\s+{re.escape(VIP)}:80$"))
    expect(page.locator("p.saved")).to_have_text("Applied and saved.")
    expect(page.locator("table[data-testid=reals] tbody tr")).to_have_count(0)
    rvs_browser.shot(page, "04-service-added")

    # Its real servers, by the add form (NAT, weight 1, the service's port).
    for n, real in enumerate(REALS, start=1):
        form = page.locator("form[data-testid=real-form]")
        form.locator("[name=address]").fill(real)
        form.locator("[name=port]").fill("80")
        form.locator("[name=weight]").fill("1")
        form.locator("[name=forward]").select_option("nat")
        save(page, form.locator("button[type=submit]"), f"{base}/virtual/{SERVICE}?saved=1")
        row = page.locator(f'table[data-testid=reals] tr[data-real="{real}-80"]')
        expect(row).to_contain_text(f"{real}:80")
        expect(row.locator("td").nth(1)).to_have_text("nat")
        expect(row.locator("[name=weight]")).to_have_value("1")
        expect(page.locator("table[data-testid=reals] tbody tr")).to_have_count(n)
        rvs_browser.shot(page, f"0{4 + n}-real-added-{real}")

    # The check: HTTP GET / every second, one-second timeout. The form shows the fields of the
    # chosen kind only.
    form = page.locator("form[data-testid=check-form]")
    expect(form.locator("[name=kind]")).to_have_value("none")
    assert hidden_fields(form) == ["path", "status", "vhost", "send", "expect", "payload", "reply", "dns_type", "dns_name", "interval", "timeout", "retry"]
    form.locator("[name=kind]").select_option("http")
    assert hidden_fields(form) == ["send", "expect", "payload", "reply", "dns_type", "dns_name"], hidden_fields(form)
    check = {"path": "/", "vhost": VHOST, "interval": "1", "timeout": "1"}
    fill(form, check)
    save(page, form.locator("button[type=submit]"), f"{base}/virtual/{SERVICE}?saved=1")
    has_values(page.locator("form[data-testid=check-form]"), {"kind": "http", **check})
    rvs_browser.shot(page, "07-check-saved")

    # A sorry server, in the service's own form: the service's port, forwarded as its real
    # servers are.
    form = page.locator("form[data-testid=service-form]")
    expect(form.locator("[name=sorry]")).to_have_value("")
    form.locator("[name=sorry]").fill(SORRY)
    save(page, form.locator("button[type=submit]"), f"{base}/virtual/{SERVICE}?saved=1")
    expect(page.locator("form[data-testid=service-form] [name=sorry]")).to_have_value(f"{SORRY}:80")

    # Inhibit on failure for the first real server (it stays up throughout).
    row = page.locator(f'table[data-testid=reals] tr[data-real="{REALS[0]}-80"]')
    submit(page, row.locator("button", has_text="Inhibit on failure"))
    expect(page).to_have_url(f"{base}/virtual/{SERVICE}?saved=1")
    expect(row.locator(".badge", has_text="inhibit")).to_have_count(1)
    expect(row.locator("button", has_text="Remove on failure")).to_have_count(1)

    # The monitor: the service and its two real servers, both UP once checked.
    page.locator("header.top nav a", has_text="Monitor").click()
    expect(page).to_have_url(base + "/")
    expect(page.locator("#live tr.service")).to_have_count(1)
    expect(page.locator("#live tr.service")).to_contain_text(f"{VIP}:80")
    expect(page.locator("#live tr.service")).to_contain_text("wlc")
    for real in REALS:
        expect(health(page, real)).to_have_text("UP", timeout=HEALTH_MS)
        row = page.locator(f'#live tr[data-real="{real}:80"]')
        expect(row).to_contain_text("Masq")
        expect(row.locator("[data-testid=weight]")).to_have_text("1")
    rvs_browser.shot(page, "08-monitor-up")

    # A bad port is refused: the error next to the port field, the form as it was submitted,
    # nothing added.
    goto(page, base + "/virtual")
    expect(services_rows(page)).to_have_count(1)
    before = services_rows(page).all_inner_texts()
    form = page.locator("form[data-testid=service-form]")
    form.locator("[name=address]").fill("192.168.1.251")
    form.locator("[name=port]").fill("70000")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        submit(page, form.locator("button[type=submit]"))
    assert posted.value.status == 422, f"bad port: HTTP {posted.value.status}"
    error = page.locator("#port-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("70000")
    expect(error).to_contain_text("1 to 65535")
    # Next to its field: in the same .field block as the port input, which it describes.
    expect(page.locator("div.field:has(> #port) > #port-error")).to_have_count(1)
    expect(page.locator("#port")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#port")).to_have_attribute("aria-describedby", "port-error")
    expect(page.locator("#port")).to_have_value("70000")
    expect(page.locator("#address")).to_have_value("192.168.1.251")
    # Only the port is wrong.
    expect(page.locator(".error")).to_have_count(1)
    expect(page.locator("p.saved")).to_have_count(0)
    expect(services_rows(page)).to_have_count(1)
    assert services_rows(page).all_inner_texts() == before, services_rows(page).all_inner_texts()
    rvs_browser.shot(page, "09-virtual-bad-port")
    # Still nothing added once the page is read again.
    goto(page, base + "/virtual")
    expect(services_rows(page)).to_have_count(1)
    expect(page.locator("table[data-testid=services]")).not_to_contain_text("192.168.1.251")

    # A firewall-mark service: the form asks for the mark instead of the address and port.
    # Added, then deleted (the browser asks first).
    form = page.locator("form[data-testid=service-form]")
    form.locator("[name=protocol]").select_option("fwm")
    expect(form.locator("[name=address]")).to_be_hidden()
    expect(form.locator("[name=port]")).to_be_hidden()
    expect(form.locator("[name=mark]")).to_be_visible()
    form.locator("[name=scheduler]").select_option("rr")
    fill(form, {"mark": "7"})
    save(page, form.locator("button[type=submit]"), f"{base}/virtual/fwm-7-inet?saved=1")
    has_values(page.locator("form[data-testid=service-form]"), {"protocol": "fwm", "mark": "7", "scheduler": "rr"})
    rvs_browser.shot(page, "09b-fwmark-service")
    page.once("dialog", lambda dialog: dialog.accept())
    submit(page, page.locator("button", has_text="Delete service"))
    goto(page, base + "/virtual")
    expect(services_rows(page)).to_have_count(1)


def down(page, base: str) -> None:
    for real in REALS:
        expect(health(page, real)).to_have_text("UP", timeout=HEALTH_MS)
    rvs_browser.shot(page, "10-monitor-before-down")
    # Whatever changes from now on comes from the page's own refresh: a reload or another
    # navigation would lose this mark and be counted.
    page.evaluate("() => { window.rvsTestMark = 'loaded once'; }")
    navigations = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
    refreshed = page.evaluate("() => document.getElementById('live').dataset.updated || ''")
    (rvs_browser.artefacts() / "down.watching").write_text("watching\n")
    started = time.monotonic()
    expect(health(page, REALS[1])).to_have_text("DOWN", timeout=HEALTH_MS)
    took = time.monotonic() - started
    expect(health(page, REALS[0])).to_have_text("UP")
    assert page.evaluate("() => window.rvsTestMark") == "loaded once", "the page was reloaded"
    assert navigations == [], f"the page navigated: {navigations}"
    now = page.evaluate("() => document.getElementById('live').dataset.updated || ''")
    assert now and now != refreshed, f"#live was not refreshed by the script ({refreshed!r} -> {now!r})"
    print(f"DOWN shown {took:.1f} s after down.watching was written")
    rvs_browser.shot(page, "11-monitor-down")


def weight(page, base: str) -> None:
    goto(page, f"{base}/virtual/{SERVICE}")
    row = page.locator(f'table[data-testid=reals] tr[data-real="{REALS[0]}-80"]')
    form = row.locator('form[action$="/weight"]')
    expect(form.locator("[name=weight]")).to_have_value("1")
    form.locator("[name=weight]").fill("5")
    save(page, form.locator("button", has_text="Set weight"), f"{base}/virtual/{SERVICE}?saved=1")
    row = page.locator(f'table[data-testid=reals] tr[data-real="{REALS[0]}-80"]')
    expect(row.locator("[name=weight]")).to_have_value("5")
    other = page.locator(f'table[data-testid=reals] tr[data-real="{REALS[1]}-80"]')
    expect(other.locator("[name=weight]")).to_have_value("1")
    rvs_browser.shot(page, "12-weight-set")
    page.locator("header.top nav a", has_text="Monitor").click()
    expect(page).to_have_url(base + "/")
    weight_cell = page.locator(f'#live tr[data-real="{REALS[0]}:80"] [data-testid=weight]')
    expect(weight_cell).to_have_text("5")
    rvs_browser.shot(page, "13-monitor-weight")
    # The service page says what the table holds now: realserver1 at its new weight, the
    # stopped realserver2 out of it (its check fails).
    goto(page, f"{base}/virtual/{SERVICE}")
    live = lambda real: page.locator(f'table[data-testid=reals] tr[data-real="{real}-80"] [data-testid=in-table]')
    expect(live(REALS[0])).to_contain_text("weight 5")
    expect(live(REALS[1])).to_have_text("not in the table")


def pages(page, base: str) -> None:
    page.locator("header.top nav a", has_text="Global settings").click()
    expect(page).to_have_url(base + "/global")
    expect(page.locator("h1")).to_have_text("Global settings")
    expect(page.locator("main")).to_contain_text("eth0")
    expect(page.locator("main")).to_contain_text("NAT for every real server")
    expect(page.locator("main")).to_contain_text(re.compile(r"Forwarding method now:\s*nat"))
    # The TCP timeout, as ipvsadm --set 3600 0 0 would set it.
    form = page.locator("form[action='/global']")
    expect(form.locator("[name=timeout_tcp]")).to_have_value("")
    form.locator("[name=timeout_tcp]").fill("3600")
    submit(page, form.locator("button[type=submit]"))
    expect(page).to_have_url(base + "/global?saved=1")
    expect(page.locator("[name=timeout_tcp]")).to_have_value("3600")
    expect(page.locator("[name=timeout_udp]")).to_have_value("")
    rvs_browser.shot(page, "14-global")
    page.locator("header.top nav a", has_text="Redundancy").click()
    expect(page).to_have_url(base + "/redundancy")
    expect(page.locator("h1")).to_have_text("Redundancy")
    expect(page.locator("form.grid button[type=submit]")).to_have_text("Save redundancy")
    rvs_browser.shot(page, "15-redundancy")
    page.locator("header.top nav a", has_text="Monitor").click()
    expect(page).to_have_url(base + "/")
    # The charts: drawn at load, and again every 10 s, once rvsd has sampled the service.
    expect(page.locator("#charts .chart-row svg").first).to_be_visible(timeout=HEALTH_MS)
    expect(page.locator("#charts .chart-row")).to_have_count(1)
    expect(page.locator("#charts .chart-row svg")).to_have_count(3)
    rvs_browser.shot(page, "16-monitor-charts")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: console.py URL USER PASSWORD setup|down|weight|pages")
    main(*sys.argv[1:])
