"""The account commands of `python -m lib.cli` (SPEC §11): users list | add | set-role | set-email | deactivate."""
import getpass
import secrets
import sys

from lib.cli.common import acting_user, emit, open_db


def register(sub, common, acting) -> None:
    """Register `users` and its actions."""
    p = sub.add_parser("users", help="list, add, set-role, set-email, deactivate accounts")
    actions = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    u = actions.add_parser("list", parents=[common, acting], help="list accounts")
    u = actions.add_parser("add", parents=[common, acting],
                           help="add an account (the first admin needs no --user)")
    u.add_argument("name")
    u.add_argument("--role", required=True)
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    u.add_argument("--email", help="where notification mail goes, and what signing in with the company account "
                                   "matches (one account per e-mail)")
    u = actions.add_parser("set-role", parents=[common, acting], help="change an account's role")
    u.add_argument("name")
    u.add_argument("role")
    u = actions.add_parser("set-email", parents=[common, acting], help="change an account's e-mail")
    u.add_argument("name")
    u.add_argument("email", help='the new e-mail, or "" for none; signing in with the company account finds the '
                                 "account by it, so no two accounts may share one")
    u = actions.add_parser("deactivate", parents=[common, acting], help="deactivate an account")
    u.add_argument("name")
    p.set_defaults(func=cmd_users)


def cmd_users(args) -> int:
    # here, not at the top: it imports lib.services.auth, which hashes a dummy password on import (≈0.4 s)
    from lib.services import users

    db = open_db(args)
    if args.users_command == "list":
        actor = acting_user(db, args.user)
        rows = [{k: r[k] for k in ("username", "role", "active", "email")} for r in users.list_users(db, actor)]
        text = "\n".join(f"{r['username']:<20}{r['role']:<12}{'active' if r['active'] else 'deactivated':<13}"
                         f"{r['email'] or ''}".rstrip() for r in rows)
        emit(args, rows, text or "no users")
    elif args.users_command == "add":
        actor = acting_user(db, args.user, required=users.has_admin(db))
        password, generated = _read_password(args)
        user = users.add_user(db, actor, args.name, args.role, password, email=args.email,
                              must_change_password=generated)
        note = f"\npassword: {password} (must be changed at first sign-in)" if generated else ""
        shown = {k: user[k] for k in ("username", "role", "active")}
        emit(args, {**shown, "password": password} if generated else shown,
             f"added {user['username']} ({user['role']}){note}")
    elif args.users_command == "set-role":
        user = users.set_role(db, acting_user(db, args.user), args.name, args.role)
        emit(args, {k: user[k] for k in ("username", "role", "active")}, f"{args.name} is now {args.role}")
    elif args.users_command == "set-email":
        user = users.set_email(db, acting_user(db, args.user), args.name, args.email)
        emit(args, {k: user[k] for k in ("username", "role", "active", "email")},
             f"{user['username']} now has the e-mail {user['email']}" if user["email"]
             else f"{user['username']} now has no e-mail")
    elif args.users_command == "deactivate":
        user = users.deactivate(db, acting_user(db, args.user), args.name)
        emit(args, {"username": user["username"], "role": user["role"], "active": False},
             f"{args.name} deactivated; open sessions ended")
    return 0


def _read_password(args) -> tuple[str, bool]:
    """From stdin with --password-stdin, else asked at a terminal, else generated (and shown once)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty() and not args.json:
        return getpass.getpass("password: "), False
    return secrets.token_urlsafe(12), True
