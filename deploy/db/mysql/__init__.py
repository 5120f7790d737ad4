"""MySQL and MariaDB: the fourth dialect of the generic model ("mysql"). The server itself
normalises: the desired state is loaded into a shadow database on the same server and both
sides are read back with SHOW CREATE and information_schema (shadow.py, introspect.py)."""
