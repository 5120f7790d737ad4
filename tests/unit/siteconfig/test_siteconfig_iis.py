"""web.config checked against the elements and attributes IIS documents."""

from deploy.siteconfig.iis import check_web_config
from deploy.siteconfig import release_files


def test_rendered_web_configs_pass(sites):
    files = release_files(sites, "iis", "win2", "r1")
    assert check_web_config(files["web.config"]) == []
    assert check_web_config(files["static/web.config"]) == []


def test_broken_xml_is_reported():
    assert check_web_config("<configuration><appSettings></configuration>")[0].startswith("not well-formed XML")


def test_unknown_elements_attributes_and_values_are_reported():
    text = """<configuration>
      <system.webServer>
        <handlers><add name="x" path="*" verb="*" resourceType="Anything" colour="red" /></handlers>
        <fastCgi />
        <security><requestFiltering><requestLimits maxAllowedContentLength="20m" /></requestFiltering></security>
      </system.webServer>
      <appSettings><add key="A" /></appSettings>
    </configuration>"""
    assert check_web_config(text) == [
        'configuration/system.webServer/handlers: locked at site level by default (overrideModeDefault="Deny"), '
        "IIS answers 500.19 (0x80070021); register it in applicationHost.config instead",
        "configuration/system.webServer/handlers/add: resourceType='Anything' is not one of Directory, Either, File, Unspecified",
        "configuration/system.webServer/handlers/add: unknown attribute colour='red'",
        "<fastCgi> at configuration/system.webServer/fastCgi is not an element IIS documents here",
        "configuration/system.webServer/security/requestFiltering/requestLimits: maxAllowedContentLength='20m' is not a whole number",
        "configuration/appSettings/add: required attribute value is missing",
    ]
