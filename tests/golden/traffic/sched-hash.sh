#!/bin/sh
# Runs INSIDE the oracle VM (root netns = director). Which real server the hashing schedulers
# give each client: DR services, rs1 10.0.1.11 added first, rs2 10.0.1.12 added last (the head
# of IPVS's list); client1 holds 10.0.1.2 and 10.0.1.20-10.0.1.51 and connects from each.
set -u
ip() { /usr/sbin/ip "$@"; }
h() { echo; echo "=== $* ==="; }
run() { echo "\$ $*"; "$@" 2>&1; echo "[rc=$?]"; }

ip link add br0 type bridge; ip link set br0 up; ip addr add 10.0.1.1/24 dev br0
for v in 100 101 102 103 104 105 106 107; do ip addr add 10.0.1.$v/32 dev br0; done
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
  for v in 100 101 102 103 104 105 106 107; do ip -n $r addr add 10.0.1.$v/32 dev lo; done
  ip netns exec $r socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $r" &
done
sleep 1

get() { ip netns exec client1 socat -T3 - TCP:$1,bind=$2 </dev/null 2>/dev/null || echo FAIL; }
# One connection from each client address; prints "address real".
by_source() {
  for a in 2 $(seq 20 51); do echo "10.0.1.$a $(get $1 10.0.1.$a)"; done
}
# One connection from 10.0.1.2 from each source port 40000..40031; prints "port real".
by_port() {
  for p in $(seq 40000 40031); do echo "$p $(get $1 10.0.1.2:$p)"; done
}

h "config"
run ipvsadm -A -t 10.0.1.100:80 -s sh
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.12:80 -g -w 1
run ipvsadm -A -t 10.0.1.101:80 -s sh
run ipvsadm -a -t 10.0.1.101:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.101:80 -r 10.0.1.12:80 -g -w 3
run ipvsadm -a -t 10.0.1.101:80 -r 10.0.1.13:80 -g -w 0
run ipvsadm -A -t 10.0.1.102:80 -s sh -b sh-port
run ipvsadm -a -t 10.0.1.102:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.102:80 -r 10.0.1.12:80 -g -w 2
run ipvsadm -a -t 10.0.1.102:80 -r 10.0.1.13:80 -g -w 1
run ipvsadm -A -t 10.0.1.103:80 -s sh -b sh-fallback
run ipvsadm -a -t 10.0.1.103:80 -r 10.0.1.11:80 -g -w 1
run ipvsadm -a -t 10.0.1.103:80 -r 10.0.1.12:80 -g -w 1
run ipvsadm -a -t 10.0.1.103:80 -r 10.0.1.13:80 -g -w 1
for v in 104 105 106 107; do
  run ipvsadm -A -t 10.0.1.$v:80 -s dh
  run ipvsadm -a -t 10.0.1.$v:80 -r 10.0.1.11:80 -g -w 1
  run ipvsadm -a -t 10.0.1.$v:80 -r 10.0.1.12:80 -g -w 5
  run ipvsadm -a -t 10.0.1.$v:80 -r 10.0.1.13:80 -g -w 1
done
run ipvsadm -Ln

h "sh 10.0.1.100 (rs1 w1, rs2 w1) by source"
by_source 10.0.1.100:80
h "sh 10.0.1.101 (rs1 w1, rs2 w3, rs3 w0) by source"
by_source 10.0.1.101:80
h "sh-port 10.0.1.102 (rs1 w1, rs2 w2, rs3 w1) by port"
by_port 10.0.1.102:80
h "sh-fallback 10.0.1.103 (rs1, rs2, rs3 w1) by source"
by_source 10.0.1.103:80
run ipvsadm -e -t 10.0.1.103:80 -r 10.0.1.12:80 -g -w 0
h "sh-fallback 10.0.1.103 with rs2 at weight 0, by source"
by_source 10.0.1.103:80
h "sh 10.0.1.101 with rs2 at weight 0 (no fallback), by source"
run ipvsadm -e -t 10.0.1.101:80 -r 10.0.1.12:80 -g -w 0
by_source 10.0.1.101:80
h "dh 10.0.1.104-107 (rs1 w1, rs2 w5, rs3 w1) from 10.0.1.2"
for v in 104 105 106 107; do echo "10.0.1.$v $(get 10.0.1.$v:80 10.0.1.2)"; done
run ipvsadm -Ln --sort
