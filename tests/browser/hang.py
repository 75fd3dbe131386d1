"""For the harness's deadline test: starts the browser, says "launched", then hangs until
run_script kills it (which must take the browser down too)."""

import time

import rvs_browser

with rvs_browser.session() as page:
    page.set_content("<p>waiting to be killed</p>")
    print("launched", flush=True)
    time.sleep(600)
