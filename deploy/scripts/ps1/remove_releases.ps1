<#
.SYNOPSIS
    Retention: delete old release dirs. Never fails the deploy: a release whose files are in use is kept
    and reported. Each dir is renamed into .shipyard\trash first (that rename fails while files are open),
    so a listed release is never half deleted; junctions inside are unlinked, never followed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [string[]]$ReleaseIds = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Remove-Tree([string]$Path) {
    foreach ($entry in [IO.Directory]::EnumerateFileSystemEntries($Path)) {
        $attributes = [IO.File]::GetAttributes($entry)
        if ($attributes -band [IO.FileAttributes]::ReparsePoint) {
            if ($attributes -band [IO.FileAttributes]::Directory) { [IO.Directory]::Delete($entry) } else { [IO.File]::Delete($entry) }
        }
        elseif ($attributes -band [IO.FileAttributes]::Directory) { Remove-Tree $entry }
        else {
            [IO.File]::SetAttributes($entry, [IO.FileAttributes]::Normal)
            [IO.File]::Delete($entry)
        }
    }
    [IO.Directory]::Delete($Path)
}

function Get-CurrentId {
    $item = Get-Item -LiteralPath (Join-Path $DeployTo 'current') -Force -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return Split-Path -Leaf (@($item.Target)[0])
}

function Invoke-Step {
    $trash = Join-Path $DeployTo '.shipyard\trash'
    $null = New-Item -ItemType Directory -Path $trash -Force
    $removed = @()
    $kept = @()
    $current = Get-CurrentId
    foreach ($id in $ReleaseIds) {
        $dir = Join-Path (Join-Path $DeployTo 'releases') $id
        if ($id -notmatch '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$') { $kept += [ordered]@{ id = $id; reason = 'not a release id' }; continue }
        if ($id -eq $current) { $kept += [ordered]@{ id = $id; reason = 'is current' }; continue }
        if (-not (Test-Path -LiteralPath $dir)) { $removed += $id; continue }
        $doomed = Join-Path $trash "$id-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        try { [IO.Directory]::Move($dir, $doomed) }
        catch { $kept += [ordered]@{ id = $id; reason = "in use: $($_.Exception.Message)" }; continue }
        $removed += $id
    }
    foreach ($leftover in @(Get-ChildItem -LiteralPath $trash -Directory)) {
        try { Remove-Tree $leftover.FullName } catch { Write-Verbose "left in trash: $($leftover.FullName)" }
    }
    return [ordered]@{ removed = @($removed); kept = @($kept) }
}

$answer = [ordered]@{ ok = $false; step = 'remove_releases'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
