"""`python -m lib.cli …`: see lib/cli/__init__.py."""
from lib.cli import main

raise SystemExit(main())
