<#
.SYNOPSIS
    Create the deploy layout under DeployTo (releases, shared, .shipyard) and the shared dirs. Idempotent.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [string[]]$LinkedDirs = @(),
    [string[]]$LinkedFiles = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $dirs = @('releases', 'shared', '.shipyard', '.shipyard\artifacts')
    $dirs += @($LinkedDirs | ForEach-Object { Join-Path 'shared' $_ })
    $dirs += @($LinkedFiles | ForEach-Object { Split-Path -Parent (Join-Path 'shared' $_) })
    $created = @()
    foreach ($relative in $dirs) {
        $path = Join-Path $DeployTo $relative
        if (-not (Test-Path -LiteralPath $path -PathType Container)) {
            $null = New-Item -ItemType Directory -Path $path -Force
            $created += $path
        }
    }
    foreach ($relative in $LinkedFiles) {
        $path = Join-Path (Join-Path $DeployTo 'shared') $relative
        if (-not (Test-Path -LiteralPath $path)) {
            [IO.File]::WriteAllText($path, '')
            $created += $path
        }
    }
    return [ordered]@{ created = @($created) }
}

$answer = [ordered]@{ ok = $false; step = 'prepare'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
