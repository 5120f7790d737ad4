<#
.SYNOPSIS
    Receive a file over stdin (one base64 line per chunk), verify its sha256, move it into place.
    Used when SMB is closed: one WinRM command, many stdin Sends.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $Path) -Force
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
        Remove-Item -LiteralPath $part -Force
        throw "sha256 mismatch for ${Path}: got $actual, expected $Sha256"
    }
    Move-Item -LiteralPath $part -Destination $Path -Force
    return [ordered]@{ path = $Path; sha256 = $actual; bytes = $total }
}

$answer = [ordered]@{ ok = $false; step = 'put_file'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
