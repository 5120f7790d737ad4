import socket
import time

import pytest

from deploy.db.connect import DbUrl, connect, connection_string, parse_url
from deploy.db.errors import DbConnectError
from deploy.errors import UsageError


def test_urls() -> None:
    assert parse_url("sqlite:///site.db", base=__import__("pathlib").Path("/srv/app")).database == "/srv/app/site.db"
    assert parse_url("sqlite:////abs/site.db").database == "/abs/site.db"
    pg = parse_url("postgresql://app@db.internal:5433/site")
    assert (pg.dialect, pg.host, pg.port, pg.user, pg.database) == ("postgres", "db.internal", 5433, "app", "site")
    ms = parse_url("mssql://sa@sql1:1433/Site?driver=msodbc18")
    assert ms.driver == "ODBC Driver 18 for SQL Server"
    with pytest.raises(UsageError, match="secret"):
        parse_url("postgresql://app:hunter2@h/db")
    my = parse_url("mysql://deploy@db1/site")
    assert (my.dialect, my.host, my.port, my.user, my.database, my.driver) == ("mysql", "db1", None, "deploy", "site", "MariaDB Unicode")
    assert parse_url("mariadb://deploy@db1:3307/site").dialect == "mysql"
    with pytest.raises(UsageError, match="secret"):
        parse_url("mariadb://deploy:hunter2@db1/site")


def test_connection_strings() -> None:
    pg = connection_string(parse_url("postgresql://app@h:5433/site"), "p;w{d}", timeout=4)
    assert pg.startswith("DRIVER={PostgreSQL Unicode};SERVER=h;PORT=5433;DATABASE=site;UID=app")
    assert pg.endswith("PWD={p;w{d}}}")
    tds = connection_string(parse_url("mssql://sa@sql1:1433/Site"), "x", timeout=3)
    assert "DRIVER={FreeTDS}" in tds and "TDS_Version=7.4" in tds and "Timeout=3" in tds
    ms = connection_string(parse_url("mssql://sa@sql1/Site?driver=msodbc18"), "x", timeout=3)
    assert "SERVER=tcp:sql1,1433" in ms and "Encrypt=yes" in ms and "TrustServerCertificate=no" in ms and "LoginTimeout=3" in ms
    assert "Timeout=2000" in connection_string(DbUrl("sqlite", "/x.db"), timeout=2)
    my = connection_string(parse_url("mysql://deploy@db1/site?socket=/run/mysqld/mysqld.sock&tls=yes"), "p;w", timeout=5)
    assert my.startswith("DRIVER={MariaDB Unicode};SERVER=db1;PORT=3306;DATABASE=site;UID=deploy;CHARSET=utf8mb4")
    assert "CONN_TIMEOUT=5" in my and "SOCKET=/run/mysqld/mysqld.sock" in my and "FORCETLS=1;SSLVERIFY=1" in my
    assert my.endswith("PWD={p;w}") and "FORCETLS" not in connection_string(parse_url("mysql://u@h/d"), "x")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url", ["mssql://sa@127.0.0.1:{port}/db", "postgresql://app@127.0.0.1:{port}/db",
                                 "mysql://app@127.0.0.1:{port}/db"])
def test_closed_port_fails_fast_naming_server_and_driver(url: str) -> None:
    port = _closed_port()
    started = time.monotonic()
    with pytest.raises(DbConnectError) as e:
        connect(parse_url(url.format(port=port)), "secret-pw", timeout=3)
    assert time.monotonic() - started < 3
    assert f"127.0.0.1:{port}" in str(e.value) and e.value.driver in str(e.value)
    assert "secret-pw" not in str(e.value)


@pytest.mark.parametrize(("scheme", "driver"), [("mssql", "FreeTDS"), ("postgresql", "PostgreSQL Unicode"),
                                               ("mariadb", "MariaDB Unicode")])
def test_silent_server_hits_the_login_timeout(scheme: str, driver: str) -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(DbConnectError, match=f"127.0.0.1:{port} with ODBC driver '{driver}'"):
            connect(parse_url(f"{scheme}://sa@127.0.0.1:{port}/db"), "x", timeout=2)
        assert 1.5 < time.monotonic() - started < 6
    finally:
        silent.close()
