"""How a Windows host serves the app under IIS, worked out from the site model.

The site's physical path is `deploy_to\\current` (the release: its rendered web.config, and
static\\ which IIS serves itself); every other request goes to Django, with PYTHONPATH at
current\\app.

One story for the interpreter: the release's environment is `releases\\<id>\\.deps`
(a junction to `shared\\envs\\<key>`, built there by install.ps1), so the FastCGI
application IIS runs is `deploy_to\\current\\.deps\\Scripts\\python.exe` with wfastcgi from
the same environment. It is registered once and stays valid across releases and
rollbacks: the app pool recycle after each switch starts the interpreter `current` now
names. The handler lives in applicationHost.config (the section is locked for
web.config), never in the release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import TYPE_CHECKING, Any

from deploy.release.layout import Layout

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig

HANDLER = "Shipyard-Django"


def fastcgi_arguments(path: str) -> str:
    """FastCGI `arguments` are a command line: a path with spaces must be quoted there (and the
    handler's scriptProcessor names the application by exactly this text)."""
    return f'"{path}"' if any(c.isspace() for c in path) else path


@dataclass(frozen=True)
class IisPlan:
    site: dict[str, Any]  # iis_site.ps1's parameters
    fastcgi: dict[str, Any]  # iis_fastcgi.ps1's parameters, DepsDir added per release

    @property
    def processor(self) -> str:
        return f"{self.fastcgi['Python']}|{self.fastcgi['Arguments']}"


def iis_plan(env: "EnvConfig", host: "HostConfig", project: str) -> IisPlan | None:
    """None unless the environment's site is served by IIS."""
    site = env.site
    if site is None or "iis" not in site.servers:
        return None
    layout = Layout(env.host_deploy_to(host), windows=True)
    deps = PureWindowsPath(layout.current, ".deps")
    name = site.iis.site or project
    plan_site = {"SiteName": name, "AppPool": site.iis.app_pool or name,
                 "PhysicalPath": layout.current, "SiteId": site.iis.site_id or 0,
                 "Bindings": _bindings(site)}
    fastcgi = {"SiteName": name, "Python": str(deps / "Scripts" / "python.exe"),
               "Arguments": fastcgi_arguments(str(deps / "Lib" / "site-packages" / "wfastcgi.py")),
               "WsgiHandler": f"{site.wsgi_module}.{site.wsgi_callable}",
               "PythonPath": str(PureWindowsPath(layout.deploy_to, *site.app_dir.split("/"))),
               "StaticPath": site.static_url.strip("/"), "HandlerName": HANDLER}
    return IisPlan(plan_site, fastcgi)


def _bindings(site: Any) -> str:
    """One http binding per host name (none named: every name), https too with a certificate."""
    names = [n for n in site.server_names if n != "localhost"] or [""]
    bindings = [{"protocol": "http", "ip": "*", "port": site.http_port, "host": n, "thumbprint": "",
                 "store": site.iis.certificate_store, "sni": False} for n in names]
    if site.iis.certificate_thumbprint:
        bindings += [{"protocol": "https", "ip": "*", "port": site.https_port, "host": n,
                      "thumbprint": site.iis.certificate_thumbprint.upper(), "store": site.iis.certificate_store,
                      "sni": bool(n)} for n in names]
    return json.dumps(bindings)
