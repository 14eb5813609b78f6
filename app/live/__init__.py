"""Pages that follow what happens without a reload: short polling of cheap "changed since"
answers (docs/live.md), so no server worker is held by an open page."""
