"""Acting on many incidents at once from the inbox and the incident list: assign, link to a major
incident, close duplicates — still one audited action per incident, each done or refused alone."""
