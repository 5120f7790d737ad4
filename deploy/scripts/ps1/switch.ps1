<#
.SYNOPSIS
    Point the `current` junction at releases\<id> (or remove it when ReleaseId is empty).
.DESCRIPTION
    The new junction is made under a temp name first, so the only window is two renames (NTFS cannot
    rename a directory over an existing one): current -> current.old-*, temp -> current. If the second
    rename fails the first is undone. Junctions need no symlink privilege. IIS does not see the change
    (change notifications do not cross junctions): recycle the app pool afterwards.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [AllowEmptyString()][string]$ReleaseId = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $current = Join-Path $DeployTo 'current'
    $suffix = [guid]::NewGuid().ToString('N').Substring(0, 8)
    $existing = Get-Item -LiteralPath $current -Force -ErrorAction SilentlyContinue
    $previous = $null
    if ($null -ne $existing) {
        if (-not ($existing.Attributes -band [IO.FileAttributes]::ReparsePoint)) { throw "$current is a real directory, not a junction; move it away first" }
        $previous = Split-Path -Leaf (@($existing.Target)[0])
    }
    $temp = $null
    if ($ReleaseId) {
        if ($ReleaseId -notmatch '^\d{8}-\d{6}-[0-9a-f]{7,40}(-dirty)?$') { throw "not a release id: $ReleaseId" }
        $target = Join-Path (Join-Path $DeployTo 'releases') $ReleaseId
        if (-not (Test-Path -LiteralPath (Join-Path $target 'release.json'))) { throw "no such release: $target" }
        $temp = "$current.tmp-$suffix"
        $null = New-Item -ItemType Junction -Path $temp -Value $target
    }
    $aside = $null
    if ($null -ne $existing) {
        $aside = "$current.old-$suffix"
        [IO.Directory]::Move($current, $aside)
    }
    if ($null -ne $temp) {
        try {
            [IO.Directory]::Move($temp, $current)
        }
        catch {
            if ($null -ne $aside) { [IO.Directory]::Move($aside, $current) }
            [IO.Directory]::Delete($temp)
            throw
        }
    }
    if ($null -ne $aside) { [IO.Directory]::Delete($aside) }
    return [ordered]@{ current = $(if ($ReleaseId) { $ReleaseId } else { $null }); previous = $previous }
}

$answer = [ordered]@{ ok = $false; step = 'switch'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
