"""Graceful reloads after the switch: each server re-reads the config that now
sits under `current/etc`, and in-flight requests finish on the old workers."""

from __future__ import annotations

import shlex

from deploy.config import EnvConfig, HostConfig
from deploy.siteconfig.model import VarnishHookConfig
from deploy.siteconfig import context as cx


def reload_commands(env: EnvConfig, host: HostConfig, project: str = "site") -> list[str]:
    """Shell lines, in order, for the servers this host runs: POSIX sh on Linux
    hosts, PowerShell on Windows hosts (the host's own dialect). `project` names
    the Windows services of the Apache farm (pass loaded.project.name)."""
    if env.site is None:
        return []
    site = env.site
    paths = cx.HostPaths(env.host_deploy_to(host), host.is_windows, site)
    etc = paths.etc
    commands: list[str] = []
    for kind in cx.kinds_for(env, site, host):
        if kind == "apache":
            commands += _apache(host, paths, site.workers, project)
        elif kind == "nginx":
            commands.append("nginx -t -q && nginx -s reload")
        elif kind == "haproxy":
            cfg, pid = shlex.quote(f"{etc}/haproxy/haproxy.cfg"), shlex.quote(f"{paths.get(site.run_dir)}/haproxy.pid")
            commands.append(f"haproxy -c -q -f {cfg} && haproxy -D -f {cfg} -sf $(cat {pid})")
        elif kind == "supervisor":
            commands.append("supervisorctl reread && supervisorctl update")
        elif kind == "systemd":
            commands.append("systemctl daemon-reload")
        elif kind == "varnish":
            commands.append(_varnish(f"{etc}/varnish/default.vcl", site.cache.varnish))
        # iis: IIS recycles the application itself when web.config changes
    return commands


def _apache(host: HostConfig, paths: cx.HostPaths, workers: int, project: str) -> list[str]:
    """Workers first, balancer last: the balancer never points at a worker that is not back."""
    instances = [(f"www{i}", f"worker-{i}.conf") for i in range(1, workers + 1)] + [("balancer", "balancer.conf")]
    if host.is_windows:
        httpd = f"{paths.site.windows_apache_root}/bin/httpd.exe"
        return [f"& '{httpd}' -t -f '{paths.etc}/apache/{conf}'; if ($LASTEXITCODE -eq 0) "
                f"{{ & '{httpd}' -k restart -n '{windows_service(project, name)}' }}" for name, conf in instances]
    return [f"apache2ctl -t -f {shlex.quote(c)} && apache2ctl -k graceful -f {shlex.quote(c)}"
            for c in (f"{paths.etc}/apache/{conf}" for _, conf in instances)]


def windows_service(project: str, instance: str) -> str:
    """The Windows service one farm instance is installed as (httpd -k install -n NAME -f CONF)."""
    return f"{cx.slug(project)}-{instance}"


def varnishadm_argv(hook: VarnishHookConfig | None) -> list[str]:
    if hook is None:
        return ["varnishadm"]
    if hook.workdir:
        return ["varnishadm", "-t", f"{hook.timeout:g}", "-n", hook.workdir]
    return ["varnishadm", "-t", f"{hook.timeout:g}", "-T", str(hook.admin), "-S", str(hook.secret)]


def _varnish(vcl: str, hook: VarnishHookConfig | None) -> str:
    adm = shlex.join(varnishadm_argv(hook))
    return (f"name=shipyard_$(date +%Y%m%d%H%M%S) && {adm} vcl.load \"$name\" {shlex.quote(vcl)} "
            f"&& {adm} vcl.use \"$name\"")
