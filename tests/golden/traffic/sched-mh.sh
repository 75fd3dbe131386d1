#!/bin/sh
# Runs INSIDE the oracle VM (root netns = director). Which real server mh (maglev hashing) gives
# each client: DR services, rs1 10.0.1.11 added first ... rs3 10.0.1.13 added last; client1
# holds 10.0.1.2 and 10.0.1.20-10.0.1.51 and connects from each.
set -u
ip() { /usr/sbin/ip "$@"; }
h() { echo; echo "=== $* ==="; }
run() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }

ip link add br0 type bridge; ip link set br0 up; ip addr add 10.0.1.1/24 dev br0
for v in 100 101 102 103; do ip addr add 10.0.1.$v/32 dev br0; done
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
mkns rs3 10.0.1.13/24
for a in $(seq 20 51); do ip -n client1 addr add 10.0.1.$a/24 dev eth0; done
for r in rs1 rs2 rs3; do
  ip netns exec $r sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  for v in 100 101 102 103; do ip -n $r addr add 10.0.1.$v/32 dev lo; done
  ip netns exec $r socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $r" &
done
sleep 1

get() { ip netns exec client1 socat -T3 - TCP:$1,bind=$2 </dev/null 2>/dev/null || echo FAIL; }
by_source() {
  for a in 2 $(seq 20 51); do echo "10.0.1.$a $(get $1 10.0.1.$a)"; done
}
by_port() {
  for p in $(seq 40000 40031); do echo "$p $(get $1 10.0.1.2:$p)"; done
}

h "config"
run ipvsadm -A -t 10.0.1.100:80 -s mh
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.12:80 -g -w 1
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.13:80 -g -w 1
run ipvsadm -A -t 10.0.1.101:80 -s mh
run ipvsadm -a -t 10.0.1.101:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.101:80 -r 10.0.1.12:80 -g -w 4
run ipvsadm -a -t 10.0.1.101:80 -r 10.0.1.13:80 -g -w 0
run ipvsadm -A -t 10.0.1.102:80 -s mh -b mh-port
run ipvsadm -a -t 10.0.1.102:80 -r 10.0.1.11:80 -g -w 2
run ipvsadm -a -t 10.0.1.102:80 -r 10.0.1.12:80 -g -w 3
run ipvsadm -a -t 10.0.1.102:80 -r 10.0.1.13:80 -g -w 1
run ipvsadm -A -t 10.0.1.103:80 -s mh -b mh-fallback
run ipvsadm -a -t 10.0.1.103:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.103:80 -r 10.0.1.12:80 -g -w 1
run ipvsadm -a -t 10.0.1.103:80 -r 10.0.1.13:80 -g -w 1
run ipvsadm -Ln

h "mh 10.0.1.100 (rs1, rs2, rs3 w1) by source"
by_source 10.0.1.100:80
h "mh 10.0.1.101 (rs1 w1, rs2 w4, rs3 w0) by source"
by_source 10.0.1.101:80
h "mh-port 10.0.1.102 (rs1 w2, rs2 w3, rs3 w1) by port"
by_port 10.0.1.102:80
h "mh-fallback 10.0.1.103 (rs1, rs2, rs3 w1) by source"
by_source 10.0.1.103:80
run ipvsadm -e -t 10.0.1.103:80 -r 10.0.1.12:80 -g -w 0
h "mh-fallback 10.0.1.103 with rs2 at weight 0, by source"
by_source 10.0.1.103:80
run ipvsadm -e -t 10.0.1.100:80 -r 10.0.1.12:80 -g -w 0
h "mh 10.0.1.100 with rs2 at weight 0 (no fallback), by source"
by_source 10.0.1.100:80
run ipvsadm -d -t 10.0.1.100:80 -r 10.0.1.12:80
h "mh 10.0.1.100 with rs2 removed, by source"
by_source 10.0.1.100:80
