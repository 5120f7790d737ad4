<#
.SYNOPSIS
    Unpack a verified release artifact into releases\<id> and write release.json (status pending), naming
    the upload it came from (unpacked_from).
.DESCRIPTION
    A .tar.gz goes through the tar.exe (bsdtar) of Windows 10 1803+ / Server 2019+; PowerShell 5.1 has no
    tar cmdlet. Where tar.exe is missing the controller sends a .zip instead, read with .NET's
    System.IO.Compression. Entries are checked first: absolute paths, drive letters, '..' segments, links
    and special files are refused, so nothing can land outside the release dir. Extraction goes to a
    temp dir, whose tree is then checked against the artifact's manifest.json (every file's size and
    sha256; a file missing, one it does not name, or a reparse point refused; Omit names the top-level
    folders the controller left out, the wheelhouse of a host that gets a dependency bundle, and
    ManifestSha256 binds such a payload to the manifest of the artifact the controller verified)
    before it is renamed into place.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Archive,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256,
    [Parameter(Mandatory = $true)][string]$ReleaseDir,
    [string]$Info = '{}',
    [ValidateSet('wheelhouse')][string[]]$Omit = @(),
    [ValidatePattern('^([0-9a-f]{64})?$')][string]$ManifestSha256 = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$actual = (Get-FileHash -LiteralPath $Archive -Algorithm SHA256).Hash.ToLowerInvariant()
if ($actual -ne $Sha256) { throw "artifact sha256 mismatch: got $actual, expected $Sha256" }
if (Test-Entry $ReleaseDir) { throw "release dir already exists: $ReleaseDir" }
$temp = "$ReleaseDir.tmp-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
Assert-Inside $temp @(Split-Path -Parent $ReleaseDir) 'unpack into'
$null = [IO.Directory]::CreateDirectory($temp)
try {
    Expand-ReleaseArchive $Archive $temp
    foreach ($required in @('app', 'manifest.json')) {
        if (-not (Test-Path -LiteralPath (Join-Path $temp $required))) { throw "artifact has no $required at its root" }
    }
    $manifestPath = Join-Path $temp 'manifest.json'
    $manifestHash = (Get-FileHash -LiteralPath $manifestPath -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($ManifestSha256 -and $manifestHash -ne $ManifestSha256) {
        throw "manifest.json is not the verified artifact's: sha256 $manifestHash, expected $ManifestSha256"
    }
    $manifest = Read-JsonFile $manifestPath
    $verified = Assert-TreeMatches $temp (Get-ExpectedFiles $manifest $Omit) @('manifest.json') 'unpack'
    $record = [ordered]@{}
    ($Info | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
    $record['id'] = Split-Path -Leaf $ReleaseDir
    $record['status'] = 'pending'
    if (-not $record.Contains('artifact_sha256')) { $record['artifact_sha256'] = $actual }
    $record['unpacked_from'] = Split-Path -Leaf $Archive  # the upload retention keeps while this release remains
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
