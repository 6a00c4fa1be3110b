#!/usr/bin/env bash
# src/local/rootfs.sh: a Debian 12 root filesystem like a cloud image, for booting rendered hosts under
# systemd-nspawn (../shared/notes/local-boot.md). Built once, packed with tar + zstd into a cache folder
# and keyed on the sha256 of this script: a second run only unpacks.
#
#   rootfs.sh [build]       make sure the cached image exists; print the tarball's path on stdout
#   rootfs.sh unpack DEST   the same, then unpack a fresh copy into DEST (created; must be empty)
#   rootfs.sh base          the same, then unpack it once into the cache (if not yet) and print that
#                           folder: the read-only lower layer of an overlay per host (boot.ts), since a
#                           full unpack of the 1.7 GB image takes about 12 s here and an overlay mount 3 ms
#   rootfs.sh key           print the cache key
#
# Environment: STUDYHOST_E2E_CACHE (default /var/cache/studyhost-e2e), STUDYHOST_E2E_REBUILD=1 to build
# even when the cache has this key. Timings go to stderr. Needs root, debootstrap, systemd-nspawn, zstd.
#
# The packages the rendered hosts install (the `packages:` lists of the example stacks' user data) are
# installed in the image too, so a boot does not spend half a minute in apt; cloud-init still runs its
# `apt-get install` for them (a no-op). What installing a package changes beyond its files is undone so
# that a pre-installed package is inert on a host that does not list it:
# - the systemd units the packages enabled are disabled again; the symlinks are recorded, per package
#   listed, in /usr/local/share/studyhost-e2e/units.tsv, and boot.ts restores those of the packages a
#   host's user data lists (what the package's postinst would have done on a VM);
# - the PostgreSQL "main" cluster made by postgresql-common is dropped: studyhost's createcluster.d file
#   turns it off on a VM, and its provisioning creates the cluster on the data volume.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
# The studyhost package this script belongs to: src/local/ in a checkout, dist/src/local/ when installed.
REPO=$(d=$(dirname "$SELF"); while [ "$d" != / ] && [ ! -f "$d/package.json" ]; do d=$(dirname "$d"); done; echo "$d")
CACHE=${STUDYHOST_E2E_CACHE:-/var/cache/studyhost-e2e}
SUITE=bookworm
# Installed in the root after debootstrap, as a Debian cloud image has them.
BASE_PACKAGES="cloud-init locales openssh-server sudo curl ca-certificates iproute2 nftables python3"
# At least these are pre-installed; the example stacks' rendered `packages:` lists are added to them.
EXTRA_PACKAGES="nginx certbot postgresql postgresql-contrib sqlite3 python3-venv python3-pip git chrony
unattended-upgrades fail2ban python3-systemd logrotate rclone gunicorn python3-psycopg2"

die() { echo "rootfs.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
say() { echo "rootfs: $*" >&2; }

# The image holds what the example stacks install, so their files are part of the key with this script.
key() { cat "$SELF" "$REPO"/Pulumi.*.yaml 2>/dev/null | sha256sum | cut -c1-16; }

# "SUITE URI" for every enabled deb source of the machine (deb822 files first, then one-line lists).
machine_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() { if (uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^[ \t]*no/) { n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/); for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (u[i] != "" && s[j] != "") print s[j], u[i] } uris = ""; suites = ""; types = ""; enabled = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "uris") uris = val; else if (key == "suites") suites = val; else if (key == "types") types = val; else if (key == "enabled") enabled = tolower(val) }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $(i + 1), $i }' "$f"
  done
}

mirror_for() { machine_sources | awk -v s="$1" '$1 == s { print $2; exit }'; }

# The packages the example stacks' hosts install, from exactly what `studyhost plan --out` renders.
rendered_packages() {
  local out stack
  [ -f "$REPO/dist/src/cli/main.js" ] || die "studyhost is not built: run \`npm run build\` in $REPO first"
  out=$(mktemp -d)
  # An installed package has no example stacks: then only the fixed list above is pre-installed.
  shopt -s nullglob
  for stack in "$REPO"/Pulumi.*.yaml; do
    node "$REPO/bin/studyhost.js" plan --config "$stack" --out "$out/$(basename "$stack" .yaml)" >"$out/plan.log" 2>&1 ||
      { cat "$out/plan.log" >&2; die "studyhost plan --config $stack failed"; }
  done
  (cd "$REPO" && node -e '
    const fs = require("fs"), path = require("path"), yaml = require("yaml");
    const found = new Set();
    const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (e.name === "user-data") for (const p2 of yaml.parse(fs.readFileSync(p, "utf8")).packages ?? []) found.add(String(p2)); } };
    walk(process.argv[1]);
    console.log([...found].sort().join(" "));' "$out")
  rm -rf "$out"
}

# The commands run inside the new root (with the mirror reachable and the .deb cache bound in).
inside() {
  systemd-nspawn --register=no --keep-unit -q -D "$1" --bind="$CACHE/debs:/var/cache/apt/archives" \
    --setenv=DEBIAN_FRONTEND=noninteractive --setenv=LANG=C.UTF-8 --setenv=EXTRA="$2" --setenv=BASE="$BASE_PACKAGES" \
    /bin/bash -euo pipefail -c "$3"
}

build() {
  local tarball=$1 start t root main updates security extra
  start=$(now)
  for tool in debootstrap systemd-nspawn zstd tar node; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install -y debootstrap systemd-container zstd)"
  done
  main=$(mirror_for "$SUITE")
  security=$(mirror_for "$SUITE-security")
  updates=$(mirror_for "$SUITE-updates")
  [ -n "$main" ] || die "no '$SUITE' source in /etc/apt/sources.list.d/*.sources to take the mirror from"
  [ -n "$security" ] || die "no '$SUITE-security' source in /etc/apt/sources.list.d/*.sources"
  updates=${updates:-$main}

  say "building the image in $CACHE (the first time only: several minutes)"
  t=$(now)
  say "rendering the example stacks for the packages their hosts install ..."
  # shellcheck disable=SC2086,SC2046 # word lists
  extra=$(printf '%s\n' $EXTRA_PACKAGES $(rendered_packages) | sort -u | tr '\n' ' ')
  say "packages the rendered hosts install: $extra($(took "$t"))"

  mkdir -p "$CACHE/debs"
  root=$(mktemp -d "$CACHE/build.XXXXXX")
  chmod 0755 "$root" # mktemp's 0700 would become the mode of the hosts' / (tar keeps it)
  trap 'rm -rf "$root"' EXIT
  t=$(now)
  say "debootstrap $SUITE (minbase) ..."
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus --cache-dir="$CACHE/debs" \
    "$SUITE" "$root" "$main" >"$root.debootstrap.log" 2>&1 || { tail -n 30 "$root.debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  rm -f "$root.debootstrap.log"
  say "debootstrap --variant=minbase: $(took "$t")"

  # Sources as a cloud image has them: the release, its updates, and security, from the machine's mirrors.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $main
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $updates
Suites: $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

  t=$(now)
  say "updates, cloud-init and the base packages ..."
  # shellcheck disable=SC2016 # expanded inside the root
  inside "$root" "" '
    apt-get update -q >/tmp/apt-update.log 2>&1 || { cat /tmp/apt-update.log; exit 1; }
    rm -f /tmp/apt-update.log
    # debootstrap takes the release suite only: upgrade to its updates and security fixes, as a cloud
    # image is, or every boot downloads and installs them again (package_upgrade: about 15 s a boot).
    apt-get dist-upgrade -y -q >/tmp/apt-base.log 2>&1 || { tail -n 30 /tmp/apt-base.log; exit 1; }
    apt-get install -y -q $BASE >/tmp/apt-base.log 2>&1 || { tail -n 30 /tmp/apt-base.log; exit 1; }
    rm -f /tmp/apt-base.log'
  say "cloud-init and the base packages: $(took "$t")"

  t=$(now)
  say "pre-installing the hosts' packages ..."
  # shellcheck disable=SC2016 # expanded inside the root
  inside "$root" "$extra" '
    links() { find /etc/systemd/system -type l -printf "%p\t%l\n" | sort; }
    links >/tmp/links.before
    apt-get install -y -q $EXTRA >/tmp/apt-extra.log 2>&1 || { tail -n 30 /tmp/apt-extra.log; exit 1; }
    rm -f /tmp/apt-extra.log
    links >/tmp/links.after
    # PostgreSQL: no cluster on the boot disk (studyhost makes it on the data volume).
    if command -v pg_lsclusters >/dev/null; then
      pg_lsclusters --no-header | while read -r version name _; do pg_dropcluster --stop "$version" "$name"; done
    fi
    # The units the extra packages enabled: recorded per requested package, then disabled.
    mkdir -p /usr/local/share/studyhost-e2e
    printf "%s\n" $EXTRA >/usr/local/share/studyhost-e2e/preinstalled
    comm -13 /tmp/links.before /tmp/links.after >/tmp/links.new
    : >/usr/local/share/studyhost-e2e/units.tsv
    for p in $EXTRA; do
      closure=$(apt-cache depends --recurse --installed --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$p" | grep -v "^ " | sort -u)
      while IFS="$(printf "\t")" read -r link target; do
        owner=$(dpkg -S "$target" 2>/dev/null || dpkg -S "${target#/usr}" 2>/dev/null || dpkg -S "/usr$target" 2>/dev/null || true)
        owner=${owner%%:*}
        if [ -n "$owner" ] && printf "%s\n" "$closure" | grep -qx "$owner"; then
          printf "%s\t%s\t%s\n" "$p" "$link" "$target" >>/usr/local/share/studyhost-e2e/units.tsv
        fi
      done </tmp/links.new
    done
    # Only those recorded are removed: a link to /dev/null (a package masking a unit) is kept.
    cut -f2 /usr/local/share/studyhost-e2e/units.tsv | sort -u | xargs -r rm -f
    cut -f1 /tmp/links.new | sort -u | comm -23 - <(cut -f2 /usr/local/share/studyhost-e2e/units.tsv | sort -u) | sed "s/^/kept (not a requested package'"'"'s unit): /" >&2
    find /etc/systemd/system -type d -empty -delete
    rm -f /tmp/links.*'
  say "pre-installed packages: $(took "$t")"

  # What a fresh cloud image looks like before its first boot.
  mkdir -p "$root/etc/cloud/cloud.cfg.d"
  cat >"$root/etc/cloud/cloud.cfg.d/99-test.cfg" <<'EOF'
# studyhost e2e: the seed is in /var/lib/cloud/seed/nocloud; the network is the test's (a veth in a namespace).
datasource_list: [NoCloud, None]
network: {config: disabled}
EOF
  echo 'LANG=C.UTF-8' >"$root/etc/default/locale"
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
  rm -f "$root"/etc/ssh/ssh_host_*
  echo localhost >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n' >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  rm -rf "$root/var/lib/cloud" "$root"/var/log/cloud-init*.log
  # Docker inside an nspawn container: nspawn mounts the cgroup v1 controllers read-only, so runc cannot
  # make its cgroups. A property of the test container, never of a VM: it lives here, not in what studyhost renders.
  mkdir -p "$root/etc/systemd/system/docker.service.d"
  cat >"$root/etc/systemd/system/docker.service.d/50-studyhost-e2e-cgroups.conf" <<'EOF'
# studyhost e2e test container only: make the cgroup v1 controllers writable for runc.
[Service]
ExecStartPre=/bin/sh -c 'for d in /sys/fs/cgroup/*/; do case "$d" in */systemd/|*/unified/) ;; *) mountpoint -q "$d" && mount -o remount,bind,rw "$d" || true;; esac; done'
EOF

  t=$(now)
  say "packing the image ..."
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -cf - . | zstd -q -T0 -3 -o "$tarball.partial"
  mv "$tarball.partial" "$tarball"
  say "packed $(du -sh "$root" | cut -f1) into $(du -h "$tarball" | cut -f1): $(took "$t")"
  # What was built is also the unpacked base (rootfs.sh base): no unpacking after a build.
  mv "$root" "${tarball%.tar.zst}"
  trap - EXIT
  # Older images (other keys) are of no more use, except an unpacked one a running host still sits on.
  local old
  for old in "$CACHE"/rootfs-*; do
    case "$old" in "$tarball" | "${tarball%.tar.zst}") continue ;; esac
    if [ -d "$old" ] && in_use "$old"; then say "keeping $old: a host's overlay still uses it"; continue; fi
    rm -rf "$old"
  done
  say "built $tarball in $(took "$start")"
}

# Is DIR the lower layer of a mounted overlay (a host booted from it)?
in_use() { grep -q "lowerdir=$1[,:]" /proc/self/mounts; }

unpack_into() {
  zstd -q -dc -T0 "$1" | tar --numeric-owner --xattrs --xattrs-include='*' -xpf - -C "$2"
}

ensure() {
  local tarball base
  tarball="$CACHE/rootfs-$(key).tar.zst"
  base=${tarball%.tar.zst}
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if [ ! -f "$tarball" ] || [ "${STUDYHOST_E2E_REBUILD:-0}" = 1 ]; then
    [ "$(id -u)" -eq 0 ] || die "building the root filesystem needs root"
    if [ -d "$base" ]; then
      ! in_use "$base" || die "cannot rebuild: a host's overlay still uses $base"
      rm -rf "$base"
    fi
    build "$tarball"
  fi
  if [ "${want_base:-0}" = 1 ] && [ ! -d "$base" ]; then
    local t
    t=$(now)
    say "unpacking the image once, as the lower layer of every host's overlay ..."
    rm -rf "$base.partial"
    mkdir "$base.partial"
    unpack_into "$tarball" "$base.partial"
    mv "$base.partial" "$base"
    say "unpacked the shared base $base once: $(took "$t")"
  fi
  flock -u 9
  if [ "${want_base:-0}" = 1 ]; then echo "$base"; else echo "$tarball"; fi
}

case "${1:-build}" in
  build) ensure ;;
  key) key ;;
  base)
    # The image unpacked once in the cache, to be the read-only lower layer of each host's overlay.
    want_base=1 ensure
    ;;
  unpack)
    dest=${2:?usage: rootfs.sh unpack DEST}
    start=$(now)
    tarball=$(ensure)
    mkdir -p "$dest"
    [ -z "$(ls -A "$dest")" ] || die "$dest is not empty"
    unpack_into "$tarball" "$dest"
    say "unpacked into $dest in $(took "$start")"
    ;;
  *) die "unknown command $1 (build, base, unpack DEST, key)" ;;
esac
