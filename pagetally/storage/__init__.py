"""The store: one interface (base.Store), implemented over SQL and later LDAP."""
