"""Shipyard: build an exact revision, deploy it to Linux and Windows hosts, roll back.

Import name `deploy`, distribution `shipyard`. Keep this module import-free so
`invoke --list` stays fast.
"""

__version__ = "0.1.0"
