<#
.SYNOPSIS
    Retention: delete old release dirs. A release whose files are in use is kept and reported. Each dir is
    renamed into .shipyard\trash first (that rename fails while files are open), so a listed release is
    never half deleted; junctions and links inside are unlinked, never followed; read-only files are
    deleted too. What cannot be deleted from the trash is reported, with its error. A trash (or .shipyard)
    that resolves outside deploy_to is refused before anything is moved or deleted.
    Fails loudly when `current` is not a junction: retention could not tell which release is live.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [string[]]$ReleaseIds = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$currentPath = Join-Path $DeployTo 'current'
$current = $null
if (Test-Entry $currentPath) {
    $target = Get-LinkTarget $currentPath
    if (-not $target) { throw "$currentPath is not a junction: retention cannot tell which release is live, nothing removed" }
    $current = Split-Path -Leaf $target
}
$releases = Join-Path $DeployTo 'releases'
$trash = Join-Path $DeployTo '.shipyard\trash'
Assert-Inside $trash @($DeployTo) 'empty the trash' -Follow  # everything in it is deleted: never through a link out
$null = [IO.Directory]::CreateDirectory($trash)
$removed = @()
$kept = @()
foreach ($id in $ReleaseIds) {
    $dir = Join-Path $releases $id
    if ($id -notmatch '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$') { $kept += [ordered]@{ id = $id; reason = 'not a release id' }; continue }
    if ($id -eq $current) { $kept += [ordered]@{ id = $id; reason = 'is current' }; continue }
    if (-not (Test-Entry $dir)) { $removed += $id; continue }
    if (Get-LinkTarget $dir) { Remove-Link $dir; $removed += $id; continue }
    $doomed = Join-Path $trash "$id-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    try { Move-PathWithRetry $dir $doomed }
    catch { $kept += [ordered]@{ id = $id; reason = "in use: $($_.Exception.Message)" }; continue }
    $removed += $id
}
$leftInTrash = @()
foreach ($leftover in @(Get-ChildItem -LiteralPath $trash -Force)) {
    try { Remove-Tree $leftover.FullName }
    catch { $leftInTrash += [ordered]@{ path = $leftover.FullName; error = $_.Exception.Message } }
}
return [ordered]@{ removed = @($removed); kept = @($kept); left_in_trash = @($leftInTrash) }
