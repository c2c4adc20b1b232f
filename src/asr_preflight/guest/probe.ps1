# asr-preflight guest probe for Windows VMs (Windows PowerShell 5.1, no Python needed).
# It writes the same guest facts as probe.py (schema asr-preflight/guest-facts, version 1): the
# OS, the guest agent, which of the root certificates ASR's checks know the LocalMachine Root
# store holds, TLS to the endpoints through the VM's proxy (ASR's ProxyInfo.conf, else WinHTTP,
# else the machine-wide WinINET settings), whether that proxy asks for credentials, and the start
# modes of the COM+ System Application, Volume Shadow Copy and Storage Replica services.
# It prints one line: the facts, gzip-compressed and base64-encoded. It reads and connects only;
# every connection has a time limit.
param(
    [string]$VmId = '',
    [string]$VmName = '',
    [string]$Cloud = 'AzureCloud',
    [string]$SourceRegion = '',
    [string]$TargetRegion = '',
    [string]$CacheAccount = '',
    [string[]]$Endpoint = @(),
    [int]$TimeoutSeconds = 10
)
$ErrorActionPreference = 'Continue'
$ProbeVersion = '1.0-ps'
# certificates.toml [[root_ca]] (a test keeps this list equal to probe.py's)
$KnownRoots = @(
    'df3c24f9bfd666761b268073fe06d1cc8d4f82a4', '7e04de896a3e666d00e687d33ffad93be83d349e',
    'a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436', '73a5e64a3bff8316ff0edccc618a906e4eae4d74',
    '999a64c37ff47d9fab95f14769891460eec4c3c5', 'd4de20d05e66fc53fe1a50882c78db2852cae474',
    '58e8abb0361533fb80f79b1b6d29d3ff8d5f00f0', '4eb6d578499b1ccf5f581ead56be3d9b6744a5e5'
)
$Services = @('COMSysApp', 'VSS', 'StorageReplica')
$StartTypes = @{ 0 = 'boot'; 1 = 'system'; 2 = 'auto'; 3 = 'demand'; 4 = 'disabled' }
$ProxyInfo = 'C:\ProgramData\Microsoft Azure Site Recovery\Config\ProxyInfo.conf'
$Errors = New-Object System.Collections.ArrayList

function Add-ProbeError([string]$Scope, [string]$Message) {
    [void]$Errors.Add([ordered]@{ scope = $Scope; path = $null; message = $Message })
}

# --- OS and agent --------------------------------------------------------------------------
$os = [ordered]@{ family = 'windows'; distro_id = 'windows'; version = $null; pretty_name = $null }
try {
    $nt = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction Stop
    $os.pretty_name = $nt.ProductName
    if ($nt.CurrentMajorVersionNumber -ne $null) {
        $os.version = '{0}.{1}.{2}' -f $nt.CurrentMajorVersionNumber, $nt.CurrentMinorVersionNumber, $nt.CurrentBuild
    } else {
        $os.version = '{0}.{1}' -f $nt.CurrentVersion, $nt.CurrentBuild
    }
} catch { Add-ProbeError 'os' $_.Exception.Message }
$agentService = Get-Service -Name 'WindowsAzureGuestAgent' -ErrorAction SilentlyContinue
$agent = [ordered]@{ present = ($agentService -ne $null); running = $null }
if ($agentService -ne $null) { $agent.running = ($agentService.Status -eq 'Running') }

# --- trusted roots -------------------------------------------------------------------------
$roots = $null
try {
    $all = @(Get-ChildItem -Path 'Cert:\LocalMachine\Root' -ErrorAction Stop | ForEach-Object { $_.Thumbprint.ToLower() })
    $known = @($all | Where-Object { $KnownRoots -contains $_ } | Sort-Object -Unique)
    $roots = [ordered]@{ stores = @('LocalMachine\Root'); count = $all.Count; sha1 = $known; known_only = $true }
} catch { Add-ProbeError 'trusted_roots' $_.Exception.Message }

# --- services --------------------------------------------------------------------------------
$serviceFacts = @()
foreach ($name in $Services) {
    $key = Get-ItemProperty "HKLM:\SYSTEM\CurrentControlSet\Services\$name" -ErrorAction SilentlyContinue
    $start = 'missing'
    if ($key -ne $null -and $key.Start -ne $null) { $start = $StartTypes[[int]$key.Start] }
    $serviceFacts += [ordered]@{ name = $name; start_type = $start }
}

# --- proxy: ASR's own setting, else WinHTTP, else machine-wide WinINET ------------------------
function Get-WinHttpProxy {
    $value = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections' -ErrorAction SilentlyContinue).WinHttpSettings
    if ($value -eq $null -or $value.Length -lt 16) { return $null }
    $flags = [BitConverter]::ToInt32($value, 8)
    $length = [BitConverter]::ToInt32($value, 12)
    if (($flags -band 2) -eq 0 -or $length -le 0) { return $null }
    return [Text.Encoding]::ASCII.GetString($value, 16, $length)
}
function Get-MachineWinInetProxy {
    $policy = Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings' -ErrorAction SilentlyContinue
    if ($policy -eq $null -or $policy.ProxySettingsPerUser -ne 0) { return $null }
    $settings = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings' -ErrorAction SilentlyContinue
    if ($settings -eq $null -or $settings.ProxyEnable -ne 1) { return $null }
    return $settings.ProxyServer
}
$proxy = $null; $proxySource = $null
if (Test-Path -LiteralPath $ProxyInfo -PathType Leaf) {
    $lines = Get-Content -LiteralPath $ProxyInfo -ErrorAction SilentlyContinue
    $address = ($lines | Where-Object { $_ -match '^\s*Address\s*=' } | Select-Object -First 1) -replace '^\s*Address\s*=\s*', ''
    $port = ($lines | Where-Object { $_ -match '^\s*Port\s*=' } | Select-Object -First 1) -replace '^\s*Port\s*=\s*', ''
    if ($address) { $proxy = ($address -replace '^https?://', '') + $(if ($port) { ":$port" } else { '' }); $proxySource = 'ProxyInfo.conf' }
}
if ($proxy -eq $null) { $proxy = Get-WinHttpProxy; if ($proxy) { $proxySource = 'WinHTTP' } }
if ($proxy -eq $null) { $proxy = Get-MachineWinInetProxy; if ($proxy) { $proxySource = 'WinINET (machine)' } }
if ($proxy) {
    # "http=host:port;https=host:port" lists: the https entry; credentials are never kept
    $entries = $proxy -split ';'
    $https = $entries | Where-Object { $_ -like 'https=*' } | Select-Object -First 1
    if ($https) { $proxy = $https.Substring(6) } else { $proxy = ($entries[0] -replace '^[a-z]+=', '') }
    $proxy = ($proxy -replace '^https?://', '') -replace '^[^@]*@', ''
}
$proxyAuthenticated = $null

# --- endpoints -------------------------------------------------------------------------------
if ($Endpoint.Count -eq 0) {
    switch ($Cloud) {
        'AzureUSGovernment' { $identity = 'login.microsoftonline.us'; $storage = 'blob.core.usgovcloudapi.net' }
        'AzureChinaCloud' { $identity = 'login.chinacloudapi.cn'; $storage = 'blob.core.chinacloudapi.cn' }
        default { $identity = 'login.microsoftonline.com'; $storage = 'blob.core.windows.net' }
    }
    $Endpoint = @("${identity}:443")
    if ($CacheAccount) { $Endpoint += "$CacheAccount.${storage}:443" }
}
$script:PolicyErrors = $null
$callback = [System.Net.Security.RemoteCertificateValidationCallback] {
    param($sender, $certificate, $chain, $errors)
    $script:PolicyErrors = $errors
    return $true  # decided below, from the errors, so the answer can be recorded
}
function Connect-Tcp([string]$HostName, [int]$Port) {
    $client = New-Object System.Net.Sockets.TcpClient
    $pending = $client.BeginConnect($HostName, $Port, $null, $null)
    if (-not $pending.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) { $client.Close(); throw "no answer within $TimeoutSeconds s" }
    $client.EndConnect($pending)
    $client.ReceiveTimeout = $TimeoutSeconds * 1000
    $client.SendTimeout = $TimeoutSeconds * 1000
    return $client
}
$results = @()
foreach ($item in $Endpoint) {
    $hostName, $portText = $item -split ':'
    $port = 443; if ($portText) { $port = [int]$portText }
    $result = [ordered]@{ host = $hostName; port = $port; resolved = $null; connected = $false; tls_verified = $null; error = $null }
    try {
        if (-not $proxy) {
            try { [void][System.Net.Dns]::GetHostAddresses($hostName); $result.resolved = $true }
            catch { $result.resolved = $false; throw "DNS: $hostName did not resolve" }
            $client = Connect-Tcp $hostName $port
        } else {
            $proxyHost, $proxyPort = $proxy -split ':'
            if (-not $proxyPort) { $proxyPort = 80 }
            $client = Connect-Tcp $proxyHost ([int]$proxyPort)
            $stream = $client.GetStream()
            $request = [Text.Encoding]::ASCII.GetBytes("CONNECT ${hostName}:$port HTTP/1.1`r`nHost: ${hostName}:$port`r`n`r`n")
            $stream.Write($request, 0, $request.Length)
            $reader = New-Object System.IO.StreamReader($stream, [Text.Encoding]::ASCII)
            $status = $reader.ReadLine()
            while (($line = $reader.ReadLine()) -ne $null -and $line -ne '') { }
            if ($status -match ' 407 ') { $proxyAuthenticated = $true; $client.Close(); throw 'the proxy asks for credentials (407)' }
            if ($status -notmatch ' 200 ') { $client.Close(); throw "the proxy answered: $status" }
            if ($proxyAuthenticated -eq $null) { $proxyAuthenticated = $false }
        }
        $result.connected = $true
        $script:PolicyErrors = $null
        $ssl = New-Object System.Net.Security.SslStream($client.GetStream(), $false, $callback)
        $ssl.AuthenticateAsClient($hostName)
        $result.tls_verified = ($script:PolicyErrors -eq [System.Net.Security.SslPolicyErrors]::None)
        if (-not $result.tls_verified) { $result.error = "certificate verify failed: $($script:PolicyErrors)" }
        $ssl.Close(); $client.Close()
    } catch {
        if ($result.error -eq $null) { $result.error = $_.Exception.Message }
    }
    $results += $result
}
$proxyFacts = [ordered]@{ url = $null; source = $null; authenticated = $null }
if ($proxy) { $proxyFacts = [ordered]@{ url = "http://$proxy"; source = $proxySource; authenticated = $proxyAuthenticated } }

$facts = [ordered]@{
    schema = 'asr-preflight/guest-facts'; version = 1
    collected_at = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    probe = [ordered]@{ version = $ProbeVersion; shell = 'powershell'; powershell = $PSVersionTable.PSVersion.ToString(); cloud = $Cloud; source_region = $SourceRegion; target_region = $TargetRegion }
    vm = [ordered]@{ vm_id = $VmId; name = $VmName }
    os = $os; agent = $agent; trusted_roots = $roots; endpoints = $results; proxy = $proxyFacts
    services = $serviceFacts; errors = @($Errors)
}
$json = $facts | ConvertTo-Json -Depth 6 -Compress
$buffer = New-Object System.IO.MemoryStream
$gzip = New-Object System.IO.Compression.GZipStream($buffer, [System.IO.Compression.CompressionMode]::Compress)
$bytes = [Text.Encoding]::UTF8.GetBytes($json)
$gzip.Write($bytes, 0, $bytes.Length)
$gzip.Close()
Write-Output ('asr-preflight-facts/1 ' + [Convert]::ToBase64String($buffer.ToArray()))
