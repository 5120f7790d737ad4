<#
.SYNOPSIS
    Retention: delete old release dirs. A release whose files are in use is kept and reported. Each dir is
    renamed into .shipyard\trash first (that rename fails while files are open), so a listed release is
    never half deleted; junctions and links inside are unlinked, never followed; read-only files are
    deleted too. What cannot be deleted from the trash is reported, with its error. A trash (or .shipyard)
    that resolves outside deploy_to is refused before anything is moved or deleted.
    Fails loudly when `current` is not a junction: retention could not tell which release is live.
    With PruneArtifacts, every upload in .shipyard\artifacts that no remaining release came from goes too:
    the artifact or payload it was unpacked from (release.json's unpacked_from; a release unpacked before
    that was recorded keeps every upload named by its artifact_sha256) and the dependency bundle its env
    (its .deps junction, by name under shared\envs) was made from (the env's .shipyard-bundle). Uploads
    are deleted without following links; an artifacts folder that resolves outside deploy_to is refused,
    and a release that cannot tell what it came from keeps every upload (reported in not_pruned).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [string[]]$ReleaseIds = @(),
    [bool]$PruneArtifacts = $false
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# The uploads remaining releases use, by file name (and, for releases that predate unpacked_from, by the
# artifact sha256 that starts the name). Throws when a release cannot tell.
function Get-UploadsInUse([string]$Releases, [string]$Envs) {
    $inUse = @{}
    if (-not (Test-Path -LiteralPath $Releases -PathType Container)) { return $inUse }
    $dirs = @(Get-ChildItem -LiteralPath $Releases -Force | Where-Object { $_.Name -match '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$' })
    foreach ($dir in $dirs) {
        $infoPath = Join-Path $dir.FullName 'release.json'
        if (-not (Test-Path -LiteralPath $infoPath -PathType Leaf)) { throw "$($dir.FullName) has no release.json: cannot tell which uploads it came from" }
        try { $info = Read-JsonFile $infoPath }
        catch { throw "$infoPath is not JSON ($($_.Exception.Message)): cannot tell which uploads it came from" }
        if ($info -isnot [Collections.IDictionary]) { throw "$infoPath is not a JSON object: cannot tell which uploads it came from" }
        if ($info.ContainsKey('unpacked_from') -and $info['unpacked_from']) { $inUse["$($info['unpacked_from'])"] = $true }
        elseif ($info.ContainsKey('artifact_sha256') -and "$($info['artifact_sha256'])" -match '^[0-9a-f]{64}$') { $inUse["$($info['artifact_sha256'])"] = $true }
        else { throw "$infoPath names neither unpacked_from nor artifact_sha256: cannot tell which uploads it came from" }
        $envLink = Get-LinkTarget (Join-Path $dir.FullName '.deps')
        if (-not $envLink) { continue }
        $bundleNote = Join-Path (Join-Path $Envs (Split-Path -Leaf $envLink)) '.shipyard-bundle'
        if (Test-Path -LiteralPath $bundleNote -PathType Leaf) { $inUse[[IO.File]::ReadAllText($bundleNote).Trim()] = $true }
    }
    return $inUse
}

$artifacts = Join-Path $DeployTo '.shipyard\artifacts'
if ($PruneArtifacts -and (Test-Entry $artifacts)) {
    Assert-Inside $artifacts @($DeployTo) 'prune the uploads in' -Follow  # every file in it may go: never through a link out
}

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
$pruned = @()
$notPruned = @()
if ($PruneArtifacts -and (Test-Entry $artifacts)) {
    $inUse = $null
    try { $inUse = Get-UploadsInUse $releases (Join-Path $DeployTo 'shared\envs') }
    catch { $notPruned += [ordered]@{ path = $artifacts; error = "nothing pruned: $($_.Exception.Message)" } }
    if ($null -ne $inUse) {
        foreach ($upload in @(Get-ChildItem -LiteralPath $artifacts -Force)) {
            if ($inUse.ContainsKey($upload.Name) -or $inUse.ContainsKey($upload.Name.Split('.')[0])) { continue }
            try { Remove-Tree $upload.FullName; $pruned += $upload.Name }
            catch { $notPruned += [ordered]@{ path = $upload.FullName; error = $_.Exception.Message } }
        }
    }
}
return [ordered]@{ removed = @($removed); kept = @($kept); left_in_trash = @($leftInTrash); pruned = @($pruned); not_pruned = @($notPruned) }
