"""Team-chat notifications from the command line (issue #17 part 2): `chat send`, for a scheduled job."""
import httpx

from lib.cli.common import emit, open_db
from lib.services.chat_delivery import LEASE_SECONDS, TIMEOUT, send_pending

HELP = ("post the team-chat outbox once: new events from the audit log become one delivery per channel that wants"
        " them, then what is due is posted (WeCom, DingTalk, Slack, webhook). Safe beside the app and other"
        " senders: each delivery goes out once. A delivery whose sender died mid-post, or whose channel never"
        " answered, is not resent by itself: it shows as unconfirmed on the Team chat page, with Resend. Exit 1"
        " when a post failed this run (it is retried later with backoff)")


def register(sub, common, acting) -> None:
    """Register chat send."""
    chat = sub.add_parser("chat", help="team-chat notifications (WeCom, DingTalk, Slack, webhooks)")
    commands = chat.add_subparsers(dest="chat_command", required=True, metavar="SUBCOMMAND")
    p = commands.add_parser("send", parents=[common], help=HELP.split(":")[0], description=HELP[0].upper() + HELP[1:]
                            + ".")
    p.add_argument("--limit", type=int, default=100, help="post at most N deliveries this run (default 100)")
    p.add_argument("--timeout", type=float, default=TIMEOUT.read, metavar="SECONDS",
                   help=f"how long a channel may take to answer (default {TIMEOUT.read:g}, at most"
                        f" {LEASE_SECONDS // 2}; connecting: at most {TIMEOUT.connect:g})")
    p.set_defaults(func=cmd_send)


def cmd_send(args) -> int:
    seconds = min(max(args.timeout, 0.1), LEASE_SECONDS / 2)   # a post outlasting the lease would look dead
    counts = send_pending(open_db(args), limit=max(1, args.limit),
                          timeout=httpx.Timeout(seconds, connect=min(seconds, TIMEOUT.connect)))
    emit(args, counts, f"queued {counts['queued']}, sent {counts['sent']}, retrying {counts['retrying']},"
                       f" failed {counts['failed']}, unconfirmed {counts['unconfirmed']},"
                       f" still waiting {counts['waiting']}")
    return 1 if counts["retrying"] or counts["failed"] or counts["unconfirmed"] else 0
