<#
.SYNOPSIS
    Receive a file over stdin (one base64 line per chunk), verify its sha256, move it into place.
    Used when SMB is closed: one WinRM command, many stdin Sends. With Roots, the file must resolve
    inside one of them (links on the way followed) or nothing is written.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256,
    [string[]]$Roots = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$parent = Split-Path -Parent $Path
if ($Roots.Count) { Assert-Inside $parent $Roots 'write into' -Follow }
$null = [IO.Directory]::CreateDirectory($parent)
if ($Roots.Count) { Assert-Inside $Path $Roots 'write' -Follow }
$part = "$Path.part"
$hasher = [Security.Cryptography.SHA256]::Create()
$out = [IO.File]::Open($part, [IO.FileMode]::Create, [IO.FileAccess]::Write, [IO.FileShare]::None)
$total = 0
try {
    while ($null -ne ($line = [Console]::In.ReadLine())) {
        if ($line.Length -eq 0) { continue }
        $bytes = [Convert]::FromBase64String($line)
        $out.Write($bytes, 0, $bytes.Length)
        $null = $hasher.TransformBlock($bytes, 0, $bytes.Length, $null, 0)
        $total += $bytes.Length
    }
    $null = $hasher.TransformFinalBlock([byte[]]@(), 0, 0)
}
finally {
    $out.Dispose()
}
$actual = -join ($hasher.Hash | ForEach-Object { $_.ToString('x2') })
if ($actual -ne $Sha256) {
    [IO.File]::Delete($part)
    throw "sha256 mismatch for ${Path}: got $actual, expected $Sha256"
}
Move-FileReplacing $part $Path
return [ordered]@{ path = $Path; sha256 = $actual; bytes = $total }
