"""One module per printer language; each exposes `PARSERS: list[Parser]` (see pdl/base.py)."""
