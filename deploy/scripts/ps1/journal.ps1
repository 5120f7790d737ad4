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
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $utf8 = New-Object System.Text.UTF8Encoding $false
    if ($Action -eq 'append') {
        $line = ($Entry | ConvertFrom-Json | ConvertTo-Json -Compress -Depth 10)
        $null = New-Item -ItemType Directory -Path (Split-Path -Parent $Path) -Force
        [IO.File]::AppendAllText($Path, $line + "`n", $utf8)
        return [ordered]@{ appended = 1 }
    }
    $entries = @()
    if (Test-Path -LiteralPath $Path) {
        foreach ($line in [IO.File]::ReadAllLines($Path, $utf8)) {
            if ($line.Trim()) { $entries += , ($line | ConvertFrom-Json) }
        }
    }
    return [ordered]@{ entries = @($entries) }
}

$answer = [ordered]@{ ok = $false; step = 'journal'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
