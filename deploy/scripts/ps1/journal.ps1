<#
.SYNOPSIS
    Append one JSON line to .shipyard\journal.jsonl, or read every entry (oldest first).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][ValidateSet('append', 'read')][string]$Action,
    [string]$Entry = '{}'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$utf8 = New-Object System.Text.UTF8Encoding $false
if ($Action -eq 'append') {
    $line = ($Entry | ConvertFrom-Json | ConvertTo-Json -Compress -Depth 10)
    $null = [IO.Directory]::CreateDirectory((Split-Path -Parent $Path))
    Assert-Inside $Path @(Split-Path -Parent $Path) 'append to' -Follow  # a journal that is a link writes elsewhere
    Invoke-WithRetry { [IO.File]::AppendAllText($Path, $line + "`n", $utf8) } "append to $Path"
    return [ordered]@{ appended = 1 }
}
$entries = @()
if (Test-Path -LiteralPath $Path) {
    foreach ($line in [IO.File]::ReadAllLines($Path, $utf8)) {
        if ($line.Trim()) { $entries += , ($line | ConvertFrom-Json) }
    }
}
return [ordered]@{ entries = @($entries) }
