"""Files attached to an incident, a comment or a task step: checked by their content, kept in the
database beside (not inside) the incident, streamed back so that a browser never runs them."""
