"""Exports of the store's data (PyKota's dumpykota): what `pagetally dump` writes
and the REST API serves, in one place below both edges (cli/, web/)."""
