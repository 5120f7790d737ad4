"""IIS web.config checked without IIS: well-formed XML whose elements and attributes
are the ones Microsoft documents for the sections Shipyard emits (the IIS
configuration reference: appSettings, system.webServer/handlers, staticContent,
security/requestFiltering). Anything else IIS would reject with a 500.19 — and so would a
section that IIS locks at site level by default (handlers, modules, authentication...)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

ANY = None  # attribute with free text
# element path -> {attribute: allowed values or ANY}
SCHEMA: dict[str, dict[str, frozenset[str] | None]] = {
    "configuration": {},
    "configuration/appSettings": {"file": ANY},
    "configuration/appSettings/add": {"key": ANY, "value": ANY},
    "configuration/appSettings/remove": {"key": ANY},
    "configuration/appSettings/clear": {},
    "configuration/system.webServer": {},
    "configuration/system.webServer/handlers": {"accessPolicy": ANY},
    "configuration/system.webServer/handlers/clear": {},
    "configuration/system.webServer/handlers/remove": {"name": ANY},
    "configuration/system.webServer/handlers/add": {
        "name": ANY, "path": ANY, "verb": ANY, "type": ANY, "modules": ANY, "scriptProcessor": ANY,
        "preCondition": ANY, "responseBufferLimit": ANY, "allowPathInfo": frozenset({"true", "false"}),
        "resourceType": frozenset({"File", "Directory", "Either", "Unspecified"}),
        "requireAccess": frozenset({"None", "Read", "Write", "Script", "Execute"}),
    },
    "configuration/system.webServer/staticContent": {"enableDocFooter": ANY, "defaultDocFooter": ANY},
    "configuration/system.webServer/staticContent/clientCache": {
        "cacheControlMode": frozenset({"NoControl", "DisableCache", "UseMaxAge", "UseExpires"}),
        "cacheControlMaxAge": ANY, "httpExpires": ANY, "cacheControlCustom": ANY, "setEtag": frozenset({"true", "false"}),
    },
    "configuration/system.webServer/staticContent/mimeMap": {"fileExtension": ANY, "mimeType": ANY},
    "configuration/system.webServer/staticContent/remove": {"fileExtension": ANY},
    "configuration/system.webServer/security": {},
    "configuration/system.webServer/security/requestFiltering": {
        "allowDoubleEscaping": frozenset({"true", "false"}), "allowHighBitCharacters": frozenset({"true", "false"}),
        "removeServerHeader": frozenset({"true", "false"}),
    },
    "configuration/system.webServer/security/requestFiltering/requestLimits": {
        "maxAllowedContentLength": ANY, "maxUrl": ANY, "maxQueryString": ANY,
    },
}
REQUIRED = {"configuration/appSettings/add": ("key", "value"), "configuration/system.webServer/handlers/add": ("name", "path", "verb")}
NUMERIC = {"maxAllowedContentLength", "maxUrl", "maxQueryString"}
# overrideModeDefault="Deny" in a default applicationHost.config: a web.config that sets them gets
# HTTP 500.19 (0x80070021) unless an administrator unlocked the section.
LOCKED = {"configuration/system.webServer/handlers", "configuration/system.webServer/modules",
          "configuration/system.webServer/isapiFilters", "configuration/system.webServer/serverRuntime",
          "configuration/system.webServer/security/access", "configuration/system.webServer/security/ipSecurity",
          "configuration/system.webServer/security/authentication"}


def check_web_config(text: str) -> list[str]:
    """Problems in one web.config; empty when IIS would accept its shape."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as e:
        return [f"not well-formed XML: {e}"]
    problems: list[str] = []
    _walk(root, root.tag, problems)
    return problems


def _walk(element: ET.Element, path: str, problems: list[str]) -> None:
    if path in LOCKED:
        problems.append(f"{path}: locked at site level by default (overrideModeDefault=\"Deny\"), IIS answers 500.19 "
                        "(0x80070021); register it in applicationHost.config instead")
    allowed = SCHEMA.get(path)
    if allowed is None:
        problems.append(f"<{element.tag}> at {path} is not an element IIS documents here")
        return
    for name, value in element.attrib.items():
        if name not in allowed:
            problems.append(f"{path}: unknown attribute {name}={value!r}")
        elif allowed[name] is not ANY and value not in allowed[name]:
            problems.append(f"{path}: {name}={value!r} is not one of {', '.join(sorted(allowed[name]))}")
        elif name in NUMERIC and not value.isdigit():
            problems.append(f"{path}: {name}={value!r} is not a whole number")
    for name in REQUIRED.get(path, ()):
        if name not in element.attrib:
            problems.append(f"{path}: required attribute {name} is missing")
    for child in element:
        _walk(child, f"{path}/{child.tag}", problems)
