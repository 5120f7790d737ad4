"""Fan-out against the physical floor, measured in the same run.

A realistic artifact (example site + vendored Django, ~3,000 files), deployed in-process to lab
hosts; every figure is the command's own wall time (connections opened to connections closed):

  * first deploy to 1 and to 16 hosts, with and without requirements to install, each beside the
    floor for the same hosts: plain `scp` of the artifact + `ssh tar xzf`, 16 at a time (xargs -P 16);
  * redeploy after a 10-file change to the 16 hosts, beside the full-copy floor and with the bytes
    shipped as a share of artifact x hosts;
  * a rolling redeploy (batch 1, HAProxy drain) over 4 hosts, beside the 4-host floor.

The 2 cores are shared by the controller and every lab host, so host CPU-seconds per host (sshd
and everything it ran, plus the managed supervisord's tree: gunicorn starting, reloading, its
workers importing the site) and controller CPU-seconds are printed beside wall, and the remote
commands per host per stage. Goals (issue 15): first deploy <= 1.15x floor, host CPU <= 0.8 s per
host, redeploy <= 0.5x the full-copy floor with <= 0.2 % of artifact x hosts shipped, rolling
4/1 <= 3.0x floor. Run as root: python bench/fanout.py [--rounds N] [--only redeploy] [--disk journaled|here]
(the lab's disk: bench/labdisk.py)
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import time
from dataclasses import dataclass
from typing import Iterator

from farm_common import bench_lab, run, served_cpu, sshd_cpu
from labdisk import add_disk_option

from deploy.config import RolloutConfig


@dataclass
class Row:
    case: str
    wall: float
    updating: float  # the updating stage alone: the work the floor does (transfer, unpack), verified
    floor: float
    floor_cpu: float  # CPU-s per host of the floor's scp + tar (under sshd), the same counters as host_cpu
    floor_controller_cpu: float
    host_cpu: float  # commands (under sshd) + served (the supervisord tree)
    served_cpu: float
    receive_cpu: float  # of the commands' part, what the updating stage's receiver used (python + tar)
    controller_cpu: float
    shipped: float  # share of artifact x hosts
    commands: dict[str, float]
    goal: float

    def line(self) -> str:
        whole, stage = self.wall / self.floor, self.updating / self.floor
        verdict = "/".join("ok" if r <= self.goal else "MISSED" for r in (whole, stage))
        stages = " ".join(f"{k[:5]}={v:g}" for k, v in self.commands.items())
        return (f"{self.case:<40} {self.wall:7.2f} {self.updating:7.2f} {self.floor:7.2f} {whole:6.2f} {stage:6.2f} "
                f"{self.goal:5.2f} {verdict:<9} {self.floor_cpu:8.2f} {self.host_cpu:8.2f} {self.served_cpu:7.2f} "
                f"{self.receive_cpu:8.2f} "
                f"{self.controller_cpu:7.2f} {self.floor_controller_cpu:7.2f} "
                f"{100 * self.shipped:8.3f}%  {stages}")


@dataclass
class Floor:
    wall: float
    host_cpu: float  # per host
    controller_cpu: float  # the scp and ssh clients' (xargs' children)


def floor(bench, hosts) -> Floor:
    """scp the artifact and untar it on every host, 16 at a time (into a scratch dir, removed after)."""
    lab = bench.lab
    ssh_opts = f"-i {lab.client_key} -o UserKnownHostsFile={lab.known_hosts} -o StrictHostKeyChecking=yes -o BatchMode=yes"
    script = (
        f'h=$1; d=$2; scp -q {ssh_opts} {bench.artifact} root@$h:$d/floor.tgz && '
        f'ssh {ssh_opts} root@$h "mkdir -p $d/floor && tar -xzf $d/floor.tgz -C $d/floor"'
    )
    lines = "".join(f"{h.address} {h.root}\n" for h in hosts)
    cpu0, ctl0, started = sshd_cpu(lab), children_cpu(), time.monotonic()
    subprocess.run(["xargs", "-P", "16", "-L", "1", "sh", "-c", script, "floor"], input=lines, text=True, check=True)
    took, ctl, cpu1 = time.monotonic() - started, children_cpu() - ctl0, sshd_cpu(lab)
    for h in hosts:
        subprocess.run(["rm", "-rf", f"{h.root}/floor", f"{h.root}/floor.tgz"], check=True)
    return Floor(took, sum(cpu1[h.name] - cpu0[h.name] for h in hosts) / len(hosts), ctl)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def deploy(bench, hosts, case: str, base: Floor, goal: float, batch: int | str = "25%") -> Row:
    names = {h.name for h in hosts}
    env = bench.env(rollout=RolloutConfig(batch=batch, drain="haproxy")).model_copy(
        update={"hosts": [h for h in bench.env().hosts if h.name in names], "parallel": 16})
    cpu0, served0 = sshd_cpu(bench.lab), served_cpu(bench.lab)
    result = run(bench, env)
    if result.error:
        raise SystemExit(f"{case}: deploy failed: {result.error}")
    cpu1, served1 = sshd_cpu(bench.lab), served_cpu(bench.lab)
    served = sum(served1[h.name] - served0[h.name] for h in hosts) / len(hosts)
    host_cpu = served + sum(cpu1[h.name] - cpu0[h.name] for h in hosts) / len(hosts)
    shipped = sum(result.shipped.values()) / (bench.artifact.stat().st_size * len(hosts))
    return Row(case, result.wall, result.stage_seconds("updating"), base.wall, base.host_cpu, base.controller_cpu, host_cpu, served,
               result.receive_cpu(), result.controller_cpu, shipped, result.commands_per_host(), goal)


def first_deploys(bench, one, sixteen, label: str) -> Iterator[Row]:
    for count, hosts in (("1 host", one), ("16 hosts", sixteen)):
        yield deploy(bench, hosts, f"first deploy, {count}, {label}", floor(bench, hosts), 1.15, batch="100%")


def one_round(bench, redeploys_only: bool = False) -> Iterator[Row]:
    """Every case in turn, each row as soon as it is measured; `redeploys_only`: the 16 hosts'
    first deploy with requirements unmeasured, then the redeploy and rolling rows as in a full round."""
    one, sixteen, four = bench.lab.hosts[:1], bench.lab.hosts[1:17], bench.lab.hosts[1:5]
    if not redeploys_only:
        bench.without_requirements()
        bench.commit_and_build("bench: no requirements")
        yield from first_deploys(bench, one, sixteen, "no requirements")
        bench.reset_hosts()
    bench.with_requirements()
    bench.commit_and_build("bench: requirements")
    if redeploys_only:
        deploy(bench, sixteen, "first deploy, set-up", Floor(*[float("nan")] * 3), 1.15, batch="100%")
    else:
        yield from first_deploys(bench, one, sixteen, "requirements")
    full_copy = floor(bench, sixteen)
    bench.change_files(10)
    bench.commit_and_build("bench: 10 files changed")
    yield deploy(bench, sixteen, "redeploy, 10 files changed, 16 hosts", full_copy, 0.5)
    floor4 = floor(bench, four)
    bench.change_files(10)
    bench.commit_and_build("bench: 10 more files changed")
    yield deploy(bench, four, "rolling redeploy, batch 1, 4 hosts", floor4, 3.0, batch=1)
    bench.reset_hosts()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", choices=["redeploy"],
                        help="only the redeploy and rolling cases (after an unmeasured first deploy)")
    add_disk_option(parser)
    args = parser.parse_args()
    rounds = args.rounds
    with bench_lab(17, vendor=True, disk=args.disk) as bench:
        print(f"{'case':<40} {'wall s':>7} {'upd s':>7} {'floor s':>7} {'wall/f':>6} {'upd/f':>6} {'goal':>5} "
              f"{'verdict':<9} {'floorCPU':>8} {'host CPU':>8} {'served':>7} {'recv CPU':>8} {'ctl CPU':>7} "
              f"{'floorctl':>7} {'shipped':>9}  remote commands per host per stage")
        for n in range(1, rounds + 1):
            print(f"-- round {n}")
            for row in one_round(bench, redeploys_only=args.only == "redeploy"):
                print(row.line(), flush=True)
    print("wall: the deploy command's own wall time (connect to close), restarts and health checks included; "
          "upd: its updating stage (transfer, unpack, verify, link, dependencies), the part the floor does; floor: "
          "scp + tar measured just before on the same hosts; floorCPU: the floor's CPU-s per host (scp + tar under "
          "the host's sshd, the same counters); verdict: wall/f and upd/f against the goal; host CPU: "
          "CPU-s per host, everything its sshd ran (children included) plus served: the CPU-s of the host's managed "
          "supervisord and everything under it (gunicorn master and workers booting; daemonized, so not under "
          "sshd); recv CPU: of the sshd part, the receiver's own (python + tar, as it reports it); ctl CPU: the "
          "controller's CPU-s for the "
          "whole command; floorctl: the floor's client side (scp + ssh processes); shipped: bytes sent / "
          "(artifact size x hosts). First deploys publish all hosts at once "
          "(nothing serves yet), the 16-host redeploy in batches of 25 %, the rolling case one host at a time; "
          "every batch drains and readies in HAProxy. The 2 cores are shared by the controller and all hosts.")


if __name__ == "__main__":
    main()
