"""Database URLs -> ODBC connection strings -> pyodbc connections, always with a login
timeout (a silent server otherwise hangs for minutes). The password never comes from the
URL in shipyard.toml: it is a Secret from the environment's `secrets` table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from deploy.db.errors import DbConnectError
from deploy.errors import UsageError

DRIVERS = {"postgres": "PostgreSQL Unicode", "sqlite": "SQLite3", "tsql": "FreeTDS", "mysql": "MariaDB Unicode"}
MS_DRIVER = "ODBC Driver 18 for SQL Server"
_SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "sqlite": "sqlite", "mssql": "tsql", "sqlserver": "tsql",
            "mysql": "mysql", "mariadb": "mysql"}
DEFAULT_TIMEOUT = 10


@dataclass(frozen=True)
class DbUrl:
    dialect: str
    database: str
    host: str = ""
    port: int | None = None
    user: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def driver(self) -> str:
        wanted = self.params.get("driver")
        if self.dialect == "tsql" and wanted and wanted.lower() in ("msodbc", "msodbc18", MS_DRIVER.lower()):
            return MS_DRIVER
        return wanted or DRIVERS[self.dialect]

    @property
    def server(self) -> str:
        """How a message names the server."""
        if self.dialect == "sqlite":
            return self.database
        return f"{self.host}:{self.port}" if self.port else self.host

    def with_database(self, database: str) -> "DbUrl":
        return DbUrl(self.dialect, database, self.host, self.port, self.user, dict(self.params))


def parse_url(url: str, base: Path | None = None) -> DbUrl:
    """`sqlite:///rel.db` (relative to `base`), `sqlite:////abs.db`, `postgresql://user@host:port/db`,
    `mssql://user@host:port/db?driver=FreeTDS|msodbc18`, `mysql://user@host:port/db` (or `mariadb://`;
    `?socket=/run/mysqld/mysqld.sock`, `?tls=yes`). A password in the URL is refused."""
    parts = urlsplit(url)
    dialect = _SCHEMES.get(parts.scheme)
    if dialect is None:
        raise UsageError(f"database URL {url!r}: scheme must be one of {', '.join(sorted(_SCHEMES))}")
    if parts.password:
        raise UsageError("database URL: put the password in a secret (db.password_secret), not in the URL")
    params = dict(parse_qsl(parts.query))
    if dialect == "sqlite":
        path = Path(unquote(parts.path[1:] if parts.path.startswith("/") else parts.path))
        if not path.is_absolute() and base is not None:
            path = base / path
        return DbUrl("sqlite", str(path), params=params)
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not database:
        raise UsageError(f"database URL {url!r}: needs a host and a database name")
    return DbUrl(dialect, database, parts.hostname, parts.port, unquote(parts.username) if parts.username else None, params)


def _braced(value: str) -> str:
    """ODBC attribute values with ; { } or spaces are wrapped in braces (} doubled)."""
    if any(ch in value for ch in ";{}= ") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


def connection_string(url: DbUrl, password: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> str:
    attrs: list[tuple[str, str]] = [("DRIVER", "{" + url.driver + "}")]
    if url.dialect == "sqlite":
        attrs += [("Database", url.database), ("Timeout", str(timeout * 1000)), ("FKSupport", "1")]
    elif url.dialect == "mysql":
        attrs += _mysql_attrs(url, timeout)
    elif url.dialect == "postgres":
        attrs += [("SERVER", url.host), ("PORT", str(url.port or 5432)), ("DATABASE", url.database)]
        attrs += [("UID", url.user or "postgres"), ("ConnSettings", "{SET client_min_messages=warning}")]
        # transaction-level rollback: no SAVEPOINT around each statement (a failure aborts the
        # whole script anyway, and a savepoint after ALTER DOMAIN ... DROP CONSTRAINT trips a
        # PostgreSQL 15 bug, "cannot start a subtransaction when there are unprocessed inval messages")
        attrs.append(("Protocol", "7.4-0"))
    elif url.driver == MS_DRIVER:
        attrs += [("SERVER", f"tcp:{url.host},{url.port or 1433}"), ("DATABASE", url.database), ("UID", url.user or "sa")]
        attrs += [("Encrypt", url.params.get("encrypt", "yes")), ("TrustServerCertificate", url.params.get("trust_server_certificate", "no"))]
        attrs += [("LoginTimeout", str(timeout))]
    else:
        attrs += [("SERVER", url.host), ("PORT", str(url.port or 1433)), ("DATABASE", url.database), ("UID", url.user or "sa")]
        attrs += [("TDS_Version", url.params.get("tds_version", "7.4")), ("Timeout", str(timeout))]
    if password is not None and url.dialect != "sqlite":
        attrs.append(("PWD", password))
    return ";".join(f"{k}={v if k in ('DRIVER', 'ConnSettings') else _braced(v)}" for k, v in attrs)


def _mysql_attrs(url: DbUrl, timeout: int) -> list[tuple[str, str]]:
    """MariaDB Connector/ODBC: utf8mb4 on the wire, the login timeout always set; with
    `tls=yes` TLS is required and the server certificate verified."""
    attrs = [("SERVER", url.host), ("PORT", str(url.port or 3306))]
    if url.database:
        attrs.append(("DATABASE", url.database))
    attrs += [("UID", url.user or "root"), ("CHARSET", "utf8mb4"), ("CONN_TIMEOUT", str(timeout))]
    if url.params.get("socket"):
        attrs.append(("SOCKET", url.params["socket"]))
    if url.params.get("tls", "no").lower() in ("yes", "true", "1"):
        attrs += [("FORCETLS", "1"), ("SSLVERIFY", "1")]
    return attrs


def connect(url: DbUrl, password: str | None = None, *, timeout: int = DEFAULT_TIMEOUT, autocommit: bool = False) -> Any:
    """A pyodbc connection; any failure becomes DbConnectError naming server and driver."""
    try:
        import pyodbc
    except ImportError as e:  # the manylinux wheel loads the system's libodbc.so.2
        raise DbConnectError(url.server, url.driver, f"pyodbc cannot load: {e} (Debian: apt-get install "
                             "unixodbc and the driver's package, e.g. libsqliteodbc or odbc-postgresql)") from None

    if url.dialect == "sqlite" and not Path(url.database).parent.is_dir():
        raise DbConnectError(url.server, url.driver, f"directory {Path(url.database).parent} does not exist")
    try:
        return pyodbc.connect(connection_string(url, password, timeout), autocommit=autocommit, timeout=timeout)
    except pyodbc.Error as e:
        message = " ".join(str(a) for a in e.args)
        if password and len(password) >= 4:  # shorter ones would mangle the message, not hide much
            message = message.replace(password, "********")
        raise DbConnectError(url.server, url.driver, message) from None
