<#
.SYNOPSIS
    Functions the scripts/ps1 scripts share. The bootstrap dot-sources this file before it runs a script,
    so each script is only its own logic. Definitions only: nothing runs when it is loaded.
#>

# The path Windows really reaches: every junction and symbolic link on the way is followed, and '..' is
# applied after the link before it (as the kernel does), never lexically. A missing tail is kept as written.
function Resolve-RealPath([string]$Path) {
    if (-not [IO.Path]::IsPathRooted($Path)) { throw "not an absolute path: $Path" }
    $root = [IO.Path]::GetPathRoot($Path)
    $pending = New-Object System.Collections.Generic.List[string]
    $pending.AddRange([string[]]@($Path.Substring($root.Length) -split '[\\/]' | Where-Object { $_ }))
    $resolved = $root
    $hops = 0
    while ($pending.Count -gt 0) {
        $part = $pending[0]
        $pending.RemoveAt(0)
        if ($part -eq '.') { continue }
        if ($part -eq '..') {
            $parent = [IO.Path]::GetDirectoryName($resolved)
            if ($parent) { $resolved = $parent }
            continue
        }
        $candidate = [IO.Path]::Combine($resolved, $part)
        $target = Get-LinkTarget $candidate
        if (-not $target) { $resolved = $candidate; continue }
        $hops += 1
        if ($hops -gt 63) { throw "too many links while resolving $Path" }
        if ([IO.Path]::IsPathRooted($target)) {
            $resolved = [IO.Path]::GetPathRoot($target)
            $target = $target.Substring($resolved.Length)
        }
        $pending.InsertRange(0, [string[]]@($target -split '[\\/]' | Where-Object { $_ }))
    }
    return $resolved
}

# What a junction or symbolic link points at ('' for anything else, deduplicated files included).
function Get-LinkTarget([string]$Path) {
    try { $attributes = [IO.File]::GetAttributes($Path) }
    catch [System.IO.FileNotFoundException], [System.IO.DirectoryNotFoundException] { return '' }
    if (-not ($attributes -band [IO.FileAttributes]::ReparsePoint)) { return '' }
    $target = @((Get-Item -LiteralPath $Path -Force).Target | Where-Object { $_ }) | Select-Object -First 1
    if (-not $target) { return '' }
    return ($target -replace '^\\\\\?\\|^\\\?\?\\', '')
}

# Refuse to touch $Path unless it lies inside one of $Roots once links are resolved. The entry itself is not
# followed unless -Follow (a link about to be removed or replaced is judged by where it sits, not where it points).
function Assert-Inside([string]$Path, [string[]]$Roots, [string]$Action, [switch]$Follow) {
    if ($Follow) { $real = Resolve-RealPath $Path }
    else { $real = [IO.Path]::Combine((Resolve-RealPath (Split-Path -Parent $Path)), (Split-Path -Leaf $Path)) }
    foreach ($root in $Roots) {
        $base = (Resolve-RealPath $root).TrimEnd('\')
        if ($real -ieq $base -or $real.StartsWith($base + '\', [StringComparison]::OrdinalIgnoreCase)) { return }
    }
    throw "refusing to $Action ${Path}: it resolves to $real, outside $($Roots -join ' and ')"
}

# Antivirus scanners and the search indexer hold new files for a moment: IO errors (not "not found") are
# retried with back-off (about 6 s in all); the last error is raised with the number of attempts.
function Invoke-WithRetry([scriptblock]$RetryAction, [string]$RetryWhat, [string]$RetryWhen = '') {
    $retryDelay = 100
    for ($retryAttempt = 1; ; $retryAttempt++) {
        try { return (& $RetryAction) }
        catch {
            $retryError = $_.Exception
            $retryInner = $retryError.GetBaseException()
            $retryMissing = $retryInner -is [System.IO.FileNotFoundException] -or $retryInner -is [System.IO.DirectoryNotFoundException]
            $retryTransient = (-not $retryMissing -and ($retryInner -is [System.IO.IOException] -or $retryInner -is [System.UnauthorizedAccessException])) -or
                ($RetryWhen -and $retryError.Message -match $RetryWhen)
            if (-not $retryTransient -or $retryAttempt -ge 7) {
                throw (New-Object System.IO.IOException("$RetryWhat failed after $retryAttempt attempt(s): $($retryInner.Message)", $retryError))
            }
            Start-Sleep -Milliseconds $retryDelay
            $retryDelay = [Math]::Min($retryDelay * 2, 2000)
        }
    }
}

# The deepest directory of $Path that exists: where a probe may go without creating anything else.
function Get-ExistingAncestor([string]$Path) {
    $probe = $Path
    while ($probe -and -not (Test-Path -LiteralPath $probe -PathType Container)) { $probe = Split-Path -Parent $probe }
    if (-not $probe) { return [IO.Path]::GetPathRoot($Path) }
    return $probe
}

function Test-Entry([string]$Path) {
    try { $null = [IO.File]::GetAttributes($Path); return $true }
    catch [System.IO.FileNotFoundException], [System.IO.DirectoryNotFoundException] { return $false }
}

function Move-PathWithRetry([string]$From, [string]$To) {
    Invoke-WithRetry {
        if ([IO.File]::GetAttributes($From) -band [IO.FileAttributes]::Directory) { [IO.Directory]::Move($From, $To) }
        else { [IO.File]::Move($From, $To) }
    } "move $From to $To"
}

# Put a finished file in place of $Path, replacing what is there (File.Move cannot overwrite on .NET Framework).
function Move-FileReplacing([string]$From, [string]$To) {
    if (Test-Entry $To) { Invoke-WithRetry { [IO.File]::Replace($From, $To, [NullString]::Value) } "replace $To" }
    else { Move-PathWithRetry $From $To }
}

function Write-TextAtomic([string]$Path, [string]$Text) {
    $temp = "$Path.tmp-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    [IO.File]::WriteAllText($temp, $Text, (New-Object System.Text.UTF8Encoding $false))
    try { Move-FileReplacing $temp $Path }
    catch {
        if (Test-Entry $temp) { [IO.File]::Delete($temp) }
        throw
    }
}

# A junction or directory symlink goes with a non-recursive Directory.Delete, a file symlink with File.Delete:
# the link itself, never what it points at.
function Remove-Link([string]$Path) {
    if ([IO.File]::GetAttributes($Path) -band [IO.FileAttributes]::Directory) {
        Invoke-WithRetry { [IO.Directory]::Delete($Path, $false) } "unlink $Path"
    }
    else { Invoke-WithRetry { [IO.File]::Delete($Path) } "unlink $Path" }
}

# Delete a file or a tree without following any link in it; read-only attributes are cleared first. The first
# failure is raised with the path it happened on: a half-deleted tree is never reported as deleted.
function Remove-Tree([string]$Path) {
    $attributes = [IO.File]::GetAttributes($Path)
    if ($attributes -band [IO.FileAttributes]::ReparsePoint) { Remove-Link $Path; return }
    if ($attributes -band [IO.FileAttributes]::ReadOnly) {
        [IO.File]::SetAttributes($Path, ($attributes -band (-bnot [IO.FileAttributes]::ReadOnly)))
    }
    if (-not ($attributes -band [IO.FileAttributes]::Directory)) {
        Invoke-WithRetry { [IO.File]::Delete($Path) } "delete $Path"
        return
    }
    foreach ($entry in [IO.Directory]::GetFileSystemEntries($Path)) { Remove-Tree $entry }
    Invoke-WithRetry { [IO.Directory]::Delete($Path, $false) } "delete $Path"
}

# One argument as CommandLineToArgvW reads it back: quoted when needed, backslashes before quotes doubled.
function ConvertTo-ProcessArgument([string]$Argument) {
    if ($Argument -and $Argument -notmatch '[\s"]') { return $Argument }
    return '"' + (($Argument -replace '(\\*)"', '$1$1\"') -replace '(\\+)$', '$1$1') + '"'
}

function Join-ProcessArguments([string[]]$ArgumentList) {
    return (@($ArgumentList | ForEach-Object { ConvertTo-ProcessArgument $_ }) -join ' ')
}

# Run a program with stdout and stderr captured apart and the exit code as it is. Never through PowerShell's
# `2>&1`, where Windows PowerShell 5.1 turns the first stderr line into an error. stdin is closed at once;
# after TimeoutSec the whole process tree is killed.
function Invoke-Process([string]$FilePath, [string]$Arguments = '', [string]$WorkingDirectory = '',
                        [hashtable]$Environment = @{}, [int]$TimeoutSec = 3600) {
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = $FilePath
    $info.Arguments = $Arguments
    if ($WorkingDirectory) { $info.WorkingDirectory = $WorkingDirectory }
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.StandardOutputEncoding = New-Object System.Text.UTF8Encoding $false
    $info.StandardErrorEncoding = New-Object System.Text.UTF8Encoding $false
    foreach ($name in $Environment.Keys) { $info.EnvironmentVariables[$name] = [string]$Environment[$name] }
    $process = [System.Diagnostics.Process]::Start($info)
    $process.StandardInput.Close()
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    $timedOut = -not $process.WaitForExit($TimeoutSec * 1000)
    if ($timedOut) {
        $kill = New-Object System.Diagnostics.ProcessStartInfo (Join-Path $env:SystemRoot 'System32\taskkill.exe'), "/T /F /PID $($process.Id)"
        $kill.UseShellExecute = $false
        $kill.CreateNoWindow = $true
        $null = [System.Diagnostics.Process]::Start($kill).WaitForExit(30000)
    }
    $process.WaitForExit()
    $null = $stdout.Wait(30000)
    $null = $stderr.Wait(30000)
    $rc = -1
    if (-not $timedOut) { $rc = $process.ExitCode }
    return [ordered]@{ rc = $rc; stdout = $stdout.Result; stderr = $stderr.Result; timed_out = $timedOut }
}

# A native program that must succeed: its exit code is checked (PowerShell itself would carry on).
function Invoke-Native([string]$FilePath, [string[]]$ArgumentList, [int]$TimeoutSec = 3600) {
    $ran = Invoke-Process -FilePath $FilePath -Arguments (Join-ProcessArguments $ArgumentList) -TimeoutSec $TimeoutSec
    if ($ran.timed_out) { throw "$FilePath did not finish within $TimeoutSec s (killed)" }
    if ($ran.rc -ne 0) {
        $tail = @(("$($ran.stderr)`n$($ran.stdout)" -split "`r?`n") | Where-Object { $_.Trim() } | Select-Object -Last 8) -join ' | '
        throw "$FilePath exited $($ran.rc): $tail"
    }
    return $ran.stdout
}

# WebAdministration when it loads (IIS Management Scripts and Tools), else appcmd.exe, which every IIS has.
function Get-IisBackend {
    try {
        Import-Module WebAdministration -ErrorAction Stop
        return 'WebAdministration'
    }
    catch {
        Write-Verbose "WebAdministration did not load: $($_.Exception.Message)"
    }
    if (Test-Path -LiteralPath (Join-Path $env:SystemRoot 'System32\inetsrv\appcmd.exe')) { return 'appcmd' }
    throw 'IIS is not installed here: neither the WebAdministration module nor appcmd.exe is available'
}

# A write to applicationHost.config, retried while another writer holds the file (0x80070020) or
# changed it under us ("the file has changed on disk").
function Invoke-IisWrite([scriptblock]$IisWrite, [string]$IisWhat) {
    return (Invoke-WithRetry $IisWrite $IisWhat '80070020|another process|changed on disk')
}

# appcmd.exe with its exit code checked (unless -AllowFailure); stdout back. Retried like Invoke-IisWrite.
function Invoke-AppCmd([string[]]$AppCmdArguments, [switch]$AllowFailure) {
    $appcmd = Join-Path $env:SystemRoot 'System32\inetsrv\appcmd.exe'
    return Invoke-IisWrite {
        $ran = Invoke-Process -FilePath $appcmd -Arguments (Join-ProcessArguments $AppCmdArguments) -TimeoutSec 120
        if ($ran.rc -ne 0 -and -not $AllowFailure) {
            throw "appcmd $($AppCmdArguments -join ' ') exited $($ran.rc): $("$($ran.stdout) $($ran.stderr)".Trim())"
        }
        if ($ran.rc -ne 0) { return '' }
        return $ran.stdout
    } "appcmd $($AppCmdArguments[0]) $($AppCmdArguments[1])"
}

# A JSON file of any size as dictionaries and arrays: ConvertFrom-Json in Windows PowerShell 5.1 stops at 2 MB
# (JavaScriptSerializer's default MaxJsonLength), and a manifest of a few thousand files passes that.
function Read-JsonFile([string]$Path) {
    Add-Type -AssemblyName System.Web.Extensions
    $serializer = New-Object System.Web.Script.Serialization.JavaScriptSerializer
    $serializer.MaxJsonLength = [int]::MaxValue
    return , $serializer.DeserializeObject([IO.File]::ReadAllText($Path))
}

# The manifest's files (relative path -> size, sha256) less those under the top-level folders in $Omit.
function Get-ExpectedFiles($Manifest, [string[]]$Omit) {
    if (-not ($Manifest -is [System.Collections.IDictionary]) -or -not $Manifest.ContainsKey('files')) {
        throw 'the manifest names no files'
    }
    $expected = New-Object 'System.Collections.Generic.Dictionary[string,object]'
    foreach ($pair in $Manifest['files'].GetEnumerator()) {
        if ($Omit -notcontains $pair.Key.Split('/')[0]) { $expected[$pair.Key] = $pair.Value }
    }
    return , $expected
}

# A file's sha256 as lowercase hex through one reused hasher: thousands of files in a tree check, where
# Get-FileHash's per-call cost adds up.
function Get-Sha256Hex($Hasher, [string]$Path) {
    $stream = [IO.File]::OpenRead($Path)
    try { return ([BitConverter]::ToString($Hasher.ComputeHash($stream)) -replace '-', '').ToLowerInvariant() }
    finally { $stream.Dispose() }
}

# The tree under $Root holds exactly the files in $Expected (relative path with '/' -> size, sha256), besides the
# $Extra names: each size and sha256 checked, a missing file, one the manifest does not name, or any junction,
# symbolic link or other reparse point (followed by nothing here) refused. Returns the number of files checked.
function Assert-TreeMatches([string]$Root, $Expected, [string[]]$Extra, [string]$What) {
    $base = [IO.Path]::GetFullPath($Root).TrimEnd('\') + '\'
    $seen = New-Object 'System.Collections.Generic.HashSet[string]'
    $pending = New-Object 'System.Collections.Generic.Stack[string]'
    $pending.Push($base)
    $hasher = [System.Security.Cryptography.SHA256]::Create()
    while ($pending.Count -gt 0) {
        foreach ($entry in [IO.Directory]::GetFileSystemEntries($pending.Pop())) {
            $relative = $entry.Substring($base.Length).Replace('\', '/')
            $attributes = [IO.File]::GetAttributes($entry)
            if ($attributes -band [IO.FileAttributes]::ReparsePoint) { throw "${What}: refusing a link or reparse point in the tree: $relative" }
            if ($attributes -band [IO.FileAttributes]::Directory) { $pending.Push($entry); continue }
            if ($Extra -contains $relative) { continue }
            if (-not $Expected.ContainsKey($relative)) { throw "${What}: $relative is not in the manifest" }
            $want = $Expected[$relative]
            $size = (New-Object System.IO.FileInfo $entry).Length
            if ($size -ne [long]$want['size']) { throw "${What}: $relative is $size bytes, the manifest says $($want['size'])" }
            $hash = Get-Sha256Hex $hasher $entry
            if ($hash -ne $want['sha256']) { throw "${What}: $relative has sha256 $hash, the manifest says $($want['sha256'])" }
            $null = $seen.Add($relative)
        }
    }
    $missing = @($Expected.Keys | Where-Object { -not $seen.Contains($_) } | Sort-Object)
    if ($missing.Count -gt 0) { throw "${What}: $($missing.Count) file(s) of the manifest missing, the first $($missing[0])" }
    return $seen.Count
}

# An archive entry that would land outside the folder it is extracted into (absolute, drive, '..', control characters).
function Assert-SafeName([string]$Name) {
    $parts = $Name -split '[\\/]'
    if ($Name -match '^[\\/]' -or $Name -match ':' -or $parts -contains '..' -or $Name -match '[\x00-\x1f]') {
        throw "refusing archive entry that escapes the release dir: $Name"
    }
}

# A .tar.gz through the tar.exe (bsdtar) of Windows 10 1803+ / Server 2019+, every entry checked first:
# unsafe names, links and special files refused.
function Expand-Tar([string]$Archive, [string]$Target) {
    $tar = Join-Path $env:SystemRoot 'System32\tar.exe'
    if (-not (Test-Path -LiteralPath $tar)) { throw "tar.exe not found at $tar (Server 2016 or older): deploy a zip artifact" }
    foreach ($name in ((Invoke-Native $tar @('-tzf', $Archive)) -split "`r?`n" | Where-Object { $_ })) { Assert-SafeName $name }
    foreach ($line in ((Invoke-Native $tar @('-tvzf', $Archive)) -split "`r?`n" | Where-Object { $_ })) {
        if ($line -notmatch '^[-d]' -or $line -match ' (->|link to) ') { throw "refusing link or special entry: $line" }
    }
    $null = Invoke-Native $tar @('-xzf', $Archive, '-C', $Target)
}

# A .zip (hosts without tar.exe) through .NET, each entry checked and placed inside $Target.
function Expand-Zip([string]$Archive, [string]$Target) {
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $base = [IO.Path]::GetFullPath($Target).TrimEnd('\') + '\'
    $zip = [IO.Compression.ZipFile]::OpenRead($Archive)
    try {
        foreach ($entry in $zip.Entries) {
            Assert-SafeName $entry.FullName
            $path = [IO.Path]::GetFullPath([IO.Path]::Combine($Target, $entry.FullName))
            if (-not $path.StartsWith($base, [StringComparison]::OrdinalIgnoreCase)) { throw "refusing archive entry that escapes the release dir: $($entry.FullName)" }
            if ($entry.FullName.EndsWith('/')) { $null = [IO.Directory]::CreateDirectory($path); continue }
            $null = [IO.Directory]::CreateDirectory((Split-Path -Parent $path))
            [IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $path, $false)
        }
    }
    finally {
        $zip.Dispose()
    }
}

# A release artifact or dependency bundle into $Target: zip by its name, else tar.gz.
function Expand-ReleaseArchive([string]$Archive, [string]$Target) {
    if ($Archive -like '*.zip') { Expand-Zip $Archive $Target } else { Expand-Tar $Archive $Target }
}
