<#
.SYNOPSIS
    Recycle an IIS app pool after a switch: IIS change notifications do not cross junctions, so without
    this the old code keeps being served. Starts the pool if it was stopped; verifies it is Started.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$AppPool
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    Import-Module WebAdministration
    $state = (Get-WebAppPoolState -Name $AppPool).Value
    if ($state -eq 'Started') { Restart-WebAppPool -Name $AppPool } else { Start-WebAppPool -Name $AppPool }
    $deadline = (Get-Date).AddSeconds(30)
    while ((Get-WebAppPoolState -Name $AppPool).Value -ne 'Started') {
        if ((Get-Date) -gt $deadline) { throw "app pool $AppPool did not start" }
        Start-Sleep -Milliseconds 250
    }
    return [ordered]@{ app_pool = $AppPool; state = 'Started'; was = "$state" }
}

$answer = [ordered]@{ ok = $false; step = 'iis_recycle'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
