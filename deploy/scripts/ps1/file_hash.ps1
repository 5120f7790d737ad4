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

if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
    return [ordered]@{ path = $Path; exists = $false; sha256 = ''; bytes = 0 }
}
$hash = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
return [ordered]@{ path = $Path; exists = $true; sha256 = $hash; bytes = (Get-Item -LiteralPath $Path).Length }
