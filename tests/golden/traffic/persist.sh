#!/bin/sh
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
  ip netns exec $r socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $r" &
  ip netns exec $r socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:"echo $r" &
done
sleep 1
get() { ip netns exec client1 socat -T3 - TCP:$1 </dev/null 2>/dev/null || echo FAIL; }
run ipvsadm -A -t 10.0.1.100:80 -s rr -p 300
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.11:80 -g
run ipvsadm -a -t 10.0.1.100:80 -r 10.0.1.12:80 -g
run ipvsadm -A -t 10.0.1.100:0 -s rr -p 120 -M 255.255.255.0
run ipvsadm -a -t 10.0.1.100:0 -r 10.0.1.11 -g
run ipvsadm -a -t 10.0.1.100:0 -r 10.0.1.12 -g
h "persistent rr: 4 requests"
for i in 1 2 3 4; do get 10.0.1.100:80; done
h "port-0 persistent: ports 81 and 81"
get 10.0.1.100:81; get 10.0.1.100:81
h "listings"
run ipvsadm -Lnc
run ipvsadm -Ln --persistent-conn
