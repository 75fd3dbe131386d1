#!/bin/sh
# Runs INSIDE the oracle VM (root netns = director). Where held connections land under the
# locality-based schedulers lblc and lblcr: DR services on 10.0.1.100 (one port per scheduler), rs1
# 10.0.1.11 weight 1 added first, rs2 10.0.1.12 weight 3 added last (the head of IPVS's list).
# Each real answers "hello-from-rsN" and keeps the connection open for 60 s, so every
# connection stays active.
set -u
ip() { /usr/sbin/ip "$@"; }
h() { echo; echo "=== $* ==="; }
run() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }

ip link add br0 type bridge; ip link set br0 up; ip addr add 10.0.1.1/24 dev br0
ip addr add 10.0.1.100/32 dev br0
mkns() {
  ip netns add $1
  ip link add v-$1 type veth peer name eth0 netns $1
  ip link set v-$1 master br0 up
  ip -n $1 link set lo up
  ip -n $1 link set eth0 up
  ip -n $1 addr add $2 dev eth0
  ip -n $1 route add default via 10.0.1.1
}
mkns client1 10.0.1.2/24
mkns rs1 10.0.1.11/24
mkns rs2 10.0.1.12/24
for r in rs1 rs2; do
  ip netns exec $r sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  ip -n $r addr add 10.0.1.100/32 dev lo
  for port in 81 82 83 84 85 86; do
    ip netns exec $r socat TCP-LISTEN:$port,fork,reuseaddr SYSTEM:"echo hello-from-$r; sleep 60" &
  done
done
sleep 1

# Opens n held connections to port $2 one by one; prints who answered each (FAIL when none
# did). The client keeps its side open (no FIN), so each connection stays ESTABLISHED.
held() {
  i=1
  while [ $i -le $1 ]; do
    (sleep 70 | ip netns exec client1 socat -T70 - TCP:10.0.1.100:$2 >/tmp/held-$2-$i.txt 2>&1) &
    sleep 0.7
    line=$(head -n1 /tmp/held-$2-$i.txt)
    [ -n "$line" ] || line=FAIL
    echo "$i $line"
    i=$((i + 1))
  done
}
# Each scheduler gets its own service port, so that no connection of an earlier one counts.
port=81
for s in lblc lblcr; do
  n=8
  ipvsadm -A -t 10.0.1.100:$port -s $s
  ipvsadm -a -t 10.0.1.100:$port -r 10.0.1.11:$port -g -w 1
  ipvsadm -a -t 10.0.1.100:$port -r 10.0.1.12:$port -g -w 3
  h "$s: $n held connections"
  held $n $port
  run ipvsadm -Ln -t 10.0.1.100:$port
  port=$((port + 1))
done
