<#
.SYNOPSIS
    Create the deploy layout under DeployTo (releases, shared, .shipyard) and the shared dirs and files.
    Idempotent. Also says whether tar.exe is there (Server 2016 and older lack it: the controller then
    sends a zip artifact).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [string[]]$LinkedDirs = @(),
    [string[]]$LinkedFiles = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$shared = Join-Path $DeployTo 'shared'
$dirs = @(@('releases', 'shared', '.shipyard', '.shipyard\artifacts') | ForEach-Object { Join-Path $DeployTo $_ })
$dirs += @($LinkedDirs | ForEach-Object { Join-Path $shared $_ })
$dirs += @($LinkedFiles | ForEach-Object { Split-Path -Parent (Join-Path $shared $_) })
$created = @()
foreach ($path in $dirs) {
    if (Test-Path -LiteralPath $path -PathType Container) { continue }
    Assert-Inside $path @($DeployTo) 'create'
    $null = [IO.Directory]::CreateDirectory($path)
    $created += $path
}
foreach ($relative in $LinkedFiles) {
    $path = Join-Path $shared $relative
    if (Test-Entry $path) { continue }
    Assert-Inside $path @($shared) 'create'
    [IO.File]::WriteAllText($path, '')
    $created += $path
}
$tar = Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\tar.exe') -PathType Leaf
return [ordered]@{ created = @($created); tar = [bool]$tar }
