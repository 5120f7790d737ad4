<#
.SYNOPSIS
    Create or update an IIS site and its app pool pointing at deploy_to\current\app, and register Django
    through IIS's native FastCGI module (wfastcgi): a fastCgi application with WSGI_HANDLER/PYTHONPATH
    and a site-level handler mapping. Idempotent.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$SiteName,
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$AppPool,
    [Parameter(Mandatory = $true)][string]$PhysicalPath,
    [ValidateRange(1, 65535)][int]$Port = 80,
    [string]$HostHeader = '',
    [Parameter(Mandatory = $true)][string]$Python,
    [Parameter(Mandatory = $true)][string]$Wfastcgi,
    [Parameter(Mandatory = $true)][string]$WsgiHandler,
    [string]$PythonPath = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Set-AppPool {
    $path = "IIS:\AppPools\$AppPool"
    $created = -not (Test-Path -LiteralPath $path)
    if ($created) { $null = New-WebAppPool -Name $AppPool }
    Set-ItemProperty -LiteralPath $path -Name managedRuntimeVersion -Value ''
    Set-ItemProperty -LiteralPath $path -Name processModel.loadUserProfile -Value $true
    return $created
}

function Set-Site {
    $path = "IIS:\Sites\$SiteName"
    $created = -not (Test-Path -LiteralPath $path)
    if ($created) {
        $null = New-Website -Name $SiteName -Port $Port -HostHeader $HostHeader -PhysicalPath $PhysicalPath -ApplicationPool $AppPool
    }
    else {
        Set-ItemProperty -LiteralPath $path -Name physicalPath -Value $PhysicalPath
        Set-ItemProperty -LiteralPath $path -Name applicationPool -Value $AppPool
    }
    return $created
}

function Set-FastCgi {
    $filter = "system.webServer/fastCgi/application[@fullPath='$Python' and @arguments='$Wfastcgi']"
    if ($null -eq (Get-WebConfiguration -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter $filter)) {
        Add-WebConfiguration -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.webServer/fastCgi' -Value @{ fullPath = $Python; arguments = $Wfastcgi }
    }
    $variables = @{ WSGI_HANDLER = $WsgiHandler; PYTHONPATH = $(if ($PythonPath) { $PythonPath } else { $PhysicalPath }) }
    foreach ($name in $variables.Keys) {
        $envFilter = "$filter/environmentVariables"
        Remove-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter $envFilter -Name '.' -AtElement @{ name = $name } -ErrorAction SilentlyContinue
        Add-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter $envFilter -Name '.' -Value @{ name = $name; value = $variables[$name] }
    }
    $handler = Get-WebHandler -Name 'Django' -PSPath "IIS:\Sites\$SiteName"
    $processor = "$Python|$Wfastcgi"
    if ($null -eq $handler) {
        $null = New-WebHandler -Name 'Django' -Path '*' -Verb '*' -Modules 'FastCgiModule' -ScriptProcessor $processor -ResourceType Unspecified -PSPath "IIS:\Sites\$SiteName"
    }
    elseif ($handler.scriptProcessor -ne $processor) {
        Set-WebHandler -Name 'Django' -PSPath "IIS:\Sites\$SiteName" -ScriptProcessor $processor
    }
}

function Invoke-Step {
    Import-Module WebAdministration
    $poolCreated = Set-AppPool
    $siteCreated = Set-Site
    Set-FastCgi
    return [ordered]@{ site = $SiteName; app_pool = $AppPool; physical_path = $PhysicalPath; created = [bool]($poolCreated -or $siteCreated) }
}

$answer = [ordered]@{ ok = $false; step = 'iis_site'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
