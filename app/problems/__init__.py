"""Problem tickets (问题单): raised from a workaround at closing or from the repeat-incident analysis,
followed up by the incident manager through a minimal lifecycle (docs/problems.md)."""
