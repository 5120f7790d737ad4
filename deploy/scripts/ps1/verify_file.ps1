<#
.SYNOPSIS
    Verify a file copied over SMB (sha256 computed on this host), then move it to Destination.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][string]$Destination,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $actual = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($actual -ne $Sha256) {
        Remove-Item -LiteralPath $Path -Force
        throw "sha256 mismatch for ${Path}: got $actual, expected $Sha256"
    }
    $bytes = (Get-Item -LiteralPath $Path).Length
    Move-Item -LiteralPath $Path -Destination $Destination -Force
    return [ordered]@{ path = $Destination; sha256 = $actual; bytes = $bytes }
}

$answer = [ordered]@{ ok = $false; step = 'verify_file'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
