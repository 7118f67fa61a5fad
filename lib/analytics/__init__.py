"""Analytics for analysts and leads (SPEC §8): dashboards, spike alerts, explore and the SQL console."""
