<#
.SYNOPSIS
    Verify a file copied over SMB (sha256 computed on this host), then move it to Destination.
    With Roots, Destination must resolve inside one of them (links on the way followed).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][string]$Destination,
    [Parameter(Mandatory = $true)][ValidatePattern('^[0-9a-f]{64}$')][string]$Sha256,
    [string[]]$Roots = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

if ($Roots.Count) { Assert-Inside $Destination $Roots 'write' -Follow }
$actual = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
if ($actual -ne $Sha256) {
    [IO.File]::Delete($Path)
    throw "sha256 mismatch for ${Path}: got $actual, expected $Sha256"
}
$bytes = (Get-Item -LiteralPath $Path).Length
Move-FileReplacing $Path $Destination
return [ordered]@{ path = $Destination; sha256 = $actual; bytes = $bytes }
