#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# hsnic XDP actions in the lab's loop topology (eth0 here, eth1 in netns
# "remote"): with hsx.bpf.o attached natively to eth0, UDP sent from the
# remote gets XDP_PASS, XDP_TX, XDP_REDIRECT (bpf_redirect and a devmap),
# XDP_DROP or XDP_ABORTED, single-buffer (MTU 1500) and multi-buffer
# (xdp.frags, MTU 9000), with and without header split, including a
# header overflow bounced with XDP_TX; redirect from a veth into hsnic
# (ndo_xdp_xmit); program swaps under traffic. Prints PASS:/FAIL: lines
# and ends with "TOTAL pass N fail N". Run by tests/devmem_tests.py.
OBJ=${OBJ:-$(dirname "$0")/hsx.bpf.o}
IF=eth0; RIF=eth1; R="ip netns exec remote"
IFX=$(cat /sys/class/net/$IF/ifindex)
PASS=0; FAIL=0
ok() { echo "PASS: $*"; PASS=$((PASS+1)); }
bad() { echo "FAIL: $*"; FAIL=$((FAIL+1)); }
le32() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
setcfg() { bpftool map update name hsx_cfg key $(le32 $1) value $(le32 $2); }
xstat() { ethtool -S $1 | awk -v k="$2" '$1 ~ k":$" {s += $2} END {print s+0}'; }
hits() { bpftool map lookup name hsx_stats key 0 0 0 0 | python3 -c 'import sys,json; print(json.load(sys.stdin)["value"])' 2>/dev/null || echo "?"; }
attach() { ip link set dev $IF xdpdrv off; ip link set dev $IF mtu $1 && $R ip link set dev $RIF mtu $1 && ip link set dev $IF xdpdrv obj $OBJ sec $2; }
# udp_bounce <ipver> <len> : remote sends to us, expects it back
udp_bounce() {
	local v=$1 len=$2 port=$((20000 + RANDOM % 20000)) addr s
	if [ $v = 4 ]; then addr=192.0.2.1; else addr='[2001:db8:1::1]'; fi
	setcfg 0 $port
	s=$(head -c $len /dev/urandom | base64 -w0 | head -c $len)
	$R timeout 10 socat -$v -u UDP-RECVFROM:$port,reuseport STDOUT > /tmp/rx.txt &
	sleep 0.5
	echo -n "$s" | $R socat -t 2 -u STDIN UDP$v:$addr:$port
	wait
	[ "$(cat /tmp/rx.txt)" = "$s" ]
}
# udp_sink <ipver> <len> : remote sends to us, must not come back
udp_send() {
	local v=$1 len=$2 port=$3 addr s
	if [ $v = 4 ]; then addr=192.0.2.1; else addr='[2001:db8:1::1]'; fi
	s=$(head -c $len /dev/urandom | base64 -w0 | head -c $len)
	echo -n "$s" | $R socat -t 1 -u STDIN UDP$v:$addr:$port
}
ping -c 1 -W 2 192.0.2.2 >/dev/null; ping -c 1 -W 5 2001:db8:1::2 >/dev/null

for mode in "1500 xdp" "9000 xdp.frags"; do
	set -- $mode; mtu=$1; sec=$2
	for lens in 100 1400 8000; do
		[ $lens -gt $mtu ] && continue
		attach $mtu $sec || { bad "attach $mode"; continue; }
		for act in 1 2 5; do
			setcfg 1 $act; setcfg 2 $IFX
			bpftool map update name hsx_devs key 0 0 0 0 value $(le32 $IFX)
			for v in 4 6; do
				x0=$(xstat $IF 'tx[0-9]+_xdp_xmit'); t0=$(xstat $IF 'rx[0-9]+_xdp_tx')
				if udp_bounce $v $lens; then ok "mtu $mtu $sec act $act v$v len $lens"; else bad "mtu $mtu $sec act $act v$v len $lens"; fi
				x1=$(xstat $IF 'tx[0-9]+_xdp_xmit'); t1=$(xstat $IF 'rx[0-9]+_xdp_tx')
				echo "   xdp_xmit +$((x1-x0)) xdp_tx +$((t1-t0))"
				# the bounce went the way the action says, and was counted
				# there: XDP_TX in xdp_tx, a redirect (bpf_redirect or the
				# devmap) through ndo_xdp_xmit in xdp_xmit
				if [ $act = 5 ]; then
					[ $((t1-t0)) -ge 1 ] && [ $((x1-x0)) = 0 ] && ok "xdp_tx counted mtu $mtu v$v len $lens" || bad "xdp_tx counted mtu $mtu v$v len $lens (xdp_tx +$((t1-t0)) xdp_xmit +$((x1-x0)))"
				else
					[ $((x1-x0)) -ge 1 ] && [ $((t1-t0)) = 0 ] && ok "xdp_xmit counted act $act mtu $mtu v$v len $lens" || bad "xdp_xmit counted act $act mtu $mtu v$v len $lens (xdp_xmit +$((x1-x0)) xdp_tx +$((t1-t0)))"
				fi
			done
		done
		# aborted and drop: counted, not bounced, nothing passed
		for act in 3 4; do
			setcfg 1 $act; port=$((40000 + act)); setcfg 0 $port
			a0=$(xstat $IF 'rx[0-9]+_xdp_aborted'); d0=$(xstat $IF 'rx[0-9]+_xdp_drop')
			for v in 4 6; do udp_send $v $lens $port; done
			sleep 0.5
			a1=$(xstat $IF 'rx[0-9]+_xdp_aborted'); d1=$(xstat $IF 'rx[0-9]+_xdp_drop')
			echo "   act $act: aborted +$((a1-a0)) drop +$((d1-d0))"
			if [ $act = 3 ] && [ $((a1-a0)) -ge 2 ]; then ok "aborted $mode $lens"; fi
			if [ $act = 3 ] && [ $((a1-a0)) -lt 2 ]; then bad "aborted $mode $lens"; fi
			if [ $act = 4 ] && [ $((d1-d0)) -ge 2 ]; then ok "drop $mode $lens"; fi
			if [ $act = 4 ] && [ $((d1-d0)) -lt 2 ]; then bad "drop $mode $lens"; fi
		done
	done
done
ip link set dev $IF xdpdrv off; ip link set dev $IF mtu 1500; $R ip link set dev $RIF mtu 1500

echo "=== header split + multi-buffer program"
ethtool -G $IF tcp-data-split on || bad "hds on"
ip link set dev $IF xdpdrv obj $OBJ sec xdp 2>/dev/null && bad "sb prog with hds" || ok "sb prog refused with hds"
for thresh in 0 1024; do
	ethtool -G $IF hds-thresh $thresh
	got=$(ethtool -g $IF | awk '/^HDS thresh:/ { v = $3 } END { print v }')
	[ "$got" = "$thresh" ] && ok "hds-thresh $thresh set" || bad "hds-thresh $thresh set (reads $got)"
	for mtu in 1500 9000; do
		attach $mtu xdp.frags || { bad "attach hds"; continue; }
		cat /sys/kernel/debug/hsnic/*/queues | grep -m2 "rx:\|header" 
		for lens in 10 1000 1400 8000; do
			[ $lens -gt $mtu ] && continue
			for act in 1 5 0; do
				setcfg 1 $act; setcfg 2 $IFX
				for v in 4 6; do
					if [ $act = 0 ]; then
						port=$((20000 + RANDOM % 20000))
						s=$(head -c $lens /dev/urandom | base64 -w0 | head -c $lens)
						timeout 10 socat -$v -u UDP-RECVFROM:$port,reuseport STDOUT > /tmp/rx2.txt &
						sleep 0.5
						if [ $v = 4 ]; then a=192.0.2.1; else a='[2001:db8:1::1]'; fi
						echo -n "$s" | $R socat -t 2 -u STDIN UDP$v:$a:$port
						wait
						[ "$(cat /tmp/rx2.txt)" = "$s" ] && ok "hds $thresh mtu $mtu pass v$v len $lens" || bad "hds $thresh mtu $mtu pass v$v len $lens"
					else
						udp_bounce $v $lens && ok "hds $thresh mtu $mtu act $act v$v len $lens" || bad "hds $thresh mtu $mtu act $act v$v len $lens"
					fi
				done
			done
		done
		# TCP through XDP_PASS with HDS
		port=$((20000 + RANDOM % 20000)); setcfg 0 1
		s=$(head -c 200000 /dev/urandom | base64 -w0)
		timeout 20 socat -u TCP-LISTEN:$port,reuseport STDOUT > /tmp/tcp.txt &
		sleep 0.5
		echo -n "$s" | $R socat -t 3 -u STDIN TCP:192.0.2.1:$port
		wait
		[ "$(cat /tmp/tcp.txt)" = "$s" ] && ok "hds $thresh mtu $mtu tcp" || bad "hds $thresh mtu $mtu tcp"
	done
done
ip link set dev $IF xdpdrv off; ip link set dev $IF mtu 1500; $R ip link set dev $RIF mtu 1500
ethtool -G $IF tcp-data-split off hds-thresh 0

echo "=== redirect from a veth into hsnic"
ip link add vA type veth peer name vB
ip link set vA up; ip link set vB up; ethtool -K vA tx off >/dev/null
ip addr add 198.51.100.1/24 dev vA
$R ip addr add 198.51.100.2/24 dev $RIF
RMAC=$($R cat /sys/class/net/$RIF/address)
ip neigh add 198.51.100.2 lladdr $RMAC dev vA
ip link set dev vB xdpdrv obj $OBJ sec xdp.frags || bad "veth attach"
ethtool -K vB gro on 2>/dev/null
port=$((20000 + RANDOM % 20000)); setcfg 0 $port; setcfg 1 6; setcfg 2 $IFX
for len in 100 1400; do
	s=$(head -c $len /dev/urandom | base64 -w0 | head -c $len)
	$R timeout 10 socat -4 -u UDP-RECVFROM:$port,reuseport STDOUT > /tmp/rx3.txt &
	sleep 0.5
	x0=$(xstat $IF 'tx[0-9]+_xdp_xmit')
	echo -n "$s" | socat -t 2 -u STDIN UDP4:198.51.100.2:$port
	wait
	x1=$(xstat $IF 'tx[0-9]+_xdp_xmit')
	[ "$(cat /tmp/rx3.txt)" = "$s" ] && [ $((x1-x0)) -ge 1 ] && ok "veth->hsnic len $len (xdp_xmit +$((x1-x0)))" || bad "veth->hsnic len $len (xdp_xmit +$((x1-x0)))"
done
ip link del vA; $R ip addr del 198.51.100.2/24 dev $RIF

echo "=== swap under traffic"
$R iperf3 -s -D -1 >/dev/null 2>&1; sleep 1
iperf3 -c 192.0.2.2 -t 40 -P 2 -R > /tmp/iperf.txt 2>&1 &
IP1=$!
$R ping -i 0.05 -c 600 192.0.2.1 > /tmp/ping.txt 2>&1 &
for i in $(seq 6); do
	ip link set dev $IF xdpdrv obj $OBJ sec xdp; sleep 1
	ip -force link set dev $IF xdpdrv obj $OBJ sec xdp.frags; sleep 1
	setcfg 0 5201; setcfg 1 0; sleep 1
	ip link set dev $IF xdpdrv off; sleep 1
	ethtool -L $IF combined 1; ip link set dev $IF xdpdrv obj $OBJ sec xdp; ethtool -L $IF combined 2; sleep 1
	ip link set dev $IF xdpdrv off
done
wait $IP1; irc=$?
tail -4 /tmp/iperf.txt; wait; tail -2 /tmp/ping.txt
# iperf3 ran its 40 s to the end (exit 0), at a rate above zero on both
# streams' sum; the pings came back with at most 10 % lost during the
# swaps (a swap restarts the queues: a few are expected)
rate=$(awk '/SUM.*receiver/ { print $6 }' /tmp/iperf.txt)
[ $irc = 0 ] && [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0) }' && ok "iperf under swaps ($rate Mbit/s)" || bad "iperf under swaps (exit $irc, rate '$rate')"
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' /tmp/ping.txt)
[ -n "$loss" ] && awk -v l="$loss" 'BEGIN { exit !(l <= 10) }' && ok "ping under swaps ($loss% lost)" || bad "ping under swaps ($loss% lost)"
ethtool -S $IF | grep -E "xdp|errors|dropped" | grep -v ": 0$"
echo "TOTAL pass $PASS fail $FAIL"
dmesg | grep -iE "warn|bug|oops|stall|leak|hsnic" | grep -v "Link is\|ABI 2.0" | tail -20
ping -c 1 -W 2 192.0.2.2 >/dev/null; ping -c 1 -W 5 2001:db8:1::2 >/dev/null
cat > /tmp/dstopt.py <<'PY'
import socket, sys
port, n, payload = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
opts = b''.join(bytes([0x1e, 250]) + bytes(250) for _ in range(n))
body = bytes([0, 0]) + opts
pad = (-len(body)) % 8
if pad == 1:
    body += bytes([0])
elif pad:
    body += bytes([1, pad - 2]) + bytes(pad - 2)
body = bytes([0, len(body) // 8 - 1]) + body[2:]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, 59, body)   # IPV6_DSTOPTS
s.sendto(payload, ('2001:db8:1::1', port))
PY
echo "=== HDS + frags: header overflow bounced with XDP_TX, fragments, pings"
ethtool -G $IF tcp-data-split on hds-thresh 0
attach 9000 xdp.frags
setcfg 1 7
port=$((20000 + RANDOM % 20000))
s=$(head -c 3000 /dev/urandom | base64 -w0 | head -c 3000)
$R timeout 15 tcpdump -i $RIF -c 2 -w /tmp/cap.pcap "ip6 and dst host 2001:db8:1::2 and ip6[6] == 60" >/dev/null 2>&1 &
tdpid=$!
sleep 1.5
t0=$(xstat $IF 'rx[0-9]+_xdp_tx')
$R python3 /tmp/dstopt.py $port 7 "$s"
sleep 1.5; kill $tdpid 2>/dev/null; wait $tdpid
t1=$(xstat $IF 'rx[0-9]+_xdp_tx')
$R tcpdump -r /tmp/cap.pcap -nn 2>/dev/null | head -3
n=$($R tcpdump -r /tmp/cap.pcap -nn 2>/dev/null | grep -c "2001:db8:1::1 > 2001:db8:1::2")
[ $n -ge 1 ] && [ $((t1-t0)) -ge 1 ] && ok "hdr_ovf XDP_TX bounce (xdp_tx +$((t1-t0)))" || bad "hdr_ovf XDP_TX bounce n=$n xdp_tx +$((t1-t0))"
setcfg 1 0
for v in 4 6; do
	if [ $v = 4 ]; then a=192.0.2.2; b=192.0.2.1; else a=2001:db8:1::2; b=2001:db8:1::1; fi
	ping -$v -c 2 -s 65000 -W 3 $a >/dev/null && ok "hds ping -s 65000 v$v out" || bad "hds ping -s 65000 v$v out"
	$R ping -$v -c 2 -s 65000 -W 3 $b >/dev/null && ok "hds ping -s 65000 v$v in" || bad "hds ping -s 65000 v$v in"
	ping -$v -c 2 -s 1400 -W 3 $a >/dev/null && ok "hds ping -s 1400 v$v" || bad "hds ping -s 1400 v$v"
done
attach 1500 xdp.frags
for v in 4 6; do
	if [ $v = 4 ]; then b=192.0.2.1; else b=2001:db8:1::1; fi
	$R ping -$v -c 2 -s 65000 -W 3 $b >/dev/null && ok "hds mtu1500 ping -s 65000 v$v in" || bad "hds mtu1500 ping -s 65000 v$v in"
done
ip link set dev $IF xdpdrv off; ip link set dev $IF mtu 1500; $R ip link set dev $RIF mtu 1500
ethtool -G $IF tcp-data-split off
echo "=== no-XDP datapath after all this"
for v in 4 6; do
	if [ $v = 4 ]; then b=192.0.2.1; else b=2001:db8:1::1; fi
	$R ping -$v -c 2 -s 65000 -W 3 $b >/dev/null && ok "plain ping v$v" || bad "plain ping v$v"
done
echo "TOTAL pass $PASS fail $FAIL"
ethtool -S $IF | grep -E "xdp|errors|dropped|hdr_ovf|alloc" | grep -v ": 0$"
exit $((FAIL > 0))
