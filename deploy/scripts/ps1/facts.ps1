<#
.SYNOPSIS
    Host facts a deploy depends on: OS, PowerShell version, language mode and bitness, free disk under
    DeployTo, tar.exe, and whether a path longer than 260 characters really works there.
.DESCRIPTION
    The long-path answer is a probe, not the registry value alone: LongPathsEnabled only helps
    programs whose manifest opts in, so a file is created, read and removed at a >260-character path
    under DeployTo (or its nearest existing parent: doctor creates nothing) and nothing is left behind.
    A deploy's disk check passes ProbeLongPath = $false: it writes nothing, outside DeployTo least of all.
    With Python, the platform tag that interpreter reports (what the controller's dependency bundle must be
    built for; its failure to start is answered, not thrown), and which of EnvKeys are complete
    environments under shared\envs: read before a deploy touches any host.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$DeployTo,
    [bool]$ProbeLongPath = $true,
    [string]$Python = '',
    [ValidatePattern('^[0-9a-f]{64}$')][string[]]$EnvKeys = @()
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Get-FreeBytes {
    $probe = Get-ExistingAncestor $DeployTo
    return (New-Object System.IO.DriveInfo ([IO.Path]::GetPathRoot((Resolve-Path -LiteralPath $probe).ProviderPath))).AvailableFreeSpace
}

# '' when a file at a path of more than 260 characters can be written and read back, else the error.
function Test-LongPath {
    $base = Join-Path (Get-ExistingAncestor $DeployTo) ".shipyard-longpath-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $path = $base
    while ($path.Length -le 280) { $path = Join-Path $path ('d' * 60) }
    $file = Join-Path $path 'probe.txt'
    try {
        $null = [IO.Directory]::CreateDirectory($path)
        [IO.File]::WriteAllText($file, 'shipyard')
        if ([IO.File]::ReadAllText($file) -ne 'shipyard') { return 'read back something else' }
        return ''
    }
    catch { return $_.Exception.GetBaseException().Message }
    finally {
        if (Test-Entry $base) { Remove-Tree $base }
    }
}

# The interpreter's sysconfig platform + cache tag ('win-amd64-cpython-311'), or '' and why it did not answer.
function Get-PythonPlatform {
    if (-not $Python) { return @('', '') }
    try {
        $code = "import sys, sysconfig; print(sysconfig.get_platform() + '-' + sys.implementation.cache_tag)"
        return @((Invoke-Native $Python @('-I', '-c', $code) 120).Trim(), '')
    }
    catch { return @('', $_.Exception.GetBaseException().Message) }
}

$envs = @($EnvKeys | Where-Object { Test-Path -LiteralPath (Join-Path $DeployTo "shared\envs\$_\.shipyard-complete") -PathType Leaf })
$pythonPlatform, $pythonError = Get-PythonPlatform
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$registry = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\FileSystem' -Name LongPathsEnabled -ErrorAction SilentlyContinue
$longPathError = 'not probed'
if ($ProbeLongPath) { $longPathError = Test-LongPath }
return [ordered]@{
    hostname           = [Environment]::MachineName
    os                 = "$($os.Caption)"
    os_version         = "$($os.Version)"
    ps_version         = "$($PSVersionTable.PSVersion)"
    language_mode      = "$($ExecutionContext.SessionState.LanguageMode)"
    is64_os            = [Environment]::Is64BitOperatingSystem
    is64_process       = [Environment]::Is64BitProcess
    free_bytes         = [long](Get-FreeBytes)
    long_paths         = -not $longPathError
    long_path_error    = $longPathError
    long_paths_enabled = [bool]($null -ne $registry -and $registry.LongPathsEnabled -eq 1)
    tar                = [bool](Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\tar.exe'))
    python_platform    = $pythonPlatform
    python_error       = $pythonError
    envs               = $envs
}
