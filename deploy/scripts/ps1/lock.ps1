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
$ProgressPreference = 'SilentlyContinue'

function Read-Holder {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return $null }
    return ([IO.File]::ReadAllText($Path) | ConvertFrom-Json)
}

function Invoke-Step {
    if ($Action -eq 'read') {
        return [ordered]@{ holder = (Read-Holder) }
    }
    if ($Action -eq 'release') {
        $holder = Read-Holder
        $released = $false
        if ($null -ne $holder -and "$($holder.token)" -eq $Token) {
            Remove-Item -LiteralPath $Path -Force
            $released = $true
        }
        return [ordered]@{ released = $released }
    }
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $Path) -Force
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
}

$answer = [ordered]@{ ok = $false; step = 'lock'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
