<#
.SYNOPSIS
    Stop, start or restart a Windows service and every service that depends on it, within a time budget.
.DESCRIPTION
    Every dependent is stopped first, whatever its state (a Paused or StartPending one blocks the stop as
    much as a Running one), and those that ran are started again afterwards. A service that does not stop
    in time has its process killed only when that process is its own: a shared svchost (W3SVC and WAS
    share one) is never killed, the hang is reported instead. If anything fails, every service that was
    running before is started again before the error is raised, so a hung dependent never leaves its
    services stopped. All waits end by TimeoutSec + 60 s (kill grace and restore); the controller waits
    longer than that. The final state is verified, not assumed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_.$ -]+$')][string]$Name,
    [Parameter(Mandatory = $true)][ValidateSet('start', 'stop', 'restart')][string]$Action,
    [ValidateRange(1, 3600)][int]$TimeoutSec = 60
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$deadline = (Get-Date).AddSeconds($TimeoutSec)
$finalDeadline = $deadline.AddSeconds(60)

function Get-SecondsLeft([datetime]$Until) { return [int][Math]::Max(0, [Math]::Ceiling(($Until - (Get-Date)).TotalSeconds)) }

function Wait-Status($Service, [string]$Status, [datetime]$Until) {
    try { $Service.WaitForStatus($Status, [TimeSpan]::FromSeconds((Get-SecondsLeft $Until))); return $true }
    catch {
        if ($_.Exception.GetBaseException() -is [System.ServiceProcess.TimeoutException]) { return $false }
        throw
    }
}

# Other services living in the same process (svchost -k groups): killing it would take them down too.
function Get-ProcessSharers([int]$ProcessId, [string]$Except) {
    return @(Get-CimInstance -ClassName Win32_Service -Filter "ProcessId=$ProcessId" | Where-Object { $_.Name -ne $Except } | ForEach-Object { $_.Name })
}

# Stop within the budget; kill the service's own process if it hangs. Returns whether it killed.
function Stop-WithinBudget($Service) {
    $Service.Refresh()
    if ($Service.Status -eq 'Stopped') { return $false }
    if ($Service.Status -in @('StartPending', 'ContinuePending')) { $null = Wait-Status $Service 'Running' $deadline; $Service.Refresh() }
    if ($Service.Status -ne 'StopPending') { $Service.Stop() }
    if (Wait-Status $Service 'Stopped' $deadline) { return $false }
    $serviceName = $Service.ServiceName
    $processId = [int](Get-CimInstance -ClassName Win32_Service -Filter "Name='$($serviceName -replace "'", "''")'").ProcessId
    if ($processId -le 0) { throw "$serviceName did not stop within $TimeoutSec s and has no process to kill" }
    $sharers = Get-ProcessSharers $processId $serviceName
    if ($sharers.Count) { throw "$serviceName did not stop within $TimeoutSec s; its process $processId also hosts $($sharers -join ', '), so it was not killed" }
    Stop-Process -Id $processId -Force
    if (-not (Wait-Status $Service 'Stopped' $finalDeadline)) { throw "$serviceName did not stop, even after its process $processId was killed" }
    return $true
}

function Start-WithinBudget($Service, [datetime]$Until) {
    $Service.Refresh()
    if ($Service.Status -eq 'Running') { return }
    if ($Service.Status -eq 'Paused') { $Service.Continue() }
    elseif ($Service.Status -ne 'StartPending') { $Service.Start() }
    if (-not (Wait-Status $Service 'Running' $Until)) { throw "$($Service.ServiceName) did not reach Running within $TimeoutSec s" }
}

# After a failure: start again whatever ran before; say what could not be.
function Restore-Running([object[]]$Services) {
    $problems = @()
    foreach ($service in $Services) {
        try { Start-WithinBudget $service $finalDeadline }
        catch { $problems += $_.Exception.Message }
    }
    if ($problems.Count) { return "; could not start again: $($problems -join '; ')" }
    return "; every service that ran before runs again"
}

$service = Get-Service -Name $Name
$dependents = @($service.DependentServices)
$running = @(@($service) + $dependents | Where-Object { $_.Status -in @('Running', 'StartPending', 'ContinuePending') })
$restart = @($dependents | Where-Object { $running -contains $_ })
$killed = $false
try {
    if ($Action -ne 'start') {
        # DependentServices lists indirect dependents too, in an order that is safe to stop in
        foreach ($dependent in $dependents) { if (Stop-WithinBudget $dependent) { $killed = $true } }
        if (Stop-WithinBudget $service) { $killed = $true }
    }
    if ($Action -ne 'stop') {
        Start-WithinBudget $service $deadline
        for ($i = $restart.Count - 1; $i -ge 0; $i--) { Start-WithinBudget $restart[$i] $deadline }
    }
}
catch {
    $problem = $_.Exception.Message
    throw "$problem$(Restore-Running $running)"
}
$service.Refresh()
$expected = 'Running'
if ($Action -eq 'stop') { $expected = 'Stopped' }
if ("$($service.Status)" -ne $expected) { throw "$Name is $($service.Status), expected $expected" }
return [ordered]@{ name = $Name; status = "$($service.Status)"; dependents = @($dependents | ForEach-Object { $_.ServiceName }); killed = $killed }
