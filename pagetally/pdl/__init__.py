"""Page description languages: bytes in, `Analysis` out (see base.py)."""
