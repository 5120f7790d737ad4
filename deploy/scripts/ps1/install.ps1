<#
.SYNOPSIS
    Create shared\envs\<key> from the release's wheelhouse once (offline pip), then junction it as
    releases\<id>\.deps. Native exit codes are checked: PowerShell itself would carry on after them.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ReleaseDir,
    [Parameter(Mandatory = $true)][string]$Python,
    [Parameter(Mandatory = $true)][string]$EnvDir
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Native([string]$Exe, [string[]]$Arguments) {
    $ErrorActionPreference = 'Continue'
    $lines = @(& $Exe @Arguments 2>&1 | ForEach-Object { "$_" })
    if ($LASTEXITCODE -ne 0) { throw "$Exe exited $LASTEXITCODE`: $(($lines | Select-Object -Last 5) -join ' | ')" }
    return , $lines
}

function Invoke-Step {
    $created = $false
    if (-not (Test-Path -LiteralPath (Join-Path $EnvDir 'Scripts\python.exe'))) {
        $temp = "$EnvDir.tmp-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        try {
            $null = Invoke-Native $Python @('-m', 'venv', $temp)
            $wheelhouse = Join-Path $ReleaseDir 'wheelhouse'
            $requirements = Join-Path $wheelhouse 'requirements.txt'
            $pip = @('-m', 'pip', 'install', '--no-index', '--find-links', $wheelhouse, '--disable-pip-version-check')
            if (Test-Path -LiteralPath $requirements) { $pip += @('-r', $requirements) }
            else { $pip += @(Get-ChildItem -LiteralPath $wheelhouse -Filter '*.whl' | ForEach-Object { $_.FullName }) }
            $null = Invoke-Native (Join-Path $temp 'Scripts\python.exe') $pip
            [IO.Directory]::Move($temp, $EnvDir)
            $created = $true
        }
        catch {
            if (Test-Path -LiteralPath $temp) { [IO.Directory]::Delete($temp, $true) }
            throw
        }
    }
    $deps = Join-Path $ReleaseDir '.deps'
    if (Test-Path -LiteralPath $deps) { [IO.Directory]::Delete($deps) }
    $null = New-Item -ItemType Junction -Path $deps -Value $EnvDir
    return [ordered]@{ env_dir = $EnvDir; created = $created }
}

$answer = [ordered]@{ ok = $false; step = 'install'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
