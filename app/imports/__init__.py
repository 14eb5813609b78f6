"""The service desk's import of existing tickets (CSV): preview, then import all rows or none."""
