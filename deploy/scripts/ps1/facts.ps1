<#
.SYNOPSIS
    Host facts a deploy depends on: OS, PowerShell version and bitness, free disk under DeployTo,
    long-path support, tar.exe.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Get-FreeBytes {
    $probe = $DeployTo
    while ($probe -and -not (Test-Path -LiteralPath $probe)) { $probe = Split-Path -Parent $probe }
    if (-not $probe) { $probe = [IO.Path]::GetPathRoot($DeployTo) }
    return (New-Object System.IO.DriveInfo ([IO.Path]::GetPathRoot((Resolve-Path -LiteralPath $probe).ProviderPath))).AvailableFreeSpace
}

function Invoke-Step {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $longPaths = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\FileSystem' -Name LongPathsEnabled -ErrorAction SilentlyContinue
    return [ordered]@{
        hostname       = [Environment]::MachineName
        os             = "$($os.Caption)"
        os_version     = "$($os.Version)"
        ps_version     = "$($PSVersionTable.PSVersion)"
        is64_os        = [Environment]::Is64BitOperatingSystem
        is64_process   = [Environment]::Is64BitProcess
        free_bytes     = [long](Get-FreeBytes)
        long_paths     = [bool]($null -ne $longPaths -and $longPaths.LongPathsEnabled -eq 1)
        tar            = [bool](Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\tar.exe'))
    }
}

$answer = [ordered]@{ ok = $false; step = 'facts'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
