"""The cases service (办件): lifecycle, deadlines, A/B posts, fees, ratings, timers (DOMAIN C1–C13)."""
