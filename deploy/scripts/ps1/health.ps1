<#
.SYNOPSIS
    HTTP health check from the host itself (the site behind IIS on localhost), retried until a deadline.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^https?://')][string]$Url,
    [ValidateRange(1, 3600)][int]$TimeoutSec = 30,
    [string]$Expect = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $deadline = (Get-Date).AddSeconds($TimeoutSec)
    $last = 'no attempt'
    $attempts = 0
    while ((Get-Date) -lt $deadline) {
        $attempts += 1
        try {
            $response = Invoke-WebRequest -Uri $Url -UseBasicParsing -TimeoutSec 10 -MaximumRedirection 0
            if ($response.StatusCode -eq 200 -and (-not $Expect -or $response.Content.Contains($Expect))) {
                return [ordered]@{ url = $Url; status = 200; attempts = $attempts }
            }
            $last = "HTTP $($response.StatusCode), expected text not found"
        }
        catch {
            $last = $_.Exception.Message
        }
        Start-Sleep -Milliseconds 500
    }
    throw "health check $Url failed after $attempts attempts: $last"
}

$answer = [ordered]@{ ok = $false; step = 'health'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
