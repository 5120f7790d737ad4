<#
.SYNOPSIS
    Unpack a verified release artifact (.tar.gz) into releases\<id> and write release.json (status pending).
.DESCRIPTION
    Uses the tar.exe (bsdtar) that ships with Windows 10 1803+ and Server 2019+; PowerShell 5.1 has no
    tar cmdlet. Entries are listed first: absolute paths, drive letters, '..' segments and links are refused,
    so nothing can land outside the release dir. Extraction goes to a temp dir renamed into place.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Archive,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256,
    [Parameter(Mandatory = $true)][string]$ReleaseDir,
    [string]$Info = '{}'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Native([string]$Exe, [string[]]$Arguments) {
    $ErrorActionPreference = 'Continue'
    $lines = @(& $Exe @Arguments 2>&1 | ForEach-Object { "$_" })
    if ($LASTEXITCODE -ne 0) { throw "$Exe exited $LASTEXITCODE`: $($lines -join ' | ')" }
    return , $lines
}

function Assert-SafeEntries([string]$Tar) {
    foreach ($name in (Invoke-Native $Tar @('-tzf', $Archive))) {
        $parts = $name -split '[\\/]'
        if ($name -match '^[\\/]' -or $name -match ':' -or $parts -contains '..') {
            throw "refusing archive entry that escapes the release dir: $name"
        }
    }
    foreach ($line in (Invoke-Native $Tar @('-tvzf', $Archive))) {
        if ($line -notmatch '^[-d]' -or $line -match ' (->|link to) ') {
            throw "refusing link or special entry: $line"
        }
    }
}

function Invoke-Step {
    $actual = (Get-FileHash -LiteralPath $Archive -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($actual -ne $Sha256) { throw "artifact sha256 mismatch: got $actual, expected $Sha256" }
    if (Test-Path -LiteralPath $ReleaseDir) { throw "release dir already exists: $ReleaseDir" }
    $tar = Join-Path $env:SystemRoot 'System32\tar.exe'
    if (-not (Test-Path -LiteralPath $tar)) { throw "tar.exe not found at $tar (needs Windows 10 1803+ / Server 2019+)" }
    Assert-SafeEntries $tar
    $temp = "$ReleaseDir.tmp-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory -Path $temp -Force
    try {
        $null = Invoke-Native $tar @('-xzf', $Archive, '-C', $temp)
        foreach ($required in @('app', 'manifest.json')) {
            if (-not (Test-Path -LiteralPath (Join-Path $temp $required))) { throw "artifact has no $required at its root" }
        }
        $record = [ordered]@{}
        ($Info | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
        $record['id'] = Split-Path -Leaf $ReleaseDir
        $record['status'] = 'pending'
        $record['artifact_sha256'] = $actual
        $json = $record | ConvertTo-Json -Compress -Depth 10
        [IO.File]::WriteAllText((Join-Path $temp 'release.json'), $json, (New-Object System.Text.UTF8Encoding $false))
        [IO.Directory]::Move($temp, $ReleaseDir)
    }
    catch {
        if (Test-Path -LiteralPath $temp) { [IO.Directory]::Delete($temp, $true) }
        throw
    }
    $files = @(Get-ChildItem -LiteralPath $ReleaseDir -Recurse -File).Count
    return [ordered]@{ release_dir = $ReleaseDir; files = $files }
}

$answer = [ordered]@{ ok = $false; step = 'unpack'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
