#!/usr/bin/env bash
# src/local/net.sh: the network the end-to-end hosts boot into (../shared/notes/local-boot.md).
#
#   net.sh up [--lab K] [--acme] [--admin ADDR] HOST[@PRIVATE_ADDR/PREFIX][+forward] ...
#   net.sh down [--lab K]
#   net.sh show [--lab K]
#
# Lab K (0-255, default 0) is made of network namespaces named studyhost-e2e-K-*:
#   - "inet", the internet: a bridge br0 at 10.231.K.1/24 that every host's public interface (eth0,
#     10.231.K.11, .12, ...) is plugged into, and an uplink to the root namespace (root 10.230.K.1/30,
#     inet 10.230.K.2/30). The root namespace routes 10.231.K.0/24 to it and masquerades it out of the
#     machine's default-route interface (nft table `ip studyhost-e2e-K`), with ip_forward on, so the hosts
#     reach the Debian mirror (and the machine's resolver) for apt. --admin ADDR puts ADDR (e.g.
#     203.0.113.10) on the internet side too: connections from it stand for an allowed admin address.
#   - one namespace per HOST; with @PRIVATE_ADDR/PREFIX also a private interface eth1 on a bridge in a
#     separate namespace "vpc" (the cloud's private network: neither the internet nor the root namespace
#     can reach it). +forward turns ip_forward on inside the host (what Docker needs).
#   - with --acme, Pebble (ACME at https://10.231.K.1:14000/dir, its roots at https://10.231.K.1:15000/roots/0)
#     and pebble-challtestsrv (DNS for Pebble, every name answering the first host's address; its
#     management API at http://10.230.K.2:8055 to add others) run in the internet namespace, with a CA
#     made here for Pebble's own HTTPS endpoint (acme-ca.pem: what certbot must trust).
# `up` prints the lab as JSON (also kept in /run/studyhost-e2e/lab-K/net.json); a lab left over from
# an earlier run is torn down first. `down` stops Pebble, removes the namespaces and the nft table, and
# restores ip_forward once no lab is left.
set -euo pipefail

RUN=/run/studyhost-e2e
die() { echo "net.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f s", b - a }'; }

lab=0
acme=0
admin=""
cmd=${1:-}
[ -n "$cmd" ] && shift
hosts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lab) lab=$2; shift 2 ;;
    --acme) acme=1; shift ;;
    --admin) admin=$2; shift 2 ;;
    -*) die "unknown option $1" ;;
    *) hosts+=("$1"); shift ;;
  esac
done
if ! [[ "$lab" =~ ^[0-9]+$ ]] || [ "$lab" -gt 255 ]; then die "--lab takes 0 to 255"; fi

prefix="studyhost-e2e-$lab-"
inet="${prefix}inet"
vpc="${prefix}vpc"
uplink="she2e-$lab"
table="studyhost-e2e-$lab"
state="$RUN/lab-$lab"
gateway="10.231.$lab.1"
uplink_root="10.230.$lab.1"
uplink_inet="10.230.$lab.2"

down() {
  local f pid name ns left
  if [ -d "$state/pids" ]; then
    for f in "$state"/pids/*.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      name=$(basename "$f" .pid)
      # Only the process this lab started: same pid and still the same program.
      if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "${name:0:15}" ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
        if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      fi
    done
  fi
  for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do
    left=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    [ -z "$left" ] || echo "net.sh: processes still in $ns (not stopped here): $left" >&2
    ip netns del "$ns"
  done
  ip link del "$uplink" 2>/dev/null || true
  nft delete table ip "$table" 2>/dev/null || true
  rm -rf "$state"
  if [ -f "$RUN/ip_forward.orig" ] && ! compgen -G "$RUN/lab-*" >/dev/null; then
    sysctl -q -w net.ipv4.ip_forward="$(cat "$RUN/ip_forward.orig")"
    rm -f "$RUN/ip_forward.orig"
  fi
}

# Pebble's HTTPS endpoint needs a certificate for its address: a throwaway CA and leaf, made here.
acme_certs() {
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=studyhost e2e ACME endpoint CA" \
    -keyout "$d/acme-ca.key" -out "$d/acme-ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$gateway" -keyout "$d/acme-key.pem" -out "$d/acme.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,IP:%s\nextendedKeyUsage=serverAuth\n' "$gateway" "$uplink_inet" >"$d/acme.ext"
  openssl x509 -req -in "$d/acme.csr" -CA "$d/acme-ca.pem" -CAkey "$d/acme-ca.key" -CAcreateserial -days 7 \
    -extfile "$d/acme.ext" -out "$d/acme-cert.pem" 2>/dev/null
}

# Starts PROGRAM in the internet namespace, in its own session, logging to $state/NAME.log.
start_daemon() {
  local name=$1
  shift
  # `ip netns exec` and setsid both exec: $! is the daemon's own pid.
  setsid ip netns exec "$inet" "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name.pid"
}

wait_for() {
  local what=$1 log=$2
  shift 2
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  cat "$log" >&2
  die "$what did not come up"
}

up() {
  local t dev i spec name rest priv fwd ns addr first="" json_hosts="" sep=""
  t=$(now)
  [ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, nft, sysctl)"
  for tool in ip nft sysctl; do command -v "$tool" >/dev/null || die "$tool is missing"; done
  [ "${#hosts[@]}" -gt 0 ] || die "no host given"
  [ "$acme" = 0 ] || for tool in pebble pebble-challtestsrv openssl curl; do command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y pebble openssl curl)"; done
  down
  dev=$(ip -4 route show default | awk '{ for (i = 1; i <= NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
  [ -n "$dev" ] || die "no IPv4 default route to masquerade the hosts' traffic out of"
  mkdir -p "$state/pids"
  [ -f "$RUN/ip_forward.orig" ] || sysctl -n net.ipv4.ip_forward >"$RUN/ip_forward.orig"

  # The internet, and its uplink to the machine.
  ip netns add "$inet"
  ip -n "$inet" link set lo up
  ip -n "$inet" link add br0 type bridge
  ip -n "$inet" addr add "$gateway/24" dev br0
  [ -z "$admin" ] || ip -n "$inet" addr add "$admin/32" dev br0
  ip -n "$inet" link set br0 up
  ip link add "$uplink" type veth peer name up0 netns "$inet"
  ip addr add "$uplink_root/30" dev "$uplink"
  ip link set "$uplink" up
  ip -n "$inet" addr add "$uplink_inet/30" dev up0
  ip -n "$inet" link set up0 up
  ip -n "$inet" route add default via "$uplink_root"
  ip netns exec "$inet" sysctl -q -w net.ipv4.ip_forward=1
  ip route add "10.231.$lab.0/24" via "$uplink_inet" dev "$uplink"
  sysctl -q -w net.ipv4.ip_forward=1
  nft -f - <<EOF
table ip $table {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.231.$lab.0/24 oifname "$dev" masquerade
  }
}
EOF

  # The hosts.
  i=0
  for spec in "${hosts[@]}"; do
    name=${spec%%[@+]*}
    rest=${spec#"$name"}
    priv=""; fwd=false
    case "$rest" in *+forward) fwd=true; rest=${rest%+forward} ;; esac
    case "$rest" in @*) priv=${rest#@} ;; "") ;; *) die "cannot read host spec $spec" ;; esac
    [[ "$name" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "bad host name $name"
    [ -z "$priv" ] || [[ "$priv" =~ ^[0-9.]+/[0-9]+$ ]] || die "private address $priv: expected ADDR/PREFIX"
    i=$((i + 1))
    ns="$prefix$name"
    addr="10.231.$lab.$((10 + i))"
    [ -n "$first" ] || first=$addr
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "h$i" netns "$inet"
    ip -n "$inet" link set "h$i" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$gateway"
    if [ -n "$priv" ]; then
      if ! ip netns list | grep -q "^$vpc\b"; then
        ip netns add "$vpc"
        ip -n "$vpc" link add br0 type bridge
        ip -n "$vpc" link set br0 up
      fi
      ip link add eth1 netns "$ns" type veth peer name "h$i" netns "$vpc"
      ip -n "$vpc" link set "h$i" master br0 up
      ip -n "$ns" addr add "$priv" dev eth1
      ip -n "$ns" link set eth1 up
    fi
    ! $fwd || ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=1
    json_hosts+="$sep{\"name\":\"$name\",\"netns\":\"$ns\",\"netnsPath\":\"/run/netns/$ns\",\"address\":\"$addr\",\"privateAddress\":$( [ -n "$priv" ] && echo "\"${priv%/*}\"" || echo null),\"forward\":$fwd}"
    sep=","
  done
  echo "net.sh: lab $lab: ${#hosts[@]} host(s) behind $gateway, NAT out of $dev: $(took "$t")" >&2

  local acme_json=null
  if [ "$acme" = 1 ]; then
    t=$(now)
    mkdir -p "$state/pebble"
    acme_certs "$state/pebble"
    cat >"$state/pebble/config.json" <<EOF
{"pebble": {"listenAddress": "$gateway:14000", "managementListenAddress": "$gateway:15000",
  "certificate": "$state/pebble/acme-cert.pem", "privateKey": "$state/pebble/acme-key.pem",
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
    start_daemon pebble-challtestsrv pebble-challtestsrv -dns01 127.0.0.1:8053 -http01 "" -https01 "" -tlsalpn01 "" \
      -management "$uplink_inet:8055" -defaultIPv4 "$first" -defaultIPv6 ""
    # NOSLEEP: no random validation delay; NONCEREJECT=0: none of Pebble's deliberate bad-nonce errors.
    start_daemon pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$state/pebble/config.json" -dnsserver 127.0.0.1:8053
    wait_for "pebble-challtestsrv" "$state/pebble-challtestsrv.log" curl -s -o /dev/null "http://$uplink_inet:8055/"
    wait_for "Pebble" "$state/pebble.log" curl -sf --cacert "$state/pebble/acme-ca.pem" "https://$gateway:14000/dir"
    # Pebble makes a new root at every start: what a client verifies the issued chain against.
    curl -sf --cacert "$state/pebble/acme-ca.pem" -o "$state/pebble/pebble-root.pem" "https://$gateway:15000/roots/0"
    acme_json="{\"directory\":\"https://$gateway:14000/dir\",\"endpointCa\":\"$state/pebble/acme-ca.pem\",\"root\":\"$state/pebble/pebble-root.pem\",\"challtestsrv\":\"http://$uplink_inet:8055\",\"logs\":[\"$state/pebble.log\",\"$state/pebble-challtestsrv.log\"]}"
    echo "net.sh: Pebble at https://$gateway:14000/dir: $(took "$t")" >&2
  fi
  printf '{"lab":%s,"state":"%s","internet":{"netns":"%s","address":"%s","admin":%s},"uplink":"%s","nftTable":"ip %s","hosts":[%s],"acme":%s}\n' \
    "$lab" "$state" "$inet" "$gateway" "$( [ -n "$admin" ] && echo "\"$admin\"" || echo null)" "$uplink" "$table" "$json_hosts" "$acme_json" >"$state/net.json"
  cat "$state/net.json"
}

case "$cmd" in
  up) up ;;
  down)
    [ "$(id -u)" -eq 0 ] || die "needs root"
    down
    ;;
  show) cat "$state/net.json" 2>/dev/null || die "lab $lab is not up" ;;
  *) die "usage: net.sh up|down|show [--lab K] [--acme] [--admin ADDR] HOST[@PRIVATE_ADDR/PREFIX][+forward] ..." ;;
esac
