<#
.SYNOPSIS
    Create or update an IIS app pool (No Managed Code, user profile loaded) and a site at PhysicalPath
    (deploy_to\current\app), with an explicit site id and exactly the bindings given. Idempotent.
.DESCRIPTION
    New-Website gets an explicit -Id: without it, IIS 8.5/10 pick the id themselves and fail with
    "Index was outside the bounds of the array" on a server without sites. Bindings (protocol, ip, port,
    host header) replace the site's; an https binding with a certificate thumbprint gets its certificate
    bound through http.sys (netsh http add/update sslcert; per host name with SNI). WebAdministration
    when it loads, else appcmd.exe; every write is retried while applicationHost.config is busy.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$SiteName,
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_. -]+$')][string]$AppPool,
    [Parameter(Mandatory = $true)][ValidatePattern("^[^'`"]+$")][string]$PhysicalPath,
    [ValidateRange(0, 2147483647)][int]$SiteId = 0,
    [Parameter(Mandatory = $true)][string]$Bindings
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$IisAppId = '{4dc3e181-e14b-4a21-b022-59fc669b0914}'  # the application id IIS itself registers certificates with

function Get-WantedBindings {
    $wanted = @((ConvertFrom-Json -InputObject $Bindings) | ForEach-Object { $_ })
    if (-not $wanted.Count) { throw 'no bindings given' }
    foreach ($binding in $wanted) {
        if ($binding.protocol -notin @('http', 'https')) { throw "binding protocol must be http or https, got $($binding.protocol)" }
        $binding | Add-Member -NotePropertyName information -NotePropertyValue "$($binding.ip):$($binding.port):$($binding.host)"
    }
    return $wanted
}

function Get-SiteIds {
    if ($backend -eq 'WebAdministration') { return @(Get-ChildItem -LiteralPath 'IIS:\Sites' | ForEach-Object { [pscustomobject]@{ name = $_.Name; id = [int]$_.id } }) }
    $xml = [xml](Invoke-AppCmd @('list', 'site', '/xml'))
    return @($xml.SelectNodes('//SITE') | ForEach-Object { [pscustomobject]@{ name = $_.GetAttribute('SITE.NAME'); id = [int]$_.GetAttribute('SITE.ID') } })
}

function Get-NewSiteId([object[]]$Sites) {
    if ($SiteId -eq 0) { return 1 + [int](@($Sites | ForEach-Object { $_.id }) + 0 | Measure-Object -Maximum).Maximum }
    $taken = @($Sites | Where-Object { $_.id -eq $SiteId })
    if ($taken.Count) { throw "site id $SiteId is taken by site '$($taken[0].name)'" }
    return $SiteId
}

function Set-PoolAndSite([object[]]$Wanted) {
    $sites = Get-SiteIds
    $exists = [bool]@($sites | Where-Object { $_.name -eq $SiteName }).Count
    if ($backend -eq 'WebAdministration') {
        $pool = "IIS:\AppPools\$AppPool"
        if (-not (Test-Path -LiteralPath $pool)) { $null = Invoke-IisWrite { New-WebAppPool -Name $AppPool } "create app pool $AppPool" }
        Invoke-IisWrite { Set-ItemProperty -LiteralPath $pool -Name managedRuntimeVersion -Value '' } "configure app pool $AppPool"
        Invoke-IisWrite { Set-ItemProperty -LiteralPath $pool -Name processModel.loadUserProfile -Value $true } "configure app pool $AppPool"
        $site = "IIS:\Sites\$SiteName"
        if (-not $exists) {
            $id = Get-NewSiteId $sites
            $first = $Wanted[0]
            $null = Invoke-IisWrite { New-Website -Name $SiteName -Id $id -PhysicalPath $PhysicalPath -ApplicationPool $AppPool -IPAddress $first.ip -Port $first.port -HostHeader $first.host -Ssl:($first.protocol -eq 'https') } "create site $SiteName"
        }
        Invoke-IisWrite { Set-ItemProperty -LiteralPath $site -Name physicalPath -Value $PhysicalPath } "point $SiteName at $PhysicalPath"
        Invoke-IisWrite { Set-ItemProperty -LiteralPath $site -Name applicationPool -Value $AppPool } "put $SiteName in $AppPool"
        $collection = @($Wanted | ForEach-Object { @{ protocol = $_.protocol; bindingInformation = $_.information; sslFlags = [int][bool]$_.sni } })
        Invoke-IisWrite { Set-ItemProperty -LiteralPath $site -Name bindings -Value $collection } "set the bindings of $SiteName"
        return -not $exists
    }
    $poolListed = Invoke-AppCmd @('list', 'apppool', "/name:$AppPool") -AllowFailure
    if (-not $poolListed) { $null = Invoke-AppCmd @('add', 'apppool', "/name:$AppPool") }
    $null = Invoke-AppCmd @('set', 'apppool', "/apppool.name:$AppPool", '/managedRuntimeVersion:', '/processModel.loadUserProfile:true')
    $bindingList = @($Wanted | ForEach-Object { "$($_.protocol)/$($_.information)" }) -join ','
    if (-not $exists) {
        $id = Get-NewSiteId $sites
        $null = Invoke-AppCmd @('add', 'site', "/name:$SiteName", "/id:$id", "/physicalPath:$PhysicalPath", "/bindings:$bindingList")
    }
    $null = Invoke-AppCmd @('set', 'site', "/site.name:$SiteName", "/bindings:$bindingList")
    $null = Invoke-AppCmd @('set', 'app', "$SiteName/", "/applicationPool:$AppPool")
    $null = Invoke-AppCmd @('set', 'vdir', "$SiteName/", "/physicalPath:$PhysicalPath")
    foreach ($binding in @($Wanted | Where-Object { $_.sni })) {
        $null = Invoke-AppCmd @('set', 'site', "/site.name:$SiteName", "/[protocol='https',bindingInformation='$($binding.information)'].sslFlags:1")
    }
    return -not $exists
}

# http.sys holds the certificate of an https binding: by ip:port, or by host:port with SNI.
function Set-Certificate($Binding) {
    $ip = $Binding.ip
    if ($ip -eq '*') { $ip = '0.0.0.0' }
    $key = "ipport=${ip}:$($Binding.port)"
    if ($Binding.sni) { $key = "hostnameport=$($Binding.host):$($Binding.port)" }
    $netsh = Join-Path $env:SystemRoot 'System32\netsh.exe'
    $shown = Invoke-Process -FilePath $netsh -Arguments "http show sslcert $key"
    $verb = 'add'
    if ($shown.rc -eq 0 -and $shown.stdout -match [regex]::Escape($Binding.thumbprint)) { return }
    if ($shown.rc -eq 0 -and $shown.stdout -match 'Certificate Hash') { $verb = 'update' }
    $null = Invoke-Native $netsh @('http', $verb, 'sslcert', $key, "certhash=$($Binding.thumbprint)", "appid=$IisAppId", "certstorename=$($Binding.store)")
}

$backend = Get-IisBackend
$wanted = Get-WantedBindings
$created = Set-PoolAndSite $wanted
foreach ($binding in @($wanted | Where-Object { $_.protocol -eq 'https' -and $_.thumbprint })) { Set-Certificate $binding }
$siteIds = @(Get-SiteIds | Where-Object { $_.name -eq $SiteName } | ForEach-Object { $_.id })
return [ordered]@{
    site = $SiteName; app_pool = $AppPool; physical_path = $PhysicalPath; site_id = [int]$siteIds[0]
    bindings = @($wanted | ForEach-Object { "$($_.protocol)/$($_.information)" }); created = [bool]$created; backend = $backend
}
