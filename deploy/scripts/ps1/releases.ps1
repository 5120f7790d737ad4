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
$ProgressPreference = 'SilentlyContinue'

function Get-CurrentId {
    $item = Get-Item -LiteralPath (Join-Path $DeployTo 'current') -Force -ErrorAction SilentlyContinue
    if ($null -eq $item -or -not ($item.Attributes -band [IO.FileAttributes]::ReparsePoint)) { return $null }
    return Split-Path -Leaf (@($item.Target)[0])
}

function Invoke-Step {
    $releases = @()
    $root = Join-Path $DeployTo 'releases'
    if (Test-Path -LiteralPath $root) {
        $dirs = Get-ChildItem -LiteralPath $root -Directory | Where-Object { $_.Name -match '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$' } | Sort-Object Name
        foreach ($dir in $dirs) {
            $record = [ordered]@{ id = $dir.Name; status = 'incomplete' }
            $info = Join-Path $dir.FullName 'release.json'
            if (Test-Path -LiteralPath $info) {
                ([IO.File]::ReadAllText($info) | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
            }
            $releases += $record
        }
    }
    return [ordered]@{ current = (Get-CurrentId); releases = @($releases) }
}

$answer = [ordered]@{ ok = $false; step = 'releases'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
