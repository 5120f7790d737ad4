"""A disk that fills up mid-deploy, on a real (small) tmpfs: the preflight lets the deploy start
(there was room), then a hook fills the disk once the lease is held, leaving just too little for
the upload, the unpack, or the dependency install. Each time: exit 1 naming the step, the host
still on its old release (none: a first deploy), the release marked failed if it was unpacked,
the journal saying so, no staging dir, partial upload or half-installed env left — and, with the
filler gone, the next deploy succeeds. A disk too small from the start is refused before any
host is touched."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.adversarial.conftest import adversarial_repo, finish, run

MiB = 1 << 20


@pytest.fixture(scope="module")
def built(tmp_path_factory, wheel_cache):
    site = adversarial_repo(tmp_path_factory.mktemp("enospc") / "site", wheel_cache)
    site.invoke("build", timeout=600)
    return site


@pytest.fixture
def small_disk(built):
    """The site with a fresh 160 MiB tmpfs as deploy_to, and its built artifact's sizes."""
    site = built
    site.deploy_to.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(site.deploy_to)],
                           capture_output=True, text=True)
    assert mount.returncode == 0, f"cannot mount a tmpfs (the adversarial suite runs as root): {mount.stderr}"
    try:
        yield site, sizes(site)
    finally:
        finish(site)
        subprocess.run(["umount", "-l", str(site.deploy_to)], check=False)


def sizes(site) -> dict[str, int]:
    artifact = max((site.root / "dist").glob("*.tar.gz"))
    import tarfile

    with tarfile.open(artifact) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    unpacked = sum(-(-f["size"] // 4096) * 4096 + 4096 for f in manifest["files"].values())
    return {"artifact": artifact.stat().st_size, "unpacked": unpacked}


def leftovers(site) -> list[str]:
    d = site.deploy_to
    return [str(p.relative_to(d)) for pattern in ("releases/.*.tmp", ".shipyard/artifacts/*.part",
                                                   ".shipyard/artifacts/delta-*", "shared/envs/*.tmp", ".current.tmp")
            for p in d.glob(pattern)]


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["upload", "unpack", "install"])
def test_a_disk_filling_up_mid_deploy_fails_cleanly(small_disk, stage):
    site, size = small_disk
    leave = {"upload": size["artifact"] // 2,
             "unpack": size["artifact"] + size["unpacked"] // 3,
             "install": size["artifact"] + size["unpacked"] + 4 * MiB}[stage]
    proc = run(site, "deploy", SHIPYARD_TEST_FILL=f"{site.deploy_to}:{leave}")
    assert proc.returncode == 1, proc.stderr
    assert "localhost: step 'updating/" in proc.stderr and "No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert site.current() is None
    assert leftovers(site) == []
    entry = site.journal()[-1]
    assert (entry["action"], entry["outcome"]) == ("deploy", "failed")
    for release in (site.deploy_to / "releases").iterdir():
        assert site.release_json(release.name)["status"] == "failed"
    (site.deploy_to / "filler").unlink()
    site.invoke("deploy", timeout=600)
    assert site.health()["release"] == site.current()


@pytest.mark.slow
def test_a_disk_too_small_from_the_start_is_refused_before_any_host_is_touched(small_disk):
    site, size = small_disk
    subprocess.run(["fallocate", "-l", str(150 * MiB), str(site.deploy_to / "filler")], check=True)
    proc = run(site, "deploy")
    assert proc.returncode == 1 and "not enough disk" in proc.stderr and "MiB needed" in proc.stderr
    assert sorted(p.name for p in site.deploy_to.iterdir()) == ["filler"]
