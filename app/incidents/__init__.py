"""Incidents: the service every action goes through, and what it derives from the workflow."""
