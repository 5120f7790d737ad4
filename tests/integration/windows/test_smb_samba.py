"""SMB bulk transfer against a real Samba (SMB3, signing mandatory, encrypted shares).

The WinRM side is the fake endpoint + contract model over the same directories, so
"verified on the far side" means: Samba wrote the bytes, the verify_file contract
hashed what is on disk and moved it into place."""

from __future__ import annotations

import hashlib
import os

import pytest

from deploy.config import EnvConfig, HostConfig, SmbOptions
from deploy.errors import ArtifactError, TransportError
from deploy.release.layout import Layout
from deploy.preflight import check_host
from deploy.release.windows import WindowsHostOps
from deploy.secrets import Secret
from deploy.transport import open_transport
from deploy.transport.psexec import PsExecTransport
from deploy.transport.smb import SmbTransfer, unc_path
from tests.integration.windows import samba as smb
from tests.integration.windows.model import WindowsHostModel
from tests.integration.windows.psexec_standin import StandInClient
from tests.integration.windows.test_hostops_e2e import RID1, make_artifact


@pytest.fixture
def transport(smb_windows_host):
    t = open_transport(smb_windows_host.host, smb_windows_host.env)
    yield t
    t.close()


def test_put_goes_over_encrypted_smb_and_is_verified_far_side(transport, smb_windows_host, samba, tmp_path):
    blob = tmp_path / "big.bin"
    blob.write_bytes(os.urandom(5 * 1024 * 1024 + 17))
    remote = "C:\\shipyard\\site\\.shipyard\\artifacts\\big.bin"
    transport.put(blob, remote)
    on_share = samba.fs / "C" / "shipyard" / "site" / ".shipyard" / "artifacts" / "big.bin"
    assert hashlib.sha256(on_share.read_bytes()).digest() == hashlib.sha256(blob.read_bytes()).digest()
    assert not on_share.with_name("big.bin.part").exists()
    names = [n for n, _ in smb_windows_host.model.calls]
    assert names == ["verify_file"]  # the bytes never went through WinRM
    assert sum(len(c.stdin) for c in smb_windows_host.fake.commands) < 40_000  # script, library, params: no file bytes
    status = samba.status()
    assert "SMB3" in status and "AES" in status  # the session was encrypted (smbstatus' view)


def test_deploy_upload_and_unpack_through_samba(smb_windows_host, tmp_path):
    transport = open_transport(smb_windows_host.host, smb_windows_host.env)
    ops = WindowsHostOps(transport, Layout("C:\\shipyard\\site", windows=True))
    ops.prepare([], [])
    sha = make_artifact(tmp_path / "a.tar.gz", "smb")
    ops.unpack(ops.upload(tmp_path / "a.tar.gz", sha), RID1, {})
    ops.switch(RID1)
    assert [(r.id, r.current, r.artifact_sha256) for r in ops.releases()] == [(RID1, True, sha)]
    transport.close()


def test_configured_share_maps_under_share_root(samba, tmp_path):
    options = SmbOptions(port=samba.port, share="deploy", share_root="D:\\apps", connection_timeout=5)
    transfer = SmbTransfer("win1", "127.0.0.1", smb.USER, Secret("p", smb.PASSWORD), options)
    blob = tmp_path / "x.txt"
    blob.write_bytes(b"hello share")
    try:
        sent = transfer.copy(blob, "D:\\apps\\site\\x.txt")
    finally:
        transfer.close()
    assert sent == hashlib.sha256(b"hello share").hexdigest()
    assert (samba.fs / "D" / "apps" / "site" / "x.txt").read_bytes() == b"hello share"


def test_wrong_password_fails_even_with_a_good_session_pooled(samba, tmp_path):
    options = SmbOptions(port=samba.port, connection_timeout=5)
    blob = tmp_path / "x.txt"
    blob.write_bytes(b"x")
    good = SmbTransfer("win1", "127.0.0.1", smb.USER, Secret("p", smb.PASSWORD), options)
    good.copy(blob, "C:\\pooled.txt")
    bad = SmbTransfer("win1", "127.0.0.1", smb.USER, Secret("p", "wrong-password"), options)
    with pytest.raises(TransportError, match="SMB session failed") as err:
        bad.copy(blob, "C:\\nope.txt")
    assert "wrong-password" not in str(err.value)
    good.close()
    bad.close()


def test_closed_smb_port_falls_back_to_winrm_stdin(smb_windows_host, tmp_path):
    host = smb_windows_host.host.model_copy(update={"smb": SmbOptions(port=smb.free_port(), password_secret="SMB_PASSWORD",
                                                                    connection_timeout=2)})
    transport = open_transport(host, smb_windows_host.env)
    blob = tmp_path / "b.bin"
    blob.write_bytes(os.urandom(300_000))
    transport.put(blob, "C:\\shipyard\\fallback.bin")
    transport.put(blob, "C:\\shipyard\\fallback2.bin")
    transport.close()
    assert smb_windows_host.model.local("C:\\shipyard\\fallback.bin").read_bytes() == blob.read_bytes()
    assert [n for n, _ in smb_windows_host.model.calls] == ["put_file", "put_file"]
    assert transport.smb is None  # SMB is not retried for every file of the run


def test_file_changing_during_copy_is_refused(transport, tmp_path):
    blob = tmp_path / "c.bin"
    blob.write_bytes(b"original")
    with pytest.raises(ArtifactError, match="changed while it was copied"):
        transport.put(blob, "C:\\shipyard\\c.bin", sha256=hashlib.sha256(b"other").hexdigest())


def test_unc_mapping():
    admin = SmbOptions()
    assert unc_path("win1", "C:\\deploy\\a b\\x.tgz", admin) == "\\\\win1\\C$\\deploy\\a b\\x.tgz"
    share = SmbOptions(share="apps", share_root="D:\\Apps")
    assert unc_path("win1", "d:\\apps\\site\\x", share) == "\\\\win1\\apps\\site\\x"
    with pytest.raises(ValueError, match="not under share_root"):
        unc_path("win1", "C:\\other\\x", share)
    with pytest.raises(ValueError, match="not an absolute Windows path"):
        unc_path("win1", "relative\\x", admin)


def test_path_outside_the_share_is_a_transport_error_before_connecting(tmp_path):
    options = SmbOptions(port=smb.free_port(), share="deploy", share_root="D:\\apps")
    transfer = SmbTransfer("win1", "127.0.0.1", smb.USER, None, options)
    (tmp_path / "x").write_bytes(b"x")
    with pytest.raises(TransportError, match="win1: SMB: 'C:\\\\\\\\x' is not under share_root"):
        transfer.copy(tmp_path / "x", "C:\\x")


def test_psexec_host_uploads_over_smb_and_runs_scripts_through_paexec(samba, tmp_path):
    """PsExec path end to end except PAExec itself: artifacts over real SMB (admin share C$),
    scripts through the pypsexec stand-in answered by the contract model, doctor included."""
    smb.reset_fs(samba)
    model = WindowsHostModel(samba.fs)
    client = StandInClient(model)
    host = HostConfig(name="win2", address="127.0.0.1", transport="psexec", user=smb.USER,
                      smb=SmbOptions(port=samba.port, connection_timeout=5))
    password = Secret("pw", smb.PASSWORD)
    transport = PsExecTransport(host, password=password, client_factory=client,
                                smb=SmbTransfer("win2", "127.0.0.1", smb.USER, password, host.smb))
    ops = WindowsHostOps(transport, Layout("C:\\shipyard\\site", windows=True))
    ops.prepare([], [])
    sha = make_artifact(tmp_path / "a.tar.gz", "psexec")
    ops.unpack(ops.upload(tmp_path / "a.tar.gz", sha), RID1, {})
    ops.switch(RID1)
    assert ops.current() == RID1
    assert [n for n, _ in model.calls if n in ("put_file", "verify_file")] == ["verify_file"]
    assert (samba.fs / "C" / "shipyard" / "site" / "current" / "manifest.json").exists()
    calls = [c[0] for c in client.calls]
    assert calls.count("create_service") == calls.count("remove_service") == calls.count("run_executable")
    report = check_host(host, EnvConfig(deploy_to="C:\\shipyard\\site", hosts=[host]), transport)
    assert report.failed == [] and any(c.name == f"SMB port {samba.port}" and c.ok for c in report.checks)
