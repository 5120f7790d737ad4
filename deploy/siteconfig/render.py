"""Render every server config one host needs from the site model.

Templates live in deploy/templates/ and render with StrictUndefined: a name the
model does not provide is an error, never an empty string in a live config."""

from __future__ import annotations

import functools
import json
import re
import shlex
from pathlib import PurePosixPath
from typing import Any, Callable

import jinja2

from deploy.config import EnvConfig, HostConfig
from deploy.errors import ConfigError
from deploy.siteconfig import context as cx
from deploy.siteconfig.model import SiteConfig
from deploy.siteconfig.reload import windows_service

MANIFEST = "etc/site.json"
ETC_KINDS = ("apache", "nginx", "haproxy", "supervisor", "systemd", "varnish")  # etc/<kind>/...
APACHE_BALANCER_MODULES = ("authz_core", "authz_host", "mime", "alias", "headers", "log_config", "remoteip",
                           "proxy", "proxy_http", "proxy_balancer", "lbmethod_byrequests", "slotmem_shm")
APACHE_WORKER_MODULES = ("authz_core", "mime", "log_config", "remoteip")
DEBIAN_BUILTIN_MODULES = ("log_config",)  # compiled into Debian's apache2, a module on Windows


@functools.cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("deploy", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith("config.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["regex"] = re.escape
    env.globals["debian_builtin"] = DEBIAN_BUILTIN_MODULES
    return env


def render(template: str, **values: Any) -> str:
    try:
        return templates().get_template(template).render(**values)
    except jinja2.UndefinedError as e:
        raise ConfigError(template, [f"template needs a value the site model does not give: {e.message}"]) from None


def kind_of(path: str) -> str | None:
    """Which server reads a rendered file, from where it sits in the release."""
    p = PurePosixPath(path)
    if p.name == "web.config":
        return "iis"
    if len(p.parts) > 2 and p.parts[0] == "etc" and p.parts[1] in ETC_KINDS:
        return "wsgi" if p.suffix == ".wsgi" else p.parts[1]
    return None


def render_kinds(context: dict[str, Any], kinds: list[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for kind in kinds:
        files.update(RENDERERS[kind](context))
    return files


def host_context(project: str, env_name: str, env: EnvConfig, host: HostConfig, release_id: str) -> dict[str, Any]:
    site = cx.site_of(env_name, env)
    paths = cx.HostPaths(env.host_deploy_to(host), host.is_windows, site)
    kinds = cx.kinds_for(env, site, host)
    socket = f"unix:{paths.get(site.run_dir)}/gunicorn.sock"
    return {
        "project": project, "ident": cx.slug(project), "env_name": env_name, "host": host, "site": site,
        "paths": paths, "windows": host.is_windows, "kinds": kinds, "app_port": env.host_app_port(host),
        "upstreams": cx.upstreams(env), "proxies": cx.trusted_proxies(env, site),
        "gunicorn_bind": socket if "nginx" in kinds else f"{cx.bind_address(env)}:{env.host_app_port(host)}",
        "tls_here": site.tls is not None and "haproxy" not in site.servers,
        "header": f"Rendered by Shipyard for {project}, env {env_name}, host {host.name}, release {release_id}. "
                  "Change shipyard.toml, not this file.",
        "release_id": release_id,
    }


def manifest(ctx: dict[str, Any], files: dict[str, str]) -> str:
    """What the validator needs to check these files away from the host."""
    site: SiteConfig = ctx["site"]
    certs = {}
    if site.tls:
        certs = {site.tls.cert: "cert", site.tls.key: "key", **({site.tls.pem: "pem"} if site.tls.pem else {})}
    return json.dumps({
        "env": ctx["env_name"], "host": ctx["host"].name, "release": ctx["release_id"],
        "platform": "windows" if ctx["windows"] else "linux",
        "current": ctx["paths"].current, "roots": ctx["paths"].host_roots(),
        "programs": ctx["paths"].host_programs(), "certs": certs,
        "files": {path: kind_of(path) for path in sorted(files)},
    }, indent=2) + "\n"


def _gunicorn_command(ctx: dict[str, Any]) -> str:
    site, paths = ctx["site"], ctx["paths"]
    extra = "".join(f" {shlex.quote(arg)}" for arg in site.gunicorn_args)
    return (f"{shlex.quote(paths.venv_bin('gunicorn'))} --bind {ctx['gunicorn_bind']} --workers {site.workers} "
            f"--forwarded-allow-ips {','.join(ctx['proxies'])} --access-logfile -{extra} "
            f"{site.wsgi_module}:{site.wsgi_callable}")


def _celery_command(ctx: dict[str, Any]) -> str:
    return f"{shlex.quote(ctx['paths'].venv_bin('celery'))} -A {ctx['site'].celery_app} worker --loglevel INFO"


def _apache(ctx: dict[str, Any]) -> dict[str, str]:
    site: SiteConfig = ctx["site"]
    if ctx["windows"]:
        for key in ("windows_python_dll", "windows_mod_wsgi"):
            if getattr(site, key) is None:
                raise ConfigError("shipyard.toml", [f"env.{ctx['env_name']}.site.{key}: required to render "
                                                    f"apache for Windows host {ctx['host'].name}"])
    ports = [site.base_port + i for i in range(site.workers)]
    farm = f"{ctx['ident']}_farm"
    files = {"etc/apache/balancer.conf": render("apache/balancer.conf.j2", **ctx, **_instance(ctx, "balancer", "balancer.conf"),
                                                 modules=APACHE_BALANCER_MODULES, worker_ports=ports, farm=farm)}
    for index, port in enumerate(ports, start=1):
        conf = f"worker-{index}.conf"
        files[f"etc/apache/{conf}"] = render("apache/worker.conf.j2", **ctx, **_instance(ctx, f"www{index}", conf),
                                             modules=APACHE_WORKER_MODULES, index=index, port=port)
    files["etc/apache/site.wsgi"] = render("apache/site.wsgi.j2", **ctx)
    return files


def _instance(ctx: dict[str, Any], name: str, conf: str) -> dict[str, str]:
    return {"instance": name, "conf_path": f"{ctx['paths'].etc}/apache/{conf}",
            "service_name": windows_service(ctx["project"], name)}


def _iis(ctx: dict[str, Any]) -> dict[str, str]:
    site = ctx["site"]
    size = int(site.max_body.rstrip("km")) * {"k": 1024, "m": 1024**2}.get(site.max_body[-1], 1)
    static_dir = site.static_root.removeprefix("current/").rstrip("/")
    return {
        "web.config": render("iis/web.config.j2", **ctx, max_body_bytes=size),
        f"{static_dir}/web.config": render("iis/static.web.config.j2", **ctx),
    }


def _nginx(ctx: dict[str, Any]) -> dict[str, str]:
    return {"etc/nginx/site.conf": render("nginx/site.conf.j2", **ctx)}


def _need_upstreams(ctx: dict[str, Any], kind: str) -> None:
    if not ctx["upstreams"]:
        raise ConfigError("shipyard.toml", [f"env.{ctx['env_name']}.hosts: {kind} needs at least one host "
                                            "with the web role to send traffic to"])


def _haproxy(ctx: dict[str, Any]) -> dict[str, str]:
    _need_upstreams(ctx, "haproxy")
    return {"etc/haproxy/haproxy.cfg": render("haproxy/haproxy.cfg.j2", **ctx)}


def _programs(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, command) a process manager runs: gunicorn unless the Apache farm serves
    the app through mod_wsgi, and celery when the site has a celery app."""
    programs = [] if "apache" in ctx["kinds"] else [("web", _gunicorn_command(ctx))]
    if ctx["site"].celery_app:
        programs.append(("celery", _celery_command(ctx)))
    return programs


def _supervisor(ctx: dict[str, Any]) -> dict[str, str]:
    return {"etc/supervisor/site.conf": render("supervisor/site.conf.j2", **ctx, programs=_programs(ctx))}


def _systemd(ctx: dict[str, Any]) -> dict[str, str]:
    kinds = {"web": ("notify", 30), "celery": ("simple", 600)}
    units = [(role, *kinds[role], command) for role, command in _programs(ctx)]
    files = {}
    for role, service_type, stop_timeout, command in units:
        name = f"{ctx['project']}-{role}.service"
        files[f"etc/systemd/{name}"] = render("systemd/unit.service.j2", **ctx, unit_name=name, role=role,
                                              service_type=service_type, command=command, stop_timeout=stop_timeout)
    return files


def _varnish(ctx: dict[str, Any]) -> dict[str, str]:
    _need_upstreams(ctx, "varnish")
    return {"etc/varnish/default.vcl": render("varnish/default.vcl.j2", **ctx)}


RENDERERS: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "apache": _apache, "iis": _iis, "nginx": _nginx, "haproxy": _haproxy,
    "supervisor": _supervisor, "systemd": _systemd, "varnish": _varnish,
}
