<#
.SYNOPSIS
    Run a deploy hook (PowerShell) in a release's app dir. Secrets arrive on stdin (one base64 line per
    name in SecretNames) and are set as environment variables of this process only: never on a command line.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$WorkDir,
    [Parameter(Mandatory = $true)][string]$Command,
    [string]$Variables = '{}',
    [string[]]$SecretNames = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    ($Variables | ConvertFrom-Json).PSObject.Properties | ForEach-Object { [Environment]::SetEnvironmentVariable($_.Name, "$($_.Value)", 'Process') }
    $utf8 = New-Object System.Text.UTF8Encoding $false
    foreach ($name in $SecretNames) {
        $line = [Console]::In.ReadLine()
        if ($null -eq $line) { throw "stdin ended before secret $name" }
        [Environment]::SetEnvironmentVariable($name, $utf8.GetString([Convert]::FromBase64String($line)), 'Process')
    }
    Set-Location -LiteralPath $WorkDir
    $global:LASTEXITCODE = 0
    $rc = 0
    try {
        $output = & ([ScriptBlock]::Create($Command)) *>&1 | Out-String
        if ($LASTEXITCODE) { $rc = $LASTEXITCODE }
    }
    catch {
        $output = "$($_.Exception.Message)"
        $rc = 1
    }
    return [ordered]@{ rc = $rc; output = "$output" }
}

$answer = [ordered]@{ ok = $false; step = 'run_hook'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
