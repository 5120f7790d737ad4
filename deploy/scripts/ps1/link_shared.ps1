<#
.SYNOPSIS
    Point app\<path> of a release at shared\<path>: junctions for directories (no symlink privilege
    needed), hard links for files (same volume). Whatever the artifact had at that path is removed
    first, never through a link. A link is only made where it resolves inside the release, to a
    target inside shared.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ReleaseDir,
    [Parameter(Mandatory = $true)][string]$SharedDir,
    [string[]]$LinkedDirs = @(),
    [string[]]$LinkedFiles = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Set-SharedLink([string]$Relative, [string]$Kind) {
    if ((($Relative -split '[\\/]') -contains '..') -or [IO.Path]::IsPathRooted($Relative)) { throw "not a relative path inside the app: $Relative" }
    $link = Join-Path $app $Relative
    $target = Join-Path $SharedDir $Relative
    Assert-Inside $link @($ReleaseDir) 'link'
    Assert-Inside $target @($SharedDir) 'link to'
    $null = [IO.Directory]::CreateDirectory((Split-Path -Parent $link))
    if (Test-Entry $link) { Remove-Tree $link }
    if ($Kind -eq 'junction') { $null = New-Item -ItemType Junction -Path $link -Value $target }
    else { $null = New-Item -ItemType HardLink -Path $link -Value $target }
    return [ordered]@{ path = $link; kind = $Kind }
}

$app = Join-Path $ReleaseDir 'app'
$links = @()
foreach ($relative in $LinkedDirs) { $links += Set-SharedLink $relative 'junction' }
foreach ($relative in $LinkedFiles) { $links += Set-SharedLink $relative 'hardlink' }
return [ordered]@{ links = @($links) }
