"""cups layer (see DESIGN.md)."""
