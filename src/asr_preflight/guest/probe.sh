#!/bin/sh
# asr-preflight guest probe for Linux VMs without Python 3.6 or later: POSIX sh, openssl and the
# usual base tools (awk, sed, grep, tr, sort; gzip and base64 when present). It writes the same
# guest facts as probe.py (schema asr-preflight/guest-facts, version 1), fewer of them: the OS,
# the guest agent, which of the root certificates ASR's checks know the trust store holds, TLS
# to the endpoints through the VM's proxy, the proxy, and GRUB naming devices instead of UUIDs.
# It prints one line: the facts, compressed and base64-encoded (or plain JSON without gzip).
# Every network step has a time limit; only regular files are read. --root DIR reads the files
# below DIR instead of / (tests, a mounted disk image).
set -u
PROBE_VERSION="1.0-sh"

# --- knowledge (copied from asr_preflight/knowledge/data; a test keeps it equal) -------------
KNOWN_ROOTS="df3c24f9bfd666761b268073fe06d1cc8d4f82a4 7e04de896a3e666d00e687d33ffad93be83d349e
a8985d3a65e5e5c4b2d7d66d40c6dd2fb19c5436 73a5e64a3bff8316ff0edccc618a906e4eae4d74
999a64c37ff47d9fab95f14769891460eec4c3c5 d4de20d05e66fc53fe1a50882c78db2852cae474
58e8abb0361533fb80f79b1b6d29d3ff8d5f00f0 4eb6d578499b1ccf5f581ead56be3d9b6744a5e5"
TRUST_STORES="/etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt
/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem /etc/ssl/ca-bundle.pem
/var/lib/ca-certificates/ca-bundle.pem"
TRUST_DIR="/etc/ssl/certs"
GRUB_FILES="/boot/grub/grub.cfg /boot/grub2/grub.cfg /etc/default/grub /boot/grub/menu.lst"
AGENT_FILES="/usr/sbin/waagent /usr/bin/waagent /usr/lib/systemd/system/waagent.service
/lib/systemd/system/waagent.service /lib/systemd/system/walinuxagent.service
/usr/lib/systemd/system/walinuxagent.service /etc/init.d/waagent /etc/init.d/walinuxagent"
PROXYINFO="/usr/local/InMage/config/ProxyInfo.conf"

ROOT="" VM_ID="" VM_NAME="" CLOUD="AzureCloud" SOURCE="" TARGET="" CACHE="" PROXY=""
TIMEOUT=10 ENDPOINTS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2%/}; shift ;;
    --vm-id) VM_ID=$2; shift ;;
    --vm-name) VM_NAME=$2; shift ;;
    --cloud) CLOUD=$2; shift ;;
    --source-region) SOURCE=$2; shift ;;
    --target-region) TARGET=$2; shift ;;
    --cache-account) CACHE=$2; shift ;;
    --proxy) PROXY=$2; shift ;;
    --timeout) TIMEOUT=${2%%.*}; shift ;;
    --endpoint) ENDPOINTS="$ENDPOINTS $2"; shift ;;
    --compact | -q | --quiet | --no-imds | --no-revocation) ;;
    --deadline | --imds | --revocation-host) shift ;;  # probe.py's; each step has --timeout
    *) echo "probe.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/asr-probe.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
ERRORS=""

json_str() {  # a JSON string, control characters dropped
  printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}
json_or_null() { if [ -n "$1" ]; then json_str "$1"; else printf 'null'; fi; }
error() {  # scope, path, message
  ERRORS="$ERRORS${ERRORS:+,}{\"scope\":$(json_str "$1"),\"path\":$(json_or_null "$2"),\"message\":$(json_str "$3")}"
}

# Where a guest path is on this machine: below --root, following links as if --root were /.
resolve() {
  if [ -z "$ROOT" ]; then printf '%s\n' "$1"; return; fi
  rest=${1#/} cur="" hops=0
  while [ -n "$rest" ]; do
    part=${rest%%/*}
    case "$rest" in */*) rest=${rest#*/} ;; *) rest="" ;; esac
    if [ -z "$part" ] || [ "$part" = "." ]; then continue; fi
    if [ "$part" = ".." ]; then cur=${cur%/*}; continue; fi
    cur="$cur/$part"
    if [ -L "$ROOT$cur" ] && [ "$hops" -lt 40 ]; then
      hops=$((hops + 1))
      link=$(readlink "$ROOT$cur")
      case "$link" in
        /*) cur="" rest="${link#/}${rest:+/$rest}" ;;
        *) cur=${cur%/*} rest="$link${rest:+/$rest}" ;;
      esac
    fi
  done
  printf '%s\n' "$ROOT$cur"
}

regular() { [ -f "$1" ] && [ ! -p "$1" ] && [ ! -c "$1" ] && [ ! -b "$1" ]; }

limited() {  # seconds, command...: never longer than that
  secs=$1; shift
  if command -v timeout >/dev/null 2>&1; then timeout "$secs" "$@"; return; fi
  "$@" &
  child=$!
  ( sleep "$secs"; kill "$child" 2>/dev/null ) &
  watcher=$!
  wait "$child"
  status=$?
  kill "$watcher" 2>/dev/null
  return $status
}

# --- OS and agent ------------------------------------------------------------------------------
os_value() {
  sed -n "s/^$1=//p" "$2" | head -n 1 | sed -e 's/^"//' -e 's/"$//' -e "s/^'//" -e "s/'$//"
}
OS_RELEASE=$(resolve /etc/os-release)
DISTRO="" VERSION="" PRETTY=""
if regular "$OS_RELEASE"; then
  DISTRO=$(os_value ID "$OS_RELEASE" | tr '[:upper:]' '[:lower:]')
  VERSION=$(os_value VERSION_ID "$OS_RELEASE")
  PRETTY=$(os_value PRETTY_NAME "$OS_RELEASE")
else
  error os /etc/os-release "not found"
fi
case "$DISTRO" in ol) DISTRO=oracle ;; almalinux) DISTRO=alma ;; sles_sap) DISTRO=sles ;; esac

AGENT_PRESENT=false
for file in $AGENT_FILES; do
  if [ -e "$(resolve "$file")" ]; then AGENT_PRESENT=true; fi
done
AGENT_RUNNING=null
if [ -d "$ROOT/proc/1" ]; then
  AGENT_RUNNING=false
  for cmdline in "$ROOT"/proc/[0-9]*/cmdline; do
    if regular "$cmdline" && tr '\000' ' ' <"$cmdline" 2>/dev/null | grep -q -e waagent -e WALinuxAgent; then
      AGENT_RUNNING=true
      break
    fi
  done
fi

# --- trusted roots -----------------------------------------------------------------------------
thumbprints() {  # the SHA-1 of every certificate in a PEM file, lower-case hex
  rm -f "$WORK"/c*.pem
  awk -v dir="$WORK" '
    /-----BEGIN (TRUSTED |X509 )?CERTIFICATE-----/ { n++; file = dir "/c" n ".pem"; inside = 1 }
    inside { print > file }
    /-----END (TRUSTED |X509 )?CERTIFICATE-----/ { inside = 0; close(file) }
  ' "$1" 2>/dev/null
  for cert in "$WORK"/c*.pem; do
    [ -f "$cert" ] || continue
    openssl x509 -noout -fingerprint -sha1 -in "$cert" 2>/dev/null
  done | sed -n 's/^.*[Ff]ingerprint=//p' | tr -d ':' | tr 'A-F' 'a-f'
}
CA_FILE="" STORES=""
: >"$WORK/roots"
if command -v openssl >/dev/null 2>&1; then
  for store in $TRUST_STORES; do
    file=$(resolve "$store")
    if regular "$file"; then
      thumbprints "$file" >>"$WORK/roots"
      STORES="$STORES${STORES:+,}$(json_str "$store")"
      [ -n "$CA_FILE" ] || CA_FILE=$file
    fi
  done
  dir=$(resolve "$TRUST_DIR")
  if [ -d "$dir" ]; then
    for file in "$dir"/*; do
      case "${file##*/}" in *.pem | *.crt | *.cer | [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].[0-9]*) ;; *) continue ;; esac
      target=$(resolve "$TRUST_DIR/${file##*/}")
      regular "$target" && thumbprints "$target" >>"$WORK/roots"
    done
    STORES="$STORES${STORES:+,}$(json_str "$TRUST_DIR")"
  fi
else
  error trusted_roots "" "openssl is not installed: the trust store cannot be read"
fi
sort -u "$WORK/roots" -o "$WORK/roots"
COUNT=$(wc -l <"$WORK/roots" | tr -d ' ')
KNOWN=""
for sha1 in $KNOWN_ROOTS; do
  if grep -qx "$sha1" "$WORK/roots"; then KNOWN="$KNOWN${KNOWN:+,}\"$sha1\""; fi
done
if [ "$COUNT" -gt 0 ]; then
  ROOTS="{\"stores\":[$STORES],\"count\":$COUNT,\"sha1\":[$KNOWN],\"known_only\":true}"
else
  ROOTS=null
  error trusted_roots "" "no trusted certificates could be read"
fi

# --- proxy -------------------------------------------------------------------------------------
PROXY_SOURCE=""
if [ -n "$PROXY" ]; then
  PROXY_SOURCE="option"
else
  info=$(resolve "$PROXYINFO")
  if regular "$info"; then
    address=$(sed -n 's/^[[:space:]]*Address[[:space:]]*=[[:space:]]*//p' "$info" | head -n 1 | tr -d '\r')
    port=$(sed -n 's/^[[:space:]]*Port[[:space:]]*=[[:space:]]*//p' "$info" | head -n 1 | tr -d '\r')
    if [ -n "$address" ]; then
      PROXY="${address#http://}${port:+:$port}"
      PROXY_SOURCE="ProxyInfo.conf"
    fi
  fi
  if [ -z "$PROXY" ]; then
    PROXY=${https_proxy:-${HTTPS_PROXY:-}}
    [ -z "$PROXY" ] || PROXY_SOURCE="environment"
  fi
fi
PROXY_HOST=${PROXY#*://}
PROXY_HOST=${PROXY_HOST##*@}  # credentials are never kept, nor printed
PROXY_HOST=${PROXY_HOST%%/*}
PROXY_AUTH=null

# --- endpoints ---------------------------------------------------------------------------------
if [ -z "$ENDPOINTS" ]; then
  case "$CLOUD" in
    AzureUSGovernment) identity=login.microsoftonline.us storage=blob.core.usgovcloudapi.net ;;
    AzureChinaCloud) identity=login.chinacloudapi.cn storage=blob.core.chinacloudapi.cn ;;
    *) identity=login.microsoftonline.com storage=blob.core.windows.net ;;
  esac
  ENDPOINTS="$identity:443"
  [ -z "$CACHE" ] || ENDPOINTS="$ENDPOINTS $CACHE.$storage:443"
fi
RESULTS=""
for endpoint in $ENDPOINTS; do
  host=${endpoint%:*} port=${endpoint##*:}
  [ "$host" != "$endpoint" ] || port=443
  resolved=null connected=false verified=null message=""
  if [ -z "$PROXY_HOST" ] && command -v getent >/dev/null 2>&1; then
    if getent hosts "$host" >/dev/null 2>&1; then resolved=true; else resolved=false message="DNS: $host did not resolve"; fi
  fi
  if [ "$resolved" != false ]; then
    set -- -connect "$host:$port" -servername "$host"
    [ -z "$CA_FILE" ] || set -- "$@" -CAfile "$CA_FILE"
    [ -z "$PROXY_HOST" ] || set -- "$@" -proxy "$PROXY_HOST"
    out=$(limited "$TIMEOUT" openssl s_client "$@" </dev/null 2>&1)
    case "$out" in *CONNECTED*) connected=true ;; esac
    case "$out" in *" 407"*) PROXY_AUTH=true connected=false message="the proxy asks for credentials (407)" ;; esac
    code=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*Verify return code: \([0-9]*\).*/\1/p' | head -n 1)
    if [ "$code" = 0 ]; then
      verified=true
    elif [ -n "$code" ]; then
      verified=false
      message="certificate verify failed: $(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*Verify return code: [0-9]* (\(.*\))/\1/p' | head -n 1)"
    elif [ "$connected" = false ] && [ -z "$message" ]; then
      message=$(printf '%s\n' "$out" | grep -v '^$' | tail -n 1 | cut -c1-200)
      [ -n "$message" ] || message="no answer within $TIMEOUT s"
    fi
    if [ -n "$PROXY_HOST" ] && [ "$connected" = true ] && [ "$PROXY_AUTH" = null ]; then PROXY_AUTH=false; fi
  fi
  RESULTS="$RESULTS${RESULTS:+,}{\"host\":$(json_str "$host"),\"port\":$port,\"resolved\":$resolved,\"connected\":$connected,\"tls_verified\":$verified,\"error\":$(json_or_null "$message")}"
done
if [ -n "$PROXY_HOST" ]; then
  PROXY_FACTS="{\"url\":$(json_str "http://$PROXY_HOST"),\"source\":$(json_str "$PROXY_SOURCE"),\"authenticated\":$PROXY_AUTH}"
else
  PROXY_FACTS="{\"url\":null,\"source\":null,\"authenticated\":null}"
fi

# --- GRUB ----------------------------------------------------------------------------------------
GRUB="" VOLUMES=""
as_json_list() { awk '{ printf "%s\"%s\"", (NR > 1 ? "," : ""), $0 }'; }
for path in $GRUB_FILES; do
  file=$(resolve "$path")
  [ -e "$file" ] || continue
  if regular "$file" && [ -r "$file" ]; then
    grep -v '^[[:space:]]*#' "$file" >"$WORK/grub" 2>/dev/null
    refs=$(grep -o -E '(^|[^A-Za-z0-9_.])(root|resume)=/dev/(sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme[0-9]+n[0-9]+)(p?[0-9]+)?' "$WORK/grub" \
      | sed 's/^[^a-z]*//' | sort -u | as_json_list)
    grep -o -E '(^|[^A-Za-z0-9_.])(rd\.lvm\.lv|rd_LVM_LV)=[^[:space:]"'"'"']+' "$WORK/grub" \
      | sed 's/^.*=//' >>"$WORK/volumes"
    GRUB="$GRUB${GRUB:+,}{\"path\":$(json_str "$path"),\"readable\":true,\"device_refs\":[$refs]}"
  else
    GRUB="$GRUB${GRUB:+,}{\"path\":$(json_str "$path"),\"readable\":false,\"device_refs\":[]}"
    error grub "$path" "not a readable regular file"
  fi
done

if [ -f "$WORK/volumes" ]; then
  sort -u "$WORK/volumes" >"$WORK/volumes.sorted"
  while IFS= read -r volume; do
    group=${volume%%/*} name=${volume#*/}
    exists=null
    if [ "$name" != "$volume" ] && [ -n "$name" ]; then
      mapper="/dev/mapper/$(printf '%s' "$group" | sed 's/-/--/g')-$(printf '%s' "$name" | sed 's/-/--/g')"
      exists=false
      if [ -e "$(resolve "/dev/$group/$name")" ] || [ -e "$(resolve "$mapper")" ]; then exists=true; fi
    fi
    VOLUMES="$VOLUMES${VOLUMES:+,}{\"volume\":$(json_str "$volume"),\"exists\":$exists}"
  done <"$WORK/volumes.sorted"
fi

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
FACTS="{\"schema\":\"asr-preflight/guest-facts\",\"version\":1,\"collected_at\":\"$NOW\",\
\"probe\":{\"version\":\"$PROBE_VERSION\",\"shell\":\"sh\",\"cloud\":$(json_str "$CLOUD"),\
\"source_region\":$(json_or_null "$SOURCE"),\"target_region\":$(json_or_null "$TARGET"),\"root\":$(json_or_null "$ROOT")},\
\"vm\":{\"vm_id\":$(json_or_null "$VM_ID"),\"name\":$(json_or_null "$VM_NAME")},\
\"os\":{\"family\":\"linux\",\"distro_id\":$(json_or_null "$DISTRO"),\"version\":$(json_or_null "$VERSION"),\"pretty_name\":$(json_or_null "$PRETTY")},\
\"agent\":{\"present\":$AGENT_PRESENT,\"running\":$AGENT_RUNNING},\
\"trusted_roots\":$ROOTS,\"endpoints\":[$RESULTS],\"proxy\":$PROXY_FACTS,\
\"grub\":{\"files\":[$GRUB],\"lvm_volumes\":[$VOLUMES]},\"errors\":[$ERRORS]}"

if command -v gzip >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then
  printf 'asr-preflight-facts/1 %s\n' "$(printf '%s' "$FACTS" | gzip -9 -c | base64 | tr -d '\n')"
else
  printf 'asr-preflight-facts-json/1 %s\n' "$FACTS"
fi
