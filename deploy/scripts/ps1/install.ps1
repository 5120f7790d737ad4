<#
.SYNOPSIS
    Build shared\envs\<key> from the release's wheelhouse once (offline pip), then junction it as
    releases\<id>\.deps.
.DESCRIPTION
    The environment is built where it will live: pip's Scripts\*.exe launchers (celery.exe,
    django-admin.exe) embed the absolute path of python.exe, so a venv built elsewhere and renamed
    would start nothing. A marker file says the build finished; an interrupted build is completed
    (pip again, offline) or, without python.exe, built again from scratch. SystemSitePackages gives
    the env the base interpreter's packages (pywin32 installed system-wide).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ReleaseDir,
    [Parameter(Mandatory = $true)][string]$SharedDir,
    [Parameter(Mandatory = $true)][string]$Python,
    [Parameter(Mandatory = $true)][string]$EnvDir,
    [bool]$SystemSitePackages = $false,
    [ValidateRange(1, 86400)][int]$TimeoutSec = 1800
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

Assert-Inside $EnvDir @(Join-Path $SharedDir 'envs') 'build an environment at'
$marker = Join-Path $EnvDir '.shipyard-complete'
$created = $false
if (-not (Test-Path -LiteralPath $marker -PathType Leaf)) {
    $envPython = Join-Path $EnvDir 'Scripts\python.exe'
    if ((Test-Entry $EnvDir) -and -not (Test-Path -LiteralPath $envPython -PathType Leaf)) { Remove-Tree $EnvDir }
    if (-not (Test-Path -LiteralPath $envPython -PathType Leaf)) {
        $venv = @('-m', 'venv')
        if ($SystemSitePackages) { $venv += '--system-site-packages' }
        $null = Invoke-Native $Python ($venv + @($EnvDir)) $TimeoutSec
    }
    $wheelhouse = Join-Path $ReleaseDir 'wheelhouse'
    $requirements = Join-Path $wheelhouse 'requirements.txt'
    $wanted = @()
    if (Test-Path -LiteralPath $requirements) { $wanted = @('-r', $requirements) }
    elseif (Test-Path -LiteralPath $wheelhouse -PathType Container) {
        $wanted = @(Get-ChildItem -LiteralPath $wheelhouse -Filter '*.whl' | ForEach-Object { $_.FullName })
    }
    # pip refuses to install nothing (exit 1): an app without requirements gets the bare venv
    if ($wanted.Count -gt 0) {
        $pip = @('-m', 'pip', 'install', '--no-index', '--find-links', $wheelhouse, '--disable-pip-version-check', '--no-warn-script-location')
        $null = Invoke-Native $envPython ($pip + $wanted) $TimeoutSec
    }
    [IO.File]::WriteAllText($marker, (Get-Date).ToUniversalTime().ToString('o'))
    $created = $true
}
$deps = Join-Path $ReleaseDir '.deps'
Assert-Inside $deps @($ReleaseDir) 'link'
if (Test-Entry $deps) { Remove-Tree $deps }
$null = New-Item -ItemType Junction -Path $deps -Value $EnvDir
return [ordered]@{ env_dir = $EnvDir; created = $created }
