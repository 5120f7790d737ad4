<#
.SYNOPSIS
    The deploy lock: acquire (atomic CreateNew), release (only by its token), or read.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][ValidateSet('acquire', 'release', 'read')][string]$Action,
    [string]$Owner = '{}',
    [string]$Token = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Read-Holder {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return $null }
    return ([IO.File]::ReadAllText($Path) | ConvertFrom-Json)
}

if ($Action -eq 'read') {
    return [ordered]@{ holder = (Read-Holder) }
}
if ($Action -eq 'release') {
    $holder = Read-Holder
    $released = $false
    if ($null -ne $holder -and "$($holder.token)" -eq $Token) {
        Invoke-WithRetry { [IO.File]::Delete($Path) } "remove the lock $Path"
        $released = $true
    }
    return [ordered]@{ released = $released }
}
$null = [IO.Directory]::CreateDirectory((Split-Path -Parent $Path))
try {
    $stream = [IO.File]::Open($Path, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
}
catch {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { throw }
    return [ordered]@{ acquired = $false; holder = (Read-Holder) }
}
try {
    $bytes = (New-Object System.Text.UTF8Encoding $false).GetBytes($Owner)
    $stream.Write($bytes, 0, $bytes.Length)
}
finally {
    $stream.Dispose()
}
return [ordered]@{ acquired = $true; holder = ($Owner | ConvertFrom-Json) }
