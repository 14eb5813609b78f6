"""Incidents counted by status, type and level in the background: the overview's breakdowns (docs/web.md,
"Lists and pages"). Counted on each request they read every incident (17 ms at 100,000, growing with the
table); the timer worker counts them every TALLY_SECONDS and the page shows the last count and its time."""
