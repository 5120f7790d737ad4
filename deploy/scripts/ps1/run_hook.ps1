<#
.SYNOPSIS
    Run a deploy hook in its own process in a release's app dir: a child powershell.exe (PowerShell hooks)
    or cmd.exe (a .cmd/.bat hook), with stdout, stderr and the exit code captured apart.
.DESCRIPTION
    A child process, because inside this one a native program's first stderr line (pip, git, manage.py
    warnings) would become a terminating error under $ErrorActionPreference = 'Stop', and an `exit N` in
    the hook would end the process that has to answer. The working directory is WorkDir for .NET calls
    too. Secrets arrive on stdin (one base64 line per name in SecretNames) and reach only the child's
    environment block: never a command line. The child is killed (with its tree) after TimeoutSec.
    Command is the full child script (the controller wraps PowerShell hooks with Set-StrictMode).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$WorkDir,
    [Parameter(Mandatory = $true)][ValidateSet('powershell', 'cmd')][string]$Shell,
    [Parameter(Mandatory = $true)][string]$Command,
    [string]$Variables = '{}',
    [string[]]$SecretNames = @(),
    [ValidateRange(1, 86400)][int]$TimeoutSec = 3600
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$environment = @{}
($Variables | ConvertFrom-Json).PSObject.Properties | ForEach-Object { $environment[$_.Name] = "$($_.Value)" }
$utf8 = New-Object System.Text.UTF8Encoding $false
foreach ($name in $SecretNames) {
    $line = [Console]::In.ReadLine()
    if ($null -eq $line) { throw "stdin ended before secret $name" }
    $environment[$name] = $utf8.GetString([Convert]::FromBase64String($line))
}
if (-not (Test-Path -LiteralPath $WorkDir -PathType Container)) { throw "hook working directory $WorkDir does not exist" }
if ($Shell -eq 'cmd') {
    $program = Join-Path $env:SystemRoot 'System32\cmd.exe'
    $arguments = '/d /s /c "' + $Command + '"'
}
else {
    $program = Join-Path $PSHOME 'powershell.exe'
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Command))
    $arguments = "-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand $encoded"
}
$ran = Invoke-Process -FilePath $program -Arguments $arguments -WorkingDirectory $WorkDir -Environment $environment -TimeoutSec $TimeoutSec
return [ordered]@{ rc = $ran.rc; stdout = "$($ran.stdout)"; stderr = "$($ran.stderr)"; timed_out = [bool]$ran.timed_out }
