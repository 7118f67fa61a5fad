"""Analytics for analysts and leads (SPEC §8): dashboards, spike alerts, explore and the SQL console.

Plain functions, uncached: the app caches what its pages show (lib.ui.cached); the CLI and the bench call these."""
