<#
.SYNOPSIS
    Return a small file (journal, logs) base64-encoded in the answer. Large files go over SMB.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [long]$MaxBytes = 16777216
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Invoke-Step {
    $size = (Get-Item -LiteralPath $Path).Length
    if ($size -gt $MaxBytes) { throw "$Path is $size bytes; fetch files over $MaxBytes bytes over SMB" }
    $bytes = [IO.File]::ReadAllBytes($Path)
    $sha = [Security.Cryptography.SHA256]::Create().ComputeHash($bytes)
    return [ordered]@{
        content = [Convert]::ToBase64String($bytes)
        sha256  = -join ($sha | ForEach-Object { $_.ToString('x2') })
        bytes   = $bytes.Length
    }
}

$answer = [ordered]@{ ok = $false; step = 'get_file'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
