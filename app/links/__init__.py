"""Incidents that belong together: duplicates, related incidents, causes, and major incidents with
their children (a complaint or alarm storm handled as one)."""
