"""IIS checks of `invoke doctor`: what breaks a Django site under IIS before any request does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploy.preflight import Check
from deploy.release.windows_iis import iis_plan

if TYPE_CHECKING:  # pragma: no cover
    from deploy.config import EnvConfig, HostConfig


def iis_checks(env: "EnvConfig", host: "HostConfig", project: str, iis: Any) -> list[Check]:
    """Only for environments whose site IIS serves."""
    plan = iis_plan(env, host, project or "site")
    if plan is None:
        return []
    locked = iis.handlers_override != "Allow"
    registered = [p for p in iis.fastcgi if p.lower() == plan.processor.lower()]
    elsewhere = [p for p in iis.fastcgi if p.split("|")[0].lower().startswith(env.host_deploy_to(host).lower())
                 and p not in registered]
    return [
        Check("IIS management", iis.web_administration or iis.appcmd,
              ", ".join(n for n, ok in (("WebAdministration", iis.web_administration),
                                         ("IISAdministration", iis.iis_administration), ("appcmd.exe", iis.appcmd)) if ok)
              or "none: IIS is not installed",
              "Install-WindowsFeature Web-Server, Web-CGI, Web-Scripting-Tools"),
        Check("IIS handlers section", not (locked and iis.web_config_handlers),
              ("locked at site level: the live web.config declares <handlers>, IIS answers 500.19 (0x80070021)"
               if locked and iis.web_config_handlers else
               f"{'locked' if locked else 'unlocked'} at site level; Shipyard maps handlers in applicationHost.config"),
              "deploy a release rendered by this Shipyard (no <handlers> in web.config), or "
              "appcmd unlock config -section:system.webServer/handlers"),
        Check("FastCGI application", bool(registered),
              f"{plan.processor} registered" if registered else
              f"{plan.processor} not registered yet (the next deploy registers it)"
              + (f"; others under deploy_to: {', '.join(elsewhere)}" if elsewhere else ""),
              "run a deploy (its `iis` step registers it), or check that wfastcgi is in the app's requirements",
              warning=not registered),
    ]
