<#
.SYNOPSIS
    List releases\<id> (oldest first) with their release.json, and which one the `current` junction targets.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$releases = @()
$root = Join-Path $DeployTo 'releases'
if (Test-Path -LiteralPath $root) {
    $dirs = Get-ChildItem -LiteralPath $root -Directory -Force | Where-Object { $_.Name -match '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$' } | Sort-Object Name
    foreach ($dir in $dirs) {
        $record = [ordered]@{ id = $dir.Name; status = 'incomplete' }
        $info = Join-Path $dir.FullName 'release.json'
        if (Test-Path -LiteralPath $info -PathType Leaf) {
            ([IO.File]::ReadAllText($info) | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
        }
        $releases += $record
    }
}
$target = Get-LinkTarget (Join-Path $DeployTo 'current')
$current = $null
if ($target) { $current = Split-Path -Leaf $target }
return [ordered]@{ current = $current; releases = @($releases) }
