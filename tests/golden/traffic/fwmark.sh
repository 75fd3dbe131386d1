#!/bin/sh
# A persistent firewall-mark service: nftables marks TCP 80 and 443 of 10.0.1.100 with 1 (the
# classic "HTTP and HTTPS persist together" setup); rr over rs1 then rs2, DR.
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
mkns client2 10.0.1.3/24
mkns rs1 10.0.1.11/24
mkns rs2 10.0.1.12/24
for r in rs1 rs2; do
  ip netns exec $r sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  ip -n $r addr add 10.0.1.100/32 dev lo
  ip netns exec $r socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $r" &
  ip netns exec $r socat TCP-LISTEN:443,fork,reuseaddr SYSTEM:"echo $r" &
done
sleep 1
nft add table ip mangle
nft add chain ip mangle prerouting '{ type filter hook prerouting priority -150 ; }'
nft add rule ip mangle prerouting ip daddr 10.0.1.100 tcp dport '{ 80, 443 }' meta mark set 1
get() { ip netns exec $1 socat -T3 - TCP:$2 </dev/null 2>/dev/null || echo FAIL; }
run ipvsadm -A -f 1 -s rr -p 300
run ipvsadm -a -f 1 -r 10.0.1.11 -g
run ipvsadm -a -f 1 -r 10.0.1.12 -g
h "client1: 80 443 80 443"
get client1 10.0.1.100:80; get client1 10.0.1.100:443; get client1 10.0.1.100:80; get client1 10.0.1.100:443
h "client2: 443 80"
get client2 10.0.1.100:443; get client2 10.0.1.100:80
h "listings"
run ipvsadm -Ln
run ipvsadm -Lnc
run ipvsadm -Ln --persistent-conn
run ipvsadm -S -n
h "not persistent: client1 80 443 80 443"
run ipvsadm -E -f 1 -s rr
get client1 10.0.1.100:80; get client1 10.0.1.100:443; get client1 10.0.1.100:80; get client1 10.0.1.100:443
