"""The validation sandbox maps host paths into itself, once, and swaps certificates."""

from pathlib import Path

from deploy.siteconfig.sandbox import Sandbox
from deploy.siteconfig.validate import linux_platform


def test_host_paths_and_certs_are_relocated_once():
    manifest = {"current": "/srv/s/current", "roots": ["/srv/s/current/app", "/srv/s/current", "/srv/s/shared"],
                "certs": {"/etc/ssl/s.pem": "cert", "/srv/s/shared/tls/s.key": "key"}}
    with Sandbox(manifest) as box:
        text = box.relocate("a /srv/s/current/app/x b /srv/s/currently c=/srv/s/shared;\n"
                            "crt /etc/ssl/s.pem key /srv/s/shared/tls/s.key")
        current, shared = box.dir / "r0", box.dir / "r1"  # outermost roots only, sorted
        assert f"a {current}/app/x " in text
        assert " b /srv/s/currently " in text  # a longer name is not a root
        assert f"c={shared};" in text
        assert Path(text.split("crt ")[1].split()[0]).read_bytes().startswith(b"-----BEGIN CERTIFICATE")
        assert b"PRIVATE KEY" in Path(text.split("key ")[1].strip()).read_bytes()
        written = box.write("etc/x.conf", "root /srv/s/current")
        assert written == current / "etc/x.conf" and written.read_text() == f"root {current}"
        assert box.unmap(f"error in {current}/etc/y.conf and {shared}/log") == "error in etc/y.conf and /srv/s/shared/log"
        assert len(str(current)) < 24  # unix socket paths stay short after relocation
    assert not box.dir.exists()


def test_windows_drive_paths_map_under_the_sandbox():
    with Sandbox({"current": "C:/srv/s/current", "roots": ["C:/srv/s/current", "C:/srv/s/shared"]}) as box:
        assert box.relocate('"C:/srv/s/current/etc"') == f'"{box.dir}/r0/etc"'
        assert box.release == box.dir / "r0"


def test_windows_platform_block_is_translated_to_debian_modules():
    text = ("# head\n# --- platform: windows ---\nServerRoot \"C:/Apache24\"\nLoadModule mime_module modules/mod_mime.so\n"
            "LoadModule log_config_module modules/mod_log_config.so\nLoadFile \"C:/Python311/python311.dll\"\n"
            "LoadModule wsgi_module \"C:/v/mod_wsgi.pyd\"\nThreadsPerChild 25\n# --- end platform ---\nListen 9001\n")
    out = linux_platform(text)
    assert "LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so" in out
    assert "LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so" in out
    assert "log_config" not in out and "LoadFile" not in out and "C:/Apache24" not in out
    assert out.startswith("# head\n") and out.endswith("ThreadsPerChild 25\n# --- end platform ---\nListen 9001\n")


def test_accounts_missing_here_become_nobody():
    from deploy.siteconfig.sandbox import local_accounts

    text = "User shipsite-svc\nGroup www-data\n[program:x]\nuser=shipsite-svc\n    user haproxy-nope\n    group root\nUserDir x y\n"
    assert local_accounts(text) == ("User nobody\nGroup www-data\n[program:x]\nuser=nobody\n    user nobody\n"
                                    "    group root\nUserDir x y\n")
