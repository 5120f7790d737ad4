<#
.SYNOPSIS
    Whether a file exists and its sha256: lets an upload skip a copy that is already there and verified.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return [ordered]@{ path = $Path; exists = $false; sha256 = ''; bytes = 0 }
    }
    $hash = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
    return [ordered]@{ path = $Path; exists = $true; sha256 = $hash; bytes = (Get-Item -LiteralPath $Path).Length }
}

$answer = [ordered]@{ ok = $false; step = 'file_hash'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
