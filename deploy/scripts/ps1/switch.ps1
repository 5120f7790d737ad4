<#
.SYNOPSIS
    Point the `current` junction at releases\<id> (or remove it when ReleaseId is empty).
.DESCRIPTION
    The new junction is made under a temp name first, so the only window is two renames (NTFS cannot
    rename a directory over an existing one): current -> current.old-*, temp -> current, each retried
    while antivirus holds the entry. If the second rename fails the first is undone; if that fails too,
    `current` is made afresh at the old target, and the error names every failure. Junctions need no
    symlink privilege. IIS does not see the change (change notifications do not cross junctions):
    recycle the app pool afterwards.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [AllowEmptyString()][string]$ReleaseId = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# Undo a failed second rename; never leave the site without `current` while there is a way back.
function Restore-Current([string]$Aside, [string]$OldTarget, [string]$Problem) {
    try { Move-PathWithRetry $Aside $current; return "the old current is back in place" }
    catch { $undo = $_.Exception.Message }
    try {
        $null = New-Item -ItemType Junction -Path $current -Value $OldTarget
        return "putting the old current back failed ($undo); current was made again at $OldTarget"
    }
    catch { throw "$Problem; putting the old current back failed: $undo; and so did making it again: $($_.Exception.Message); the old link is at $Aside" }
}

$current = Join-Path $DeployTo 'current'
$releases = Join-Path $DeployTo 'releases'
$suffix = [guid]::NewGuid().ToString('N').Substring(0, 8)
$previous = $null
$oldTarget = ''
if (Test-Entry $current) {
    $oldTarget = Get-LinkTarget $current
    if (-not $oldTarget) { throw "$current is a real directory, not a junction; move it away first" }
    $previous = Split-Path -Leaf $oldTarget
}
$temp = $null
if ($ReleaseId) {
    if ($ReleaseId -notmatch '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$') { throw "not a release id: $ReleaseId" }
    $target = Join-Path $releases $ReleaseId
    if (-not (Test-Path -LiteralPath (Join-Path $target 'release.json'))) { throw "no such release: $target" }
    Assert-Inside $target @($releases) 'switch to' -Follow
    $temp = "$current.tmp-$suffix"
    $null = New-Item -ItemType Junction -Path $temp -Value $target
}
$aside = $null
if ($previous) {
    $aside = "$current.old-$suffix"
    try { Move-PathWithRetry $current $aside }
    catch { if ($temp) { Remove-Link $temp }; throw }
}
if ($temp) {
    try { Move-PathWithRetry $temp $current }
    catch {
        $problem = "switching to $ReleaseId failed: $($_.Exception.Message)"
        $outcome = 'there was no current before'
        if ($aside) { $outcome = Restore-Current $aside $oldTarget $problem }
        try { Remove-Link $temp } catch { $outcome += "; the temp link $temp is left: $($_.Exception.Message)" }
        throw "$problem ($outcome)"
    }
}
if ($aside) { Remove-Link $aside }
$now = $null
if ($ReleaseId) { $now = $ReleaseId }
return [ordered]@{ current = $now; previous = $previous }
