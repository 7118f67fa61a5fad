"""Full-page screenshots of pages in both languages, as a person sees them:

    .venv/bin/python scripts/screenshots.py URL OUTDIR [--user analyst] [PATH=NAME …]

e.g. `scripts/screenshots.py http://localhost:8501 docs/screenshots void-dashboard=void_dashboard`
writes docs/screenshots/void_dashboard_en.png and _zh.png (default: both dashboards, as the analyst).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.tools.devserver import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

DEFAULT_PAGES = ("void-dashboard=void_dashboard", "returns-dashboard=returns_dashboard")


def idle(pg) -> None:
    for _ in range(2):
        pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=120_000)
        pg.wait_for_timeout(400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("outdir")
    parser.add_argument("pages", nargs="*", default=list(DEFAULT_PAGES),
                        help="url-path[?query]=file-name (the last '=' separates the file name)")
    parser.add_argument("--user", default="analyst")
    parser.add_argument("--password", default="demo1234")
    args = parser.parse_intermixed_args()
    from playwright.sync_api import sync_playwright

    Path(args.outdir).mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.set_default_timeout(60_000)
        pg.goto(args.url)
        idle(pg)
        pg.get_by_label("Username").fill(args.user)
        pg.get_by_role("textbox", name="Password").fill(args.password)
        pg.get_by_role("button", name="Sign in").click()
        idle(pg)
        for lang, radio in (("en", "English"), ("zh", "中文")):
            pg.locator("[data-testid=stSidebar]").get_by_role("radio", name=radio).first.click()
            idle(pg)
            for item in args.pages:
                path, _, name = item.rpartition("=") if "=" in item else (item, "", item)
                pg.set_viewport_size({"width": 1280, "height": 900})
                pg.goto(f"{args.url}/{path}")
                idle(pg)
                pg.wait_for_timeout(1500)
                height = pg.evaluate("() => document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight")
                pg.set_viewport_size({"width": 1280, "height": int(height) + 150})
                pg.wait_for_timeout(1500)
                out = Path(args.outdir) / f"{name or path}_{lang}.png"
                pg.screenshot(path=str(out), full_page=True)
                print(out)
        browser.close()


if __name__ == "__main__":
    main()
