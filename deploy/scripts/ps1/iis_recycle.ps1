<#
.SYNOPSIS
    Recycle an IIS app pool after a switch: IIS change notifications do not cross junctions, so without
    this the old code keeps being served. Starts the pool if it was stopped; verifies it is Started.
    WebAdministration when it loads, else appcmd.exe.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$AppPool
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Get-PoolState {
    if ($backend -eq 'WebAdministration') { return "$((Get-WebAppPoolState -Name $AppPool).Value)" }
    return (Invoke-AppCmd @('list', 'apppool', "/name:$AppPool", '/text:state')).Trim()
}

$backend = Get-IisBackend
$state = Get-PoolState
if (-not $state) { throw "Cannot find app pool '$AppPool'" }
if ($backend -eq 'WebAdministration') {
    if ($state -eq 'Started') { Restart-WebAppPool -Name $AppPool } else { Start-WebAppPool -Name $AppPool }
}
elseif ($state -eq 'Started') { $null = Invoke-AppCmd @('recycle', 'apppool', "/apppool.name:$AppPool") }
else { $null = Invoke-AppCmd @('start', 'apppool', "/apppool.name:$AppPool") }
$until = (Get-Date).AddSeconds(30)
while ((Get-PoolState) -ne 'Started') {
    if ((Get-Date) -gt $until) { throw "app pool $AppPool did not start" }
    Start-Sleep -Milliseconds 250
}
return [ordered]@{ app_pool = $AppPool; state = 'Started'; was = "$state"; backend = $backend }
