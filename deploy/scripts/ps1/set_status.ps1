<#
.SYNOPSIS
    Rewrite the status (pending, good, failed, rolled_back) and extra keys of a release's release.json,
    atomically. A release.json that is a link is refused.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$InfoPath,
    [Parameter(Mandatory = $true)][ValidateSet('pending', 'good', 'failed', 'rolled_back')][string]$Status,
    [string]$Extra = '{}'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Assert-Inside $InfoPath @(Split-Path -Parent $InfoPath) 'write' -Follow
$record = [ordered]@{}
([IO.File]::ReadAllText($InfoPath) | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
($Extra | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
$record['status'] = $Status
Write-TextAtomic $InfoPath ($record | ConvertTo-Json -Compress -Depth 10)
return [ordered]@{ status = $Status }
