"""Fan-out: deploy a realistic artifact (example site + vendored Django, ~3,000 files) to 1
and to 16 lab hosts, beside the physical floor measured in the same run (plain `scp` +
`ssh tar x` to the same number of hosts with `xargs -P 16`). The hosts share this
machine's 2 cores, so also report host CPU-seconds per host. Then a redeploy after a
10-file change (delta: only changed files travel).

Goals (issue 4): first deploy's upload+unpack <= 1.15x the floor; host CPU <= 0.8 s per host;
redeploy well under the full-copy floor.  Run as root: python bench/fanout.py
"""

from __future__ import annotations

import subprocess
import time

from farm_common import bench_lab, run, self_cpu, sshd_cpu

from deploy.config import RolloutConfig


def floor(bench, hosts) -> float:
    """scp the artifact and untar it on every host, 16 at a time."""
    lab = bench.lab
    ssh_opts = f"-i {lab.client_key} -o UserKnownHostsFile={lab.known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes"
    script = (
        f'h=$1; d=$2; scp -q {ssh_opts} {bench.artifact} root@$h:$d/floor.tgz && '
        f'ssh {ssh_opts} root@$h "mkdir -p $d/floor && tar -xzf $d/floor.tgz -C $d/floor"'
    )
    lines = "".join(f"{h.address} {h.root}\n" for h in hosts)
    started = time.monotonic()
    subprocess.run(["xargs", "-P", "16", "-L", "1", "sh", "-c", script, "floor"], input=lines, text=True, check=True)
    return time.monotonic() - started


def deploy(bench, hosts, label) -> tuple[float, float, float]:
    env = bench.env(rollout=RolloutConfig(batch="25%", drain="haproxy")).model_copy(
        update={"hosts": [h for h in bench.env().hosts if h.name in {x.name for x in hosts}]})
    cpu0, mine0 = sshd_cpu(bench.lab), self_cpu()
    result = run(bench, env)
    if result.error:
        raise SystemExit(f"{label}: deploy failed: {result.error}")
    cpu1 = sshd_cpu(bench.lab)
    host_cpu = sum(cpu1[h.name] - cpu0[h.name] for h in hosts) / len(hosts)
    return result.wall, result.stage_seconds("updating"), host_cpu + (self_cpu() - mine0) / len(hosts)


def main() -> None:
    with bench_lab(17, vendor=True) as bench:
        one, sixteen = bench.lab.hosts[:1], bench.lab.hosts[1:17]
        rows = []
        for label, hosts in (("1 host", one), ("16 hosts", sixteen)):
            floor_s = floor(bench, hosts)
            wall, updating, cpu = deploy(bench, hosts, label)
            rows.append((f"first deploy, {label}", wall, updating, floor_s, cpu))
        bench.change_files(10)
        bench.commit_and_build("bench: 10 files changed")
        wall, updating, cpu = deploy(bench, sixteen, "redeploy")
        rows.append(("redeploy after 10-file change, 16 hosts", wall, updating, rows[-1][3], cpu))
        print(f"{'case':<42} {'wall s':>7} {'upload+unpack+install s':>24} {'floor s':>8} {'ratio':>6} {'CPU s/host':>10}")
        for case, wall, updating, floor_s, cpu in rows:
            print(f"{case:<42} {wall:7.2f} {updating:24.2f} {floor_s:8.2f} {updating / floor_s:6.2f} {cpu:10.2f}")
        print("ratio = Shipyard's updating stage / floor (scp + ssh tar x). The updating stage also installs the "
              "wheelhouse (once per dependency set), which the floor does not do.")


if __name__ == "__main__":
    main()
