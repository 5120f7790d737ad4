<#
.SYNOPSIS
    Register (or update) the FastCGI application that runs Django through wfastcgi, and map a site's
    requests to it, all in applicationHost.config. Idempotent.
.DESCRIPTION
    system.webServer/handlers is locked at site level by default (overrideModeDefault="Deny"), so a
    <handlers> section in the release's web.config fails with 0x80070021 / HTTP 500.19, and a handler
    written into a release's web.config vanishes with the next release. So the handler lives in
    applicationHost.config under <location path="SiteName">, where the lock does not apply, and the
    static files location removes it again so IIS serves those itself. The interpreter is
    deploy_to\current\.deps\Scripts\python.exe: one FastCGI application across releases, and the app
    pool recycle after a switch starts the new release's. DepsDir (the release about to go live) must
    have python.exe and wfastcgi.py, or nothing is registered. Arguments arrive quoted when the path
    has spaces, and scriptProcessor is fullPath|arguments exactly as the FastCGI application names them.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$SiteName,
    [Parameter(Mandatory = $true)][ValidatePattern("^[^'|]+$")][string]$Python,
    [Parameter(Mandatory = $true)][ValidatePattern("^[^'|]+$")][string]$Arguments,
    [Parameter(Mandatory = $true)][string]$DepsDir,
    [Parameter(Mandatory = $true)][ValidatePattern("^[^']+$")][string]$WsgiHandler,
    [Parameter(Mandatory = $true)][ValidatePattern("^[^']+$")][string]$PythonPath,
    [ValidatePattern('^[A-Za-z0-9._~/-]*$')][string]$StaticPath = '',
    [ValidatePattern('^[A-Za-z0-9_.-]+$')][string]$HandlerName = 'Shipyard-Django'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$apphost = 'MACHINE/WEBROOT/APPHOST'
$handlers = 'system.webServer/handlers'
$processor = "$Python|$Arguments"
$appKey = "[fullPath='$Python',arguments='$Arguments']"
$variables = [ordered]@{ WSGI_HANDLER = $WsgiHandler; PYTHONPATH = $PythonPath }
$staticLocation = ''
if ($StaticPath) { $staticLocation = "$SiteName/$($StaticPath.Trim('/'))" }

function Assert-Environment {
    foreach ($relative in @('Scripts\python.exe', 'Lib\site-packages\wfastcgi.py')) {
        if (-not (Test-Path -LiteralPath (Join-Path $DepsDir $relative) -PathType Leaf)) {
            throw "$(Join-Path $DepsDir $relative) is missing: the release's environment needs wfastcgi (add it to the app's requirements)"
        }
    }
}

# The effective section at a location, as appcmd prints it (XML).
function Get-AppCmdSection([string]$Location, [string]$Section) {
    $arguments = @('list', 'config')
    if ($Location) { $arguments += $Location }
    return [xml](Invoke-AppCmd ($arguments + @("-section:$Section")))
}

function Set-WithWebAdministration {
    $added = $false
    $appFilter = "system.webServer/fastCgi/application[@fullPath='$Python' and @arguments='$Arguments']"
    if ($null -eq (Get-WebConfiguration -PSPath $apphost -Filter $appFilter)) {
        Invoke-IisWrite { Add-WebConfiguration -PSPath $apphost -Filter 'system.webServer/fastCgi' -Value @{ fullPath = $Python; arguments = $Arguments } } 'add the FastCGI application'
        $added = $true
    }
    foreach ($name in $variables.Keys) {
        $value = $variables[$name]
        Invoke-IisWrite { Remove-WebConfigurationProperty -PSPath $apphost -Filter "$appFilter/environmentVariables" -Name '.' -AtElement @{ name = $name } -ErrorAction SilentlyContinue } "unset $name"
        Invoke-IisWrite { Add-WebConfigurationProperty -PSPath $apphost -Filter "$appFilter/environmentVariables" -Name '.' -Value @{ name = $name; value = $value } } "set $name"
    }
    $handlerFilter = "$handlers/add[@name='$HandlerName']"
    $handler = Get-WebConfiguration -PSPath $apphost -Location $SiteName -Filter $handlerFilter
    if ($null -eq $handler) {
        $entry = @{ name = $HandlerName; path = '*'; verb = '*'; modules = 'FastCgiModule'; scriptProcessor = $processor; resourceType = 'Unspecified'; requireAccess = 'Script' }
        Invoke-IisWrite { Add-WebConfigurationProperty -PSPath $apphost -Location $SiteName -Filter $handlers -Name '.' -Value $entry } "map $SiteName to FastCGI"
        $added = $true
    }
    elseif ("$($handler.scriptProcessor)" -ne $processor) {
        Invoke-IisWrite { Set-WebConfigurationProperty -PSPath $apphost -Location $SiteName -Filter $handlerFilter -Name scriptProcessor -Value $processor } "remap $SiteName"
    }
    if ($staticLocation -and $null -ne (Get-WebConfiguration -PSPath $apphost -Location $staticLocation -Filter $handlerFilter)) {
        Invoke-IisWrite { Remove-WebConfigurationProperty -PSPath $apphost -Location $staticLocation -Filter $handlers -Name '.' -AtElement @{ name = $HandlerName } } "serve $staticLocation as static files"
    }
    return $added
}

function Set-WithAppCmd {
    $added = $false
    $fastCgi = Get-AppCmdSection '' 'system.webServer/fastCgi'
    $registered = @($fastCgi.SelectNodes('//application') | Where-Object { $_.GetAttribute('fullPath') -eq $Python -and $_.GetAttribute('arguments') -eq $Arguments })
    if (-not $registered.Count) {
        $null = Invoke-AppCmd @('set', 'config', '-section:system.webServer/fastCgi', "/+$appKey", '/commit:apphost')
        $added = $true
    }
    foreach ($name in $variables.Keys) {
        $null = Invoke-AppCmd @('set', 'config', '-section:system.webServer/fastCgi', "/-$appKey.environmentVariables.[name='$name']", '/commit:apphost') -AllowFailure
        $null = Invoke-AppCmd @('set', 'config', '-section:system.webServer/fastCgi', "/+$appKey.environmentVariables.[name='$name',value='$($variables[$name])']", '/commit:apphost')
    }
    $handler = @((Get-AppCmdSection $SiteName $handlers).SelectNodes("//add[@name='$HandlerName']"))
    if (-not $handler.Count) {
        $entry = "[name='$HandlerName',path='*',verb='*',modules='FastCgiModule',scriptProcessor='$processor',resourceType='Unspecified',requireAccess='Script']"
        $null = Invoke-AppCmd @('set', 'config', $SiteName, "-section:$handlers", "/+$entry", '/commit:apphost')
        $added = $true
    }
    elseif ($handler[0].GetAttribute('scriptProcessor') -ne $processor) {
        $null = Invoke-AppCmd @('set', 'config', $SiteName, "-section:$handlers", "/[name='$HandlerName'].scriptProcessor:$processor", '/commit:apphost')
    }
    if ($staticLocation -and @((Get-AppCmdSection $staticLocation $handlers).SelectNodes("//add[@name='$HandlerName']")).Count) {
        $null = Invoke-AppCmd @('set', 'config', $staticLocation, "-section:$handlers", "/-[name='$HandlerName']", '/commit:apphost')
    }
    return $added
}

Assert-Environment
$backend = Get-IisBackend
if ($backend -eq 'WebAdministration') { $added = Set-WithWebAdministration } else { $added = Set-WithAppCmd }
return [ordered]@{
    fastcgi = $processor; handler = $HandlerName; site = $SiteName; static_location = $staticLocation
    created = [bool]$added; backend = $backend
}
