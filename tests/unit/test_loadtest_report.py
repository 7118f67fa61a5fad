"""The load test's report: the server's own warnings are counted and shown beside the failed actions."""
from lib.tools.loadtest import markdown, server_warnings, summarise


def test_server_warnings_are_the_warning_error_and_traceback_lines(tmp_path):
    log = tmp_path / "x.duckdb.server.log"
    log.write_text("2026-11-29 11:03:20.804 Uvicorn server started\n"
                   "2026-11-29 11:04:01.100 WARNING voiddesk.session: a session token was not accepted\n"
                   "Traceback (most recent call last):\n"
                   "2026-11-29 11:05:00.000 ERROR streamlit: boom\n"
                   "  You can now view your Streamlit app\n", encoding="utf-8")
    found = server_warnings(log)
    assert len(found) == 3
    assert "session token was not accepted" in found[0]
    assert server_warnings(tmp_path / "missing.log") == []


def test_the_markdown_report_names_warnings_and_first_errors():
    log = [("search", 1.0, "ok"), ("search", 2.0, "error: TimeoutError | url /?product=x | session cookie"
                                                  " in the browser: yes")]
    result = {**summarise(log, users=1, duration=10), "orders": 100, "server_peak_rss_mb": 1.0,
              "server_cpu_s": 1.0, "cpus": 2, "server_cpu_share": "5%", "server_warnings": 1,
              "first_server_warnings": ["WARNING voiddesk.session: a session token was not accepted"]}
    text = markdown(result)
    assert "1 warnings in the server log" in text
    assert "- WARNING voiddesk.session" in text
    assert "- search: error: TimeoutError" in text and "cookie in the browser: yes" in text
    assert "| search | 1 | 1 |" in text
