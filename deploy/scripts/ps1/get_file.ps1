<#
.SYNOPSIS
    Return a small file (journal, logs) base64-encoded in the answer. Opened with FileShare ReadWrite and
    Delete, so a log the service is still writing can be read. Large files go over SMB.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [long]$MaxBytes = 16777216
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$share = [IO.FileShare]::ReadWrite -bor [IO.FileShare]::Delete
$stream = Invoke-WithRetry { [IO.File]::Open($Path, [IO.FileMode]::Open, [IO.FileAccess]::Read, $share) } "open $Path"
try {
    if ($stream.Length -gt $MaxBytes) { throw "$Path is $($stream.Length) bytes; fetch files over $MaxBytes bytes over SMB" }
    $memory = New-Object System.IO.MemoryStream
    $stream.CopyTo($memory)
    $bytes = $memory.ToArray()
}
finally {
    $stream.Dispose()
}
$sha = [Security.Cryptography.SHA256]::Create().ComputeHash($bytes)
return [ordered]@{
    content = [Convert]::ToBase64String($bytes)
    sha256  = -join ($sha | ForEach-Object { $_.ToString('x2') })
    bytes   = $bytes.Length
}
