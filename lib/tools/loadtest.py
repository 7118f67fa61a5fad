"""`python -m lib.tools.loadtest`: many people using one real VoidDesk server at once (SPEC §12, issue #8).

Starts the app on a fresh copy of a seeded database (the bench's cache), then drives it with N browser sessions
in one headless Chromium (Playwright; `scripts/test.sh` installs both): each signs in as a demo user and,
until the time is up, opens searches with random filters, opens orders, and (operations users) voids orders
through the real dialog. Every action is timed from the request to the finished page; a Streamlit exception
on the page, a timeout or a missing outcome counts as an error. Prints per-action latency percentiles,
throughput and the server's peak memory, as text, JSON (--json) or a Markdown table (--markdown FILE).
"""
import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from lib.config import SESSION_COOKIE
from lib.tools.bench_seed import cache_dir, seeded_base
from lib.tools.devserver import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

PASSWORD = "demo1234"
VOIDERS = ("lead", "ops", "ops2")                  # demo accounts that void without approval below the threshold
BROWSERS = ("analyst", "finance", "warehouse", "sales", "sales2", "admin")
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
TIMEOUT_MS = 60_000


def _account(i: int) -> str:
    """The demo account of session i: voiding operations users first, then the others, round robin."""
    accounts = VOIDERS + BROWSERS
    return accounts[i % len(accounts)]


def pools(db_file: Path, voiders: int) -> dict:
    """What the sessions work on, read before the server takes the file: order numbers, SKUs, voidable orders
    split between the voiding sessions (so two sessions rarely void the same order)."""
    con = duckdb.connect(str(db_file), read_only=True)
    try:
        col = lambda sql: [r[0] for r in con.execute(sql).fetchall()]  # noqa: E731
        voidable = col("SELECT order_no FROM orders o WHERE status IN ('pending', 'processing') AND total < 9000"
                       " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id"
                       " AND v.status = 'pending_approval') ORDER BY id DESC LIMIT 2000")
        return {"orders": col("SELECT order_no FROM orders USING SAMPLE 500 ROWS"),
                "skus": col("SELECT sku FROM products ORDER BY sku"),
                "categories": col("SELECT code FROM categories"),
                "customers": ["trading", "logistics", "有限公司", "foods", "科技"],
                "voidable": [voidable[i::max(voiders, 1)] for i in range(max(voiders, 1))]}
    finally:
        con.close()


def search_url(rng: random.Random, p: dict) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return "/search"
    if choice == 1:
        return f"/search?status=shipped&status=completed&warehouse={rng.choice(['SH', 'GZ', 'BJ'])}"
    if choice == 2:
        return f"/search?customer={rng.choice(p['customers'])}"
    if choice == 3:
        return f"/search?product={rng.choice(p['skus'])}"
    return f"/search?category={rng.choice(p['categories'])}&min_total=1000&sort=total:desc"


class Session:
    """One signed-in browser session and the timings of what it did."""

    def __init__(self, browser, url: str, account: str, p: dict, slot: int | None, seed: int, log: list):
        self.browser, self.url, self.account, self.p, self.slot = browser, url, account, p, slot
        self.rng, self.log = random.Random(seed), log

    async def run(self, deadline: float) -> None:
        context = await self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            await self._timed("sign_in", page, self._sign_in)
            while time.monotonic() < deadline:
                roll = self.rng.random()
                if self.slot is not None and roll < 0.25 and self.p["voidable"][self.slot]:
                    await self._timed("void", page, self._void)
                elif roll < 0.6:
                    await self._timed("search", page, self._search)
                else:
                    await self._timed("open_order", page, self._open_order)
        finally:
            await context.close()

    async def _timed(self, action: str, page, step) -> None:
        started = time.monotonic()
        try:
            note = await step(page)
            if await page.locator("[data-testid=stException]").count():
                raise RuntimeError("the page shows an exception")
            self.log.append((action, time.monotonic() - started, note or "ok"))
        except Exception as exc:  # a failed action is a finding of the load test, never a crash of it
            shown, cookie = await self._messages(page), await self._cookie(page)
            self.log.append((action, time.monotonic() - started,
                             f"error: {type(exc).__name__}: {str(exc)[:150]} | url {page.url} | page says: {shown}"
                             f" | session cookie in the browser: {cookie}"))
            await page.goto(self.url)   # start the next action from a clean page

    async def _messages(self, page) -> str:
        """What the page shows in alerts and exceptions (to tell a slow server from a refusal)."""
        try:
            texts = await page.locator("[data-testid=stAlert], [data-testid=stException]").all_inner_texts()
            state = await page.locator("[data-testid=stApp]").first.get_attribute("data-test-script-state",
                                                                                  timeout=2000)
            return f"{' / '.join(t[:120] for t in texts) or 'no alert'}; script {state}"
        except Exception as exc:
            return f"unreadable ({type(exc).__name__})"

    async def _cookie(self, page) -> str:
        """Whether the browser holds the sign-in cookie (tells a lost cookie from one the server refused)."""
        try:
            return "yes" if any(c["name"] == SESSION_COOKIE for c in await page.context.cookies()) else "no"
        except Exception as exc:
            return f"unreadable ({type(exc).__name__})"

    async def _settled(self, page) -> None:
        await page.wait_for_selector(IDLE)
        await page.wait_for_timeout(50)
        await page.wait_for_selector(IDLE)

    async def _sign_in(self, page) -> None:
        await page.goto(self.url)
        await self._settled(page)
        await page.get_by_label("Username").fill(self.account)
        await page.get_by_role("textbox", name="Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in", exact=True).click()
        # Signed in once the sidebar offers to sign out (the language switch is there before sign-in too, and a
        # busy server may not have started the run yet when the page looks idle) and the browser holds the
        # cookie that keeps the login across the page loads of the actions.
        await page.locator(".st-key-logout").wait_for()
        await self._settled(page)
        for _ in range(TIMEOUT_MS // 50):
            if await self._cookie(page) == "yes":
                return
            await page.wait_for_timeout(50)
        raise RuntimeError("signed in, but the browser never got the session cookie")

    async def _search(self, page) -> None:
        await page.goto(self.url + search_url(self.rng, self.p))
        await page.locator("[data-testid=stMetricValue]").first.wait_for()
        await self._settled(page)

    async def _open_order(self, page) -> None:
        order_no = self.rng.choice(self.p["orders"])
        await page.goto(f"{self.url}/order?no={order_no}")
        await page.get_by_text(order_no).first.wait_for()
        await self._settled(page)

    async def _void(self, page) -> str:
        order_no = self.p["voidable"][self.slot].pop()
        await page.goto(f"{self.url}/order?no={order_no}")
        await page.get_by_role("button", name="Void order").click()
        dialog = page.get_by_role("dialog")
        await dialog.locator("[data-testid=stSelectbox]").first.click()
        await page.get_by_role("option", name="Customer cancelled").click()
        await self._settled(page)
        await dialog.get_by_role("button", name="Review and continue").click()
        await self._settled(page)
        await dialog.get_by_role("button", name="Yes, void the order").click()
        await page.get_by_text(f"Order {order_no} voided").wait_for()
        return "ok"


async def drive(url: str, users: int, duration: float, p: dict, seed: int = 7) -> list[tuple]:
    """Run `users` sessions for `duration` seconds; returns (action, seconds, outcome) per action."""
    from playwright.async_api import async_playwright

    accounts = [_account(i) for i in range(users)]
    log: list[tuple] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        deadline = time.monotonic() + duration
        voiding = [a for a in accounts if a in VOIDERS]
        slots = iter(range(len(voiding)))
        sessions = [Session(browser, url, a, p, next(slots) if a in VOIDERS else None, seed + i, log)
                    for i, a in enumerate(accounts)]
        await asyncio.gather(*(s.run(deadline) for s in sessions))
        await browser.close()
    return log


def summarise(log: list[tuple], users: int, duration: float) -> dict:
    by_action: dict[str, list] = defaultdict(list)
    errors: dict[str, list] = defaultdict(list)
    for action, seconds, outcome in log:
        (errors[action] if outcome.startswith("error") else by_action[action]).append(
            outcome if outcome.startswith("error") else seconds)
    actions = {}
    for action in sorted(set(by_action) | set(errors)):
        times = sorted(by_action[action])
        pct = lambda q: round(times[min(len(times) - 1, int(q * len(times)))] * 1000) if times else None  # noqa: E731
        actions[action] = {"ok": len(times), "errors": len(errors[action]), "p50_ms": pct(0.5),
                           "p90_ms": pct(0.9), "p99_ms": pct(0.99),
                           "mean_ms": round(statistics.mean(times) * 1000) if times else None,
                           "first_errors": errors[action][:3]}
    done = sum(a["ok"] for a in actions.values() if a is not None)
    return {"users": users, "duration_s": duration, "actions": actions, "completed": done,
            "errors": sum(len(e) for e in errors.values()), "throughput_per_s": round(done / duration, 2)}


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
    except (OSError, IndexError, ValueError):
        return None


def server_warnings(log_path: Path) -> list[str]:
    """The warning, error and traceback lines the server wrote during the run (its log beside the database)."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line.strip()[:300] for line in lines if any(w in line for w in (" WARNING ", " ERROR ", "Traceback"))]


def markdown(result: dict) -> str:
    rows = ["| action | ok | errors | p50 ms | p90 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
    for name, a in result["actions"].items():
        rows.append(f"| {name} | {a['ok']} | {a['errors']} | {a['p50_ms']} | {a['p90_ms']} | {a['p99_ms']} |")
    head = (f"{result['users']} sessions for {result['duration_s']:.0f} s on {result['orders']:,} orders: "
            f"{result['completed']} actions ({result['throughput_per_s']}/s), {result['errors']} errors, "
            f"server peak memory {result['server_peak_rss_mb']} MB, server CPU {result['server_cpu_s']} s "
            f"({result['server_cpu_share']} of the machine's {result['cpus']} cores over the run); "
            f"{result['server_warnings']} warnings in the server log.")
    shown = [f"- {w}" for w in result["first_server_warnings"]]
    shown += [f"- {a}: {e}" for a, v in result["actions"].items() for e in v["first_errors"]]
    return head + "\n\n" + "\n".join(rows) + "\n" + ("\n" + "\n".join(shown) + "\n" if shown else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.tools.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10, help="browser sessions at once (default 10)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of work after signing in (default 60)")
    parser.add_argument("--orders", type=int, default=200_000, help="size of the seeded database (default 200,000)")
    parser.add_argument("--cache-dir", help="where seeded databases are kept (as for bench)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the result as a Markdown table")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0:
        parser.error("--users must be at least 1 and --duration above 0")
    say = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    base, _ = seeded_base(args.orders, cache_dir(args.cache_dir), say)
    work = base.with_name(f"load-{args.orders}.duckdb")
    Path(f"{work}.wal").unlink(missing_ok=True)
    shutil.copyfile(base, work)
    p = pools(work, sum(1 for i in range(args.users) if _account(i) in VOIDERS))
    proc, url = start_server(work)
    say(f"{args.users} sessions on {url} for {args.duration:.0f} s")
    try:
        cpu_before, started = _cpu_seconds(proc.pid), time.monotonic()
        log = asyncio.run(drive(url, args.users, args.duration, p))
        cpu_after, wall = _cpu_seconds(proc.pid), time.monotonic() - started
        peak = _peak_rss_mb(proc.pid)
    finally:
        stop_server(proc)
    cpu = round(cpu_after - cpu_before, 1) if None not in (cpu_before, cpu_after) else None
    warnings = server_warnings(Path(f"{work}.server.log"))
    cpus = os.cpu_count() or 1
    result = {**summarise(log, args.users, args.duration), "orders": args.orders, "server_peak_rss_mb": peak,
              "server_cpu_s": cpu, "cpus": cpus,
              "server_cpu_share": f"{cpu / (wall * cpus):.0%}" if cpu is not None else None,
              "server_warnings": len(warnings), "first_server_warnings": warnings[:3]}
    if args.markdown:
        Path(args.markdown).write_text(markdown(result), encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False) if args.json else markdown(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
