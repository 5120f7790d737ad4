<#
.SYNOPSIS
    Rewrite the status (pending, good, failed, rolled_back) and extra keys of a release's release.json.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$InfoPath,
    [Parameter(Mandatory = $true)][ValidateSet('pending', 'good', 'failed', 'rolled_back')][string]$Status,
    [string]$Extra = '{}'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $record = [ordered]@{}
    ([IO.File]::ReadAllText($InfoPath) | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
    ($Extra | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $record[$_.Name] = $_.Value }
    $record['status'] = $Status
    $temp = "$InfoPath.tmp"
    [IO.File]::WriteAllText($temp, ($record | ConvertTo-Json -Compress -Depth 10), (New-Object System.Text.UTF8Encoding $false))
    [IO.File]::Replace($temp, $InfoPath, $null)
    return [ordered]@{ status = $Status }
}

$answer = [ordered]@{ ok = $false; step = 'set_status'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
