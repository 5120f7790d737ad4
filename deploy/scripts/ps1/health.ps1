<#
.SYNOPSIS
    HTTP health check from the host itself (the site behind IIS on localhost), retried until a deadline.
.DESCRIPTION
    Windows PowerShell 5.1 on .NET Framework offers only SSL 3 and TLS 1.0 by default, so TLS 1.2 is
    enabled for HTTPS URLs. The certificate is validated unless CertValidation is 'ignore' (the
    environment's health.cert_validation), and then only for this request, never process-wide.
    Redirects are not followed: a 302 to a login page is not healthy.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^https?://')][string]$Url,
    [ValidateRange(1, 3600)][int]$TimeoutSec = 30,
    [string]$Expect = '',
    [ValidateSet('validate', 'ignore')][string]$CertValidation = 'validate'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Get-Page {
    $request = [System.Net.HttpWebRequest][System.Net.WebRequest]::Create($Url)
    $request.AllowAutoRedirect = $false
    $request.Timeout = 10000
    $request.ReadWriteTimeout = 10000
    if ($CertValidation -eq 'ignore') { $request.ServerCertificateValidationCallback = { $true } }
    try { $response = $request.GetResponse() }
    catch [System.Net.WebException] {
        $response = $_.Exception.Response
        if ($null -eq $response) { throw }
    }
    try {
        $reader = New-Object System.IO.StreamReader($response.GetResponseStream())
        return @{ status = [int]$response.StatusCode; body = $reader.ReadToEnd() }
    }
    finally { $response.Close() }
}

[System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
$deadline = (Get-Date).AddSeconds($TimeoutSec)
$last = 'no attempt'
$attempts = 0
while ((Get-Date) -lt $deadline) {
    $attempts += 1
    try {
        $page = Get-Page
        if ($page.status -eq 200 -and (-not $Expect -or $page.body.Contains($Expect))) {
            return [ordered]@{ url = $Url; status = 200; attempts = $attempts }
        }
        $last = "HTTP $($page.status)"
        if ($page.status -eq 200) { $last += ', expected text not found' }
    }
    catch {
        $last = $_.Exception.GetBaseException().Message
    }
    Start-Sleep -Milliseconds 500
}
throw "health check $Url failed after $attempts attempts: $last"
