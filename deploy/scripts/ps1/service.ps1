<#
.SYNOPSIS
    Stop, start or restart a Windows service within a timeout. Running dependents are stopped first and
    started again afterwards; a service that does not stop in time has its process killed; the final
    state is verified, not assumed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_.$ -]+$')][string]$Name,
    [Parameter(Mandatory = $true)][ValidateSet('start', 'stop', 'restart')][string]$Action,
    [ValidateRange(1, 3600)][int]$TimeoutSec = 60
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Wait-Status($Service, [string]$Status, [int]$Seconds) {
    try { $Service.WaitForStatus($Status, [TimeSpan]::FromSeconds($Seconds)); return $true }
    catch {
        if ($_.Exception.GetBaseException() -is [System.ServiceProcess.TimeoutException]) { return $false }
        throw
    }
}

# Stops a service within the timeout, killing its process if it hangs; returns whether it killed.
function Stop-Hard($Service) {
    $Service.Refresh()
    if ($Service.Status -eq 'Stopped') { return $false }
    if ($Service.Status -ne 'StopPending') { $Service.Stop() }
    if (Wait-Status $Service 'Stopped' $TimeoutSec) { return $false }
    $processId = (Get-CimInstance -ClassName Win32_Service -Filter "Name='$($Service.ServiceName)'").ProcessId
    if ($processId -gt 0) { Stop-Process -Id $processId -Force }
    if (-not (Wait-Status $Service 'Stopped' 15)) { throw "$($Service.ServiceName) did not stop, even after killing process $processId" }
    return $true
}

function Invoke-Step {
    $service = Get-Service -Name $Name
    $dependents = @($service.DependentServices | Where-Object { $_.Status -eq 'Running' })
    $killed = $false
    if ($Action -ne 'start') {
        # DependentServices lists indirect dependents too, in an order that is safe to stop in
        foreach ($dependent in $dependents) { if (Stop-Hard $dependent) { $killed = $true } }
        if (Stop-Hard $service) { $killed = $true }
    }
    if ($Action -ne 'stop') {
        $service.Refresh()
        if ($service.Status -ne 'Running') { $service.Start() }
        if (-not (Wait-Status $service 'Running' $TimeoutSec)) { throw "$Name did not reach Running within $TimeoutSec s" }
        for ($i = $dependents.Count - 1; $i -ge 0; $i--) {
            $dependent = $dependents[$i]
            $dependent.Refresh()
            if ($dependent.Status -ne 'Running') { $dependent.Start() }
            if (-not (Wait-Status $dependent 'Running' $TimeoutSec)) { throw "dependent $($dependent.ServiceName) did not restart" }
        }
    }
    $service.Refresh()
    $expected = $(if ($Action -eq 'stop') { 'Stopped' } else { 'Running' })
    if ("$($service.Status)" -ne $expected) { throw "$Name is $($service.Status), expected $expected" }
    return [ordered]@{ name = $Name; status = "$($service.Status)"; dependents = @($dependents | ForEach-Object { $_.ServiceName }); killed = $killed }
}

$answer = [ordered]@{ ok = $false; step = 'service'; data = $null; error = $null }
try {
    $answer.data = @(Invoke-Step)[-1]
    $answer.ok = $true
}
catch {
    $answer.error = $_.Exception.Message
}
[Console]::Out.WriteLine(($answer | ConvertTo-Json -Compress -Depth 10))
if ($answer.ok) { exit 0 } else { exit 1 }
