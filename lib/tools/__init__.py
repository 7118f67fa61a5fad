"""Tooling beside the product: the bench, the load test and the dev server the browser tests start (issue #13)."""
