"""Directories that users and groups are synced from: the system's passwd and
group (or files in their format) and LDAP / Active Directory servers.

Readers only: each returns a `core.directory.Directory`; the rule that compares
it with the store is `core.directory.plan`, and the CLI (`pagetally sync`)
applies it. A reader fails whole (DirectoryError) rather than return a partial
directory, since a missing user would be taken for a leaver.
"""
