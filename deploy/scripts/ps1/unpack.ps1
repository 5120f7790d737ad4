<#
.SYNOPSIS
    Unpack a verified release artifact into releases\<id> and write release.json (status pending).
.DESCRIPTION
    A .tar.gz goes through the tar.exe (bsdtar) of Windows 10 1803+ / Server 2019+; PowerShell 5.1 has no
    tar cmdlet. Where tar.exe is missing the controller sends a .zip instead, read with .NET's
    System.IO.Compression. Entries are checked first: absolute paths, drive letters, '..' segments, links
    and special files are refused, so nothing can land outside the release dir. Extraction goes to a
    temp dir, whose tree is then checked against the artifact's manifest.json (every file's size and
    sha256; a file missing, one it does not name, or a reparse point refused; Omit names the top-level
    folders the controller left out, the wheelhouse of a host that gets a dependency bundle) before
    it is renamed into place.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Archive,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256,
    [Parameter(Mandatory = $true)][string]$ReleaseDir,
    [string]$Info = '{}',
    [ValidateSet('wheelhouse')][string[]]$Omit = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Assert-SafeName([string]$Name) {
    $parts = $Name -split '[\\/]'
    if ($Name -match '^[\\/]' -or $Name -match ':' -or $parts -contains '..' -or $Name -match '[\x00-\x1f]') {
        throw "refusing archive entry that escapes the release dir: $Name"
    }
}

function Expand-Tar([string]$Target) {
    $tar = Join-Path $env:SystemRoot 'System32\tar.exe'
    if (-not (Test-Path -LiteralPath $tar)) { throw "tar.exe not found at $tar (Server 2016 or older): deploy a zip artifact" }
    foreach ($name in ((Invoke-Native $tar @('-tzf', $Archive)) -split "`r?`n" | Where-Object { $_ })) { Assert-SafeName $name }
    foreach ($line in ((Invoke-Native $tar @('-tvzf', $Archive)) -split "`r?`n" | Where-Object { $_ })) {
        if ($line -notmatch '^[-d]' -or $line -match ' (->|link to) ') { throw "refusing link or special entry: $line" }
    }
    $null = Invoke-Native $tar @('-xzf', $Archive, '-C', $Target)
}

function Expand-Zip([string]$Target) {
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $base = [IO.Path]::GetFullPath($Target).TrimEnd('\') + '\'
    $zip = [IO.Compression.ZipFile]::OpenRead($Archive)
    try {
        foreach ($entry in $zip.Entries) {
            Assert-SafeName $entry.FullName
            $path = [IO.Path]::GetFullPath([IO.Path]::Combine($Target, $entry.FullName))
            if (-not $path.StartsWith($base, [StringComparison]::OrdinalIgnoreCase)) { throw "refusing archive entry that escapes the release dir: $($entry.FullName)" }
            if ($entry.FullName.EndsWith('/')) { $null = [IO.Directory]::CreateDirectory($path); continue }
            $null = [IO.Directory]::CreateDirectory((Split-Path -Parent $path))
            [IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $path, $false)
        }
    }
    finally {
        $zip.Dispose()
    }
}

$actual = (Get-FileHash -LiteralPath $Archive -Algorithm SHA256).Hash.ToLowerInvariant()
if ($actual -ne $Sha256) { throw "artifact sha256 mismatch: got $actual, expected $Sha256" }
if (Test-Entry $ReleaseDir) { throw "release dir already exists: $ReleaseDir" }
$temp = "$ReleaseDir.tmp-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
Assert-Inside $temp @(Split-Path -Parent $ReleaseDir) 'unpack into'
$null = [IO.Directory]::CreateDirectory($temp)
try {
    if ($Archive -like '*.zip') { Expand-Zip $temp } else { Expand-Tar $temp }
    foreach ($required in @('app', 'manifest.json')) {
        if (-not (Test-Path -LiteralPath (Join-Path $temp $required))) { throw "artifact has no $required at its root" }
    }
    $manifest = Read-JsonFile (Join-Path $temp 'manifest.json')
    $verified = Assert-TreeMatches $temp (Get-ExpectedFiles $manifest $Omit) @('manifest.json') 'unpack'
    $record = [ordered]@{}
    ($Info | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
    $record['id'] = Split-Path -Leaf $ReleaseDir
    $record['status'] = 'pending'
    if (-not $record.Contains('artifact_sha256')) { $record['artifact_sha256'] = $actual }
    $infoPath = Join-Path $temp 'release.json'
    Assert-Inside $infoPath @($temp) 'write' -Follow
    [IO.File]::WriteAllText($infoPath, ($record | ConvertTo-Json -Compress -Depth 10), (New-Object System.Text.UTF8Encoding $false))
    Move-PathWithRetry $temp $ReleaseDir
}
catch {
    $failure = $_
    if (Test-Entry $temp) {
        try { Remove-Tree $temp }
        catch { throw "$($failure.Exception.Message) (and the partial unpack could not be removed: $($_.Exception.Message))" }
    }
    throw $failure
}
$files = @(Get-ChildItem -LiteralPath $ReleaseDir -Recurse -File -Force).Count
return [ordered]@{ release_dir = $ReleaseDir; files = $files; verified = $verified }
