<#
.SYNOPSIS
    Preflight facts only this host can tell: WinRM quotas, the account (local or domain, admin) and
    LocalAccountTokenFilterPolicy, whether a junction can be created under DeployTo, and IIS: which
    management backends exist, whether system.webServer/handlers is locked at site level, the
    registered FastCGI applications, and whether a web.config under SitePath declares handlers.
    The Python side turns them into checks.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [string]$SitePath = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Get-WSManValue([string]$Path) {
    try { return [long](Get-Item -LiteralPath $Path).Value } catch { return $null }
}

function Test-Junction {
    $probe = Join-Path (Get-ExistingAncestor $DeployTo) ".shipyard-doctor-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    try {
        $null = [IO.Directory]::CreateDirectory("$probe.target")
        $null = New-Item -ItemType Junction -Path $probe -Value "$probe.target"
        return ''
    }
    catch { return $_.Exception.Message }
    finally {
        if (Test-Entry $probe) { Remove-Link $probe }
        if (Test-Entry "$probe.target") { Remove-Tree "$probe.target" }
    }
}

function Get-IisFacts {
    $facts = [ordered]@{
        web_administration = [bool](Get-Module -ListAvailable -Name WebAdministration)
        iis_administration = [bool](Get-Module -ListAvailable -Name IISAdministration)
        appcmd = Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\inetsrv\appcmd.exe')
        handlers_override = ''; fastcgi = @(); web_config_handlers = $false
    }
    $config = Join-Path $env:SystemRoot 'System32\inetsrv\config\applicationHost.config'
    if (Test-Path -LiteralPath $config) {
        $xml = [xml][IO.File]::ReadAllText($config)
        $section = $xml.SelectSingleNode("//sectionGroup[@name='system.webServer']/section[@name='handlers']")
        if ($null -ne $section) { $facts.handlers_override = "$($section.GetAttribute('overrideModeDefault'))" }
        $facts.fastcgi = @($xml.SelectNodes('//system.webServer/fastCgi/application') | ForEach-Object { "$($_.GetAttribute('fullPath'))|$($_.GetAttribute('arguments'))" })
    }
    $webConfig = Join-Path $SitePath 'web.config'
    if ($SitePath -and (Test-Path -LiteralPath $webConfig -PathType Leaf)) {
        $facts.web_config_handlers = $null -ne ([xml][IO.File]::ReadAllText($webConfig)).SelectSingleNode('/configuration/system.webServer/handlers')
    }
    return $facts
}

function Get-TokenFilterPolicy {
    $key = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -Name LocalAccountTokenFilterPolicy -ErrorAction SilentlyContinue
    if ($null -eq $key) { return 0 }
    return [int]$key.LocalAccountTokenFilterPolicy
}

$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object Security.Principal.WindowsPrincipal $identity
$domain = $identity.Name.Split('\')[0]
$kind = 'domain'
if ($domain -ieq [Environment]::MachineName) { $kind = 'local' }
return [ordered]@{
    account                 = $identity.Name
    account_kind            = $kind
    is_admin                = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    token_filter_policy     = Get-TokenFilterPolicy
    max_envelope_kb         = Get-WSManValue 'WSMan:\localhost\MaxEnvelopeSizekb'
    max_timeout_ms          = Get-WSManValue 'WSMan:\localhost\MaxTimeoutms'
    max_memory_per_shell_mb = Get-WSManValue 'WSMan:\localhost\Shell\MaxMemoryPerShellMB'
    max_shells_per_user     = Get-WSManValue 'WSMan:\localhost\Shell\MaxShellsPerUser'
    junction_error          = Test-Junction
    iis                     = Get-IisFacts
}
