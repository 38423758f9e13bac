#!/bin/sh
# Stand-in for /usr/sbin/pppd, bound over it inside a private mount namespace by the xl2tpd harness
# (test/integration/xl2tpd/harness.ts). xl2tpd runs it as `pppd /dev/pts/N passive nodetach … file OPTS`
# with the pty on stdin and stdout and its own stderr (our log pipe) on stderr.
#
# The pty must be raw before the first frame arrives, and set with TCSANOW (`-drain`): TCSAFLUSH would
# throw away frames xl2tpd already wrote (docs/INTEROP.md). xl2tpd turned ECHO off but left ICANON on.
# (`stty -drain` is ioctl TCSETS, i.e. TCSANOW; plain `stty` is TCSETSW, TCSADRAIN; seen with strace.)
# A frame that arrives before this line runs is still kept, but canonical mode has already applied
# VERASE to it: the octet before each 0x7F is gone, the FCS fails, and the peer's retransmission counts.
stty -drain raw -echo -iexten || { echo "stand-in-pppd[$$]: stty failed" >&2; exit 4; }
# exec keeps the PID: the harness checks these files to prove no stand-in outlives its xl2tpd.
if [ -n "$STAND_IN_PPPD_PIDS" ]; then echo "$*" >"$STAND_IN_PPPD_PIDS/$$"; fi
if [ -n "$STAND_IN_PPPD_RUNTIME" ] && [ -n "$STAND_IN_PPPD_MAIN" ]; then
  exec "$STAND_IN_PPPD_RUNTIME" "$STAND_IN_PPPD_MAIN" "$@"
fi
# Started without the harness's environment: keep the session up and discard what the peer sends.
echo "stand-in-pppd[$$]: no STAND_IN_PPPD_MAIN, discarding" >&2
exec cat >/dev/null
