<#
.SYNOPSIS
    Preflight facts only this host can tell: WinRM quotas, the account (local or domain, admin),
    and whether a junction can be created under DeployTo. The Python side turns them into checks.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Get-WSManValue([string]$Path) {
    try { return [long](Get-Item -LiteralPath $Path).Value } catch { return $null }
}

function Test-Junction {
    $probe = Join-Path $DeployTo ".shipyard-doctor-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    try {
        $null = New-Item -ItemType Directory -Path "$probe.target" -Force
        $null = New-Item -ItemType Junction -Path $probe -Value "$probe.target"
        return ''
    }
    catch {
        return $_.Exception.Message
    }
    finally {
        if (Test-Path -LiteralPath $probe) { [IO.Directory]::Delete($probe) }
        if (Test-Path -LiteralPath "$probe.target") { [IO.Directory]::Delete("$probe.target") }
    }
}

function Invoke-Step {
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object Security.Principal.WindowsPrincipal $identity
    $domain = $identity.Name.Split('\')[0]
    return [ordered]@{
        account               = $identity.Name
        account_kind          = $(if ($domain -ieq [Environment]::MachineName) { 'local' } else { 'domain' })
        is_admin              = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
        max_envelope_kb       = Get-WSManValue 'WSMan:\localhost\MaxEnvelopeSizekb'
        max_memory_per_shell_mb = Get-WSManValue 'WSMan:\localhost\Shell\MaxMemoryPerShellMB'
        junction_error        = Test-Junction
    }
}

$answer = [ordered]@{ ok = $false; step = 'doctor'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
