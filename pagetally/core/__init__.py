"""The domain: plain values (models) and pure rules. No I/O, stdlib only."""
