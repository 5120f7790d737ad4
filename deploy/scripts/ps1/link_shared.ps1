<#
.SYNOPSIS
    Point app\<path> of a release at shared\<path>: junctions for directories (no symlink privilege
    needed), hard links for files (same volume). Whatever the artifact had at that path is replaced.
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
$ProgressPreference = 'SilentlyContinue'

function Remove-Existing([string]$Path) {
    $item = Get-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue
    if ($null -eq $item) { return }
    if ($item.Attributes -band [IO.FileAttributes]::ReparsePoint) { [IO.Directory]::Delete($Path) }
    elseif ($item.PSIsContainer) { [IO.Directory]::Delete($Path, $true) }
    else { [IO.File]::Delete($Path) }
}

function Invoke-Step {
    $app = Join-Path $ReleaseDir 'app'
    $links = @()
    foreach ($relative in $LinkedDirs) {
        $link = Join-Path $app $relative
        $null = New-Item -ItemType Directory -Path (Split-Path -Parent $link) -Force
        Remove-Existing $link
        $null = New-Item -ItemType Junction -Path $link -Value (Join-Path $SharedDir $relative)
        $links += [ordered]@{ path = $link; kind = 'junction' }
    }
    foreach ($relative in $LinkedFiles) {
        $link = Join-Path $app $relative
        $null = New-Item -ItemType Directory -Path (Split-Path -Parent $link) -Force
        Remove-Existing $link
        $null = New-Item -ItemType HardLink -Path $link -Value (Join-Path $SharedDir $relative)
        $links += [ordered]@{ path = $link; kind = 'hardlink' }
    }
    return [ordered]@{ links = @($links) }
}

$answer = [ordered]@{ ok = $false; step = 'link_shared'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
