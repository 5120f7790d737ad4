<#
.SYNOPSIS
    Build shared\envs\<key> once, from the controller's dependency bundle or else from the release's
    wheelhouse (offline pip), then junction it as releases\<id>\.deps.
.DESCRIPTION
    With ManifestSha256 the environment is a bare venv (no pip) whose Lib\site-packages is the bundle the
    controller installed for this platform: Bundle (its sha256 checked first) is unpacked there and the tree
    checked against the bundle's deps-manifest.json, whose sha256 and key must be the artifact's; nothing is
    resolved, downloaded or built here. An environment already complete is reused only when its
    deps-manifest.json is that one (an env that does not match its key is refused, never used). A bundled
    env names its bundle in .shipyard-bundle: retention keeps that upload while a release uses the env.
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
    [ValidateRange(1, 86400)][int]$TimeoutSec = 1800,
    [ValidatePattern('^([0-9a-f]{64})?$')][string]$ManifestSha256 = '',
    [string]$Bundle = '',
    [ValidatePattern('^([0-9a-f]{64})?$')][string]$BundleSha256 = ''
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# A bare venv whose site-packages is the bundle, checked against its deps manifest (which the artifact names);
# whatever fails, no half-made environment is left.
function New-BundledEnv([string]$SitePackages) {
    if (-not $Bundle) { throw "no dependency bundle was sent for $EnvDir, and it is not there" }
    $actual = (Get-FileHash -LiteralPath $Bundle -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($actual -ne $BundleSha256) { throw "dependency bundle sha256 mismatch: got $actual, expected $BundleSha256" }
    if (Test-Entry $EnvDir) { Remove-Tree $EnvDir }  # an interrupted unpack: made again from scratch
    $venv = @('-m', 'venv', '--without-pip')
    if ($SystemSitePackages) { $venv += '--system-site-packages' }
    try {
        $null = Invoke-Native $Python ($venv + @($EnvDir)) $TimeoutSec
        Assert-Inside $SitePackages @($EnvDir) 'unpack dependencies into' -Follow
        Expand-ReleaseArchive $Bundle $SitePackages
        $manifest = Assert-DepsManifest $SitePackages
        $count = Assert-TreeMatches $SitePackages (Get-ExpectedFiles $manifest @()) @('deps-manifest.json') 'install'
        [IO.File]::WriteAllText((Join-Path $EnvDir '.shipyard-bundle'), (Split-Path -Leaf $Bundle))  # kept while a release uses this env
        [IO.File]::WriteAllText((Join-Path $EnvDir '.shipyard-complete'), (Get-Date).ToUniversalTime().ToString('o'))
        return $count
    }
    catch {
        $failure = $_
        if (Test-Entry $EnvDir) { Remove-Tree $EnvDir }
        throw $failure
    }
}

# deps-manifest.json of an env: the one the artifact names, for this env's key.
function Assert-DepsManifest([string]$SitePackages) {
    $path = Join-Path $SitePackages 'deps-manifest.json'
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { throw "$EnvDir has no deps-manifest.json: it does not match its key; remove it and deploy again" }
    $hash = (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($hash -ne $ManifestSha256) { throw "$EnvDir does not match its key (deps-manifest.json sha256 $hash, the artifact names $ManifestSha256): remove it and deploy again" }
    $manifest = Read-JsonFile $path
    if (-not $manifest.ContainsKey('key') -or $manifest['key'] -ne (Split-Path -Leaf $EnvDir)) { throw "$EnvDir does not match its key (deps-manifest.json is for $($manifest['key'])): remove it and deploy again" }
    return , $manifest
}

Assert-Inside $EnvDir @(Join-Path $SharedDir 'envs') 'build an environment at'
$marker = Join-Path $EnvDir '.shipyard-complete'
$sitePackages = Join-Path $EnvDir 'Lib\site-packages'
$created = $false
$verified = 0
if ($ManifestSha256 -and (Test-Path -LiteralPath $marker -PathType Leaf)) { $null = Assert-DepsManifest $sitePackages }
elseif ($ManifestSha256) {
    $verified = New-BundledEnv $sitePackages
    $created = $true
}
elseif (-not (Test-Path -LiteralPath $marker -PathType Leaf)) {
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
return [ordered]@{ env_dir = $EnvDir; created = $created; verified = $verified }
