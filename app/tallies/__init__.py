"""Incidents counted in the background: the overview's breakdowns by status, type and level (docs/web.md, "Lists
and pages") and the running incidents of each process version (docs/audit-and-versions.md). Counted on each request
they read every incident, or every running one (17 and 10 ms at 100,000, growing with the table); the timer worker
counts them every TALLY_SECONDS and the pages show the last count and its time."""
