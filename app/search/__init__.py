"""Full-text search over what was written on incidents (titles, descriptions, notes, comments,
solutions), for Chinese as for English: trigram indexes — pg_trgm on PostgreSQL, FTS5's trigram
tokenizer on SQLite — ranked, with the match highlighted; and similar incidents for the desk."""
